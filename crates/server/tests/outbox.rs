//! The outbox end to end over the real router and store: conversions,
//! webhooks and eSputnik reach local fake receivers that check the
//! documented wire formats; window skips are recorded with their reason;
//! a dead letter is retried from the API; the outbox API is per project.

#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/receiver.rs"]
mod receiver;

use axum::http::{Method, StatusCode};
use base64::Engine;
use chrono::{Duration, Utc};
use common::{error_code, lead_policy, ticket_lead, TestServer};
use receiver::{multipart_part, Received, Receiver};
use serde_json::{json, Value};
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind, LeadKind};
use skvoz_domain::Money;
use skvoz_store::{DealWrite, NewLead, Scope};

const SECRET: &str = "whsec-0123456789abcdef";

/// GA4 Measurement Protocol, as documented: the query names the stream,
/// the JSON body has a client id, a timestamp at most 72 h old, and events
/// within the name and parameter limits.
fn check_ga4(r: &Received) -> Result<(), String> {
    if !r.uri.starts_with("/mp/collect?") {
        return Err(format!("wrong path {}", r.uri));
    }
    if !(r.uri.contains("measurement_id=G-TEST1") && r.uri.contains("api_secret=ga-secret")) {
        return Err("measurement_id and api_secret must be in the query".into());
    }
    if r.body.len() >= 130 * 1024 {
        return Err("body over 130 kB".into());
    }
    let v: Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
    if !v["client_id"].is_string() {
        return Err("client_id missing".into());
    }
    let ts = v["timestamp_micros"]
        .as_i64()
        .ok_or("timestamp_micros missing")?;
    let age = Utc::now().timestamp_micros() - ts;
    if !(0..=72 * 3600 * 1_000_000).contains(&age) {
        return Err("timestamp_micros outside 72 hours".into());
    }
    for e in v["events"].as_array().ok_or("events missing")? {
        let name = e["name"].as_str().ok_or("event name missing")?;
        let params = e["params"].as_object().ok_or("params missing")?;
        if name.len() > 40 || params.len() > 25 || params.keys().any(|k| k.len() > 40) {
            return Err("name or parameter limits broken".into());
        }
    }
    Ok(())
}

/// Metrika offline conversions: OAuth header, multipart part `file` with
/// the CSV header and rows of Unix-second times in the past.
fn check_metrika(r: &Received) -> Result<(), String> {
    if !r
        .uri
        .starts_with("/management/v1/counter/4242/offline_conversions/upload?client_id_type=")
    {
        return Err(format!("wrong path {}", r.uri));
    }
    if r.header("authorization") != "OAuth ym-token" {
        return Err("Authorization must be OAuth <token>".into());
    }
    let csv = multipart_part(r.header("content-type"), &r.body, "file")?;
    let text = String::from_utf8(csv).map_err(|e| e.to_string())?;
    let mut lines = text.lines();
    if lines.next() != Some("ClientId,Target,DateTime,Price,Currency") {
        return Err("wrong CSV header".into());
    }
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() != 5 {
            return Err(format!("row {line} has {} columns", cols.len()));
        }
        let t: i64 = cols[2]
            .parse()
            .map_err(|_| "DateTime is not Unix seconds")?;
        if t > Utc::now().timestamp() || t < 1_500_000_000 {
            return Err("DateTime must be Unix seconds in the past".into());
        }
    }
    Ok(())
}

fn check_esputnik(r: &Received) -> Result<(), String> {
    if r.uri != "/api/v2/event" {
        return Err(format!("wrong path {}", r.uri));
    }
    let auth = r
        .header("authorization")
        .strip_prefix("Basic ")
        .ok_or("no Basic auth")?;
    let pair = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .map_err(|e| e.to_string())?;
    let pair = String::from_utf8(pair).map_err(|e| e.to_string())?;
    if pair.split_once(':').map(|(_, p)| p) != Some("es-key") {
        return Err("the API key must be the Basic password".into());
    }
    let v: Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
    if !(v["eventTypeKey"].is_string() && v["keyValue"].is_string() && v["params"].is_array()) {
        return Err("eventTypeKey, keyValue and params are required".into());
    }
    Ok(())
}

