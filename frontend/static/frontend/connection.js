/*
 * When the Wi-Fi flickers: every page (base.html) says in plain words when the server stops
 * answering, keeps asking by itself, and carries on when it answers again.
 *
 * 1. While the server answers, ask it every HEALTHY_INTERVAL_MS (only while the page is
 *    visible: a tablet in a bag should not keep the radio busy), and at once when the browser
 *    says it is back online, when the page becomes visible, or when one of the page's own
 *    requests fails on the network.
 * 2. When a ping fails, show the banner (role=status, so screen readers read it) and ask again
 *    after RETRY_DELAYS_MS, the last delay repeating: bounded back-off, never giving up.
 * 3. While the server is away, a click on a link of this site or a search is held instead of
 *    ending on the browser's error page; when the server answers, the banner goes away and the
 *    held page opens. The offline page (served by the service worker for a navigation that
 *    failed) reloads, which opens the page the person had asked for. Otherwise nothing reloads.
 * 4. On HTTPS only, register the service worker that keeps the app shell (frontend/sw.js).
 *    Browsers refuse workers on plain http except on localhost; not registering them on http at
 *    all keeps the behaviour the same on every address.
 *
 * Configured by its script tag: data-ping-url, data-service-worker-url.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var PING_URL = (script && script.dataset.pingUrl) || "/ping/";
  var SERVICE_WORKER_URL = script && script.dataset.serviceWorkerUrl;
  var HEALTHY_INTERVAL_MS = 10000;
  var RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
  var PING_TIMEOUT_MS = 5000;
  // Django's JavaScript catalog (loaded before this script by base.html) translates; when it
  // could not load (the offline page has no catalog), the English words show.
  var gettext = typeof window.gettext === "function" ? window.gettext
    : function (text) { return text; };
  var MESSAGE_AWAY = gettext("The server is not answering. Retrying…");
  var MESSAGE_HELD = gettext(
    "The server is not answering. The page you asked for opens when it does.");
  var MESSAGE_NOT_SENT = gettext(
    "The server is not answering, so this was not sent. Send it again once this message has gone.");
  var TRY_NOW = gettext("Try now");

  var nativeFetch = window.fetch.bind(window);
  var isAway = false;
  var failures = 0;
  var timer = null;
  var checking = null;
  var heldUrl = null;
  var banner = null;
  var bannerText = null;

  function isOfflineFallback() {
    return document.querySelector("[data-offline-fallback]") !== null;
  }

  function buildBanner() {
    banner = document.createElement("div");
    banner.className = "connection-banner";
    banner.setAttribute("role", "status");
    banner.setAttribute("aria-live", "polite");
    banner.hidden = true;
    // Inline so the banner needs no stylesheet: it may show when site.css could not load.
    banner.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:1000;" +
      "display:none;flex-wrap:wrap;gap:0.5rem 1rem;align-items:center;justify-content:center;" +
      "padding:0.75rem 1rem;background:#1f2933;color:#fff;font-size:1rem;line-height:1.4;" +
      "box-shadow:0 -2px 8px rgba(0,0,0,0.25);";
    bannerText = document.createElement("span");
    var retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = TRY_NOW;
    retry.style.cssText = "font:inherit;padding:0.3rem 0.9rem;border-radius:6px;" +
      "border:1px solid #fff;background:transparent;color:#fff;cursor:pointer;";
    retry.addEventListener("click", function () { check(); });
    banner.appendChild(bannerText);
    banner.appendChild(retry);
    document.body.appendChild(banner);
  }

  function showBanner(message) {
    // The [hidden] attribute loses to an inline display, so the style shows and hides it too.
    bannerText.textContent = message;
    banner.hidden = false;
    banner.style.display = "flex";
  }

  function hideBanner() {
    banner.hidden = true;
    banner.style.display = "none";
    bannerText.textContent = "";
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, delay);
  }

  function ping() {
    var controller = new AbortController();
    var deadline = window.setTimeout(function () { controller.abort(); }, PING_TIMEOUT_MS);
    // Any answer means the server is there (even an error page); only no answer is "away".
    return nativeFetch(PING_URL, { cache: "no-store", credentials: "same-origin",
                                   signal: controller.signal })
      .then(function () { return true; }, function () { return false; })
      .finally(function () { window.clearTimeout(deadline); });
  }

  function check() {
    if (checking) { return checking; }
    window.clearTimeout(timer);
    checking = ping().then(function (answered) {
      checking = null;
      if (answered) { serverAnswered(); } else { serverAway(); }
    });
    return checking;
  }

  function serverAway() {
    isAway = true;
    showBanner(heldUrl ? MESSAGE_HELD : MESSAGE_AWAY);
    schedule(RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)]);
    failures += 1;
  }

  function serverAnswered() {
    var wasAway = isAway;
    isAway = false;
    failures = 0;
    if (heldUrl) {
      window.location.assign(heldUrl);
      return;
    }
    if (isOfflineFallback()) {
      window.location.reload();
      return;
    }
    if (wasAway) { hideBanner(); }
    if (document.visibilityState === "visible") { schedule(HEALTHY_INTERVAL_MS); }
  }

  function isOwnPage(url) {
    return url.origin === window.location.origin;
  }

  function holdLinkClick(event) {
    if (!isAway || event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || link.hasAttribute("download") ||
        (link.target && link.target !== "_self")) { return; }
    var url = new URL(link.href, window.location.href);
    if (!isOwnPage(url) || url.hash && url.pathname === window.location.pathname) { return; }
    event.preventDefault();
    heldUrl = url.href;
    showBanner(MESSAGE_HELD);
    check();
  }

  function holdFormSubmit(event) {
    if (!isAway || event.defaultPrevented) { return; }
    var form = event.target;
    event.preventDefault();
    if ((form.method || "get").toLowerCase() === "get") {
      var url = new URL(form.action || window.location.href, window.location.href);
      url.search = new URLSearchParams(new FormData(form)).toString();
      heldUrl = url.href;
      showBanner(MESSAGE_HELD);
    } else {
      // Never sent again by itself: a form that changes something is for the person to resend.
      showBanner(MESSAGE_NOT_SENT);
    }
    check();
  }

  function watchOwnRequests() {
    // A page's own request failing on the network (not an HTTP error, not an abort) is the
    // earliest sign the server went away; ask now instead of at the next heartbeat.
    window.fetch = function () {
      return nativeFetch.apply(window, arguments).catch(function (error) {
        if (!error || error.name !== "AbortError") { check(); }
        throw error;
      });
    };
    // Uploads (tus.js) use XMLHttpRequest: its "error" event is a network failure too.
    var nativeSend = XMLHttpRequest.prototype.send;
    XMLHttpRequest.prototype.send = function () {
      this.addEventListener("error", function () { check(); });
      return nativeSend.apply(this, arguments);
    };
  }

  function registerServiceWorker() {
    if (!SERVICE_WORKER_URL || window.location.protocol !== "https:" ||
        !("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: "/" }).catch(function () {
      // A self-signed certificate the browser has not been told to trust: the site still
      // works, only without the offline shell.
    });
  }

  function start() {
    buildBanner();
    watchOwnRequests();
    document.addEventListener("click", holdLinkClick);
    document.addEventListener("submit", holdFormSubmit);
    window.addEventListener("online", function () { check(); });
    window.addEventListener("offline", function () { check(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { check(); }
    });
    registerServiceWorker();
    if (isOfflineFallback()) {
      // This page only shows when a navigation failed: start in the "away" state.
      serverAway();
    } else {
      schedule(HEALTHY_INTERVAL_MS);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
