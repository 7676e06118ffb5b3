/* The course wizard (/author/drafts/<id>/): four steps over the drafts API. This file is its
   core; the page loads the rest after it, in this order (wizard.html):

     wizard.js           state shared by every part, API calls with CSRF, the autosave
                         (`saver`), errors shown by data-path, step navigation, step 1
     wizard-uploads.js   the tus uploads and the poller of the server's file list
     wizard-files.js     step 2: the file rows, their fields, reorder, remove, resume
     wizard-tests.js     step 3: the test sets editor
     wizard-overview.js  step 4, publish, and cancel (on every step)
     wizard-start.js     opens the step the author was on, once every part is loaded

   Why plain scripts sharing `window.KolibriWizard` (made here) and not modules: there is no
   bundler, and classic scripts in order keep one load model for the whole project. An earlier
   file cannot call a later one by name, so the moments several parts react to are events
   (`W.on(name, listener)`, `W.emit(name, detail)`, synchronous, listeners in load order):
     "step"            a step is shown (detail: its number), after its number is saved
     "draft-saved"     a PATCH of the draft was accepted
     "uploads-changed" an upload started, moved on or ended
     "upload-named"    the server gave an upload its file id (detail: the upload's entry)
     "files-listed"    a fresh list of the draft's files came from the poller

   The page holds all four steps and only hides the ones not shown, and the parts that outlive
   a step are page-level objects, not a step's markup:
   - `saver` (here): every field change goes into one pending PATCH of /api/drafts/<id>/, sent
     after SAVE_DELAY_MS without typing (or at once when the author changes step); one request
     at a time; a 400 shows the server's message next to each field and re-sends the valid
     fields.
   - `uploads` and `poller` (wizard-uploads.js): uploads go on while the author works anywhere
     in the wizard, and the server's list of files is asked for while anything is in flight.
   The step the author is on is saved too, so a reload opens the same step. */
