//! Conformance tests of the outbox worker's store: the relay's fan-out and
//! cursor commit together, claims are leased (and come back when a lease
//! expires), outcomes are recorded, dead letters are retried per project,
//! and a contact's keys are its own project's.

use super::{lead, new_project, policy};
use crate::{NewOutboxMessage, OutboxFilter, OutboxResult, Scope, Store};
use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_domain::crm::{Identity, IdentityKind};

fn message(key: &str, kind: &str) -> NewOutboxMessage {
    NewOutboxMessage {
        destination_kind: kind.into(),
        destination: "d1".into(),
        idempotency_key: key.into(),
        payload: json!({"k": key}),
        event_id: None,
        not_before: None,
    }
}

/// Relay batches, leases, outcomes, retries and contact keys.
pub async fn outbox_leases_outcomes_and_retries_are_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("oa"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("ob"))
            .await
            .expect("create")
            .id,
    );

    // The relay's batch enqueues and moves the cursor together; a replayed
    // batch adds nothing.
    let batch = vec![
        (a, message("ev1:h", "webhook")),
        (b, message("ev1:h", "webhook")),
    ];
    assert_eq!(
        store
            .relay_batch("relay-t", 7, batch.clone())
            .await
            .expect("relay"),
        2
    );
    assert_eq!(store.event_cursor("relay-t").await.expect("cursor"), 7);
    assert_eq!(
        store.relay_batch("relay-t", 7, batch).await.expect("relay"),
        0
    );
    store
        .relay_batch("relay-t", 9, vec![(a, message("ev2:h", "ga4"))])
        .await
        .expect("relay");

    // Claims take due messages of the asked kinds and lease them.
    let now = Utc::now();
    let claimed = store
        .claim_outbox(vec!["webhook".into()], now, now + Duration::seconds(30), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 2);
    assert!(claimed.iter().all(|m| m.destination_kind == "webhook"));
    let again = store
        .claim_outbox(vec!["webhook".into()], now, now + Duration::seconds(30), 10)
        .await
        .expect("claim");
    assert!(again.is_empty(), "a leased message is not claimed twice");
    // A crashed worker's lease expires: the message comes back.
    let later = now + Duration::seconds(31);
    let back = store
        .claim_outbox(
            vec!["webhook".into()],
            later,
            later + Duration::seconds(30),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(back.len(), 2);

    let a_id = back
        .iter()
        .find(|m| m.project == a.project())
        .expect("a's")
        .id;
    let b_id = back
        .iter()
        .find(|m| m.project == b.project())
        .expect("b's")
        .id;
    store
        .finish_outbox(vec![
            (
                a_id,
                OutboxResult::Dead {
                    error: "HTTP 400".into(),
                },
            ),
            (
                b_id,
                OutboxResult::Retry {
                    next: later + Duration::seconds(5),
                    error: "HTTP 503".into(),
                },
            ),
        ])
        .await
        .expect("finish");
    let not_yet = store
        .claim_outbox(
            vec!["webhook".into()],
            later,
            later + Duration::seconds(30),
            10,
        )
        .await
        .expect("claim");
    assert!(not_yet.is_empty(), "a retry waits for its time");
    let b_list = store
        .list_outbox(
            b,
            OutboxFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(b_list.len(), 1);
    assert_eq!(
        (b_list[0].attempts, b_list[0].last_error.as_deref()),
        (1, Some("HTTP 503"))
    );

    // Dead letters are retried per project only.
    assert!(!store.retry_outbox(b, a_id).await.expect("retry"));
    assert_eq!(store.retry_dead_outbox(b).await.expect("retry"), 0);
    let dead = store
        .list_outbox(
            a,
            OutboxFilter {
                status: Some("dead".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("HTTP 400"));
    assert!(store.retry_outbox(a, a_id).await.expect("retry"));
    let revived = store
        .claim_outbox(
            vec!["webhook".into()],
            Utc::now(),
            Utc::now() + Duration::seconds(30),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(revived.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a_id]);
    assert_eq!(
        revived[0].attempts, 0,
        "a retried dead letter starts afresh"
    );
    let at = Utc::now();
    store
        .finish_outbox(vec![(a_id, OutboxResult::Delivered { at })])
        .await
        .expect("finish");
    let ga4 = store
        .claim_outbox(vec!["ga4".into()], at, at + Duration::seconds(30), 10)
        .await
        .expect("claim");
    store
        .finish_outbox(vec![(
            ga4[0].id,
            OutboxResult::Skipped {
                reason: "no client id".into(),
            },
        )])
        .await
        .expect("finish");
    let counts = store.outbox_counts(a).await.expect("counts");
    assert_eq!(
        counts,
        vec![("delivered".to_owned(), 1), ("skipped".to_owned(), 1)]
    );
    let skipped = store
        .list_outbox(
            a,
            OutboxFilter {
                kind: Some("ga4".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(skipped[0].skip_reason.as_deref(), Some("no client id"));
    assert_eq!(skipped[0].attempts, 0);
    let depth = store.outbox_depth().await.expect("depth");
    assert!(
        depth.contains(&("webhook".to_owned(), "pending".to_owned(), 1)),
        "{depth:?}"
    );

    // Contact keys: identities of the contact, in its project only.
    let recorded = store
        .record_lead(
            a,
            lead(
                vec![
                    Identity::new(IdentityKind::Email, "k@e.ru"),
                    Identity::new(IdentityKind::GaCid, "111.222"),
                ],
                Some("kf-1"),
            ),
            policy(),
        )
        .await
        .expect("lead");
    let keys = store
        .contact_keys(a, recorded.contact_id)
        .await
        .expect("keys");
    assert_eq!(keys.ga_cid.as_deref(), Some("111.222"));
    assert_eq!(keys.email.as_deref(), Some("k@e.ru"));
    assert_eq!(keys.ym_uid, None);
    let foreign = store
        .contact_keys(b, recorded.contact_id)
        .await
        .expect("keys");
    assert_eq!(foreign, crate::ContactKeys::default());
}

/// Retention: delivered messages past the cut-off and skipped ones created
/// before it are deleted, a batch at a time; pending and dead ones stay
/// whatever their age.
pub async fn outbox_prune_keeps_pending_and_dead<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("op"))
            .await
            .expect("create")
            .id,
    );
    let keys = ["old", "new", "dead", "skipped", "pending"];
    let batch = keys.iter().map(|k| (a, message(k, "webhook"))).collect();
    store.relay_batch("prune-t", 1, batch).await.expect("relay");
    let now = Utc::now();
    let claimed = store
        .claim_outbox(vec!["webhook".into()], now, now + Duration::seconds(30), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), keys.len());
    let id = |key: &str| {
        claimed
            .iter()
            .find(|m| m.idempotency_key == key)
            .expect("claimed")
            .id
    };
    store
        .finish_outbox(vec![
            (
                id("old"),
                OutboxResult::Delivered {
                    at: now - Duration::days(100),
                },
            ),
            (id("new"), OutboxResult::Delivered { at: now }),
            (id("dead"), OutboxResult::Dead { error: "x".into() }),
            (
                id("skipped"),
                OutboxResult::Skipped {
                    reason: "window".into(),
                },
            ),
        ])
        .await
        .expect("finish");
    // 30 days back: only the message delivered 100 days ago goes.
    assert_eq!(
        store
            .prune_outbox(now - Duration::days(30), 100)
            .await
            .expect("prune"),
        1
    );
    assert_eq!(
        outbox_keys(store, a).await,
        ["dead", "new", "pending", "skipped"]
    );
    // A cut-off after everything: the delivered and the skipped go, one per
    // call with a limit of one.
    let later = now + Duration::minutes(1);
    assert_eq!(store.prune_outbox(later, 1).await.expect("prune"), 1);
    assert_eq!(store.prune_outbox(later, 1).await.expect("prune"), 1);
    assert_eq!(store.prune_outbox(later, 1).await.expect("prune"), 0);
    assert_eq!(outbox_keys(store, a).await, ["dead", "pending"]);
}

/// The project's messages' idempotency keys, sorted.
async fn outbox_keys<S: Store>(store: &S, scope: Scope) -> Vec<String> {
    let mut keys: Vec<String> = store
        .list_outbox(
            scope,
            OutboxFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    keys.sort();
    keys
}
