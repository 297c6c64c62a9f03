/*! skvoz tracker — https://github.com/skvoz (AGPL-3.0). No dependencies. */
(function (w, d) {
  "use strict";
  if (w.skvoz && w.skvoz.loaded) return;
  // Calls made before the script arrived, through the stub of the snippet:
  // window.skvoz = {q: [["onReady", fn], ["event", name, props]], ...}.
  var early = (w.skvoz && w.skvoz.q) || [];
  var script = d.currentScript || (function () {
    var all = d.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) if (/\/t\.js(\?|$)/.test(all[i].src)) return all[i];
    return null;
  })();
  var cfg = w.skvozConfig || {};
  var attr = function (n) { return script ? script.getAttribute("data-" + n) : null; };
  var key = cfg.key || attr("key");
  var endpoint = (cfg.endpoint || attr("endpoint") || (script ? script.src.replace(/\/t\.js.*$/, "") : "")) + "/collect";
  var cookieDomain = cfg.cookieDomain || attr("cookie-domain");
  var YEAR = 31536000;

  function getCookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name.replace(/[.$?*|{}()[\]\\/+^]/g, "\\$&") + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, maxAge) {
    var c = name + "=" + encodeURIComponent(value) + "; path=/; max-age=" + maxAge + "; SameSite=Lax";
    if (cookieDomain) c += "; domain=" + cookieDomain;
    if (location.protocol === "https:") c += "; Secure";
    d.cookie = c;
  }
  function randomId() {
    var a = new Uint8Array(12), s = "";
    (w.crypto || w.msCrypto).getRandomValues(a);
    for (var i = 0; i < a.length; i++) s += ("0" + a[i].toString(16)).slice(-2);
    return s;
  }
  // _ga is "GA1.1.1234567890.1699999999": the client id is the last two parts.
  function gaClientId() {
    var ga = getCookie("_ga");
    if (!ga) return null;
    var p = ga.split(".");
    return p.length >= 4 ? p[p.length - 2] + "." + p[p.length - 1] : null;
  }
  function post(body, beacon) {
    var text = JSON.stringify(body);
    // text/plain keeps the request "simple": no CORS preflight.
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([text], { type: "text/plain" }))) {
      return Promise.resolve(null);
    }
    return fetch(endpoint, {
      method: "POST", body: text, keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain" }
    }).then(function (r) { return r.ok ? r.json() : null; });
  }

  var vid = getCookie("skvoz_vid") || randomId();
  setCookie("skvoz_vid", vid, 2 * YEAR);
  var readyQueue = [], plugins = [], state = null;

  function base() {
    var scr = w.screen || {};
    var tz = null;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
    return {
      key: key, vid: vid, url: location.href, title: d.title || null,
      screen: scr.width ? scr.width + "x" + scr.height : null,
      lang: navigator.language || null, tz: tz,
      ga_cid: gaClientId(), ym_uid: getCookie("_ym_uid")
    };
  }
  // A site's callback must not break the tracker, but its errors must still
  // reach the console.
  function callSite(cb) {
    try { cb(api); } catch (e) { setTimeout(function () { throw e; }, 0); }
  }
  function runPlugins() {
    for (var i = 0; i < plugins.length; i++) {
      try { plugins[i](state, api); } catch (e) { if (w.console) console.warn("skvoz plugin", e); }
    }
  }
  function pageview(referrer) {
    var body = base();
    body.referrer = referrer || null;
    return post(body, false).then(function (resp) {
      if (!resp) return;
      state = resp;
      if (resp.vid && resp.vid !== vid) { vid = resp.vid; setCookie("skvoz_vid", vid, 2 * YEAR); }
      api.visitCode = resp.visit_code;
      api.visitId = resp.visit_id;
      api.phone = resp.phone || null;
      runPlugins();
      var q = readyQueue; readyQueue = [];
      for (var i = 0; i < q.length; i++) callSite(q[i]);
      try { d.dispatchEvent(new CustomEvent("skvoz:ready", { detail: api })); } catch (e) { /* old browser */ }
    })["catch"](function () { /* tracking must never break the site */ });
  }

  var api = w.skvoz = {
    loaded: true,
    visitCode: null,
    visitId: null,
    phone: null,
    vid: function () { return vid; },
    /** Calls cb(skvoz) once the visit is known (at once if it already is). */
    onReady: function (cb) { if (state) callSite(cb); else readyQueue.push(cb); },
    /** Sends a custom event with optional properties. */
    event: function (name, props) {
      var body = base();
      body.event = String(name).slice(0, 100);
      body.props = props || null;
      post(body, true);
    },
    /** Registers a plugin run with (response, skvoz) after each page view:
     *  phone-number substitution and messenger links plug in here. */
    use: function (plugin) { plugins.push(plugin); if (state) { try { plugin(state, api); } catch (e) { /* isolate */ } } },
    /** The response of the latest page view. */
    state: function () { return state; }
  };

  // Single-page apps: a history change is a new page view with an internal referrer.
  var lastUrl = location.href;
  function onNavigate() {
    if (location.href === lastUrl) return;
    var prev = lastUrl; lastUrl = location.href;
    pageview(prev);
  }
  var push = history.pushState;
  if (push) {
    history.pushState = function () { var r = push.apply(this, arguments); onNavigate(); return r; };
    w.addEventListener("popstate", onNavigate);
  }

  for (var e = 0; e < early.length; e++) {
    var call = early[e];
    if (call && typeof api[call[0]] === "function") api[call[0]].apply(api, Array.prototype.slice.call(call, 1));
  }
  if (!key) { if (w.console) console.warn("skvoz: no data-key on the tracker script"); return; }
  pageview(d.referrer);
})(window, document);