(function () {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  var root = document.querySelector("[data-wizard]");
  if (!root) { return; }

  var DRAFT_URL = root.getAttribute("data-draft-url");
  var FILES_URL = root.getAttribute("data-files-url");
  var SAVE_DELAY_MS = 700;
  var RETRY_SAVE_MS = 4000;

  var draft = JSON.parse(document.getElementById("draft-data").textContent);
  // What several files change: read and written as `W.state.<name>`, never copied, so every
  // part sees the same value.
  var state = {
    editable: draft.state === "open",
    currentStep: 0,
    // File id -> file JSON, in the server's order (ids are not integers, so keys keep the
    // order they were added in): the order of the list the author sees.
    serverFiles: {},
    movesInFlight: 0,
    orderGeneration: 0,         // +1 when a move starts and ends
    lastTestSetErrors: null     // the server's last errors of test_sets, shown after re-draws
  };
  // The test sets as the author edits them (wizard-tests.js); changed in place, never replaced.
  var testSets = draft.test_sets || [];

  var listeners = {};
  function on(name, listener) { (listeners[name] = listeners[name] || []).push(listener); }
  function emit(name, detail) {
    (listeners[name] || []).forEach(function (listener) { listener(detail); });
  }

  /* The server's list of the draft's files, asked for at `asked` (orderGeneration then):
     a list asked for before a move ended may not include it, and is not shown. */
  function setServerFiles(list, asked) {
    if (state.movesInFlight > 0 || asked !== state.orderGeneration) { return false; }
    state.serverFiles = {};
    list.forEach(function (item) { state.serverFiles[item.id] = item; });
    return true;
  }

  function $(selector, within) { return (within || root).querySelector(selector); }
  function $all(selector, within) { return Array.prototype.slice.call((within || root).querySelectorAll(selector)); }
  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var csrfToken = window.KolibriLikeApi.csrfToken;

  function api(method, url, body, keepalive) {
    return window.KolibriLikeApi.request(method, url, body, { keepalive: keepalive });
  }

  function detailOf(answer) {
    return (answer.data && answer.data.detail) || format(gettext("The server answered %(status)s."), { status: answer.status });
  }

  function showWizardError(text) {
    var box = $("[data-wizard-error]");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function setStatus(text) { $("[data-save-status]").textContent = text; }

  /* ---- Field errors: the server's `errors` flattened to paths like
     "test_sets.0.questions.1.answers.0.text"; each shows at the element whose
     data-error-for is that path, or the nearest one above it. */
  function flattenErrors(prefix, value, out) {
    if (value === null || value === undefined || value === "") { return out; }
    if (typeof value === "string") {
      out[prefix] = (out[prefix] ? out[prefix] + " " : "") + value;
    } else if (Array.isArray(value) && value.every(function (item) { return typeof item === "string"; })) {
      if (value.length) { flattenErrors(prefix, value.join(" "), out); }
    } else if (Array.isArray(value)) {
      value.forEach(function (item, index) { flattenErrors(prefix + "." + index, item, out); });
    } else if (typeof value === "object") {
      // A key "" is the list itself (test_sets: {"": "at most 50 test sets"}).
      Object.keys(value).forEach(function (key) { flattenErrors(prefix && key ? prefix + "." + key : prefix || key, value[key], out); });
    }
    return out;
  }

  function clearErrors(prefix) {
    if (prefix === "test_sets") { state.lastTestSetErrors = null; }
    $all("[data-error-for]").forEach(function (node) {
      var path = node.getAttribute("data-error-for");
      if (path === prefix || path.indexOf(prefix + ".") === 0) { node.textContent = ""; node.hidden = true; }
    });
    markSteps();
  }

  /* A step with a message to act on says so in the step indicator: the author may be on
     another step when the server answers. */
  function markSteps() {
    $all("[data-step]").forEach(function (section) {
      var step = section.getAttribute("data-step");
      var problem = $all(".field-error", section).some(function (node) { return !node.hidden && node.textContent; });
      var button = $(".stepper__step[data-goto='" + step + "']");
      button.classList.toggle("stepper__step--problem", problem);
      var note = $("[data-step-note]", button);
      if (problem && !note) {
        button.appendChild(el("span", { "class": "visually-hidden", "data-step-note": "" }, " (needs a change)"));
      } else if (!problem && note) {
        note.remove();
      }
    });
  }

  /* Say a file's new state to screen readers (the rows change without focus). */
  function announce(text) {
    var region = $("[data-announce]");
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function showErrors(errors) {
    // The test-set editor re-draws itself: it shows these again (wizard-tests.js, render).
    if (errors && "test_sets" in errors) { state.lastTestSetErrors = errors.test_sets; }
    var flat = flattenErrors("", errors || {}, {});
    Object.keys(flat).forEach(function (path) {
      var target = path, node = null, lead = "";
      while (target && !(node = root.querySelector('[data-error-for="' + target + '"]'))) {
        lead = target.slice(target.lastIndexOf(".") + 1);
        target = target.indexOf(".") === -1 ? "" : target.slice(0, target.lastIndexOf("."));
      }
      if (!node) { node = $("[data-wizard-error]"); lead = path; }
      var text = (lead && isNaN(Number(lead)) ? lead.replace(/_/g, " ") + ": " : "") + flat[path];
      node.textContent = node.hidden || !node.textContent ? text : node.textContent + " " + text;
      node.hidden = false;
    });
    markSteps();
  }

  /* Once published or cancelled nothing can change: the file and test-set buttons go too. */
  function disableInputs(within) {
    $all("input, textarea, select, [data-file-list] button, [data-test-sets] button, [data-add-test-set]", within).forEach(function (input) { input.disabled = true; });
  }

  /* ---- The saver: one pending PATCH, debounced, one request at a time. */
  var saver = (function () {
    var pending = {}, timer = null, inFlight = null, retryTimer = null;
    var testSetRefs = null;        // the local objects of the test_sets being sent, in order

    function queue(changes, immediate) {
      if (!state.editable) { return Promise.resolve(false); }
      Object.keys(changes).forEach(function (name) { pending[name] = changes[name]; });
      if (changes.test_sets) { testSetRefs = collectRefs(testSets); }
      setStatus(gettext("Saving…"));
      window.clearTimeout(timer);
      if (immediate) { return flush(); }
      timer = window.setTimeout(flush, SAVE_DELAY_MS);
      return Promise.resolve(true);
    }

    function flush() {
      window.clearTimeout(timer);
      timer = null;
      if (inFlight) { return inFlight.then(flush); }
      if (!Object.keys(pending).length) { return Promise.resolve(true); }
      var body = pending, refs = testSetRefs;
      pending = {};
      testSetRefs = null;
      inFlight = api("PATCH", DRAFT_URL, body).then(function (answer) {
        inFlight = null;
        if (answer.ok) {
          Object.keys(body).forEach(clearErrors);
          adoptDraft(answer.data, refs);
          setStatus(Object.keys(pending).length ? gettext("Saving…") : gettext("All changes saved."));
          return flush();
        }
        if (answer.status === 400 && answer.data.errors) {
          Object.keys(body).forEach(clearErrors);
          showErrors(answer.data.errors);
          // Nothing of a rejected PATCH is saved: send again what was valid in it (only when
          // the errors name fields of it, else the same PATCH would be refused forever).
          var named = Object.keys(body).some(function (name) { return name in answer.data.errors; });
          Object.keys(body).forEach(function (name) {
            if (named && !(name in answer.data.errors) && !(name in pending)) { pending[name] = body[name]; }
          });
          setStatus(gettext("Some changes are not saved: see the messages next to the fields."));
          if (Object.keys(pending).length) { flush(); }
          return false;
        }
        if (answer.status === 409 || answer.status === 404) {
          state.editable = false;
          showWizardError(detailOf(answer));
          setStatus(gettext("Not saved."));
          return false;
        }
        throw new Error(detailOf(answer));
      }).catch(function (problem) {
        inFlight = null;
        // Lost contact or a server error: keep the changes (newer ones win) and try again.
        Object.keys(body).forEach(function (name) { if (!(name in pending)) { pending[name] = body[name]; } });
        if (body.test_sets && !testSetRefs) { testSetRefs = refs; }
        setStatus(format(gettext("Not saved yet (%(problem)s); trying again…"), { problem: problem.message }));
        window.clearTimeout(retryTimer);
        retryTimer = window.setTimeout(flush, RETRY_SAVE_MS);
        return false;
      });
      return inFlight;
    }

    /* The page is going away: send what is left in a request that outlives it. */
    function sendNow() {
      if (Object.keys(pending).length && state.editable) {
        api("PATCH", DRAFT_URL, pending, true);
        pending = {};
      }
    }

    return { queue: queue, flush: flush, sendNow: sendNow };
  })();

  /* The server's answer to a PATCH: take what only the server knows (ids of new test sets,
     questions and answers; what stops publishing) without touching what the author types. */
  function adoptDraft(data, refs) {
    ["publish_problems", "state", "published_version", "updated_at"].forEach(function (name) {
      if (name in data) { draft[name] = data[name]; }
    });
    if (refs && data.test_sets) {
      var answered = collectRefs(data.test_sets);
      refs.forEach(function (local, index) {
        if (answered[index] && answered[index].id && !local.id) { local.id = answered[index].id; }
      });
    }
    emit("draft-saved");
  }

  function collectRefs(sets) {
    var refs = [];
    (sets || []).forEach(function (testSet) {
      refs.push(testSet);
      (testSet.questions || []).forEach(function (question) {
        refs.push(question);
        (question.answers || []).forEach(function (answer) { refs.push(answer); });
      });
    });
    return refs;
  }

  /* Unsaved typing goes out on the way when the page is left (the uploads' warning about
     leaving is in wizard-uploads.js). */
  window.addEventListener("pagehide", function () { saver.sendNow(); });

  /* ---- Steps */
  function goTo(step, focusHeading) {
    step = Math.max(1, Math.min(4, step));
    state.currentStep = step;
    $all("[data-step]").forEach(function (section) {
      section.hidden = Number(section.getAttribute("data-step")) !== step;
    });
    $all(".stepper__step").forEach(function (button) {
      var number = Number(button.getAttribute("data-goto"));
      if (number === step) { button.setAttribute("aria-current", "step"); } else { button.removeAttribute("aria-current"); }
      button.classList.toggle("stepper__step--done", number < step);
    });
    if (state.editable && draft.step !== step) {
      draft.step = step;
      saver.queue({ step: step }, true);
    }
    // What a step needs when shown (fresh files, a re-drawn editor, the overview) is done by
    // its own file, listening to "step".
    emit("step", step);
    if (focusHeading) { $("[data-step='" + step + "'] h2").focus(); }
  }

  root.addEventListener("click", function (event) {
    var target = event.target.closest("[data-goto]");
    if (target) { goTo(Number(target.getAttribute("data-goto")), true); }
  });

  /* ---- Step 1: basic information. Its topics are also the choices of steps 2 and 3. */
  function topicsFromText(text) {
    return text.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
  }

  function currentTopics() { return topicsFromText($("[data-field=topics]").value); }

  function fillBasics() {
    $("[data-field=name]").value = draft.name || "";
    $("[data-field=version_label]").value = draft.version_label || "";
    $("[data-field=description]").value = draft.description || "";
    $("[data-field=topics]").value = (draft.topics || []).join("\n");
    $("[data-field=require_videos]").checked = !!draft.require_videos;
  }

  ["name", "version_label", "description"].forEach(function (name) {
    $("[data-field=" + name + "]").addEventListener("input", function (event) {
      var change = {};
      change[name] = event.target.value;
      draft[name] = event.target.value;
      if (name === "name") { $("[data-wizard-title]").textContent = event.target.value.trim() || gettext("New course"); }
      saver.queue(change);
    });
  });
  $("[data-field=topics]").addEventListener("input", function () {
    draft.topics = currentTopics();
    saver.queue({ topics: draft.topics });
    refreshTopicSelects();
  });
  $("[data-field=require_videos]").addEventListener("change", function (event) {
    draft.require_videos = event.target.checked;
    saver.queue({ require_videos: event.target.checked });
  });

  function topicOptions(select, chosen) {
    var topics = currentTopics();
    select.textContent = "";
    select.appendChild(el("option", { value: "" }, gettext("No topic")));
    topics.concat(chosen && topics.indexOf(chosen) === -1 ? [chosen] : []).forEach(function (topic) {
      select.appendChild(el("option", { value: topic }, topic));
    });
    select.value = chosen || "";
  }

  function refreshTopicSelects() {
    $all("select[data-topic-select]").forEach(function (select) { topicOptions(select, select.value); });
  }

  // A file's state is a word of the API ("Processing"), compared by the code: shown translated.
  function stateLabel(fileState) {
    var labels = { Uploading: gettext("Uploading"), Processing: gettext("Processing"),
                   Finished: gettext("Finished"), Error: gettext("Error") };
    return labels[fileState] || fileState;
  }

  window.KolibriWizard = {
    root: root, draft: draft, state: state, testSets: testSets,
    DRAFT_URL: DRAFT_URL, FILES_URL: FILES_URL, SAVE_DELAY_MS: SAVE_DELAY_MS,
    on: on, emit: emit, $: $, $all: $all, el: el, csrfToken: csrfToken, api: api,
    detailOf: detailOf, showWizardError: showWizardError, setStatus: setStatus,
    flattenErrors: flattenErrors, showErrors: showErrors, markSteps: markSteps,
    announce: announce, disableInputs: disableInputs, setServerFiles: setServerFiles,
    collectRefs: collectRefs, saver: saver, goTo: goTo, fillBasics: fillBasics,
    topicOptions: topicOptions, gettext: gettext, ngettext: ngettext, format: format,
    stateLabel: stateLabel
  };
})();
