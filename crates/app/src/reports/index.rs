//! The in-memory report index of one project: its visits as columns
//! (time, visitor, interned dimensions) and its CRM facts (leads, deals,
//! stage history, contacts' visits, costs).
//!
//! Visits are read once and then only what is new (a scan from a
//! watermark), so a warm report never re-reads millions of rows. Because
//! ids are handed out before their batch commits, a visit may commit after
//! a higher id was already read; every refresh therefore re-scans the ids
//! of the last few seconds and inserts the ones it has not seen. CRM facts
//! are small and mutable (merges, stage changes): they are re-read whole,
//! only when the store's report revision moved.

use super::snapshot;
use crate::{AppError, DynStore};
use skvoz_domain::cost::DailyCost;
use skvoz_store::{DealFact, LeadFact, Scope, StageFact, VisitRow};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How far back (in time) each refresh re-scans for late commits.
const LATE_COMMIT_WINDOW: Duration = Duration::from_secs(5);

/// How often a refresh re-scans the late-commit window (other refreshes
/// read only ids above all seen), so a late commit shows within about a
/// second and warm reports rarely pay for the re-scan.
const LATE_RESCAN_EVERY: Duration = Duration::from_secs(1);

/// Until a refresh is older than the window, re-scan this many ids below
/// the first load's highest id (ids handed out just before it).
pub(crate) const LATE_COMMIT_IDS: i64 = 20_000;

/// Media that mark paid traffic (besides channels named `paid …`).
const PAID_MEDIA: &[&str] = &[
    "cpc",
    "ppc",
    "cpm",
    "cpv",
    "cpa",
    "paid",
    "paidsearch",
    "paid_search",
    "paid-search",
    "paid_social",
    "paid-social",
    "display",
    "banner",
    "retargeting",
    "remarketing",
];

/// The dimensions of a visit (or a cost row) as reports group them; a
/// missing campaign, ad or keyword is `""`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Dims {
    /// `channel, source, medium, campaign, ad (utm_content), keyword (utm_term)`.
    pub values: [Box<str>; 6],
    /// Direct traffic.
    pub direct: bool,
    /// Paid traffic.
    pub paid: bool,
}

impl Dims {
    pub(crate) fn new(values: [&str; 6]) -> Dims {
        let direct = values[1] == "(direct)";
        let paid = values[0].starts_with("paid") || PAID_MEDIA.contains(&values[2]);
        Dims {
            values: values.map(Box::from),
            direct,
            paid,
        }
    }
}

/// A fast 64-bit hash (FxHash): the index hashes every visit's visitor id
/// and dimensions once per load, and SipHash would be a good part of a
/// cold load. Dimensions are compared in full on a hash match; visitor
/// ids are identified by the hash alone (see `intern_visitor`).
fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

/// The key a visitor id is interned under (also how contacts name their
/// visitors, and what snapshots store).
pub(crate) fn visitor_key(vid: &str) -> u64 {
    hash_of(vid)
}

/// While a freshly loaded snapshot is checked against the rows re-read
/// after it.
#[derive(Debug, Clone, Copy)]
struct SnapshotCheck {
    /// The snapshot's highest id (the store must still have it).
    max_id: i64,
    /// The re-scan met `max_id`.
    seen_max: bool,
    /// A re-read row differed from the snapshot's.
    mismatch: bool,
}