fn check_webhook(r: &Received) -> Result<(), String> {
    let sig = r.header("x-skvoz-signature");
    if !skvoz_connectors::outbound::webhook::verify(SECRET, &r.body, sig) {
        return Err("bad X-Skvoz-Signature".into());
    }
    let v: Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
    if v["type"] != r.header("x-skvoz-event") || r.header("idempotency-key").is_empty() {
        return Err("X-Skvoz-Event and Idempotency-Key must match the envelope".into());
    }
    if !(v["id"].as_str().is_some_and(|s| s.starts_with("evt_")) && v["data"].is_object()) {
        return Err("envelope must have id evt_… and data".into());
    }
    Ok(())
}

/// A contact with these identities gets a lead, then its deal is won at `at`.
async fn won_deal(
    s: &TestServer,
    scope: Scope,
    ids: Vec<Identity>,
    ext: &str,
    at: chrono::DateTime<Utc>,
) -> i64 {
    s.store
        .record_lead(
            scope,
            NewLead {
                kind: LeadKind::Form,
                source_id: Some(format!("form-{ext}")),
                created_at: at,
                visit_id: None,
                identities: ids.clone(),
                name: None,
                payload: json!({}),
            },
            lead_policy(),
        )
        .await
        .unwrap();
    s.store
        .upsert_deal(
            scope,
            DealWrite {
                external_id: ext.into(),
                status: Some(DealStatus::Won),
                stage: Some("won".into()),
                default_stage: "new".into(),
                revenue: Some(Money(150_050)),
                profit: None,
                product: None,
                created_at: Some(at),
                closed_at: Some(at),
                identities: ids,
                visit_id: None,
                source_updated_at: None,
                at,
            },
        )
        .await
        .unwrap()
        .deal_id
}

fn email(e: &str) -> Identity {
    Identity::new(IdentityKind::Email, e)
}

