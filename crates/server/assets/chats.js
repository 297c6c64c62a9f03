/*! skvoz messenger links: WhatsApp links to the project's numbers get the greeting and the visit-code marker; t.me/<bot> links get ?start=<payload>. */
(function (w, d) {
  "use strict";
  var s = w.skvoz;
  if (!s || !s.use || s.chatsLoaded) return;
  s.chatsLoaded = true;
  var wa = {}, tg = {};
  function fix(a) {
    var u, h, n, p, o;
    try { u = new URL(a.href, location.href); } catch (e) { return; }
    h = u.hostname.replace(/^www\./, "");
    if (h === "wa.me" || h === "api.whatsapp.com") {
      n = (h === "wa.me" ? u.pathname : u.searchParams.get("phone") || "").replace(/\D/g, "");
      if (!wa.hasOwnProperty(n)) return;
      // %20, not "+": WhatsApp reads the text as URL-encoded.
      a.href = h === "wa.me"
        ? "https://wa.me/" + n + "?text=" + encodeURIComponent(wa[n])
        : u.origin + u.pathname + "?phone=" + n + "&text=" + encodeURIComponent(wa[n]);
    } else if (h === "t.me" || h === "telegram.me") {
      p = tg[(u.pathname.split("/")[1] || "").toLowerCase()];
      if (!p) return;
      o = a.getAttribute("data-skvoz-start");
      if (o === null) { o = u.searchParams.get("start") || ""; a.setAttribute("data-skvoz-start", o); }
      // Someone else's payload stays in front when both fit in Telegram's 64.
      u.searchParams.set("start", o && o.length + p.length < 64 ? o + "-" + p : p);
      a.href = u.href;
    }
  }
  function all() {
    var l = d.getElementsByTagName("a");
    for (var i = 0; i < l.length; i++) fix(l[i]);
  }
  s.use(function (st) {
    var i, x;
    wa = {}; tg = {};
    for (i = 0; i < (st.wa || []).length; i++) { x = st.wa[i]; wa[x.n] = x.t; }
    for (i = 0; i < (st.tg || []).length; i++) { x = st.tg[i]; tg[x.b.toLowerCase()] = x.p; }
    all();
  });
  // Links added later (menus, SPA views) are fixed when clicked.
  d.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[href]") : null;
    if (a) fix(a);
  }, true);
})(window, document);
