//! Visit ids and codes, handed out from blocks the store reserves
//! ([`VisitStore::reserve_visit_ids`](skvoz_store::VisitStore::reserve_visit_ids),
//! [`VisitStore::reserve_visit_codes`](skvoz_store::VisitStore::reserve_visit_codes)),
//! so processes sharing a store never give two visits one id or code, and
//! the hot path pays one store round trip per block, not per visit.
//!
//! Ids: blocks of [`ID_BLOCK`]. The report index re-reads only a few
//! seconds of ids below the highest it has seen (late commits); across
//! nodes that holds only if no node writes an old id long after another
//! node wrote higher ones. So a block is used without asking for at most
//! [`ID_BLOCK_MAX_AGE`] after it was reserved or last confirmed to be the
//! newest block (the store's counter still ends where it ends: a cheap
//! read); a block another node has overtaken is given up for a fresh one.
//! One node alone never loses its block this way, so its ids stay dense.
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
/// How long an id block may be used after it was last known to be the
/// newest; well under the report index's late-commit window (5 s).
pub(super) const ID_BLOCK_MAX_AGE: Duration = Duration::from_secs(1);
/// A project's first block of codes in this process.
pub(super) const FIRST_CODE_BLOCK: u32 = 16;
/// The largest block of codes.
pub(super) const MAX_CODE_BLOCK: u32 = 1024;

struct IdBlock {
    ids: Range<i64>,
    /// Where the block ends (the store's counter right after reserving it).
    end: i64,
    /// When the block was reserved or last confirmed the newest.
    checked_at: Instant,
}

impl IdBlock {
    fn usable(&self, now: Instant) -> bool {
        !self.ids.is_empty() && now.duration_since(self.checked_at) < ID_BLOCK_MAX_AGE
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
                end: 0,
                checked_at: Instant::now(),
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
        let (usable, left, end) = {
            let ids = self.ids.lock();
            (ids.usable(now), !ids.ids.is_empty(), ids.end)
        };
        if !usable {
            // Still the newest block: keep it (no gap). Else a fresh one.
            if left && store.visit_ids_reserved_to().await? == end {
                self.ids.lock().checked_at = now;
            } else {
                let ids = store.reserve_visit_ids(ID_BLOCK).await?;
                *self.ids.lock() = IdBlock {
                    end: ids.end,
                    ids,
                    checked_at: Instant::now(),
                };
            }
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
        let (store, _guard) = skvoz_backends::test_store().await.unwrap();
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
        let (b_id, b_code) = numbering.take(b).unwrap();
        assert_eq!(
            (b_id, b_code),
            (id + 1, 1),
            "one id block, codes per project"
        );

        // A block past its age that is still the newest is kept.
        let stale = || numbering.ids.lock().checked_at = Instant::now() - ID_BLOCK_MAX_AGE;
        stale();
        assert_eq!(
            numbering.take(a),
            None,
            "an unconfirmed old block is not used"
        );
        numbering.refill(&store, a, Scope::new(a)).await.unwrap();
        assert_eq!(numbering.take(a).unwrap().0, b_id + 1, "kept: no gap");

        // Once another node reserved after it, it is replaced by a block
        // above that node's.
        let other = store.reserve_visit_ids(5).await.unwrap();
        stale();
        numbering.refill(&store, a, Scope::new(a)).await.unwrap();
        let (fresh, _) = numbering.take(a).unwrap();
        assert_eq!(fresh, other.end, "a fresh block above the other node's");
    }
}
