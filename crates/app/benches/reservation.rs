//! Reservation decisions per second on one core: `NumberPools::on_hit`
//! for new visits (rule match + pick a number) and continuing hits (extend
//! the hold), as the tracker's hot path calls it, without HTTP or store.
//! `cargo bench -p skvoz-app --bench reservation` (env BENCH_DECISIONS,
//! BENCH_NUMBERS).

#![allow(clippy::unwrap_used, missing_docs)]

use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_app::calls::NumberPools;
use skvoz_app::App;
use skvoz_backends::{open_store, OpenOptions, StoreUrl};
use skvoz_domain::calltracking::VisitTraits;
use skvoz_store::Scope;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let decisions = env("BENCH_DECISIONS", 2_000_000);
    let numbers = env("BENCH_NUMBERS", 100);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&StoreUrl::data_folder(dir.path()), &OpenOptions::default())
            .await
            .unwrap();
        let app = App::new(store.clone());
        let (project, _) = app.projects.create("bench", None, None).await.unwrap();
        let list: Vec<String> = (0..numbers).map(|i| format!("+7495100{i:04}")).collect();
        app.settings
            .put(
                Scope::new(project.id),
                None,
                json!({"calltracking": {"pools": [
                    {"id": "social", "kind": "dynamic", "numbers": ["+74952000000"], "rule": {"source": "vk|ok", "medium": "cpc"}},
                    {"id": "ads", "kind": "dynamic", "numbers": list, "rule": {"paid": true}}
                ]}}),
            )
            .await
            .unwrap();
        let ctx = app.contexts.by_id(project.id).await.unwrap();
        let pools = NumberPools::new(store);
        let traits = VisitTraits { source: "yandex", medium: "cpc", campaign: Some("sofa"), channel: "paid search" };
        let vids: Vec<String> = (0..1024).map(|i| format!("v{i}")).collect();
        let t0 = Utc::now();
        // One new visit per 2 s of simulated time and 3 continuing hits per
        // new visit: about 90 visits hold a number at any time (3 minutes
        // plus the visit), so the pool of 100 is near full and sometimes
        // shared — the expensive case.
        let started = Instant::now();
        let mut saving = std::time::Duration::ZERO;
        let mut given = 0usize;
        for i in 0..decisions {
            let visit = (i / 4) as i64;
            let at = t0 + Duration::milliseconds(visit * 2_000 + (i % 4) as i64 * 500);
            let new_visit = (i % 4 == 0).then_some(traits);
            if pools.on_hit(&ctx, visit, &vids[(visit as usize) % vids.len()], new_visit, at).is_some() {
                given += 1;
            }
            if i % 100_000 == 0 {
                // What the background saver does on its own task: timed
                // apart, since it is not on the hit's path.
                let t = Instant::now();
                pools.flush().await.unwrap();
                saving += t.elapsed();
            }
        }
        let secs = (started.elapsed() - saving).as_secs_f64();
        assert_eq!(given, decisions);
        println!(
            "{decisions} reservation decisions ({} new visits) on one thread, pool of {numbers}: {:.2} s, {:.0} decisions/s (saving the queued reservations took {:.2} s more, off the hot path)",
            decisions / 4,
            secs,
            decisions as f64 / secs,
            saving.as_secs_f64()
        );
    });
}
