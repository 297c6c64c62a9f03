//! Dynamic number reservations in memory: the tracker's hot path decides a
//! visit's number here without touching the store.
//!
//! Each project with dynamic pools has one entry (its pools' states and the
//! holds by visit) behind its own lock, rebuilt when the settings version
//! changes (holds on numbers that are still in the same pool survive).
//! New and extended holds are queued and saved in batches every
//! [`FLUSH_EVERY`] by a background task (and on demand before a call is
//! attributed), so `/collect` never waits for a write it does not need.
//! After a restart, [`NumberPools::warm_up`] restores the holds still
//! running from the store.
//!
//! [`NumberReservations`] is the interface the tracker and the calls
//! service use; [`NumberPools`] is its in-memory default (the SQLite
//! store's). Several nodes sharing one store and one number pool need a
//! shared implementation, so that two nodes never give one number to two
//! visits at once.

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};
use skvoz_domain::calltracking::{CompiledRule, PoolKind, PoolState, VisitTraits};
use skvoz_domain::ProjectId;
use skvoz_store::{NumberReservation, Scope};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often queued reservations are saved.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

struct LivePool {
    id: String,
    numbers: Vec<String>,
    rule: CompiledRule,
    hold_ms: i64,
    state: PoolState,
}

#[derive(Clone)]
struct VisitHold {
    pool: usize,
    number: usize,
    vid: String,
    reserved_from: DateTime<Utc>,
    until_ms: i64,
    shared: bool,
}

#[derive(Default)]
struct ProjectPools {
    version: i64,
    pools: Vec<LivePool>,
    by_visit: HashMap<i64, VisitHold>,
}

/// What [`NumberPools::status`] reports per dynamic pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LiveStatus {
    /// Pool id.
    pub pool_id: String,
    /// Numbers held by an active visit now.
    pub busy: usize,
    /// Visits holding a number now.
    pub holders: usize,
}

/// Dynamic number reservations: which visit holds which number of a
/// project's dynamic pools, now.
///
/// What a shared implementation must guarantee: `on_hit` and `ping` decide
/// atomically per project (a number is held by one visit at a time unless
/// the pool is exhausted and the hold is marked shared, as
/// [`PoolState::reserve`] decides), follow the project's settings version,
/// and make every hold visible to
/// [`CallStore::reservations_at`](skvoz_store::CallStore::reservations_at)
/// once `flush` returns (the calls service flushes before it attributes a
/// call). `on_hit` is on the `/collect` path: it must answer from memory or
/// one fast round trip.
#[async_trait::async_trait]
pub trait NumberReservations: Send + Sync {
    /// A tracker hit of `visit_id` at `at`: extends the visit's number, or
    /// — for a visit that starts with this hit (`new_visit` = its traits) —
    /// reserves one from the first dynamic pool whose rule it matches.
    /// Returns the number to show.
    async fn on_hit(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        new_visit: Option<VisitTraits<'_>>,
        at: DateTime<Utc>,
    ) -> Option<String>;
    /// The script's ping while the page is visible: extends the visit's
    /// hold if `vid` is the visitor holding it. Returns the number.
    async fn ping(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        at: DateTime<Utc>,
    ) -> Option<String>;
    /// Saves every hold decided so far to the store.
    async fn flush(&self) -> Result<(), AppError>;
    /// Restores the project's holds still running (at start).
    async fn warm_up(&self, ctx: &ProjectContext, now: DateTime<Utc>) -> Result<usize, AppError>;
    /// Numbers busy and visits holding one now, per dynamic pool.
    async fn status(&self, ctx: &ProjectContext, now: DateTime<Utc>) -> Vec<LiveStatus>;
    /// Forgets holds that ended.
    async fn sweep(&self, now: DateTime<Utc>);
}

#[async_trait::async_trait]
impl NumberReservations for NumberPools {
    async fn on_hit(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        new_visit: Option<VisitTraits<'_>>,
        at: DateTime<Utc>,
    ) -> Option<String> {
        NumberPools::on_hit(self, ctx, visit_id, vid, new_visit, at)
    }

    async fn ping(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        at: DateTime<Utc>,
    ) -> Option<String> {
        NumberPools::ping(self, ctx, visit_id, vid, at)
    }

    async fn flush(&self) -> Result<(), AppError> {
        NumberPools::flush(self).await
    }

    async fn warm_up(&self, ctx: &ProjectContext, now: DateTime<Utc>) -> Result<usize, AppError> {
        NumberPools::warm_up(self, ctx, now).await
    }

    async fn status(&self, ctx: &ProjectContext, now: DateTime<Utc>) -> Vec<LiveStatus> {
        NumberPools::status(self, ctx, now)
    }

    async fn sweep(&self, now: DateTime<Utc>) {
        NumberPools::sweep(self, now);
    }
}

/// A queued reservation: project, visit, number index.
type PendingKey = (ProjectId, i64, usize);

