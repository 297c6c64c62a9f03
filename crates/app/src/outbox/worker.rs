//! The delivery worker: claims due messages with a lease, groups them per
//! (project, kind, destination), sends each group through its deliverer in
//! batches of the deliverer's size under the destination's rate limit, and
//! records every outcome — delivered, retry at a jittered backoff, dead, or
//! skipped with its reason.
//!
//! Groups run concurrently; a cycle claims again when all of its groups are
//! done, so the process never holds two claims of one message. A crash
//! leaves leases that expire after [`super::OutboxOptions::lease`], and the
//! messages go out again with the same idempotency keys.

use super::backoff::Backoff;
use super::ratelimit::RateLimiter;
use super::{Deliverer, OutboxItem, Outcome};
use crate::DynStore;
use chrono::Utc;
use skvoz_store::{OutboxMessage, OutboxResult, Scope, StoreResult};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Delivered, retried, failed, skipped and dead messages, by `kind` and
/// `outcome`.
pub const MESSAGES: &str = "skvoz_outbox_messages_total";
/// Messages in the outbox by `kind` and `status` (refreshed every few
/// seconds).
pub const QUEUE: &str = "skvoz_outbox_queue";
/// Seconds from enqueue to delivery, by `kind`.
pub const LATENCY: &str = "skvoz_outbox_delivery_seconds";
/// Seconds one delivery call took, by `kind`.
pub const ATTEMPT: &str = "skvoz_outbox_attempt_seconds";

/// The worker's parts.
pub struct Worker {
    pub(crate) store: DynStore,
    pub(crate) deliverers: HashMap<&'static str, Arc<dyn Deliverer>>,
    pub(crate) limiter: RateLimiter,
    pub(crate) backoff: Backoff,
    pub(crate) lease: Duration,
    pub(crate) claim_limit: usize,
}

fn item(m: OutboxMessage) -> OutboxItem {
    OutboxItem {
        id: m.id,
        project: m.project,
        destination_kind: m.destination_kind,
        destination: m.destination,
        idempotency_key: m.idempotency_key,
        payload: m.payload,
        attempts: m.attempts,
        created_at: m.created_at,
        event_id: m.event_id,
    }
}

fn count(kind: &str, outcome: &'static str) {
    metrics::counter!(MESSAGES, "kind" => kind.to_owned(), "outcome" => outcome).increment(1);
}

impl Worker {
    /// One cycle: claim, deliver, record. Returns how many messages it took.
    pub async fn run_once(self: &Arc<Self>) -> StoreResult<usize> {
        let kinds: Vec<String> = self.deliverers.keys().map(|k| (*k).to_owned()).collect();
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.lease).unwrap_or_default();
        let claimed = self
            .store
            .claim_outbox(kinds, now, now + lease, self.claim_limit)
            .await?;
        let n = claimed.len();
        let mut groups: BTreeMap<(i64, String, String), Vec<OutboxItem>> = BTreeMap::new();
        for m in claimed {
            groups
                .entry((
                    m.project.0,
                    m.destination_kind.clone(),
                    m.destination.clone(),
                ))
                .or_default()
                .push(item(m));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (_, items) in groups {
            let me = self.clone();
            tasks.spawn(async move { me.deliver_group(items).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Err(e)) => tracing::warn!(error = %e, "recording outbox outcomes failed"),
                Err(e) => tracing::error!(error = %e, "an outbox delivery task failed"),
                Ok(Ok(())) => {}
            }
        }
        Ok(n)
    }

    async fn deliver_group(&self, items: Vec<OutboxItem>) -> StoreResult<()> {
        let Some(first) = items.first() else {
            return Ok(());
        };
        let (project, kind, destination) = (
            first.project,
            first.destination_kind.clone(),
            first.destination.clone(),
        );
        let Some(deliverer) = self.deliverers.get(kind.as_str()).cloned() else {
            return Ok(());
        };
        let settings = self.store.settings(Scope::new(project)).await?.doc;
        let rate = deliverer.rate_per_second(&settings, &destination);
        let bucket = format!("{}:{kind}:{destination}", project.0);
        for chunk in items.chunks(deliverer.max_batch().max(1)) {
            self.limiter.acquire(&bucket, rate).await;
            let started = Instant::now();
            let mut outcomes = deliverer.deliver(&settings, chunk).await;
            metrics::histogram!(ATTEMPT, "kind" => kind.clone())
                .record(started.elapsed().as_secs_f64());
            // A deliverer that answers short leaves the rest for a retry.
            outcomes.resize(
                chunk.len(),
                Outcome::Retry {
                    error: "no outcome from the deliverer".into(),
                    after: None,
                },
            );
            let results = self.record(&kind, chunk, outcomes);
            self.store.finish_outbox(results).await?;
        }
        Ok(())
    }

    /// Turns a chunk's outcomes into records, counting them.
    fn record(
        &self,
        kind: &str,
        chunk: &[OutboxItem],
        outcomes: Vec<Outcome>,
    ) -> Vec<(i64, OutboxResult)> {
        let now = Utc::now();
        let mut rng = rand::thread_rng();
        chunk
            .iter()
            .zip(outcomes)
            .map(|(it, o)| {
                let r = self.backoff.decide(o, it.attempts, now, &mut rng);
                match &r {
                    OutboxResult::Delivered { at } => {
                        count(kind, "delivered");
                        let secs = (*at - it.created_at).num_milliseconds().max(0) as f64 / 1e3;
                        metrics::histogram!(LATENCY, "kind" => kind.to_owned()).record(secs);
                    }
                    OutboxResult::Retry { error, .. } => {
                        count(kind, "failed");
                        tracing::debug!(id = it.id, %error, "outbox delivery will be retried");
                    }
                    OutboxResult::Dead { error } => {
                        count(kind, "failed");
                        count(kind, "dead");
                        tracing::warn!(id = it.id, kind = %kind, %error, "outbox message is dead");
                    }
                    OutboxResult::Skipped { .. } => count(kind, "skipped"),
                }
                (it.id, r)
            })
            .collect()
    }

    /// Publishes the queue depth gauge.
    pub async fn publish_depth(&self) -> StoreResult<()> {
        for (kind, status, n) in self.store.outbox_depth().await? {
            metrics::gauge!(QUEUE, "kind" => kind, "status" => status).set(n as f64);
        }
        Ok(())
    }
}
