//! Visits (sessions) and hits: the high-volume facts of tracking.
//!
//! Ingestion hands the store whole batches ([`IngestWrite`]) that it must
//! commit atomically, so the caller can acknowledge every hit of a batch
//! once the call returns (group commit).

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::traffic::{Device, TrafficSource};

/// One visit (session) of a visitor, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    /// Global id.
    pub id: i64,
    /// Short numeric code, unique in the project (what forms, calls and
    /// chats quote to find the visit).
    pub code: i64,
    /// Visitor id (the `skvoz_vid` cookie).
    pub vid: String,
    /// First hit.
    pub started_at: DateTime<Utc>,
    /// Latest hit.
    pub last_at: DateTime<Utc>,
    /// Page views and events in the visit.
    pub hits: i64,
    /// Where the visit came from.
    pub source: TrafficSource,
    /// The channel group at the time of the visit.
    pub channel: String,
    /// The landing page URL.
    pub landing: String,
    /// The full referrer of the first hit.
    pub referrer: Option<String>,
    /// Browser, OS, device type.
    pub device: Device,
    /// Screen size as sent (`1920x1080`).
    pub screen: Option<String>,
    /// Browser language.
    pub lang: Option<String>,
    /// Browser time zone.
    pub tz: Option<String>,
    /// Region from the client IP, when a GeoIP database is configured.
    pub region: Option<String>,
    /// City from the client IP.
    pub city: Option<String>,
    /// Country ISO code from the client IP.
    pub country: Option<String>,
    /// Google Analytics client id seen in the visit.
    pub ga_cid: Option<String>,
    /// Yandex Metrika client id seen in the visit.
    pub ym_uid: Option<String>,
}

/// One page view or event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The visit it belongs to.
    pub visit_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The page URL.
    pub url: String,
    /// The page title.
    pub title: Option<String>,
    /// The event name, for `skvoz.event(name, props)`; `None` for a page view.
    pub event: Option<String>,
    /// Event properties (JSON object text).
    pub props: Option<String>,
}

/// A visitor id linked to another client id (`ga_cid`, `ym_uid`): the edges
/// of the identity graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct VisitorLink {
    /// The visitor id.
    pub vid: String,
    /// `ga_cid` or `ym_uid`.
    pub kind: &'static str,
    /// The other id.
    pub value: String,
}

/// What changes in a visit as hits arrive; the rest of [`Visit`] is fixed
/// by its first hit.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitProgress {
    /// Latest hit.
    pub last_at: DateTime<Utc>,
    /// Hits so far.
    pub hits: i64,
    /// GA client id, once seen.
    pub ga_cid: Option<String>,
    /// Metrika client id, once seen.
    pub ym_uid: Option<String>,
}

impl VisitProgress {
    /// The progress a visit row records.
    pub fn of(visit: &Visit) -> VisitProgress {
        VisitProgress {
            last_at: visit.last_at,
            hits: visit.hits,
            ga_cid: visit.ga_cid.clone(),
            ym_uid: visit.ym_uid.clone(),
        }
    }
}

/// One record of an ingestion batch.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // hits are the common case; boxing them would add an allocation each
pub enum IngestWrite {
    /// A hit and the state of its visit after it (inserted or updated).
    Hit {
        /// The project.
        scope: Scope,
        /// The visit's id.
        visit_id: i64,
        /// The whole visit when this hit starts it (the row is inserted);
        /// `None` when the hit continues a stored visit (the row is updated,
        /// and a missing row fails the write).
        new_visit: Option<std::sync::Arc<Visit>>,
        /// The visit's counters after this hit.
        progress: VisitProgress,
        /// The hit.
        hit: Hit,
        /// Identity links first seen with this hit.
        links: Vec<VisitorLink>,
    },
    /// A hit from a known bot: counted, not stored.
    Bot {
        /// The project.
        scope: Scope,
        /// Local day (`YYYY-MM-DD`) in the project's time zone.
        day: String,
    },
}

/// Visits and hits.
#[async_trait]
pub trait VisitStore: Send + Sync {
    /// Commits a batch atomically, all of it or none, blocking the calling
    /// thread: for the dedicated ingestion writer thread, which must not wait
    /// for an async scheduler busy with thousands of connections between a
    /// commit and its acknowledgements. Async callers run it with
    /// `tokio::task::spawn_blocking`.
    fn write_batch_blocking(&self, batch: &[IngestWrite]) -> StoreResult<()>;
    /// Hands out `n` visit ids no caller on any node has had before: the
    /// block comes from a counter the store keeps and moves atomically, and
    /// starts above every stored visit id. Ids of a block not used before
    /// its holder stops are never handed out again (gaps are fine: ids only
    /// need to be unique and to grow). `n` must be at least 1.
    async fn reserve_visit_ids(&self, n: u32) -> StoreResult<std::ops::Range<i64>>;
    /// Where the last block [`VisitStore::reserve_visit_ids`] handed out
    /// ends (exclusive; 0 before the first): a node whose own block ends
    /// there knows no other node has reserved ids since.
    async fn visit_ids_reserved_to(&self) -> StoreResult<i64>;
    /// Hands out `n` visit codes of the project no caller on any node has
    /// had before, starting above every stored code of the project (the
    /// same guarantees as [`VisitStore::reserve_visit_ids`], per project).
    async fn reserve_visit_codes(&self, scope: Scope, n: u32) -> StoreResult<std::ops::Range<i64>>;
    /// The largest visit id in the store (0 when empty).
    async fn max_visit_id(&self) -> StoreResult<i64>;
    /// The largest visit code of the project (0 when empty).
    async fn max_visit_code(&self, scope: Scope) -> StoreResult<i64>;
    /// The visitor's latest visit that started at or before `at`.
    async fn latest_visit(
        &self,
        scope: Scope,
        vid: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Visit>>;
    /// Each visitor's latest visit whose last hit is at or after `since`:
    /// the sessions that may still continue, loaded at start.
    async fn active_visits(&self, scope: Scope, since: DateTime<Utc>) -> StoreResult<Vec<Visit>>;
    /// The visit with this code.
    async fn visit_by_code(&self, scope: Scope, code: i64) -> StoreResult<Option<Visit>>;
    /// The visit with this id, if it is the project's.
    async fn visit(&self, scope: Scope, id: i64) -> StoreResult<Option<Visit>>;
    /// Visits that started in `[from, to)`, oldest first, at most `limit`.
    async fn visits_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Visit>>;
    /// Hits of a visit, in time order.
    async fn hits_of_visit(&self, scope: Scope, visit_id: i64) -> StoreResult<Vec<Hit>>;
    /// Visitor ids linked to a client id (`ga_cid`/`ym_uid` value).
    async fn vids_by_link(&self, scope: Scope, kind: &str, value: &str)
        -> StoreResult<Vec<String>>;
    /// Bot hits counted per local day in `[from_day, to_day]` (`YYYY-MM-DD`).
    ///
    /// No production code reads it yet; it is the only way to see that an
    /// [`IngestWrite::Bot`] was counted, so the conformance suite and the
    /// ingestion tests keep it.
    async fn bot_hits(&self, scope: Scope, from_day: &str, to_day: &str) -> StoreResult<i64>;
}
