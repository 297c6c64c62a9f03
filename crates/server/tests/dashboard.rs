//! The dashboard pages through the real router (`oneshot`) on the demo
//! data set: logged-out redirects, every page in Russian and English, the
//! login form's errors in place, the model switcher changing the numbers,
//! drill-down, CSV export, the settings forms (errors in place, a project
//! created, a key rotated and working), admin-only changes, and projects
//! isolated from each other; the calls and chats pages show the numbers
//! the JSON API gives for the same period, the contact page is the app's
//! timeline (calls with recordings, chats, tickets), and the settings list
//! pools, messenger numbers and every integration's webhook URL.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Reply, TestServer};
use skvoz_app::demo::{generate, DemoOptions};

/// `?from=` covering the whole demo (40 days back).
fn since() -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(45)).to_string()
}

const PASSWORD: &str = "correct horse battery";

/// The pages every user sees.
const PAGES: &[&str] = &[
    "/",
    "/reports/channels",
    "/reports/dynamics",
    "/reports/funnel",
    "/leads",
    "/calls",
    "/chats",
    "/outbox",
    "/surveys",
    "/settings",
];

struct Fixture {
    s: TestServer,
    /// The admin's session cookie.
    admin: String,
    /// The demo project's id.
    demo: i64,
    /// The demo project's API key.
    key: String,
}

async fn fixture() -> Fixture {
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
    let admin = login(&s, "admin", PASSWORD).await;
    Fixture {
        s,
        admin,
        demo: created.project_id,
        key: created.api_key,
    }
}

