//! The demo's delivery history: the outbox view has delivered messages,
//! conversions skipped with their reasons (no client id, outside GA4's 72
//! hours or Metrika's 21 days) and two dead letters; the demo's
//! destinations are off afterwards, so a serving node sends nothing.

#![allow(clippy::unwrap_used)]

use skvoz_app::demo::{self, DemoOptions};
use skvoz_app::App;
use skvoz_domain::ProjectId;
use skvoz_store::{OutboxFilter, Scope};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_delivery_history_and_sends_nothing_itself() {
    let (store, _guard) = skvoz_backends::test_store().await.unwrap();
    let app = App::new(store);
    let options = DemoOptions {
        days: 40,
        seed: 7,
        visitors: 1_500,
        end: chrono::Utc::now().date_naive(),
    };
    let (created, _) = demo::generate(&app, &options, &|_, _| {}).await.unwrap();
    let scope = Scope::new(ProjectId(created.project_id));
    let counts: HashMap<String, i64> = app
        .outbox
        .counts(scope)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(counts.get("dead"), Some(&2), "{counts:?}");
    assert!(
        counts.get("delivered").copied().unwrap_or(0) > 20,
        "{counts:?}"
    );
    assert!(
        counts.get("skipped").copied().unwrap_or(0) > 5,
        "{counts:?}"
    );
    assert_eq!(counts.get("pending"), None, "{counts:?}");

    let all = app
        .outbox
        .list(
            scope,
            OutboxFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let reasons: Vec<&str> = all
        .iter()
        .filter_map(|m| m.skip_reason.as_deref())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("outside the GA4 window")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no GA client id")),
        "{reasons:?}"
    );
    let delivered_ga4 = all
        .iter()
        .filter(|m| m.destination_kind == "ga4" && m.status == "delivered")
        .count();
    let delivered_metrika = all
        .iter()
        .filter(|m| m.destination_kind == "metrika" && m.status == "delivered")
        .count();
    assert!(
        delivered_metrika > delivered_ga4,
        "Metrika's window is the longer one"
    );
    assert!(all
        .iter()
        .all(|m| m.status != "dead" || m.destination_kind == "webhook"));

    // Switched off: relaying the whole log now makes no message.
    while app.outbox.relay_once().await.unwrap().0 > 0 {}
    let pending = app
        .outbox
        .list(
            scope,
            OutboxFilter {
                status: Some("pending".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(pending.is_empty());
}
