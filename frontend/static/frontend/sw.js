/*
 * The service worker (HTTPS only; registered by connection.js). Loaded by the generated root
 * script `/sw.js` (frontend/pwa_views.py), which sets self.KOLIBRI_SHELL first:
 *   { version, offlineUrl, pingUrl, staticPrefix, urls: [the app shell: offline page,
 *     manifest, hashed static files] }
 *
 * - install: cache the app shell under a cache named after its version.
 * - activate: drop the caches of older versions; take control of open pages at once.
 * - a page navigation: the network first (pages carry progress and sign-in state, so a stale
 *   copy would mislead); when the server does not answer, the cached offline page, which
 *   reopens the page by itself once the server is back (connection.js).
 * - a static file: from the cache, else the network; hashed names never change, so one that
 *   arrived once is kept for this version (the page works offline with its scripts and styles).
 * - everything else (the API, content bytes with Range, the ping) goes to the network untouched:
 *   answering those from a cache would hide that the server is away.
 */
/* global KOLIBRI_SHELL */
"use strict";

var SHELL = self.KOLIBRI_SHELL;
var CACHE_PREFIX = "kolibri-like-shell-";
var CACHE_NAME = CACHE_PREFIX + SHELL.version;
// Names the manifest storage gives: name.0123456789ab.ext
var HASHED_NAME = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE_NAME).then(function (cache) {
      // Without cookies: the offline page must not carry one person's name to the next.
      return Promise.all(SHELL.urls.map(function (url) {
        return fetch(url, { credentials: "omit", cache: "no-cache" }).then(function (response) {
          if (!response.ok) { throw new Error(url + " answered " + response.status); }
          return cache.put(url, response);
        });
      }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(CACHE_PREFIX) === 0 && name !== CACHE_NAME;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function openPage(request) {
  return fetch(request).catch(function () {
    return caches.open(CACHE_NAME).then(function (cache) {
      return cache.match(SHELL.offlineUrl);
    }).then(function (cached) { return cached || Response.error(); });
  });
}

function staticFile(request, pathname) {
  return caches.open(CACHE_NAME).then(function (cache) {
    return cache.match(request).then(function (cached) {
      if (cached) { return cached; }
      return fetch(request).then(function (response) {
        if (response.ok && response.status === 200 && HASHED_NAME.test(pathname)) {
          cache.put(request, response.clone());
        }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname === SHELL.pingUrl) { return; }
  if (request.mode === "navigate") {
    event.respondWith(openPage(request));
  } else if (url.pathname.indexOf(SHELL.staticPrefix) === 0 && !request.headers.has("range")) {
    event.respondWith(staticFile(request, url.pathname));
  }
});
