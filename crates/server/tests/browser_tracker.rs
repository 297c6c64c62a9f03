//! The site script (`t.js`) in real headless Chromium, cross-site: skvoz
//! serves the script and `/collect` on `127.0.0.1:<port>`, a second server
//! serves a shop's landing page on `localhost:<other port>` that loads the
//! script `async`, waits for `skvoz.onReady`, sends a custom event and
//! prints what it saw. Checked: the `skvoz_vid` cookie is set, the visit is
//! stored with its UTM tags and the browser's device, the visit code is
//! exposed, the event lands in the same visit, and the page logs no errors.
//! A screenshot goes to `target/artifacts/browser_tracker.png`.
//!
//! Without Chromium the test prints a SKIPPED notice and passes, except
//! under CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used)]

#[path = "common/browser.rs"]
mod browser;
mod common;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use common::TestServer;
use serde_json::Value;
use skvoz_domain::traffic::device::UNKNOWN;
use skvoz_domain::traffic::DeviceType;
use skvoz_store::Scope;
use std::time::{Duration, Instant};

/// The shop's landing page. `__SKVOZ__` is the tracker's origin and
/// `__KEY__` the project's public key.
const LANDING: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Winter boots sale</title>
<link rel="icon" href="data:,">
<script>
  window.__errors = [];
  window.addEventListener("error", function (e) { window.__errors.push(String(e.message || "error")); });
  window.addEventListener("unhandledrejection", function (e) { window.__errors.push("unhandled rejection: " + String(e.reason)); });