/// The reservations of every project, in memory: the default
/// [`NumberReservations`].
pub struct NumberPools {
    store: DynStore,
    projects: RwLock<HashMap<ProjectId, Arc<Mutex<ProjectPools>>>>,
    pending: Mutex<HashMap<PendingKey, (Scope, NumberReservation)>>,
    /// Serializes flushes so a later flush never overtakes an earlier one.
    flushing: tokio::sync::Mutex<()>,
}

fn ms_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl NumberPools {
    /// Empty pools over a store, with the background saver (and sweeper of
    /// ended holds) running while the returned `Arc` lives. Needs a tokio
    /// runtime.
    pub fn start(store: DynStore) -> Arc<NumberPools> {
        let pools = Arc::new(NumberPools::new(store));
        let weak: Weak<NumberPools> = Arc::downgrade(&pools);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            let mut ticks: u64 = 0;
            loop {
                tick.tick().await;
                let Some(pools) = weak.upgrade() else { break };
                if let Err(e) = pools.flush().await {
                    tracing::warn!(error = %e, "saving number reservations failed; retried next tick");
                }
                ticks += 1;
                if ticks >= 30 {
                    ticks = 0;
                    pools.sweep(Utc::now());
                }
            }
        });
        pools
    }

    /// Empty pools without a background task (tests, benches).
    pub fn new(store: DynStore) -> NumberPools {
        NumberPools {
            store,
            projects: RwLock::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    fn entry(&self, project: ProjectId) -> Arc<Mutex<ProjectPools>> {
        if let Some(e) = self.projects.read().get(&project) {
            return e.clone();
        }
        self.projects
            .write()
            .entry(project)
            .or_insert_with(|| {
                Arc::new(Mutex::new(ProjectPools {
                    version: -1,
                    ..Default::default()
                }))
            })
            .clone()
    }

    /// Brings a project's pools in line with its settings version.
    fn sync(p: &mut ProjectPools, ctx: &ProjectContext) {
        if p.version == ctx.version {
            return;
        }
        let cfg = &ctx.settings.calltracking;
        let mut pools: Vec<LivePool> = cfg
            .pools
            .iter()
            .filter(|pool| pool.kind == PoolKind::Dynamic)
            .filter_map(|pool| {
                let rule = CompiledRule::new(&pool.rule)
                    .map_err(|e| tracing::warn!(pool = %pool.id, error = %e, "pool rule does not compile"))
                    .ok()?;
                Some(LivePool {
                    id: pool.id.clone(),
                    numbers: pool.numbers.clone(),
                    rule,
                    hold_ms: i64::from(cfg.hold_of(pool)) * 60_000,
                    state: PoolState::new(pool.numbers.len()),
                })
            })
            .collect();
        // Holds on a number still in the same pool survive the change.
        let mut by_visit = HashMap::with_capacity(p.by_visit.len());
        for (visit, hold) in p.by_visit.drain() {
            let Some(old) = p.pools.get(hold.pool) else {
                continue;
            };
            let Some(number) = old.numbers.get(hold.number) else {
                continue;
            };
            let Some(pi) = pools.iter().position(|n| n.id == old.id) else {
                continue;
            };
            let Some(ni) = pools[pi].numbers.iter().position(|n| n == number) else {
                continue;
            };
            pools[pi].state.hold(ni, visit, hold.until_ms);
            by_visit.insert(
                visit,
                VisitHold {
                    pool: pi,
                    number: ni,
                    ..hold
                },
            );
        }
        p.pools = pools;
        p.by_visit = by_visit;
        p.version = ctx.version;
    }

    fn queue(&self, scope: Scope, visit_id: i64, pool: &LivePool, hold: &VisitHold) {
        let r = NumberReservation {
            visit_id,
            vid: hold.vid.clone(),
            pool_id: pool.id.clone(),
            number: pool.numbers[hold.number].clone(),
            reserved_from: hold.reserved_from,
            held_until: ms_to_time(hold.until_ms),
            shared: hold.shared,
        };
        self.pending
            .lock()
            .insert((scope.project(), visit_id, hold.number), (scope, r));
    }

    /// A tracker hit of `visit_id` at `at`: extends the visit's number, or
    /// — for a visit that starts with this hit (`new_visit` = its traits) —
    /// reserves one from the first dynamic pool whose rule it matches.
    /// Returns the number to show.
    pub fn on_hit(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        new_visit: Option<VisitTraits<'_>>,
        at: DateTime<Utc>,
    ) -> Option<String> {
        let entry = self.entry(ctx.project.id);
        let mut p = entry.lock();
        Self::sync(&mut p, ctx);
        let now = at.timestamp_millis();
        let p = &mut *p;
        let lapsed = match p.by_visit.get_mut(&visit_id) {
            Some(hold) if hold.until_ms > now => {
                let pool = p.pools.get_mut(hold.pool)?;
                hold.until_ms = hold.until_ms.max(now + pool.hold_ms);
                pool.state.hold(hold.number, visit_id, hold.until_ms);
                let hold = hold.clone();
                self.queue(ctx.scope, visit_id, pool, &hold);
                return pool.numbers.get(hold.number).cloned();
            }
            // The hold ran out while the visit went on (an idle tab): the
            // number may be someone else's now, so the visit reserves again
            // from the same pool.
            Some(hold) => Some(hold.pool),
            None => None,
        };
        let pi = match (lapsed, new_visit) {
            (Some(pi), _) => pi,
            (None, Some(traits)) => p.pools.iter().position(|pool| pool.rule.matches(traits))?,
            (None, None) => return None,
        };
        let pool = p.pools.get_mut(pi)?;
        let until_ms = now + pool.hold_ms;
        let r = pool.state.reserve(visit_id, now, until_ms);
        let hold = VisitHold {
            pool: pi,
            number: r.number,
            vid: vid.to_owned(),
            reserved_from: at,
            until_ms,
            shared: r.shared,
        };
        if r.shared {
            metrics::counter!("skvoz_calltracking_shared_total").increment(1);
        }
        self.queue(ctx.scope, visit_id, pool, &hold);
        let number = pool.numbers.get(r.number).cloned();
        p.by_visit.insert(visit_id, hold);
        number
    }

    /// The script's ping while the page is visible: extends the visit's
    /// hold if `vid` is the visitor holding it. Returns the number.
    pub fn ping(
        &self,
        ctx: &ProjectContext,
        visit_id: i64,
        vid: &str,
        at: DateTime<Utc>,
    ) -> Option<String> {
        if !ctx.settings.calltracking.has_dynamic() {
            return None;
        }
        {
            let entry = self.projects.read().get(&ctx.project.id).cloned()?;
            let p = entry.lock();
            if p.by_visit.get(&visit_id).is_none_or(|h| h.vid != vid) {
                return None;
            }
        }
        self.on_hit(ctx, visit_id, vid, None, at)
    }

    /// Saves every queued reservation now.
    pub async fn flush(&self) -> Result<(), AppError> {
        let _order = self.flushing.lock().await;
        let batch: Vec<(Scope, NumberReservation)> =
            self.pending.lock().drain().map(|(_, v)| v).collect();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.save_reservations(batch.clone()).await {
            // Put them back unless a newer state was queued meanwhile.
            let mut pending = self.pending.lock();
            for (i, (scope, r)) in batch.into_iter().enumerate() {
                // Keyed apart from live entries (usize::MAX - i) so a newer
                // state queued meanwhile is kept too; saving both is
                // harmless (held_until only grows).
                pending
                    .entry((scope.project(), r.visit_id, usize::MAX - i))
                    .or_insert((scope, r));
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// Restores the holds still running from the store (at start).
    pub async fn warm_up(
        &self,
        ctx: &ProjectContext,
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        if !ctx.settings.calltracking.has_dynamic() {
            return Ok(0);
        }
        let held = self.store.active_reservations(ctx.scope, now).await?;
        let entry = self.entry(ctx.project.id);
        let mut p = entry.lock();
        Self::sync(&mut p, ctx);
        let p = &mut *p;
        let mut restored = 0;
        for r in held {
            let Some(pi) = p.pools.iter().position(|pool| pool.id == r.pool_id) else {
                continue;
            };
            let Some(ni) = p.pools[pi].numbers.iter().position(|n| *n == r.number) else {
                continue;
            };
            let until_ms = r.held_until.timestamp_millis();
            p.pools[pi].state.hold(ni, r.visit_id, until_ms);
            p.by_visit.insert(
                r.visit_id,
                VisitHold {
                    pool: pi,
                    number: ni,
                    vid: r.vid,
                    reserved_from: r.reserved_from,
                    until_ms,
                    shared: r.shared,
                },
            );
            restored += 1;
        }
        Ok(restored)
    }

    /// Numbers busy and visits holding one now, per dynamic pool.
    pub fn status(&self, ctx: &ProjectContext, now: DateTime<Utc>) -> Vec<LiveStatus> {
        let entry = self.entry(ctx.project.id);
        let mut p = entry.lock();
        Self::sync(&mut p, ctx);
        let now_ms = now.timestamp_millis();
        p.pools
            .iter()
            .enumerate()
            .map(|(i, pool)| LiveStatus {
                pool_id: pool.id.clone(),
                busy: pool.state.busy(now_ms),
                holders: p
                    .by_visit
                    .values()
                    .filter(|h| h.pool == i && h.until_ms > now_ms)
                    .count(),
            })
            .collect()
    }

    /// Forgets holds that ended (their numbers free themselves lazily).
    pub fn sweep(&self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        let entries: Vec<_> = self.projects.read().values().cloned().collect();
        for entry in entries {
            entry.lock().by_visit.retain(|_, h| h.until_ms > now_ms);
        }
    }
}
