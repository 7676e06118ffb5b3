/* The course wizard opens where the author was. Loaded last (wizard.html), because showing a
   step runs what every other wizard-*.js registered for it: the step's number is saved as the
   author moves, so a reload opens the same step; a closed draft opens on its overview. */
(function (W) {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  if (!W) { return; }     // not the wizard page (wizard.js found no [data-wizard])

  var draft = W.draft;
  W.fillBasics();
  W.setServerFiles(draft.files || [], W.state.orderGeneration);
  W.files.render();
  W.goTo(W.state.editable ? (draft.step || 1) : 4, false);
  if (draft.state === "published") {
    W.overview.showClosed(format(gettext("This draft was published as version %(version)s."), { version: draft.published_version }), draft.channel_id);
  } else if (draft.state === "publishing") {
    W.overview.showClosed(gettext("This draft is being published…"), null);
    W.overview.waitForPublish(0);
  }
  W.poller.start();
})(window.KolibriWizard);
