//! The dashboard in a real headless Chromium on the demo project: a
//! driver page (served by this test beside the real router) logs in
//! through the login form in a frame, opens every page (calls with their
//! recordings, chats, journeys holding calls and chats), checks that none
//! overflows a 375 px wide screen, switches the attribution model with the
//! `<select>` and sees the rows change; then every page is photographed at
//! 1280 and 375 px into `target/artifacts/dashboard-*.png`. No page may log
//! to the console (errors, failed loads).
//!
//! Without Chromium the test prints a SKIPPED notice and passes, except
//! under CI (`CI=true`), where it fails.

#![allow(clippy::unwrap_used)]

#[path = "common/browser.rs"]
mod browser;
mod common;

use axum::response::Html;
use axum::routing::get;
use common::TestServer;
use skvoz_app::demo::{generate, DemoOptions};

const PASSWORD: &str = "browser-test-password";

/// Pages opened and photographed.
const PAGES: &[(&str, &str)] = &[
    ("overview", "/"),
    ("overview-ru", "/?lang=ru"),
    ("channels", "/reports/channels"),
    (
        "channels-drill",
        "/reports/channels?f_channel=paid%20search",
    ),
    (
        "channels-models",
        "/reports/channels?model=last_non_direct&also=first_click&also=linear&compare=1",
    ),
    ("dynamics", "/reports/dynamics?compare=1"),
    ("funnel", "/reports/funnel"),
    ("leads", "/leads"),
    ("surveys", "/surveys"),
    ("contact", "/contacts/CONTACT"),
    ("calls", "/calls"),
    ("calls-ru", "/calls?lang=ru"),
    ("chats", "/chats"),
    ("chats-weeks", "/chats?granularity=week"),
    ("contact-call", "/contacts/CALLER"),
    ("contact-chat", "/contacts/CHATTER"),
    ("settings", "/settings"),
];

/// Logs in through the form in a frame, then walks the pages inside a
/// 375 px frame and switches the model; writes a JSON result into #out.
const DRIVER: &str = r#"<!doctype html><html><head><meta charset="utf-8"></head><body>
<iframe id="f" style="width:375px;height:700px;border:0"></iframe><pre id="out">pending</pre>
<script>
(async function () {
  const out = document.getElementById("out");
  const frame = document.getElementById("f");
  const res = { pages: {} };
  const loaded = () => new Promise(r => { frame.onload = () => r(frame.contentDocument); });
  const load = (url) => { const p = loaded(); frame.src = url; return p; };
  try {
    let doc = await load("/login?next=/");
    doc.getElementById("login").value = "admin";
    doc.getElementById("password").value = "PASSWORD";
    let p = loaded();
    doc.getElementById("login-submit").click();
    doc = await p;
    res.after_login = doc.location.pathname;
    res.kpi_visits = (doc.getElementById("kpi-visits") || {}).textContent;
    for (const url of PAGES) {
      doc = await load(url);
      res.pages[url] = {
        path: doc.location.pathname,
        h1: (doc.querySelector("h1") || {}).textContent,
        error: !!doc.getElementById("page-error"),
        width: doc.documentElement.scrollWidth,
        svg: doc.querySelectorAll("svg").length,
        timeline: Array.from(doc.querySelectorAll("ol.timeline li")).map(li => li.className),
        recordings: doc.querySelectorAll("a.recording").length,
      };
    }
    doc = await load("/reports/channels?model=last_non_direct");
    const before = doc.getElementById("report-rows").textContent;
    const sel = doc.getElementById("model-select");
    sel.value = "first_click";
    p = loaded();
    sel.dispatchEvent(new Event("change", { bubbles: true }));
    doc = await p;
    res.model_after = doc.getElementById("model-select").value;
    res.model_url = doc.location.search;
    res.rows_changed = before !== doc.getElementById("report-rows").textContent;
    res.rows_before = before.length;
  } catch (e) {
    res.failure = String(e && e.stack || e);
  }
  out.textContent = JSON.stringify(res);
})();
</script></body></html>"#;

/// Logs in with `fetch` (the session cookie lands in the browser), then
/// opens the page named in `?to=` — for screenshots of logged-in pages.
const SHOT: &str = r#"<!doctype html><html><head><meta charset="utf-8"></head><body><script>
fetch("/login", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: "login=admin&password=PASSWORD&next=/" })
  .then(() => location.replace(new URLSearchParams(location.search).get("to")));
</script></body></html>"#;