/// Logs in through the form; returns the `Cookie` header value.
async fn login(s: &TestServer, user: &str, password: &str) -> String {
    let r = form(
        s,
        "/login",
        None,
        &format!("login={user}&password={}&next=/", enc(password)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

fn enc(s: &str) -> String {
    s.replace(' ', "+")
}

/// `GET uri` of the JSON API with the demo project's key; must be 200.
async fn api_get(f: &Fixture, uri: &str) -> Reply {
    let r = f.s.call(Method::GET, uri, Some(&f.key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
    r
}

/// Posts the settings document `doc` (JSON) of the demo project through
/// the editor's form.
async fn save_document(f: &Fixture, doc: &str) -> Reply {
    let encoded: String = doc
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    form(
        &f.s,
        &format!("/settings/document?project={}", f.demo),
        Some(f.admin.as_str()),
        &format!("document={encoded}"),
    )
    .await
}

async fn get(s: &TestServer, uri: &str, cookie: Option<&str>, lang: &str) -> Reply {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(header::ACCEPT_LANGUAGE, lang);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    s.send(b.body(Body::empty()).unwrap()).await
}

async fn form(s: &TestServer, uri: &str, cookie: Option<&str>, body: &str) -> Reply {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT_LANGUAGE, "en");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    s.send(b.body(Body::from(body.to_owned())).unwrap()).await
}

fn is_html(r: &Reply) -> bool {
    r.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The text of the element with `id` (up to its first closing tag).
fn element<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let open = at + html[at..].find('>').unwrap() + 1;
    let close = open + html[open..].find("</").unwrap();
    &html[open..close]
}

/// The inner HTML of `<tbody id="report-rows">`.
fn report_rows(html: &str) -> &str {
    let at = html.find("id=\"report-rows\"").expect("report rows");
    let end = at + html[at..].find("</tbody>").unwrap();
    &html[at..end]
}

#[tokio::test]
async fn logged_out_pages_redirect_to_login_and_come_back() {
    let f = fixture().await;
    for page in PAGES
        .iter()
        .chain(&["/contacts/1", "/reports/channels.csv"])
    {
        let r = get(&f.s, page, None, "ru").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        let to = r.headers.get(header::LOCATION).unwrap().to_str().unwrap();
        assert!(to.starts_with("/login?next="), "{page} → {to}");
    }
    // A stale session cookie is the same as none.
    let r = get(&f.s, "/", Some("skvoz_session=nope"), "ru").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The login page, in the browser's language.
    let r = get(&f.s, "/login?next=/leads", None, "ru-RU,ru;q=0.9").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Войти") && r.text.contains("value=\"/leads\""));
    let r = get(&f.s, "/login", None, "en-US").await;
    assert!(r.text.contains("Log in") && r.text.contains("lang=\"en\""));
    // After login the form goes back where it was asked to; never off-site.
    let r = form(
        &f.s,
        "/login",
        None,
        &format!("login=admin&password={}&next=/leads", enc(PASSWORD)),
    )
    .await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/leads");
    let r = form(
        &f.s,
        "/login",
        None,
        &format!(
            "login=admin&password={}&next=//evil.example/",
            enc(PASSWORD)
        ),
    )
    .await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/");
    // Regression: a `next` that is not a valid header value (decoded
    // non-ASCII, a tab) must not break the redirect.
    for next in ["/%D1%86", "/%09/evil.example"] {
        let body = format!("login=admin&password={}&next={next}", enc(PASSWORD));
        let r = form(&f.s, "/login", None, &body).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/");
    }
    let r = get(&f.s, "/lang?set=en&back=/%D1%86", None, "ru").await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/");
}

#[tokio::test]
async fn login_form_shows_errors_in_place() {
    let f = fixture().await;
    let r = form(&f.s, "/login", None, "login=&password=").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_html(&r), "the form again, not JSON");
    assert_eq!(element(&r.text, "error-login"), "This field is required");
    assert_eq!(element(&r.text, "error-password"), "This field is required");
    assert!(r.text.contains("aria-invalid=\"true\""));
    let r = form(&f.s, "/login", None, "login=admin&password=wrong+password").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        element(&r.text, "error-password"),
        "Wrong login or password"
    );
    // The login typed is kept, escaped.
    let r = form(&f.s, "/login", None, "login=%3Cb%3Ex&password=").await;
    assert!(r.text.contains("value=\"&lt;b&gt;x\""), "{}", r.text);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    // A form posted from another site is refused.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "skvoz.example")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(format!(
            "login=admin&password={}",
            enc(PASSWORD)
        )))
        .unwrap();
    let r = f.s.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn every_page_renders_in_russian_and_english() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let expect: &[(&str, &str, &str)] = &[
        ("/", "Визиты по каналам", "Visits by channel"),
        ("/reports/channels", "Последний непрямой", "Last non-direct"),
        ("/reports/dynamics", "Показатель", "Metric"),
        ("/reports/funnel", "От предыдущего", "From the previous"),
        ("/leads", "Клиент", "Contact"),
        ("/calls", "Пулы номеров", "Number pools"),
        ("/chats", "По мессенджерам", "By messenger"),
        ("/settings", "Счётчик для сайта", "The site tracker"),
    ];
    for (page, ru, en) in expect {
        let r = get(&f.s, page, c, "ru").await;
        assert_eq!(r.status, StatusCode::OK, "{page}: {}", r.text);
        assert!(is_html(&r));
        assert!(r.text.contains(ru), "{page} ru lacks {ru}");
        assert!(r.text.contains("<html lang=\"ru\">"));
        let r = get(&f.s, page, c, "en-GB,en").await;
        assert!(r.text.contains(en), "{page} en lacks {en}");
        assert!(!r.text.contains(ru), "{page} en still has {ru}");
        // `?lang=` wins over the browser's language.
        let sep = if page.contains('?') { '&' } else { '?' };
        let r = get(&f.s, &format!("{page}{sep}lang=ru"), c, "en").await;
        assert!(r.text.contains(ru), "{page}?lang=ru");
    }
    // The overview has its figures and charts.
    let r = get(&f.s, "/", c, "en").await;
    for id in [
        "kpi-visits",
        "kpi-leads",
        "kpi-sales",
        "kpi-revenue",
        "kpi-cost",
        "kpi-roi",
    ] {
        assert!(!element(&r.text, id).is_empty(), "{id}");
    }
    assert_ne!(element(&r.text, "kpi-visits"), "0", "the demo has visits");
    assert!(r.text.contains("id=\"trend-chart\"") && r.text.contains("<polyline"));
    assert!(r.text.contains("id=\"share-visits\"") && r.text.contains("id=\"share-revenue\""));
    assert!(r.text.contains("id=\"overview-funnel\""));
    let r = get(&f.s, "/reports/funnel", c, "en").await;
    assert!(r.text.contains("id=\"funnel-chart\""));
    // The language switcher remembers the choice.
    let r = get(&f.s, "/lang?set=en&back=/leads", c, "ru").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/leads");
    let set = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(set.starts_with("skvoz_lang=en"));
    let both = format!("{}; skvoz_lang=en", f.admin);
    let r = get(&f.s, "/leads", Some(&both), "ru").await;
    assert!(r.text.contains("<html lang=\"en\">"));
}

