// Service worker of the listening screen (served as /me/listen/sw.js, scope /me/listen):
// keeps the screen's shell so it opens on a phone without a network and comes back by itself.
// Money is never cached: the JSON answers (payments, changes) always go to the network.
"use strict";
var CACHE = "cho40-listen-v1";
var PAGE = "/me/listen";
var SHELL = [
  "/static/listen.js", "/static/listen.css", "/static/app.css",
  "/static/listen-192.png", "/static/listen-512.png", "/static/favicon.svg",
  "/static/listen.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("cho40-listen-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function fromNetworkFirst(request, key) {
  return fetch(request).then(function (response) {
    // Only the page itself (not a login page it was redirected to) is kept.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === PAGE && request.mode === "navigate") {
    event.respondWith(fromNetworkFirst(request, PAGE));
  } else if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(fromNetworkFirst(request, url.pathname));
  }
});
