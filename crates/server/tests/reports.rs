//! The channel report, dynamics and the funnel through the HTTP API, on a
//! small data set whose every number is computed by hand here: a visitor
//! who came from organic search, then a Yandex ad, then directly, and
//! left a lead that became a won deal; a visitor from VK who left a lead;
//! a direct visitor who did not; a lead with no visit; and visits on
//! either side of a local midnight.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{error_code, TestServer};
use serde_json::{json, Value};
use std::collections::HashMap;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Sends hits with explicit times; returns each hit's answer.
async fn hits(s: &TestServer, key: &str, hits: Value) -> Vec<Value> {
    let r = s
        .call(Method::POST, "/api/v1/hits", Some(key), Some(hits))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    match r.body {
        Value::Array(a) => a,
        Value::Object(_) if r.body["hits"].is_array() => r.body["hits"].as_array().unwrap().clone(),
        other => vec![other],
    }
}

fn hit(vid: &str, at: &str, url: &str, referrer: Option<&str>) -> Value {
    let mut h = json!({"vid": vid, "at": at, "url": url, "ua": UA});
    if let Some(r) = referrer {
        h["referrer"] = json!(r);
    }
    h
}

/// The scenario; returns the API key.
async fn scenario(s: &TestServer) -> String {
    let (_, _, key) = s.project("shop").await;
    hits(
        s,
        &key,
        json!([
            hit(
                "a",
                "2026-10-02T10:00:00+03:00",
                "https://shop.ru/",
                Some("https://www.google.com/")
            ),
            hit(
                "a",
                "2026-10-05T10:00:00+03:00",
                "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand",
                None
            ),
            hit(
                "a",
                "2026-10-09T10:00:00+03:00",
                "https://shop.ru/cart",
                None
            ),
            hit("c", "2026-10-11T09:00:00+03:00", "https://shop.ru/", None),
            // Local midnight: 23:30 on Oct 31 is October; 00:30 on Nov 1
            // (still Oct 31 in UTC) is November.
            hit(
                "d",
                "2026-10-31T23:30:00+03:00",
                "https://shop.ru/",
                Some("https://otzovik.com/review")
            ),
            hit("e", "2026-11-01T00:30:00+03:00", "https://shop.ru/", None),
        ]),
    )
    .await;
    let b = hits(
        s,
        &key,
        json!(hit(
            "b",
            "2026-10-10T12:00:00+03:00",
            "https://shop.ru/?utm_source=vk&utm_medium=social",
            None
        )),
    )
    .await;
    let code_b = b[0]["visit_code"].as_i64().unwrap();
    for lead in [
        json!({"vid": "a", "phone": "+79990000001", "created_at": "2026-10-09T10:00:00+03:00"}),
        json!({"visit_code": code_b, "email": "b@example.com", "created_at": "2026-10-10T12:05:00+03:00"}),
        json!({"phone": "+79990000003", "created_at": "2026-10-12T10:00:00+03:00"}),
    ] {
        let r = s
            .call(Method::POST, "/api/v1/leads", Some(&key), Some(lead))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = s
        .call(
            Method::PUT,
            "/api/v1/deals/crm-1",
            Some(&key),
            Some(json!({"status": "won", "revenue": 9000, "profit": 3000, "phone": "+79990000001",
                        "created_at": "2026-10-09T10:00:00+03:00", "closed_at": "2026-10-20T12:00:00+03:00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["adopted"], true, "{}", r.text);
    key
}

async fn report(s: &TestServer, key: &str, query: &str) -> Value {
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/channels?{query}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
    r.body
}

fn rows_by(report: &Value, dim: &str) -> HashMap<String, Value> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[dim].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

const OCT: &str = "from=2026-10-01&to=2026-10-31";

#[tokio::test]
async fn every_model_credits_the_hand_computed_touches() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    // Lead A's journey: organic (7 days before), paid search (4 days
    // before), direct (the lead's own visit). Lead B: social only. The
    // third lead has no visit. A's deal is won for 9000.
    let td = {
        let w = [0.5f64, 2f64.powf(-4.0 / 7.0), 1.0];
        let sum: f64 = w.iter().sum();
        w.map(|x| x / sum)
    };
    // Hundredths apportioned over the rows (direct .4602, paid .3097,
    // organic .2301, social 1, unattributed 1 → 300): paid takes the spare.
    assert!((td[0] - 0.2301).abs() < 1e-4 && (td[1] - 0.3097).abs() < 1e-4);
    // Markov: paths [organic, paid, direct]→conv, [social]→conv,
    // [direct]→null, [referral]→null. P(conv) = 1/2; removal effects
    // organic 1/4, paid 1/4, direct 1/2, social 1/2 (sum 3/2). `markov`
    // splits the 2 leads with a journey by those: 1/3, 1/3, 2/3, 2/3
    // (hundredths: .33 .33 .67 .67); `markov_path` splits A's own journey
    // .25/.25/.5. The sale: [organic, paid, direct]→conv and the other
    // three paths →null: P = 1/4, effects 1/2, 1/2, 1 → paid search 1/4 of
    // 9000 both ways.
    // Shapley: only the set {organic, paid, direct} converts among its
    // subsets (v = 1, every smaller set 0), so each gets 1/3; social's
    // own set converts: 1.
    let cases: Vec<(&str, [f64; 4], f64)> = vec![
        // model, leads credited to [organic, paid, direct, social], paid-search revenue
        ("first_click", [1.0, 0.0, 0.0, 1.0], 0.0),
        ("last_click", [0.0, 0.0, 1.0, 1.0], 0.0),
        ("last_non_direct", [0.0, 1.0, 0.0, 1.0], 9000.0),
        ("last_paid", [0.0, 1.0, 0.0, 1.0], 9000.0),
        // Three equal thirds: the spare hundredth goes to the first group.
        ("linear", [0.34, 0.33, 0.33, 1.0], 3000.0),
        ("time_decay", [0.23, 0.31, 0.46, 1.0], 2787.25),
        ("position_based", [0.4, 0.2, 0.4, 1.0], 1800.0),
        ("markov", [0.33, 0.33, 0.67, 0.67], 2250.0),
        ("markov_path", [0.25, 0.25, 0.5, 1.0], 2250.0),
        ("shapley", [0.34, 0.33, 0.33, 1.0], 3000.0),
    ];
    for (model, leads, paid_revenue) in &cases {
        let r = report(&s, &key, &format!("{OCT}&model={model}")).await;
        let rows = rows_by(&r, "channel");
        let get =
            |channel: &str, metric: &str| rows.get(channel).map_or(0.0, |row| num(&row[metric]));
        for (channel, want) in ["organic search", "paid search", "direct", "social"]
            .iter()
            .zip(leads)
        {
            assert!(
                (get(channel, "leads") - want).abs() < 1e-9,
                "{model}: {channel} leads {} != {want}: {r}",
                get(channel, "leads")
            );
        }
        assert_eq!(get("(unattributed)", "leads"), 1.0, "{model}");
        assert!(
            (get("paid search", "revenue") - paid_revenue).abs() < 1e-9,
            "{model}: paid search revenue {}",
            get("paid search", "revenue")
        );
        // Every model hands out exactly the period's conversions.
        let t = &r["totals"];
        assert_eq!(num(&t["leads"]), 3.0, "{model}");
        assert_eq!(num(&t["deals"]), 3.0, "{model}");
        assert_eq!(num(&t["sales"]), 1.0, "{model}");
        assert_eq!(num(&t["revenue"]), 9000.0, "{model}");
        assert_eq!(num(&t["profit"]), 3000.0, "{model}");
        for metric in ["leads", "deals", "sales", "revenue", "profit", "visits"] {
            let sum: f64 = rows
                .values()
                .map(|row| row[metric].as_f64().unwrap_or(0.0))
                .sum();
            assert!(
                (sum - num(&t[metric])).abs() < 1e-6,
                "{model} {metric}: rows {sum} != total"
            );
        }
        // Traffic does not depend on the model: D's 23:30 visit is
        // October, E's 00:30 is not.
        assert_eq!(get("direct", "visits"), 2.0);
        assert_eq!(get("referral", "visits"), 1.0);
        assert_eq!(num(&t["visits"]), 6.0);
        assert_eq!(num(&t["visitors"]), 4.0, "a, b, c, d");
    }
    // Dated by session, `markov` spreads each group's part over its touches
    // in the converting journeys; all of them are in October, so every
    // group keeps the same credit.
    let by_conversion = rows_by(
        &report(&s, &key, &format!("{OCT}&model=markov")).await,
        "channel",
    );
    let by_session = rows_by(
        &report(&s, &key, &format!("{OCT}&model=markov&date_mode=session")).await,
        "channel",
    );
    for channel in ["organic search", "paid search", "direct", "social"] {
        for metric in ["leads", "sales", "revenue"] {
            assert_eq!(
                by_session[channel][metric], by_conversion[channel][metric],
                "{channel} {metric} by session"
            );
        }
    }
    // Several models in one request give the same numbers as one by one.
    let all: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let r = report(&s, &key, &format!("{OCT}&model={}", all.join(","))).await;
    assert_eq!(r["model"], "first_click");
    let rows = rows_by(&r, "channel");
    for (model, leads, _) in &cases {
        let paid = &rows["paid search"]["by_model"][model];
        assert!(
            (num(&paid["leads"]) - leads[1]).abs() < 1e-9,
            "{model} side by side: {paid}"
        );
    }
}

#[tokio::test]
async fn costs_roi_ranges_and_reimports() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let costs = json!([
        {"date": "2026-10-05", "source": "yandex", "medium": "cpc", "campaign": "brand", "cost": 1500, "clicks": 10},
        // Spread over three days: 100 a day.
        {"date_from": "2026-09-30", "date_to": "2026-10-02", "source": "google", "medium": "cpc", "cost": 300.0},
    ]);
    for _ in 0..2 {
        let r = s
            .call(
                Method::POST,
                "/api/v1/costs",
                Some(&key),
                Some(costs.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = report(
        &s,
        &key,
        "from=2026-10-02&to=2026-10-31&group_by=channel,source",
    )
    .await;
    let paid: Vec<&Value> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["channel"] == "paid search")
        .collect();
    let cost_of = |source: &str| {
        paid.iter()
            .find(|row| row["source"] == source)
            .map_or(0.0, |row| num(&row["cost"]))
    };
    assert_eq!(
        cost_of("yandex"),
        1500.0,
        "imported twice, counted once: {r}"
    );
    assert_eq!(
        cost_of("google"),
        100.0,
        "Oct 2 only: the range starts on Sep 30"
    );
    let yandex = paid.iter().find(|row| row["source"] == "yandex").unwrap();
    // ROI = (9000 - 1500) / 1500 × 100; ROMI with the profit 3000: 100.
    assert_eq!(num(&yandex["roi"]), 500.0);
    assert_eq!(num(&yandex["romi"]), 100.0);
    assert_eq!(num(&yandex["cpc"]), 150.0);
    assert_eq!(num(&yandex["cpl"]), 1500.0);
    // Zero denominators are null, not NaN or infinity.
    let google = paid.iter().find(|row| row["source"] == "google").unwrap();
    assert_eq!(google["cpl"], Value::Null);
    assert_eq!(google["avg_check"], Value::Null);
    assert_eq!(num(&google["roi"]), -100.0);
    assert_eq!(num(&google["clicks"]), 0.0);
    // CSV carries the same numbers.
    let csv = s
        .call(Method::GET, "/api/v1/reports/channels?from=2026-10-02&to=2026-10-31&group_by=channel,source&format=csv", Some(&key), None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[axum::http::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut lines = csv.text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..4], ["channel", "source", "visits", "visitors"]);
    let yandex_line = lines
        .find(|l| l.starts_with("paid search,yandex,"))
        .unwrap();
    let cells: Vec<&str> = yandex_line.split(',').collect();
    let col = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(col("cost"), "1500");
    assert_eq!(col("roi"), "500");
    assert_eq!(col("revenue"), "9000");
    // A re-import of a day with less spend replaces it.
    let r = s
        .call(Method::POST, "/api/v1/costs", Some(&key), Some(json!([{"date": "2026-10-05", "source": "yandex", "campaign": "brand", "cost": 900}])))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["replaced"], 1);
    let r = report(&s, &key, OCT).await;
    assert_eq!(
        num(&rows_by(&r, "channel")["paid search"]["cost"]),
        900.0 + 200.0
    );
}

#[tokio::test]
async fn reports_are_live_and_dated_by_mode() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let before = report(&s, &key, OCT).await;
    assert_eq!(num(&before["totals"]["leads"]), 3.0);
    // A new lead shows in the very next report (no cache to wait for).
    let r = s
        .call(Method::POST, "/api/v1/leads", Some(&key), Some(json!({"vid": "c", "email": "c@example.com", "created_at": "2026-10-11T09:30:00+03:00"})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let after = report(&s, &key, OCT).await;
    assert_eq!(num(&after["totals"]["leads"]), 4.0);
    assert_eq!(num(&rows_by(&after, "channel")["direct"]["leads"]), 1.0);
    // Session dating: Oct 1–4 holds only A's organic touch; linear gives
    // it a third of A's lead, deal and sale though they happened later.
    let r = report(
        &s,
        &key,
        "from=2026-10-01&to=2026-10-04&model=linear&date_mode=session",
    )
    .await;
    let organic = &rows_by(&r, "channel")["organic search"];
    assert_eq!(num(&organic["leads"]), 0.33);
    assert_eq!(num(&organic["revenue"]), 3000.0);
    let r = report(&s, &key, "from=2026-10-01&to=2026-10-04&model=linear").await;
    assert_eq!(
        num(&r["totals"]["leads"]),
        0.0,
        "by conversion date nothing converted then"
    );
    // November holds E's visit only.
    let r = report(&s, &key, "from=2026-11-01&to=2026-11-30").await;
    assert_eq!(num(&r["totals"]["visits"]), 1.0);
}

#[tokio::test]
async fn comparison_dynamics_and_funnel_reconcile() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let r = report(
        &s,
        &key,
        "from=2026-10-09&to=2026-10-15&compare_from=2026-10-01&compare_to=2026-10-07",
    )
    .await;
    let rows = rows_by(&r, "channel");
    // Organic: one visit in the previous week, none now.
    let organic = &rows["organic search"];
    assert_eq!(num(&organic["visits"]), 0.0);
    assert_eq!(num(&organic["previous"]["visits"]), 1.0);
    assert_eq!(num(&organic["change"]["visits"]), -100.0);
    assert_eq!(
        rows["social"]["change"]["visits"],
        Value::Null,
        "nothing before: no change"
    );
    // Dynamics by day add up to the period.
    let d = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/dynamics?{OCT}&metric=visits&granularity=day"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    let points = d.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 31);
    assert_eq!(points[30]["period"], "2026-10-31");
    assert_eq!(num(&points[30]["value"]), 1.0, "23:30 local is the 31st");
    let sum: f64 = points.iter().map(|p| num(&p["value"])).sum();
    assert_eq!(sum, 6.0);
    let w = s
        .call(Method::GET, &format!("/api/v1/reports/dynamics?{OCT}&metric=revenue&granularity=week&model=linear&compare_from=2026-09-01&compare_to=2026-09-30"), Some(&key), None)
        .await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.text);
    let weeks = w.body["points"].as_array().unwrap();
    assert_eq!(weeks[0]["period"], "2026-W40");
    assert_eq!(weeks.iter().map(|p| num(&p["value"])).sum::<f64>(), 9000.0);
    assert!(w.body["previous"].is_array());
    // Funnel: three deals opened in the first stage; one reached the won
    // stage.
    let f = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/funnel?{OCT}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(f.status, StatusCode::OK, "{}", f.text);
    let stages = f.body["stages"].as_array().unwrap();
    assert_eq!(num(&stages[0]["deals"]), 3.0);
    let won = stages.iter().find(|s| s["kind"] == "won").unwrap();
    assert_eq!(num(&won["deals"]), 1.0);
}

#[tokio::test]
async fn bad_parameters_and_isolation() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let (_, _, other) = s.project("other").await;
    for (query, field) in [
        ("from=2026-13-01", "from"),
        ("from=2026-10-05&to=2026-10-01", "to"),
        ("model=best", "model"),
        ("group_by=channel,country", "group_by"),
        ("date_mode=visit", "date_mode"),
        ("compare_from=2026-09-01", "compare_to"),
        ("sort=happiness", "sort"),
        ("format=xml", "format"),
        ("from=2020-01-01&to=2026-10-01", "to"),
    ] {
        let r = s
            .call(
                Method::GET,
                &format!("/api/v1/reports/channels?{query}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text
        );
        assert_eq!(error_code(&r), "invalid");
        assert_eq!(r.body["error"]["field"], field, "{query}");
    }
    let r = s
        .call(
            Method::GET,
            "/api/v1/reports/channels?colour=red",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = s
        .call(Method::GET, "/api/v1/reports/channels", None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    for bad in [
        json!([{"date": "2026-10-01", "source": "", "cost": 1}]),
        json!([{"date": "01/10/2026", "source": "yandex", "cost": 1}]),
        json!([{"date": "2026-10-01", "source": "yandex", "cost": -1}]),
        json!([]),
    ] {
        let r = s
            .call(Method::POST, "/api/v1/costs", Some(&key), Some(bad.clone()))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    // Another project's key sees none of it, and its costs stay its own.
    let r = s
        .call(
            Method::POST,
            "/api/v1/costs",
            Some(&other),
            Some(json!([{"date": "2026-10-05", "source": "yandex", "cost": 99}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mine = report(&s, &key, OCT).await;
    assert_eq!(num(&mine["totals"]["cost"]), 0.0);
    let theirs = report(&s, &other, OCT).await;
    assert_eq!(num(&theirs["totals"]["visits"]), 0.0);
    assert_eq!(num(&theirs["totals"]["leads"]), 0.0);
    assert_eq!(num(&theirs["totals"]["cost"]), 99.0);
}

#[tokio::test]
async fn calls_count_in_their_groups() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    for (id, answered, duration) in [("c1", true, 95), ("c2", false, 0)] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/calls",
                Some(&key),
                Some(json!({"id": id, "caller": "+79990000009", "called": "+74950000000",
                            "started_at": "2026-10-15T12:00:00+03:00", "duration": duration, "answered": answered})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = report(&s, &key, OCT).await;
    let t = &r["totals"];
    assert_eq!(num(&t["calls"]), 2.0, "{t}");
    assert_eq!(num(&t["missed_calls"]), 1.0);
    assert_eq!(num(&t["target_calls"]), 1.0);
    // No pool: unidentified, so in the unattributed row.
    let rows = rows_by(&r, "channel");
    assert_eq!(num(&rows["(unattributed)"]["calls"]), 2.0);
    let sum: f64 = rows.values().map(|row| num(&row["calls"])).sum();
    assert_eq!(sum, 2.0);
}

/// The problem-channels view: tickets count for the channel of their
/// contact's first visit, service cost reconciles with the period's total,
/// and ROI after service subtracts it.
#[tokio::test]
async fn service_costs_by_channel_reconcile() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    doc["service"]["cost_per_ticket"] = json!(500.0);
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = s
        .call(Method::POST, "/api/v1/costs", Some(&key), Some(json!([{"date": "2026-10-05", "source": "yandex", "campaign": "brand", "cost": 1500}])))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A's contact (first visit: organic search) opens two tickets; an
    // unknown customer one.
    for (id, phone) in [
        ("T1", "+79990000001"),
        ("T2", "+79990000001"),
        ("T3", "+79990000077"),
    ] {
        let r = s
            .call(Method::POST, "/api/v1/tickets", Some(&key), Some(json!({"id": id, "event": "created", "status": "open", "phone": phone, "at": "2026-10-21T10:00:00+03:00"})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/service?{OCT}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = rows_by(&r.body, "channel");
    let organic = &rows["organic search"];
    assert_eq!(num(&organic["tickets"]), 2.0, "{}", r.text);
    assert_eq!(num(&organic["customers"]), 1.0);
    assert_eq!(num(&organic["tickets_per_customer"]), 2.0);
    assert_eq!(num(&organic["service_cost"]), 1000.0);
    assert_eq!(num(&r.body["totals"]["tickets"]), 3.0);
    assert_eq!(num(&r.body["totals"]["service_cost"]), 1500.0);
    let sum: f64 = rows.values().map(|row| num(&row["service_cost"])).sum();
    assert_eq!(
        sum, 1500.0,
        "service cost over channels = the period's total"
    );
    // Paid search (last non-direct): revenue 9000, ad cost 1500, no
    // tickets of its own: ROI after service = ROI = 500.
    assert_eq!(num(&rows["paid search"]["roi_after_service"]), 500.0);
    // The most tickets per customer first.
    assert_eq!(r.body["rows"][0]["channel"], "organic search");
    // Products: A's tickets name none and A's purchase has no product.
    let products = r.body["products"].as_array().unwrap();
    assert_eq!(
        products.iter().map(|p| num(&p["tickets"])).sum::<f64>(),
        3.0
    );
    let csv = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/service?{OCT}&format=csv"),
            Some(&key),
            None,
        )
        .await;
    assert!(
        csv.text.starts_with("channel,tickets,customers"),
        "{}",
        csv.text
    );
}

/// The paths export: the scenario's journeys in ChannelAttribution's
/// shape, and the published Markov split recomputed from them equals the
/// report's `markov` column.
#[tokio::test]
async fn paths_export_the_journeys_markov_splits() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let get = |query: String| {
        let s = &s;
        let key = key.clone();
        async move {
            s.call(
                Method::GET,
                &format!("/api/v1/reports/paths?{query}"),
                Some(&key),
                None,
            )
            .await
        }
    };
    // Sales: A's journey converted for 9000; B (social, a lead but no
    // sale), the direct visitor and the referral did not.
    let r = get(OCT.to_owned()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["conversion"], "sales");
    let rows: HashMap<String, Value> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["path"].as_str().unwrap().to_owned(), row.clone()))
        .collect();
    let want = [
        ("organic search > paid search > direct", 1.0, 0.0, 9000.0),
        ("social", 0.0, 1.0, 0.0),
        ("direct", 0.0, 1.0, 0.0),
        ("referral", 0.0, 1.0, 0.0),
    ];
    assert_eq!(rows.len(), want.len(), "{}", r.text);
    for (path, conversions, nulls, value) in want {
        let row = &rows[path];
        assert_eq!(num(&row["total_conversions"]), conversions, "{path}");
        assert_eq!(num(&row["total_null"]), nulls, "{path}");
        assert_eq!(num(&row["total_conversion_value"]), value, "{path}");
    }
    // Converting paths first.
    assert_eq!(
        r.body["rows"][0]["path"],
        "organic search > paid search > direct"
    );
    // Leads: A's and B's journeys converted (the lead with no visit has
    // no path).
    let r = get(format!("{OCT}&conversion=leads")).await;
    let leads: HashMap<String, (f64, f64)> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["path"].as_str().unwrap().to_owned(),
                (num(&row["total_conversions"]), num(&row["total_null"])),
            )
        })
        .collect();
    assert_eq!(leads["social"], (1.0, 0.0), "{}", r.text);
    assert_eq!(leads["organic search > paid search > direct"], (1.0, 0.0));
    assert_eq!(leads["direct"], (0.0, 1.0));
    // Recomputed elsewhere (here: the domain's reference function over the
    // exported rows), the published split gives the report's numbers.
    let rows: Vec<skvoz_domain::attribution::PathCount<String>> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| skvoz_domain::attribution::PathCount {
            path: row["path"]
                .as_str()
                .unwrap()
                .split(" > ")
                .map(str::to_owned)
                .collect(),
            conversions: num(&row["total_conversions"]),
            nulls: num(&row["total_null"]),
            value: num(&row["total_conversion_value"]),
        })
        .collect();
    let credit = skvoz_domain::attribution::markov_model(&rows);
    let report = report(&s, &key, &format!("{OCT}&model=markov")).await;
    let by_channel = rows_by(&report, "channel");
    for (channel, c) in &credit {
        let shown = by_channel
            .get(channel)
            .map_or(0.0, |row| num(&row["leads"]));
        assert!(
            (shown - (c.conversions * 100.0).round() / 100.0).abs() < 0.011,
            "{channel}: report {shown}, from the paths {}",
            c.conversions
        );
    }
    // CSV with ChannelAttribution's column names; a bad conversion is 422;
    // the route is in the OpenAPI document.
    let r = get(format!("{OCT}&format=csv&group_by=channel,source")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text
            .starts_with("path,total_conversions,total_null,total_conversion_value\n"),
        "{}",
        r.text
    );
    assert!(r.text.contains("social / vk"), "{}", r.text);
    let r = get(format!("{OCT}&conversion=visits")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = s.call(Method::GET, "/openapi.json", None, None).await;
    assert!(r.body["paths"]["/api/v1/reports/paths"]["get"].is_object());
}

/// Regression (CSV injection): UTM tags are the public's text; every CSV
/// export of a report shows a cell that starts a formula as text, and keeps
/// negative numbers as numbers.
#[tokio::test]
async fn csv_exports_defuse_formulas_in_every_report() {
    let s = TestServer::new().await;
    let key = scenario(&s).await;
    let evil = "https://shop.ru/?utm_source=%40evil&utm_medium=cpc&utm_campaign=%3DHYPERLINK(%22http%3A%2F%2Fx%22)&utm_content=-2%2B3&utm_term=%3D2%2B5";
    let h = hits(
        &s,
        &key,
        json!(hit("f", "2026-10-15T10:00:00+03:00", evil, None)),
    )
    .await;
    let code = h[0]["visit_code"].as_i64().unwrap();
    let r = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(&key),
            Some(json!({"visit_code": code, "phone": "+79990000009", "created_at": "2026-10-15T10:05:00+03:00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let gb = "group_by=channel,source,medium,campaign,ad,keyword";
    for uri in [
        format!("/api/v1/reports/channels?{OCT}&{gb}&format=csv"),
        format!("/api/v1/reports/dynamics?{OCT}&{gb}&format=csv"),
        format!("/api/v1/reports/funnel?{OCT}&{gb}&format=csv"),
        format!("/api/v1/reports/paths?{OCT}&{gb}&conversion=leads&format=csv"),
        format!("/api/v1/reports/service?{OCT}&format=csv"),
    ] {
        let r = s.call(Method::GET, &uri, Some(&key), None).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(r.text.as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                let number = cell.parse::<f64>().is_ok();
                assert!(
                    number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{uri}: a live formula {cell:?}"
                );
            }
        }
        if uri.contains("/channels") {
            assert!(
                r.text.contains("'=2+5") || r.text.contains("'@evil"),
                "{uri}: {}",
                r.text
            );
        }
    }
}
