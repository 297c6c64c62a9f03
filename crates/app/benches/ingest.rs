//! Ingestion without HTTP: how many hits per second the tracking service
//! validates, sessionizes and commits (group commit, SQLite) with many
//! concurrent callers. `cargo bench -p skvoz-app --bench ingest`
//! (env BENCH_HITS, BENCH_CONCURRENCY, BENCH_DURABILITY=full|normal).

#![allow(clippy::unwrap_used, missing_docs)]

use skvoz_app::tracking::input::HitFields;
use skvoz_app::tracking::HitInput;
use skvoz_app::App;
use skvoz_backends::{open_store, Durability, OpenOptions, StoreUrl};
use std::sync::Arc;
use std::time::Instant;

const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let hits = env("BENCH_HITS", 200_000);
    let concurrency = env("BENCH_CONCURRENCY", 256);
    let durability = match std::env::var("BENCH_DURABILITY").as_deref() {
        Ok("normal") => Durability::Normal,
        _ => Durability::Full,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&StoreUrl::data_folder(dir.path()), &OpenOptions { durability })
            .await
            .unwrap();
        let app = App::new(store);
        let (_, created) = app.projects.create("bench", None, None).await.unwrap();
        app.tracking.warm_up().await.unwrap();
        let key = Arc::new(created.public_key);
        let start = Instant::now();
        let per_task = hits / concurrency;
        let tasks: Vec<_> = (0..concurrency)
            .map(|t| {
                let (app, key) = (app.clone(), key.clone());
                tokio::spawn(async move {
                    for i in 0..per_task {
                        // Sessions of 4 page views; every 4th session is paid.
                        let visitor = (t * per_task + i) / 4;
                        let url = if i.is_multiple_of(4) && visitor.is_multiple_of(4) {
                            format!("https://shop.example.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=c{}", visitor % 20)
                        } else {
                            format!("https://shop.example.ru/catalog/{}", i % 50)
                        };
                        let input = HitInput {
                            fields: HitFields {
                                vid: Some(format!("v{visitor}")),
                                url,
                                referrer: Some("https://yandex.ru/".into()),
                                title: Some("Catalog".into()),
                                screen: Some("1920x1080".into()),
                                lang: Some("ru-RU".into()),
                                ..Default::default()
                            },
                            at: chrono::Utc::now(),
                            explicit_time: false,
                            ip: None,
                            ua: Some(UA.into()),
                        };
                        app.tracking.collect(&key, input).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        let n = per_task * concurrency;
        println!(
            "ingest: {n} hits, {concurrency} concurrent callers, {durability:?}: {:.0} hits/s ({secs:.2} s)",
            n as f64 / secs
        );
        app.shutdown().await.unwrap();
    });
}
