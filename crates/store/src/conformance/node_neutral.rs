//! Conformance tests of the state every node of one store shares: the
//! report revision and the blocks visit ids and codes are handed out in.

use super::{cost_row, deal, hit_write, lead, policy, project, visit};
use crate::{Scope, Store};
use chrono::Utc;
use skvoz_domain::crm::{Identity, IdentityKind};

/// The report revision starts at 0 and moves with every write that changes
/// report facts (a new lead, a changed deal, a cost import), not with a
/// replayed lead, and only in its project.
pub async fn report_revision_moves_with_report_facts_only<S: Store + Clone + 'static>(store: &S) {
    let a = project(store, "rev-a").await;
    let b = project(store, "rev-b").await;
    let revision = |s: Scope| async move { store.report_revision(s).await.expect("revision") };
    assert_eq!(revision(a).await, 0, "no change yet");

    let email = Identity::new(IdentityKind::Email, "rev@example.com");
    let first = store
        .record_lead(a, lead(vec![email.clone()], Some("form-1")), policy())
        .await
        .expect("lead");
    assert!(!first.replayed);
    let after_lead = revision(a).await;
    assert!(after_lead > 0, "a new lead moves the revision");

    let replay = store
        .record_lead(a, lead(vec![email], Some("form-1")), policy())
        .await
        .expect("replay");
    assert!(replay.replayed, "the same source id is a replay");
    assert_eq!(revision(a).await, after_lead, "a replay changes no fact");

    store
        .upsert_deal(a, deal("ord-rev", None, Some("new"), 1_000))
        .await
        .expect("deal");
    let after_deal = revision(a).await;
    assert!(after_deal > after_lead, "a new deal moves the revision");

    store
        .replace_costs(a, vec![cost_row("2026-11-01", "yandex", "brand", 500)])
        .await
        .expect("costs");
    assert!(
        revision(a).await > after_deal,
        "a cost import moves the revision"
    );
    assert_eq!(revision(b).await, 0, "the other project's revision stays");

    // Visits are read by watermark: ingesting them leaves the revision.
    let before_visits = revision(a).await;
    let ids = store.reserve_visit_ids(1).await.expect("ids");
    let codes = store.reserve_visit_codes(a, 1).await.expect("codes");
    let v = visit(ids.start, codes.start, "rev-vid", Utc::now());
    super::ingest::write_blocking(store, vec![hit_write(a, &v, true, 1, v.started_at)])
        .await
        .expect("visit");
    assert_eq!(revision(a).await, before_visits);
}

/// Id and code blocks never overlap, start above what is stored, and codes
/// are counted per project from 1.
pub async fn visit_id_and_code_blocks_are_disjoint_and_above_stored<S: Store + Clone + 'static>(
    store: &S,
) {
    let a = project(store, "ids-a").await;
    let b = project(store, "ids-b").await;

    let codes_a = store.reserve_visit_codes(a, 4).await.expect("codes");
    assert_eq!(codes_a, 1..5, "a project's first codes are 1, 2, …");
    let codes_b = store.reserve_visit_codes(b, 2).await.expect("codes");
    assert_eq!(codes_b, 1..3, "codes are per project");

    let first = store.reserve_visit_ids(10).await.expect("ids");
    assert_eq!(first.end - first.start, 10);
    assert!(first.start > store.max_visit_id().await.expect("max"));
    assert_eq!(
        store.visit_ids_reserved_to().await.expect("reserved to"),
        first.end,
        "the counter ends where the last block ends"
    );
    let second = store.reserve_visit_ids(3).await.expect("ids");
    assert_eq!(second.end - second.start, 3);
    assert!(second.start >= first.end, "{first:?} then {second:?}");
    assert_eq!(
        store.visit_ids_reserved_to().await.expect("reserved to"),
        second.end
    );

    // A visit written with an id and code above every block (a restored
    // backup, an import with its own ids): the next blocks start above it.
    let far_id = second.end + 1_000;
    let far_code = codes_a.end + 50;
    let v = visit(far_id, far_code, "ids-vid", Utc::now());
    super::ingest::write_blocking(store, vec![hit_write(a, &v, true, 1, v.started_at)])
        .await
        .expect("visit");
    let third = store.reserve_visit_ids(1).await.expect("ids");
    assert!(third.start > far_id, "{third:?} after a stored id {far_id}");
    let next_codes = store.reserve_visit_codes(a, 1).await.expect("codes");
    assert!(next_codes.start > far_code, "{next_codes:?}");
    let next_b = store.reserve_visit_codes(b, 1).await.expect("codes");
    assert_eq!(next_b, 3..4, "project b's codes are untouched by a's visit");
}
