//! Conformance tests of [`CallStore`](crate::CallStore): reservations and
//! calls, idempotent and scoped.

use super::new_project;
use crate::{NewCall, NumberReservation, Scope, Store};
use chrono::{Duration, DurationRound, Utc};
use skvoz_domain::calltracking::CallAttribution;

fn call(source_id: &str, caller: &str, at: chrono::DateTime<Utc>) -> NewCall {
    NewCall {
        provider: "generic".into(),
        source_id: source_id.into(),
        caller: Some(caller.into()),
        called: "+74950000001".into(),
        number: Some("+74950000001".into()),
        pool_id: Some("ads".into()),
        started_at: at,
        duration: 45,
        answered: true,
        is_target: true,
        is_unique: true,
        recording_url: None,
        attribution: CallAttribution::Dynamic,
        shared: false,
        visit_id: Some(7),
        contact_id: None,
        lead_id: None,
    }
}

/// Reservations upsert with a growing hold, are found by number and time,
/// counted, and never cross projects; calls are stored once per sender id.
pub async fn calls_and_reservations_are_idempotent_and_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("ca"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("cb"))
            .await
            .expect("create")
            .id,
    );
    let t0 = Utc::now()
        .duration_trunc(Duration::seconds(1))
        .expect("trunc")
        - Duration::minutes(30);
    let res = |visit_id: i64, number: &str, from_min: i64, until_min: i64, shared: bool| {
        NumberReservation {
            visit_id,
            vid: format!("v{visit_id}"),
            pool_id: "ads".into(),
            number: number.into(),
            reserved_from: t0 + Duration::minutes(from_min),
            held_until: t0 + Duration::minutes(until_min),
            shared,
        }
    };
    store
        .save_reservations(vec![
            (a, res(1, "+74950000001", 0, 5, false)),
            (a, res(2, "+74950000001", 10, 15, false)),
            (a, res(3, "+74950000002", 10, 40, true)),
            (b, res(4, "+74950000001", 0, 60, false)),
        ])
        .await
        .expect("save");
    // A later save extends; an older one never shortens.
    store
        .save_reservations(vec![
            (a, res(2, "+74950000001", 10, 20, false)),
            (a, res(2, "+74950000001", 10, 12, false)),
        ])
        .await
        .expect("extend");
    let at = |m: i64| t0 + Duration::minutes(m);
    let held = store
        .reservations_at(a, "+74950000001", at(18))
        .await
        .expect("at");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].visit_id, 2);
    assert_eq!(held[0].held_until, at(20));
    assert!(store
        .reservations_at(a, "+74950000001", at(7))
        .await
        .expect("at")
        .is_empty());
    let b_held = store
        .reservations_at(b, "+74950000001", at(7))
        .await
        .expect("at");
    assert_eq!(
        b_held.iter().map(|r| r.visit_id).collect::<Vec<_>>(),
        vec![4]
    );
    let active = store.active_reservations(a, at(25)).await.expect("active");
    assert_eq!(
        active.iter().map(|r| r.visit_id).collect::<Vec<_>>(),
        vec![3]
    );
    let stats = store
        .reservation_stats(a, None, at(0), at(60))
        .await
        .expect("stats");
    assert_eq!((stats.reservations, stats.shared), (3, 1));
    let other = store
        .reservation_stats(a, Some("print"), at(0), at(60))
        .await
        .expect("stats");
    assert_eq!(other.reservations, 0);

    let (first, replayed) = store
        .insert_call(a, call("c1", "+79990000001", at(1)))
        .await
        .expect("insert");
    assert!(!replayed);
    let mut again = call("c1", "+79990000001", at(1));
    again.duration = 999;
    let (second, replayed) = store.insert_call(a, again).await.expect("insert again");
    assert!(replayed);
    assert_eq!(second, first, "a redelivery changes nothing");
    store
        .insert_call(b, call("c1", "+79990000001", at(1)))
        .await
        .expect("same id, other project");
    store
        .insert_call(a, call("c2", "+79990000001", at(3)))
        .await
        .expect("insert");
    assert_eq!(
        store
            .call_by_source(a, "generic", "c1")
            .await
            .expect("get")
            .map(|c| c.id),
        Some(first.id)
    );
    let earlier = store
        .calls_of_caller(a, "+79990000001", at(3), 10)
        .await
        .expect("caller");
    assert_eq!(
        earlier
            .iter()
            .map(|c| c.call.source_id.as_str())
            .collect::<Vec<_>>(),
        vec!["c1"]
    );
    let listed = store
        .calls_between(a, at(0), at(60), 100)
        .await
        .expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|c| c.call.source_id.as_str())
            .collect::<Vec<_>>(),
        vec!["c2", "c1"]
    );
    assert_eq!(listed[1].call.started_at, at(1));
    assert_eq!(listed[1].call.attribution, CallAttribution::Dynamic);
    assert_eq!(
        store
            .calls_between(b, at(0), at(60), 100)
            .await
            .expect("list")
            .len(),
        1
    );
}
