/* A signed-in learner's progress on the course pages: one GET /api/progress/?channel_id= per
   page (never one request per item), then
   - a topic page: the course's bar and "3 of 7 done" ([data-course-bar], [data-course-text]) and a
     check mark on every card whose node is completed (cards carry data-node-id);
   - a content page: "Done" or "In progress: 40%" for the node shown ([data-progress-node]),
     updated when player.js reports new progress on this page.
   Guests get no [data-progress] element (progress needs an account), so nothing runs. */
(function () {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  var box = document.querySelector("[data-progress]");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var channelId = (url.match(/channel_id=([0-9a-f]{32})/) || [])[1];
  var shownNodeId = box.getAttribute("data-progress-node");

  function listOf(data, names) {
    for (var index = 0; index < names.length; index += 1) {
      if (data && Array.isArray(data[names[index]])) { return data[names[index]]; }
    }
    return Array.isArray(data) ? data : [];
  }

  function markCards(nodes) {
    var byId = {};
    nodes.forEach(function (node) {
      if (node.channel_id === channelId || node.channel_id === undefined) { byId[node.node_id] = node; }
    });
    document.querySelectorAll("[data-node-id]").forEach(function (item) {
      var node = byId[item.getAttribute("data-node-id")];
      if (!node || item.querySelector(".done-mark")) { return; }
      if (node.completed) {
        item.classList.add("is-done");
        item.appendChild(Object.assign(document.createElement("span"), {
          className: "done-mark", textContent: "\u2713 " + gettext("Done") }));
      } else if (node.progress > 0) {
        item.appendChild(Object.assign(document.createElement("span"), {
          className: "done-mark done-mark--partial",
          textContent: format(gettext("Started: %(percent)s%"), { percent: Math.round(node.progress * 100) }) }));
      }
    });
  }

  function showCourse(course) {
    var bar = box.querySelector("[data-course-bar]");
    var text = box.querySelector("[data-course-text]");
    if (!bar || !text || !course || !course.total_resources) { return; }
    bar.value = course.progress || 0;
    // The course's totals, also on a sub-topic's page: say so.
    var words = format(gettext("Course progress: %(done)s of %(total)s done"),
      { done: course.completed_resources, total: course.total_resources });
    if (course.tests_total) {
      words += " \u00b7 " + format(gettext("tests passed: %(passed)s of %(total)s"),
        { passed: course.tests_passed, total: course.tests_total });
    }
    if (course.completed) { words += " \u00b7 " + gettext("course complete"); }
    text.textContent = words;
    box.hidden = false;
  }

  function showNode(node) {
    if (!node) { return; }
    if (node.completed) {
      box.textContent = "\u2713 " + gettext("Done");
      box.className = "progress-status progress-status--done";
    } else if (node.progress > 0) {
      box.textContent = format(gettext("In progress: %(percent)s%"), { percent: Math.round(node.progress * 100) });
      box.className = "progress-status";
    } else {
      return;
    }
    box.hidden = false;
  }

  fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      var nodes = listOf(data, ["nodes", "results"]);
      var courses = listOf(data, ["courses", "channels"]);
      var course = null;
      courses.forEach(function (item) { if (item.channel_id === channelId) { course = item; } });
      if (shownNodeId) {
        var shown = null;
        nodes.forEach(function (node) { if (node.node_id === shownNodeId) { shown = node; } });
        showNode(shown);
      } else {
        showCourse(course);
        markCards(nodes);
      }
      box.setAttribute("data-progress-loaded", "");
    })
    .catch(function () {
      // Progress is a hint on these pages; the content works without it.
    });

  if (shownNodeId) {
    // player.js reports a video's progress while it plays: show it without reloading.
    document.addEventListener("learner-progress", function (event) {
      if (event.detail && event.detail.node_id === shownNodeId) {
        showNode(event.detail);
      }
    });
  }
})();
