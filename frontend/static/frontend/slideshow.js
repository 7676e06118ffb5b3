/* The slideshow player: one slide at a time with its caption, previous/next buttons and the
   left/right arrow keys.

   The manifest (Kolibri's format: {"slideshow_data": [{checksum, extension, caption,
   descriptive_text, sort_order}]}) gives the order and the words; the images are this node's
   own files, listed by the template. A manifest entry naming no file of the node is left
   out; without a usable manifest the images show in the node's order. The player's
   data-state (ready, error) and data-slide (the index shown) say where it is. */
(function () {
  "use strict";
  var root = document.querySelector("[data-player-slideshow]");
  if (!root) { return; }
  var text = window.KolibriLikeText || {
    gettext: function (words) { return words; },
    format: function (words, values) {
      return words.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
    }
  };
  var image = root.querySelector("[data-slideshow-image]");
  var caption = root.querySelector("[data-slideshow-caption]");
  var counter = root.querySelector("[data-slideshow-counter]");
  var previousButton = root.querySelector("[data-slideshow-previous]");
  var nextButton = root.querySelector("[data-slideshow-next]");
  var errorMessage = root.querySelector("[data-slideshow-error]");
  var files = Array.prototype.map.call(root.querySelectorAll("[data-slideshow-file]"),
    function (item) { return { checksum: item.dataset.checksum, url: item.dataset.url }; });
  var slides = [];
  var current = 0;
  var seen = {};
  var seenCount = 0;

  function slidesFrom(manifest) {
    var entries = manifest && Array.isArray(manifest.slideshow_data) ? manifest.slideshow_data : [];
    var urls = {};
    files.forEach(function (file) { urls[file.checksum] = file.url; });
    var found = entries.map(function (entry, position) {
      var known = entry && typeof entry.checksum === "string" && urls[entry.checksum];
      if (!known) { return null; }
      var order = Number(entry.sort_order);
      return { url: known, position: position, order: isFinite(order) ? order : Infinity,
               caption: typeof entry.caption === "string" ? entry.caption : "",
               description: typeof entry.descriptive_text === "string" ?
                 entry.descriptive_text : "" };
    }).filter(Boolean);
    found.sort(function (a, b) { return a.order - b.order || a.position - b.position; });
    return found;
  }

  function show(index) {
    if (!slides.length) { return; }
    current = Math.max(0, Math.min(slides.length - 1, index));
    var slide = slides[current];
    image.src = slide.url;
    image.alt = slide.description || slide.caption;
    image.hidden = false;
    caption.textContent = slide.caption;  // the manifest's words, as text
    caption.hidden = !slide.caption;
    counter.textContent = text.format(text.gettext("Slide %(number)s of %(count)s"),
                                      { number: current + 1, count: slides.length });
    previousButton.disabled = current === 0;
    nextButton.disabled = current === slides.length - 1;
    root.dataset.slide = String(current);
    if (!seen[current]) {
      seen[current] = true;
      seenCount += 1;
      if (seenCount === slides.length) {
        // Every slide shown: player.js reports the slideshow done (for a signed-in learner).
        root.dataset.seenAll = "true";
        document.dispatchEvent(new CustomEvent("slideshow-finished"));
      }
    }
  }

  function start(manifest) {
    slides = slidesFrom(manifest);
    if (!slides.length) {
      slides = files.map(function (file) {
        return { url: file.url, caption: "", description: "" };
      });
    }
    if (!slides.length) {
      root.dataset.state = "error";
      errorMessage.hidden = false;
      return;
    }
    root.dataset.state = "ready";
    show(0);
  }

  previousButton.addEventListener("click", function () { show(current - 1); });
  nextButton.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey || !slides.length ||
        (target && (target.isContentEditable ||
                    /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)))) { return; }
    if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
  });

  fetch(root.dataset.manifestUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("manifest " + response.status); }
      return response.json();
    })
    .then(start, function () { start(null); });
})();
