//! Conformance tests of ingestion's write path — `write_batch_blocking`, the
//! call the production writer thread makes — and of the reads production
//! makes over what it wrote: visits by id, code and time range, visit spans
//! for pool sizing, hits, identity links and bot counts.

use super::{hit_write, project, visit};
use crate::{IngestWrite, Scope, Store, StoreResult};
use chrono::{DateTime, Duration, Utc};

/// Commits `batch` through `write_batch_blocking` off the async runtime
/// (production calls it from a dedicated writer thread) and returns what
/// the store answered.
pub(crate) async fn write_blocking<S: Store + Clone + 'static>(
    store: &S,
    batch: Vec<IngestWrite>,
) -> StoreResult<()> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.write_batch_blocking(&batch))
        .await
        .expect("the blocking write ran to its end")
}

/// A fixed instant, whole milliseconds (what every backend keeps).
fn t0() -> DateTime<Utc> {
    "2026-03-01T10:00:00Z".parse().expect("time")
}

fn bot(scope: Scope, day: &str) -> IngestWrite {
    IngestWrite::Bot {
        scope,
        day: day.into(),
    }
}

async fn bots<S: Store>(store: &S, scope: Scope, from_day: &str, to_day: &str) -> i64 {
    store
        .bot_hits(scope, from_day, to_day)
        .await
        .expect("bot hits")
}

/// One blocking batch stores visits, hits, links and bot counts of several
/// projects, each only in its own; an empty batch changes nothing; a link
/// seen again is kept once; a batch with one bad write stores none of it.
pub async fn blocking_ingest_is_atomic_and_scoped<S: Store + Clone + 'static>(store: &S) {
    let a = project(store, "ia").await;
    let b = project(store, "ib").await;
    let base = store.max_visit_id().await.expect("max");
    let va = visit(base + 1, 1, "u-a", t0());
    // Project b's first visit has code 1 too: codes are per project.
    let vb = visit(base + 2, 1, "u-b", t0());
    let t1 = t0() + Duration::minutes(3);
    write_blocking(
        store,
        vec![
            hit_write(a, &va, true, 1, t0()),
            hit_write(b, &vb, true, 1, t0()),
            hit_write(a, &va, false, 2, t1),
            bot(a, "2026-03-01"),
            bot(a, "2026-03-01"),
            bot(a, "2026-03-02"),
            bot(b, "2026-03-01"),
        ],
    )
    .await
    .expect("batch");
    write_blocking(store, Vec::new())
        .await
        .expect("empty batch");

    let stored = store
        .visit(a, va.id)
        .await
        .expect("get")
        .expect("a's visit");
    assert_eq!((stored.code, stored.vid.as_str()), (1, "u-a"));
    assert_eq!(stored.hits, 2);
    assert_eq!(stored.started_at, t0());
    assert_eq!(stored.last_at, t1);
    assert_eq!(stored.source.source, "yandex");
    assert_eq!(stored.source.medium, "cpc");
    assert_eq!(stored.channel, "paid search");
    assert_eq!(stored.ga_cid.as_deref(), Some("1.2"));
    let hits = store.hits_of_visit(a, va.id).await.expect("hits");
    assert_eq!(
        hits.iter()
            .map(|h| (h.at, h.url.as_str()))
            .collect::<Vec<_>>(),
        vec![(t0(), "https://a.ru/p1"), (t1, "https://a.ru/p2")]
    );
    assert_eq!(
        store.visit_by_code(a, 1).await.expect("get").map(|v| v.id),
        Some(va.id)
    );
    assert_eq!(
        store.visit_by_code(b, 1).await.expect("get").map(|v| v.id),
        Some(vb.id)
    );
    assert!(store.visit(b, va.id).await.expect("get").is_none());
    assert!(store.visit(a, vb.id).await.expect("get").is_none());
    assert!(store
        .hits_of_visit(b, va.id)
        .await
        .expect("hits")
        .is_empty());
    assert_eq!(store.max_visit_code(a).await.expect("max"), 1);
    assert_eq!(store.max_visit_id().await.expect("max"), vb.id);
    // The same client id is linked to each project's own visitor.
    assert_eq!(
        store.vids_by_link(a, "ga_cid", "1.2").await.expect("links"),
        vec!["u-a".to_owned()]
    );
    assert_eq!(
        store.vids_by_link(b, "ga_cid", "1.2").await.expect("links"),
        vec!["u-b".to_owned()]
    );
    // Bots: counted per project and day, never stored as visits.
    assert_eq!(bots(store, a, "2026-03-01", "2026-03-01").await, 2);
    assert_eq!(bots(store, a, "2026-03-01", "2026-03-02").await, 3);
    assert_eq!(bots(store, a, "2026-03-03", "2026-03-31").await, 0);
    assert_eq!(bots(store, b, "2026-03-01", "2026-03-02").await, 1);

    // The third hit sees its link again: still one link.
    let t2 = t1 + Duration::minutes(1);
    write_blocking(store, vec![hit_write(a, &va, false, 3, t2)])
        .await
        .expect("third hit");
    assert_eq!(
        store.vids_by_link(a, "ga_cid", "1.2").await.expect("links"),
        vec!["u-a".to_owned()]
    );

    // A good hit next to one continuing a visit that does not exist: the
    // batch fails whole, the good hit and the new visit are not kept.
    let ghost = visit(base + 50, 7, "ghost", t0());
    let fresh = visit(base + 3, 2, "u-new", t2);
    let failed = write_blocking(
        store,
        vec![
            hit_write(a, &va, false, 4, t2 + Duration::minutes(1)),
            hit_write(a, &fresh, true, 1, t2),
            hit_write(a, &ghost, false, 2, t2),
            bot(a, "2026-03-01"),
        ],
    )
    .await;
    assert!(failed.is_err(), "{failed:?}");
    let after = store.visit(a, va.id).await.expect("get").expect("visit");
    assert_eq!((after.hits, after.last_at), (3, t2));
    assert_eq!(store.hits_of_visit(a, va.id).await.expect("hits").len(), 3);
    assert!(store.visit(a, fresh.id).await.expect("get").is_none());
    assert!(store.visit_by_code(a, 2).await.expect("get").is_none());
    assert_eq!(bots(store, a, "2026-03-01", "2026-03-01").await, 2);
}

