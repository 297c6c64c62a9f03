//! Calls and number reservations: what call tracking stores.
//!
//! Reservations are decided in memory on the tracker's hot path and saved
//! here in batches; after a restart they tell which visit held a number at
//! the time of a call. Calls are idempotent on (provider, sender's id).

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::calltracking::CallAttribution;

/// One visit's hold on a dynamic number (keyed by project, visit and
/// number).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberReservation {
    /// The visit.
    pub visit_id: i64,
    /// Its visitor.
    pub vid: String,
    /// The pool's id.
    pub pool_id: String,
    /// The number, E.164.
    pub number: String,
    /// When the visit got it.
    pub reserved_from: DateTime<Utc>,
    /// Until when it holds it (last activity plus the hold time).
    pub held_until: DateTime<Utc>,
    /// Another active visit held the number too.
    pub shared: bool,
}

/// A call to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewCall {
    /// `generic`, `zadarma`, `calltouch`.
    pub provider: String,
    /// The sender's call id (unique per project and provider).
    pub source_id: String,
    /// Who called, E.164 (`None` when hidden or not a phone number).
    pub caller: Option<String>,
    /// The number called, E.164 when it parses, else as sent.
    pub called: String,
    /// The tracking number called, when it is one of a pool.
    pub number: Option<String>,
    /// Its pool.
    pub pool_id: Option<String>,
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// Talk time, seconds.
    pub duration: u32,
    /// Answered.
    pub answered: bool,
    /// Passed the target rule.
    pub is_target: bool,
    /// First call of this caller in the unique window.
    pub is_unique: bool,
    /// Link to the recording.
    pub recording_url: Option<String>,
    /// How the call found its visit.
    pub attribution: CallAttribution,
    /// The visit's number was shared with another visit.
    pub shared: bool,
    /// The visit it is attributed to.
    pub visit_id: Option<i64>,
    /// The caller's contact.
    pub contact_id: Option<i64>,
    /// The lead a target call became.
    pub lead_id: Option<i64>,
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// Id.
    pub id: i64,
    /// The fields as recorded.
    #[serde(flatten)]
    pub call: NewCall,
}

/// Reservation counts over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct ReservationStats {
    /// Visits that got a number.
    pub reservations: i64,
    /// Of them, visits whose number was shared.
    pub shared: i64,
}

/// What sizing needs of a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitSpan {
    /// Visit id.
    pub id: i64,
    /// First hit.
    pub started_at: DateTime<Utc>,
    /// Last hit.
    pub last_at: DateTime<Utc>,
    /// Source.
    pub source: String,
    /// Medium.
    pub medium: String,
    /// Campaign.
    pub campaign: Option<String>,
    /// Channel.
    pub channel: String,
}

/// Calls and reservations.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// Upserts reservations (several projects, each bound by its scope);
    /// `held_until` only ever grows.
    async fn save_reservations(&self, batch: Vec<(Scope, NumberReservation)>) -> StoreResult<()>;
    /// Reservations still held at `at` (restored into memory at start).
    async fn active_reservations(
        &self,
        scope: Scope,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<NumberReservation>>;
    /// The holders of `number` at `at`, the latest reservation first.
    async fn reservations_at(
        &self,
        scope: Scope,
        number: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<NumberReservation>>;
    /// Visits whose reservations started in `[from, to)` (of one pool, or
    /// all), and how many of them shared a number.
    async fn reservation_stats(
        &self,
        scope: Scope,
        pool_id: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<ReservationStats>;
    /// Stores a call once: a second call with the same provider and source
    /// id returns the first (`true` = it was already there).
    async fn insert_call(&self, scope: Scope, call: NewCall) -> StoreResult<(Call, bool)>;
    /// A call by its sender's id.
    async fn call_by_source(
        &self,
        scope: Scope,
        provider: &str,
        source_id: &str,
    ) -> StoreResult<Option<Call>>;
    /// The caller's calls that started before `before`, oldest first (at
    /// most `limit`).
    async fn calls_of_caller(
        &self,
        scope: Scope,
        caller: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Call>>;
    /// Calls that started in `[from, to)`, newest first, at most `limit`.
    async fn calls_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Call>>;
    /// Visits that started in `[from, to)`, oldest first, at most `limit`:
    /// only what pool sizing needs.
    async fn visit_spans(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<VisitSpan>>;
}
