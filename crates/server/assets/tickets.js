/* skvoz tickets plugin: carries the visit to the help desk. Every element
 * marked data-skvoz-ticket gets the visit: a link gets ?visit_code=…&vid=…
 * (a help desk web form can prefill its fields from them), a form field gets
 * the visit code as its value. Map that field to "visit_code" in the
 * help desk's webhook body and the ticket finds the visit. */
(function (w, d) {
  "use strict";
  function plugin(state, s) {
    var els = d.querySelectorAll("[data-skvoz-ticket]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], code = String(state.visit_code || "");
      if (!code) continue;
      if (el.tagName === "A" && el.href && !/^(mailto|tel):/i.test(el.href)) {
        try {
          var u = new URL(el.href);
          u.searchParams.set("visit_code", code);
          u.searchParams.set("vid", s.vid());
          el.href = u.toString();
        } catch (e) { /* not a URL */ }
      } else if ("value" in el) {
        el.value = code;
      }
    }
  }
  if (w.skvoz && w.skvoz.use) w.skvoz.use(plugin);
})(window, document);
