//! Visit tracking through the real router: `/collect`, `/api/v1/hits`,
//! the script, bad input, bots, sessions and identity links.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use common::{error_code, TestServer};
use serde_json::{json, Value};
use skvoz_domain::ProjectId;
use skvoz_store::Scope;

use common::CHROME;

async fn collect(s: &TestServer, body: Value, ua: &str, content_type: &str) -> common::Reply {
    let req = Request::post("/collect")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::USER_AGENT, ua)
        .body(Body::from(body.to_string()))
        .unwrap();
    s.send(req).await
}

fn scope(id: i64) -> Scope {
    Scope::new(ProjectId(id))
}

async fn visit_count(s: &TestServer, project: i64) -> usize {
    let from: DateTime<Utc> = "2000-01-01T00:00:00Z".parse().unwrap();
    let to: DateTime<Utc> = "2100-01-01T00:00:00Z".parse().unwrap();
    s.store
        .visits_between(scope(project), from, to, 100_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn collect_stores_the_visit_with_its_utm_tags_and_continues_it() {
    let s = TestServer::new().await;
    let (pid, pk, _) = s.project("shop").await;
    let body = json!({
        "key": pk, "vid": "v1",
        "url": "https://shop.example.ru/sale?utm_source=Yandex&utm_medium=cpc&utm_campaign=Winter&utm_content=ad7&utm_term=boots",
        "referrer": "https://yandex.ru/", "title": "Sale", "screen": "1920x1080", "lang": "ru-RU",
        "tz": "Europe/Moscow", "ga_cid": "123.456", "ym_uid": "1700000000123"
    });
    let r = collect(&s, body, CHROME, "text/plain;charset=UTF-8").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["vid"], "v1");
    let code = r.body["visit_code"].as_i64().unwrap();
    let visit_id = r.body["visit_id"].as_i64().unwrap();
    assert!(r.body.get("phone").is_some() && r.body.get("wa_text").is_some());
    // CORS: the site is on another origin.
    let visit = s
        .store
        .visit_by_code(scope(pid), code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(visit.id, visit_id);
    assert_eq!(visit.source.source, "yandex");
    assert_eq!(visit.source.medium, "cpc");
    assert_eq!(visit.source.campaign.as_deref(), Some("winter"));
    assert_eq!(visit.source.content.as_deref(), Some("ad7"));
    assert_eq!(visit.source.term.as_deref(), Some("boots"));
    assert_eq!(visit.channel, "paid search");
    assert_eq!(visit.device.browser, "Chrome");
    assert_eq!(visit.screen.as_deref(), Some("1920x1080"));
    assert_eq!(visit.ga_cid.as_deref(), Some("123.456"));

    // A second page, internal referrer: the same visit.
    let body = json!({"key": pk, "vid": "v1", "url": "https://shop.example.ru/boots/1", "referrer": "https://shop.example.ru/sale"});
    let r = collect(&s, body, CHROME, "application/json").await;
    assert_eq!(r.body["visit_code"].as_i64(), Some(code));
    let hits = s.store.hits_of_visit(scope(pid), visit_id).await.unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(
        s.store
            .visit(scope(pid), visit_id)
            .await
            .unwrap()
            .unwrap()
            .hits,
        2
    );

    // Identity links for the identity graph: both client ids lead to v1.
    assert_eq!(
        s.store
            .vids_by_link(scope(pid), "ga_cid", "123.456")
            .await
            .unwrap(),
        vec!["v1"]
    );
    assert_eq!(
        s.store
            .vids_by_link(scope(pid), "ym_uid", "1700000000123")
            .await
            .unwrap(),
        vec!["v1"]
    );

    // A new campaign: a new visit with a new code.
    let body = json!({"key": pk, "vid": "v1", "url": "https://shop.example.ru/?utm_source=vk&utm_medium=cpc&utm_campaign=summer"});
    let r = collect(&s, body, CHROME, "application/json").await;
    assert_ne!(r.body["visit_code"].as_i64(), Some(code));
    let v2 = s
        .store
        .visit_by_code(scope(pid), r.body["visit_code"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2.channel, "paid social");
}

#[tokio::test]
async fn a_visit_without_vid_gets_one_minted() {
    let s = TestServer::new().await;
    let (_, pk, _) = s.project("shop").await;
    let r = collect(
        &s,
        json!({"key": pk, "url": "https://a.ru/"}),
        CHROME,
        "application/json",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["vid"].as_str().unwrap().len() >= 16);
}

#[tokio::test]
async fn bad_tracker_input_is_refused_and_nothing_is_stored() {
    let s = TestServer::new().await;
    let (pid, pk, _) = s.project("shop").await;
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"url": "https://a.ru/"}),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            json!({"key": "pk_unknown", "url": "https://a.ru/"}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            json!({"key": pk, "url": format!("https://a.ru/?q={}", "x".repeat(10_000))}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({"key": pk, "url": "ftp://a.ru/"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({"key": pk, "url": "https://a.ru/", "vid": "bad vid"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({"key": pk, "url": "https://a.ru/", "screen": 5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            json!({"key": pk}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
    ];
    for (body, status, code) in cases {
        let r = collect(&s, body.clone(), CHROME, "application/json").await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
        assert_eq!(error_code(&r), code, "{body}");
    }
    // Invalid JSON.
    let req = Request::post("/collect")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{\"key\": "))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r), "invalid_json");
    // Wrong content type.
    let req = Request::post("/collect")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("key=x"))
        .unwrap();
    assert_eq!(s.send(req).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The huge URL also named its field.
    let r = collect(
        &s,
        json!({"key": pk, "url": format!("https://a.ru/{}", "x".repeat(5000))}),
        CHROME,
        "text/plain",
    )
    .await;
    assert_eq!(r.body["error"]["field"], "url");
    // No visit, so no hit either: every stored hit belongs to a visit.
    assert_eq!(visit_count(&s, pid).await, 0);
}

#[tokio::test]
async fn bots_are_counted_apart_not_stored_as_visits() {
    let s = TestServer::new().await;
    let (pid, pk, _) = s.project("shop").await;
    for ua in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "curl/8.5.0",
    ] {
        let r = collect(
            &s,
            json!({"key": pk, "url": "https://a.ru/"}),
            ua,
            "application/json",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body["visit_code"].is_null(), "{ua}");
    }
    assert_eq!(visit_count(&s, pid).await, 0);
    assert_eq!(
        s.store
            .bot_hits(scope(pid), "2000-01-01", "2100-01-01")
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn cors_preflight_and_headers_on_collect() {
    let s = TestServer::new().await;
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/collect")
        .header(header::ORIGIN, "https://shop.example.ru")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
    let (_, pk, _) = s.project("shop").await;
    let req = Request::post("/collect")
        .header(header::ORIGIN, "https://shop.example.ru")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(
            json!({"key": pk, "url": "https://shop.example.ru/"}).to_string(),
        ))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(
        r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(),
        "*"
    );
}

#[tokio::test]
async fn the_script_is_served_small_and_gzipped() {
    let s = TestServer::new().await;
    let req = Request::get("/t.js")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(s.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
    assert!(resp
        .headers()
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert!(
        bytes.len() < 5 * 1024,
        "t.js is {} bytes gzipped",
        bytes.len()
    );
    let plain = s.call(Method::GET, "/t.js", None, None).await;
    for api in [
        "visitCode",
        "onReady",
        "event",
        "skvoz_vid",
        "_ga",
        "_ym_uid",
        "sendBeacon",
        "keepalive",
    ] {
        assert!(plain.text.contains(api), "t.js lacks {api}");
    }
}

#[tokio::test]
async fn server_side_hits_are_sessionized_in_time_order() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("shop").await;
    // Sent out of order on purpose; Moscow time zone (UTC+3).
    let hits = json!([
        {"vid": "imp1", "url": "https://a.ru/p2", "referrer": "https://a.ru/p1", "at": "2026-03-01T10:10:00Z"},
        {"vid": "imp1", "url": "https://a.ru/p1?utm_source=google&utm_medium=cpc", "at": "2026-03-01T10:00:00Z", "ua": CHROME},
        {"vid": "imp1", "url": "https://a.ru/p3", "at": "2026-03-01T10:39:59Z"},
        {"vid": "imp1", "url": "https://a.ru/p4", "at": "2026-03-01T11:10:00Z"},
        {"vid": "imp1", "url": "https://a.ru/p5", "at": "2026-03-01T20:55:00Z"},
        {"vid": "imp1", "url": "https://a.ru/p6", "at": "2026-03-01T21:05:00Z"},
        {"vid": "imp2", "url": "https://a.ru/", "referrer": "https://www.google.com/", "at": "2026-03-01T10:00:00Z"}
    ]);
    let r = s
        .call(Method::POST, "/api/v1/hits", Some(&key), Some(hits))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let codes: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["visit_code"].as_i64().unwrap())
        .collect();
    // p2 continues p1 (10 min); p3 continues (29:59 after p2); p4 is 30:01
    // later: new; p5 is hours later: new; p6 crosses Moscow midnight
    // (23:55 → 00:05 local): new.
    assert_eq!(codes[0], codes[1], "p2 continues p1");
    assert_eq!(codes[2], codes[1], "p3 within 30 minutes");
    assert_ne!(codes[3], codes[2], "p4 after 30 minutes idle");
    assert_ne!(codes[4], codes[3]);
    assert_ne!(codes[5], codes[4], "local midnight ends the session");
    assert_ne!(codes[6], codes[0], "another visitor");
    let first = s
        .store
        .visit_by_code(scope(pid), codes[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.source.source.as_str(), first.source.medium.as_str()),
        ("google", "cpc")
    );
    assert_eq!(first.hits, 3);
    assert_eq!(
        first.started_at,
        "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let other = s
        .store
        .visit_by_code(scope(pid), codes[6])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (other.source.source.as_str(), other.source.medium.as_str()),
        ("google", "organic")
    );
    assert_eq!(visit_count(&s, pid).await, 5);

    // A later import continues the stored history from the store.
    let r = s
        .call(
            Method::POST,
            "/api/v1/hits",
            Some(&key),
            Some(json!({"vid": "imp1", "url": "https://a.ru/p7", "at": "2026-03-01T21:15:00Z"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["visit_code"].as_i64(), Some(codes[5]));

    // Bad input in a batch names its index; nothing of the batch is stored.
    // (Its first hit would start a visit of the new visitor `x`.)
    let before = visit_count(&s, pid).await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/hits",
            Some(&key),
            Some(json!([{"vid": "x", "url": "https://a.ru/", "at": "2026-03-02T10:00:00Z"}, {"vid": "x", "url": "nope"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "[1].url");
    assert_eq!(visit_count(&s, pid).await, before);
    assert!(s
        .store
        .latest_visit(scope(pid), "x", Utc::now())
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn visit_codes_are_per_project_and_keys_do_not_cross() {
    let s = TestServer::new().await;
    let (a, pka, key_a) = s.project("a").await;
    let (b, pkb, _) = s.project("b").await;
    let ra = collect(
        &s,
        json!({"key": pka, "vid": "same", "url": "https://a.ru/"}),
        CHROME,
        "application/json",
    )
    .await;
    let rb = collect(
        &s,
        json!({"key": pkb, "vid": "same", "url": "https://b.ru/"}),
        CHROME,
        "application/json",
    )
    .await;
    assert_eq!(ra.body["visit_code"], 1);
    assert_eq!(rb.body["visit_code"], 1);
    assert_ne!(ra.body["visit_id"], rb.body["visit_id"]);
    // A's API key writes only into A.
    let r = s
        .call(
            Method::POST,
            "/api/v1/hits",
            Some(&key_a),
            Some(json!({"vid": "same", "url": "https://b.ru/x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(visit_count(&s, a).await, 1);
    assert_eq!(visit_count(&s, b).await, 1);
    let bvisit = rb.body["visit_id"].as_i64().unwrap();
    assert!(s.store.visit(scope(a), bvisit).await.unwrap().is_none());
    assert!(s
        .store
        .hits_of_visit(scope(a), bvisit)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn channel_rules_from_settings_apply_to_new_visits() {
    let s = TestServer::new().await;
    let (pid, pk, key) = s.project("shop").await;
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    let rules = doc["channels"]["rules"].as_array_mut().unwrap();
    rules.insert(
        0,
        json!({"channel": "partners", "when": {"source": "partner-.*"}}),
    );
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = collect(
        &s,
        json!({"key": pk, "url": "https://a.ru/?utm_source=partner-42&utm_medium=referral"}),
        CHROME,
        "application/json",
    )
    .await;
    let v = s
        .store
        .visit_by_code(scope(pid), r.body["visit_code"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.channel, "partners");
}

#[tokio::test]
async fn events_continue_the_session_and_keep_their_props() {
    let s = TestServer::new().await;
    let (pid, pk, _) = s.project("shop").await;
    let r = collect(
        &s,
        json!({"key": pk, "vid": "e1", "url": "https://a.ru/?utm_source=mail&utm_medium=email"}),
        CHROME,
        "application/json",
    )
    .await;
    let code = r.body["visit_code"].as_i64().unwrap();
    let r = collect(
        &s,
        json!({"key": pk, "vid": "e1", "url": "https://a.ru/?utm_source=mail&utm_medium=email", "event": "cart_add", "props": {"sku": "A1", "price": 990}}),
        CHROME,
        "text/plain",
    )
    .await;
    assert_eq!(r.body["visit_code"].as_i64(), Some(code));
    let v = s
        .store
        .visit_by_code(scope(pid), code)
        .await
        .unwrap()
        .unwrap();
    let hits = s.store.hits_of_visit(scope(pid), v.id).await.unwrap();
    assert_eq!(hits[1].event.as_deref(), Some("cart_add"));
    let props: Value = serde_json::from_str(hits[1].props.as_deref().unwrap()).unwrap();
    assert_eq!(props["sku"], "A1");
    assert_eq!(v.channel, "email");
}

#[tokio::test]
async fn a_session_continues_across_a_restart_with_and_without_warm_up() {
    let (store, guard) = skvoz_backends::test_store().await.unwrap();
    let app = skvoz_app::App::new(store);
    let (_, created) = app.projects.create("shop", None, None).await.unwrap();
    let hit = |vid: &str, url: &str| skvoz_app::tracking::HitInput {
        fields: skvoz_app::tracking::input::HitFields {
            vid: Some(vid.to_owned()),
            url: url.to_owned(),
            ..Default::default()
        },
        at: Utc::now(),
        explicit_time: false,
        ip: None,
        ua: Some(CHROME.to_owned()),
    };
    let first = app
        .tracking
        .collect(
            &created.public_key,
            hit("r1", "https://a.ru/?utm_source=x&utm_medium=cpc"),
        )
        .await
        .unwrap();
    let other = app
        .tracking
        .collect(
            &created.public_key,
            hit("r2", "https://a.ru/?utm_source=y&utm_medium=cpc"),
        )
        .await
        .unwrap();
    app.shutdown().await.unwrap();
    drop(app);

    // Warmed: the active session is loaded into memory at start.
    let app = skvoz_app::App::new(guard.reopen().await.unwrap());
    assert_eq!(app.tracking.warm_up().await.unwrap(), 2);
    let again = app
        .tracking
        .collect(&created.public_key, hit("r1", "https://a.ru/page2"))
        .await
        .unwrap();
    assert_eq!(again.visit_code, first.visit_code);
    app.shutdown().await.unwrap();
    drop(app);

    // Not warmed: memory does not know the visitor, so the store is asked.
    let app = skvoz_app::App::new(guard.reopen().await.unwrap());
    let again = app
        .tracking
        .collect(&created.public_key, hit("r2", "https://a.ru/page2"))
        .await
        .unwrap();
    assert_eq!(again.visit_code, other.visit_code);
    // New visits keep unique codes after a restart.
    let fresh = app
        .tracking
        .collect(&created.public_key, hit("r3", "https://a.ru/"))
        .await
        .unwrap();
    assert!(fresh.visit_code > other.visit_code && fresh.visit_code > first.visit_code);
    app.shutdown().await.unwrap();
}

/// Regression: an event that starts a visit (after local midnight or the
/// timeout) used to leave the visit with an empty source, channel "other".
#[tokio::test]
async fn an_event_that_starts_a_visit_names_its_source_from_its_page() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("shop").await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/hits",
            Some(&key),
            Some(json!([
                {"vid": "ev", "url": "https://a.ru/cart", "at": "2026-03-01T20:55:00Z"},
                {"vid": "ev", "url": "https://a.ru/cart", "event": "form_submit", "at": "2026-03-01T21:05:00Z"},
                {"vid": "ev2", "url": "https://a.ru/?utm_source=vk&utm_medium=cpc", "event": "x", "at": "2026-03-01T10:00:00Z"}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let after_midnight = r.body[1]["visit_code"].as_i64().unwrap();
    assert_ne!(Some(after_midnight), r.body[0]["visit_code"].as_i64());
    let v = s
        .store
        .visit_by_code(scope(pid), after_midnight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (v.source.source.as_str(), v.channel.as_str()),
        ("(direct)", "direct")
    );
    let v = s
        .store
        .visit_by_code(scope(pid), r.body[2]["visit_code"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.channel, "paid social");
}
