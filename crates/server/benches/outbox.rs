//! Throughput of the outbox relay (events → outbox messages) and of the
//! worker delivering signed webhooks to a local receiver on loopback.
//! `cargo bench -p skvoz-server --bench outbox`
//! (env BENCH_EVENTS, default 2000). The destination's rate limit is
//! 1,000/s (the most settings allow), so delivery measures the limiter
//! once past its one-second burst; the relay has no such bound.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/receiver.rs"]
mod receiver;

use chrono::Utc;
use common::{lead_policy, ticket_lead, TestServer};
use receiver::Receiver;
use serde_json::json;
use skvoz_domain::crm::{Identity, IdentityKind};
use skvoz_store::Scope;
use std::time::Instant;

fn main() {
    let events: usize = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(events));
}

async fn run(n: usize) {
    let s = TestServer::new().await;
    let (pid, _, key) = s.project("bench").await;
    let scope = Scope::new(skvoz_domain::ProjectId(pid));
    let hook = Receiver::start(|_| Ok(())).await;
    let wh = hook.base.clone();
    s.patch_settings(&key, |doc| {
        doc["webhooks"] = json!([{"id": "b", "url": format!("{wh}/in"),
            "secret": "whsec-0123456789abcdef", "events": ["lead.created"], "rate_per_second": 1000}]);
    })
    .await;
    for i in 0..n {
        s.store
            .record_lead(
                scope,
                ticket_lead(
                    &format!("b-{i}"),
                    Utc::now(),
                    vec![Identity::new(IdentityKind::Email, format!("b{i}@x.ru"))],
                ),
                lead_policy(),
            )
            .await
            .unwrap();
    }
    let t = Instant::now();
    while s.app.outbox.relay_once().await.unwrap().0 > 0 {}
    let relayed = t.elapsed().as_secs_f64();
    let t = Instant::now();
    s.app.outbox.drain().await.unwrap();
    let delivered = t.elapsed().as_secs_f64();
    assert_eq!(hook.received().len(), n, "every webhook delivered once");
    println!(
        "outbox: {n} events relayed in {relayed:.3} s ({:.0} events/s); {n} webhooks delivered in {delivered:.2} s ({:.0}/s)",
        n as f64 / relayed,
        n as f64 / delivered
    );
}
