/* The course wizard's step 4 (the overview and what stops publishing), publish, and cancel
   (its button is on every step). Loaded after wizard-files.js and wizard-tests.js, whose
   files and test sets it sums up.

   Publishing and cancelling both ask first in the page's <dialog>. A published (or
   publishing) draft is closed: every input goes off and the result says where the course is;
   a draft opened while it publishes waits for the end (`waitForPublish`, from
   wizard-start.js). Cancelling stops the uploads and the poller before the DELETE, so
   nothing asks for a draft that is gone. */
(function (W) {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  if (!W) { return; }     // not the wizard page (wizard.js found no [data-wizard])

  var $ = W.$, el = W.el, api = W.api, detailOf = W.detailOf, showWizardError = W.showWizardError;
  var flattenErrors = W.flattenErrors, showErrors = W.showErrors, disableInputs = W.disableInputs;
  var setServerFiles = W.setServerFiles, saver = W.saver, uploads = W.uploads, poller = W.poller;
  var files = W.files, root = W.root, draft = W.draft, testSets = W.testSets;
  var DRAFT_URL = W.DRAFT_URL;

  function definition(list, term, value) {
    list.appendChild(el("dt", {}, term));
    list.appendChild(el("dd", {}, value || "–"));
  }

  function renderOverview() {
    var box = $("[data-overview]");
    box.textContent = "";
    box.appendChild(el("h3", {}, gettext("Basic information")));
    var basics = el("dl", { "class": "overview__list" });
    definition(basics, gettext("Course name"), draft.name);
    definition(basics, gettext("Version label"), draft.version_label);
    definition(basics, gettext("Description"), draft.description);
    definition(basics, gettext("Topics"), (draft.topics || []).join(", "));
    definition(basics, gettext("Completion"), draft.require_videos ? gettext("pass every test set and watch every video") : gettext("pass every test set"));
    box.appendChild(basics);
    box.appendChild(el("h3", {}, gettext("Files")));
    var resources = files.resourceFiles();
    if (!resources.length) { box.appendChild(el("p", { "class": "empty" }, gettext("No files."))); }
    var fileList = el("ol", { "class": "overview__files" });
    resources.forEach(function (item) {
      var row = el("li", { "data-overview-file": item.id });
      row.appendChild(el("strong", {}, item.name));
      row.appendChild(document.createTextNode(" · " + (item.topic ? format(gettext("topic %(topic)s"), { topic: item.topic }) + " · " : "") + (item.description || gettext("no description")) + " · "));
      row.appendChild(el("span", { "class": "file-state file-state--" + item.state.toLowerCase() }, W.stateLabel(item.state) + (item.state === "Processing" ? " " + item.progress + "%" : "") + (item.error ? ": " + item.error : "")));
      fileList.appendChild(row);
    });
    box.appendChild(fileList);
    box.appendChild(el("h3", {}, gettext("Test sets")));
    if (!testSets.length) { box.appendChild(el("p", { "class": "empty" }, gettext("No test sets."))); }
    var setList = el("ul", { "class": "overview__tests" });
    testSets.forEach(function (testSet) {
      var count = testSet.questions.length;
      setList.appendChild(el("li", {}, (testSet.title || gettext("(no title)")) + " · " +
        format(ngettext("%(count)s question", "%(count)s questions", count), { count: count }) + " · " +
        format(gettext("pass mark %(percent)s%"), { percent: Math.round((Number(testSet.pass_mark) || 0) * 100) }) + " · " +
        (testSet.display === "one" ? gettext("one question at a time") : gettext("all questions at once")) + " · " +
        (testSet.max_attempts ? format(ngettext("%(count)s attempt", "%(count)s attempts", testSet.max_attempts), { count: testSet.max_attempts })
          : gettext("no limit on attempts"))));
    });
    box.appendChild(setList);
    var problems = draft.publish_problems || {};
    var problemList = $("[data-problem-list]");
    problemList.textContent = "";
    Object.keys(problems).forEach(function (name) { problemList.appendChild(el("li", { "data-problem": name }, problems[name])); });
    $("[data-problems]").hidden = !Object.keys(problems).length || !W.state.editable;
    // The list above says what to do first; the server would refuse the publish anyway.
    $("[data-publish]").disabled = !W.state.editable || Object.keys(problems).length > 0;
  }

  function refreshOverview() {
    renderOverview();
    var asked;
    saver.flush().then(function () { asked = W.state.orderGeneration; return api("GET", DRAFT_URL); }).then(function (answer) {
      if (!answer.ok) { return; }
      ["publish_problems", "state", "published_version"].forEach(function (name) { draft[name] = answer.data[name]; });
      setServerFiles(answer.data.files || [], asked);
      files.render();
      renderOverview();
    });
  }

  function confirmDialog(title, message, yes, no, danger) {
    var dialog = $("[data-confirm]");
    $("[data-confirm-title]", dialog).textContent = title;
    $("[data-confirm-message]", dialog).textContent = message;
    var yesButton = $("[data-confirm-yes]", dialog), noButton = $("[data-confirm-no]", dialog);
    yesButton.textContent = yes;
    yesButton.classList.toggle("button--danger", !!danger);
    noButton.textContent = no;
    return new Promise(function (resolve) {
      function close(answer) {
        yesButton.onclick = noButton.onclick = dialog.oncancel = null;
        dialog.close();
        resolve(answer);
      }
      yesButton.onclick = function () { close(true); };
      noButton.onclick = function () { close(false); };
      dialog.oncancel = function (event) { event.preventDefault(); close(false); };
      dialog.showModal();
      noButton.focus();
    });
  }

  function showClosed(text, channelId) {
    W.state.editable = false;
    var result = $("[data-publish-result]");
    result.textContent = text + " ";
    if (channelId) {
      var link = el("a", { href: root.getAttribute("data-channel-url").replace(root.getAttribute("data-channel-placeholder"), channelId), "data-course-link": "" }, gettext("Open the course as learners see it"));
      result.appendChild(link);
    }
    result.hidden = false;
    $("[data-wizard-footer]").hidden = true;
    $("[data-publish]").hidden = true;
    disableInputs(root);
    renderOverview();
  }

  $("[data-publish]").addEventListener("click", function () {
    var button = this;
    confirmDialog(gettext("Publish this course?"), gettext("Learners on this server will see it as it is now. To change it later, you open a new version."), gettext("Yes, publish"), gettext("No, not yet")).then(function (yes) {
      if (!yes) { button.focus(); return; }
      button.disabled = true;
      return saver.flush().then(function () { return api("POST", DRAFT_URL + "publish/", {}); }).then(function (answer) {
        if (answer.status === 201) {
          draft.state = "published";
          draft.published_version = answer.data.version;
          var waiting = files.resourceFiles().some(function (item) { return item.state === "Processing"; });
          showClosed(format(gettext("Published as version %(version)s."), { version: answer.data.version }) + (waiting ? " " + gettext("Videos still being prepared appear in the course when they are ready.") : ""), answer.data.channel_id);
          $("[data-publish-result] a").focus();
          return;
        }
        button.disabled = false;
        showWizardError(format(gettext("Not published: %(problem)s"), { problem: detailOf(answer) }));
        if (answer.data.errors) {
          draft.publish_problems = flattenErrors("", answer.data.errors, {});
          showErrors(answer.data.errors);
          renderOverview();
        }
      });
    }).catch(function (problem) {
      button.disabled = false;
      showWizardError(format(gettext("Not published: %(problem)s"), { problem: problem.message }));
    });
  });

  $("[data-cancel-draft]").addEventListener("click", function () {
    var button = this;
    confirmDialog(gettext("Cancel this draft?"), gettext("The draft and every file uploaded to it are deleted. This cannot be undone."), gettext("Yes, cancel the draft"), gettext("No, keep working"), true).then(function (yes) {
      if (!yes) { button.focus(); return; }
      button.disabled = true;
      W.state.editable = false;
      poller.stop();
      return uploads.abortAll().then(function () { return api("DELETE", DRAFT_URL); }).then(function (answer) {
        if (answer.status !== 204 && answer.status !== 404) { throw new Error(detailOf(answer)); }
        window.location.assign(root.getAttribute("data-home-url"));
      });
    }).catch(function (problem) {
      button.disabled = false;
      W.state.editable = draft.state === "open";
      poller.resume();
      showWizardError(format(gettext("The draft was not cancelled: %(problem)s"), { problem: problem.message }));
    });
  });

  /* Opened while a publish runs (another tab, or a reload during it): say when it ends.
     Bounded: every 2 s for at most 10 minutes. */
  function waitForPublish(tries) {
    if (tries >= 300) { return; }
    window.setTimeout(function () {
      api("GET", DRAFT_URL).then(function (answer) {
        if (answer.ok && answer.data.state === "published") {
          draft.state = "published";
          showClosed(format(gettext("Published as version %(version)s."), { version: answer.data.published_version }), answer.data.channel_id);
        } else if (answer.ok && answer.data.state === "open") {
          // The publish failed and the draft is open again: reload to work on it.
          window.location.reload();
        } else {
          waitForPublish(tries + 1);
        }
      }, function () { waitForPublish(tries + 1); });
    }, 2000);
  }

  W.on("step", function (step) {
    if (step === 4) { refreshOverview(); }
  });
  // What the server now says stops publishing (a PATCH answer has it too).
  W.on("draft-saved", function () {
    if (W.state.currentStep === 4) { renderOverview(); }
  });
  // What stops publishing changes with the files' states (an upload ends).
  W.on("files-listed", function () {
    if (W.state.currentStep === 4) { refreshOverview(); }
  });

  W.overview = { showClosed: showClosed, waitForPublish: waitForPublish };
})(window.KolibriWizard);