/// Visits and visit spans of a time range: `[from, to)` by start, oldest
/// first whatever the ids, at most `limit`, only the project's.
pub async fn visit_ranges_are_half_open_ordered_and_scoped<S: Store + Clone + 'static>(store: &S) {
    let a = project(store, "ra").await;
    let b = project(store, "rb").await;
    let base = store.max_visit_id().await.expect("max");
    let h = Duration::hours(1);
    // Ids out of time order: the range is ordered by start.
    let late = visit(base + 1, 1, "u1", t0() + h * 2);
    let early = visit(base + 2, 2, "u2", t0());
    let middle = visit(base + 3, 3, "u3", t0() + h);
    let of_b = visit(base + 4, 1, "u4", t0() + h);
    let middle_end = middle.started_at + Duration::minutes(20);
    write_blocking(
        store,
        vec![
            hit_write(a, &late, true, 1, late.started_at),
            hit_write(a, &early, true, 1, early.started_at),
            hit_write(a, &middle, true, 1, middle.started_at),
            hit_write(a, &middle, false, 2, middle_end),
            hit_write(b, &of_b, true, 1, of_b.started_at),
        ],
    )
    .await
    .expect("batch");

    let ids = |visits: Vec<crate::Visit>| visits.into_iter().map(|v| v.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .visits_between(a, t0(), t0() + h * 2, 100)
            .await
            .expect("range")),
        vec![early.id, middle.id],
        "the end is excluded"
    );
    assert_eq!(
        ids(store
            .visits_between(a, t0(), t0() + h * 3, 100)
            .await
            .expect("range")),
        vec![early.id, middle.id, late.id]
    );
    assert_eq!(
        ids(store
            .visits_between(a, t0(), t0() + h * 3, 2)
            .await
            .expect("range")),
        vec![early.id, middle.id],
        "the limit keeps the oldest"
    );
    assert!(store
        .visits_between(a, t0() - h, t0(), 100)
        .await
        .expect("range")
        .is_empty());
    let in_b = store
        .visits_between(b, t0(), t0() + h * 3, 100)
        .await
        .expect("range");
    assert_eq!(ids(in_b), vec![of_b.id]);

    let spans = store
        .visit_spans(a, t0(), t0() + h * 3, 100)
        .await
        .expect("spans");
    assert_eq!(
        spans.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![early.id, middle.id, late.id]
    );
    let span = &spans[1];
    assert_eq!(
        (span.started_at, span.last_at),
        (middle.started_at, middle_end)
    );
    assert_eq!(
        (
            span.source.as_str(),
            span.medium.as_str(),
            span.campaign.as_deref(),
            span.channel.as_str()
        ),
        ("yandex", "cpc", None, "paid search")
    );
    assert_eq!(
        store
            .visit_spans(a, t0(), t0() + h * 3, 1)
            .await
            .expect("spans")
            .len(),
        1
    );
    assert_eq!(
        store
            .visit_spans(b, t0(), t0() + h * 3, 100)
            .await
            .expect("spans")
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![of_b.id]
    );
}
