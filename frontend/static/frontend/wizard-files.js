/* The course wizard's step 2: the rows of the draft's files (after wizard-uploads.js).

   A row shows a file the server lists, merged with this page's upload of it, or an upload the
   server has not named yet. The author types a description and picks a topic in it (each
   saves itself with a PATCH of that file), moves it up or down, removes it, or, for an upload
   that stopped (a reload, another tab), chooses the same file again to continue it.

   The rows are drawn again whenever the uploads or the server's list change ("uploads-changed",
   "files-listed"); what the author is typing is never overwritten. */
(function (W) {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  if (!W) { return; }     // not the wizard page (wizard.js found no [data-wizard])

  var $ = W.$, el = W.el, api = W.api, detailOf = W.detailOf, setStatus = W.setStatus;
  var showWizardError = W.showWizardError, markSteps = W.markSteps, announce = W.announce;
  var topicOptions = W.topicOptions, uploads = W.uploads, poller = W.poller;
  var draft = W.draft, FILES_URL = W.FILES_URL, SAVE_DELAY_MS = W.SAVE_DELAY_MS;

  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB"], value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  /* ---- Step 2: the file rows (server files merged with uploads not yet named). */
  var files = (function () {
    var list = $("[data-file-list]");
    var template = document.getElementById("file-row-template");
    var rows = {};              // row key (file id or local key) -> <li>
    var saveTimers = {};
    var moveChain = Promise.resolve();

    function resourceFiles() {
      return Object.keys(W.state.serverFiles).map(function (id) { return W.state.serverFiles[id]; })
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
      row.querySelector("[data-file-progress]").setAttribute("aria-label", format(gettext("Progress of %(name)s"), { name: label }));
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
      row.querySelector("[data-file-up]").disabled = !view.fileId || !W.state.editable || view.first;
      row.querySelector("[data-file-down]").disabled = !view.fileId || !W.state.editable || view.last;
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
        view.stateText = entry.state === "waiting" ? gettext("Uploading (waiting for a free slot)") : format(gettext("Uploading %(percent)s%"), { percent: view.progress });
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
      view.stateText = view.state === "Processing" ? format(gettext("Processing %(percent)s%"), { percent: view.progress })
        : view.state === "Uploading" ? format(gettext("Uploading %(percent)s%"), { percent: view.progress })
        : view.state === "Finished" && item && item.formats && item.formats.length ? format(gettext("Finished (%(formats)s)"), { formats: item.formats.join(", ") })
        : W.stateLabel(view.state);
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
        if (entry.usage !== "resource" || (entry.fileId && W.state.serverFiles[entry.fileId])) { return; }
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
      setStatus(gettext("Saving…"));
      return api("PATCH", FILES_URL + fileId + "/", changes).then(function (answer) {
        var row = rows[fileId];
        var error = row && row.querySelector("[data-file-field-error]");
        if (answer.ok) {
          W.state.serverFiles[fileId] = answer.data;
          if (error) { error.hidden = true; }
          if (row) {
            Object.keys(changes).forEach(function (name) {
              var input = row.querySelector("[data-file-field=" + name + "]");
              if (input) { input.removeAttribute("data-dirty"); }
            });
          }
          setStatus(W.state.movesInFlight > (isMove ? 1 : 0) ? gettext("Saving…") : gettext("All changes saved."));
        } else if (error) {
          error.textContent = answer.data.errors ? Object.keys(answer.data.errors).map(function (name) {
            return name + ": " + [].concat(answer.data.errors[name]).join(" ");
          }).join(" ") : detailOf(answer);
          error.hidden = false;
          setStatus(gettext("Some changes are not saved: see the messages next to the fields."));
        }
        return answer.ok;
      }, function () {
        setStatus(gettext("Not saved: lost contact with the server."));
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
        // A list of files asked for before the removal would bring the row back: from here on,
        // only lists asked for after it count (as for a move).
        W.state.orderGeneration += 1;
        var stopped = found.entry ? uploads.remove(found.entry) : Promise.resolve();
        stopped.then(function () {
          return found.fileId ? api("DELETE", FILES_URL + found.fileId + "/") : { ok: true };
        }).then(function (answer) {
          if (!answer.ok && answer.status !== 404) { throw new Error(detailOf(answer)); }
          if (found.fileId) { delete W.state.serverFiles[found.fileId]; }
          W.state.orderGeneration += 1;
          poller.now();
          render();
          $("[data-file-picker]").focus();
        }).catch(function (problem) {
          button.disabled = false;
          showWizardError(format(gettext("Could not remove the file: %(problem)s"), { problem: problem.message }));
        });
      } else if (button.hasAttribute("data-file-up") || button.hasAttribute("data-file-down")) {
        move(found.fileId, button.hasAttribute("data-file-up") ? -1 : 1, button);
      }
    });

    list.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-file-resume-input") || !event.target.files.length) { return; }
      var row = event.target.closest("[data-file-row]");
      var fileId = row.getAttribute("data-file-id");
      var stale = W.state.serverFiles[fileId];
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
      var allIds = Object.keys(W.state.serverFiles);
      var neighbour = ordered[index + delta].id;
      var target = allIds.indexOf(neighbour);
      allIds.splice(allIds.indexOf(fileId), 1);
      allIds.splice(allIds.indexOf(neighbour) + (delta > 0 ? 1 : 0), 0, fileId);
      var reordered = {};
      allIds.forEach(function (id) { reordered[id] = W.state.serverFiles[id]; });
      W.state.serverFiles = reordered;
      render();
      // At the top or bottom the pressed button turns off: keep the focus in the row.
      var row = button.closest("[data-file-row]");
      (button.disabled ? row.querySelector(button.hasAttribute("data-file-up") ? "[data-file-down]" : "[data-file-up]") : button).focus();
      // One move at a time: each target was chosen after the moves before it.
      W.state.movesInFlight += 1;
      W.state.orderGeneration += 1;
      setStatus(gettext("Saving…"));
      moveChain = moveChain.then(function () {
        return saveFile(fileId, { position: target }, true);
      }).then(function () {
        W.state.movesInFlight -= 1;
        W.state.orderGeneration += 1;
        if (!W.state.movesInFlight) { poller.now(); }
      });
    }

    $("[data-file-picker]").addEventListener("change", function (event) {
      Array.prototype.forEach.call(event.target.files, function (file) { uploads.add(file, { usage: "resource" }); });
      event.target.value = "";
    });

    return { render: render, saveChanges: saveChanges, resourceFiles: resourceFiles };
  })();

  W.on("uploads-changed", function () { files.render(); });
  // A description or topic typed before the server named the upload's file goes now.
  W.on("upload-named", function (entry) { files.saveChanges(entry); });
  W.on("files-listed", function () { files.render(); });

  W.files = files;
})(window.KolibriWizard);