/// A project's visits, column by column, sorted by id.
#[derive(Default)]
pub(crate) struct Visits {
    /// Visit ids, ascending.
    pub ids: Vec<i64>,
    /// Start times (Unix ms).
    pub at: Vec<i64>,
    /// Interned visitor of each visit.
    pub visitor: Vec<u32>,
    /// Interned dimensions of each visit.
    pub dim: Vec<u32>,
    /// The interned dimensions.
    pub dims: Vec<Dims>,
    dim_lookup: rustc_hash::FxHashMap<u64, Vec<u32>>,
    visitor_lookup: rustc_hash::FxHashMap<u64, u32>,
    /// Each interned visitor's key ([`visitor_key`]), by interned visitor.
    keys: Vec<u64>,
    /// Bumped whenever a visit is inserted before the last one (a late
    /// commit), which moves the positions of the visits after it: what
    /// holds positions (the journey cache) is stale then.
    pub layout: u64,
    /// Visits per visitor in time order (CSR), rebuilt after changes.
    by_visitor: Option<ByVisitor>,
    /// `(when, max id)` after each refresh, for the late-commit re-scan.
    marks: Vec<(Instant, i64)>,
    /// When the late-commit window was last re-scanned.
    last_rescan: Option<Instant>,
    /// Where the first refresh scans from (0, or a loaded snapshot's
    /// re-scan point).
    floor: i64,
    /// Set while a loaded snapshot is being checked.
    check: Option<SnapshotCheck>,
    /// Visits added since the last snapshot was loaded or encoded.
    pub unsaved: usize,
}

impl Visits {
    /// The index of a visit id.
    pub(crate) fn position(&self, id: i64) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Interns dimensions (also used for cost rows, which may name
    /// dimensions no visit has).
    pub(crate) fn intern_dims(&mut self, values: [&str; 6]) -> u32 {
        let h = hash_of(&values);
        if let Some(candidates) = self.dim_lookup.get(&h) {
            for &c in candidates {
                let d = &self.dims[c as usize];
                if d.values.iter().zip(values).all(|(a, b)| &**a == b) {
                    return c;
                }
            }
        }
        let id = self.dims.len() as u32;
        self.dims.push(Dims::new(values));
        self.dim_lookup.entry(h).or_default().push(id);
        id
    }

    fn intern_visitor(&mut self, vid: &str) -> u32 {
        // A 64-bit hash names the visitor: two visitor ids colliding would
        // merge two visitors' counts, at odds of about n²/2⁶⁵.
        let next = self.keys.len() as u32;
        let key = hash_of(vid);
        let id = *self.visitor_lookup.entry(key).or_insert(next);
        if id == next {
            self.keys.push(key);
        }
        id
    }

    /// The key of an interned visitor.
    pub(crate) fn key_of(&self, visitor: u32) -> u64 {
        self.keys.get(visitor as usize).copied().unwrap_or_default()
    }

    /// The interned visitor of a visitor key, if any visit has it.
    pub(crate) fn visitor_of(&self, key: u64) -> Option<u32> {
        self.visitor_lookup.get(&key).copied()
    }

    /// Every visitor's key, by interned visitor.
    pub(crate) fn visitor_keys(&self) -> &[u64] {
        &self.keys
    }

    /// Takes the columns of a decoded snapshot (the dimension sets are
    /// interned already); fails when two visitors share a key.
    pub(crate) fn restore(
        &mut self,
        ids: Vec<i64>,
        at: Vec<i64>,
        visitor: Vec<u32>,
        dim: Vec<u32>,
        visitor_keys: &[u64],
    ) -> Result<(), &'static str> {
        let mut lookup = rustc_hash::FxHashMap::default();
        lookup.reserve(visitor_keys.len());
        for (v, &key) in visitor_keys.iter().enumerate() {
            if lookup.insert(key, v as u32).is_some() {
                return Err("two visitors with one key");
            }
        }
        self.visitor_lookup = lookup;
        self.keys = visitor_keys.to_vec();
        self.layout += 1;
        self.ids = ids;
        self.at = at;
        self.visitor = visitor;
        self.dim = dim;
        self.by_visitor = None;
        self.unsaved = 0;
        Ok(())
    }

    /// Whether a re-read row is what the index holds at `pos`.
    fn same_row(&self, pos: usize, row: &VisitRow<'_>) -> bool {
        let d = &self.dims[self.dim[pos] as usize].values;
        self.at[pos] == row.started_at_ms
            && self.visitor_of(visitor_key(row.vid)) == Some(self.visitor[pos])
            && *d[0] == *row.channel
            && *d[1] == *row.source
            && *d[2] == *row.medium
            && *d[3] == *row.campaign.unwrap_or("")
            && *d[4] == *row.content.unwrap_or("")
            && *d[5] == *row.term.unwrap_or("")
    }

