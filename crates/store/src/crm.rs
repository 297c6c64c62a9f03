//! Contacts, leads and deals: the mutable core of the funnel.
//!
//! The operations that must be atomic — resolving a lead's contact (with a
//! merge when the lead proves two contacts are one person), deduplicating it
//! against the contact's open deal, upserting a deal from a CRM — are single
//! store calls, so concurrent deliveries cannot interleave halfway.

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::crm::{DealStatus, Identity, LeadKind};
use skvoz_domain::Money;

/// A lead to record.
#[derive(Debug, Clone)]
pub struct NewLead {
    /// Form, call, chat, ticket or e-mail.
    pub kind: LeadKind,
    /// The sender's id of the event (call id, message id) — a redelivery
    /// with the same id returns the first record instead of a second one.
    pub source_id: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The visit it is attributed to, if any.
    pub visit_id: Option<i64>,
    /// Normalized identities of the person.
    pub identities: Vec<Identity>,
    /// The person's name, if given.
    pub name: Option<String>,
    /// The lead as received (form fields etc.).
    pub payload: serde_json::Value,
}

/// How a lead opens deals.
#[derive(Debug, Clone)]
pub struct LeadPolicy {
    /// A lead from a contact with an open deal opens no new deal.
    pub dedup: bool,
    /// The stage a new deal starts in.
    pub first_stage: String,
}

/// What recording a lead did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadRecorded {
    /// The lead.
    pub lead_id: i64,
    /// Its contact (after any merge).
    pub contact_id: i64,
    /// The deal it opened or joined.
    pub deal_id: Option<i64>,
    /// It joined an open deal instead of opening one.
    pub duplicate: bool,
    /// The deal it opened follows a won deal of the same contact.
    pub repeat_sale: bool,
    /// Contacts merged into `contact_id` by this lead.
    pub merged: Vec<i64>,
    /// The lead had been recorded before (same `source_id`); nothing changed.
    pub replayed: bool,
}

/// A deal upsert, resolved by the service.
#[derive(Debug, Clone)]
pub struct DealWrite {
    /// The id in the source system.
    pub external_id: String,
    /// Status after the write (`None` keeps the stored one; a new deal is open).
    pub status: Option<DealStatus>,
    /// Stage after the write (`None` keeps it; a new deal takes `default_stage`).
    pub stage: Option<String>,
    /// The stage of a new deal without one.
    pub default_stage: String,
    /// Revenue (`None` keeps it).
    pub revenue: Option<Money>,
    /// Profit (`None` keeps it).
    pub profit: Option<Money>,
    /// Product or title.
    pub product: Option<String>,
    /// When the deal was created (new deals; default now).
    pub created_at: Option<DateTime<Utc>>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Identities of the client, to find or create the contact.
    pub identities: Vec<Identity>,
    /// The visit named by the source (visit code / vid).
    pub visit_id: Option<i64>,
    /// The source's modification time: an update older than the stored one
    /// is ignored (out-of-order redelivery).
    pub source_updated_at: Option<DateTime<Utc>>,
    /// When the change happened (stage history).
    pub at: DateTime<Utc>,
}

/// What a deal upsert did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealRecorded {
    /// The deal.
    pub deal_id: i64,
    /// It was created now.
    pub created: bool,
    /// It took over the open deal a lead had opened for the same contact.
    pub adopted: bool,
    /// Any field changed.
    pub changed: bool,
    /// The stage changed (a history row was added).
    pub stage_changed: bool,
    /// Its contact.
    pub contact_id: Option<i64>,
}

/// A deal as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deal {
    /// Id.
    pub id: i64,
    /// Source system id (`None` for a deal a lead opened in skvoz).
    pub external_id: Option<String>,
    /// Contact.
    pub contact_id: Option<i64>,
    /// The lead that opened it.
    pub lead_id: Option<i64>,
    /// The visit it is attributed to.
    pub visit_id: Option<i64>,
    /// Open, won, lost.
    pub status: DealStatus,
    /// Stage name.
    pub stage: String,
    /// Revenue.
    pub revenue: Money,
    /// Profit.
    pub profit: Option<Money>,
    /// Product.
    pub product: Option<String>,
    /// A repeat sale (follows a won deal of the same contact).
    pub is_repeat: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A lead as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: LeadKind,
    /// Contact.
    pub contact_id: Option<i64>,
    /// Visit.
    pub visit_id: Option<i64>,
    /// Deal.
    pub deal_id: Option<i64>,
    /// Joined an open deal.
    pub is_duplicate: bool,
    /// When.
    pub created_at: DateTime<Utc>,
    /// As received.
    pub payload: serde_json::Value,
}

/// A contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: Option<String>,
    /// All identities (of merged contacts too).
    pub identities: Vec<Identity>,
    /// Contacts merged into this one.
    pub merged_from: Vec<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// One stage change of a deal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageChange {
    /// Stage.
    pub stage: String,
    /// Status at that stage.
    pub status: DealStatus,
    /// When.
    pub at: DateTime<Utc>,
}

/// One run of a pull connector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PullRun {
    /// Source name.
    pub source: String,
    /// The day pulled (`YYYY-MM-DD`).
    pub day: String,
    /// When.
    pub attempted_at: DateTime<Utc>,
    /// Succeeded.
    pub ok: bool,
    /// Transactions taken.
    pub transactions: i64,
    /// The error, when it failed.
    pub error: Option<String>,
}

/// Contacts, leads, deals, raw payloads and pull state.
#[async_trait]
pub trait CrmStore: Send + Sync {
    /// Records a lead atomically: contact resolution (with merge),
    /// deduplication, the deal it opens, the lead row.
    async fn record_lead(
        &self,
        scope: Scope,
        lead: NewLead,
        policy: LeadPolicy,
    ) -> StoreResult<LeadRecorded>;
    /// Upserts a deal by external id atomically.
    async fn upsert_deal(&self, scope: Scope, deal: DealWrite) -> StoreResult<DealRecorded>;
    /// A deal by id.
    async fn deal(&self, scope: Scope, id: i64) -> StoreResult<Option<Deal>>;
    /// A deal by external id.
    async fn deal_by_external_id(
        &self,
        scope: Scope,
        external_id: &str,
    ) -> StoreResult<Option<Deal>>;
    /// A contact (following merges to the surviving contact).
    async fn contact(&self, scope: Scope, id: i64) -> StoreResult<Option<Contact>>;
    /// The contact holding an identity.
    async fn contact_by_identity(
        &self,
        scope: Scope,
        identity: &Identity,
    ) -> StoreResult<Option<i64>>;
    /// A contact's leads, oldest first.
    async fn leads_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Lead>>;
    /// A contact's deals, oldest first.
    async fn deals_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Deal>>;
    /// A deal's stage history, oldest first.
    async fn deal_history(&self, scope: Scope, deal_id: i64) -> StoreResult<Vec<StageChange>>;
    /// Deals that entered `stage` within `[from, to)`, with when.
    async fn deals_entering_stage(
        &self,
        scope: Scope,
        stage: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(Deal, DateTime<Utc>)>>;
    /// Leads created within `[from, to)`.
    async fn leads_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Lead>>;
    /// Keeps a connector's raw payload with what became of it.
    async fn keep_payload(
        &self,
        scope: Scope,
        provider: &str,
        body: &str,
        outcome: &str,
    ) -> StoreResult<()>;
    /// Records a pull attempt.
    async fn record_pull(&self, scope: Scope, run: PullRun) -> StoreResult<()>;
    /// The latest pull attempts, newest first.
    async fn pull_runs(&self, scope: Scope, limit: usize) -> StoreResult<Vec<PullRun>>;
}
