//! What the reports read, and ad spend.
//!
//! Reports keep an in-memory index of a project's facts (see the app's
//! `reports` module). The store feeds it: visits are scanned in id order
//! from a watermark (so a warm index only reads what is new), the mutable
//! CRM facts (leads, deals, stage history, contacts' visitors) are read whole
//! but only when [`ReportStore::report_revision`] says they changed. The
//! revision is stored (every node of a shared database reads the same one).
//! Costs are daily rows; importing a day of a source replaces that day.

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use skvoz_domain::cost::DailyCost;
use skvoz_domain::crm::{DealStatus, LeadKind};
use skvoz_domain::Money;

/// One visit as the reports see it, borrowed from the backend's row (the
/// scan does not allocate per visit).
#[derive(Debug, Clone, Copy)]
pub struct VisitRow<'a> {
    /// Id (scans come in ascending id order).
    pub id: i64,
    /// Visitor id.
    pub vid: &'a str,
    /// Start of the visit.
    pub started_at_ms: i64,
    /// Channel group.
    pub channel: &'a str,
    /// Source.
    pub source: &'a str,
    /// Medium.
    pub medium: &'a str,
    /// Campaign.
    pub campaign: Option<&'a str>,
    /// `utm_content`: the ad.
    pub content: Option<&'a str>,
    /// `utm_term`: the keyword.
    pub term: Option<&'a str>,
}

/// A lead as the reports see it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFact {
    /// Id.
    pub id: i64,
    /// Form, call, chat, ticket, e-mail.
    pub kind: LeadKind,
    /// Contact (after merges).
    pub contact_id: Option<i64>,
    /// The visit it came from.
    pub visit_id: Option<i64>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A deal as the reports see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DealFact {
    /// Id.
    pub id: i64,
    /// Contact.
    pub contact_id: Option<i64>,
    /// The lead that opened it.
    pub lead_id: Option<i64>,
    /// The visit named by its source (visit code / vid).
    pub visit_id: Option<i64>,
    /// Open, won, lost.
    pub status: DealStatus,
    /// Current stage.
    pub stage: String,
    /// Revenue.
    pub revenue: Money,
    /// Profit, when known.
    pub profit: Option<Money>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Closed (dates a sale).
    pub closed_at: Option<DateTime<Utc>>,
}

/// One entry of a deal's stage history.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFact {
    /// The deal.
    pub deal_id: i64,
    /// The stage entered.
    pub stage: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a cost import replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CostsReplaced {
    /// Daily rows written.
    pub rows: u64,
    /// Stored rows removed first (the same days and sources).
    pub removed: u64,
}

/// The facts reports read, and costs.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// The project's report revision: moves whenever its leads, deals,
    /// contacts (merges), calls or costs change, through any node; reports
    /// reload their CRM facts when it moves. 0 until the first change.
    ///
    /// A backend bumps it in the same transaction as the write that changes
    /// the facts, so a reader that sees the new revision also sees the new
    /// facts (a reader that reads the revision first and the facts second
    /// may see newer facts under an older revision, and reloads once more:
    /// harmless). Visits do not move it: reports scan them by id watermark.
    /// One small read (a row by primary key), on every report refresh.
    async fn report_revision(&self, scope: Scope) -> StoreResult<u64>;
    /// Calls `sink` for every visit with id above `after_id`, in id order,
    /// on the calling thread (run it off the async runtime). Returns the
    /// number of rows.
    fn scan_visits_blocking(
        &self,
        scope: Scope,
        after_id: i64,
        sink: &mut dyn FnMut(VisitRow<'_>),
    ) -> StoreResult<u64>;
    /// Every lead of the project.
    async fn report_leads(&self, scope: Scope) -> StoreResult<Vec<LeadFact>>;
    /// Every deal of the project.
    async fn report_deals(&self, scope: Scope) -> StoreResult<Vec<DealFact>>;
    /// Every stage change of the project's deals, in no particular order.
    async fn report_stage_history(&self, scope: Scope) -> StoreResult<Vec<StageFact>>;
    /// `(contact, visitor id)` for every visitor of every contact: the
    /// contact's own visitor ids, and the visitor ids linked to its GA or
    /// Metrika client ids (a pair may come twice). Reports find the
    /// visits of these visitors in their own index, so this reads no visit.
    async fn report_contact_vids(&self, scope: Scope) -> StoreResult<Vec<(i64, String)>>;
    /// Writes daily cost rows: first removes the stored rows of every
    /// `(day, source)` the import names, then inserts the rows (rows with
    /// the same day and dimensions must already be merged). Re-importing a
    /// day replaces it; it never doubles.
    async fn replace_costs(&self, scope: Scope, rows: Vec<DailyCost>)
        -> StoreResult<CostsReplaced>;
    /// Daily cost rows of `from..=to` (project days).
    async fn costs_between(
        &self,
        scope: Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<DailyCost>>;
}