#[tokio::test]
async fn conversions_webhooks_and_esputnik_reach_fake_receivers_in_their_formats() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("conv").await;
    let scope = Scope::new(skvoz_domain::ProjectId(pid));
    let ga4 = Receiver::start(check_ga4).await;
    let metrika = Receiver::start(check_metrika).await;
    let esputnik = Receiver::start(check_esputnik).await;
    let hook = Receiver::start(check_webhook).await;
    let (ga, ym, es, wh) = (
        ga4.base.clone(),
        metrika.base.clone(),
        esputnik.base.clone(),
        hook.base.clone(),
    );
    s.patch_settings(&key, |doc| {
        doc["webhooks"] = json!([{"id": "crm", "url": format!("{wh}/hooks/skvoz"), "secret": SECRET,
            "events": ["lead.created", "deal.stage_changed"]}]);
        doc["conversions"] = json!({
            "ga4": {"measurement_id": "G-TEST1", "api_secret": "ga-secret", "base_url": ga},
            "metrika": {"counter_id": "4242", "token": "ym-token", "base_url": ym},
            "rules": [{"id": "won", "when": {"deal_stage": "won"}, "send_to": ["ga4", "metrika"],
                "metrika_target": "deal_won"}]
        });
        doc["esputnik"] = json!({"api_key": "es-key", "base_url": es,
            "events": {"deal.stage_changed": "dealStage"}});
    })
    .await;
    // Secrets come back masked.
    let read = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await;
    assert_eq!(read.body["webhooks"][0]["secret"], "********");
    assert_eq!(read.body["conversions"]["metrika"]["token"], "********");

    let now = Utc::now();
    let with_ids = |e: &str, n: &str| {
        vec![
            email(e),
            Identity::new(IdentityKind::GaCid, format!("{n}.1700000000")),
            Identity::new(IdentityKind::YmUid, format!("17000000000{n}")),
        ]
    };
    let fresh = won_deal(
        &s,
        scope,
        with_ids("a@x.ru", "1"),
        "D-1",
        now - Duration::minutes(5),
    )
    .await;
    let four_days = won_deal(
        &s,
        scope,
        with_ids("b@x.ru", "2"),
        "D-2",
        now - Duration::days(4),
    )
    .await;
    won_deal(
        &s,
        scope,
        with_ids("c@x.ru", "3"),
        "D-3",
        now - Duration::days(30),
    )
    .await;
    won_deal(
        &s,
        scope,
        vec![email("d@x.ru")],
        "D-4",
        now - Duration::minutes(1),
    )
    .await;

    s.app.outbox.drain().await.unwrap();

    for r in [&ga4, &metrika, &esputnik, &hook] {
        assert_eq!(r.errors(), Vec::<String>::new(), "{}", r.base);
    }
    // GA4: only the fresh won deal with a client id is inside 72 hours.
    let got = ga4.received();
    assert_eq!(got.len(), 1, "GA4 requests");
    let body = got[0].json();
    assert_eq!(body["client_id"], "1.1700000000");
    let e = &body["events"][0];
    assert_eq!(e["name"], "purchase");
    assert_eq!(e["params"]["transaction_id"], format!("deal-{fresh}"));
    assert_eq!(e["params"]["value"], 1500.5);
    assert_eq!(e["params"]["currency"], "RUB");

    // Metrika: the fresh and the four-day-old deal, one CSV upload.
    let got = metrika.received();
    assert_eq!(got.len(), 1, "one batched upload");
    assert!(got[0].uri.ends_with("client_id_type=CLIENT_ID"));
    let csv = multipart_part(got[0].header("content-type"), &got[0].body, "file").unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows
        .iter()
        .any(|r| r.starts_with("170000000001,deal_won,") && r.ends_with(",1500.50,RUB")));
    let four_ts = (now - Duration::days(4)).timestamp();
    assert!(
        rows.iter().any(|r| r.starts_with("170000000002,deal_won,")
            && (r.split(',').nth(2).unwrap().parse::<i64>().unwrap() - four_ts).abs() <= 1),
        "{csv}"
    );

    // Skips carry their reasons.
    let skipped = s
        .call(
            Method::GET,
            "/api/v1/outbox?status=skipped&limit=50",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.text);
    let reasons: Vec<(String, String)> = skipped.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["destination_kind"].as_str().unwrap().to_owned(),
                m["skip_reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |kind: &str, text: &str| reasons.iter().any(|(k, r)| k == kind && r.contains(text));
    assert!(has("ga4", "outside the GA4 window"), "{reasons:?}");
    assert!(has("metrika", "outside the Metrika window"), "{reasons:?}");
    assert!(has("ga4", "no GA client id"), "{reasons:?}");
    assert!(has("metrika", "no Metrika ClientId"), "{reasons:?}");
    assert_eq!(
        reasons.iter().filter(|(k, _)| k == "ga4").count(),
        3,
        "{reasons:?}"
    );
    let four_day_ga4 = skipped.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["destination_kind"] == "ga4"
                && m["payload"]["params"]["transaction_id"] == format!("deal-{four_days}")
        })
        .unwrap();
    assert!(four_day_ga4["skip_reason"]
        .as_str()
        .unwrap()
        .contains("96 h old"));

    // Webhooks: every lead and stage change, signed; one delivery per key.
    let got = hook.received();
    let types: Vec<String> = got
        .iter()
        .map(|r| r.header("x-skvoz-event").to_owned())
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "lead.created").count(),
        4,
        "{types:?}"
    );
    assert!(
        types.iter().filter(|t| *t == "deal.stage_changed").count() >= 8,
        "{types:?}"
    );
    let keys: std::collections::HashSet<&str> =
        got.iter().map(|r| r.header("x-skvoz-delivery")).collect();
    assert_eq!(keys.len(), got.len());
    assert!(got.iter().all(|r| r.uri == "/hooks/skvoz"));

    // eSputnik: each stage change with the contact's e-mail as keyValue.
    let got = esputnik.received();
    assert!(got.len() >= 8);
    assert!(got.iter().all(|r| r.json()["eventTypeKey"] == "dealStage"));
    assert!(got.iter().any(|r| r.json()["keyValue"] == "a@x.ru"));

    // Relaying again makes nothing new: the cursor moved with the messages.
    assert_eq!(s.app.outbox.drain().await.unwrap(), 0);
    assert_eq!(ga4.received().len(), 1);

    // The event log pages by id.
    let page = s
        .call(Method::GET, "/api/v1/events?limit=3", Some(&key), None)
        .await;
    assert_eq!(page.body["events"].as_array().unwrap().len(), 3);
    let next = page.body["next_after"].as_i64().unwrap();
    let rest = s
        .call(
            Method::GET,
            &format!("/api/v1/events?after={next}&limit=1000"),
            Some(&key),
            None,
        )
        .await;
    assert!(rest.body["events"][0]["id"].as_i64().unwrap() > next);

    // Metrics count deliveries per kind.
    let m = s.call(Method::GET, "/metrics", None, None).await;
    assert!(
        m.text
            .contains("skvoz_outbox_messages_total{kind=\"ga4\",outcome=\"delivered\"}"),
        "{}",
        m.text
    );
    assert!(m
        .text
        .contains("skvoz_outbox_messages_total{kind=\"ga4\",outcome=\"skipped\"}"));
}