#[tokio::test]
async fn dashboard_in_headless_chromium() {
    let Some(chromium) = browser::chromium_or_skip("dashboard_in_headless_chromium") else {
        return;
    };
    let s = TestServer::new().await;
    let options = DemoOptions {
        visitors: 400,
        days: 40,
        ..Default::default()
    };
    let (created, _) = generate(&s.app, &options, &|_, _| {}).await.unwrap();
    s.app
        .auth
        .create_user("admin", PASSWORD, true)
        .await
        .unwrap();
    // A contact with a lead, for the journey page.
    let scope = skvoz_store::Scope::new(skvoz_domain::ProjectId(created.project_id));
    let now = chrono::Utc::now();
    let leads = s
        .store
        .leads_between(scope, now - chrono::Duration::days(60), now)
        .await
        .unwrap();
    let contact = leads
        .iter()
        .find_map(|l| l.contact_id)
        .expect("a demo contact");
    // Contacts whose timelines hold a call and a chat.
    let of_kind = |kind: skvoz_domain::crm::LeadKind| {
        leads
            .iter()
            .filter(|l| l.kind == kind)
            .find_map(|l| l.contact_id)
            .unwrap_or_else(|| panic!("a demo {kind:?} lead"))
    };
    let caller = of_kind(skvoz_domain::crm::LeadKind::Call);
    let chatter = of_kind(skvoz_domain::crm::LeadKind::Chat);
    let pages: Vec<(&str, String)> = PAGES
        .iter()
        .map(|(n, p)| {
            (
                *n,
                p.replace("CONTACT", &contact.to_string())
                    .replace("CALLER", &caller.to_string())
                    .replace("CHATTER", &chatter.to_string()),
            )
        })
        .collect();
    let list = serde_json::to_string(&pages.iter().map(|(_, p)| p).collect::<Vec<_>>()).unwrap();
    let driver = DRIVER.replace("PASSWORD", PASSWORD).replace("PAGES", &list);
    let shot = SHOT.replace("PASSWORD", PASSWORD);
    let router = s.router.clone().merge(
        axum::Router::new()
            .route("/__test/drive", get(move || async move { Html(driver) }))
            .route("/__test/shot", get(move || async move { Html(shot) })),
    );
    let addr = browser::serve(router).await;
    let origin = format!("http://{addr}");
    let origins = vec![origin.clone()];

    // 1. Log in, open every page at 375 px, switch the model.
    let run = chromium.dump_dom(&format!("{origin}/__test/drive")).await;
    assert!(
        run.status.success(),
        "chromium failed:\n{}",
        run.stderr_tail(30)
    );
    let text = browser::element_text(&run.stdout, "out").expect("the driver's output");
    let out: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("driver output {text:?}: {e}\n{}", run.stderr_tail(30)));
    assert!(out.get("failure").is_none(), "driver failed: {out}");
    assert_eq!(
        out["after_login"], "/",
        "the login form leads to the overview: {out}"
    );
    assert!(
        out["kpi_visits"]
            .as_str()
            .is_some_and(|v| v != "0" && !v.is_empty()),
        "the overview shows visits: {out}"
    );
    for (_, p) in &pages {
        let page = &out["pages"][p.as_str()];
        assert_eq!(page["error"], false, "{p} shows an error: {page}");
        let expected_path = p.split('?').next().unwrap();
        assert_eq!(
            page["path"], expected_path,
            "{p} was not shown (redirected?): {page}"
        );
        assert!(
            page["width"].as_i64().unwrap_or(9999) <= 375,
            "{p} overflows a 375 px screen: {page}"
        );
    }
    for p in [
        "/",
        "/reports/dynamics?compare=1",
        "/reports/funnel",
        "/calls",
        "/chats",
    ] {
        assert!(
            out["pages"][p]["svg"].as_i64().unwrap_or(0) >= 1,
            "{p} has a chart: {out}"
        );
    }
    // The calls list links recordings; the journeys show calls and chats.
    assert!(
        out["pages"]["/calls"]["recordings"].as_i64().unwrap_or(0) >= 1,
        "recordings on /calls: {out}"
    );
    for (contact, class) in [(caller, "ev-call"), (chatter, "ev-chat")] {
        let page = &out["pages"][format!("/contacts/{contact}").as_str()];
        assert!(
            page["timeline"]
                .as_array()
                .is_some_and(|t| t.iter().any(|c| c == class)),
            "{class} on the journey of {contact}: {page}"
        );
    }
    assert_eq!(out["model_after"], "first_click", "{out}");
    assert!(out["model_url"]
        .as_str()
        .unwrap_or("")
        .contains("model=first_click"));
    assert_eq!(
        out["rows_changed"], true,
        "switching the model changed the rows: {out}"
    );
    let console = run.console_messages(&origins);
    assert!(
        console.is_empty(),
        "console messages:\n{}",
        console.join("\n")
    );

    // 2. Screenshots of every page, wide and phone-sized.
    let dir = browser::artifacts_dir();
    for (name, page) in &pages {
        for (w, h) in [(1280, 900), (375, 812)] {
            let png = dir.join(format!("dashboard-{name}-{w}.png"));
            let _ = std::fs::remove_file(&png);
            let url = format!("{origin}/__test/shot?to={}", urlencode(page));
            let run = chromium.screenshot(&url, &png, w, h).await;
            assert!(
                run.status.success(),
                "screenshot {name}:\n{}",
                run.stderr_tail(30)
            );
            let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no {}: {e}", png.display()));
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 5000,
                "{name}: not a real PNG"
            );
            let console = run.console_messages(&origins);
            assert!(
                console.is_empty(),
                "{name} console:\n{}",
                console.join("\n")
            );
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
