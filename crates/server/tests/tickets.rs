//! Tickets through the HTTP API: the generic route with idempotent events
//! and SLA fields, ticket leads that link contacts without opening deals,
//! the operator card (JSON lookup and the signed HTML widget, forged and
//! expired links refused), the contact timeline, HelpDeskEddy webhooks and
//! polling of a paginated fake REST API, service cost reconciling across
//! channels, and project isolation on every route.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{error_code, TestServer};
use serde_json::{json, Value};
use skvoz_domain::ProjectId;

const WIDGET_SECRET: &str = "widget-secret-0123456789";
const HOOK_SECRET: &str = "hook-secret-0123456789";

async fn visit(s: &TestServer, pk: &str, vid: &str, url: &str) -> Value {
    s.collect(json!({"key": pk, "vid": vid, "url": url})).await
}

async fn settings(s: &TestServer, key: &str, patch: impl Fn(&mut Value)) {
    s.patch_settings(key, patch).await;
}

async fn ticket(s: &TestServer, key: &str, body: Value) -> common::Reply {
    s.call(Method::POST, "/api/v1/tickets", Some(key), Some(body))
        .await
}

fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339()
}

#[tokio::test]
async fn ticket_events_are_idempotent_make_a_lead_without_a_deal_and_derive_sla() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    settings(&s, &key, |d| {
        d["service"]["cost_per_ticket"] = json!(100.0);
        d["service"]["cost_per_hour"] = json!(1200.0);
    })
    .await;
    let created = json!({"id": "T-1", "event": "created", "status": "open", "email": "Anna@Example.ru",
        "subject": "Где заказ?", "priority": "high", "at": ago(300)});
    let r = ticket(&s, &key, created.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["created"], true);
    assert_eq!(r.body["duplicate"], false);
    let ticket_id = r.body["ticket_id"].as_i64().unwrap();
    let contact = r.body["contact_id"].as_i64().unwrap();
    let lead = r.body["lead_id"].as_i64().unwrap();
    let again = ticket(&s, &key, created).await;
    assert_eq!(again.body["duplicate"], true, "{}", again.text);
    assert_eq!(again.body["ticket_id"], ticket_id);
    assert_eq!(again.body["lead_id"], lead);

    for body in [
        json!({"id": "T-1", "event": "reply", "at": ago(280)}),
        json!({"id": "T-1", "event": "status", "status": "solved", "at": ago(200), "handling_minutes": 30}),
        json!({"id": "T-1", "event": "status", "status": "closed", "at": ago(100)}),
        json!({"id": "T-1", "event": "rating", "rating": 2, "at": ago(90)}),
    ] {
        let r = ticket(&s, &key, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["duplicate"], false);
    }
    let t = s
        .call(
            Method::GET,
            &format!("/api/v1/tickets/{ticket_id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["ticket"]["status"], "closed");
    assert_eq!(t.body["ticket"]["rating"], 2);
    assert_eq!(t.body["ticket"]["subject"], "Где заказ?");
    assert_eq!(t.body["time_to_first_response_minutes"], 20);
    assert_eq!(t.body["time_to_resolution_minutes"], 100);
    // 100 per ticket + 1200/h × 0.5 h
    assert_eq!(t.body["service_cost"], 700.0);
    assert_eq!(t.body["events"].as_array().unwrap().len(), 5);

    // The ticket is a lead of its contact, and no deal was opened.
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(c.body["leads"][0]["kind"], "ticket", "{}", c.text);
    assert_eq!(c.body["leads"][0]["deal_id"], Value::Null);
    assert!(c.body["deals"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_ticket_input_is_a_json_error_naming_the_field() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let cases = [
        (
            json!({"id": "1", "event": "exploded", "at": ago(1)}),
            "event",
        ),
        (json!({"id": "", "event": "created", "at": ago(1)}), "id"),
        (
            json!({"id": "1", "event": "rating", "rating": 9, "at": ago(1)}),
            "rating",
        ),
        (
            json!({"id": "1", "event": "rating", "at": ago(1)}),
            "rating",
        ),
        (
            json!({"id": "1", "event": "status", "at": ago(1)}),
            "status",
        ),
        (
            json!({"id": "1", "event": "created", "phone": "12", "at": ago(1)}),
            "phone",
        ),
        (json!({"id": "1", "event": "created", "at": ago(-60)}), "at"),
        (json!({"id": "1", "event": "created"}), "at"),
        (
            json!({"id": "1", "event": "created", "at": ago(1), "bogus": 1}),
            "bogus",
        ),
    ];
    for (body, field) in cases {
        let r = ticket(&s, &key, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text
        );
        assert_eq!(error_code(&r), "invalid");
        assert_eq!(r.body["error"]["field"], field, "{body}: {}", r.text);
    }
    let r = ticket(&s, "nope", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .send(
            Request::post("/api/v1/tickets")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(vec![b'x'; 2 * 1024 * 1024]))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    error_code(&r);
}

/// A contact from a paid-search visit who bought twice and opened a ticket.
async fn customer(s: &TestServer, pk: &str, key: &str) -> (i64, i64) {
    let v = visit(
        s,
        pk,
        "vid-anna",
        "https://shop.ru/tv?utm_source=yandex&utm_medium=cpc&utm_campaign=tv_sale",
    )
    .await;
    let code = v["visit_code"].as_i64().unwrap();
    let r = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(key),
            Some(json!({"visit_code": code, "phone": "+7 999 111-22-33", "email": "anna@example.ru", "name": "Анна"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let contact = r.body["contact_id"].as_i64().unwrap();
    for (id, revenue, status) in [("d1", 150_000.0, "won"), ("d2", 30_000.0, "open")] {
        let r = s
            .call(
                Method::PUT,
                &format!("/api/v1/deals/{id}"),
                Some(key),
                Some(json!({"status": status, "revenue": revenue, "email": "anna@example.ru"})),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let t = ticket(
        s,
        key,
        json!({"id": "T-7", "event": "created", "phone": "89991112233", "subject": "Broken TV", "at": ago(0)}),
    )
    .await;
    assert_eq!(t.body["contact_id"], contact, "{}", t.text);
    (contact, code)
}

#[tokio::test]
async fn the_card_shows_source_value_and_priority_by_phone_email_or_visit_code() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let (contact, code) = customer(&s, &pk, &key).await;
    for query in [
        "phone=8%20(999)%20111-22-33".to_owned(),
        "email=ANNA@example.ru".to_owned(),
        format!("visit_code={code}"),
    ] {
        let r = s
            .call(
                Method::GET,
                &format!("/api/v1/contacts/lookup?{query}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        let c = &r.body;
        assert_eq!(c["contact_id"], contact);
        assert_eq!(c["acquisition"]["source"], "yandex");
        assert_eq!(c["acquisition"]["medium"], "cpc");
        assert_eq!(c["acquisition"]["campaign"], "tv_sale");
        assert_eq!(c["acquisition"]["channel"], "paid search");
        assert_eq!(c["visits"], 1);
        assert_eq!(c["leads"]["forms"], 1);
        assert_eq!(c["leads"]["tickets"], 1);
        assert_eq!(c["deals"], 2, "{}", r.text);
        assert_eq!(c["won_deals"], 1);
        assert_eq!(c["open_deals"], 1);
        assert_eq!(c["ltv"], 150_000.0);
        assert_eq!(c["open_value"], 30_000.0);
        assert_eq!(c["priority"], "vip");
        assert_eq!(c["tickets"], 1);
        assert_eq!(c["open_tickets"], 1);
        assert_eq!(c["name"], "Анна");
        assert!(c["first_visit_at"].is_string());
    }
    let r = s
        .call(
            Method::GET,
            "/api/v1/contacts/lookup?email=nobody@example.ru",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    error_code(&r);
    for bad in [
        "",
        "?phone=1&email=a@b.ru",
        "?phone=12",
        "?visit_code=abc",
        "?email=not-an-email",
    ] {
        let r = s
            .call(
                Method::GET,
                &format!("/api/v1/contacts/lookup{bad}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        error_code(&r);
    }
}

#[tokio::test]
async fn the_timeline_lists_visits_leads_calls_deal_stages_and_tickets_in_time_order() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let (contact, _) = customer(&s, &pk, &key).await;
    // A call from the customer's phone, recorded.
    let call = s
        .call(
            Method::POST,
            "/api/v1/calls",
            Some(&key),
            Some(
                json!({"id": "c-1", "caller": "+79991112233", "called": "+74950000000",
                "started_at": ago(0), "duration": 95, "answered": true,
                "recording_url": "https://pbx.example.ru/rec/c-1.mp3"}),
            ),
        )
        .await;
    assert_eq!(call.status, StatusCode::OK, "{}", call.text);
    ticket(
        &s,
        &key,
        json!({"id": "T-7", "event": "status", "status": "closed", "at": ago(0)}),
    )
    .await;
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}/timeline"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entries = r.body["entries"].as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let call = entries.iter().find(|e| e["kind"] == "call").unwrap();
    assert_eq!(
        call["data"]["recording_url"],
        "https://pbx.example.ru/rec/c-1.mp3"
    );
    assert_eq!(
        (
            call["data"]["duration"].as_i64(),
            call["data"]["answered"].as_bool()
        ),
        (Some(95), Some(true))
    );
    for kind in [
        "visit",
        "lead",
        "call",
        "deal_stage",
        "ticket_created",
        "ticket_closed",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing in {kinds:?}");
    }
    assert_eq!(kinds[0], "visit");
    assert_eq!(*kinds.last().unwrap(), "ticket_closed");
    let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    let visit = &entries[0]["data"];
    assert_eq!(visit["source"], "yandex");
    assert_eq!(visit["channel"], "paid search");
    let r = s
        .call(
            Method::GET,
            "/api/v1/contacts/999999/timeline",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let q = url.split_once('?').unwrap().1;
    form_pairs(q)
}

fn form_pairs(q: &str) -> std::collections::HashMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_widget_needs_a_valid_unexpired_signature() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    customer(&s, &pk, &key).await;
    // No secret: no URLs are minted and none is accepted.
    let r = s
        .call(
            Method::GET,
            "/api/v1/widget/url?email=anna@example.ru",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    settings(&s, &key, |d| {
        d["service"]["widget_secret"] = json!(WIDGET_SECRET)
    })
    .await;
    let doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    assert_eq!(doc["service"]["widget_secret"], "********");

    let r = s
        .call(
            Method::GET,
            "/api/v1/widget/url?email=anna@example.ru",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let url = r.body["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/widget/contact?key="));
    let page = s.call(Method::GET, &url, None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let ct = page.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(ct.starts_with("text/html"));
    assert!(page.text.contains("150\u{2009}000 RUB"), "{}", page.text);
    assert!(page.text.contains("paid search"));
    assert!(page.text.contains("VIP"));
    assert!(!page.text.contains("<script"));
    let en = s
        .call(Method::GET, &format!("{url}&lang=en"), None, None)
        .await;
    assert!(en.text.contains("First visit"));

    let q = query_of(&url);
    let sig = &q["sig"];
    let mut forged_sig = sig.clone();
    forged_sig.replace_range(0..2, if sig.starts_with("00") { "11" } else { "00" });
    let exp: i64 = q["exp"].parse().unwrap();
    let forged = [
        url.replace(sig, &forged_sig),
        url.replace("anna%40example.ru", "boris%40example.ru"),
        url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 3600)),
        url.replace(&format!("&sig={sig}"), ""),
        url.replace(&pk, "pk_other"),
    ];
    for f in forged {
        let r = s.call(Method::GET, &f, None, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{f}: {}", r.text);
        error_code(&r);
    }
    // A correctly signed but expired link.
    let past = Utc::now().timestamp() - 10;
    let sig =
        skvoz_app::tickets::widget::sign(WIDGET_SECRET, &pk, "email", "anna@example.ru", past);
    let r = s
        .call(
            Method::GET,
            &format!("/widget/contact?key={pk}&email=anna%40example.ru&exp={past}&sig={sig}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("expired"));
    // A signed link for somebody unknown shows a "not found" card.
    let later = Utc::now().timestamp() + 600;
    let sig = skvoz_app::tickets::widget::sign(WIDGET_SECRET, &pk, "email", "x@example.ru", later);
    let r = s
        .call(
            Method::GET,
            &format!("/widget/contact?key={pk}&email=x%40example.ru&exp={later}&sig={sig}"),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-found=\"false\""));
}

#[tokio::test]
async fn helpdeskeddy_webhooks_need_the_secret_and_apply_once() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let body =
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/webhook_created.json");
    let post = |secret: &str, body: &str| {
        Request::post(format!("/hooks/{pk}/helpdeskeddy?secret={secret}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let r = s.send(post(HOOK_SECRET, body)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "disabled: {}", r.text);
    settings(&s, &key, |d| {
        d["service"]["helpdeskeddy"]["enabled"] = json!(true);
        d["service"]["helpdeskeddy"]["account"] = json!("shop");
        d["service"]["helpdeskeddy"]["webhook_secret"] = json!(HOOK_SECRET);
        d["service"]["helpdeskeddy"]["poll_minutes"] = json!(0);
    })
    .await;
    let r = s.send(post("wrong-secret-0123456789", body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    error_code(&r);
    let r = s.send(post(HOOK_SECRET, body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["created"], true);
    let contact = r.body["contact_id"].as_i64().unwrap();
    let again = s.send(post(HOOK_SECRET, body)).await;
    assert_eq!(again.body["duplicate"], true);
    for fixture in [
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/webhook_reply.json"),
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/webhook_status.json"),
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/webhook_rating.json"),
    ] {
        let r = s.send(post(HOOK_SECRET, fixture)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["contact_id"], contact);
    }
    // A junk phone from the help desk is dropped, not a rejected delivery
    // that the sender would retry forever; the e-mail still finds the contact.
    let junk_phone = r#"{"event": "reply", "ticket_id": "4521", "phone": "12", "email": "ivan.petrov@example.ru", "date": "2026-03-02 11:00:00"}"#;
    let r = s.send(post(HOOK_SECRET, junk_phone)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["contact_id"], contact);
    let bad =
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/webhook_bad_rating.json");
    let r = s.send(post(HOOK_SECRET, bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_code(&r);
    let id = r.body["ticket_id"].as_i64();
    assert_eq!(id, None);
    let card = s
        .call(
            Method::GET,
            "/api/v1/contacts/lookup?email=ivan.petrov@example.ru",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(card.body["tickets"], 1, "{}", card.text);
    assert_eq!(card.body["open_tickets"], 0);
    assert_eq!(card.body["avg_rating"], 4.0);
    assert_eq!(card.body["phones"][0], "+79991234567");
}

#[tokio::test]
async fn helpdeskeddy_polling_reads_every_page_once() {
    use axum::routing::get;
    let page1 =
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/tickets_page1.json");
    let page2 =
        include_str!("../../connectors/src/helpdesk/fixtures/helpdeskeddy/tickets_page2.json");
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    let api = axum::Router::new().route(
        "/api/v2/tickets/",
        get(
            move |headers: axum::http::HeaderMap,
                  q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let seen = seen.clone();
                async move {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // api@shop.ru:key-123
                    if headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        != Some("Basic YXBpQHNob3AucnU6a2V5LTEyMw==")
                        || !q.contains_key("from_date_updated")
                    {
                        return (StatusCode::UNAUTHORIZED, "no").into_response();
                    }
                    let body = match q.get("page").map(String::as_str) {
                        Some("1") => page1,
                        _ => page2,
                    };
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                }
            },
        ),
    );
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });

    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/tickets/helpdeskeddy/poll",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "not configured: {}",
        r.text
    );
    settings(&s, &key, |d| {
        let h = &mut d["service"]["helpdeskeddy"];
        h["enabled"] = json!(true);
        h["api_url"] = json!(format!("http://{addr}/api/v2"));
        h["email"] = json!("api@shop.ru");
        h["api_key"] = json!("key-123");
        h["webhook_secret"] = json!(HOOK_SECRET);
        d["service"]["resolved_statuses"] = json!(["solved"]);
    })
    .await;
    let poll = "/api/v1/tickets/helpdeskeddy/poll?from=2026-02-28T00:00:00Z";
    let r = s.call(Method::POST, poll, Some(&key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["pages"], 2);
    assert_eq!(r.body["tickets"], 3);
    // 3 created + 3 status + 1 rating
    assert_eq!(r.body["applied"], 7);
    assert_eq!(r.body["duplicates"], 0);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let again = s.call(Method::POST, poll, Some(&key), None).await;
    assert_eq!(again.body["applied"], 0, "{}", again.text);
    assert_eq!(again.body["duplicates"], 7);
    // Anna has two tickets (101 closed, 103 solved with a rating).
    let card = s
        .call(
            Method::GET,
            "/api/v1/contacts/lookup?email=anna@example.ru",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(card.body["tickets"], 2, "{}", card.text);
    assert_eq!(card.body["open_tickets"], 0);
    assert_eq!(card.body["avg_rating"], 5.0);
    let boris = s
        .call(
            Method::GET,
            "/api/v1/contacts/lookup?phone=89991112233",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(boris.body["open_tickets"], 1, "{}", boris.text);
    // The scheduler polls a project once per `poll_minutes` (15 by default).
    let before = calls.load(std::sync::atomic::Ordering::SeqCst);
    let mut last_runs = std::collections::HashMap::new();
    s.app.tickets.poll_due(&mut last_runs).await;
    let after_first = calls.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after_first > before, "a due project is polled");
    s.app.tickets.poll_due(&mut last_runs).await;
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        after_first,
        "not again before poll_minutes"
    );
    // A dead API is a 503 and the cursor stays.
    settings(&s, &key, |d| {
        d["service"]["helpdeskeddy"]["api_url"] = json!("http://127.0.0.1:9/api/v2");
    })
    .await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/tickets/helpdeskeddy/poll",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    error_code(&r);
}

#[tokio::test]
async fn service_cost_summed_over_channels_equals_the_periods_total() {
    let s = TestServer::new().await;
    let (pid, pk, key) = s.project("shop").await;
    settings(&s, &key, |d| {
        d["service"]["cost_per_ticket"] = json!(99.99);
        d["service"]["cost_per_hour"] = json!(777.77);
    })
    .await;
    let sources = [
        "?utm_source=yandex&utm_medium=cpc",
        "?utm_source=vk&utm_medium=social",
        "?utm_source=newsletter&utm_medium=email",
        "",
    ];
    let mut n = 0;
    for (i, src) in sources.iter().enumerate() {
        for person in 0..3 {
            let vid = format!("v{i}-{person}");
            let v = visit(&s, &pk, &vid, &format!("https://shop.ru/{src}")).await;
            let email = format!("p{i}-{person}@example.ru");
            s.call(
                Method::POST,
                "/api/v1/leads",
                Some(&key),
                Some(json!({"visit_code": v["visit_code"], "email": email})),
            )
            .await;
            for k in 0..=(i + person) {
                n += 1;
                let r = ticket(
                    &s,
                    &key,
                    json!({"id": format!("T{n}"), "event": "created", "email": email, "at": ago(50),
                        "handling_minutes": 7 * k + person, "rating": 1 + (n % 5)}),
                )
                .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            }
        }
    }
    // Tickets of nobody count for "(none)".
    for k in 0..3 {
        n += 1;
        ticket(&s, &key, json!({"id": format!("T{n}"), "event": "created", "at": ago(40), "handling_minutes": k})).await;
    }
    let ctx = s.app.contexts.by_id(ProjectId(pid)).await.unwrap();
    let (rows, total) = s
        .app
        .tickets
        .service_by_channel(&ctx, Utc::now() - Duration::hours(1), Utc::now())
        .await
        .unwrap();
    assert_eq!(total.tickets, n as u64);
    let channels: Vec<&str> = rows.iter().map(|r| r.channel.as_str()).collect();
    assert_eq!(
        channels,
        ["(none)", "direct", "email", "paid search", "social"]
    );
    let summed: i64 = rows.iter().map(|r| r.totals.service_cost.0).sum();
    assert_eq!(summed, total.service_cost.0);
    assert_eq!(
        rows.iter().map(|r| r.totals.tickets).sum::<u64>(),
        total.tickets
    );
    assert_eq!(
        rows.iter().map(|r| r.totals.rated).sum::<u64>(),
        total.rated
    );
    assert!(total.service_cost.0 > 0);
    let paid = rows.iter().find(|r| r.channel == "paid search").unwrap();
    assert_eq!(paid.customers, 3);
    assert_eq!(paid.totals.tickets, 1 + 2 + 3);
}

#[tokio::test]
async fn projects_are_isolated_on_tickets_cards_timelines_and_widgets() {
    let s = TestServer::new().await;
    let (_, pk_a, key_a) = s.project("a").await;
    let (_, pk_b, key_b) = s.project("b").await;
    let (contact, code) = customer(&s, &pk_a, &key_a).await;
    let ticket_id = ticket(
        &s,
        &key_a,
        json!({"id": "T-7", "event": "reply", "at": ago(1)}),
    )
    .await
    .body["ticket_id"]
        .as_i64()
        .unwrap();
    for uri in [
        format!("/api/v1/tickets/{ticket_id}"),
        "/api/v1/contacts/lookup?email=anna@example.ru".to_owned(),
        format!("/api/v1/contacts/lookup?visit_code={code}"),
        format!("/api/v1/contacts/{contact}/timeline"),
    ] {
        let r = s.call(Method::GET, &uri, Some(&key_b), None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {}", r.text);
        let r = s.call(Method::GET, &uri, Some(&key_a), None).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
    }
    // The same ticket id sent by B is B's own ticket, not A's.
    let r = ticket(
        &s,
        &key_b,
        json!({"id": "T-7", "event": "created", "at": ago(1)}),
    )
    .await;
    assert_eq!(r.body["created"], true);
    assert_ne!(r.body["ticket_id"], ticket_id);
    // A's signature does not open B's card, even with B's key in the URL.
    for (key, secret) in [
        (&key_a, WIDGET_SECRET),
        (&key_b, "another-secret-0123456789"),
    ] {
        settings(&s, key, |d| d["service"]["widget_secret"] = json!(secret)).await;
    }
    let url = s
        .call(
            Method::GET,
            "/api/v1/widget/url?email=anna@example.ru",
            Some(&key_a),
            None,
        )
        .await
        .body["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = s
        .call(Method::GET, &url.replace(&pk_a, &pk_b), None, None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.call(Method::GET, &url, None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    // B's HelpDeskEddy hook does not take A's secret.
    settings(&s, &key_a, |d| {
        d["service"]["helpdeskeddy"]["enabled"] = json!(true);
        d["service"]["helpdeskeddy"]["account"] = json!("a");
        d["service"]["helpdeskeddy"]["webhook_secret"] = json!(HOOK_SECRET);
        d["service"]["helpdeskeddy"]["poll_minutes"] = json!(0);
    })
    .await;
    let r = s
        .send(
            Request::post(format!("/hooks/{pk_b}/helpdeskeddy?secret={HOOK_SECRET}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"event":"created","ticket_id":"1"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}

#[tokio::test]
async fn tickets_per_product_come_from_the_ticket_or_the_contacts_purchase() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("shop").await;
    for (deal, email, product) in [
        ("d1", "tv@example.ru", "TV"),
        ("d2", "sofa@example.ru", "Sofa"),
    ] {
        let r = s
            .call(
                Method::PUT,
                &format!("/api/v1/deals/{deal}"),
                Some(&key),
                Some(
                    json!({"status": "won", "revenue": 1000, "email": email, "product": product,
                    "created_at": ago(600)}),
                ),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    for (id, email, product) in [
        ("1", "tv@example.ru", None),
        ("2", "tv@example.ru", None),
        ("3", "tv@example.ru", Some("Phone")),
        ("4", "sofa@example.ru", None),
        ("5", "nobody@example.ru", None),
    ] {
        let r = ticket(
            &s,
            &key,
            json!({"id": id, "event": "created", "email": email, "product": product, "at": ago(10)}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let ctx = s.app.contexts.by_id(ProjectId(pid)).await.unwrap();
    let rows = s
        .app
        .tickets
        .service_by_product(&ctx, Utc::now() - Duration::hours(1), Utc::now())
        .await
        .unwrap();
    let got: Vec<(&str, u64)> = rows
        .iter()
        .map(|r| (r.product.as_str(), r.totals.tickets))
        .collect();
    assert_eq!(
        got,
        [("TV", 2), ("(unknown)", 1), ("Phone", 1), ("Sofa", 1)]
    );
}
