//! Call tracking through the HTTP API on a real router and embedded store:
//! numbers handed out by `/collect`, calls attributed (dynamic, static,
//! unidentified, repeat caller), target/unique/missed calls, call leads,
//! idempotency, Zadarma and Calltouch hooks with their fixtures (a bad or
//! missing signature stores nothing), pools, sizing, reservations surviving
//! a restart, and project isolation.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{error_code, TestServer};
use serde_json::{json, Value};

const ADS_1: &str = "+74951112201";
const ADS_2: &str = "+74951112202";
const PRINT: &str = "+74951112205";
const ZADARMA_SECRET: &str = "test-zadarma-secret";
const CALLTOUCH_SECRET: &str = "calltouch-secret-0123456789";

const Z_END: &str =
    include_str!("../../connectors/src/telephony/fixtures/zadarma/notify_end_answered.txt");
const Z_START: &str =
    include_str!("../../connectors/src/telephony/fixtures/zadarma/notify_start.txt");
const Z_MISSED: &str =
    include_str!("../../connectors/src/telephony/fixtures/zadarma/notify_end_missed.txt");
const CT_LOWER: &str =
    include_str!("../../connectors/src/telephony/fixtures/calltouch/lowercase_get.txt");
const CT_CAMEL: &str =
    include_str!("../../connectors/src/telephony/fixtures/calltouch/camel_post.txt");
/// See `crates/connectors/tests/telephony.rs`: computed independently.
const SIG_START: &str = "ZjgxYWEzOWE4ZDYxNDQ2ZmQyYWRiYTEwZWQ3Yzk4MzE3M2JiMWZlZA==";
const SIG_MISSED: &str = "YzM3MjcxNDNkYWQ1Mjg3NGEzNWNiMTVjMWYzNjU4MGQzMmI5NzVkZQ==";

fn calltracking(numbers: &[&str]) -> Value {
    json!({
        "pools": [
            {"id": "ads", "kind": "dynamic", "numbers": numbers, "rule": {"paid": true}},
            {"id": "print", "kind": "static", "numbers": [PRINT], "source": "Newspaper", "medium": "offline", "campaign": "spring"}
        ],
        "site_numbers": ["+7 (495) 123-45-67"],
        "zadarma": {"enabled": true, "secret": ZADARMA_SECRET},
        "calltouch": {"enabled": true, "secret": CALLTOUCH_SECRET}
    })
}

async fn configure(s: &TestServer, key: &str, section: Value) {
    s.patch_settings(key, |doc| doc["calltracking"] = section)
        .await;
}

async fn visit(s: &TestServer, pk: &str, vid: &str, url: &str) -> Value {
    s.collect(json!({"key": pk, "vid": vid, "url": url})).await
}

async fn call(s: &TestServer, key: &str, body: Value) -> common::Reply {
    s.call(Method::POST, "/api/v1/calls", Some(key), Some(body))
        .await
}

fn generic(id: &str, caller: &str, called: &str, duration: u32, answered: bool) -> Value {
    json!({"id": id, "caller": caller, "called": called, "started_at": Utc::now().to_rfc3339(),
        "duration": duration, "answered": answered})
}

