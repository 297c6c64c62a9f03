//! The operator card's latency on the demo data set: `GET /widget/contact`
//! (signed URL, HTML) and `GET /api/v1/contacts/lookup` (JSON) through the
//! whole router (signature check, project context, five indexed reads,
//! rendering) without the network.
//! `cargo bench -p skvoz-server --bench widget`
//! (env BENCH_VISITORS default 3000, BENCH_DAYS 90, BENCH_REQUESTS 3000,
//! BENCH_CONCURRENCY 8). Exits non-zero when the card's p99 is 50 ms or more.

#![allow(clippy::unwrap_used, missing_docs)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use skvoz_app::demo::{self, DemoOptions};
use skvoz_app::tickets::card::LookupKey;
use skvoz_app::tickets::widget;
use skvoz_app::App;
use skvoz_server::{router, ServerOptions};
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(
    name: &str,
    app: &axum::Router,
    requests: Vec<Request<Body>>,
    concurrency: usize,
) -> f64 {
    let total = requests.len();
    let queue = Arc::new(parking_lot_free::Queue::new(requests));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let queue = queue.clone();
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while let Some(req) = queue.pop() {
                let t = Instant::now();
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times
        }));
    }
    let mut times = Vec::with_capacity(total);
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let wall = started.elapsed().as_secs_f64();
    times.sort_by(|a, b| a.total_cmp(b));
    let p99 = percentile(&times, 0.99);
    println!(
        "{name}: {total} requests, {concurrency} concurrent, {:.0} req/s; p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        total as f64 / wall,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        p99,
        times.last().copied().unwrap_or(0.0)
    );
    p99
}

/// A tiny shared queue (a mutex around a vector is all a bench needs).
mod parking_lot_free {
    use std::sync::Mutex;

    pub struct Queue<T>(Mutex<Vec<T>>);

    impl<T> Queue<T> {
        pub fn new(mut items: Vec<T>) -> Self {
            items.reverse();
            Queue(Mutex::new(items))
        }
        pub fn pop(&self) -> Option<T> {
            self.0.lock().unwrap().pop()
        }
    }
}

fn main() {
    let visitors = env("BENCH_VISITORS", 3_000) as u32;
    let days = env("BENCH_DAYS", 90) as u32;
    let requests = env("BENCH_REQUESTS", 3_000);
    let concurrency = env("BENCH_CONCURRENCY", 8);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let p99 = rt.block_on(async move {
        let (store, _guard) = skvoz_backends::test_store().await.unwrap();
        let app = App::new(store.clone());
        let started = Instant::now();
        let options = DemoOptions {
            visitors,
            days,
            ..DemoOptions::default()
        };
        let (created, stats) = demo::generate(&app, &options, &|_, _| {}).await.unwrap();
        println!(
            "demo data set: {} visitors, {} visits, {} leads, {} deals, {} tickets in {:.1} s",
            stats.visitors,
            stats.visits,
            stats.leads,
            stats.deals,
            stats.tickets,
            started.elapsed().as_secs_f64()
        );
        let ctx = app
            .contexts
            .by_id(skvoz_domain::ProjectId(created.project_id))
            .await
            .unwrap();
        // Every contact with an e-mail, in lead order: the cards a help desk
        // would open.
        let leads = app
            .leads
            .between(ctx.scope, Utc::now() - Duration::days(3_650), Utc::now())
            .await
            .unwrap();
        let mut emails = Vec::new();
        for lead in &leads {
            let Some(c) = lead.contact_id else { continue };
            let contact = store.contact(ctx.scope, c).await.unwrap().unwrap();
            for i in contact.identities {
                if i.kind == skvoz_domain::crm::IdentityKind::Email && !emails.contains(&i.value) {
                    emails.push(i.value);
                }
            }
        }
        assert!(!emails.is_empty(), "the demo has contacts with e-mails");
        println!("{} distinct contacts with an e-mail", emails.len());
        let router = router(app.clone(), &ServerOptions::default());
        let widget_requests = (0..requests)
            .map(|i| {
                let key = LookupKey::Email(emails[i % emails.len()].clone());
                let (path, _) = widget::signed_path(&ctx, &key, Utc::now()).unwrap();
                Request::get(path).body(Body::empty()).unwrap()
            })
            .collect::<Vec<_>>();
        // Warm-up: page cache and the context cache.
        let warm = (0..100.min(requests))
            .map(|i| {
                let key = LookupKey::Email(emails[i % emails.len()].clone());
                let (path, _) = widget::signed_path(&ctx, &key, Utc::now()).unwrap();
                Request::get(path).body(Body::empty()).unwrap()
            })
            .collect::<Vec<_>>();
        measure("warm-up", &router, warm, concurrency).await;
        let p99 = measure("GET /widget/contact", &router, widget_requests, concurrency).await;
        let api_key = created.api_key.clone();
        let lookups = (0..requests)
            .map(|i| {
                let email = &emails[i % emails.len()];
                Request::get(format!("/api/v1/contacts/lookup?email={email}"))
                    .header(header::AUTHORIZATION, format!("Bearer {api_key}"))
                    .body(Body::empty())
                    .unwrap()
            })
            .collect::<Vec<_>>();
        measure("GET /api/v1/contacts/lookup", &router, lookups, concurrency).await;
        app.shutdown().await.unwrap();
        p99
    });
    if p99 >= 50.0 {
        eprintln!("FAIL: the card's p99 {p99:.2} ms is not under 50 ms");
        std::process::exit(1);
    }
}
