/* The H5P player page of the sandbox origin (GET /reader/<md5>.h5p/).

   h5p-standalone reads the package's h5p.json, content and libraries from
   /zipcontent/<md5>.h5p/, which the sandbox origin serves straight out of the stored .h5p.
   The content is laid out in this page ("div" embedding), not in a frame of its own: this page
   is already the content's own sandboxed frame, and a frame inside an opaque origin would be
   out of the player's reach. storage-shim.js stands in for web storage, which H5P's core uses.

   When the activity says it is finished (an xAPI statement of its own, not of one of its
   parts, with the verb completed, answered, passed or failed), this page tells the learner's
   page (player.js), which records the progress: a message to the parent window, since this
   page has no access to the site.

   body[data-state] says how far it got: ready, or error (with data-error); body[data-finished]
   the verb that finished it. */
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
  var FINISHING_VERBS = ["completed", "answered", "passed", "failed"];
  var SUB_CONTENT = "http://h5p.org/x-api/h5p-subContentId";

  function reportFinished(event) {
    var statement = event && event.data && event.data.statement;
    var verb = event && typeof event.getVerb === "function" ? event.getVerb() : "";
    var definition = statement && statement.object && statement.object.definition;
    var extensions = (definition && definition.extensions) || {};
    if (FINISHING_VERBS.indexOf(verb) === -1 || extensions[SUB_CONTENT] ||
        body.dataset.finished) { return; }
    body.dataset.finished = verb;
    // The site's origin is not known here (no referrer): the message says nothing private.
    window.parent.postMessage({ type: "kolibri-like:h5p-finished", verb: verb }, "*");
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
      if (window.H5P && window.H5P.externalDispatcher) {
        window.H5P.externalDispatcher.on("xAPI", reportFinished);
      }
    }, fail);
  } catch (error) {
    fail(error);
  }
})();
