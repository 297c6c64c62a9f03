//! Messenger links in real headless Chromium: a studio's page (on another
//! origin) loads `t.js` (with the messenger plugin, `chats.js`) and has
//! WhatsApp links to a configured number (`wa.me`, `api.whatsapp.com`),
//! to a support number that is not configured, and Telegram links to the
//! configured bot (plain and with a payload of its own) and to another bot.
//! Checked: only the configured number's links get the page's greeting
//! with the visit-code marker, the bot's links get `?start=v<code>` within
//! 64 characters, everything else is untouched, and a link added after the
//! page view is fixed when clicked.
//!
//! Without Chromium the test prints a SKIPPED notice and passes, except
//! under CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used)]

#[path = "common/browser.rs"]
mod browser;
mod common;

use axum::http::{Method, StatusCode};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use common::TestServer;
use serde_json::{json, Value};

const PAGE: &str = r#"<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<title>Детская фотосессия</title>
<link rel="icon" href="data:,">
<script>
  window.__errors = [];
  window.addEventListener("error", function (e) { window.__errors.push(String(e.message || "error")); });
</script>
<script async src="__SKVOZ__/t.js" data-key="__KEY__"></script>
</head>
<body>
<h1>Детская фотосессия</h1>
<a id="wa" href="https://wa.me/74951234567">WhatsApp</a>
<a id="wa_text" href="https://wa.me/74951234567?text=Hello">WhatsApp (text)</a>
<a id="wa_api" href="https://api.whatsapp.com/send?phone=74951234567&text=Hi">WhatsApp (api)</a>
<a id="support" href="https://wa.me/74950000000?text=Support">Support line</a>
<a id="tg" href="https://t.me/photo_studio_bot">Telegram</a>
<a id="tg_promo" href="https://t.me/photo_studio_bot?start=promo">Telegram (promo)</a>
<a id="tg_other" href="https://t.me/someone_else_bot">Other bot</a>
<a id="site" href="/prices">Prices</a>
<pre id="out"></pre>
<script>
(function () {
  var finished = false;
  function hrefs() {
    var out = {};
    var ids = ["wa", "wa_text", "wa_api", "support", "tg", "tg_promo", "tg_other", "site", "late"];
    for (var i = 0; i < ids.length; i++) {
      var a = document.getElementById(ids[i]);
      if (a) out[ids[i]] = a.href;
    }
    return out;
  }
  function done(result) {
    if (finished) return;
    finished = true;
    result.errors = window.__errors;
    var json = JSON.stringify(result).replace(/[<>&]/g, function (c) {
      return "\\u00" + c.charCodeAt(0).toString(16);
    });
    document.getElementById("out").textContent = json;
    document.title = result.ok ? "ready" : "failed";
  }
  var timer = setInterval(function () {
    if (!(window.skvoz && window.skvoz.onReady)) return;
    clearInterval(timer);
    window.skvoz.onReady(function (s) {
      // A link added after the page view, fixed when clicked.
      var late = document.createElement("a");
      late.id = "late";
      late.href = "https://wa.me/74951234567";
      late.addEventListener("click", function (e) { e.preventDefault(); });
      document.body.appendChild(late);
      late.click();
      done({ ok: true, visitCode: s.visitCode, links: hrefs() });
    });
  }, 10);
  setTimeout(function () { done({ ok: false, why: "skvoz.onReady never fired" }); }, 9000);
})();
</script>
</body>
</html>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_are_rewritten_for_the_configured_number_and_bot_only() {
    let Some(chromium) = browser::chromium_or_skip("browser_chats") else {
        return;
    };
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    doc["messengers"] = json!({
        "whatsapp": {
            "numbers": [{"number": "+74951234567", "greeting": "Здравствуйте!",
                "pages": [{"pattern": "/kids*", "greeting": "Сколько стоит детская фотосессия?"}]}],
            "app_secret": "meta-app-secret"
        },
        "telegram": {"bots": [{"username": "photo_studio_bot", "secret_token": "tg-secret-token-0123456789"}]}
    });
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let skvoz = browser::serve(s.router.clone()).await;
    let skvoz_origin = format!("http://127.0.0.1:{}", skvoz.port());
    let page = PAGE
        .replace("__SKVOZ__", &skvoz_origin)
        .replace("__KEY__", &pk);
    let site = browser::serve(Router::new().route(
        "/kids/",
        get(move || {
            let page = page.clone();
            async move { Html(page) }
        }),
    ))
    .await;
    let site_origin = format!("http://localhost:{}", site.port());
    let url = format!("{site_origin}/kids/?utm_source=vk&utm_medium=social");

    let run = chromium.dump_dom(&url).await;
    assert!(
        run.status.success(),
        "chromium exited with {}; log tail:\n{}",
        run.status,
        run.stderr_tail(30)
    );
    let out_text = browser::element_text(&run.stdout, "out").unwrap_or_else(|| {
        panic!(
            "no #out in the DOM:\n{}\n{}",
            run.stdout,
            run.stderr_tail(30)
        )
    });
    let out: Value = serde_json::from_str(&out_text).unwrap();
    assert_eq!(out["ok"], true, "{out}\n{}", run.stderr_tail(30));
    assert_eq!(out["errors"], json!([]), "{out}");
    let code = out["visitCode"].as_i64().unwrap();
    let links = &out["links"];
    let text = "%D0%A1%D0%BA%D0%BE%D0%BB%D1%8C%D0%BA%D0%BE%20%D1%81%D1%82%D0%BE%D0%B8%D1%82%20%D0%B4%D0%B5%D1%82%D1%81%D0%BA%D0%B0%D1%8F%20%D1%84%D0%BE%D1%82%D0%BE%D1%81%D0%B5%D1%81%D1%81%D0%B8%D1%8F%3F%20ID%3A%20";
    let wa = format!("https://wa.me/74951234567?text={text}{code}");
    assert_eq!(links["wa"], wa, "{out}");
    assert_eq!(links["wa_text"], wa, "{out}");
    assert_eq!(
        links["wa_api"],
        format!("https://api.whatsapp.com/send?phone=74951234567&text={text}{code}"),
        "{out}"
    );
    assert_eq!(
        links["late"], wa,
        "a link added later is fixed on click: {out}"
    );
    // Not configured: untouched.
    assert_eq!(links["support"], "https://wa.me/74950000000?text=Support");
    assert_eq!(links["tg_other"], "https://t.me/someone_else_bot");
    assert_eq!(links["site"], format!("{site_origin}/prices"));
    // The bot: the payload, with the site's own payload kept in front.
    assert_eq!(
        links["tg"],
        format!("https://t.me/photo_studio_bot?start=v{code}")
    );
    assert_eq!(
        links["tg_promo"],
        format!("https://t.me/photo_studio_bot?start=promo-v{code}")
    );
    let payload = links["tg_promo"]
        .as_str()
        .unwrap()
        .split("start=")
        .nth(1)
        .unwrap();
    assert!(payload.len() <= 64);
    let console = run.console_messages(&[skvoz_origin, site_origin]);
    assert!(console.is_empty(), "console:\n{}", console.join("\n"));
}
