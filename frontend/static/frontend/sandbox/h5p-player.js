/* The H5P player page of the sandbox origin (GET /reader/<md5>.h5p/).

   h5p-standalone reads the package's h5p.json, content and libraries from
   /zipcontent/<md5>.h5p/, which the sandbox origin serves straight out of the stored .h5p.
   The content is laid out in this page ("div" embedding), not in a frame of its own: this page
   is already the content's own sandboxed frame, and a frame inside an opaque origin would be
   out of the player's reach. storage-shim.js stands in for web storage, which H5P's core uses.

   body[data-state] says how far it got: ready, or error (with data-error). */
(function () {
  "use strict";
  var body = document.body;
  var message = document.querySelector("[data-reader-message]");
  var params = new URLSearchParams(window.location.search);

  function fail(error) {
    body.dataset.state = "error";
    body.dataset.error = String(error && error.message ? error.message : error);
    message.textContent = params.get("failed") ||
      "This H5P activity cannot be played here. Use the download link below the player.";
    message.hidden = false;
  }

  var match = /^\/reader\/([0-9a-f]{32})\.h5p\/$/.exec(window.location.pathname);
  if (!match || !window.H5PStandalone) {
    fail(match ? "the player did not load" : "not an H5P address");
    return;
  }
  var container = document.getElementById("h5p-container");
  try {
    Promise.resolve(new window.H5PStandalone.H5P(container, {
      h5pJsonPath: "/zipcontent/" + match[1] + ".h5p",
      frameJs: "/assets/h5p/frame.bundle.js",
      frameCss: "/assets/h5p/styles/h5p.css",
      embedType: "div",
      frame: false, copyright: false, export: false, embed: false, icon: false,
      fullScreen: false
    })).then(function () {
      body.dataset.state = "ready";
    }, fail);
  } catch (error) {
    fail(error);
  }
})();
