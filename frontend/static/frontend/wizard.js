/* The course wizard (/author/drafts/<id>/): four steps over the drafts API.

   The page holds all four steps and only hides the ones not shown, and the parts that outlive
   a step are page-level objects, not a step's markup:
   - `saver`: every field change goes into one pending PATCH of /api/drafts/<id>/, sent after
     SAVE_DELAY_MS without typing (or at once when the author changes step); one request at a
     time; a 400 shows the server's message next to each field and re-sends the valid fields.
   - `uploads`: every file goes up with our tus client (tus.js), MAX_PARALLEL_UPLOADS at once,
     while the author keeps working anywhere in the wizard.
   - `poller`: while a file is uploading or processing, GET .../files/ every POLL_MS and update
     the rows (the encode's progress comes from the server). Bounded: it stops when nothing is
     in flight or after MAX_POLL_ERRORS failures in a row.
   The step the author is on is saved too, so a reload opens the same step. */
(function () {
  "use strict";
  var root = document.querySelector("[data-wizard]");
  if (!root) { return; }

  var DRAFT_URL = root.getAttribute("data-draft-url");
  var FILES_URL = root.getAttribute("data-files-url");
  var SAVE_DELAY_MS = 700;
  var RETRY_SAVE_MS = 4000;
  var POLL_MS = 1500;
  var MAX_POLL_ERRORS = 20;
  var MAX_PARALLEL_UPLOADS = 3;
  var ACTIVE_STATES = { Uploading: true, Processing: true };

  var draft = JSON.parse(document.getElementById("draft-data").textContent);
  var editable = draft.state === "open";
  var currentStep = 0;
  // File id -> file JSON, in the server's order (ids are not integers, so keys keep the
  // order they were added in): the order of the list the author sees.
  var serverFiles = {};
  var movesInFlight = 0;
  var orderGeneration = 0;       // +1 when a move starts and ends

  /* The server's list of the draft's files, asked for at `asked` (orderGeneration then):
     a list asked for before a move ended may not include it, and is not shown. */
  function setServerFiles(list, asked) {
    if (movesInFlight > 0 || asked !== orderGeneration) { return false; }
    serverFiles = {};
    list.forEach(function (item) { serverFiles[item.id] = item; });
    return true;
  }
  var testSets = draft.test_sets || [];
  var lastTestSetErrors = null;  // the server's last errors of test_sets, shown after re-draws

  function $(selector, within) { return (within || root).querySelector(selector); }
  function $all(selector, within) { return Array.prototype.slice.call((within || root).querySelectorAll(selector)); }
  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function api(method, url, body, keepalive) {
    var options = { method: method, credentials: "same-origin", keepalive: !!keepalive,
                    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function detailOf(answer) {
    return (answer.data && answer.data.detail) || ("The server answered " + answer.status + ".");
  }

  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB"], value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
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
    if (prefix === "test_sets") { lastTestSetErrors = null; }
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
    // The test-set editor re-draws itself: it shows these again (renderTestSets).
    if (errors && "test_sets" in errors) { lastTestSetErrors = errors.test_sets; }
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

  /* ---- The saver: one pending PATCH, debounced, one request at a time. */
  var saver = (function () {
    var pending = {}, timer = null, inFlight = null, retryTimer = null;
    var testSetRefs = null;        // the local objects of the test_sets being sent, in order

    function queue(changes, immediate) {
      if (!editable) { return Promise.resolve(false); }
      Object.keys(changes).forEach(function (name) { pending[name] = changes[name]; });
      if (changes.test_sets) { testSetRefs = collectRefs(testSets); }
      setStatus("Saving…");
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
          setStatus(Object.keys(pending).length ? "Saving…" : "All changes saved.");
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
          setStatus("Some changes are not saved: see the messages next to the fields.");
          if (Object.keys(pending).length) { flush(); }
          return false;
        }
        if (answer.status === 409 || answer.status === 404) {
          editable = false;
          showWizardError(detailOf(answer));
          setStatus("Not saved.");
          return false;
        }
        throw new Error(detailOf(answer));
      }).catch(function (problem) {
        inFlight = null;
        // Lost contact or a server error: keep the changes (newer ones win) and try again.
        Object.keys(body).forEach(function (name) { if (!(name in pending)) { pending[name] = body[name]; } });
        if (body.test_sets && !testSetRefs) { testSetRefs = refs; }
        setStatus("Not saved yet (" + problem.message + "); trying again…");
        window.clearTimeout(retryTimer);
        retryTimer = window.setTimeout(flush, RETRY_SAVE_MS);
        return false;
      });
      return inFlight;
    }

    /* The page is going away: send what is left in a request that outlives it. */
    function sendNow() {
      if (Object.keys(pending).length && editable) {
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
    if (currentStep === 4) { renderOverview(); }
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

  /* ---- Steps */
  function goTo(step, focusHeading) {
    step = Math.max(1, Math.min(4, step));
    currentStep = step;
    $all("[data-step]").forEach(function (section) {
      section.hidden = Number(section.getAttribute("data-step")) !== step;
    });
    $all(".stepper__step").forEach(function (button) {
      var number = Number(button.getAttribute("data-goto"));
      if (number === step) { button.setAttribute("aria-current", "step"); } else { button.removeAttribute("aria-current"); }
      button.classList.toggle("stepper__step--done", number < step);
    });
    if (editable && draft.step !== step) {
      draft.step = step;
      saver.queue({ step: step }, true);
    }
    if (step === 2 || step === 4) { poller.now(); }
    if (step === 3) { renderTestSets(); }
    if (step === 4) { refreshOverview(); }
    if (focusHeading) { $("[data-step='" + step + "'] h2").focus(); }
  }

  root.addEventListener("click", function (event) {
    var target = event.target.closest("[data-goto]");
    if (target) { goTo(Number(target.getAttribute("data-goto")), true); }
  });

  /* ---- Step 1: basic information */
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
      if (name === "name") { $("[data-wizard-title]").textContent = event.target.value.trim() || "New course"; }
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
    select.appendChild(el("option", { value: "" }, "No topic"));
    topics.concat(chosen && topics.indexOf(chosen) === -1 ? [chosen] : []).forEach(function (topic) {
      select.appendChild(el("option", { value: topic }, topic));
    });
    select.value = chosen || "";
  }

  function refreshTopicSelects() {
    $all("select[data-topic-select]").forEach(function (select) { topicOptions(select, select.value); });
  }

  /* ---- Uploads: owned by the page, so they go on whichever step is shown. */
  var uploads = (function () {
    var entries = [], waiting = [], running = 0, counter = 0;

    function fileIdOf(url, xhr) {
      var header = xhr && xhr.getResponseHeader && xhr.getResponseHeader("X-File-Id");
      if (header) { return header; }
      try {
        var body = xhr && xhr.responseText ? JSON.parse(xhr.responseText) : null;
        if (body && body.id) { return String(body.id); }
      } catch (ignored) { /* a tus answer has no body: the id is in the upload's URL */ }
      var found = url.match(/\/files\/([0-9a-f-]{32,36})\//);
      return found ? found[1] : null;
    }

    /* Queue `file`; `options.usage` is "resource" (step 2) or "test" (question images);
       `options.fileId` when it continues the upload of a file already listed;
       `options.onUploaded(id)` once every byte is on the server, `options.onFailed(message,
       id)` when it gave up. */
    function add(file, options) {
      var fingerprint = window.KolibriTus.fingerprint(draft.id, file);
      var twin = entries.filter(function (entry) {
        return (entry.state === "waiting" || entry.state === "sending") && window.KolibriTus.fingerprint(draft.id, entry.file) === fingerprint;
      })[0];
      // The same file twice at once would be two writers of one upload: keep the first.
      if (twin) { return twin; }
      counter += 1;
      var entry = { key: "local-" + counter, file: file, usage: options.usage || "resource",
                    fileId: options.fileId || null, sent: 0, state: "waiting", error: "", changes: {},
                    upload: null };
      entry.upload = new window.KolibriTus.Upload(file, {
        endpoint: FILES_URL,
        fingerprintPrefix: draft.id,
        metadata: { filename: file.name, description: "", topic: "", usage: entry.usage },
        headers: { "X-CSRFToken": csrfToken() },
        onCreated: function (url, xhr) {
          var fileId = fileIdOf(url, xhr);
          if (fileId && fileId !== entry.fileId) {
            entry.fileId = fileId;
            files.saveChanges(entry);
          }
          poller.now();
        },
        onProgress: function (sent) {
          if (sent > entry.sent) { entry.error = ""; }   // going again after a retry
          entry.sent = sent;
          files.render();
        },
        onRetry: function (problem, delay) {
          entry.error = problem.message + " Trying again in " + Math.round(delay / 1000) + " s.";
          files.render();
        },
        onSuccess: function () {
          finish(entry, "sent", "");
          if (options.onUploaded && entry.fileId) { options.onUploaded(entry.fileId); }
        },
        onError: function (problem) {
          finish(entry, "failed", problem.message);
          if (options.onFailed) { options.onFailed(problem.message, entry.fileId); }
        }
      });
      entries.push(entry);
      waiting.push(entry);
      pump();
      files.render();
      return entry;
    }

    function pump() {
      while (running < MAX_PARALLEL_UPLOADS && waiting.length) {
        var entry = waiting.shift();
        running += 1;
        entry.state = "sending";
        entry.error = "";
        entry.upload.start();
      }
    }

    function finish(entry, state, error) {
      if (entry.state === "sending") { running -= 1; }
      entry.state = state;
      entry.error = error;
      pump();
      poller.now();
      files.render();
    }

    function remove(entry) {
      waiting = waiting.filter(function (item) { return item !== entry; });
      entries = entries.filter(function (item) { return item !== entry; });
      var stopping = entry.state === "sending" ? entry.upload.abort(true) : Promise.resolve();
      if (entry.state === "sending") { running -= 1; pump(); }
      entry.state = "removed";
      return stopping;
    }

    function abortAll() {
      return Promise.all(entries.slice().map(remove));
    }

    function byFileId(fileId) {
      return entries.filter(function (entry) { return entry.fileId === fileId; })[0] || null;
    }

    function active() {
      return entries.some(function (entry) { return entry.state === "sending" || entry.state === "waiting"; });
    }

    return { add: add, remove: remove, abortAll: abortAll, byFileId: byFileId, active: active,
             all: function () { return entries.slice(); } };
  })();

  /* ---- The poller: the server's list of files while something is in flight. */
  var poller = (function () {
    var timer = null, errors = 0, busy = false, stopped = false, again = false;

    function inFlight() {
      return uploads.active() || Object.keys(serverFiles).some(function (id) { return ACTIVE_STATES[serverFiles[id].state]; });
    }

    function poll() {
      timer = null;
      // Asked for while a list is on its way: ask again when it has come.
      if (busy) { again = true; return; }
      busy = true;
      var asked = orderGeneration;
      api("GET", FILES_URL + "?page_size=1000").then(function (answer) {
        busy = false;
        if (!answer.ok) { throw new Error(detailOf(answer)); }
        errors = 0;
        var list = Array.isArray(answer.data) ? answer.data : (answer.data.results || []);
        if (!setServerFiles(list, asked)) { return schedule(POLL_MS); }
        draft.files = list;
        files.render();
        if (currentStep === 3) { renderImageStates(); }
        // What stops publishing changes with the files' states (an upload ends).
        if (currentStep === 4) { refreshOverview(); }
        if (again || inFlight()) { schedule(again ? 50 : POLL_MS); }
        again = false;
      }).catch(function (problem) {
        busy = false;
        errors += 1;
        if (errors >= MAX_POLL_ERRORS) {
          showWizardError("Lost contact with the server (" + problem.message + "); reload the page.");
          return;
        }
        schedule(POLL_MS * 2);
      });
    }

    function schedule(delay) {
      if (!timer && !stopped) { timer = window.setTimeout(poll, delay); }
    }

    return {
      now: function () { if (!stopped) { window.clearTimeout(timer); timer = null; schedule(50); } },
      start: function () { if (inFlight()) { schedule(POLL_MS); } },
      // The draft is going away (cancel): asking for its files would only answer 404.
      stop: function () { stopped = true; window.clearTimeout(timer); timer = null; },
      resume: function () { stopped = false; schedule(50); }
    };
  })();

  /* ---- Step 2: the file rows (server files merged with uploads not yet named). */
  var files = (function () {
    var list = $("[data-file-list]");
    var template = document.getElementById("file-row-template");
    var rows = {};              // row key (file id or local key) -> <li>
    var saveTimers = {};
    var moveChain = Promise.resolve();

    function resourceFiles() {
      return Object.keys(serverFiles).map(function (id) { return serverFiles[id]; })
        .filter(function (item) { return item.usage !== "test"; });
    }

    function rowFor(key, label) {
      var row = rows[key];
      if (row) { return row; }
      row = template.content.firstElementChild.cloneNode(true);
      row.setAttribute("data-row-key", key);
      ["description", "topic"].forEach(function (name) {
        var input = row.querySelector("[data-file-field=" + name + "]");
        var id = "file-" + key + "-" + name;
        input.id = id;
        row.querySelector("[data-label-for=" + name + "]").setAttribute("for", id);
        input.setAttribute("data-field-name", name);
      });
      row.querySelector("[data-file-field=topic]").setAttribute("data-topic-select", "");
      topicOptions(row.querySelector("[data-file-field=topic]"), "");
      row.querySelector("[data-file-progress]").setAttribute("aria-label", "Progress of " + label);
      ["up", "down", "remove"].forEach(function (action) {
        var button = row.querySelector("[data-file-" + action + "]");
        button.appendChild(el("span", { "class": "visually-hidden" }, " " + label));
      });
      rows[key] = row;
      return row;
    }

    function rekey(oldKey, newKey) {
      if (rows[oldKey] && !rows[newKey]) {
        rows[newKey] = rows[oldKey];
        rows[newKey].setAttribute("data-row-key", newKey);
      } else if (rows[oldKey]) {
        // The file already has its row (an upload resumed from that row): one row per file.
        rows[oldKey].remove();
      }
      delete rows[oldKey];
    }

    function fill(row, view) {
      var before = row.getAttribute("data-state");
      if (before && before !== view.state) { announce(view.name + ": " + view.stateText + (view.error ? ", " + view.error : "")); }
      row.setAttribute("data-file-id", view.fileId || "");
      row.setAttribute("data-state", view.state);
      row.className = "file-row file-row--" + view.state.toLowerCase();
      row.querySelector("[data-file-name]").textContent = view.name;
      row.querySelector("[data-file-size]").textContent = size(view.size);
      var state = row.querySelector("[data-file-state]");
      state.textContent = view.stateText;
      state.className = "file-state file-state--" + view.state.toLowerCase();
      var bar = row.querySelector("[data-file-progress]");
      bar.value = view.progress;
      bar.textContent = view.progress + "%";
      bar.hidden = view.state === "Finished" || view.state === "Error";
      var error = row.querySelector("[data-file-error]");
      error.textContent = view.error;
      error.hidden = !view.error;
      // A retry in progress is news, not something to fix: only an Error marks the step.
      error.className = view.state === "Error" ? "field-error" : "meta file-row__note";
      row.querySelector("[data-file-resume]").hidden = !view.stalled;
      ["description", "topic"].forEach(function (name) {
        var input = row.querySelector("[data-file-field=" + name + "]");
        // Never overwrite what the author is typing or has not saved yet.
        if (document.activeElement === input || input.hasAttribute("data-dirty")) { return; }
        if (name === "topic") { topicOptions(input, view.topic); } else { input.value = view.description; }
      });
      row.querySelector("[data-file-up]").disabled = !view.fileId || !editable || view.first;
      row.querySelector("[data-file-down]").disabled = !view.fileId || !editable || view.last;
    }

    function viewOf(item, entry) {
      var view = { fileId: item ? item.id : entry.fileId, name: item ? item.name : entry.file.name,
                   size: item ? item.size : entry.file.size, description: item ? item.description : "",
                   topic: item ? item.topic : "", state: item ? item.state : "Uploading",
                   progress: item ? item.progress : 0, error: item ? item.error : "", stalled: false };
      if (entry && (entry.state === "waiting" || entry.state === "sending")) {
        view.state = "Uploading";
        view.progress = entry.file.size ? Math.floor(entry.sent * 100 / entry.file.size) : 100;
        view.error = entry.error;
        view.stateText = entry.state === "waiting" ? "Uploading (waiting for a free slot)" : "Uploading " + view.progress + "%";
        return view;
      }
      if (entry && entry.state === "failed" && (!item || item.state === "Uploading")) {
        view.state = "Error";
        view.error = entry.error;
      }
      if (!entry && item && item.state === "Uploading") {
        // An upload this page does not run: from before a reload, or another tab's.
        view.stalled = true;
      }
      view.stateText = view.state === "Processing" ? "Processing " + view.progress + "%"
        : view.state === "Uploading" ? "Uploading " + view.progress + "%"
        : view.state === "Finished" && item && item.formats && item.formats.length ? "Finished (" + item.formats.join(", ") + ")"
        : view.state;
      return view;
    }

    function render() {
      var ordered = [];
      resourceFiles().forEach(function (item) {
        var entry = uploads.byFileId(item.id);
        if (entry && rows[entry.key]) { rekey(entry.key, item.id); }
        ordered.push([item.id, viewOf(item, entry)]);
      });
      uploads.all().forEach(function (entry) {
        if (entry.usage !== "resource" || (entry.fileId && serverFiles[entry.fileId])) { return; }
        ordered.push([entry.fileId || entry.key, viewOf(null, entry)]);
        if (entry.fileId && rows[entry.key]) { rekey(entry.key, entry.fileId); }
      });
      var keep = {};
      var named = ordered.filter(function (pair) { return pair[1].fileId; });
      if (named.length) {
        named[0][1].first = true;
        named[named.length - 1][1].last = true;
      }
      ordered.forEach(function (pair, index) {
        var row = rowFor(pair[0], pair[1].name);
        keep[pair[0]] = true;
        fill(row, pair[1]);
        if (list.children[index] !== row) { list.insertBefore(row, list.children[index] || null); }
      });
      Object.keys(rows).forEach(function (key) {
        if (!keep[key]) { rows[key].remove(); delete rows[key]; }
      });
      $("[data-files-empty]").hidden = ordered.length > 0;
      markSteps();
    }

    function entryOrIdOf(row) {
      var key = row.getAttribute("data-row-key");
      return { key: key, fileId: row.getAttribute("data-file-id") || null,
               entry: uploads.all().filter(function (entry) { return entry.key === key || (entry.fileId && entry.fileId === key); })[0] || null };
    }

    /* A description or topic typed before the server named the file waits on its entry. */
    function saveChanges(entry) {
      if (entry.fileId && Object.keys(entry.changes).length) {
        var changes = entry.changes;
        entry.changes = {};
        saveFile(entry.fileId, changes);
      }
    }

    function saveFile(fileId, changes, isMove) {
      setStatus("Saving…");
      return api("PATCH", FILES_URL + fileId + "/", changes).then(function (answer) {
        var row = rows[fileId];
        var error = row && row.querySelector("[data-file-field-error]");
        if (answer.ok) {
          serverFiles[fileId] = answer.data;
          if (error) { error.hidden = true; }
          if (row) {
            Object.keys(changes).forEach(function (name) {
              var input = row.querySelector("[data-file-field=" + name + "]");
              if (input) { input.removeAttribute("data-dirty"); }
            });
          }
          setStatus(movesInFlight > (isMove ? 1 : 0) ? "Saving…" : "All changes saved.");
        } else if (error) {
          error.textContent = answer.data.errors ? Object.keys(answer.data.errors).map(function (name) {
            return name + ": " + [].concat(answer.data.errors[name]).join(" ");
          }).join(" ") : detailOf(answer);
          error.hidden = false;
          setStatus("Some changes are not saved: see the messages next to the fields.");
        }
        return answer.ok;
      }, function () {
        setStatus("Not saved: lost contact with the server.");
        return false;
      });
    }

    list.addEventListener("input", fieldChanged);
    list.addEventListener("change", fieldChanged);

    function fieldChanged(event) {
      var name = event.target.getAttribute("data-field-name");
      if (!name) { return; }
      var row = event.target.closest("[data-file-row]");
      var found = entryOrIdOf(row);
      var value = event.target.value;
      event.target.setAttribute("data-dirty", "");
      found.fileId = found.fileId || (found.entry && found.entry.fileId);
      if (!found.fileId) {
        // Not named by the server yet: sent once it is (saveChanges, from onCreated).
        if (found.entry) { found.entry.changes[name] = value; }
        return;
      }
      var key = found.fileId + name;
      window.clearTimeout(saveTimers[key]);
      saveTimers[key] = window.setTimeout(function () {
        var change = {};
        change[name] = event.target.value;
        saveFile(found.fileId, change);
      }, event.type === "change" ? 0 : SAVE_DELAY_MS);
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      var row = button && button.closest("[data-file-row]");
      if (!row) { return; }
      var found = entryOrIdOf(row);
      if (button.hasAttribute("data-file-remove")) {
        button.disabled = true;
        var stopped = found.entry ? uploads.remove(found.entry) : Promise.resolve();
        stopped.then(function () {
          return found.fileId ? api("DELETE", FILES_URL + found.fileId + "/") : { ok: true };
        }).then(function (answer) {
          if (!answer.ok && answer.status !== 404) { throw new Error(detailOf(answer)); }
          if (found.fileId) { delete serverFiles[found.fileId]; }
          render();
          $("[data-file-picker]").focus();
        }).catch(function (problem) {
          button.disabled = false;
          showWizardError("Could not remove the file: " + problem.message);
        });
      } else if (button.hasAttribute("data-file-up") || button.hasAttribute("data-file-down")) {
        move(found.fileId, button.hasAttribute("data-file-up") ? -1 : 1, button);
      }
    });

    list.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-file-resume-input") || !event.target.files.length) { return; }
      var row = event.target.closest("[data-file-row]");
      var fileId = row.getAttribute("data-file-id");
      var stale = serverFiles[fileId];
      var file = event.target.files[0];
      event.target.value = "";
      var known = window.KolibriTus.fingerprint(draft.id, file);
      var resumes = false;
      try { resumes = !!window.localStorage.getItem(known); } catch (ignored) { /* no storage */ }
      // The same upload continues in the same row; a file this browser has no upload of
      // starts again as a new file, and the stopped one goes.
      uploads.add(file, { usage: stale ? stale.usage : "resource", fileId: resumes ? fileId : null });
      if (!resumes) { api("DELETE", FILES_URL + fileId + "/").then(function () { poller.now(); }); }
    });

    /* Up or down by one. The server numbers every file of the draft (question images too)
       and makes room itself: send the moved file the index its neighbour has in that full
       list, which puts it just before (up) or after (down) the neighbour. */
    function move(fileId, delta, button) {
      var ordered = resourceFiles();
      var index = ordered.map(function (item) { return item.id; }).indexOf(fileId);
      if (index < 0 || index + delta < 0 || index + delta >= ordered.length) { return; }
      var allIds = Object.keys(serverFiles);
      var neighbour = ordered[index + delta].id;
      var target = allIds.indexOf(neighbour);
      allIds.splice(allIds.indexOf(fileId), 1);
      allIds.splice(allIds.indexOf(neighbour) + (delta > 0 ? 1 : 0), 0, fileId);
      var reordered = {};
      allIds.forEach(function (id) { reordered[id] = serverFiles[id]; });
      serverFiles = reordered;
      render();
      // At the top or bottom the pressed button turns off: keep the focus in the row.
      var row = button.closest("[data-file-row]");
      (button.disabled ? row.querySelector(button.hasAttribute("data-file-up") ? "[data-file-down]" : "[data-file-up]") : button).focus();
      // One move at a time: each target was chosen after the moves before it.
      movesInFlight += 1;
      orderGeneration += 1;
      setStatus("Saving…");
      moveChain = moveChain.then(function () {
        return saveFile(fileId, { position: target }, true);
      }).then(function () {
        movesInFlight -= 1;
        orderGeneration += 1;
        if (!movesInFlight) { poller.now(); }
      });
    }

    $("[data-file-picker]").addEventListener("change", function (event) {
      Array.prototype.forEach.call(event.target.files, function (file) { uploads.add(file, { usage: "resource" }); });
      event.target.value = "";
    });

    return { render: render, saveChanges: saveChanges, resourceFiles: resourceFiles };
  })();

  /* ---- Step 3: test sets. The local `testSets` are the truth; each change saves all of
     them (the API takes the whole list); structure changes re-draw the editor. */
  var pendingImages = new WeakMap();   // question or answer -> its image upload in flight

  function newAnswer() { return { text: "", correct: false, image: null }; }
  function newQuestion() { return { text: "", multiple: false, image: null, answers: [newAnswer(), newAnswer()] }; }
  function newTestSet() {
    return { title: "", pass_mark: 0.8, display: "all", max_attempts: null, topic: "", questions: [newQuestion()] };
  }

  function saveTestSets() {
    saver.queue({ test_sets: JSON.parse(JSON.stringify(testSets)) });
  }

  function labelled(text, input, path, extraClass) {
    var wrap = el("div", { "class": "field" + (extraClass ? " " + extraClass : "") });
    var id = "ts-" + path.replace(/\./g, "-");
    input.id = id;
    input.setAttribute("aria-describedby", id + "-error");
    var error = el("p", { "class": "field-error", "id": id + "-error", "data-error-for": "test_sets." + path });
    error.hidden = true;
    if (input.type === "checkbox") {
      var label = el("label", { "class": "checkbox", "for": id });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + text));
      wrap.appendChild(label);
    } else {
      wrap.appendChild(el("label", { "for": id }, text));
      wrap.appendChild(input);
    }
    wrap.appendChild(error);
    return wrap;
  }

  function bound(input, target, key, read) {
    input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input", function () {
      target[key] = read(input);
      saveTestSets();
    });
    return input;
  }

  function textInput(value, multiline) {
    var input = el(multiline ? "textarea" : "input", multiline ? { rows: "2" } : { type: "text", autocomplete: "off" });
    input.value = value || "";
    return input;
  }

  function actionButton(text, hidden, handler, danger) {
    var button = el("button", { type: "button", "class": "button button--small " + (danger ? "button--danger" : "button--secondary") }, text);
    if (hidden) { button.appendChild(el("span", { "class": "visually-hidden" }, " " + hidden)); }
    button.addEventListener("click", handler);
    return button;
  }

  function restructure(focusPath) {
    saveTestSets();
    renderTestSets();
    var target = focusPath && document.getElementById("ts-" + focusPath.replace(/\./g, "-"));
    if (target) { target.focus(); }
  }

  function imageStatus(fileId) {
    var item = serverFiles[fileId];
    if (!item) { return "Image uploaded"; }
    return item.name + " · " + item.state + (item.state === "Uploading" || item.state === "Processing" ? " " + item.progress + "%" : "") + (item.error ? ": " + item.error : "");
  }

  function imageControl(owner, path, what) {
    var wrap = el("div", { "class": "field image-field", "data-image-path": path });
    var id = "ts-" + path.replace(/\./g, "-") + "-image";
    var pending = pendingImages.get(owner);
    if (owner.image) {
      wrap.appendChild(el("span", { "class": "meta" }, "Image of " + what + ": "));
      wrap.appendChild(el("span", { "data-image-status": owner.image }, imageStatus(owner.image)));
      wrap.appendChild(actionButton("Remove image", "of " + what, function () {
        var fileId = owner.image;
        owner.image = null;
        var stillUsed = collectRefs(testSets).some(function (item) { return item.image === fileId; });
        if (!stillUsed) { api("DELETE", FILES_URL + fileId + "/"); delete serverFiles[fileId]; }
        restructure(path.replace(/\.image$/, "") + ".image-file");
      }));
    } else if (pending) {
      wrap.appendChild(el("span", { "class": "meta", "role": "status" }, "Uploading " + pending.file.name + (pending.error ? ": " + pending.error : "…")));
    } else {
      var input = el("input", { type: "file", accept: "image/png,image/jpeg,image/gif" });
      input.id = id + "-file";
      wrap.appendChild(el("label", { "for": input.id }, "Image of " + what + " (optional)"));
      wrap.appendChild(input);
      input.addEventListener("change", function () {
        if (!input.files.length) { return; }
        // A question may name only a whole image: set it once every byte is on the server.
        var entry = uploads.add(input.files[0], { usage: "test", onUploaded: function (fileId) {
          pendingImages.delete(owner);
          owner.image = fileId;
          restructure();
        }, onFailed: function (message, fileId) {
          pendingImages.delete(owner);
          if (fileId) { api("DELETE", FILES_URL + fileId + "/"); }
          renderTestSets();
          var problem = {};
          problem[path] = "the image was not uploaded: " + message;
          showErrors({ test_sets: problem });
        } });
        pendingImages.set(owner, entry);
        renderTestSets();
      });
    }
    var error = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    error.hidden = true;
    wrap.appendChild(error);
    return wrap;
  }

  function renderImageStates() {
    $all("[data-image-status]").forEach(function (node) { node.textContent = imageStatus(node.getAttribute("data-image-status")); });
  }

  function answerRow(question, answer, path, number) {
    var row = el("li", { "class": "answer" });
    row.appendChild(labelled("Answer " + number, bound(textInput(answer.text), answer, "text", function (input) { return input.value; }), path + ".text"));
    var correct = el("input", { type: "checkbox" });
    correct.checked = !!answer.correct;
    row.appendChild(labelled("Right answer", bound(correct, answer, "correct", function (input) { return input.checked; }), path + ".correct", "field--inline"));
    row.appendChild(imageControl(answer, path + ".image", "answer " + number));
    row.appendChild(actionButton("Remove answer " + number, "", function () {
      question.answers.splice(question.answers.indexOf(answer), 1);
      restructure(path.replace(/\.answers\.\d+$/, "") + ".add-answer");
    }, true));
    return row;
  }

  function questionCard(testSet, question, path, number) {
    var card = el("fieldset", { "class": "question" });
    card.appendChild(el("legend", {}, "Question " + number));
    card.appendChild(labelled("Question text", bound(textInput(question.text, true), question, "text", function (input) { return input.value; }), path + ".text"));
    var multiple = el("input", { type: "checkbox" });
    multiple.checked = !!question.multiple;
    card.appendChild(labelled("More than one answer is right (multiple choice)", bound(multiple, question, "multiple", function (input) { return input.checked; }), path + ".multiple"));
    card.appendChild(imageControl(question, path + ".image", "question " + number));
    var answers = el("ol", { "class": "answers" });
    question.answers.forEach(function (answer, index) { answers.appendChild(answerRow(question, answer, path + ".answers." + index, index + 1)); });
    card.appendChild(answers);
    var answersError = el("p", { "class": "field-error", "data-error-for": "test_sets." + path + ".answers" });
    answersError.hidden = true;
    card.appendChild(answersError);
    var general = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    general.hidden = true;
    card.appendChild(general);
    var actions = el("div", { "class": "question__actions" });
    var addAnswer = actionButton("Add an answer", "to question " + number, function () {
      question.answers.push(newAnswer());
      restructure(path + ".answers." + (question.answers.length - 1) + ".text");
    });
    addAnswer.id = "ts-" + (path + ".add-answer").replace(/\./g, "-");
    actions.appendChild(addAnswer);
    actions.appendChild(actionButton("Remove question " + number, "", function () {
      testSet.questions.splice(testSet.questions.indexOf(question), 1);
      restructure(path.replace(/\.questions\.\d+$/, "") + ".add-question");
    }, true));
    card.appendChild(actions);
    return card;
  }

  function testSetCard(testSet, index) {
    var path = String(index);
    var card = el("section", { "class": "test-set", "aria-label": "Test set " + (index + 1) });
    card.appendChild(el("h3", {}, "Test set " + (index + 1)));
    card.appendChild(labelled("Title", bound(textInput(testSet.title), testSet, "title", function (input) { return input.value; }), path + ".title"));
    var grid = el("div", { "class": "test-set__settings" });
    var topic = el("select", { "data-topic-select": "" });
    topicOptions(topic, testSet.topic);
    grid.appendChild(labelled("Topic", bound(topic, testSet, "topic", function (input) { return input.value; }), path + ".topic"));
    var passMark = el("input", { type: "number", min: "0", max: "100", step: "1", inputmode: "numeric" });
    passMark.value = testSet.pass_mark === null || testSet.pass_mark === undefined ? "" : String(Math.round(testSet.pass_mark * 100));
    grid.appendChild(labelled("Pass mark (% of right answers)", bound(passMark, testSet, "pass_mark", function (input) {
      return input.value === "" || isNaN(Number(input.value)) ? input.value : Number(input.value) / 100;
    }), path + ".pass_mark"));
    var display = el("select");
    display.appendChild(el("option", { value: "one" }, "One question at a time"));
    display.appendChild(el("option", { value: "all" }, "All questions at once"));
    display.value = testSet.display || "all";
    grid.appendChild(labelled("Show questions", bound(display, testSet, "display", function (input) { return input.value; }), path + ".display"));
    var attempts = el("input", { type: "number", min: "1", step: "1", inputmode: "numeric", placeholder: "no limit" });
    attempts.value = testSet.max_attempts ? String(testSet.max_attempts) : "";
    grid.appendChild(labelled("Attempts allowed (empty: no limit)", bound(attempts, testSet, "max_attempts", function (input) {
      return input.value === "" ? null : (isNaN(Number(input.value)) ? input.value : Number(input.value));
    }), path + ".max_attempts"));
    card.appendChild(grid);
    testSet.questions.forEach(function (question, questionIndex) {
      card.appendChild(questionCard(testSet, question, path + ".questions." + questionIndex, questionIndex + 1));
    });
    var questionsError = el("p", { "class": "field-error", "data-error-for": "test_sets." + path + ".questions" });
    questionsError.hidden = true;
    card.appendChild(questionsError);
    var general = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    general.hidden = true;
    card.appendChild(general);
    var actions = el("div", { "class": "question__actions" });
    var addQuestion = actionButton("Add a question", "to test set " + (index + 1), function () {
      testSet.questions.push(newQuestion());
      restructure(path + ".questions." + (testSet.questions.length - 1) + ".text");
    });
    addQuestion.id = "ts-" + (path + ".add-question").replace(/\./g, "-");
    actions.appendChild(addQuestion);
    actions.appendChild(actionButton("Remove this test set", "(test set " + (index + 1) + ")", function () {
      testSets.splice(testSets.indexOf(testSet), 1);
      restructure();
      $("[data-add-test-set]").focus();
    }, true));
    card.appendChild(actions);
    return card;
  }

  function renderTestSets() {
    var container = $("[data-test-sets]");
    container.textContent = "";
    testSets.forEach(function (testSet, index) { container.appendChild(testSetCard(testSet, index)); });
    $("[data-test-sets-empty]").hidden = testSets.length > 0;
    if (lastTestSetErrors) { showErrors({ test_sets: lastTestSetErrors }); } else { markSteps(); }
    if (!editable) { disableInputs(container); }
  }

  $("[data-add-test-set]").addEventListener("click", function () {
    testSets.push(newTestSet());
    restructure((testSets.length - 1) + ".title");
  });


  /* ---- Step 4: overview, publish, and cancel (on every step). */
  function definition(list, term, value) {
    list.appendChild(el("dt", {}, term));
    list.appendChild(el("dd", {}, value || "–"));
  }

  function renderOverview() {
    var box = $("[data-overview]");
    box.textContent = "";
    box.appendChild(el("h3", {}, "Basic information"));
    var basics = el("dl", { "class": "overview__list" });
    definition(basics, "Course name", draft.name);
    definition(basics, "Version label", draft.version_label);
    definition(basics, "Description", draft.description);
    definition(basics, "Topics", (draft.topics || []).join(", "));
    definition(basics, "Completion", draft.require_videos ? "pass every test set and watch every video" : "pass every test set");
    box.appendChild(basics);
    box.appendChild(el("h3", {}, "Files"));
    var resources = files.resourceFiles();
    if (!resources.length) { box.appendChild(el("p", { "class": "empty" }, "No files.")); }
    var fileList = el("ol", { "class": "overview__files" });
    resources.forEach(function (item) {
      var row = el("li", { "data-overview-file": item.id });
      row.appendChild(el("strong", {}, item.name));
      row.appendChild(document.createTextNode(" · " + (item.topic ? "topic " + item.topic + " · " : "") + (item.description || "no description") + " · "));
      row.appendChild(el("span", { "class": "file-state file-state--" + item.state.toLowerCase() }, item.state + (item.state === "Processing" ? " " + item.progress + "%" : "") + (item.error ? ": " + item.error : "")));
      fileList.appendChild(row);
    });
    box.appendChild(fileList);
    box.appendChild(el("h3", {}, "Test sets"));
    if (!testSets.length) { box.appendChild(el("p", { "class": "empty" }, "No test sets.")); }
    var setList = el("ul", { "class": "overview__tests" });
    testSets.forEach(function (testSet) {
      var count = testSet.questions.length;
      setList.appendChild(el("li", {}, (testSet.title || "(no title)") + " · " + count + " question" + (count === 1 ? "" : "s") +
        " · pass mark " + Math.round((Number(testSet.pass_mark) || 0) * 100) + "% · " +
        (testSet.display === "one" ? "one question at a time" : "all questions at once") + " · " +
        (testSet.max_attempts ? testSet.max_attempts + " attempts" : "no limit on attempts")));
    });
    box.appendChild(setList);
    var problems = draft.publish_problems || {};
    var problemList = $("[data-problem-list]");
    problemList.textContent = "";
    Object.keys(problems).forEach(function (name) { problemList.appendChild(el("li", { "data-problem": name }, problems[name])); });
    $("[data-problems]").hidden = !Object.keys(problems).length || !editable;
    // The list above says what to do first; the server would refuse the publish anyway.
    $("[data-publish]").disabled = !editable || Object.keys(problems).length > 0;
  }

  function refreshOverview() {
    renderOverview();
    var asked;
    saver.flush().then(function () { asked = orderGeneration; return api("GET", DRAFT_URL); }).then(function (answer) {
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

  function disableInputs(within) {
    $all("input, textarea, select, [data-file-list] button, [data-test-sets] button, [data-add-test-set]", within).forEach(function (input) { input.disabled = true; });
  }

  function showClosed(text, channelId) {
    editable = false;
    var result = $("[data-publish-result]");
    result.textContent = text + " ";
    if (channelId) {
      var link = el("a", { href: root.getAttribute("data-channel-url").replace(root.getAttribute("data-channel-placeholder"), channelId), "data-course-link": "" }, "Open the course as learners see it");
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
    confirmDialog("Publish this course?", "Learners on this server will see it as it is now. To change it later, you open a new version.", "Yes, publish", "No, not yet").then(function (yes) {
      if (!yes) { button.focus(); return; }
      button.disabled = true;
      return saver.flush().then(function () { return api("POST", DRAFT_URL + "publish/", {}); }).then(function (answer) {
        if (answer.status === 201) {
          draft.state = "published";
          draft.published_version = answer.data.version;
          var waiting = files.resourceFiles().some(function (item) { return item.state === "Processing"; });
          showClosed("Published as version " + answer.data.version + "." + (waiting ? " Videos still being prepared appear in the course when they are ready." : ""), answer.data.channel_id);
          $("[data-publish-result] a").focus();
          return;
        }
        button.disabled = false;
        showWizardError("Not published: " + detailOf(answer));
        if (answer.data.errors) {
          draft.publish_problems = flattenErrors("", answer.data.errors, {});
          showErrors(answer.data.errors);
          renderOverview();
        }
      });
    }).catch(function (problem) {
      button.disabled = false;
      showWizardError("Not published: " + problem.message);
    });
  });

  $("[data-cancel-draft]").addEventListener("click", function () {
    var button = this;
    confirmDialog("Cancel this draft?", "The draft and every file uploaded to it are deleted. This cannot be undone.", "Yes, cancel the draft", "No, keep working", true).then(function (yes) {
      if (!yes) { button.focus(); return; }
      button.disabled = true;
      editable = false;
      poller.stop();
      return uploads.abortAll().then(function () { return api("DELETE", DRAFT_URL); }).then(function (answer) {
        if (answer.status !== 204 && answer.status !== 404) { throw new Error(detailOf(answer)); }
        window.location.assign(root.getAttribute("data-home-url"));
      });
    }).catch(function (problem) {
      button.disabled = false;
      editable = draft.state === "open";
      poller.resume();
      showWizardError("The draft was not cancelled: " + problem.message);
    });
  });

  /* Leaving with uploads running would stop them; unsaved typing goes out on the way. */
  window.addEventListener("beforeunload", function (event) {
    if (editable && uploads.active()) { event.preventDefault(); event.returnValue = ""; }
  });
  window.addEventListener("pagehide", function () { saver.sendNow(); });

  /* ---- Start where the author was. */
  fillBasics();
  setServerFiles(draft.files || [], orderGeneration);
  files.render();
  goTo(editable ? (draft.step || 1) : 4, false);
  if (draft.state === "published") {
    showClosed("This draft was published as version " + draft.published_version + ".", draft.channel_id);
  } else if (draft.state === "publishing") {
    showClosed("This draft is being published…", null);
    waitForPublish(0);
  }
  poller.start();

  /* Opened while a publish runs (another tab, or a reload during it): say when it ends.
     Bounded: every 2 s for at most 10 minutes. */
  function waitForPublish(tries) {
    if (tries >= 300) { return; }
    window.setTimeout(function () {
      api("GET", DRAFT_URL).then(function (answer) {
        if (answer.ok && answer.data.state === "published") {
          draft.state = "published";
          showClosed("Published as version " + answer.data.published_version + ".", answer.data.channel_id);
        } else if (answer.ok && answer.data.state === "open") {
          // The publish failed and the draft is open again: reload to work on it.
          window.location.reload();
        } else {
          waitForPublish(tries + 1);
        }
      }, function () { waitForPublish(tries + 1); });
    }, 2000);
  }
})();