async fn calls(s: &TestServer, key: &str) -> Vec<Value> {
    let r = s.call(Method::GET, "/api/v1/calls", Some(key), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["calls"].as_array().unwrap().clone()
}

#[tokio::test]
async fn dynamic_static_unidentified_and_repeat_calls() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    configure(&s, &key, calltracking(&[ADS_1, ADS_2])).await;

    // A paid visit gets a number; a direct one does not.
    let paid = visit(
        &s,
        &pk,
        "v1",
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=sofa",
    )
    .await;
    let number = paid["phone"].as_str().unwrap().to_owned();
    assert!([ADS_1, ADS_2].contains(&number.as_str()), "{paid}");
    let direct = visit(&s, &pk, "v2", "https://shop.ru/").await;
    assert_eq!(direct["phone"], Value::Null);
    // A second paid visitor gets the other, free number.
    let paid2 = visit(&s, &pk, "v3", "https://shop.ru/?gclid=abc").await;
    assert_ne!(paid2["phone"], paid["phone"]);
    assert_ne!(paid2["phone"], Value::Null);
    // The visit keeps its number across pages.
    let again = visit(&s, &pk, "v1", "https://shop.ru/catalog").await;
    assert_eq!(again["phone"], paid["phone"]);
    assert_eq!(again["visit_id"], paid["visit_id"]);

    // Dynamic: the visit holding the number at call time; a target call
    // becomes a call lead linked to that visit.
    let r = call(
        &s,
        &key,
        generic("c1", "8 999 111-22-33", &number, 75, true),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["attribution"], "dynamic");
    assert_eq!(r.body["visit_id"], paid["visit_id"]);
    assert_eq!(r.body["is_target"], true);
    assert_eq!(r.body["is_unique"], true);
    assert_eq!(r.body["shared"], false);
    let lead_id = r.body["lead_id"].as_i64().unwrap();
    let contact = r.body["contact_id"].as_i64().unwrap();
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}"),
            Some(&key),
            None,
        )
        .await;
    let lead = &c.body["leads"][0];
    assert_eq!(lead["id"], lead_id);
    assert_eq!(lead["kind"], "call");
    assert_eq!(lead["visit_id"], paid["visit_id"]);
    assert!(c.body["contact"]["identities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["value"] == "+79991112233"));

    // Redelivery: the same call, nothing new.
    let again = call(
        &s,
        &key,
        generic("c1", "8 999 111-22-33", &number, 75, true),
    )
    .await;
    assert_eq!(again.body["replayed"], true);
    assert_eq!(again.body["call_id"], r.body["call_id"]);

    // Static: an offline visit with the pool's source, the lead linked to it.
    let st = call(&s, &key, generic("c2", "+7 916 000-00-01", PRINT, 40, true)).await;
    assert_eq!(st.body["attribution"], "static", "{}", st.text);
    let offline = st.body["visit_id"].as_i64().unwrap();
    let v = s
        .store
        .visit(skvoz_store::Scope::new(skvoz_domain::ProjectId(1)), offline)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.source.source, "newspaper");
    assert_eq!(v.source.medium, "offline");
    assert_eq!(v.source.campaign.as_deref(), Some("spring"));
    assert_eq!(v.landing, format!("tel:{PRINT}"));
    assert_eq!(v.channel, "other");

    // Unidentified: a dynamic number nobody held two hours ago, and a
    // number that is in no pool.
    let mut old = generic("c3", "+7 916 000-00-02", ADS_1, 10, true);
    old["started_at"] = json!((Utc::now() - Duration::hours(2)).to_rfc3339());
    let u = call(&s, &key, old).await;
    assert_eq!(u.body["attribution"], "unidentified", "{}", u.text);
    assert_eq!(u.body["visit_id"], Value::Null);
    assert_eq!(u.body["is_target"], false, "10 s is not a target call");
    assert_eq!(u.body["lead_id"], Value::Null);
    let other = call(
        &s,
        &key,
        generic("c4", "+7 916 000-00-03", "+74950000000", 100, true),
    )
    .await;
    assert_eq!(other.body["attribution"], "unidentified");
    assert!(
        other.body["lead_id"].is_i64(),
        "an unidentified target call is still a lead"
    );

    // Repeat caller: keeps the first call's visit even on another number;
    // a missed call is no target and no longer unique.
    let rep = call(&s, &key, generic("c5", "+79991112233", PRINT, 0, false)).await;
    assert_eq!(rep.body["attribution"], "repeat", "{}", rep.text);
    assert_eq!(rep.body["visit_id"], paid["visit_id"]);
    assert_eq!(rep.body["is_unique"], false);
    assert_eq!(rep.body["is_target"], false);
    assert_eq!(
        rep.body["contact_id"], contact,
        "a known caller's contact is linked"
    );

    let list = calls(&s, &key).await;
    assert_eq!(list.len(), 5);
    let totals = s
        .call(Method::GET, "/api/v1/calls", Some(&key), None)
        .await
        .body["totals"]
        .clone();
    assert_eq!(totals["calls"], 5);
    assert_eq!(totals["target"], 3, "{totals}");
    assert_eq!(totals["missed"], 1);
    assert_eq!(totals["unique"], 4);
    let c5 = list.iter().find(|c| c["source_id"] == "c5").unwrap();
    assert_eq!(c5["missed"], true);
    assert_eq!(c5["source"], "yandex");
    assert_eq!(c5["medium"], "cpc");
    let c2 = list.iter().find(|c| c["source_id"] == "c2").unwrap();
    assert_eq!(c2["source"], "newspaper");
    assert_eq!(c2["pool_id"], "print");
}

