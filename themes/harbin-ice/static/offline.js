// Offline reading. Registers the site's service worker (sw.js at the base path, written by healingpixels/offline.py),
// asks it to keep the page that opened before it took over, and drives the "Save for offline" button
// (partials/save_offline.html) and the offline page's list of saved pages. Its settings come from its own tag:
// data-offline="on", or "kill" to remove the worker and its caches. No inline script: the CSP allows none of ours.
// Without a worker or the Cache API nothing shows and every page works as before.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.Promise || !window.caches || !("serviceWorker" in navigator)) return;
  var mode = script.getAttribute("data-offline") || "on";
  var base = new URL("../", script.src).pathname; // this file is at <base>assets/offline.<hash>.js
  var prefix = "hp|" + base + "|"; // cache names: the same scheme as sw.js
  var PAGES = prefix + "pages", SAVED = prefix + "saved", SHELL = prefix + "shell|";
  var sw = navigator.serviceWorker;
  var cameThroughWorker = Boolean(sw.controller);

  function ours(name) {
    return name.indexOf(prefix) === 0;
  }

  if (mode === "kill") {
    // The kill switch: this site's worker and caches go now. sw.js does the same for visitors who do not
    // open a page (it is fetched on its own by the browser's update check).
    sw.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        if (new URL(registration.scope).pathname === base) registration.unregister();
      });
    }).catch(function () {});
    caches.keys().then(function (names) {
      return Promise.all(names.filter(ours).map(function (name) { return caches.delete(name); }));
    }).catch(function () {});
    return;
  }
  if (mode !== "on") return;

  // A URL of this site, without query and fragment, as the worker keys pages; null for anything else.
  function local(href) {
    try {
      var url = new URL(href, location.href);
      if (url.origin !== location.origin || url.pathname.indexOf(base) !== 0) return null;
      if (url.pathname.slice(base.length).charAt(0) === "_") return null; // the preview server's own files
      return url.origin + url.pathname;
    } catch (e) {
      return null;
    }
  }

  function here() {
    return location.origin + location.pathname;
  }

  function unique(list) {
    var seen = {};
    return list.filter(function (item) {
      if (!item || seen[item]) return false;
      seen[item] = true;
      return true;
    });
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function images() {
    var found = [];
    each("img", function (img) { found.push(local(img.currentSrc || img.src)); });
    return unique(found);
  }

  // What this page needs to show (stylesheets, scripts, images) and the documents its content links to.
  function pageFiles() {
    var found = images();
    each('link[rel~="stylesheet"][href]', function (link) { found.push(local(link.href)); });
    each("script[src]", function (el) { found.push(local(el.src)); });
    each("main a[href]", function (a) {
      var url = local(a.href);
      if (url && !/\/$/.test(url) && !/\.html?$/i.test(url)) found.push(url);
    });
    return unique(found);
  }

  // Say TEXT in the live region; cleared first so the same words are announced again.
  function say(status, text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text || ""; }, 100);
  }

  function save() {
    var urls = unique([here()].concat(pageFiles()));
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.status !== 200 || response.type !== "basic") throw new Error(url + " answered " + response.status);
        return [url, response];
      });
    })).then(function (pairs) {
      return caches.open(SAVED).then(function (cache) {
        return Promise.all(pairs.map(function (pair) { return cache.put(pair[0], pair[1]); }));
      });
    });
  }

  function saveButton() {
    var box = document.querySelector("[data-hp-save]");
    var button = box && box.querySelector("button");
    var status = box && box.querySelector("[aria-live]");
    if (!button || !status) return;
    var busy = false;
    caches.open(SAVED).then(function (cache) { return cache.match(here()); }).then(function (found) {
      if (found) say(status, box.getAttribute("data-already"));
    }).catch(function () {});
    button.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      button.setAttribute("aria-disabled", "true"); // not disabled: that would drop keyboard focus
      say(status, box.getAttribute("data-saving"));
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
      save().then(function () {
        say(status, box.getAttribute("data-saved"));
      }, function () {
        say(status, box.getAttribute("data-failed"));
      }).then(function () {
        busy = false;
        button.removeAttribute("aria-disabled");
      });
    });
    box.hidden = false;
  }

  function titleOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var h1 = doc.querySelector("h1");
    return ((h1 && h1.textContent) || doc.title || "").replace(/\s+/g, " ").trim();
  }

  // On the offline page: the pages of this language that this device keeps, by title.
  function savedList() {
    var box = document.querySelector("[data-hp-saved-pages]");
    var list = box && box.querySelector("ul");
    if (!list) return;
    var lang = document.documentElement.lang;
    var start = location.origin + base + lang + "/";
    caches.keys().then(function (names) {
      names = names.filter(function (name) { return name === PAGES || name === SAVED || name.indexOf(SHELL) === 0; });
      return Promise.all(names.map(function (name) {
        return caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.filter(function (request) {
              return request.url.indexOf(start) === 0 && /\/$/.test(request.url);
            }).map(function (request) {
              return cache.match(request).then(function (response) { return response.text(); }).then(function (html) {
                return [request.url, titleOf(html)];
              });
            }));
          });
        });
      }));
    }).then(function (groups) {
      var pages = {};
      groups.forEach(function (group) {
        group.forEach(function (pair) { if (pair[1]) pages[pair[0]] = pair[1]; });
      });
      var urls = Object.keys(pages).sort(function (a, b) { return pages[a].localeCompare(pages[b], lang); });
      urls.forEach(function (url) {
        var item = document.createElement("li"), link = document.createElement("a");
        link.href = url;
        link.textContent = pages[url];
        item.appendChild(link);
        list.appendChild(item);
      });
      if (urls.length) box.hidden = false;
    }).catch(function () {});
  }

  // Register once the page has loaded: the page's own requests go first on a slow network. Offline this may fail
  // (it may check sw.js for an update); the worker already installed carries on regardless.
  new Promise(function (resolve) {
    if (document.readyState === "complete") resolve();
    else window.addEventListener("load", function () { resolve(); });
  }).then(function () {
    return sw.register(base + "sw.js", { scope: base, updateViaCache: "none" });
  }).catch(function () { /* no worker (private window, storage blocked): pages work online as before */ });

  // Once a worker is in charge of this site (at once if one already was):
  sw.ready.then(function (registration) {
    if (!cameThroughWorker && registration.active) {
      // This page came from the network before the worker was in charge: keep it, as the worker would have.
      registration.active.postMessage({ type: "remember", page: here(), assets: images() });
    }
    saveButton();
    savedList();
  }).catch(function () {});
})();
