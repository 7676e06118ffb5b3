/* Content page: when the browser cannot play any source of a video or audio file, say so
   and point at the download links, instead of leaving a silent black box.

   For signed-in learners (the page sets data-progress-report-url only for them: guests have no
   progress), it also reports progress with POST /api/progress/:
   - video and audio: the furthest fraction actually played (seeking ahead does not count),
     at most every REPORT_EVERY_MS while playing, and at once on pause, on the end and when the
     page is hidden or left. The last one uses a keepalive fetch, not sendBeacon: a beacon cannot
     carry the X-CSRFToken header that the session-authenticated API needs.
   - documents (PDF, EPUB) and HTML5 apps: opened counts as done (progress 1), reported once
     when the page opens.
   - slideshows: done once every slide has been shown (slideshow.js says so).
   - H5P: done when the activity says it is finished (completed, answered, passed or failed,
     as xAPI has it); the player page on the sandbox origin posts that to this page, and only
     a message from that frame counts. */
(function () {
  "use strict";
  var REPORT_EVERY_MS = 10000;
  // A jump of more than this between two timeupdate events is a seek, not playback.
  var MAX_PLAYED_STEP_SECONDS = 2.5;

  var media = document.querySelector("[data-player-media]");
  var message = document.querySelector("[data-player-error]");

  function showMessage() {
    message.hidden = false;
  }

  if (media && message) {
    var sources = media.querySelectorAll("source");
    if (sources.length) {
      // The media element fires no error when every <source> fails: the last one does.
      sources[sources.length - 1].addEventListener("error", showMessage);
    }
    media.addEventListener("error", showMessage);
  }

  var article = document.querySelector("[data-progress-report-url]");
  if (!article) {
    return;
  }
  var reportUrl = article.getAttribute("data-progress-report-url");
  var channelId = article.getAttribute("data-channel-id");
  var nodeId = article.getAttribute("data-node-id");
  var kind = article.getAttribute("data-kind");

  function report(progress, keepalive, ended) {
    var body = { channel_id: channelId, node_id: nodeId,
                 progress: Math.min(1, Math.max(0, progress)), ended: !!ended };
    return window.KolibriLikeApi.request("POST", reportUrl, body, { keepalive: keepalive })
      .then(function (answer) {
        article.setAttribute("data-progress-reported", answer.ok ? String(progress) : "error");
        if (!answer.ok) { return false; }
        var saved = answer.data;
        // The server's answer says whether the node now counts as completed.
        document.dispatchEvent(new CustomEvent("learner-progress", { detail: {
          channel_id: channelId, node_id: nodeId,
          progress: typeof saved.progress === "number" ? saved.progress : progress,
          completed: saved.completed === undefined ? progress >= 1 : !!saved.completed } }));
        return true;
      }).catch(function () {
        // Offline or the server restarting: the next report carries the same furthest point.
        return false;
      });
  }

  if (kind === "document" || kind === "html5") {
    report(1, false);
    return;
  }
  if (kind === "slideshow") {
    document.addEventListener("slideshow-finished", function () { report(1, false); },
                              { once: true });
    return;
  }
  if (kind === "h5p") {
    var activity = document.querySelector("iframe[data-player-h5p]");
    window.addEventListener("message", function onMessage(event) {
      // The frame is an opaque origin (event.origin is "null"): what identifies it is its
      // window. Its message carries nothing else we trust.
      if (!activity || event.source !== activity.contentWindow || !event.data ||
          event.data.type !== "kolibri-like:h5p-finished") { return; }
      window.removeEventListener("message", onMessage);
      report(1, false);
    });
    return;
  }
  if (!media || (kind !== "video" && kind !== "audio")) {
    return;
  }

  var furthest = 0;       // furthest fraction played
  var reported = 0;       // what the server has
  var lastTime = 0;
  var timer = null;

  function sendIfChanged(keepalive, ended) {
    if (furthest > reported) {
      var value = furthest;
      reported = value;
      report(value, keepalive, ended).then(function (ok) {
        if (!ok && reported === value) { reported = 0; }
      });
    }
  }

  media.addEventListener("timeupdate", function () {
    var now = media.currentTime;
    var duration = media.duration;
    if (!media.seeking && duration > 0 && isFinite(duration) &&
        now >= lastTime && now - lastTime <= MAX_PLAYED_STEP_SECONDS) {
      furthest = Math.max(furthest, now / duration);
    }
    lastTime = now;
  });
  media.addEventListener("seeked", function () { lastTime = media.currentTime; });
  media.addEventListener("play", function () {
    lastTime = media.currentTime;
    if (timer === null) {
      timer = window.setInterval(function () { sendIfChanged(false); }, REPORT_EVERY_MS);
    }
  });
  function stopTimer() {
    if (timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }
  media.addEventListener("pause", function () {
    stopTimer();
    // At the end the browser fires pause, then ended: the ended handler reports that one.
    if (!media.ended) { sendIfChanged(false); }
  });
  media.addEventListener("ended", function () {
    stopTimer();
    // Played up to the last step before the end: that is the whole of it (the final
    // timeupdate may land a little short of the duration).
    var duration = media.duration;
    if (duration > 0 && isFinite(duration) &&
        (1 - furthest) * duration <= MAX_PLAYED_STEP_SECONDS) {
      furthest = 1;
    }
    // "ended" tells the server the media was played to its end (it completes the node).
    sendIfChanged(false, furthest === 1);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { sendIfChanged(true); }
  });
  window.addEventListener("pagehide", function () { sendIfChanged(true); });
})();
