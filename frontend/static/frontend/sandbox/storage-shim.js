/* Web storage that works inside the sandbox: the sandbox origin's pages run in an opaque
   origin (no allow-same-origin), where the browser refuses `localStorage` and
   `sessionStorage` with a SecurityError. Apps and H5P content that use them would stop at
   the first access; this gives them an in-memory Storage instead, for as long as the page
   is open. Nothing is shared with other apps or kept after the page closes, which is the
   isolation the sandbox is there for.

   Loaded before anything else on the page (the sandbox origin puts it first in every HTML
   page it serves from an app). Item access as properties (`localStorage.key = 1`) works too. */
(function () {
  "use strict";

  function usable(name) {
    try {
      var storage = window[name];
      return !!storage && typeof storage.getItem === "function" && storage.length >= 0;
    } catch (error) {
      return false;
    }
  }

  function memoryStorage() {
    var items = new Map();
    var methods = {
      getItem: function (key) {
        key = String(key);
        return items.has(key) ? items.get(key) : null;
      },
      setItem: function (key, value) { items.set(String(key), String(value)); },
      removeItem: function (key) { items.delete(String(key)); },
      clear: function () { items.clear(); },
      key: function (index) {
        var keys = Array.from(items.keys());
        return index >= 0 && index < keys.length ? keys[index] : null;
      }
    };
    return new Proxy(methods, {
      get: function (target, property) {
        if (property === "length") { return items.size; }
        if (typeof property !== "string" || Object.prototype.hasOwnProperty.call(target, property)) {
          return target[property];
        }
        return items.has(property) ? items.get(property) : undefined;
      },
      set: function (target, property, value) {
        if (typeof property === "string") { items.set(property, String(value)); }
        return true;
      },
      deleteProperty: function (target, property) {
        items.delete(String(property));
        return true;
      },
      has: function (target, property) {
        return property in target || items.has(String(property));
      },
      ownKeys: function () { return Array.from(items.keys()); },
      getOwnPropertyDescriptor: function (target, property) {
        if (!items.has(String(property))) { return undefined; }
        return { value: items.get(String(property)), writable: true, enumerable: true,
                 configurable: true };
      }
    });
  }

  ["localStorage", "sessionStorage"].forEach(function (name) {
    if (usable(name)) { return; }
    try {
      Object.defineProperty(window, name, { value: memoryStorage(), configurable: true,
                                            enumerable: true, writable: false });
    } catch (error) {
      // The browser would not let the property be replaced: the app sees its own error.
    }
  });
})();
