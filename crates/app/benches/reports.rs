//! The channel report on a large project: cold (a fresh service over the
//! store — every visit read into the index), cold from the index snapshot
//! (a fresh service that starts from `DATA/report-index`), warm (the index
//! up to date), and the data-driven models (markov, markov_path, shapley)
//! over every journey of the period.
//!
//! `SKVOZ_BENCH_DATA=DIR cargo bench -p skvoz-app --bench reports` runs on
//! the `demo` project of an existing data folder (make one with
//! `skvoz demo --data DIR --visitors 1200000`); without it a demo of
//! `BENCH_VISITORS` (default 20,000) visitors is generated first.

#![allow(clippy::unwrap_used, missing_docs)]

use skvoz_app::reports::{ReportParams, SnapshotOptions};
use skvoz_app::{App, AppOptions};
use skvoz_backends::{open_store, Durability, OpenOptions, StoreUrl};
use std::time::{Duration, Instant};

/// The app over the store in the data folder `dir`.
async fn open(dir: &std::path::Path, snapshots: bool) -> App {
    let options = OpenOptions {
        durability: Durability::Normal,
    };
    App::with_options(
        open_store(&StoreUrl::data_folder(dir), &options)
            .await
            .unwrap(),
        AppOptions {
            report_snapshots: snapshots.then(|| SnapshotOptions::in_data_dir(dir)),
            ..AppOptions::default()
        },
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median and the slowest of some runs, in ms.
fn median_max(mut runs: Vec<Duration>) -> (f64, f64) {
    runs.sort();
    (ms(runs[runs.len() / 2]), ms(runs[runs.len() - 1]))
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let tmp = tempfile::tempdir().unwrap();
        let dir = match std::env::var("SKVOZ_BENCH_DATA") {
            Ok(d) => std::path::PathBuf::from(d),
            Err(_) => {
                let visitors = std::env::var("BENCH_VISITORS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(20_000);
                let app = open(tmp.path(), false).await;
                let options = skvoz_app::demo::DemoOptions {
                    visitors,
                    ..Default::default()
                };
                let t = Instant::now();
                let (_, stats) = skvoz_app::demo::generate(&app, &options, &|_, _| {})
                    .await
                    .unwrap();
                println!("generated {stats:?} in {:.1} s", t.elapsed().as_secs_f64());
                app.shutdown().await.unwrap();
                tmp.path().to_path_buf()
            }
        };
        let app = open(&dir, false).await;
        let project = app.projects.by_name("demo").await.unwrap().expect("a demo project");
        let ctx = app.contexts.by_id(project.id).await.unwrap();
        let today = chrono::Utc::now().date_naive();
        let params = |model: &str| ReportParams {
            from: Some((today - chrono::Duration::days(90)).to_string()),
            to: Some((today - chrono::Duration::days(1)).to_string()),
            model: Some(model.to_owned()),
            group_by: Some("channel,source,campaign".to_owned()),
            ..ReportParams::default()
        };
        let t = Instant::now();
        let r = app.reports.channels(&ctx, &params("last_non_direct")).await.unwrap();
        let cold = t.elapsed();
        let totals = &r.json["totals"];
        println!(
            "data: {} visits, {} visitors, {} leads, {} deals, {} sales in the period; {} rows",
            totals["visits"], totals["visitors"], totals["leads"], totals["deals"], totals["sales"],
            r.json["rows"].as_array().map_or(0, Vec::len)
        );
        println!("cold (first report of a fresh service, every visit read): {:.0} ms", ms(cold));
        app.shutdown().await.unwrap();
        // With snapshots: the first fresh service writes one if there is
        // none; the next starts from it.
        let snapshot = SnapshotOptions::in_data_dir(&dir)
            .dir
            .join(format!("project-{}.bin", project.id.0));
        let had_snapshot = snapshot.exists();
        let app = open(&dir, true).await;
        let ctx = app.contexts.by_id(project.id).await.unwrap();
        let t = Instant::now();
        let again = app.reports.channels(&ctx, &params("last_non_direct")).await.unwrap();
        let first = t.elapsed();
        assert_eq!(again.json, r.json, "the same report with snapshots");
        println!(
            "cold with snapshots on ({}): {:.0} ms",
            if had_snapshot { "read from the snapshot" } else { "rows read, snapshot written" },
            ms(first)
        );
        let t = Instant::now();
        app.shutdown().await.unwrap();
        println!("shutdown (waits for the snapshot write): {:.0} ms", ms(t.elapsed()));
        println!(
            "snapshot: {:.1} MB",
            std::fs::metadata(&snapshot).map_or(0.0, |m| m.len() as f64 / 1e6)
        );
        let app = open(&dir, true).await;
        let ctx = app.contexts.by_id(project.id).await.unwrap();
        let t = Instant::now();
        let again = app.reports.channels(&ctx, &params("last_non_direct")).await.unwrap();
        let from_snapshot = t.elapsed();
        assert_eq!(again.json, r.json, "the same report from the snapshot");
        println!("cold from the snapshot (fresh service): {:.0} ms", ms(from_snapshot));
        let mut warm: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            app.reports.channels(&ctx, &params("last_non_direct")).await.unwrap();
            warm.push(t.elapsed());
        }
        let (median, max) = median_max(warm);
        println!(
            "warm last_non_direct, channel,source,campaign: median {median:.1} ms, max {max:.1} ms (20 runs)"
        );
        // Live (BENCH_LIVE=1; it adds visits dated today, outside the
        // period, to the data folder): a new visit before every report, so
        // the per-visitor lists are rebuilt each time (the journeys are
        // kept: a new visitor joins none).
        if std::env::var("BENCH_LIVE").is_ok_and(|v| v == "1") {
            let stamp = chrono::Utc::now().timestamp_millis();
            let mut live: Vec<Duration> = Vec::new();
            for n in 0..10 {
                let hit = skvoz_app::tracking::HitInput {
                    fields: skvoz_app::tracking::input::HitFields {
                        vid: Some(format!("bench-live-{stamp}-{n}")),
                        url: "https://shop.example/?utm_source=bench&utm_medium=cpc".to_owned(),
                        ..Default::default()
                    },
                    at: chrono::Utc::now(),
                    explicit_time: true,
                    ip: None,
                    ua: None,
                };
                app.tracking.import(project.id, vec![hit]).await.unwrap();
                let t = Instant::now();
                app.reports.channels(&ctx, &params("last_non_direct")).await.unwrap();
                live.push(t.elapsed());
            }
            let (median, max) = median_max(live);
            println!(
                "live (a new visit before each report): median {median:.1} ms, max {max:.1} ms (10 runs)"
            );
        }
        // The data-driven models over every journey of the period (issue
        // 21: markov and shapley under 1 s warm by channel and by
        // channel,source).
        for model in ["markov", "markov_path", "shapley"] {
            for group_by in ["channel", "channel,source", "channel,source,campaign"] {
                let params = ReportParams {
                    group_by: Some(group_by.to_owned()),
                    ..params(model)
                };
                let mut runs: Vec<Duration> = Vec::new();
                for _ in 0..3 {
                    let t = Instant::now();
                    app.reports.channels(&ctx, &params).await.unwrap();
                    runs.push(t.elapsed());
                }
                let (median, max) = median_max(runs);
                println!(
                    "warm {model} by {group_by} over every journey of the period: median {median:.0} ms, max {max:.0} ms (3 runs)"
                );
            }
        }
        let t = Instant::now();
        app.reports
            .channels(&ctx, &params("first_click,last_click,last_non_direct,last_paid,linear,time_decay,position_based,markov,markov_path,shapley"))
            .await
            .unwrap();
        println!("all ten models side by side: {:.0} ms", ms(t.elapsed()));
        app.shutdown().await.unwrap();
    });
}