#[tokio::test]
async fn repeat_callers_can_be_attributed_afresh() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let mut cfg = calltracking(&[ADS_1]);
    cfg["repeat_caller_keeps_first_source"] = json!(false);
    cfg["unique_days"] = json!(30);
    configure(&s, &key, cfg).await;
    let first = call(&s, &key, generic("a1", "+79990000001", PRINT, 60, true)).await;
    assert_eq!(first.body["attribution"], "static");
    let second = call(&s, &key, generic("a2", "+79990000001", PRINT, 60, true)).await;
    assert_eq!(second.body["attribution"], "static");
    assert_ne!(second.body["visit_id"], first.body["visit_id"]);
    assert_eq!(second.body["is_unique"], false, "called within 30 days");
}

#[tokio::test]
async fn an_exhausted_pool_shares_the_least_recently_released_number() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    configure(&s, &key, calltracking(&[ADS_1])).await;
    let a = visit(
        &s,
        &pk,
        "a",
        "https://shop.ru/?utm_source=google&utm_medium=cpc",
    )
    .await;
    let b = visit(
        &s,
        &pk,
        "b",
        "https://shop.ru/?utm_source=google&utm_medium=cpc",
    )
    .await;
    assert_eq!(a["phone"], ADS_1);
    assert_eq!(b["phone"], ADS_1, "exhausted: the number is reused");
    s.app.calls.numbers().flush().await.unwrap();
    let pools = s
        .call(Method::GET, "/api/v1/callpools", Some(&key), None)
        .await;
    assert_eq!(pools.status, StatusCode::OK, "{}", pools.text);
    let ads = &pools.body["pools"][0];
    assert_eq!(ads["id"], "ads");
    assert_eq!(ads["busy_now"], 1);
    assert_eq!(ads["holders_now"], 2);
    assert_eq!(ads["visits_7d"], 2);
    assert_eq!(ads["shared_7d"], 1);
    assert_eq!(ads["shared_rate_7d"], 0.5);
    assert_eq!(pools.body["pools"][1]["kind"], "static");
    // A call to the shared number goes to the latest holder, marked shared.
    let r = call(&s, &key, generic("s1", "+79990000009", ADS_1, 45, true)).await;
    assert_eq!(r.body["visit_id"], b["visit_id"]);
    assert_eq!(r.body["shared"], true);

    let sizing = s
        .call(
            Method::GET,
            "/api/v1/callpools/ads/sizing?days=1",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(sizing.status, StatusCode::OK, "{}", sizing.text);
    assert_eq!(sizing.body["visits"], 2);
    assert_eq!(sizing.body["peak_concurrent"], 2);
    assert_eq!(sizing.body["recommended"], 2);
    assert_eq!(sizing.body["predicted_shared_rate"], 0.5);
    assert_eq!(sizing.body["current_shared_rate"], 0.5);
    let r = s
        .call(
            Method::GET,
            "/api/v1/callpools/print/sizing",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .call(
            Method::GET,
            "/api/v1/callpools/nope/sizing",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    error_code(&r);
    let r = s
        .call(
            Method::GET,
            "/api/v1/callpools/ads/sizing?days=1000",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_ping_keeps_the_number_and_answers_the_substitution_config() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    configure(&s, &key, calltracking(&[ADS_1, ADS_2])).await;
    let v = visit(
        &s,
        &pk,
        "p1",
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc",
    )
    .await;
    let ping = |vid: &str| {
        Request::post("/collect/hold")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(
                json!({"key": pk, "vid": vid, "visit_id": v["visit_id"]}).to_string(),
            ))
            .unwrap()
    };
    let r = s.send(ping("p1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["phone"], v["phone"]);
    assert_eq!(r.body["numbers"], json!(["4951234567"]));
    assert_eq!(r.body["selectors"], json!([".skvoz-phone"]));
    // Another visitor cannot take over or extend someone's number.
    let r = s.send(ping("intruder")).await;
    assert_eq!(r.body["phone"], Value::Null);
    let bad = Request::post("/collect/hold")
        .body(Body::from(
            json!({"key": "nope", "vid": "x", "visit_id": 1}).to_string(),
        ))
        .unwrap();
    let r = s.send(bad).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    error_code(&r);
    let r = s
        .send(
            Request::post("/collect/hold")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

fn form(uri: &str, body: &str, signature: Option<&str>) -> Request<Body> {
    let mut b =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(sig) = signature {
        b = b.header("Signature", sig);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn zadarma_hooks_are_signed_and_idempotent() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    let uri = format!("/hooks/{pk}/zadarma");
    // Disabled: no such connector.
    let r = s.send(form(&uri, Z_END, Some(SIG_START))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mut cfg = calltracking(&[ADS_1, ADS_2]);
    cfg["zadarma"]["api_key"] = json!("zadarma-api-key");
    configure(&s, &key, cfg).await;
    // Secrets are masked on read, and a masked document written back keeps them.
    let doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    assert_eq!(doc["calltracking"]["zadarma"]["secret"], "********");
    assert_eq!(doc["calltracking"]["zadarma"]["api_key"], "********");
    assert_eq!(doc["calltracking"]["calltouch"]["secret"], "********");
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let echo = s
        .send(
            Request::get(format!("{uri}?zd_echo=4f1a9"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(echo.status, StatusCode::OK);
    assert_eq!(echo.text, "4f1a9");

    for sig in [None, Some(""), Some("d3Jvbmc="), Some(SIG_MISSED)] {
        let r = s.send(form(&uri, Z_END, sig)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{sig:?}");
        error_code(&r);
    }
    assert!(
        calls(&s, &key).await.is_empty(),
        "nothing stored without a valid signature"
    );

    let start = s.send(form(&uri, Z_START, Some(SIG_START))).await;
    assert_eq!(start.status, StatusCode::OK, "{}", start.text);
    assert_eq!(start.body["event"], "NOTIFY_START");
    assert_eq!(start.body["call"], Value::Null);
    let end = s.send(form(&uri, Z_END, Some(SIG_START))).await;
    assert_eq!(end.status, StatusCode::OK, "{}", end.text);
    assert_eq!(
        end.body["call"]["attribution"], "unidentified",
        "{}",
        end.text
    );
    assert_eq!(end.body["call"]["is_target"], true);
    let again = s.send(form(&uri, Z_END, Some(SIG_START))).await;
    assert_eq!(again.body["call"]["replayed"], true);
    let missed = s.send(form(&uri, Z_MISSED, Some(SIG_MISSED))).await;
    assert_eq!(missed.status, StatusCode::OK, "{}", missed.text);
    // The fixtures' calls are of March 2026: outside the default week.
    let recent = s
        .call(
            Method::GET,
            "/api/v1/calls?from=2026-03-03",
            Some(&key),
            None,
        )
        .await;
    assert!(
        recent.body["calls"].as_array().unwrap().is_empty(),
        "{}",
        recent.text
    );
    let all = s
        .call(
            Method::GET,
            "/api/v1/calls?from=2026-03-01&to=2026-03-03",
            Some(&key),
            None,
        )
        .await;
    let all = all.body["calls"].as_array().unwrap().clone();
    assert_eq!(all.len(), 2);
    let m = all.iter().find(|c| c["caller"] == "+79997654321").unwrap();
    assert_eq!(m["missed"], true);
    assert_eq!(m["provider"], "zadarma");
    assert_eq!(m["number"], ADS_2);
    assert_eq!(m["started_at"], "2026-03-02T12:40:02Z");
}

#[tokio::test]
async fn calltouch_hooks_accept_both_spellings_behind_a_secret() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("shop").await;
    configure(&s, &key, calltracking(&[ADS_1, ADS_2])).await;
    let get = |secret: &str| {
        Request::get(format!("/hooks/{pk}/calltouch?secret={secret}&{CT_LOWER}"))
            .body(Body::empty())
            .unwrap()
    };
    for secret in ["", "wrong-secret-0123456789"] {
        let r = s.send(get(secret)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        error_code(&r);
    }
    let r = s
        .send(form(&format!("/hooks/{pk}/calltouch"), CT_CAMEL, None))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let all = "/api/v1/calls?from=2026-03-01&to=2026-03-03";
    assert!(
        s.call(Method::GET, all, Some(&key), None).await.body["calls"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let r = s.send(get(CALLTOUCH_SECRET)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["call"]["is_target"], true);
    let uri = format!("/hooks/{pk}/calltouch?secret={CALLTOUCH_SECRET}");
    let r = s.send(form(&uri, CT_CAMEL, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["call"]["attribution"], "static", "{}", r.text);
    assert_eq!(r.body["call"]["is_target"], false);
    let r = s.send(form(&uri, "phonenumber=74951112201", None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&r), "invalid");
    let list = s.call(Method::GET, all, Some(&key), None).await.body["calls"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 2);
    let camel = list.iter().find(|c| c["source_id"] == "4412399").unwrap();
    assert_eq!(camel["caller"], "+79997654321");
    assert!(camel["recording_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
}

#[tokio::test]
async fn bad_generic_calls_are_refused() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let cases = [
        (json!({"id": "x"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"id": "", "caller": "1", "called": "2", "started_at": Utc::now(), "answered": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"id": "x", "caller": "1", "called": "2", "started_at": Utc::now() + Duration::hours(1), "answered": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"id": "x", "caller": "1", "called": "2", "started_at": Utc::now(), "answered": true, "duration": 100000}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"id": "x", "caller": "1", "called": "2", "started_at": Utc::now(), "answered": true, "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in cases {
        let r = call(&s, &key, body.clone()).await;
        assert_eq!(r.status, status, "{body} -> {}", r.text);
        error_code(&r);
    }
    let r = s
        .call(
            Method::POST,
            "/api/v1/calls",
            None,
            Some(generic("x", "1", "2", 1, true)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s
        .call(
            Method::GET,
            "/api/v1/calls?from=yesterday",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn projects_never_see_each_others_calls_pools_or_hooks() {
    let s = TestServer::new().await;
    let (_, pk_a, key_a) = s.project("a").await;
    let (_, pk_b, key_b) = s.project("b").await;
    configure(&s, &key_a, calltracking(&[ADS_1])).await;
    let mut cfg_b = calltracking(&["+74952220001"]);
    cfg_b["calltouch"]["secret"] = json!("another-secret-0123456789");
    cfg_b["zadarma"]["secret"] = json!("another-zadarma-secret");
    configure(&s, &key_b, cfg_b).await;

    let v = visit(
        &s,
        &pk_a,
        "shared-vid",
        "https://a.ru/?utm_source=yandex&utm_medium=cpc",
    )
    .await;
    assert_eq!(v["phone"], ADS_1);
    // B's visitor with the same cookie gets B's number, not A's.
    let vb = visit(
        &s,
        &pk_b,
        "shared-vid",
        "https://b.ru/?utm_source=yandex&utm_medium=cpc",
    )
    .await;
    assert_eq!(vb["phone"], "+74952220001");
    let a = call(
        &s,
        &key_a,
        generic("same-id", "+79990000001", ADS_1, 60, true),
    )
    .await;
    assert_eq!(a.body["attribution"], "dynamic");
    // The same sender id in B is B's own call, and A's number means nothing in B.
    let b = call(
        &s,
        &key_b,
        generic("same-id", "+79990000001", ADS_1, 60, true),
    )
    .await;
    assert_eq!(b.body["replayed"], false);
    assert_eq!(b.body["attribution"], "unidentified");
    assert_ne!(a.body["call_id"], b.body["call_id"]);
    assert_eq!(calls(&s, &key_a).await.len(), 1);
    let in_b = calls(&s, &key_b).await;
    assert_eq!(in_b.len(), 1);
    assert_eq!(in_b[0]["visit_id"], Value::Null);
    let pools_b = s
        .call(Method::GET, "/api/v1/callpools", Some(&key_b), None)
        .await;
    assert_eq!(pools_b.body["pools"][0]["numbers"], json!(["+74952220001"]));
    // A's secret does not open B's hooks, and B's signature is no good for A.
    let r = s
        .send(
            Request::get(format!(
                "/hooks/{pk_b}/calltouch?secret={CALLTOUCH_SECRET}&{CT_LOWER}"
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s
        .send(form(
            &format!("/hooks/{pk_b}/zadarma"),
            Z_END,
            Some(SIG_START),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A project without pools sees none, and cannot size A's.
    let (_, _, key_c) = s.project("c").await;
    let r = s
        .call(Method::GET, "/api/v1/callpools", Some(&key_c), None)
        .await;
    assert_eq!(r.body["pools"], json!([]));
    let r = s
        .call(
            Method::GET,
            "/api/v1/callpools/ads/sizing",
            Some(&key_c),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(calls(&s, &key_c).await.is_empty());
    // A ping with A's visit under B's key holds nothing.
    let r = s
        .send(
            Request::post("/collect/hold")
                .body(Body::from(
                    json!({"key": pk_b, "vid": "shared-vid", "visit_id": v["visit_id"]})
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.body["phone"], Value::Null);
}

#[tokio::test]
async fn reservations_survive_a_restart() {
    let (pk, key, first, guard) = {
        let s = TestServer::new().await;
        let (_, pk, key) = s.project("shop").await;
        configure(&s, &key, calltracking(&[ADS_1])).await;
        let v = visit(
            &s,
            &pk,
            "before",
            "https://shop.ru/?utm_source=yandex&utm_medium=cpc",
        )
        .await;
        s.app.shutdown().await.unwrap();
        (pk, key, v, s.into_guard())
    };
    let store = guard.reopen().await.unwrap();
    let app = skvoz_app::App::new(store.clone());
    app.tracking.warm_up().await.unwrap();
    let s = TestServer::over(app, store, guard);
    // The number is still held: the next visitor shares it.
    let next = visit(
        &s,
        &pk,
        "after",
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc",
    )
    .await;
    assert_eq!(next["phone"], ADS_1);
    s.app.calls.numbers().flush().await.unwrap();
    let pools = s
        .call(Method::GET, "/api/v1/callpools", Some(&key), None)
        .await;
    assert_eq!(pools.body["pools"][0]["holders_now"], 2, "{}", pools.text);
    assert_eq!(pools.body["pools"][0]["shared_7d"], 1);
    // The first visitor continues with the same number.
    let cont = visit(&s, &pk, "before", "https://shop.ru/page2").await;
    assert_eq!(cont["visit_id"], first["visit_id"]);
    assert_eq!(cont["phone"], ADS_1);
}