    pub(super) fn push(&mut self, row: VisitRow<'_>) {
        let pos = match self.ids.last() {
            Some(&last) if row.id <= last => match self.ids.binary_search(&row.id) {
                Ok(pos) => {
                    // Seen already; a loaded snapshot's rows are checked.
                    if let Some(mut check) = self.check {
                        check.mismatch |= !self.same_row(pos, &row);
                        check.seen_max |= row.id == check.max_id;
                        self.check = Some(check);
                    }
                    return;
                }
                Err(pos) => {
                    self.layout += 1;
                    pos
                }
            },
            _ => self.ids.len(),
        };
        let dim = self.intern_dims([
            row.channel,
            row.source,
            row.medium,
            row.campaign.unwrap_or(""),
            row.content.unwrap_or(""),
            row.term.unwrap_or(""),
        ]);
        let visitor = self.intern_visitor(row.vid);
        self.ids.insert(pos, row.id);
        self.at.insert(pos, row.started_at_ms);
        self.visitor.insert(pos, visitor);
        self.dim.insert(pos, dim);
        self.by_visitor = None;
        self.unsaved += 1;
    }

    /// The id a refresh at `now` re-scans from when it re-scans: above
    /// it every id was seen committed at least [`LATE_COMMIT_WINDOW`] ago
    /// (or, before that long, [`LATE_COMMIT_IDS`] below the first load's
    /// highest id).
    pub(crate) fn settled_id(&self, now: Instant) -> i64 {
        match self
            .marks
            .iter()
            .rev()
            .find(|(t, _)| now.duration_since(*t) >= LATE_COMMIT_WINDOW)
        {
            Some((_, id)) => *id,
            None => self
                .marks
                .first()
                .map_or(self.floor, |(_, id)| (id - LATE_COMMIT_IDS).max(0)),
        }
    }

    /// Where a process loading a snapshot of these columns re-scans from:
    /// the settled id, and at least the last [`LATE_COMMIT_IDS`] ids.
    pub(crate) fn snapshot_rescan_from(&self, now: Instant) -> i64 {
        let max = self.ids.last().copied().unwrap_or(0);
        self.settled_id(now).min(max - LATE_COMMIT_IDS).max(0)
    }

    /// Reads new (and late-committed) visits; a snapshot just loaded is
    /// checked against the rows re-read. Returns `false` when that check
    /// failed (the caller drops the columns and reads them whole).
    fn scan(&mut self, store: &DynStore, scope: Scope) -> Result<bool, AppError> {
        let now = Instant::now();
        // At most once a second, re-scan from the highest id seen before
        // the late-commit window; otherwise read only what is above
        // everything seen.
        let max_seen = self.ids.last().copied().unwrap_or(0);
        let rescan = self
            .last_rescan
            .is_none_or(|t| now.duration_since(t) >= LATE_RESCAN_EVERY);
        let from = if rescan {
            self.last_rescan = Some(now);
            self.settled_id(now).min(max_seen)
        } else {
            max_seen
        };
        store.scan_visits_blocking(scope, from, &mut |row| self.push(row))?;
        if let Some(check) = self.check.take() {
            if check.mismatch || !check.seen_max {
                return Ok(false);
            }
        }
        let max = self.ids.last().copied().unwrap_or(0);
        // Keep the newest mark already past the window and all newer.
        if let Some(k) = self
            .marks
            .iter()
            .rposition(|(t, _)| now.duration_since(*t) >= LATE_COMMIT_WINDOW)
        {
            self.marks.drain(..k);
        }
        self.marks.push((now, max));
        Ok(true)
    }

    /// Builds the per-visitor lists if a change dropped them.
    pub(crate) fn ensure_by_visitor(&mut self) {
        if self.by_visitor.is_none() {
            self.by_visitor = Some(build_by_visitor(
                &self.visitor,
                &self.at,
                &self.dim,
                self.keys.len(),
            ));
        }
    }

