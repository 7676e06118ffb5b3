/* Content page: when the browser cannot play any source of a video or audio file, say so
   and point at the download links, instead of leaving a silent black box. */
(function () {
  "use strict";
  var media = document.querySelector("[data-player-media]");
  var message = document.querySelector("[data-player-error]");
  if (!media || !message) {
    return;
  }
  function showMessage() {
    message.hidden = false;
  }
  var sources = media.querySelectorAll("source");
  if (sources.length) {
    // The media element fires no error when every <source> fails: the last one does.
    sources[sources.length - 1].addEventListener("error", showMessage);
  }
  media.addEventListener("error", showMessage);
})();
