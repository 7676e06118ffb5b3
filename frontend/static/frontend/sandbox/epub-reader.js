/* The EPUB reader page of the sandbox origin (GET /reader/<md5>.epub/).

   epub.js opens the book as a folder: the sandbox origin serves each of the book's files
   straight out of the stored .epub (/zipcontent/<md5>.epub/<path>), so nothing is unzipped in
   the browser. epub.js shows each chapter in a frame of its own without scripts (its default
   sandbox), inside this page's own sandbox.

   The page says how far it got in body[data-state]: ready, or error (with data-error), and
   where the reader is in data-section (the spine index), data-href and data-page (of
   data-pages, within the chapter); tests and anyone
   looking at a broken book read them. Labels come translated from the main page's query
   string. */
(function () {
  "use strict";
  var body = document.body;
  var params = new URLSearchParams(window.location.search);
  var previousButton = document.querySelector("[data-reader-previous]");
  var nextButton = document.querySelector("[data-reader-next]");
  var contents = document.querySelector("[data-reader-contents]");
  var message = document.querySelector("[data-reader-message]");

  function label(name, fallback) {
    var text = params.get(name);
    return text ? text : fallback;
  }
  previousButton.textContent = "\u2039 " + label("previous", "Previous");
  nextButton.textContent = label("next", "Next") + " \u203a";
  contents.setAttribute("aria-label", label("contents", "Contents"));

  function fail(error) {
    body.dataset.state = "error";
    body.dataset.error = String(error && error.message ? error.message : error);
    message.textContent = label("failed", "This book cannot be opened here. " +
                                "Use the download link below the reader.");
    message.hidden = false;
  }

  var match = /^\/reader\/([0-9a-f]{32})\.epub\/$/.exec(window.location.pathname);
  if (!match || typeof window.ePub !== "function") {
    fail(match ? "the reader did not load" : "not a book address");
    return;
  }
  var book = window.ePub("/zipcontent/" + match[1] + ".epub/", { openAs: "directory" });
  var rendition = book.renderTo("book", { width: "100%", height: "100%", spread: "none",
                                          flow: "paginated" });
  // Which spine section each table-of-contents entry opens, to follow the reader in the menu.
  var sectionOfOption = [];

  // A table of contents names chapters relative to its own file, which may sit in another
  // folder than the package (nav/nav.xhtml linking ../text/one.xhtml); the spine knows them
  // relative to the package.
  function contentsTarget(href) {
    if (book.spine.get(href)) { return href; }
    var packaging = book.packaging || {};
    var base = packaging.navPath || packaging.ncxPath || "";
    try {
      var resolved = new URL(href, "http://book.invalid/" + base);
      var relative = decodeURIComponent(resolved.pathname.slice(1)) + resolved.hash;
      return book.spine.get(relative) ? relative : href;
    } catch (error) {
      return href;
    }
  }

  function addEntries(items, depth) {
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = contentsTarget(item.href);
      // The book's own words, as text: never as markup.
      option.textContent = "\u00a0\u00a0".repeat(depth) + (item.label || "").trim();
      contents.appendChild(option);
      var section = book.spine.get(option.value);
      sectionOfOption.push(section ? section.index : -1);
      if (item.subitems && item.subitems.length) { addEntries(item.subitems, depth + 1); }
    });
  }

  book.loaded.navigation.then(function (navigation) {
    addEntries(navigation.toc || [], 0);
    contents.disabled = contents.options.length === 0;
    // The contents may arrive after the first page is shown: mark where the reader is.
    showPlace(lastLocation);
  }, function () { contents.disabled = true; });

  var lastLocation = null;

  function showPlace(location) {
    if (!location || !location.start) { return; }
    lastLocation = location;
    body.dataset.section = String(location.start.index);
    body.dataset.href = location.start.href;
    // The page within the chapter, and how many it has at this size.
    body.dataset.page = String(location.start.displayed.page);
    body.dataset.pages = String(location.start.displayed.total);
    previousButton.disabled = !!location.atStart;
    nextButton.disabled = !!location.atEnd;
    // The last entry that starts at or before this section is the chapter being read.
    var chosen = -1;
    sectionOfOption.forEach(function (sectionIndex, optionIndex) {
      if (sectionIndex !== -1 && sectionIndex <= location.start.index) { chosen = optionIndex; }
    });
    if (chosen !== -1) { contents.selectedIndex = chosen; }
  }

  rendition.on("relocated", showPlace);
  previousButton.addEventListener("click", function () { rendition.prev(); });
  nextButton.addEventListener("click", function () { rendition.next(); });
  contents.addEventListener("change", function () {
    rendition.display(contents.value).catch(fail);
  });

  // A right-to-left book (Arabic, Hebrew, Urdu...) turns its pages the other way: its next
  // page is to the left, for the arrow keys and for the buttons.
  var rightToLeft = false;
  book.loaded.metadata.then(function (metadata) {
    rightToLeft = metadata.direction === "rtl";
    if (rightToLeft) {
      document.querySelector(".reader__bar").dir = "rtl";
      body.dataset.direction = "rtl";
    }
  });

  function onKey(event) {
    if (event.target && event.target.tagName === "SELECT") { return; }
    var forward = rightToLeft ? "ArrowLeft" : "ArrowRight";
    var back = rightToLeft ? "ArrowRight" : "ArrowLeft";
    if (event.key === back) { rendition.prev(); event.preventDefault(); }
    if (event.key === forward) { rendition.next(); event.preventDefault(); }
  }
  document.addEventListener("keydown", onKey);
  rendition.on("keydown", onKey);  // keys pressed while a chapter's frame has the focus

  // A book that cannot be opened (no container, no package) rejects nothing: epub.js says so
  // with this event only.
  book.on("openFailed", fail);
  rendition.display().then(function () {
    body.dataset.state = "ready";
  }, fail);
})();