    /// Every visitor's visits in time order. Empty until
    /// [`Visits::ensure_by_visitor`] ran after the last change.
    pub(crate) fn by_visitor(&self) -> &ByVisitor {
        static EMPTY: ByVisitor = ByVisitor {
            offsets: Vec::new(),
            list: Vec::new(),
            at: Vec::new(),
            dim: Vec::new(),
        };
        self.by_visitor.as_ref().unwrap_or(&EMPTY)
    }
}

/// Every visitor's visits in time order (CSR): visitor `v`'s visits are
/// entries `offsets[v]..offsets[v + 1]` of `list` (positions in the
/// columns), with their start times and dimensions copied alongside so a
/// pass over visitors reads memory in order.
pub(crate) struct ByVisitor {
    offsets: Vec<u32>,
    /// Position of each entry's visit in the columns.
    pub list: Vec<u32>,
    /// Start time of each entry's visit.
    pub at: Vec<i64>,
    /// Interned dimensions of each entry's visit.
    pub dim: Vec<u32>,
}

impl ByVisitor {
    /// Number of visitors.
    pub(crate) fn visitors(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// The entries of visitor `v` (empty for an unknown one).
    pub(crate) fn range(&self, v: usize) -> std::ops::Range<usize> {
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&lo), Some(&hi)) => lo as usize..hi as usize,
            _ => 0..0,
        }
    }
}

