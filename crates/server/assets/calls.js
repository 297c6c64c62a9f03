/*! skvoz call tracking: shows the visit's tracking number and keeps it while the page is visible. */
(function (w, d) {
  "use strict";
  var s = w.skvoz;
  if (!s || !s.use || s.calls) return;
  s.calls = true;
  var sc = d.currentScript, c = w.skvozConfig || {};
  var at = function (n) { return sc ? sc.getAttribute("data-" + n) : null; };
  var key = c.key || at("key");
  var url = (c.endpoint || at("endpoint") || (sc ? sc.src.replace(/\/t\.js.*$/, "") : "")) + "/collect/hold";
  var PHONE = /\+?\d[\d\s().\-\u00a0]{5,}\d/g;
  var conf = null, seen = [], st = null, timer = null;
  function digits(t) { return String(t).replace(/\D/g, ""); }
  function tail(t) { return digits(t).slice(-10); }
  // Writes the new digits over the old ones from the right, so
  // "8 (495) 123-45-67" keeps its look.
  function over(t, nd) {
    var a = t.split(""), j = nd.length;
    for (var i = a.length - 1, n = 0; i >= 0 && n < 10 && j > 0; i--) if (a[i] >= "0" && a[i] <= "9") { a[i] = nd[--j]; n++; }
    return a.join("");
  }
  function walk(root, nd, known, force) {
    var tw = d.createTreeWalker(root, 4), n;
    while ((n = tw.nextNode())) {
      if (/^(SCRIPT|STYLE|TEXTAREA)$/.test(n.parentNode.nodeName)) continue;
      var v = n.nodeValue, r = v.replace(PHONE, function (m) { return force || known.indexOf(tail(m)) >= 0 ? over(m, nd) : m; });
      if (r !== v) n.nodeValue = r;
    }
  }
  function apply(p) {
    if (!p || !conf || !d.body) return;
    var nd = digits(p), known = conf.numbers.concat(seen), i, els;
    if (seen.indexOf(tail(p)) < 0) seen.push(tail(p));
    for (i = 0; i < conf.selectors.length; i++) {
      try { els = d.querySelectorAll(conf.selectors[i]); } catch (e) { continue; }
      for (var k = 0; k < els.length; k++) {
        walk(els[k], nd, known, true);
        if (/^tel:/i.test(els[k].getAttribute("href") || "")) els[k].setAttribute("href", "tel:+" + nd);
      }
    }
    els = d.querySelectorAll('a[href^="tel:"]');
    for (i = 0; i < els.length; i++) if (known.indexOf(tail(els[i].getAttribute("href"))) >= 0) els[i].setAttribute("href", "tel:+" + nd);
    walk(d.body, nd, known, false);
    s.phone = p;
  }
  function hold() {
    if (!st || !key) return;
    fetch(url, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ key: key, vid: s.vid(), visit_id: st.visit_id })
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (r) {
      if (!r) return;
      conf = { selectors: r.selectors || [], numbers: r.numbers || [] };
      apply(r.phone);
    })["catch"](function () { /* never break the site */ });
  }
  s.use(function (state) {
    st = state;
    if (!state || !state.phone) return;
    if (conf) apply(state.phone); else hold();
    if (!timer) timer = setInterval(function () { if (d.visibilityState !== "hidden") hold(); }, 60000);
  });
})(window, document);
