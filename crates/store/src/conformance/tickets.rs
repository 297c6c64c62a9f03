//! Conformance tests of the ticket store: idempotent events, derived SLA
//! fields, ticket leads that open no deal, contacts through merges, and
//! project isolation.

use crate::{LeadPolicy, NewLead, NewProject, Scope, Store, TicketWrite};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::support::{StatusClass, TicketEventKind};
use skvoz_domain::ProjectName;

async fn project<S: Store>(store: &S, name: &str) -> Scope {
    Scope::new(
        store
            .create_project(NewProject {
                name: ProjectName::new(name).expect("valid name"),
                public_key: format!("pk_{name}"),
                api_key_hash: format!("hash_{name}"),
                settings: json!({}),
            })
            .await
            .expect("create")
            .id,
    )
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("valid time")
}

fn write(
    id: &str,
    event: &str,
    kind: TicketEventKind,
    minutes: i64,
    status: Option<(&str, StatusClass)>,
) -> TicketWrite {
    TicketWrite {
        provider: "api".into(),
        external_id: id.into(),
        event_id: event.into(),
        kind,
        status: status.map(|(s, _)| s.to_owned()),
        status_class: status.map(|(_, c)| c),
        rating: None,
        at: t0() + Duration::minutes(minutes),
        created_at: None,
        subject: None,
        priority: None,
        product: None,
        handling_minutes: None,
        raw: json!({"event": event}),
    }
}

/// Events apply once each; replies, resolution, closing and ratings set the
/// derived fields; an older status redelivered late changes nothing.
pub async fn ticket_events_are_idempotent_and_derive_sla<S: Store>(store: &S) {
    let a = project(store, "ta").await;
    let created = TicketWrite {
        subject: Some("Broken sofa".into()),
        priority: Some("high".into()),
        ..write(
            "T-1",
            "e1",
            TicketEventKind::Created,
            0,
            Some(("open", StatusClass::Open)),
        )
    };
    let first = store
        .record_ticket_event(a, created.clone())
        .await
        .expect("event");
    assert!(first.created && !first.replayed);
    let again = store.record_ticket_event(a, created).await.expect("event");
    assert!(again.replayed && again.ticket_id == first.ticket_id);

    store
        .record_ticket_event(a, write("T-1", "e2", TicketEventKind::Reply, 15, None))
        .await
        .expect("reply");
    store
        .record_ticket_event(a, write("T-1", "e3", TicketEventKind::Reply, 40, None))
        .await
        .expect("reply");
    store
        .record_ticket_event(
            a,
            write(
                "T-1",
                "e4",
                TicketEventKind::Status,
                120,
                Some(("solved", StatusClass::Resolved)),
            ),
        )
        .await
        .expect("status");
    store
        .record_ticket_event(
            a,
            TicketWrite {
                rating: Some(5),
                handling_minutes: Some(35),
                ..write("T-1", "e5", TicketEventKind::Rating, 130, None)
            },
        )
        .await
        .expect("rating");
    // A late redelivery of an earlier "open" does not reopen it.
    store
        .record_ticket_event(
            a,
            write(
                "T-1",
                "e0",
                TicketEventKind::Status,
                5,
                Some(("open", StatusClass::Open)),
            ),
        )
        .await
        .expect("late status");
    let t = store
        .ticket(a, first.ticket_id)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(t.subject.as_deref(), Some("Broken sofa"));
    assert_eq!(t.priority.as_deref(), Some("high"));
    assert_eq!(t.status.as_deref(), Some("solved"));
    assert_eq!(t.created_at, t0());
    assert_eq!(t.first_response_at, Some(t0() + Duration::minutes(15)));
    assert_eq!(t.resolved_at, Some(t0() + Duration::minutes(120)));
    assert_eq!(t.closed_at, None);
    assert_eq!(t.rating, Some(5));
    assert_eq!(t.handling_minutes, Some(35));
    let events = store.ticket_events(a, t.id).await.expect("events");
    assert_eq!(events.len(), 6);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at));

    let b = project(store, "tb").await;
    assert_eq!(store.ticket(b, t.id).await.expect("read"), None);
    assert!(store.ticket_events(b, t.id).await.expect("read").is_empty());
    let day = Duration::days(1);
    assert!(store
        .tickets_between(b, t0() - day, t0() + day)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(
        store
            .tickets_between(a, t0() - day, t0() + day)
            .await
            .expect("read")
            .len(),
        1
    );
    assert_eq!(
        store
            .ticket_poll_cursor(a, "helpdeskeddy")
            .await
            .expect("cursor"),
        None
    );
    store
        .set_ticket_poll_cursor(a, "helpdeskeddy", Some(t0()), None)
        .await
        .expect("cursor");
    store
        .set_ticket_poll_cursor(a, "helpdeskeddy", None, Some("down".into()))
        .await
        .expect("cursor");
    assert_eq!(
        store
            .ticket_poll_cursor(a, "helpdeskeddy")
            .await
            .expect("cursor"),
        Some(t0())
    );
    assert_eq!(
        store
            .ticket_poll_cursor(b, "helpdeskeddy")
            .await
            .expect("cursor"),
        None
    );
}

/// A ticket lead opens no deal; the ticket follows its contact through a
/// merge.
pub async fn ticket_leads_open_no_deal_and_follow_merges<S: Store>(store: &S) {
    let a = project(store, "tc").await;
    let policy = LeadPolicy {
        dedup: true,
        first_stage: "new".into(),
    };
    let email = Identity::new(IdentityKind::Email, "x@y.ru");
    let phone = Identity::new(IdentityKind::Phone, "+79990000001");
    let lead = |kind, identities: Vec<Identity>, source: &str| NewLead {
        kind,
        source_id: Some(source.into()),
        created_at: t0(),
        visit_id: None,
        identities,
        name: None,
        payload: json!({}),
    };
    let rec = store
        .record_ticket_event(a, write("T-9", "c", TicketEventKind::Created, 0, None))
        .await
        .expect("ticket");
    let ticket_lead = store
        .record_lead(
            a,
            lead(LeadKind::Ticket, vec![email.clone()], "api:T-9"),
            policy.clone(),
        )
        .await
        .expect("lead");
    assert_eq!(ticket_lead.deal_id, None);
    assert!(!ticket_lead.duplicate);
    store
        .link_ticket_lead(
            a,
            rec.ticket_id,
            ticket_lead.lead_id,
            Some(ticket_lead.contact_id),
        )
        .await
        .expect("link");
    // A form lead of another contact (by phone) opens a deal; then one that
    // carries both identities merges the contacts into the older one.
    let form = store
        .record_lead(
            a,
            lead(LeadKind::Form, vec![phone.clone()], "f1"),
            policy.clone(),
        )
        .await
        .expect("lead");
    assert!(form.deal_id.is_some());
    let both = store
        .record_lead(a, lead(LeadKind::Form, vec![phone, email], "f2"), policy)
        .await
        .expect("lead");
    let survivor = both.contact_id;
    let tickets = store.tickets_of_contact(a, survivor).await.expect("read");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].contact_id, Some(survivor));
    assert_eq!(tickets[0].lead_id, Some(ticket_lead.lead_id));
    let other = project(store, "td").await;
    assert!(store
        .tickets_of_contact(other, survivor)
        .await
        .expect("read")
        .is_empty());
    assert_eq!(
        store
            .contact_visits(other, survivor)
            .await
            .expect("read")
            .count,
        0
    );
}
