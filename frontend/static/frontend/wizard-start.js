/* The course wizard opens where the author was. Loaded last (wizard.html), because showing a
   step runs what every other wizard-*.js registered for it: the step's number is saved as the
   author moves, so a reload opens the same step; a closed draft opens on its overview. */
(function (W) {
  "use strict";
  // Django's JavaScript catalog (/jsi18n/, loaded first by base.html) translates; without it the
  // English words show. format() fills "%(name)s" as Django's interpolate(text, values, true).
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, count) { return count === 1 ? one : many; };
  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  }
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