#[tokio::test]
async fn the_model_switcher_changes_the_numbers() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let base = format!("/reports/channels?from={}", since());
    let lnd = get(&f.s, &format!("{base}&model=last_non_direct"), c, "en").await;
    let first = get(&f.s, &format!("{base}&model=first_click"), c, "en").await;
    assert_eq!(lnd.status, StatusCode::OK, "{}", lnd.text);
    assert_ne!(
        report_rows(&lnd.text),
        report_rows(&first.text),
        "rows differ by model"
    );
    // Totals reconcile whatever the model.
    assert_eq!(
        element(&lnd.text, "total-revenue"),
        element(&first.text, "total-revenue")
    );
    assert!(first
        .text
        .contains("<option value=\"first_click\" selected>"));
    assert!(element(&first.text, "model-help").contains("first visit"));
    // The data-driven models are selectable, each with its line of help,
    // and hand out the same totals.
    for (model, help) in [
        ("markov", "removal effect"),
        ("markov_path", "skvoz variant"),
        ("shapley", "Shapley values"),
    ] {
        assert!(first.text.contains(&format!("<option value=\"{model}\"")));
        let r = get(&f.s, &format!("{base}&model={model}"), c, "en").await;
        assert_eq!(r.status, StatusCode::OK, "{model}: {}", r.text);
        assert!(
            r.text
                .contains(&format!("<option value=\"{model}\" selected>")),
            "{model}"
        );
        assert!(element(&r.text, "model-help").contains(help), "{model}");
        assert_eq!(
            element(&r.text, "total-revenue"),
            element(&first.text, "total-revenue"),
            "{model}"
        );
    }
    // Several models side by side: a column group per model.
    let r = get(
        &f.s,
        &format!("{base}&model=last_non_direct&also=first_click&also=linear"),
        c,
        "en",
    )
    .await;
    assert!(
        r.text.contains("class=\"model\">First click<")
            && r.text.contains("class=\"model\">Linear<")
    );
    assert!(r.text.contains("id=\"total-revenue-linear\""));
    // Comparison with the previous period shows changes.
    let r = get(&f.s, "/reports/channels?compare=1", c, "en").await;
    assert!(r.text.contains("class=\"change "), "changes shown");
    // A wrong model is an error page naming the parameter, not a 500.
    let r = get(&f.s, "/reports/channels?model=nope", c, "en").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(element(&r.text, "page-error").contains("model"));
    let r = get(&f.s, "/reports/channels?from=yesterday", c, "en").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(element(&r.text, "page-error").contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn drill_down_and_csv_export() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let top = get(
        &f.s,
        &format!("/reports/channels?from={}", since()),
        c,
        "en",
    )
    .await;
    // The first drill link: a channel.
    let at = top.text.find("class=\"drill\"").expect("drill links");
    let href_at = top.text[..at].rfind("href=\"").unwrap() + 6;
    let href = &top.text[href_at..at - 2];
    let href = href.replace("&amp;", "&");
    assert!(href.contains("f_channel="), "{href}");
    let r = get(&f.s, &href, c, "en").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("<tr><th>Source</th>"),
        "next level is the source"
    );
    assert!(element(&r.text, "crumbs").contains("All channels"));
    // The subtotal line is the channel's row of the level above.
    assert!(r.text.contains("id=\"total-visits\""));
    // CSV of what the page shows, with the session (no API key).
    let csv_href = href.replace("/reports/channels?", "/reports/channels.csv?");
    let r = get(&f.s, &csv_href, c, "en").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .headers
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut lines = r.text.lines();
    assert!(
        lines.next().unwrap().starts_with("channel,source,"),
        "header"
    );
    let channel = href
        .split("f_channel=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .replace("%20", " ")
        .replace('+', " ");
    let rest: Vec<&str> = lines.collect();
    assert!(!rest.is_empty());
    for l in rest {
        assert!(
            l.starts_with(&channel) || l.starts_with(&format!("\"{channel}")),
            "{l} not of {channel}"
        );
    }
    let all = get(
        &f.s,
        &format!("/reports/channels.csv?from={}", since()),
        c,
        "en",
    )
    .await;
    assert!(all.text.lines().last().unwrap().starts_with("(total)"));
}