</script>
<script async src="__SKVOZ__/t.js" data-key="__KEY__"></script>
<style>
  body { font: 18px/1.5 sans-serif; margin: 40px; color: #222; }
  .code { font-size: 48px; font-weight: bold; color: #0a6; }
  pre { white-space: pre-wrap; word-break: break-all; background: #f4f4f4; padding: 12px; font-size: 13px; }
</style>
</head>
<body>
<h1>Winter boots sale</h1>
<p>Call us: <a class="phone" href="tel:+74951234567">+7 (495) 123-45-67</a></p>
<p>Write to us: <a id="tg" href="https://t.me/skvoz_test_bot">Telegram</a> ·
  <a id="wa" href="https://wa.me/74951234567?text=Hello">WhatsApp</a></p>
<p>Visit code: <span id="code" class="code">…</span></p>
<pre id="out"></pre>
<script>
(function () {
  var finished = false;
  function done(result) {
    if (finished) return;
    finished = true;
    result.errors = window.__errors;
    result.href = location.href;
    result.ua = navigator.userAgent;
    // No <, > or & in the text: the dumped DOM then reads back verbatim.
    var json = JSON.stringify(result).replace(/[<>&]/g, function (c) {
      return "\\u00" + c.charCodeAt(0).toString(16);
    });
    document.getElementById("out").textContent = json;
    document.title = result.ok ? "ready" : "failed";
  }
  // The script loads async: window.skvoz may not exist yet.
  var started = Date.now();
  var timer = setInterval(function () {
    if (!(window.skvoz && window.skvoz.onReady)) {
      if (Date.now() - started > 8000) {
        clearInterval(timer);
        done({ ok: false, why: "window.skvoz never appeared" });
      }
      return;
    }
    clearInterval(timer);
    window.skvoz.onReady(function (s) {
      document.getElementById("code").textContent = String(s.visitCode);
      s.event("cart_add", { sku: "A1" });
      done({
        ok: true, visitCode: s.visitCode, visitId: s.visitId, vid: s.vid(),
        phone: s.phone, cookie: document.cookie
      });
    });
  }, 10);
  setTimeout(function () { done({ ok: false, why: "skvoz.onReady never fired" }); }, 9000);
})();
</script>
</body>
</html>
"#;

const UTM: &str = "utm_source=Test&utm_medium=cpc&utm_campaign=Browser&utm_term=boots";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_in_headless_chromium_sets_the_cookie_stores_the_visit_and_exposes_the_code() {
    let Some(chromium) = browser::chromium_or_skip("browser_tracker") else {
        return;
    };
    let test_started = Instant::now();

    // skvoz on one origin, the shop on another (other host name and port).
    let s = TestServer::new().await;
    let (project, created) = s.app.projects.create("shop", None, None).await.unwrap();
    let scope = Scope::new(project.id);
    let skvoz = browser::serve(s.router.clone()).await;
    let skvoz_origin = format!("http://127.0.0.1:{}", skvoz.port());
    let page = LANDING
        .replace("__SKVOZ__", &skvoz_origin)
        .replace("__KEY__", &created.public_key);
    let site = browser::serve(Router::new().route(
        "/landing.html",
        get(move || {
            let page = page.clone();
            async move { Html(page) }
        }),
    ))
    .await;
    let site_origin = format!("http://localhost:{}", site.port());
    let url = format!("{site_origin}/landing.html?{UTM}");
    let origins = [skvoz_origin.clone(), site_origin.clone()];

    // 1. Load the page and read what it printed.
    let run = chromium.dump_dom(&url).await;
    assert!(
        run.status.success(),
        "chromium exited with {}; log tail:\n{}",
        run.status,
        run.stderr_tail(30)
    );
    let out_text = browser::element_text(&run.stdout, "out").unwrap_or_else(|| {
        panic!(
            "no #out in the dumped DOM:\n{}\nlog tail:\n{}",
            run.stdout,
            run.stderr_tail(30)
        )
    });
    let out: Value = serde_json::from_str(&out_text).unwrap_or_else(|e| {
        panic!(
            "#out is not JSON ({e}): {out_text:?}\nlog tail:\n{}",
            run.stderr_tail(30)
        )
    });
    assert_eq!(
        out["ok"],
        true,
        "the page did not get ready: {out}\nlog tail:\n{}",
        run.stderr_tail(30)
    );
    assert!(
        run.stdout.contains("<title>ready</title>"),
        "title not set: {}",
        run.stdout
    );

    // No errors: neither caught by the page nor logged to the console.
    assert_eq!(out["errors"], serde_json::json!([]), "page errors: {out}");
    let console = run.console_messages(&origins);
    assert!(
        console.is_empty(),
        "console messages from the page or the script:\n{}",
        console.join("\n")
    );

    // The visit code is exposed, and the cookie is set.
    let code = out["visitCode"].as_i64().unwrap_or(0);
    assert!(code > 0, "visit code is not a positive integer: {out}");
    let cookies = out["cookie"].as_str().unwrap_or_default();
    assert!(
        cookies.contains("skvoz_vid="),
        "no skvoz_vid cookie: {cookies:?}"
    );
    let cookie_vid = browser::cookie_value(cookies, "skvoz_vid").unwrap();
    assert!(!cookie_vid.is_empty());
    assert_eq!(out["vid"].as_str(), Some(cookie_vid.as_str()), "{out}");

    // 2. The visit as stored.
    let visit = s
        .store
        .visit_by_code(scope, code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no visit with code {code}"));
    assert_eq!(out["visitId"].as_i64(), Some(visit.id), "{out}");
    assert_eq!(visit.vid, cookie_vid, "the stored vid is the cookie's");
    assert_eq!(visit.source.source, "test");
    assert_eq!(visit.source.medium, "cpc");
    assert_eq!(visit.source.campaign.as_deref(), Some("browser"));
    assert_eq!(visit.source.term.as_deref(), Some("boots"));
    assert!(
        visit.landing.contains("utm_source=Test"),
        "landing {}",
        visit.landing
    );
    assert!(
        visit.landing.starts_with(&site_origin),
        "landing {}",
        visit.landing
    );
    let ua = out["ua"].as_str().unwrap_or_default();
    assert!(ua.contains("HeadlessChrome"), "user agent {ua}");
    assert!(!visit.device.is_bot, "HeadlessChrome is not a bot: {ua}");
    assert_eq!(visit.device.browser, "Chrome", "user agent {ua}");
    assert_ne!(visit.device.os, UNKNOWN, "user agent {ua}");
    assert_eq!(visit.device.device_type, DeviceType::Desktop, "{ua}");
    assert!(visit.screen.is_some(), "screen size not sent");
    assert!(visit.lang.is_some(), "language not sent");
    assert!(visit.tz.is_some(), "time zone not sent");

    // 3. The event (sent with sendBeacon) lands in the same visit.
    let deadline = Instant::now() + Duration::from_secs(5);
    let hits = loop {
        let hits = s.store.hits_of_visit(scope, visit.id).await.unwrap();
        if hits.iter().any(|h| h.event.as_deref() == Some("cart_add")) || Instant::now() > deadline
        {
            break hits;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let event = hits
        .iter()
        .find(|h| h.event.as_deref() == Some("cart_add"))
        .unwrap_or_else(|| panic!("no cart_add hit in visit {}: {hits:?}", visit.id));
    let props: Value = serde_json::from_str(event.props.as_deref().unwrap_or("null")).unwrap();
    assert_eq!(props["sku"], "A1", "{event:?}");
    assert_eq!(hits.len(), 2, "one page view and one event: {hits:?}");
    let pageview = hits
        .iter()
        .find(|h| h.event.is_none())
        .unwrap_or_else(|| panic!("no page view in visit {}: {hits:?}", visit.id));
    assert_eq!(pageview.title.as_deref(), Some("Winter boots sale"));
    assert!(pageview.url.contains("utm_term=boots"), "{}", pageview.url);
    let dom_run = run.elapsed;

    // 4. A screenshot of the same page, as a CI artifact.
    let png = browser::artifacts_dir().join("browser_tracker.png");
    let _ = std::fs::remove_file(&png);
    let shot = chromium.screenshot(&url, &png, 1280, 800).await;
    assert!(
        shot.status.success(),
        "chromium (screenshot) exited with {}; log tail:\n{}",
        shot.status,
        shot.stderr_tail(30)
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}); log tail:\n{}",
            png.display(),
            shot.stderr_tail(30)
        )
    });
    assert!(
        bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {} bytes at {}",
        bytes.len(),
        png.display()
    );
    let console = shot.console_messages(&origins);
    assert!(
        console.is_empty(),
        "console messages (screenshot run):\n{}",
        console.join("\n")
    );

    eprintln!(
        "browser_tracker: visit code {code}, vid {cookie_vid}; chromium {:?} (DOM) + {:?} (screenshot), {:?} in all; screenshot {}",
        dom_run,
        shot.elapsed,
        test_started.elapsed(),
        png.display()
    );
}
