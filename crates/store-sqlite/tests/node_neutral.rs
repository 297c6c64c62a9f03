//! Two stores opened on one database file (two processes, or two nodes of
//! one shared database) agree on the report revision and never hand out
//! the same visit id or code.

use chrono::Utc;
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::ProjectName;
use skvoz_store::{
    CrmStore, LeadPolicy, NewLead, NewProject, ProjectStore, ReportStore, Scope, VisitStore,
};
use skvoz_store_sqlite::{SqliteOptions, SqliteStore};
use std::ops::Range;

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(&SqliteOptions::new(dir)).expect("open")
}

async fn project(store: &SqliteStore, name: &str) -> Scope {
    let p = store
        .create_project(NewProject {
            name: ProjectName::new(name).expect("name"),
            public_key: format!("pk_{name}"),
            api_key_hash: format!("hash_{name}"),
            settings: serde_json::json!({"general": {"currency": "RUB"}}),
        })
        .await
        .expect("create");
    Scope::new(p.id)
}

#[tokio::test]
async fn a_write_through_one_store_moves_the_revision_another_store_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open(dir.path());
    let second = open(dir.path());
    let scope = project(&first, "shared").await;
    let before = second.report_revision(scope).await.expect("revision");
    first
        .record_lead(
            scope,
            NewLead {
                kind: LeadKind::Form,
                source_id: Some("form-1".into()),
                created_at: Utc::now(),
                visit_id: None,
                identities: vec![Identity::new(IdentityKind::Email, "a@example.com")],
                name: None,
                payload: serde_json::json!({}),
            },
            LeadPolicy {
                dedup: true,
                first_stage: "new".into(),
            },
        )
        .await
        .expect("lead");
    let after = second.report_revision(scope).await.expect("revision");
    assert!(after > before, "{before} → {after}");
    assert_eq!(
        first.report_revision(scope).await.expect("revision"),
        after,
        "both handles read the one stored revision"
    );
    // A store opened later (a restart) reads it too.
    drop(first);
    assert_eq!(
        open(dir.path())
            .report_revision(scope)
            .await
            .expect("revision"),
        after
    );
}

/// Reserves `rounds` blocks of varying sizes (ids, or codes of `scope`) on
/// a thread of its own, with its own runtime: another process.
fn reserve_on_thread(
    store: SqliteStore,
    codes_of: Option<Scope>,
    rounds: u32,
    seed: u32,
) -> std::thread::JoinHandle<Vec<Range<i64>>> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let mut out = Vec::new();
            for i in 0..rounds {
                let n = 1 + (i * 7 + seed) % 50;
                let block = match codes_of {
                    Some(scope) => store.reserve_visit_codes(scope, n).await,
                    None => store.reserve_visit_ids(n).await,
                }
                .expect("reserve");
                assert_eq!(block.end - block.start, i64::from(n));
                out.push(block);
            }
            out
        })
    })
}

fn assert_disjoint(mut blocks: Vec<Range<i64>>, what: &str) {
    blocks.sort_by_key(|b| b.start);
    assert!(blocks[0].start >= 1, "{what} start at 1 or above");
    for pair in blocks.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "{what} blocks overlap: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn two_stores_on_one_file_never_hand_out_the_same_visit_id_or_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stores = [open(dir.path()), open(dir.path())];
    let scope = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(project(&stores[0], "blocks"));
    let mut threads = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        for seed in 0..2u32 {
            let seed = seed * 13 + i as u32 * 5;
            threads.push((false, reserve_on_thread(store.clone(), None, 60, seed)));
            threads.push((
                true,
                reserve_on_thread(store.clone(), Some(scope), 60, seed),
            ));
        }
    }
    let (mut ids, mut codes) = (Vec::new(), Vec::new());
    for (is_codes, t) in threads {
        let blocks = t.join().expect("thread");
        if is_codes {
            codes.extend(blocks);
        } else {
            ids.extend(blocks);
        }
    }
    assert_eq!(ids.len(), 240);
    assert_eq!(codes.len(), 240);
    assert_disjoint(ids, "visit id");
    assert_disjoint(codes, "visit code");
}
