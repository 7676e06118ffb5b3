/* Admin pages: start tasks through POST /api/tasks/, show their progress by polling
   /api/tasks/<id>/, cancel them with DELETE. Every form also works without this script
   (plain POSTs to the page views); this only keeps the page in place and live.
   Every poll loop is bounded: it stops when the task ends, after MAX_POLLS polls, or after
   MAX_ERRORS failed requests in a row. */
(function () {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  var ACTIVE = { queued: true, running: true };
  var FIRST_DELAY_MS = 700;
  var MAX_DELAY_MS = 3000;
  var MAX_POLLS = 6000;
  var MAX_ERRORS = 10;
  var ZERO_ID = "00000000-0000-0000-0000-000000000000";

  var csrfToken = window.KolibriLikeApi.csrfToken;

  function api(method, url, token, body) {
    return window.KolibriLikeApi.request(method, url, body, { token: token });
  }

  function errorText(data, status) {
    var text = (data && data.detail) || format(gettext("The server answered %(status)s."), { status: status });
    if (data && data.errors) {
      Object.keys(data.errors).forEach(function (field) {
        text += " " + field + ": " + [].concat(data.errors[field]).join(" ");
      });
    }
    return text;
  }

  function field(item, name) {
    return item.querySelector('[data-task-field="' + name + '"]');
  }

  function size(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"], value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  /* "files 10/200 · bytes 1.2 MB of 40.0 MB" while running; the last stage afterwards. */
  function stageText(job) {
    var names = Object.keys(job.stages || {});
    var labels = job.stage_labels || {};
    if (!ACTIVE[job.state] || !names.length) { return job.stage_label || job.stage || ""; }
    return names.map(function (name) {
      var counts = job.stages[name];
      return (labels[name] || name) + " " + (name === "bytes" ? format(gettext("%(done)s of %(total)s"), { done: size(counts[0]), total: size(counts[1]) }) : counts[0] + "/" + counts[1]);
    }).join(" · ");
  }

  // A task's state is a word of the API ("running"), compared by the code: shown translated.
  function stateLabel(jobState) {
    var labels = { queued: gettext("queued"), running: gettext("running"), done: gettext("done"),
                   failed: gettext("failed"), cancelled: gettext("cancelled"),
                   cancelling: gettext("cancelling") };
    return labels[jobState] || jobState;
  }

  function render(item, job) {
    item.setAttribute("data-task-state", job.state);
    item.className = "task task--" + job.state;
    var state = field(item, "state");
    if (state) { state.textContent = stateLabel(job.cancel_requested && ACTIVE[job.state] ? "cancelling" : job.state); }
    var bar = field(item, "progress");
    if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
    var percent = field(item, "percent");
    if (percent) { percent.textContent = job.progress + "%"; }
    var stage = field(item, "stage");
    if (stage) { stage.textContent = stageText(job); }
    var error = field(item, "error");
    if (error) { error.textContent = job.error || ""; error.hidden = !job.error; }
    var summary = field(item, "summary");
    if (summary) { summary.textContent = job.summary || ""; summary.hidden = !job.summary; }
    var cancel = item.querySelector("[data-task-cancel]");
    if (cancel) {
      cancel.hidden = !ACTIVE[job.state];
      var button = cancel.querySelector("button");
      if (button) {
        button.disabled = !!job.cancel_requested;
        button.textContent = job.cancel_requested ? gettext("Cancelling…") : gettext("Cancel");
      }
    }
    if (job.state === "done" && item.getAttribute("data-was-active") === "yes" && !item.querySelector(".task__reload")) {
      var reload = document.createElement("a");
      reload.className = "task__reload";
      reload.href = window.location.href;
      reload.textContent = gettext("Finished: reload the page to see the result");
      item.appendChild(reload);
    }
  }

  function poll(item) {
    var id = item.getAttribute("data-task-id");
    var polls = 0, errors = 0, delay = FIRST_DELAY_MS, last = "";
    item.setAttribute("data-was-active", "yes");
    function step() {
      polls += 1;
      if (polls > MAX_POLLS) {
        return;
      }
      api("GET", "/api/tasks/" + id + "/", csrfToken(null)).then(function (answer) {
        if (!answer.ok) { throw new Error(errorText(answer.data, answer.status)); }
        errors = 0;
        render(item, answer.data);
        var signature = answer.data.state + answer.data.progress + answer.data.stage + answer.data.stage_done;
        delay = signature === last ? Math.min(MAX_DELAY_MS, delay * 1.5) : FIRST_DELAY_MS;
        last = signature;
        if (ACTIVE[answer.data.state]) { window.setTimeout(step, delay); }
      }).catch(function (problem) {
        errors += 1;
        if (errors >= MAX_ERRORS) {
          var error = field(item, "error");
          if (error) { error.textContent = format(gettext("Lost contact with the server (%(problem)s); reload the page."), { problem: problem.message }); error.hidden = false; }
          return;
        }
        window.setTimeout(step, MAX_DELAY_MS);
      });
    }
    window.setTimeout(step, FIRST_DELAY_MS);
  }

  function addTask(job, form) {
    var list = document.querySelector("[data-task-list]");
    var template = document.getElementById("task-template");
    if (!list || !template) { return; }
    var item = template.content.firstElementChild.cloneNode(true);
    item.setAttribute("data-task-id", job.id);
    var title = field(item, "title");
    if (title) {
      var where = job.params.drive || job.params.url || "";
      title.textContent = job.kind.charAt(0).toUpperCase() + job.kind.slice(1) +
        (job.channel_id ? " " + job.channel_id.slice(0, 12) + "…" : "") + (where ? " · " + where : "");
    }
    var cancel = item.querySelector("[data-task-cancel]");
    var cancelUrl = list.getAttribute("data-cancel-url");
    if (cancel && cancelUrl) { cancel.setAttribute("action", cancelUrl.replace(ZERO_ID, job.id)); }
    render(item, job);
    list.insertBefore(item, list.firstChild);
    var empty = document.querySelector("[data-task-empty]");
    if (empty) { empty.hidden = true; }
    if (ACTIVE[job.state]) { poll(item); }
  }

  function formPayload(form) {
    var payload = {};
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken" || name === "next" || name === "content" || value === "") {
        return;
      }
      payload[name] = value;
    });
    if (data.has("content")) {
      payload.content = data.getAll("content").indexOf("1") !== -1;
    }
    if (payload.import_id) { payload.import_id = parseInt(payload.import_id, 10); }
    return payload;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-task-form")) {
      event.preventDefault();
      var message = form.querySelector("[data-form-error]");
      var button = form.querySelector("button[type=submit]");
      if (message) { message.hidden = true; }
      if (button) { button.disabled = true; }
      api("POST", "/api/tasks/", csrfToken(form), formPayload(form)).then(function (answer) {
        if (!answer.ok) { throw new Error(errorText(answer.data, answer.status)); }
        addTask(answer.data, form);
      }).catch(function (problem) {
        if (message) { message.textContent = problem.message; message.hidden = false; }
      }).then(function () {
        if (button) { button.disabled = false; }
      });
    } else if (form.hasAttribute("data-task-cancel")) {
      event.preventDefault();
      var item = form.closest("[data-task-id]");
      var cancelButton = form.querySelector("button");
      if (cancelButton) { cancelButton.disabled = true; }
      api("DELETE", "/api/tasks/" + item.getAttribute("data-task-id") + "/", csrfToken(form)).then(function (answer) {
        if (!answer.ok) { throw new Error(errorText(answer.data, answer.status)); }
        render(item, answer.data);
      }).catch(function (problem) {
        var error = field(item, "error");
        if (error) { error.textContent = problem.message; error.hidden = false; }
        if (cancelButton) { cancelButton.disabled = false; }
      });
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-task-id]"), function (item) {
    if (ACTIVE[item.getAttribute("data-task-state")]) { poll(item); }
  });
})();
