//! The outbox's back room: the relay's atomic fan-out, the worker's leases
//! and outcomes, the dead-letter list, and the contact keys conversions need.
//!
//! A worker claims due messages with a lease (`leased_until`): a crash in
//! the middle of a delivery leaves a lease that simply expires, and the
//! message is delivered again — at least once, with its idempotency key, so
//! the receiver can drop the repeat.

use crate::{NewOutboxMessage, Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::ProjectId;

/// An outbox message as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxMessage {
    /// Row id.
    pub id: i64,
    /// The project.
    #[serde(skip)]
    pub project: ProjectId,
    /// Which deliverer takes it (`webhook`, `ga4`, …).
    pub destination_kind: String,
    /// Which destination of that kind.
    pub destination: String,
    /// Unique per project.
    pub idempotency_key: String,
    /// What to deliver.
    pub payload: serde_json::Value,
    /// The event it came from.
    pub event_id: Option<i64>,
    /// `pending`, `delivered`, `dead` or `skipped`.
    pub status: String,
    /// Delivery attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: DateTime<Utc>,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// Why it was not sent (skipped messages).
    pub skip_reason: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When the receiver took it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What became of a claimed message.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboxResult {
    /// Delivered at this time.
    Delivered {
        /// When.
        at: DateTime<Utc>,
    },
    /// Try again at `next`.
    Retry {
        /// When the next attempt is due.
        next: DateTime<Utc>,
        /// What went wrong.
        error: String,
    },
    /// To the dead-letter list.
    Dead {
        /// What went wrong.
        error: String,
    },
    /// Deliberately not sent.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Which messages a listing shows.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this destination kind.
    pub kind: Option<String>,
    /// Only ids below this (paging newest first).
    pub before: Option<i64>,
    /// At most this many (newest first).
    pub limit: usize,
}

/// The identifiers of a contact that outbound destinations key on, each
/// the most recently seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContactKeys {
    /// Google Analytics client id (`_ga` cookie's `123.456`).
    pub ga_cid: Option<String>,
    /// Yandex Metrika ClientId (`_ym_uid`).
    pub ym_uid: Option<String>,
    /// The Yandex Direct click id of the contact's latest visit with one.
    pub yclid: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
}

/// The outbox worker's and the relay's store.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// In ONE transaction: enqueues every message (an existing idempotency
    /// key is left alone) and advances `consumer`'s cursor to `upto`. A
    /// crash before commit leaves both as they were; after, both are done.
    /// Returns how many messages were new.
    async fn relay_batch(
        &self,
        consumer: &str,
        upto: i64,
        messages: Vec<(Scope, NewOutboxMessage)>,
    ) -> StoreResult<usize>;
    /// Claims up to `limit` pending messages of these kinds that are due at
    /// `now` and not leased, oldest due first, leasing them until
    /// `lease_until`.
    async fn claim_outbox(
        &self,
        kinds: Vec<String>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Records what became of claimed messages and releases their leases
    /// (`Delivered`, `Retry` and `Dead` count an attempt).
    async fn finish_outbox(&self, results: Vec<(i64, OutboxResult)>) -> StoreResult<()>;
    /// The project's messages, newest first.
    async fn list_outbox(
        &self,
        scope: Scope,
        filter: OutboxFilter,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Puts a dead message of the project back in the queue, due now, with
    /// a fresh attempt count; `false` when there is no such dead message.
    async fn retry_outbox(&self, scope: Scope, id: i64) -> StoreResult<bool>;
    /// Puts every dead message of the project back in the queue; returns
    /// how many.
    async fn retry_dead_outbox(&self, scope: Scope) -> StoreResult<u64>;
    /// The project's messages counted by status.
    async fn outbox_counts(&self, scope: Scope) -> StoreResult<Vec<(String, i64)>>;
    /// Every project's messages counted by kind and status (metrics).
    async fn outbox_depth(&self) -> StoreResult<Vec<(String, String, i64)>>;
    /// Deletes up to `limit` messages that are done — delivered before
    /// `before`, or skipped and created before it — and returns how many.
    /// Pending and dead messages are kept whatever their age.
    async fn prune_outbox(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64>;
    /// A contact's latest GA client id, Metrika ClientId, yclid, e-mail
    /// and phone (a merged contact's survivor's included).
    async fn contact_keys(&self, scope: Scope, contact_id: i64) -> StoreResult<ContactKeys>;
}