fn build_by_visitor(visitor: &[u32], at: &[i64], dim: &[u32], n: usize) -> ByVisitor {
    let mut offsets = vec![0u32; n + 1];
    for &v in visitor {
        offsets[v as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut list = vec![0u32; visitor.len()];
    for (i, &v) in visitor.iter().enumerate() {
        list[fill[v as usize] as usize] = i as u32;
        fill[v as usize] += 1;
    }
    for v in 0..n {
        let slice = &mut list[offsets[v] as usize..offsets[v + 1] as usize];
        if slice.len() > 1 {
            slice.sort_unstable_by_key(|&i| (at[i as usize], i));
        }
    }
    let at = list.iter().map(|&i| at[i as usize]).collect();
    let dim = list.iter().map(|&i| dim[i as usize]).collect();
    ByVisitor {
        offsets,
        list,
        at,
        dim,
    }
}

/// The first day costs are read from (every day with costs is after it).
fn first_cost_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// The last day costs are read to.
fn last_cost_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default()
}

/// A project's CRM facts at one report revision.
#[derive(Default)]
pub(crate) struct Crm {
    /// The store revision these were read at (`None`: never read).
    pub revision: Option<u64>,
    /// Leads by id.
    pub leads: Vec<LeadFact>,
    /// Deals by id.
    pub deals: Vec<DealFact>,
    /// Stage changes, in no particular order.
    pub stages: Vec<StageFact>,
    /// A contact's visitors, as [`visitor_key`]s: their visits are the
    /// contact's (resolved through the visit columns at report time, so a
    /// visitor's newer visits count without re-reading the CRM facts).
    pub contact_visitors: HashMap<i64, Vec<u64>>,
    /// Every call of the project: (visit, start in Unix ms, answered,
    /// target, unique).
    pub calls: Vec<(Option<i64>, i64, bool, bool, bool)>,
    /// Every cost row of the project.
    pub costs: Vec<DailyCost>,
    /// Each cost row's interned dimensions, and the settings version its
    /// channel was classified under.
    pub cost_dims: Option<(i64, Vec<u32>)>,
    /// Every conversion's journey, built on the first report after these
    /// facts were read and kept while new visits cannot change them.
    pub journeys: Option<super::engine::Journeys>,
}

impl Crm {
    /// Reads every CRM fact of the project at `revision`.
    async fn read(store: &DynStore, scope: Scope, revision: u64) -> Result<Crm, AppError> {
        let (leads, deals, stages, contact_vids, costs, calls) = tokio::try_join!(
            store.report_leads(scope),
            store.report_deals(scope),
            store.report_stage_history(scope),
            store.report_contact_vids(scope),
            store.costs_between(scope, first_cost_day(), last_cost_day()),
            store.calls_between(
                scope,
                chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
                chrono::DateTime::<chrono::Utc>::MAX_UTC,
                usize::MAX
            ),
        )?;
        let mut contact_visitors: HashMap<i64, Vec<u64>> = HashMap::new();
        for (contact, vid) in contact_vids {
            let list = contact_visitors.entry(contact).or_default();
            let key = visitor_key(&vid);
            if !list.contains(&key) {
                list.push(key);
            }
        }
        Ok(Crm {
            revision: Some(revision),
            leads,
            deals,
            stages,
            contact_visitors,
            costs,
            cost_dims: None,
            journeys: None,
            calls: calls
                .into_iter()
                .map(|c| {
                    let c = c.call;
                    (
                        c.visit_id,
                        c.started_at.timestamp_millis(),
                        c.answered,
                        c.is_target,
                        c.is_unique,
                    )
                })
                .collect(),
        })
    }
}

/// Everything a project's reports read.
#[derive(Default)]
pub(crate) struct ProjectIndex {
    /// Visits.
    pub visits: Visits,
    /// CRM facts.
    pub crm: Crm,
    /// Groupings of the dimension sets for recent `group_by`s.
    pub groupings: Vec<super::engine::Grouping>,
}

impl ProjectIndex {
    /// Brings the index up to date: new (and late-committed) visits, and
    /// the CRM facts when the store's revision moved. A fresh index starts
    /// from the project's snapshot in `snapshots` when there is a good one.
    /// The visits and the CRM facts are read at the same time, on
    /// different reader connections.
    pub(crate) async fn refresh(
        mut self: Box<Self>,
        store: &DynStore,
        scope: Scope,
        snapshots: Option<PathBuf>,
    ) -> Result<Box<Self>, AppError> {
        let revision = store.report_revision(scope).await?;
        let crm_stale = self.crm.revision != Some(revision);
        let scan_store = store.clone();
        let started = Instant::now();
        let visits_task = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
            let v = &mut self.visits;
            let fresh = v.ids.is_empty() && v.marks.is_empty();
            let mut loaded = false;
            if let (true, Some(dir)) = (fresh, &snapshots) {
                match snapshot::load(dir, scope.project()) {
                    Ok(s) => {
                        *v = s.visits;
                        v.floor = s.rescan_from;
                        v.check = Some(SnapshotCheck {
                            max_id: s.max_id,
                            seen_max: false,
                            mismatch: false,
                        });
                        loaded = true;
                    }
                    Err(snapshot::SnapshotError::Io(e))
                        if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(project = scope.project().0, error = %e, "report index snapshot ignored");
                    }
                }
            }
            if !v.scan(&scan_store, scope)? {
                tracing::warn!(
                    project = scope.project().0,
                    "report index snapshot does not match the stored visits; reading them all"
                );
                *v = Visits::default();
                v.scan(&scan_store, scope)?;
                loaded = false;
                // Positions moved: journeys built on the old columns go.
                self.crm.journeys = None;
            }
            Ok((self, loaded, started.elapsed()))
        });
        let crm = if crm_stale {
            Some(Crm::read(store, scope, revision).await?)
        } else {
            None
        };
        let crm_took = started.elapsed();
        let (mut me, from_snapshot, visits_took) = visits_task
            .await
            .map_err(|e| AppError::Internal(format!("report index refresh: {e}")))??;
        tracing::debug!(
            project = scope.project().0,
            visits = me.visits.ids.len(),
            from_snapshot,
            visits_ms = visits_took.as_millis() as u64,
            crm_ms = crm.is_some().then_some(crm_took.as_millis() as u64),
            "report index refreshed"
        );
        if let Some(crm) = crm {
            me.crm = crm;
        }
        Ok(me)
    }
}