#[tokio::test]
async fn a_dead_letter_is_retried_from_the_api_and_the_outbox_is_per_project() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("dead").await;
    let (_, _, other_key) = s.project("other").await;
    let scope = Scope::new(skvoz_domain::ProjectId(pid));
    let hook = Receiver::start(check_webhook).await;
    let wh = hook.base.clone();
    s.patch_settings(&key, |doc| {
        doc["webhooks"] = json!([{"id": "h1", "url": format!("{wh}/in"), "secret": SECRET, "events": ["lead.created"]}]);
    })
    .await;

    // A refusal (400) is permanent: straight to the dead letters.
    hook.answer(400);
    won_deal(&s, scope, vec![email("x@y.ru")], "D-9", Utc::now()).await;
    s.app.outbox.drain().await.unwrap();
    let dead = s
        .call(Method::GET, "/api/v1/outbox?status=dead", Some(&key), None)
        .await;
    let msgs = dead.body["messages"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 1, "{}", dead.text);
    assert_eq!(msgs[0]["attempts"], 1);
    assert!(msgs[0]["last_error"]
        .as_str()
        .unwrap()
        .starts_with("HTTP 400"));
    let id = msgs[0]["id"].as_i64().unwrap();
    assert_eq!(dead.body["counts"]["dead"], 1);

    // Another project sees nothing and cannot retry it.
    let theirs = s
        .call(Method::GET, "/api/v1/outbox", Some(&other_key), None)
        .await;
    assert_eq!(theirs.body["messages"], json!([]));
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r), "not_found");
    let r = s
        .call(Method::POST, "/api/v1/outbox/retry", Some(&other_key), None)
        .await;
    assert_eq!(r.body["retried"], 0);

    // A temporary failure (503 + Retry-After: 7) is retried on the
    // receiver's schedule.
    hook.answer(503);
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.app.outbox.drain().await.unwrap();
    let pending = s
        .call(
            Method::GET,
            "/api/v1/outbox?status=pending",
            Some(&key),
            None,
        )
        .await;
    let m = &pending.body["messages"][0];
    assert_eq!(m["attempts"], 1);
    let next: chrono::DateTime<Utc> = serde_json::from_value(m["next_attempt_at"].clone()).unwrap();
    let wait = next - Utc::now();
    assert!(
        wait > Duration::seconds(4) && wait <= Duration::seconds(7),
        "{wait:?}"
    );

    // Fixed: retrying it again delivers it.
    hook.answer(200);
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "only dead messages are retried"
    );
    // Make it dead again (400), then retry all.
    hook.answer(400);
    s.store
        .finish_outbox(vec![(
            id,
            skvoz_store::OutboxResult::Dead {
                error: "test".into(),
            },
        )])
        .await
        .unwrap();
    hook.answer(200);
    let r = s
        .call(Method::POST, "/api/v1/outbox/retry", Some(&key), None)
        .await;
    assert_eq!(r.body["retried"], 1);
    s.app.outbox.drain().await.unwrap();
    let done = s
        .call(
            Method::GET,
            "/api/v1/outbox?status=delivered",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(done.body["messages"][0]["id"], id);
    assert!(done.body["messages"][0]["delivered_at"].is_string());
    let deliveries: Vec<String> = hook
        .received()
        .iter()
        .map(|r| r.header("idempotency-key").to_owned())
        .collect();
    assert!(
        deliveries.len() >= 3 && deliveries.iter().all(|k| *k == deliveries[0]),
        "the same key on every attempt: {deliveries:?}"
    );

    // Bad filters are named.
    let r = s
        .call(Method::GET, "/api/v1/outbox?status=lost", Some(&key), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "status");
}

