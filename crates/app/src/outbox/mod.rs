//! The outbox: every message skvoz sends to another system.
//!
//! Producers never send anything themselves. A change appends a domain
//! event in its own transaction (see `skvoz_store::EventStore`); consumers
//! turn events into outbox messages — the relay for webhooks, conversions
//! and eSputnik, the automations engine for surveys and scenario actions —
//! each advancing its cursor in the transaction that enqueues. A worker
//! delivers due messages at least once, through the [`Deliverer`] of each
//! message's destination kind, with retries, rate limits and a dead-letter
//! list. Ingestion never waits on delivery.

pub mod backoff;
pub mod destinations;
pub mod ratelimit;
pub mod relay;
pub mod routing;
mod service;
pub mod worker;

pub use service::{OutboxOptions, OutboxService};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use skvoz_domain::ProjectId;
use std::time::Duration;

/// One message as a deliverer gets it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Outbox row id.
    pub id: i64,
    /// The project it belongs to.
    pub project: ProjectId,
    /// `webhook`, `ga4`, `metrika`, `metrika_calls`, `esputnik`, `smtp`, …
    pub destination_kind: String,
    /// Which destination of that kind (an id in the project's settings).
    pub destination: String,
    /// Unique per project; travels with the message so a receiver can drop
    /// a redelivery.
    pub idempotency_key: String,
    /// What to deliver, in the deliverer's own shape.
    pub payload: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// The event it came from, if any.
    pub event_id: Option<i64>,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The receiver took it.
    Delivered,
    /// A temporary failure (network, 5xx, 429): try again later — after
    /// `after` when the receiver said so (`Retry-After`), else on the
    /// worker's backoff schedule.
    Retry {
        /// What went wrong.
        error: String,
        /// The receiver's own wait, if it gave one.
        after: Option<Duration>,
    },
    /// A permanent failure (4xx, a misconfigured destination): straight to
    /// the dead-letter list, where a person can fix the cause and retry.
    Failed {
        /// What went wrong.
        error: String,
    },
    /// Deliberately not sent (outside GA4's 72-hour or Metrika's 21-day
    /// window, no client id, destination disabled), with the reason kept.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Sends messages of one destination kind.
#[async_trait]
pub trait Deliverer: Send + Sync {
    /// The destination kind it serves (`webhook`, `ga4`, …).
    fn kind(&self) -> &'static str;
    /// How many messages of one destination it can send in one request
    /// (Metrika takes a CSV of many conversions; most take one).
    fn max_batch(&self) -> usize {
        1
    }
    /// Requests per second at most to one destination, given the project's
    /// settings (its own setting, else the kind's default).
    fn rate_per_second(&self, _settings: &serde_json::Value, _destination: &str) -> f64 {
        10.0
    }
    /// Delivers a batch of messages of one project and one destination,
    /// given that project's settings document; returns one outcome per
    /// message, in order.
    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome>;
}
