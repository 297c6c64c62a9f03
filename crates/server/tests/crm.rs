//! Leads, contacts and deals through the HTTP API: visit linking, merge and
//! dedup scenarios, deal upserts, CRM webhooks with their fixtures, the
//! Alytics export served and pulled back, project isolation.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::Engine;
use common::{error_code, TestServer};
use serde_json::{json, Value};

async fn visit(s: &TestServer, pk: &str, vid: &str, url: &str) -> Value {
    s.collect(json!({"key": pk, "vid": vid, "url": url, "ga_cid": format!("ga.{vid}")}))
        .await
}

async fn lead(s: &TestServer, key: &str, body: Value) -> common::Reply {
    s.call(Method::POST, "/api/v1/leads", Some(key), Some(body))
        .await
}

#[tokio::test]
async fn a_form_lead_links_its_visit_and_opens_a_deal() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let v = visit(
        &s,
        &pk,
        "v1",
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=sofa",
    )
    .await;
    let code = v["visit_code"].as_i64().unwrap();
    let r = lead(&s, &key, json!({"visit_code": code, "phone": "8 (999) 123-45-67", "name": "Иван", "form": "callback"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["duplicate"], false);
    let contact = r.body["contact_id"].as_i64().unwrap();
    let deal = r.body["deal_id"].as_i64().unwrap();
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::OK);
    let ids: Vec<(String, String)> = c.body["contact"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        ids.contains(&("phone".into(), "+79991234567".into())),
        "{ids:?}"
    );
    assert!(ids.contains(&("vid".into(), "v1".into())), "{ids:?}");
    assert!(ids.contains(&("ga_cid".into(), "ga.v1".into())), "{ids:?}");
    assert_eq!(c.body["contact"]["name"], "Иван");
    assert_eq!(c.body["leads"][0]["visit_id"], v["visit_id"]);
    assert_eq!(c.body["deals"][0]["id"], deal);
    assert_eq!(c.body["deals"][0]["stage"], "new");

    // By vid alone, and by GA client id alone: the latest visit before the lead.
    let r = lead(&s, &key, json!({"vid": "v1", "email": "a@b.ru"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = lead(&s, &key, json!({"ga_cid": "ga.v1"})).await;
    assert_eq!(
        r.body["contact_id"].as_i64(),
        Some(contact),
        "found through the visit's vid"
    );
    // Nothing to link: kept, unattributed.
    let r = lead(
        &s,
        &key,
        json!({"phone": "+7 916 000-00-01", "visit_code": 999999}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{}", r.body["contact_id"]),
            Some(&key),
            None,
        )
        .await;
    assert!(c.body["leads"][0]["visit_id"].is_null());
}

#[tokio::test]
async fn dedup_joins_the_open_deal_and_a_deal_after_a_win_is_a_repeat_sale() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let first = lead(&s, &key, json!({"phone": "+79990000001"})).await;
    let second = lead(
        &s,
        &key,
        json!({"phone": "8 999 000-00-01", "form": "again"}),
    )
    .await;
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(second.body["deal_id"], first.body["deal_id"]);
    assert_eq!(second.body["contact_id"], first.body["contact_id"]);
    // The CRM reports the deal: the lead's deal is adopted, not doubled.
    let r = s
        .call(
            Method::PUT,
            "/api/v1/deals/crm-1",
            Some(&key),
            Some(json!({"phone": "+79990000001", "stage": "won", "revenue": 1500.5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["adopted"], true);
    assert_eq!(r.body["deal_id"], first.body["deal_id"]);
    // A lead after the win opens a new deal: a repeat sale.
    let third = lead(&s, &key, json!({"phone": "+79990000001"})).await;
    assert_eq!(third.body["duplicate"], false);
    assert_eq!(third.body["repeat_sale"], true);
    assert_ne!(third.body["deal_id"], first.body["deal_id"]);
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{}", first.body["contact_id"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(c.body["leads"].as_array().unwrap().len(), 3);
    assert_eq!(c.body["leads"][1]["is_duplicate"], true);
    assert_eq!(c.body["deals"].as_array().unwrap().len(), 2);
    assert_eq!(c.body["deals"][1]["repeat_sale"], true);

    // With dedup off, every lead opens a deal.
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    doc["leads"]["dedup"] = json!(false);
    assert_eq!(
        s.call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
            .await
            .status,
        StatusCode::OK
    );
    let a = lead(&s, &key, json!({"email": "x@y.ru"})).await;
    let b = lead(&s, &key, json!({"email": "X@Y.ru "})).await;
    assert_eq!(b.body["duplicate"], false);
    assert_ne!(a.body["deal_id"], b.body["deal_id"]);
    assert_eq!(a.body["contact_id"], b.body["contact_id"]);
}

#[tokio::test]
async fn a_lead_that_proves_two_contacts_are_one_person_merges_them() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let by_phone = lead(&s, &key, json!({"phone": "+79991112233", "name": "Ольга"})).await;
    let by_email = lead(&s, &key, json!({"email": "olga@example.ru"})).await;
    assert_ne!(by_phone.body["contact_id"], by_email.body["contact_id"]);
    let both = lead(
        &s,
        &key,
        json!({"phone": "89991112233", "email": "OLGA@example.ru"}),
    )
    .await;
    assert_eq!(both.status, StatusCode::OK);
    let survivor = by_phone.body["contact_id"].as_i64().unwrap();
    assert_eq!(
        both.body["contact_id"].as_i64(),
        Some(survivor),
        "the older contact survives"
    );
    assert_eq!(
        both.body["merged_contacts"],
        json!([by_email.body["contact_id"]])
    );
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{survivor}"),
            Some(&key),
            None,
        )
        .await;
    let kinds: Vec<&str> = c.body["contact"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"phone") && kinds.contains(&"email"));
    assert_eq!(c.body["leads"].as_array().unwrap().len(), 3, "history kept");
    assert_eq!(
        c.body["contact"]["merged_from"],
        json!([by_email.body["contact_id"]])
    );
    // The merged id still leads to the survivor.
    let old = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{}", by_email.body["contact_id"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(old.body["contact"]["id"].as_i64(), Some(survivor));
}

#[tokio::test]
async fn junk_phones_and_bad_fields_are_422_and_store_nothing() {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("shop").await;
    for (body, field) in [
        (json!({"phone": "12345"}), "phone"),
        (json!({"phone": "call me maybe"}), "phone"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"visit_code": "abc"}), "visit_code"),
        (
            json!({"phone": "+79991234567", "unexpected": 1}),
            "unexpected",
        ),
        // Regression: an empty body (or one that parses as empty) made a
        // lead of nobody from nowhere.
        (json!({}), "phone"),
        (json!([]), "phone"),
        (json!([null]), "phone"),
        (json!({"name": "Only a name", "form": "callback"}), "phone"),
    ] {
        let r = lead(&s, &key, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_code(&r), "invalid");
        assert_eq!(r.body["error"]["field"], field, "{body}");
        if field == "phone" && body.get("phone").is_none() {
            let message = r.body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("visit_code") && message.contains("email"),
                "{message}"
            );
        }
    }
    let from = "2000-01-01T00:00:00Z".parse().unwrap();
    let to = "2100-01-01T00:00:00Z".parse().unwrap();
    let leads = s
        .store
        .leads_between(
            skvoz_store::Scope::new(skvoz_domain::ProjectId(pid)),
            from,
            to,
        )
        .await
        .unwrap();
    assert!(leads.is_empty());
}

