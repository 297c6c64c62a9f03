//! Server-side render time of every dashboard page on the demo data set,
//! through the real router (`oneshot`, no network): each page is asked
//! `ROUNDS` times after one warm-up, and the median and worst are printed.
//!
//! `cargo bench -p skvoz-server --bench dashboard` generates a demo of
//! `BENCH_VISITORS` (default 20,000) visitors first;
//! `SKVOZ_BENCH_DATA=DIR` uses the `demo` project of an existing folder.

#![allow(clippy::unwrap_used, missing_docs)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use skvoz_app::App;
use skvoz_backends::{open_store, Durability, OpenOptions, StoreUrl};
use skvoz_server::{router, ServerOptions};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const ROUNDS: usize = 15;

/// The app over the store in the data folder `dir`.
async fn open(dir: &std::path::Path) -> App {
    let options = OpenOptions {
        durability: Durability::Normal,
    };
    App::new(
        open_store(&StoreUrl::data_folder(dir), &options)
            .await
            .unwrap(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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
                let app = open(tmp.path()).await;
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
        let app = open(&dir).await;
        let _ = app.auth.create_user("bench", "bench-password", true).await;
        let (_, token) = app.auth.login("bench", "bench-password").await.unwrap();
        let cookie = format!("skvoz_session={token}");
        let project = app
            .projects
            .by_name("demo")
            .await
            .unwrap()
            .expect("a demo project");
        let scope = skvoz_store::Scope::new(project.id);
        let now = chrono::Utc::now();
        let leads = app
            .leads
            .between(scope, now - chrono::Duration::days(40), now)
            .await
            .unwrap();
        let contact = leads.iter().find_map(|l| l.contact_id).unwrap_or(1);
        // The journeys of a caller and of a chat's author.
        let of_kind = |kind: skvoz_domain::crm::LeadKind| {
            leads
                .iter()
                .filter(|l| l.kind == kind)
                .find_map(|l| l.contact_id)
                .unwrap_or(contact)
        };
        let caller = of_kind(skvoz_domain::crm::LeadKind::Call);
        let chatter = of_kind(skvoz_domain::crm::LeadKind::Chat);
        let r = router(app.clone(), &ServerOptions::default());
        let pages = [
            "/".to_owned(),
            "/reports/channels".to_owned(),
            "/reports/channels?compare=1".to_owned(),
            "/reports/channels?model=last_non_direct&also=first_click&also=linear&also=markov"
                .to_owned(),
            "/reports/channels?f_channel=paid%20search&f_source=yandex".to_owned(),
            "/reports/channels.csv".to_owned(),
            "/reports/dynamics?compare=1".to_owned(),
            "/reports/funnel".to_owned(),
            "/leads".to_owned(),
            format!("/contacts/{contact}"),
            format!("/contacts/{caller}"),
            format!("/contacts/{chatter}"),
            "/calls".to_owned(),
            "/calls?page=2".to_owned(),
            "/chats".to_owned(),
            "/chats?granularity=week".to_owned(),
            "/settings".to_owned(),
        ];
        println!("| page | median ms | worst ms | bytes |");
        println!("|---|---|---|---|");
        for page in &pages {
            let mut times = Vec::new();
            let mut bytes = 0;
            for round in 0..=ROUNDS {
                let req = Request::get(page.as_str())
                    .header(header::COOKIE, &cookie)
                    .header(header::ACCEPT_LANGUAGE, "ru")
                    .body(Body::empty())
                    .unwrap();
                let t = Instant::now();
                let resp = r.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                let took = t.elapsed();
                assert_eq!(status, StatusCode::OK, "{page}");
                bytes = body.len();
                if round > 0 {
                    times.push(took);
                }
            }
            times.sort();
            println!(
                "| `{page}` | {:.1} | {:.1} | {bytes} |",
                ms(times[times.len() / 2]),
                ms(times[times.len() - 1])
            );
        }
        app.shutdown().await.unwrap();
    });
}
