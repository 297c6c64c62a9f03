//! Conformance tests of a contact's visits as the operator card and the
//! ticket report read them: the visits of the contact's visitor ids and of
//! its leads, in time order, and each contact's first channel.

use super::ingest::write_blocking;
use super::{hit_write, lead, policy, project, visit};
use crate::Store;
use chrono::{DateTime, Duration, Utc};
use skvoz_domain::crm::{Identity, IdentityKind};

/// A fixed instant, whole milliseconds (what every backend keeps).
fn t0() -> DateTime<Utc> {
    "2026-05-01T12:00:00Z".parse().expect("time")
}

/// A contact's visits are those of its visitor ids and of its leads, oldest
/// first, at most `limit`; its first visit gives its channel; a visitor id
/// of the same text in another project is another visitor.
pub async fn contact_visits_follow_visitor_ids_and_leads_and_stay_scoped<
    S: Store + Clone + 'static,
>(
    store: &S,
) {
    let a = project(store, "cva").await;
    let b = project(store, "cvb").await;
    let base = store.max_visit_id().await.expect("max");
    let d = Duration::days(1);
    let mut first = visit(base + 1, 1, "cv1", t0());
    first.channel = "organic search".into();
    let second = visit(base + 2, 2, "cv1", t0() + d);
    // Another visitor's visit, the contact's through its lead.
    let by_lead = visit(base + 3, 3, "other", t0() + d * 2);
    let stranger = visit(base + 4, 4, "stranger", t0() - d);
    // Same visitor id text, earlier, in project b.
    let mut in_b = visit(base + 5, 1, "cv1", t0() - d * 2);
    in_b.channel = "direct".into();
    write_blocking(
        store,
        [&first, &second, &by_lead, &stranger]
            .into_iter()
            .map(|v| hit_write(a, v, true, 1, v.started_at))
            .chain([hit_write(b, &in_b, true, 1, in_b.started_at)])
            .collect(),
    )
    .await
    .expect("visits");

    let mut l = lead(
        vec![
            Identity::new(IdentityKind::Vid, "cv1"),
            Identity::new(IdentityKind::Email, "cv@e.ru"),
        ],
        None,
    );
    l.visit_id = Some(by_lead.id);
    l.created_at = by_lead.started_at;
    let contact = store
        .record_lead(a, l, policy())
        .await
        .expect("lead")
        .contact_id;
    let without_visits = store
        .record_lead(
            a,
            lead(vec![Identity::new(IdentityKind::Email, "no@e.ru")], None),
            policy(),
        )
        .await
        .expect("lead")
        .contact_id;

    let ids = |visits: Vec<crate::Visit>| visits.into_iter().map(|v| v.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .visits_of_contact(a, contact, 100)
            .await
            .expect("visits")),
        vec![first.id, second.id, by_lead.id]
    );
    assert_eq!(
        ids(store
            .visits_of_contact(a, contact, 2)
            .await
            .expect("visits")),
        vec![first.id, second.id],
        "the limit keeps the oldest"
    );
    assert!(store
        .visits_of_contact(a, without_visits, 100)
        .await
        .expect("visits")
        .is_empty());
    let brief = store.contact_visits(a, contact).await.expect("brief");
    assert_eq!(brief.count, 3);
    assert_eq!(brief.first.map(|v| v.id), Some(first.id));
    assert_eq!(brief.last.map(|v| v.id), Some(by_lead.id));

    let channels = store
        .first_visit_channels(a, vec![contact, without_visits, contact + 1_000_000])
        .await
        .expect("channels");
    assert_eq!(channels.len(), 1, "contacts without visits are left out");
    assert_eq!(
        channels.get(&contact).map(String::as_str),
        Some("organic search")
    );

    // Project b: a's contact is unknown; b's own contact with the same
    // visitor id text has only b's visit.
    assert!(store
        .visits_of_contact(b, contact, 100)
        .await
        .expect("visits")
        .is_empty());
    assert!(store
        .first_visit_channels(b, vec![contact])
        .await
        .expect("channels")
        .is_empty());
    let contact_b = store
        .record_lead(
            b,
            lead(vec![Identity::new(IdentityKind::Vid, "cv1")], None),
            policy(),
        )
        .await
        .expect("lead")
        .contact_id;
    assert_eq!(
        ids(store
            .visits_of_contact(b, contact_b, 100)
            .await
            .expect("visits")),
        vec![in_b.id]
    );
    assert_eq!(
        store
            .first_visit_channels(b, vec![contact_b])
            .await
            .expect("channels")
            .get(&contact_b)
            .map(String::as_str),
        Some("direct")
    );
}