#[tokio::test]
async fn deal_upserts_keep_stage_history_and_are_idempotent() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let v = visit(
        &s,
        &pk,
        "d1",
        "https://shop.ru/?utm_source=google&utm_medium=cpc",
    )
    .await;
    let body = json!({"status": "open", "stage": "qualified", "revenue": 25000, "email": "buyer@shop.ru",
        "visit_code": v["visit_code"], "created_at": "2026-03-01T10:00:00Z"});
    let r = s
        .call(
            Method::PUT,
            "/api/v1/deals/amo-77",
            Some(&key),
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let again = s
        .call(Method::PUT, "/api/v1/deals/amo-77", Some(&key), Some(body))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["changed"], false, "a redelivery changes nothing");
    let won = s
        .call(
            Method::PUT,
            "/api/v1/deals/amo-77",
            Some(&key),
            Some(json!({"status": "won", "revenue": 24000.99, "profit": 8000})),
        )
        .await;
    assert_eq!(won.body["changed"], true);
    let d = s
        .call(Method::GET, "/api/v1/deals/amo-77", Some(&key), None)
        .await;
    assert_eq!(d.body["deal"]["status"], "won");
    assert_eq!(
        d.body["deal"]["stage"], "won",
        "a status without a stage takes the first stage of that kind"
    );
    assert_eq!(d.body["deal"]["revenue"], 24000.99);
    assert_eq!(d.body["deal"]["profit"], 8000.0);
    assert_eq!(d.body["deal"]["visit_id"], v["visit_id"]);
    assert!(d.body["deal"]["closed_at"].is_string());
    let stages: Vec<&str> = d.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, vec!["qualified", "won"]);
    // Contradictions and unknown stages are refused.
    let r = s
        .call(
            Method::PUT,
            "/api/v1/deals/amo-78",
            Some(&key),
            Some(json!({"status": "lost", "stage": "won"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .call(
            Method::PUT,
            "/api/v1/deals/amo-78",
            Some(&key),
            Some(json!({"stage": "nonexistent"})),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "stage");
    let r = s
        .call(Method::GET, "/api/v1/deals/amo-78", Some(&key), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn projects_are_isolated_on_leads_deals_and_contacts() {
    let s = TestServer::new().await;
    let (_, _, key_a) = s.project("a").await;
    let (_, _, key_b) = s.project("b").await;
    let a = lead(&s, &key_a, json!({"phone": "+79995550000"})).await;
    let b = lead(&s, &key_b, json!({"phone": "+79995550000"})).await;
    assert_ne!(
        a.body["contact_id"], b.body["contact_id"],
        "same phone, different projects: different contacts"
    );
    assert_eq!(b.body["duplicate"], false);
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{}", a.body["contact_id"]),
            Some(&key_b),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    s.call(
        Method::PUT,
        "/api/v1/deals/x-1",
        Some(&key_a),
        Some(json!({"stage": "new"})),
    )
    .await;
    let r = s
        .call(Method::GET, "/api/v1/deals/x-1", Some(&key_b), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = s
        .call(
            Method::POST,
            "/api/v1/leads",
            None,
            Some(json!({"phone": "+79995550000"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn enable_crm(s: &TestServer, key: &str, patch: impl Fn(&mut Value)) {
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(key), None)
        .await
        .body;
    patch(&mut doc);
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

fn form(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn amocrm_webhooks_apply_once_and_need_the_secret() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let secret = "0123456789abcdef0123";
    enable_crm(&s, &key, |d| {
        d["crm"]["amocrm"]["enabled"] = json!(true);
        d["crm"]["amocrm"]["secret"] = json!(secret);
    })
    .await;
    let body = include_str!("../../connectors/src/crm/fixtures/amocrm/status_won.txt").trim();
    let r = s
        .send(form(&format!("/hooks/{pk}/amocrm?secret=wrong"), body))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        s.call(
            Method::GET,
            "/api/v1/deals/amocrm:24785331",
            Some(&key),
            None
        )
        .await
        .status
            == StatusCode::NOT_FOUND
    );
    let r = s
        .send(form(&format!("/hooks/{pk}/amocrm?secret={secret}"), body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["created"], 1);
    let d = s
        .call(
            Method::GET,
            "/api/v1/deals/amocrm:24785331",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(d.body["deal"]["status"], "won");
    assert_eq!(d.body["deal"]["revenue"], 15000.0);
    let history_len = d.body["history"].as_array().unwrap().len();
    // Redelivered: nothing changes.
    let r = s
        .send(form(&format!("/hooks/{pk}/amocrm?secret={secret}"), body))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["created"], 0);
    assert_eq!(r.body["changed"], 0);
    let d = s
        .call(
            Method::GET,
            "/api/v1/deals/amocrm:24785331",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(d.body["history"].as_array().unwrap().len(), history_len);
    // Several leads per delivery; a malformed body is a 422.
    let two = include_str!("../../connectors/src/crm/fixtures/amocrm/add_two_leads.txt").trim();
    let r = s
        .send(form(&format!("/hooks/{pk}/amocrm?secret={secret}"), two))
        .await;
    assert_eq!(r.body["deals"], 2, "{}", r.text);
    let bad =
        include_str!("../../connectors/src/crm/fixtures/amocrm/malformed_missing_id.txt").trim();
    let r = s
        .send(form(&format!("/hooks/{pk}/amocrm?secret={secret}"), bad))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn bitrix24_events_read_the_deal_back_from_the_portal() {
    use axum::routing::get;
    let deal_won = include_str!("../../connectors/src/crm/fixtures/bitrix24/deal_won.json");
    let portal = axum::Router::new().route(
        "/rest/1/code/crm.deal.get.json",
        get(
            move |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                if q.get("id").map(String::as_str) == Some("45") {
                    (
                        StatusCode::OK,
                        [(header::CONTENT_TYPE, "application/json")],
                        deal_won.to_owned(),
                    )
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error":"","error_description":"Not found"}"#.to_owned(),
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, portal).await.unwrap() });

    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    enable_crm(&s, &key, |d| {
        d["crm"]["bitrix24"]["enabled"] = json!(true);
        d["crm"]["bitrix24"]["rest_webhook_secret"] = json!(format!("http://{addr}/rest/1/code/"));
        d["crm"]["bitrix24"]["application_token"] = json!("abc123");
    })
    .await;
    // The secret URL is masked on read.
    let doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    assert_eq!(doc["crm"]["bitrix24"]["rest_webhook_secret"], "********");
    let event = include_str!("../../connectors/src/crm/fixtures/bitrix24/event_update.txt").trim();
    let forged = event.replace("abc123", "forged");
    let r = s
        .send(form(&format!("/hooks/{pk}/bitrix24"), &forged))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let start = std::time::Instant::now();
    let r = s.send(form(&format!("/hooks/{pk}/bitrix24"), event)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
    let d = s
        .call(Method::GET, "/api/v1/deals/bitrix24:45", Some(&key), None)
        .await;
    assert_eq!(d.body["deal"]["status"], "won", "{}", d.text);
    assert_eq!(d.body["deal"]["revenue"], 15000.0);
    let r = s.send(form(&format!("/hooks/{pk}/bitrix24"), event)).await;
    assert_eq!(r.body["changed"], 0, "redelivery changes nothing");
}

#[tokio::test]
async fn the_alytics_export_serves_won_deals_and_our_own_pull_reads_it_back() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    enable_crm(&s, &key, |d| {
        d["crm"]["alytics_export"] =
            json!({"login": "alytics", "password": "s3cret-pass", "stages": ["won", "qualified"]});
    })
    .await;
    let v = visit(&s, &pk, "ax", "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=sofa&utm_content=ad1&utm_term=buy+sofa").await;
    // Won at 2026-03-01 23:30 Moscow = 20:30 UTC: that Moscow day.
    let r = s
        .call(Method::PUT, "/api/v1/deals/ord-1", Some(&key), Some(json!({"visit_code": v["visit_code"], "status": "won",
            "revenue": 1500.5, "profit": 300, "created_at": "2026-03-01T09:00:00Z", "closed_at": "2026-03-01T20:30:00Z", "product": "Sofa"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alytics:s3cret-pass")
    );
    let get = |uri: String, auth: Option<String>| {
        let mut b = Request::get(uri);
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(Body::empty()).unwrap()
    };
    let r = s
        .send(get("/export/alytics/0/?date=2026-03-01".into(), None))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.get(header::WWW_AUTHENTICATE).is_some());
    let r = s
        .send(get(
            "/export/alytics/0/?date=2026-03-01".into(),
            Some(auth.clone()),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let t = &r.body["data"]["transactions"][0];
    assert_eq!(t["id"], "ord-1");
    assert_eq!(t["revenue"], 1500.5);
    assert_eq!(t["creation_date"], "2026-03-01 23:30:00");
    assert_eq!(t["utm_source"], "yandex");
    assert_eq!(t["utm_term"], "buy sofa");
    assert_eq!(t["client_id"], "ga.ax");
    let r = s
        .send(get(
            "/export/alytics/0/?date=2026-03-02".into(),
            Some(auth.clone()),
        ))
        .await;
    assert_eq!(r.body["data"]["transactions"], json!([]));
    // The base URL without a goal number is goal 0.
    let r = s
        .send(get(
            "/export/alytics/?date=2026-03-01".into(),
            Some(auth.clone()),
        ))
        .await;
    assert_eq!(r.body["data"]["transactions"].as_array().unwrap().len(), 1);

    // Serve the same router on a real port and pull it into another project.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = s.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let (_, _, key2) = s.project("mirror").await;
    enable_crm(&s, &key2, |d| {
        d["crm"]["alytics_pull"] = json!([{"name": "shop", "url": format!("http://{addr}/export/alytics/0/"),
            "login": "alytics", "password": "s3cret-pass"},
            {"name": "broken", "url": format!("http://{addr}/export/alytics/0/"), "login": "alytics", "password": "wrong"}]);
    })
    .await;
    let r = s
        .call(
            Method::POST,
            "/api/v1/crm/alytics/pull?date=2026-03-01",
            Some(&key2),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = s
        .call(
            Method::GET,
            "/api/v1/deals/alytics:shop:ord-1",
            Some(&key2),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["deal"]["revenue"], 1500.5);
    assert_eq!(d.body["deal"]["status"], "won");
    let st = s
        .call(Method::GET, "/api/v1/crm/alytics/status", Some(&key2), None)
        .await;
    let runs = st.body["runs"].as_array().unwrap();
    let broken = runs.iter().find(|r| r["source"] == "broken").unwrap();
    assert_eq!(broken["ok"], false);
    assert!(
        broken["error"].as_str().unwrap().contains("401"),
        "{broken}"
    );
    let ok = runs.iter().find(|r| r["source"] == "shop").unwrap();
    assert_eq!(ok["transactions"], 1);
}
