//! The table of active sessions: what deciding a visitor's next hit needs.
//!
//! [`SessionTable`] is the interface; [`MemorySessionTable`] (in memory,
//! sharded to keep lock hold times short under many concurrent visitors)
//! is the default, and the only one the SQLite store needs. A deployment of
//! several nodes behind one shared store may plug in a shared table (Redis,
//! the database) through [`TrackingService::with_state`](super::TrackingService::with_state).
//!
//! An entry lives until its session has been idle past the project's
//! timeout; after that the visitor's next hit starts a new session anyway,
//! so nothing is lost by forgetting it. Memory is therefore bounded by the
//! visitors active within the timeout, not by all visitors ever seen.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use skvoz_domain::traffic::SourceKey;
use skvoz_domain::ProjectId;
use skvoz_store::{Visit, VisitProgress};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

const SHARDS: usize = 64;

/// The state of one visitor's current session: only what deciding the next
/// hit needs (about 200 bytes with its key), not the whole visit.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// The visit's id.
    pub visit_id: i64,
    /// The visit's short code.
    pub code: i64,
    /// The visit's first hit.
    pub started_at: DateTime<Utc>,
    /// The key of the visit's source.
    pub source_key: SourceKey,
    /// Its counters after the latest hit.
    pub progress: VisitProgress,
    /// When the entry may be forgotten.
    pub expires_at: DateTime<Utc>,
}

impl ActiveSession {
    /// The session a stored visit continues.
    pub fn of(visit: &Visit, expires_at: DateTime<Utc>) -> ActiveSession {
        ActiveSession {
            visit_id: visit.id,
            code: visit.code,
            started_at: visit.started_at,
            source_key: visit.source.key(),
            progress: VisitProgress::of(visit),
            expires_at,
        }
    }
}

type Key = (ProjectId, String);

/// The active sessions of every project, keyed by (project, visitor id).
///
/// What a shared implementation must guarantee: [`SessionTable::update`]
/// is atomic per visitor (two hits of one visitor are decided one after the
/// other, each seeing the other's result), and runs its closure exactly
/// once. The closure does not block and does no I/O (it decides, and queues
/// the visit's write), so a per-visitor lock or a transaction around it is
/// enough. Visitors of one project may be spread over nodes; a visitor's
/// hits arriving on two nodes at once are serialized by `update` alone.
#[async_trait]
pub trait SessionTable: Send + Sync {
    /// A copy of the visitor's session.
    async fn get(&self, project: ProjectId, vid: &str) -> Option<ActiveSession>;
    /// Runs `decide` once with the visitor's entry under the visitor's
    /// lock: it continues the session (changes the entry), starts a new one
    /// (replaces it) or leaves it. The entry as `decide` leaves it is
    /// stored (`None` removes it).
    async fn update(
        &self,
        project: ProjectId,
        vid: &str,
        decide: &mut (dyn for<'e> FnMut(&'e mut Option<ActiveSession>) + Send),
    );
    /// Puts a session loaded from the store at start (warm-up), unless the
    /// table already holds a later one of the visitor.
    async fn restore(&self, project: ProjectId, vid: &str, session: ActiveSession);
    /// Forgets the visitor's entry if it is still this visit (after the
    /// visit's first write failed, so the next hit starts afresh).
    async fn forget(&self, project: ProjectId, vid: &str, visit_id: i64);
    /// Drops entries that expired before `now`; returns how many remain.
    async fn sweep(&self, now: DateTime<Utc>) -> usize;
}

impl dyn SessionTable {
    /// [`SessionTable::update`] with a closure that returns a value.
    pub async fn with_entry<R: Send>(
        &self,
        project: ProjectId,
        vid: &str,
        decide: impl FnOnce(&mut Option<ActiveSession>) -> R + Send,
    ) -> Option<R> {
        let mut decide = Some(decide);
        let mut out = None;
        self.update(project, vid, &mut |slot| {
            if let Some(decide) = decide.take() {
                out = Some(decide(slot));
            }
        })
        .await;
        out
    }
}

/// Sharded map (project, vid) → session, in this process: the default
/// [`SessionTable`].
pub struct MemorySessionTable {
    shards: Vec<Mutex<HashMap<Key, ActiveSession>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for MemorySessionTable {
    fn default() -> Self {
        MemorySessionTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl MemorySessionTable {
    fn shard(&self, project: ProjectId, vid: &str) -> &Mutex<HashMap<Key, ActiveSession>> {
        let mut h = self.hasher.build_hasher();
        project.hash(&mut h);
        vid.hash(&mut h);
        &self.shards[(h.finish() as usize) % SHARDS]
    }

    /// Runs `f` with the visitor's entry under its shard's lock, so two
    /// hits of one visitor are decided one after the other.
    pub fn with_entry<R>(
        &self,
        project: ProjectId,
        vid: &str,
        f: impl FnOnce(&mut Option<ActiveSession>) -> R,
    ) -> R {
        let mut shard = self.shard(project, vid).lock();
        let key = (project, vid.to_owned());
        let mut slot = shard.remove(&key);
        let result = f(&mut slot);
        if let Some(entry) = slot {
            shard.insert(key, entry);
        }
        result
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len()).sum()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SessionTable for MemorySessionTable {
    async fn get(&self, project: ProjectId, vid: &str) -> Option<ActiveSession> {
        self.shard(project, vid)
            .lock()
            .get(&(project, vid.to_owned()))
            .cloned()
    }

    async fn update(
        &self,
        project: ProjectId,
        vid: &str,
        decide: &mut (dyn for<'e> FnMut(&'e mut Option<ActiveSession>) + Send),
    ) {
        self.with_entry(project, vid, decide);
    }

    async fn restore(&self, project: ProjectId, vid: &str, session: ActiveSession) {
        self.with_entry(project, vid, |slot| {
            if slot
                .as_ref()
                .is_none_or(|s| session.progress.last_at >= s.progress.last_at)
            {
                *slot = Some(session);
            }
        });
    }

    async fn forget(&self, project: ProjectId, vid: &str, visit_id: i64) {
        let mut shard = self.shard(project, vid).lock();
        let key = (project, vid.to_owned());
        if shard.get(&key).is_some_and(|e| e.visit_id == visit_id) {
            shard.remove(&key);
        }
    }

    async fn sweep(&self, now: DateTime<Utc>) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let mut s = s.lock();
                s.retain(|_, e| e.expires_at > now);
                s.len()
            })
            .sum()
    }
}
