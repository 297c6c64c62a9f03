//! The table of active sessions, in memory, sharded to keep lock hold
//! times short under many concurrent visitors.
//!
//! An entry lives until its session has been idle past the project's
//! timeout; after that the visitor's next hit starts a new session anyway,
//! so nothing is lost by forgetting it. Memory is therefore bounded by the
//! visitors active within the timeout, not by all visitors ever seen.

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use skvoz_domain::ProjectId;
use skvoz_store::{Visit, VisitProgress};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

const SHARDS: usize = 64;

/// The state of one visitor's current session.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// The visit as its first hit made it.
    pub visit: Arc<Visit>,
    /// Its counters after the latest hit.
    pub progress: VisitProgress,
    /// When the entry may be forgotten.
    pub expires_at: DateTime<Utc>,
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
