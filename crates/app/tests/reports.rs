//! Reconciliation of the channel report on random data: for every model,
//! date mode and grouping, the rows add up to the totals, and in
//! conversion dating the totals are exactly the period's leads, deals,
//! sales and revenue — whatever the journeys look like.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use skvoz_app::crm::{LeadInput, Strictness};
use skvoz_app::reports::ReportParams;
use skvoz_app::tracking::input::HitFields;
use skvoz_app::tracking::HitInput;
use skvoz_app::App;
use skvoz_domain::crm::DealUpdate;
use skvoz_domain::Money;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

const SOURCES: &[(&str, Option<&str>)] = &[
    (
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=a",
        None,
    ),
    (
        "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=b&utm_term=k1",
        None,
    ),
    (
        "https://shop.ru/?utm_source=google&utm_medium=cpc&utm_campaign=c",
        None,
    ),
    ("https://shop.ru/?utm_source=vk&utm_medium=social", None),
    ("https://shop.ru/?utm_source=news&utm_medium=email", None),
    ("https://shop.ru/", Some("https://yandex.ru/search/?text=x")),
    ("https://shop.ru/", Some("https://otzovik.com/")),
    ("https://shop.ru/", None),
];

#[derive(Debug, Clone)]
struct Person {
    /// (hours after the start, source index) of each visit.
    visits: Vec<(i64, usize)>,
    /// Leaves a lead this many hours after its last visit (or none).
    lead_after: Option<i64>,
    /// The deal is won for this much, this many hours after the lead.
    won: Option<(i64, i64)>,
}

fn person() -> impl Strategy<Value = Person> {
    (
        prop::collection::vec((0i64..24 * 60, 0usize..SOURCES.len()), 1..5),
        prop::option::of(0i64..48),
        prop::option::of((1i64..1_000_000, 1i64..24 * 20)),
    )
        .prop_map(|(mut visits, lead_after, won)| {
            visits.sort_unstable();
            Person {
                visits,
                lead_after,
                won,
            }
        })
}

fn start() -> DateTime<Utc> {
    chrono_tz::Europe::Moscow
        .with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn load(app: &App, people: &[Person]) -> (i64, i64, i64, i64) {
    let (project, _) = app.projects.create("shop", None, None).await.unwrap();
    let ctx = app.contexts.by_id(project.id).await.unwrap();
    let mut hits = Vec::new();
    for (i, p) in people.iter().enumerate() {
        for &(h, s) in &p.visits {
            let (url, referrer) = SOURCES[s];
            hits.push(HitInput {
                fields: HitFields {
                    vid: Some(format!("v{i}")),
                    url: url.to_owned(),
                    referrer: referrer.map(str::to_owned),
                    ..HitFields::default()
                },
                at: start() + Duration::hours(h),
                explicit_time: true,
                ip: None,
                ua: Some(UA.to_owned()),
            });
        }
    }
    app.tracking.import(project.id, hits).await.unwrap();
    // Leads and sales in the last month of the data (July–August), some
    // of them after the report period (the report is July).
    let (mut leads, mut deals, mut sales, mut revenue) = (0, 0, 0, 0);
    let july_end = start() + Duration::days(31);
    for (i, p) in people.iter().enumerate() {
        let Some(after) = p.lead_after else { continue };
        let last = p.visits.last().unwrap().0;
        let at = start() + Duration::hours(last + after);
        // Every fifth lead comes with no visitor id: unattributed.
        let vid = (i % 5 != 4).then(|| format!("v{i}"));
        let input: LeadInput = serde_json::from_value(serde_json::json!({
            "vid": vid, "email": format!("p{i}@example.com"), "created_at": at,
        }))
        .unwrap();
        let r = app.leads.create_form_lead(&ctx, input).await.unwrap();
        if at < july_end {
            leads += 1;
            if !r.duplicate {
                deals += 1;
            }
        }
        if let Some((amount, hours)) = p.won {
            let closed = at + Duration::hours(hours);
            app.deals
                .upsert(
                    &ctx,
                    DealUpdate {
                        external_id: format!("crm-{i}"),
                        stage: Some("won".to_owned()),
                        revenue: Some(Money(amount * 100)),
                        created_at: Some(at),
                        closed_at: Some(closed),
                        email: Some(format!("p{i}@example.com")),
                        changed_at: Some(closed),
                        ..DealUpdate::default()
                    },
                    Strictness::Api,
                    None,
                )
                .await
                .unwrap();
            if closed < july_end && closed >= start() {
                sales += 1;
                revenue += amount * 100;
            }
        }
    }
    (leads, deals, sales, revenue)
}

fn sum(report: &serde_json::Value, metric: &str) -> f64 {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[metric].as_f64().unwrap_or(0.0))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn every_model_reconciles(people in prop::collection::vec(person(), 1..25)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let (store, _guard) = skvoz_backends::test_store().await.unwrap();
            let app = App::new(store);
            let (leads, deals, sales, revenue) = load(&app, &people).await;
            let project = app.projects.by_name("shop").await.unwrap().unwrap();
            let ctx = app.contexts.by_id(project.id).await.unwrap();
            for group_by in ["channel", "channel,source,campaign", "keyword"] {
                for date_mode in ["conversion", "session"] {
                    let params = ReportParams {
                        from: Some("2026-07-01".into()),
                        to: Some("2026-07-31".into()),
                        model: Some("first_click,last_click,last_non_direct,last_paid,linear,time_decay,position_based,markov,markov_path,shapley".into()),
                        group_by: Some(group_by.into()),
                        date_mode: Some(date_mode.into()),
                        ..ReportParams::default()
                    };
                    let r = app.reports.channels(&ctx, &params).await.unwrap().json;
                    let t = &r["totals"];
                    for model in r["models"].as_array().unwrap() {
                        let model = model.as_str().unwrap();
                        let rows_sum = |metric: &str| -> f64 {
                            r["rows"].as_array().unwrap().iter()
                                .map(|row| row["by_model"][model][metric].as_f64().unwrap_or(0.0))
                                .sum()
                        };
                        let total = |metric: &str| t["by_model"][model][metric].as_f64().unwrap_or(0.0);
                        for metric in ["leads", "deals", "sales", "revenue"] {
                            let (rows, tot) = (rows_sum(metric), total(metric));
                            assert!((rows - tot).abs() < 1e-6,
                                "{model} {group_by} {date_mode} {metric}: rows {rows} != totals {tot}");
                        }
                        if date_mode == "conversion" {
                            assert_eq!(total("leads"), leads as f64, "{model} leads");
                            assert_eq!(total("deals"), deals as f64, "{model} deals");
                            assert_eq!(total("sales"), sales as f64, "{model} sales");
                            assert!((total("revenue") - revenue as f64 / 100.0).abs() < 1e-6, "{model} revenue");
                        }
                    }
                    let visits = sum(&r, "visits");
                    assert_eq!(visits, t["visits"].as_f64().unwrap());
                }
            }
            app.shutdown().await.unwrap();
        });
    }
}