#[tokio::test]
async fn outbound_settings_are_validated_with_field_paths() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("val").await;
    let cases = [
        (
            json!({"webhooks": [{"id": "a", "url": "ftp://x", "secret": SECRET, "events": ["*"]}]}),
            "webhooks[0].url",
        ),
        (
            json!({"webhooks": [{"id": "a", "url": "https://x.ru", "secret": "short", "events": ["*"]}]}),
            "webhooks[0].secret",
        ),
        (
            json!({"webhooks": [{"id": "a", "url": "https://x.ru", "secret": SECRET, "events": ["lead.lost"]}]}),
            "webhooks[0].events[0]",
        ),
        (
            json!({"conversions": {"rules": [{"id": "r", "when": {"deal_stage": "won"}, "send_to": ["ga4"]}]}}),
            "conversions.rules[0].send_to[0]",
        ),
        (
            json!({"conversions": {"metrika": {"counter_id": "1", "token": "t"}, "rules": [{"id": "r", "when": {"deal_stage": "won"}, "send_to": ["metrika"]}]}}),
            "conversions.rules[0].metrika_target",
        ),
        (
            json!({"conversions": {"ga4": {"measurement_id": "UA-1", "api_secret": "s"}}}),
            "conversions.ga4.measurement_id",
        ),
        (
            json!({"conversions": {"ga4": {"measurement_id": "G-1", "api_secret": "s"}, "rules": [{"id": "r", "when": {"deal_stage": "paid"}, "send_to": ["ga4"]}]}}),
            "conversions.rules[0].when.deal_stage",
        ),
        (
            json!({"esputnik": {"events": {"deal.stage_changed": "k"}}}),
            "esputnik.api_key",
        ),
    ];
    for (doc, field) in cases {
        let r = s
            .call(
                Method::PUT,
                "/api/v1/settings",
                Some(&key),
                Some(doc.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{doc}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["field"], field, "{doc}");
    }
}

/// Metrika's calls upload: the calls columns, OAuth, multipart `file`.
fn check_metrika_calls(r: &Received) -> Result<(), String> {
    if !r.uri.starts_with(
        "/management/v1/counter/4242/offline_conversions/upload_calls?client_id_type=CLIENT_ID",
    ) {
        return Err(format!("wrong path {}", r.uri));
    }
    if r.header("authorization") != "OAuth ym-token" {
        return Err("Authorization must be OAuth <token>".into());
    }
    let csv = multipart_part(r.header("content-type"), &r.body, "file")?;
    let text = String::from_utf8(csv).map_err(|e| e.to_string())?;
    let header = text.lines().next().unwrap_or("");
    if header != skvoz_connectors::outbound::metrika::CALL_COLUMNS.join(",") {
        return Err(format!("wrong calls header {header}"));
    }
    Ok(())
}

