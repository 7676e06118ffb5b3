/* The course wizard's uploads and the poller of the draft's files (after wizard.js, before
   the steps that use them: wizard-files.js and wizard-tests.js).

   The uploads belong to the page, not to a step's markup, so they go on whichever step is
   shown:
   - `W.uploads`: every file goes up with our tus client (tus.js), MAX_PARALLEL_UPLOADS at
     once, while the author keeps working anywhere in the wizard. Step 2's files and step 3's
     question images both go through it.
   - `W.poller`: while a file is uploading or processing, GET .../files/ every POLL_MS and hand
     the list on ("files-listed"; the encode's progress comes from the server). Bounded: it
     stops when nothing is in flight or after MAX_POLL_ERRORS failures in a row.

     var entry = W.uploads.add(file, { usage: "test", onUploaded: function (fileId) {} });

   The rows are drawn by wizard-files.js, which listens to "uploads-changed" and
   "upload-named": this file does not know how the files are shown. */
(function (W) {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  if (!W) { return; }     // not the wizard page (wizard.js found no [data-wizard])

  var POLL_MS = 1500;
  var MAX_POLL_ERRORS = 20;
  var MAX_PARALLEL_UPLOADS = 3;
  var ACTIVE_STATES = { Uploading: true, Processing: true };
  var draft = W.draft, FILES_URL = W.FILES_URL;

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
        headers: { "X-CSRFToken": W.csrfToken() },
        onCreated: function (url, xhr) {
          var fileId = fileIdOf(url, xhr);
          if (fileId && fileId !== entry.fileId) {
            entry.fileId = fileId;
            // What the author typed in the row before the server named the file goes now.
            W.emit("upload-named", entry);
          }
          poller.now();
        },
        onProgress: function (sent) {
          if (sent > entry.sent) { entry.error = ""; }   // going again after a retry
          entry.sent = sent;
          W.emit("uploads-changed");
        },
        onRetry: function (problem, delay) {
          entry.error = problem.message + " " + format(gettext("Trying again in %(seconds)s s."), { seconds: Math.round(delay / 1000) });
          W.emit("uploads-changed");
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
      W.emit("uploads-changed");
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
      W.emit("uploads-changed");
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
      var serverFiles = W.state.serverFiles;
      return uploads.active() || Object.keys(serverFiles).some(function (id) { return ACTIVE_STATES[serverFiles[id].state]; });
    }

    function poll() {
      timer = null;
      // Asked for while a list is on its way: ask again when it has come.
      if (busy) { again = true; return; }
      busy = true;
      var asked = W.state.orderGeneration;
      W.api("GET", FILES_URL + "?page_size=1000").then(function (answer) {
        busy = false;
        if (!answer.ok) { throw new Error(W.detailOf(answer)); }
        errors = 0;
        var list = Array.isArray(answer.data) ? answer.data : (answer.data.results || []);
        if (!W.setServerFiles(list, asked)) { return schedule(POLL_MS); }
        draft.files = list;
        // The rows, the question images (step 3) and what stops publishing (step 4) follow
        // the files' states: each listens to "files-listed".
        W.emit("files-listed");
        if (again || inFlight()) { schedule(again ? 50 : POLL_MS); }
        again = false;
      }).catch(function (problem) {
        busy = false;
        errors += 1;
        if (errors >= MAX_POLL_ERRORS) {
          W.showWizardError(format(gettext("Lost contact with the server (%(problem)s); reload the page."), { problem: problem.message }));
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

  // Steps 2 and 4 show the files' states: ask for them fresh when shown.
  W.on("step", function (step) {
    if (step === 2 || step === 4) { poller.now(); }
  });

  /* Leaving with uploads running would stop them. */
  window.addEventListener("beforeunload", function (event) {
    if (W.state.editable && uploads.active()) { event.preventDefault(); event.returnValue = ""; }
  });

  W.uploads = uploads;
  W.poller = poller;
})(window.KolibriWizard);
