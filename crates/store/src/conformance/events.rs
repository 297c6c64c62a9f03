//! Conformance tests of the event log and the outbox's front door: each
//! change appends its event in its own transaction, a replay appends
//! nothing, events stay in their project, outbox keys are idempotent.

use super::{deal, lead, new_project, policy};
use crate::{EventKind, Scope, Store, TicketWrite};
use chrono::Utc;
use serde_json::json;
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind};
use skvoz_domain::service::{StatusClass, TicketEventKind};

fn kinds(events: &[crate::StoredEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn ticket_event(event: &str, status: Option<(&str, StatusClass)>) -> TicketWrite {
    TicketWrite {
        provider: "api".into(),
        external_id: "T-1".into(),
        event_id: event.into(),
        kind: if status.is_some() {
            TicketEventKind::Status
        } else {
            TicketEventKind::Created
        },
        status: status.map(|(s, _)| s.to_owned()),
        status_class: status.map(|(_, c)| c),
        rating: None,
        at: Utc::now(),
        created_at: None,
        subject: Some("Refund".into()),
        priority: None,
        product: None,
        handling_minutes: None,
        raw: json!({"event": event}),
    }
}

/// Leads, deal stages and closed tickets append their events once; replays
/// append nothing; another project sees none of them; outbox keys dedupe.
pub async fn changes_append_events_once_and_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("ea"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("eb"))
            .await
            .expect("create")
            .id,
    );
    let email = Identity::new(IdentityKind::Email, "d@e.ru");

    let first = store
        .record_lead(a, lead(vec![email.clone()], Some("form-1")), policy())
        .await
        .expect("lead");
    // A redelivery of the same lead changes nothing and says nothing.
    let again = store
        .record_lead(a, lead(vec![email.clone()], Some("form-1")), policy())
        .await
        .expect("lead");
    assert!(again.replayed);
    let events = store.project_events(a, 0, 100).await.expect("events");
    assert_eq!(
        kinds(&events),
        vec![EventKind::LeadCreated, EventKind::DealStageChanged]
    );
    assert_eq!(events[0].subject_id, Some(first.lead_id));
    assert_eq!(events[0].contact_id, Some(first.contact_id));
    assert_eq!(events[0].data["kind"], json!("form"));
    assert_eq!(events[1].subject_id, first.deal_id);

    // The CRM's deal adopts the lead's deal, then wins: one event per stage
    // entered, with the deal as it now is.
    store
        .upsert_deal(a, deal("x", None, Some("new"), 100))
        .await
        .expect("upsert");
    let before = events.last().expect("event").id;
    store
        .upsert_deal(a, deal("x", Some(DealStatus::Won), Some("won"), 15_000))
        .await
        .expect("upsert");
    store
        .upsert_deal(a, deal("x", Some(DealStatus::Won), Some("won"), 15_000))
        .await
        .expect("replay");
    let later = store.project_events(a, before, 100).await.expect("events");
    assert_eq!(kinds(&later), vec![EventKind::DealStageChanged]);
    assert_eq!(later[0].data["stage"], json!("won"));
    assert_eq!(later[0].data["status"], json!("won"));
    assert_eq!(later[0].data["revenue"], json!(150.0));
    assert_eq!(later[0].data["external_id"], json!("x"));

    // A ticket: created says nothing, solved says `ticket.closed` once.
    let mark = later.last().expect("event").id;
    store
        .record_ticket_event(a, ticket_event("e1", None))
        .await
        .expect("ticket");
    store
        .record_ticket_event(
            a,
            ticket_event("e2", Some(("solved", StatusClass::Resolved))),
        )
        .await
        .expect("ticket");
    store
        .record_ticket_event(a, ticket_event("e3", Some(("closed", StatusClass::Closed))))
        .await
        .expect("ticket");
    store
        .record_ticket_event(
            a,
            ticket_event("e2", Some(("solved", StatusClass::Resolved))),
        )
        .await
        .expect("replay");
    let tickets = store.project_events(a, mark, 100).await.expect("events");
    assert_eq!(kinds(&tickets), vec![EventKind::TicketClosed]);
    assert_eq!(tickets[0].data["status"], json!("solved"));

    // Nothing of project A in project B: B's own lead makes B's only events.
    let in_b = store
        .record_lead(b, lead(vec![email.clone()], Some("form-1")), policy())
        .await
        .expect("lead");
    let of_b = store.project_events(b, 0, 100).await.expect("events");
    assert_eq!(
        kinds(&of_b),
        vec![EventKind::LeadCreated, EventKind::DealStageChanged]
    );
    assert_eq!(of_b[0].subject_id, Some(in_b.lead_id));
    assert!(of_b.iter().all(|e| e.project == b.project()));
    let all = store.events_after(0, 1000).await.expect("all");
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(all.iter().filter(|e| e.project == a.project()).count(), 4);
    assert_eq!(all.iter().filter(|e| e.project == b.project()).count(), 2);
    assert_eq!(store.event_cursor("relay").await.expect("cursor"), 0);
}
