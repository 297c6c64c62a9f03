//! The demo's calls: every kind of call a shop sees, in believable
//! proportions, attributed through the real services.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use skvoz_app::demo::{self, DemoOptions};
use skvoz_app::App;
use skvoz_domain::calltracking::CallAttribution;
use skvoz_store::Scope;
use std::collections::BTreeMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_target_missed_repeat_static_and_unidentified_calls() {
    let (store, _guard) = skvoz_backends::test_store().await.unwrap();
    let app = App::new(store.clone());
    let end = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let options = DemoOptions {
        days: 90,
        seed: 7,
        visitors: 3_000,
        end,
    };
    let (created, stats) = demo::generate(&app, &options, &|_, _| {}).await.unwrap();
    let scope = Scope::new(skvoz_domain::ProjectId(created.project_id));
    let to = Utc.from_utc_datetime(&end.and_hms_opt(0, 0, 0).unwrap());
    let calls = store
        .calls_between(scope, to - Duration::days(100), to, 100_000)
        .await
        .unwrap();
    assert_eq!(calls.len() as u64, stats.calls);
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &calls {
        *by.entry(c.call.attribution.as_str()).or_default() += 1;
    }
    let n = calls.len();
    let target = calls.iter().filter(|c| c.call.is_target).count();
    let missed = calls.iter().filter(|c| !c.call.answered).count();
    let unique = calls.iter().filter(|c| c.call.is_unique).count();
    eprintln!("{n} calls: {by:?}; {target} target, {missed} missed, {unique} unique");
    assert!(n > 50, "{n} calls");
    for kind in [
        CallAttribution::Dynamic,
        CallAttribution::Static,
        CallAttribution::Unidentified,
        CallAttribution::Repeat,
    ] {
        assert!(by.get(kind.as_str()).is_some_and(|&k| k > 0), "{by:?}");
    }
    assert!(
        by["dynamic"] > by["unidentified"],
        "most calls are tracked: {by:?}"
    );
    assert!((n / 2..n).contains(&target), "{target} target of {n}");
    assert!((n / 10..n / 3).contains(&missed), "{missed} missed of {n}");
    assert!(unique < n && unique > n * 3 / 4, "{unique} unique of {n}");
    assert!(calls
        .iter()
        .filter(|c| c.call.is_target)
        .all(|c| c.call.lead_id.is_some()));
    assert!(calls
        .iter()
        .filter(|c| !c.call.is_target)
        .all(|c| c.call.lead_id.is_none()));
    let pools = app
        .calls
        .pools(&app.contexts.by_id(created_id(&created)).await.unwrap())
        .await
        .unwrap();
    assert_eq!(pools.len(), 3);
}

fn created_id(c: &skvoz_app::projects::CreatedProject) -> skvoz_domain::ProjectId {
    skvoz_domain::ProjectId(c.project_id)
}