#[tokio::test]
async fn target_calls_go_to_metrika_calls_and_call_leads_to_ga4() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("calls").await;
    let scope = Scope::new(skvoz_domain::ProjectId(pid));
    let ga4 = Receiver::start(check_ga4).await;
    let metrika = Receiver::start(check_metrika_calls).await;
    let esputnik = Receiver::start(check_esputnik).await;
    let (ga, ym, es) = (
        ga4.base.clone(),
        metrika.base.clone(),
        esputnik.base.clone(),
    );
    s.patch_settings(&key, |doc| {
        doc["conversions"] = json!({
            "ga4": {"measurement_id": "G-TEST1", "api_secret": "ga-secret", "base_url": ga},
            "metrika": {"counter_id": "4242", "token": "ym-token", "base_url": ym},
            "rules": [
                {"id": "tc", "when": {"event": "call.finished", "target_only": true}, "send_to": ["metrika_calls"]},
                {"id": "cl", "when": {"lead_kind": "call"}, "send_to": ["ga4"], "event_name": "call_lead"}
            ]
        });
        doc["esputnik"] = json!({"api_key": "es-key", "base_url": es, "events": {"call.finished": "callDone"}});
    })
    .await;
    // The caller is a known contact (a support ticket opened no deal) with
    // a Metrika ClientId and a GA client id.
    s.store
        .record_lead(
            scope,
            ticket_lead(
                "t-1",
                Utc::now() - Duration::days(1),
                vec![
                    Identity::new(IdentityKind::Phone, "+79990001122"),
                    Identity::new(IdentityKind::YmUid, "1700000000555"),
                    Identity::new(IdentityKind::GaCid, "5.1700000000"),
                ],
            ),
            lead_policy(),
        )
        .await
        .unwrap();
    let started = (Utc::now() - Duration::minutes(10)).to_rfc3339();
    let r = s
        .call(
            Method::POST,
            "/api/v1/calls",
            Some(&key),
            Some(
                json!({"id": "c-1", "caller": "+79990001122", "called": "+74950000000",
                "started_at": started, "duration": 180, "answered": true}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    s.app.outbox.drain().await.unwrap();
    for r in [&ga4, &metrika, &esputnik] {
        assert_eq!(r.errors(), Vec::<String>::new(), "{}", r.base);
    }
    let all = s
        .call(Method::GET, "/api/v1/outbox?limit=50", Some(&key), None)
        .await;
    let target = all.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["destination_kind"] == "metrika_calls")
        .cloned()
        .unwrap_or_default();
    // Answered for 180 s: a target call by the default rule (≥ 30 s).
    assert_eq!(target["payload"]["tag"], "target", "{}", all.text);
    assert_eq!(target["status"], "delivered");
    let got = metrika.received();
    assert_eq!(got.len(), 1);
    let csv = multipart_part(got[0].header("content-type"), &got[0].body, "file").unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[0], "1700000000555");
    assert_eq!(row[4], "+79990001122");
    assert_eq!(row[5], "180");
    assert_eq!(row[7], "0", "answered: not missed");
    // The call's lead is a conversion in GA4 under its own name.
    let got = ga4.received();
    assert_eq!(got.len(), 1, "{}", all.text);
    let body = got[0].json();
    assert_eq!(body["client_id"], "5.1700000000");
    assert_eq!(body["events"][0]["name"], "call_lead");
    assert!(body["events"][0]["params"]["transaction_id"]
        .as_str()
        .unwrap()
        .starts_with("lead-"));
    // eSputnik keys the contact by phone when there is no e-mail.
    let got = esputnik.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["keyValue"], "+79990001122");
    assert_eq!(got[0].json()["eventTypeKey"], "callDone");
}

#[tokio::test]
async fn delivered_messages_are_pruned_after_the_retention_and_undelivered_ones_kept() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("prune").await;
    let scope = Scope::new(skvoz_domain::ProjectId(pid));
    let ok = Receiver::start(|_| Ok(())).await;
    let ok_url = ok.base.clone();
    s.patch_settings(&key, |doc| {
        doc["webhooks"] = json!([
            {"id": "ok", "url": format!("{ok_url}/in"), "secret": SECRET, "events": ["lead.created"]},
            {"id": "gone", "url": "http://127.0.0.1:9/in", "secret": SECRET, "events": ["lead.created"]}
        ]);
    })
    .await;
    s.store
        .record_lead(
            scope,
            ticket_lead("p-1", Utc::now(), vec![email("p1@x.ru")]),
            lead_policy(),
        )
        .await
        .unwrap();
    s.app.outbox.drain().await.unwrap();
    assert_eq!(ok.received().len(), 1);
    let statuses = |s: &TestServer| {
        let outbox = s.app.outbox.clone();
        async move {
            let mut v: Vec<String> = outbox
                .list(
                    scope,
                    skvoz_store::OutboxFilter {
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.status)
                .collect();
            v.sort();
            v
        }
    };
    // The unreachable destination is still retrying (pending).
    assert_eq!(statuses(&s).await, ["delivered", "pending"]);
    // Within the default 90 days nothing goes; past them the delivered one.
    assert_eq!(s.app.outbox.prune(Utc::now()).await.unwrap(), 0);
    assert_eq!(
        s.app
            .outbox
            .prune(Utc::now() + Duration::days(91))
            .await
            .unwrap(),
        1
    );
    assert_eq!(statuses(&s).await, ["pending"]);
}