#[tokio::test]
async fn contact_journey_and_isolation() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let leads = get(&f.s, &format!("/leads?from={}", since()), c, "en").await;
    assert_eq!(leads.status, StatusCode::OK);
    let at = leads
        .text
        .find("href=\"/contacts/")
        .expect("a contact link");
    let rest = &leads.text[at + 6..];
    let link = rest[..rest.find('"').unwrap()].replace("&amp;", "&");
    let r = get(&f.s, &link, c, "en").await;
    assert_eq!(r.status, StatusCode::OK, "{link}");
    let timeline = element(&r.text, "timeline");
    assert!(timeline.contains("<time") || r.text.contains("class=\"ev-form\""));
    assert!(
        r.text.contains("class=\"ev-form\""),
        "the lead is on the timeline"
    );
    assert!(r.text.contains("class=\"ev-deal\""), "its deal too");
    // Another project does not see this contact.
    let (other, _, _) = f.s.project("other").await;
    let id = link
        .trim_start_matches("/contacts/")
        .split('?')
        .next()
        .unwrap();
    let r = get(&f.s, &format!("/contacts/{id}?project={other}"), c, "en").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(is_html(&r));
    let r = get(
        &f.s,
        &format!("/leads?from={}&project={other}", since()),
        c,
        "en",
    )
    .await;
    assert!(r.text.contains("No data for the period") && !r.text.contains("href=\"/contacts/"));
    let r = get(&f.s, &format!("/reports/channels?project={other}"), c, "en").await;
    assert!(r.text.contains("No data for the period"));
    let r = get(
        &f.s,
        &format!("/reports/channels.csv?project={other}"),
        c,
        "en",
    )
    .await;
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 2, "header and an empty total only: {}", r.text);
    assert!(lines[1].starts_with("(total),0,"), "{}", lines[1]);
    let demo_csv = get(
        &f.s,
        &format!("/reports/channels.csv?project={}", f.demo),
        c,
        "en",
    )
    .await;
    assert!(
        demo_csv.text.lines().count() > 2,
        "the demo's own CSV has rows"
    );
    let r = get(&f.s, "/contacts/abc", c, "en").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn settings_forms_validate_and_work() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let r = get(&f.s, &format!("/settings?project={}", f.demo), c, "en").await;
    assert!(element(&r.text, "snippet").contains("/t.js"));
    assert!(
        r.text.contains("/hooks/")
            && r.text.contains("/amocrm?secret=")
            && r.text.contains("/bitrix24")
    );
    assert!(r.text.contains("/export/alytics/0/"));
    assert!(r.text.contains("id=\"channel-rules\""));
    // Create a project: errors in place, then success with the key once.
    let r = form(&f.s, "/settings/projects", c, "name=&timezone=&currency=").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(element(&r.text, "error-name"), "This field is required");
    let r = form(
        &f.s,
        "/settings/projects",
        c,
        "name=shop&timezone=Mars%2FOlympus&currency=",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!element(&r.text, "error-timezone").is_empty());
    assert!(r.text.contains("value=\"Mars/Olympus\""), "values kept");
    let r = form(&f.s, "/settings/projects", c, "name=demo").await;
    assert_eq!(
        element(&r.text, "error-name"),
        "A project with this name exists"
    );
    let r = form(
        &f.s,
        "/settings/projects",
        c,
        "name=shop&timezone=Asia%2FYekaterinburg&currency=usd",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let key = element(&r.text, "one-time-secret").to_owned();
    let api =
        f.s.call(Method::GET, "/api/v1/project", Some(&key), None)
            .await;
    assert_eq!(api.body["name"], "shop", "the key shown works");
    // Rotate the demo key: the new one works.
    let r = form(
        &f.s,
        &format!("/settings/api-key?project={}", f.demo),
        c,
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let key = element(&r.text, "one-time-secret").to_owned();
    let api =
        f.s.call(Method::GET, "/api/v1/project", Some(&key), None)
            .await;
    assert_eq!(api.body["name"], "demo");
    // The settings document: a bad field is named next to the editor.
    let r = form(
        &f.s,
        &format!("/settings/document?project={}", f.demo),
        c,
        "version=1&document=%7Bnot+json",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("id=\"error-document\"") && r.text.contains("This is not JSON"));
    let r = save_document(&f, r#"{"attribution": {"default_model": "nope"}}"#).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("<code>attribution.default_model</code>"),
        "{}",
        r.text
    );
    let r = save_document(&f, r#"{"attribution": {"default_model": "first_click"}}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"notice\""));
    let r = get(
        &f.s,
        &format!("/reports/channels?project={}", f.demo),
        c,
        "en",
    )
    .await;
    assert!(
        r.text.contains("<option value=\"first_click\" selected>"),
        "the new default model applies"
    );
}

#[tokio::test]
async fn only_administrators_change_settings() {
    let f = fixture().await;
    f.s.app
        .auth
        .create_user("viewer", PASSWORD, false)
        .await
        .unwrap();
    let viewer = login(&f.s, "viewer", PASSWORD).await;
    let c = Some(viewer.as_str());
    let r = get(&f.s, "/settings", c, "en").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("id=\"rotate-key\"") && !r.text.contains("id=\"new-project\""));
    assert!(r.text.contains("?secret=SECRET"), "no secrets for viewers");
    for (uri, body) in [
        ("/settings/projects", "name=x"),
        ("/settings/api-key", ""),
        ("/settings/document", "document=%7B%7D"),
    ] {
        let r = form(&f.s, uri, c, body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
    }
    assert!(f.s.app.projects.by_name("x").await.unwrap().is_none());
    // Logging out ends the session.
    let r = form(&f.s, "/logout", c, "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = get(&f.s, "/", c, "en").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

/// `1234` as English pages write counts: `1,234`.
fn en_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every table of the page scrolls inside its own box (375 px screens).
fn tables_are_wrapped(html: &str) {
    assert!(html.contains("name=\"viewport\" content=\"width=device-width"));
    let tables = html.matches("<table").count();
    let wrapped = html.matches("class=\"table-wrap\"><table").count();
    assert!(tables > 0);
    assert_eq!(tables, wrapped, "a bare table would overflow 375 px");
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

#[tokio::test]
async fn the_calls_page_shows_what_the_calls_api_counts() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    // The page's period is the project's local days; ask the API for the
    // same days (its `to` includes its day too).
    let to = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let period = format!("from={}&to={to}", since());
    // Enough calls for a second page (the demo alone makes a few dozen).
    for i in 0..30 {
        let call =
            f.s.call(
                Method::POST,
                "/api/v1/calls",
                Some(&f.key),
                Some(serde_json::json!({
                    "id": format!("paging-{i}"), "caller": format!("+7999555{i:04}"),
                    "called": "+74957770201", "duration": 40 + i, "answered": i % 3 != 0,
                    "started_at": (chrono::Utc::now() - chrono::Duration::hours(i)).to_rfc3339(),
                })),
            )
            .await;
        assert_eq!(call.status, StatusCode::OK, "{}", call.text);
    }
    let api = api_get(&f, &format!("/api/v1/calls?{period}&limit=10000")).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    let totals = &api.body["totals"];
    let total = totals["calls"].as_u64().unwrap();
    assert!(total > 50, "the demo's calls and ours: {totals}");
    let r = get(&f.s, &format!("/calls?{period}"), c, "en").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (id, field) in [
        ("calls-total", "calls"),
        ("calls-target", "target"),
        ("calls-unique", "unique"),
        ("calls-missed", "missed"),
    ] {
        assert_eq!(
            element(&r.text, id),
            en_count(totals[field].as_u64().unwrap()),
            "{id}"
        );
    }
    let shared = totals["shared_visit_rate"].as_f64().unwrap() * 100.0;
    assert_eq!(
        element(&r.text, "calls-shared"),
        format!("{shared:.1}\u{a0}%")
    );
    assert!(r.text.contains("id=\"calls-chart\"") && r.text.contains("<polyline"));
    // The newest call first, its caller masked, never in clear.
    let newest = &api.body["calls"][0];
    let caller = newest["caller"].as_str().unwrap();
    let rows = r.text[r.text.find("id=\"calls-table\"").unwrap()..].to_owned();
    assert!(!rows.contains(caller), "caller {caller} shown in clear");
    assert!(
        rows.contains(&format!("{}•••", &caller[..5])),
        "masked {caller}"
    );
    // Recordings are links and players; the demo records answered calls.
    assert!(rows.contains("<audio controls preload=\"none\" src=\"https://pbx.example.ru/rec/"));
    assert!(rows.contains("class=\"recording\" href=\"https://pbx.example.ru/rec/"));
    assert!(
        rows.contains("href=\"/contacts/"),
        "calls link their contacts"
    );
    // Paging: 50 a page.
    let first_page = rows.matches("<tr><td>").count() as u64;
    assert_eq!(first_page, total.min(50), "{totals}");
    let page2 = get(&f.s, &format!("/calls?{period}&page=2"), c, "en").await;
    assert_eq!(page2.status, StatusCode::OK);
    let rows2 = &page2.text[page2.text.find("id=\"calls-table\"").unwrap()..];
    assert_eq!(
        rows2.matches("<tr><td>").count() as u64,
        (total - 50).min(50)
    );
    assert!(page2.text.contains("<b>2</b>"), "page 2 is the current one");
    let row_set =
        |html: &str| -> Vec<String> { html.split("<tr><td>").skip(1).map(str::to_owned).collect() };
    let first_rows = row_set(&rows);
    assert!(
        row_set(rows2).iter().all(|r| !first_rows.contains(r)),
        "pages do not repeat calls"
    );
    // Pools: status of each, the sizing advice the API gives.
    let sizing = api_get(&f, "/api/v1/callpools/ads/sizing?days=7").await;
    assert_eq!(sizing.status, StatusCode::OK, "{}", sizing.text);
    let at = r.text.find("id=\"pool-ads\"").expect("the ads pool");
    let pool = &r.text[at..at + r.text[at..].find("</tr>").unwrap()];
    assert!(
        pool.contains(&format!(
            "data-recommended=\"{}\"",
            sizing.body["recommended"]
        )),
        "{pool}"
    );
    assert!(
        pool.contains("\">8</td>") && pool.contains(" / 8<"),
        "eight numbers: {pool}"
    );
    assert!(r.text.contains("id=\"pool-print\"") && r.text.contains("gazeta"));
    tables_are_wrapped(&r.text);
    // Russian labels.
    let ru = get(&f.s, &format!("/calls?{period}"), c, "ru").await;
    assert!(ru.text.contains("Целевые") && ru.text.contains("Запись"));
    // A bad date is an error in place, not a 500.
    let bad = get(&f.s, "/calls?from=2026-13-01", c, "en").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another project sees none of it.
    let (other, _, _) = f.s.project("other").await;
    let r = get(&f.s, &format!("/calls?{period}&project={other}"), c, "en").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(element(&r.text, "calls-total"), "0");
    assert!(!r.text.contains("pbx.example.ru") && !r.text.contains("id=\"pool-ads\""));
    assert!(r.text.contains("No number pools"));
}

#[tokio::test]
async fn the_chats_page_shows_the_chat_report_widgets() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let period = format!("from={}&to={}", since(), today());
    let api = api_get(&f, &format!("/api/v1/reports/chats?{period}&limit=10000")).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    let w = &api.body["widgets"];
    assert!(
        w["new_repeat"]["dialogs"].as_u64().unwrap() > 0,
        "the demo has chats"
    );
    let r = get(&f.s, &format!("/chats?{period}"), c, "en").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for (id, value) in [
        ("chats-dialogs", &w["new_repeat"]["dialogs"]),
        ("chats-new", &w["new_repeat"]["new"]),
        ("chats-repeat", &w["new_repeat"]["repeat"]),
        ("chats-leads", &w["leads"]),
    ] {
        assert_eq!(
            element(&r.text, id),
            en_count(value.as_u64().unwrap()),
            "{id}"
        );
    }
    let leads = api.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["lead_id"].is_null())
        .count() as u64;
    assert_eq!(
        w["leads"].as_u64().unwrap(),
        leads,
        "leads counted from the rows"
    );
    // The charts: dynamics, messengers, channels, pages.
    for id in [
        "chats-chart",
        "chats-messengers",
        "chats-channels",
        "chats-pages",
    ] {
        assert!(r.text.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let messengers = &r.text[r.text.find("id=\"chats-messengers\"").unwrap()..];
    assert!(messengers.contains("whatsapp") && messengers.contains("telegram"));
    assert!(r.text.contains("id=\"chats-table\"") && r.text.contains("href=\"/contacts/"));
    tables_are_wrapped(&r.text);
    let weeks = get(&f.s, &format!("/chats?{period}&granularity=week"), c, "en").await;
    assert_eq!(weeks.status, StatusCode::OK);
    assert!(weeks.text.contains("<option value=\"week\" selected>"));
    let bad = get(&f.s, "/chats?granularity=year", c, "en").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(element(&bad.text, "page-error").contains("granularity"));
    let (other, _, _) = f.s.project("other").await;
    let r = get(&f.s, &format!("/chats?{period}&project={other}"), c, "en").await;
    assert_eq!(element(&r.text, "chats-dialogs"), "0");
    assert!(r.text.contains("No data for the period"));
}

#[tokio::test]
async fn the_contact_page_is_the_whole_timeline() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let to = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let calls = api_get(
        &f,
        &format!("/api/v1/calls?from={}&to={to}&limit=10000", since()),
    )
    .await;
    let recorded = calls.body["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["contact_id"].is_null() && !c["recording_url"].is_null())
        .expect("a recorded call of a known contact");
    let chats = api_get(
        &f,
        &format!(
            "/api/v1/reports/chats?from={}&to={}&limit=10000",
            since(),
            today()
        ),
    )
    .await;
    let chatter = chats.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| r["contact_id"].as_i64())
        .expect("a chat of a known contact");
    let scope = skvoz_store::Scope::new(skvoz_domain::ProjectId(f.demo));
    let now = chrono::Utc::now();
    let ticket_holder =
        f.s.store
            .leads_between(scope, now - chrono::Duration::days(60), now)
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.kind == skvoz_domain::crm::LeadKind::Ticket)
            .and_then(|l| l.contact_id)
            .expect("a ticket of a known contact");
    let cases = [
        (recorded["contact_id"].as_i64().unwrap(), "ev-call"),
        (chatter, "ev-chat"),
        (ticket_holder, "ev-ticket"),
    ];
    let mut visits_seen = false;
    for (contact, class) in cases {
        let r = get(&f.s, &format!("/contacts/{contact}"), c, "en").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(
            r.text.contains(&format!("class=\"{class}\"")),
            "{class} of {contact}"
        );
        visits_seen |= r.text.contains("class=\"ev-visit\"");
        // One line per entry of the app's timeline, in its order.
        let api = api_get(&f, &format!("/api/v1/contacts/{contact}/timeline")).await;
        let kinds: Vec<&str> = api.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        let shown: Vec<&str> = r
            .text
            .split("data-kind=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(shown, kinds, "contact {contact}");
    }
    assert!(visits_seen, "visits with their sources");
    // The recorded call's recording is on its contact's timeline.
    let r = get(
        &f.s,
        &format!("/contacts/{}", recorded["contact_id"]),
        c,
        "en",
    )
    .await;
    let url = recorded["recording_url"].as_str().unwrap();
    assert!(r.text.contains(&format!("href=\"{url}\"")), "{url}");
    // A hostile recording link never gets stored (and the page links
    // only http(s) URLs besides: `format::web_url`).
    let call =
        f.s.call(
            Method::POST,
            "/api/v1/calls",
            Some(&f.key),
            Some(serde_json::json!({
                "id": "h1", "caller": "+79991112233", "called": "+74950000000",
                "started_at": chrono::Utc::now().to_rfc3339(), "duration": 90, "answered": true,
                "recording_url": "javascript:alert(1)"
            })),
        )
        .await;
    assert_eq!(call.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(call.body["error"]["field"], "recording_url");
}

#[tokio::test]
async fn settings_list_pools_messengers_and_every_webhook() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let r = get(&f.s, &format!("/settings?project={}", f.demo), c, "en").await;
    assert_eq!(r.status, StatusCode::OK);
    let hooks = &r.text[r.text.find("id=\"webhooks\"").unwrap()..];
    for path in [
        "/amocrm?secret=",
        "/bitrix24",
        "/zadarma",
        "/calltouch?secret=",
        "/whatsapp",
        "/telegram",
        "/helpdeskeddy?secret=",
        "/export/alytics/0/",
    ] {
        assert!(hooks.contains(path), "webhook {path} missing");
    }
    let pools = &r.text[r.text.find("id=\"settings-pools\"").unwrap()..];
    assert!(pools.contains(">ads<") && pools.contains("+74957770201") && pools.contains("gazeta"));
    let msg = &r.text[r.text.find("id=\"settings-messengers\"").unwrap()..];
    let typed =
        f.s.app
            .settings
            .typed(skvoz_store::Scope::new(skvoz_domain::ProjectId(f.demo)))
            .await
            .unwrap()
            .1;
    let number = &typed.messengers.whatsapp.numbers[0].number;
    let bot = &typed.messengers.telegram.bots[0].username;
    assert!(msg.contains(number.as_str()) && msg.contains(&format!("@{bot}")));
    assert!(
        !msg.contains("demo-telegram-secret-token"),
        "bot secrets stay hidden"
    );
    tables_are_wrapped(&r.text);
    // Pools are edited through the validated document: a bad pool is named.
    let r = save_document(
        &f,
        r#"{"calltracking": {"pools": [{"id": "web", "kind": "nope"}]}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        element(&r.text, "error-document").contains("calltracking"),
        "{}",
        r.text
    );
    let r = save_document(
        &f,
        r#"{"calltracking": {"pools": [{"id": "web", "kind": "static", "numbers": ["+74950000001"], "source": "site"}]}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let pools = &r.text[r.text.find("id=\"settings-pools\"").unwrap()..];
    assert!(pools.contains(">web<") && pools.contains("+74950000001"));
}

#[tokio::test]
async fn the_outbox_page_shows_the_demo_history_and_retries_dead_letters() {
    let f = fixture().await;
    let c = Some(f.admin.as_str());
    let uri = format!("/outbox?project={}", f.demo);
    let r = get(&f.s, &uri, c, "en").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(element(&r.text, "outbox-dead").trim(), "2");
    assert!(
        r.text.contains("HTTP 410"),
        "the dead letters' error is shown"
    );
    assert!(
        r.text.contains("outside the GA4 window"),
        "skip reasons are shown"
    );
    let delivered: i64 = element(&r.text, "outbox-delivered").trim().parse().unwrap();
    assert!(delivered > 0);

    let r = form(
        &f.s,
        &format!("/outbox/retry?project={}", f.demo),
        c,
        "id=all",
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = get(&f.s, &uri, c, "en").await;
    assert_eq!(element(&r.text, "outbox-dead").trim(), "0");
    assert_eq!(element(&r.text, "outbox-pending").trim(), "2");
    // Not a number, not a dead letter: nothing changes.
    let r = form(
        &f.s,
        &format!("/outbox/retry?project={}", f.demo),
        c,
        "id=x",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Regression (CSV injection): the dashboard's channel export wrote a UTM
/// tag that starts a formula as a live formula; it goes through the one CSV
/// writer now, as the API's exports do.
#[tokio::test]
async fn the_channel_csv_defuses_formulas() {
    let f = fixture().await;
    let at = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
    let r = f
        .s
        .call(
            Method::POST,
            "/api/v1/hits",
            Some(&f.key),
            Some(serde_json::json!([{"vid": "csv-evil", "at": at,
                "url": "https://shop.example/?utm_source=%40evil&utm_medium=cpc&utm_campaign=%3D2%2B5"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let uri = format!(
        "/reports/channels.csv?from={}&f_channel=paid%20search",
        since()
    );
    let r = get(&f.s, &uri, Some(&f.admin), "en").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("'@evil"), "{}", r.text);
    for line in r.text.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                cell.parse::<f64>().is_ok() || !cell.starts_with(['=', '+', '-', '@']),
                "a live formula {cell:?} in {line}"
            );
        }
    }
}

/// Regression: dashboard pages carried no security headers (a page could be
/// framed by another site, sniffed, and leak its query in the referrer). The operator card,
/// which help desks embed, is not a dashboard page and stays embeddable.
#[tokio::test]
async fn dashboard_pages_carry_security_headers() {
    let f = fixture().await;
    for (page, cookie) in [
        ("/login", None),
        ("/", Some(f.admin.as_str())),
        ("/reports/channels", Some(f.admin.as_str())),
        ("/settings", Some(f.admin.as_str())),
        ("/assets/dashboard.js", None),
    ] {
        let r = get(&f.s, page, cookie, "ru").await;
        assert!(r.status.is_success(), "{page}: {}", r.status);
        let h = |name: header::HeaderName| {
            r.headers
                .get(&name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let csp = h(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("frame-ancestors 'self'"), "{page}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{page}: {csp}");
        assert!(!csp.contains("unsafe-eval"), "{page}: {csp}");
        assert_eq!(h(header::X_FRAME_OPTIONS), "SAMEORIGIN", "{page}");
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{page}");
        assert_eq!(h(header::REFERRER_POLICY), "same-origin", "{page}");
    }
    let r = get(&f.s, "/widget/contact?x=1", None, "ru").await;
    assert_ne!(
        r.headers
            .get(header::X_FRAME_OPTIONS)
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("SAMEORIGIN".to_owned()),
        "the operator card is meant to be framed by the help desk"
    );
}
