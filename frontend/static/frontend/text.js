/* The translation helpers every page script uses. Django's JavaScript catalog (/jsi18n/,
   loaded just before this by base.html) translates; if it did not load, the English words
   show. format() fills "%(name)s" as Django's interpolate(text, values, true). */
(function () {
  "use strict";
  window.KolibriLikeText = {
    gettext: window.gettext || function (text) { return text; },
    ngettext: window.ngettext || function (one, many, count) { return count === 1 ? one : many; },
    format: function (text, values) {
      return text.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
    }
  };
})();
