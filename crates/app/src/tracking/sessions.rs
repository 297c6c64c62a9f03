//! The table of active sessions, in memory, sharded to keep lock hold
//! times short under many concurrent visitors.
//!
//! An entry lives until its session has been idle past the project's
//! timeout; after that the visitor's next hit starts a new session anyway,
//! so nothing is lost by forgetting it. Memory is therefore bounded by the
//! visitors active within the timeout, not by all visitors ever seen.

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

/// Sharded map (project, vid) → session.
pub struct SessionTable {
    shards: Vec<Mutex<HashMap<Key, ActiveSession>>>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }
}

impl SessionTable {
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

    /// Forgets the visitor's entry if it is still this visit (after the
    /// visit's first write failed, so the next hit starts afresh).
    pub fn forget(&self, project: ProjectId, vid: &str, visit_id: i64) {
        let mut shard = self.shard(project, vid).lock();
        let key = (project, vid.to_owned());
        if shard.get(&key).is_some_and(|e| e.visit_id == visit_id) {
            shard.remove(&key);
        }
    }

    /// A copy of the visitor's entry.
    pub fn get(&self, project: ProjectId, vid: &str) -> Option<ActiveSession> {
        self.shard(project, vid)
            .lock()
            .get(&(project, vid.to_owned()))
            .cloned()
    }

    /// Drops entries that expired before `now`; returns how many remain.
    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let mut s = s.lock();
                s.retain(|_, e| e.expires_at > now);
                s.len()
            })
            .sum()
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
