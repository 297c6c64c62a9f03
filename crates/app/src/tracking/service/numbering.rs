//! Visit ids and codes, handed out from blocks the store reserves
//! ([`VisitStore::reserve_visit_ids`](skvoz_store::VisitStore::reserve_visit_ids),
//! [`VisitStore::reserve_visit_codes`](skvoz_store::VisitStore::reserve_visit_codes)),
//! so processes sharing a store never give two visits one id or code, and
//! the hot path pays one store round trip per block, not per visit.
//!
//! Ids: blocks of [`ID_BLOCK`], given up after [`ID_BLOCK_MAX_AGE`]. The
//! report index re-reads only a few seconds of ids below the highest it
//! has seen (late commits); that holds across nodes only if an id is
//! committed soon after the store's counter passed it, so a node that is
//! slow to use its block takes a fresh one instead of writing an old id
//! long after other nodes wrote higher ones.
//!
//! Codes (short: forms, calls and messengers quote them) are per project,
//! in blocks that start small and double up to [`MAX_CODE_BLOCK`], so a
//! quiet project wastes few codes at a restart and a busy one rarely asks.
//! Unused ids and codes of a block are never handed out again: gaps.

use crate::{AppError, DynStore};
use parking_lot::Mutex;
use skvoz_domain::ProjectId;
use skvoz_store::Scope;
use std::collections::HashMap;
use std::ops::Range;
use std::time::{Duration, Instant};

/// Visit ids reserved at a time.
pub(super) const ID_BLOCK: u32 = 1024;
/// How long an id block may be used; well under the report index's
/// late-commit window (5 s).
pub(super) const ID_BLOCK_MAX_AGE: Duration = Duration::from_secs(1);
/// A project's first block of codes in this process.
pub(super) const FIRST_CODE_BLOCK: u32 = 16;
/// The largest block of codes.
pub(super) const MAX_CODE_BLOCK: u32 = 1024;

struct IdBlock {
    ids: Range<i64>,
    reserved_at: Instant,
}

impl IdBlock {
    fn usable(&self, now: Instant) -> bool {
        !self.ids.is_empty() && now.duration_since(self.reserved_at) < ID_BLOCK_MAX_AGE
    }
}

#[derive(Default)]
struct CodeBlock {
    codes: Range<i64>,
    /// The size of the next block asked for.
    next_size: u32,
}

/// The id block of this process and each project's code block.
pub(super) struct VisitNumbering {
    ids: Mutex<IdBlock>,
    codes: Mutex<HashMap<ProjectId, CodeBlock>>,
    /// One refill at a time, so hits that find a block spent together ask
    /// the store once.
    refilling: tokio::sync::Mutex<()>,
}

impl Default for VisitNumbering {
    fn default() -> Self {
        VisitNumbering {
            ids: Mutex::new(IdBlock {
                ids: 0..0,
                reserved_at: Instant::now(),
            }),
            codes: Mutex::new(HashMap::new()),
            refilling: tokio::sync::Mutex::new(()),
        }
    }
}

impl VisitNumbering {
    /// Whether [`VisitNumbering::take`] would find an id and a code now.
    fn ready(&self, project: ProjectId, now: Instant) -> bool {
        self.ids.lock().usable(now)
            && self
                .codes
                .lock()
                .get(&project)
                .is_some_and(|c| !c.codes.is_empty())
    }

    /// The next visit id and the project's next code, or `None` when a
    /// block is spent (call [`VisitNumbering::refill`] and try again).
    /// Takes both or neither.
    pub(super) fn take(&self, project: ProjectId) -> Option<(i64, i64)> {
        let mut ids = self.ids.lock();
        if !ids.usable(Instant::now()) {
            return None;
        }
        let mut codes = self.codes.lock();
        let code = codes.get_mut(&project)?.codes.next()?;
        let id = ids.ids.next()?;
        Some((id, code))
    }

    /// Makes sure the id block and the project's code block have one left:
    /// free when they do; otherwise one store round trip per spent block.
    pub(super) async fn refill(
        &self,
        store: &DynStore,
        project: ProjectId,
        scope: Scope,
    ) -> Result<(), AppError> {
        if self.ready(project, Instant::now()) {
            return Ok(());
        }
        let _one = self.refilling.lock().await;
        let now = Instant::now();
        if !self.ids.lock().usable(now) {
            let ids = store.reserve_visit_ids(ID_BLOCK).await?;
            *self.ids.lock() = IdBlock {
                ids,
                reserved_at: Instant::now(),
            };
        }
        let size = {
            let codes = self.codes.lock();
            match codes.get(&project) {
                Some(c) if !c.codes.is_empty() => None,
                Some(c) => Some(c.next_size),
                None => Some(FIRST_CODE_BLOCK),
            }
        };
        if let Some(size) = size {
            let codes = store.reserve_visit_codes(scope, size).await?;
            self.codes.lock().insert(
                project,
                CodeBlock {
                    codes,
                    next_size: (size * 2).min(MAX_CODE_BLOCK),
                },
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use skvoz_domain::ProjectName;
    use skvoz_store::NewProject;
    use skvoz_store_sqlite::{SqliteOptions, SqliteStore};
    use std::sync::Arc;

    async fn project(store: &DynStore, name: &str) -> ProjectId {
        store
            .create_project(NewProject {
                name: ProjectName::new(name).unwrap(),
                public_key: format!("pk_{name}"),
                api_key_hash: format!("hash_{name}"),
                settings: serde_json::json!({}),
            })
            .await
            .unwrap()
            .id
    }

    #[tokio::test]
    async fn ids_grow_codes_count_per_project_and_stale_blocks_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store: DynStore = Arc::new(SqliteStore::open(&SqliteOptions::new(dir.path())).unwrap());
        let (a, b) = (project(&store, "na").await, project(&store, "nb").await);
        let numbering = VisitNumbering::default();
        assert_eq!(numbering.take(a), None, "nothing before the first refill");

        numbering.refill(&store, a, Scope::new(a)).await.unwrap();
        let mut last_id = 0;
        for expected_code in 1..=i64::from(FIRST_CODE_BLOCK) {
            let (id, code) = numbering.take(a).unwrap();
            assert!(id > last_id);
            assert_eq!(code, expected_code, "codes of a project are 1, 2, …");
            last_id = id;
        }
        assert_eq!(numbering.take(a), None, "the first code block is spent");
        assert_eq!(numbering.take(b), None, "project b has no codes yet");

        numbering.refill(&store, a, Scope::new(a)).await.unwrap();
        numbering.refill(&store, b, Scope::new(b)).await.unwrap();
        let (id, code) = numbering.take(a).unwrap();
        assert_eq!(
            code,
            i64::from(FIRST_CODE_BLOCK) + 1,
            "the next block follows"
        );
        assert_eq!(id, last_id + 1, "the id block was not spent");
        assert_eq!(numbering.take(b).unwrap().1, 1);

        // An id block past its age is replaced by a new one above it.
        numbering.ids.lock().reserved_at = Instant::now() - ID_BLOCK_MAX_AGE;
        assert_eq!(numbering.take(a), None, "a stale id block is not used");
        numbering.refill(&store, a, Scope::new(a)).await.unwrap();
        let (fresh, _) = numbering.take(a).unwrap();
        assert_eq!(
            fresh,
            1 + i64::from(ID_BLOCK),
            "the new block starts where the first (1..=1024) ended"
        );
    }
}