/// A report's journeys are kept between reports; a visit that arrives
/// later (a history import of a converting visitor, from before the
/// lead's visit) still changes the credit, and a visit after the
/// conversion does not.
#[tokio::test]
async fn kept_journeys_follow_late_visits() {
    let (store, _guard) = skvoz_backends::test_store().await.unwrap();
    let app = App::new(store);
    let (project, _) = app.projects.create("shop", None, None).await.unwrap();
    let ctx = app.contexts.by_id(project.id).await.unwrap();
    let hit = |vid: &str, hours: i64, url: &str| HitInput {
        fields: HitFields {
            vid: Some(vid.to_owned()),
            url: url.to_owned(),
            ..HitFields::default()
        },
        at: start() + Duration::hours(hours),
        explicit_time: true,
        ip: None,
        ua: Some(UA.to_owned()),
    };
    let yandex = "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=a";
    let google = "https://shop.ru/?utm_source=google&utm_medium=cpc&utm_campaign=c";
    let vk = "https://shop.ru/?utm_source=vk&utm_medium=social";
    app.tracking
        .import(project.id, vec![hit("v1", 24, yandex), hit("v2", 30, vk)])
        .await
        .unwrap();
    let input: LeadInput = serde_json::from_value(serde_json::json!({
        "vid": "v1", "email": "p1@example.com", "created_at": start() + Duration::hours(100),
    }))
    .unwrap();
    app.leads.create_form_lead(&ctx, input).await.unwrap();
    let params = ReportParams {
        from: Some("2026-07-01".into()),
        to: Some("2026-07-31".into()),
        model: Some("first_click".into()),
        group_by: Some("source".into()),
        ..ReportParams::default()
    };
    let leads_of = |r: &serde_json::Value, source: &str| -> f64 {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["source"] == source)
            .map_or(0.0, |row| row["leads"].as_f64().unwrap_or(0.0))
    };
    let r = app.reports.channels(&ctx, &params).await.unwrap().json;
    assert_eq!(leads_of(&r, "yandex"), 1.0, "{r}");
    // Another visitor's visit, then the converting visitor's visit after
    // the lead: the credit stays.
    app.tracking
        .import(project.id, vec![hit("v3", 50, vk), hit("v1", 200, vk)])
        .await
        .unwrap();
    let r = app.reports.channels(&ctx, &params).await.unwrap().json;
    assert_eq!(leads_of(&r, "yandex"), 1.0, "{r}");
    assert_eq!(r["totals"]["visits"].as_f64(), Some(4.0), "{r}");
    // History of the converting visitor from before the lead's visit:
    // the first click is now google.
    app.tracking
        .import(project.id, vec![hit("v1", 10, google)])
        .await
        .unwrap();
    let r = app.reports.channels(&ctx, &params).await.unwrap().json;
    assert_eq!(leads_of(&r, "yandex"), 0.0, "{r}");
    assert_eq!(leads_of(&r, "google"), 1.0, "{r}");
    app.shutdown().await.unwrap();
}
