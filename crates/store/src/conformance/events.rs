//! Conformance tests of the event log and the outbox's front door: each
//! change appends its event in its own transaction, a replay appends
//! nothing, events stay in their project, outbox keys are idempotent — and
//! every event carries exactly its typed payload, compared whole.

use super::{chat_message, deal, lead, new_project, policy};
use crate::{
    CallFinishedPayload, ChatStartedPayload, DealStageChangedPayload, DialogPolicy, EventKind,
    EventPayload, LeadCreatedPayload, NewCall, Scope, Store, StoredEvent, TicketClosedPayload,
    TicketWrite,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;
use skvoz_domain::calltracking::CallAttribution;
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind, LeadKind};
use skvoz_domain::support::{StatusClass, TicketEventKind};

fn kinds(events: &[StoredEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

/// The typed payload of a stored event; the event's kind, contact, subject
/// and time must be the payload's own.
fn payload(event: &StoredEvent) -> EventPayload {
    let p = EventPayload::of_event(event)
        .unwrap_or_else(|e| panic!("{} data {}: {e}", event.kind, event.data));
    assert_eq!(
        (event.kind, event.contact_id, event.subject_id, event.at),
        (p.kind(), p.contact_id(), Some(p.subject_id()), p.at()),
        "{} envelope",
        event.kind
    );
    p
}

/// A whole-millisecond time some minutes ago (every backend keeps
/// milliseconds).
fn minutes_ago(minutes: i64) -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .expect("trunc")
        - Duration::minutes(minutes)
}

fn ticket_event(
    event: &str,
    status: Option<(&str, StatusClass)>,
    at: DateTime<Utc>,
) -> TicketWrite {
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
        at,
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

    let mut new_lead = lead(vec![email.clone()], Some("form-1"));
    new_lead.created_at = minutes_ago(60);
    new_lead.name = Some("Анна".into());
    new_lead.payload = json!({"comment": "call me", "utm": {"source": "ya"}});
    let first = store
        .record_lead(a, new_lead.clone(), policy())
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
    let deal_id = first.deal_id.expect("the lead opens a deal");
    assert_eq!(
        payload(&events[0]),
        EventPayload::LeadCreated(LeadCreatedPayload {
            contact_id: Some(first.contact_id),
            created_at: new_lead.created_at,
            deal_id: Some(deal_id),
            duplicate: false,
            fields: json!({"comment": "call me", "utm": {"source": "ya"}}),
            kind: LeadKind::Form,
            lead_id: first.lead_id,
            name: Some("Анна".into()),
            source_id: Some("form-1".into()),
            visit_id: None,
        })
    );
    // The deal the lead opened enters its first stage with the lead.
    assert_eq!(
        payload(&events[1]),
        EventPayload::DealStageChanged(DealStageChangedPayload {
            at: new_lead.created_at,
            contact_id: Some(first.contact_id),
            deal_id,
            external_id: None,
            is_repeat: false,
            lead_id: Some(first.lead_id),
            product: None,
            profit: None,
            revenue: 0.0,
            stage: "new".into(),
            status: DealStatus::Open,
            visit_id: None,
        })
    );

    // The CRM's deal adopts the lead's deal, then wins: one event per stage
    // entered, with the deal as it now is.
    store
        .upsert_deal(a, deal("x", None, Some("new"), 100))
        .await
        .expect("upsert");
    let before = events.last().expect("event").id;
    let mut won = deal("x", Some(DealStatus::Won), Some("won"), 15_050);
    won.profit = Some(skvoz_domain::Money(4_000));
    won.product = Some("Plan B".into());
    won.at = minutes_ago(50);
    won.closed_at = Some(won.at);
    store.upsert_deal(a, won.clone()).await.expect("upsert");
    store.upsert_deal(a, won.clone()).await.expect("replay");
    let later = store.project_events(a, before, 100).await.expect("events");
    assert_eq!(kinds(&later), vec![EventKind::DealStageChanged]);
    assert_eq!(
        payload(&later[0]),
        EventPayload::DealStageChanged(DealStageChangedPayload {
            at: won.at,
            contact_id: Some(first.contact_id),
            deal_id,
            external_id: Some("x".into()),
            is_repeat: false,
            lead_id: Some(first.lead_id),
            product: Some("Plan B".into()),
            profit: Some(40.0),
            revenue: 150.5,
            stage: "won".into(),
            status: DealStatus::Won,
            visit_id: None,
        })
    );

    // A ticket: created says nothing, solved says `ticket.closed` once.
    let mark = later.last().expect("event").id;
    let (opened, solved) = (minutes_ago(40), minutes_ago(30));
    let ticket = store
        .record_ticket_event(a, ticket_event("e1", None, opened))
        .await
        .expect("ticket");
    let solve = ticket_event("e2", Some(("solved", StatusClass::Resolved)), solved);
    store
        .record_ticket_event(a, solve.clone())
        .await
        .expect("ticket");
    store
        .record_ticket_event(
            a,
            ticket_event("e3", Some(("closed", StatusClass::Closed)), minutes_ago(20)),
        )
        .await
        .expect("ticket");
    store.record_ticket_event(a, solve).await.expect("replay");
    let tickets = store.project_events(a, mark, 100).await.expect("events");
    assert_eq!(kinds(&tickets), vec![EventKind::TicketClosed]);
    assert_eq!(
        payload(&tickets[0]),
        EventPayload::TicketClosed(TicketClosedPayload {
            closed_at: solved,
            contact_id: None,
            created_at: opened,
            external_id: "T-1".into(),
            lead_id: None,
            product: None,
            provider: "api".into(),
            rating: None,
            status: Some("solved".into()),
            subject: Some("Refund".into()),
            ticket_id: ticket.ticket_id,
        })
    );

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

    calls_and_chats_append_their_whole_payloads_once(store).await;
}

/// A new call appends `call.finished` and a dialog's first message
/// `chat.started`, each with its whole payload; a redelivered call and a
/// dialog's later messages append nothing. (`survey.answered` is checked
/// with the surveys.)
async fn calls_and_chats_append_their_whole_payloads_once<S: Store>(store: &S) {
    let c = Scope::new(
        store
            .create_project(new_project("ec"))
            .await
            .expect("create")
            .id,
    );
    let started = minutes_ago(15);
    let call = NewCall {
        provider: "zadarma".into(),
        source_id: "call-1".into(),
        caller: Some("+79991234567".into()),
        called: "+74950000000".into(),
        number: Some("+74950000001".into()),
        pool_id: Some("ads".into()),
        started_at: started,
        duration: 95,
        answered: true,
        is_target: true,
        is_unique: false,
        recording_url: Some("https://rec.example/1.mp3".into()),
        attribution: CallAttribution::Dynamic,
        shared: false,
        visit_id: Some(42),
        contact_id: None,
        lead_id: None,
    };
    let (stored, _) = store.insert_call(c, call.clone()).await.expect("call");
    let (_, replayed) = store.insert_call(c, call).await.expect("replay");
    assert!(replayed);

    let dialogs = DialogPolicy {
        gap: Duration::hours(24),
        repeat_window: Duration::days(30),
    };
    let mut first = chat_message("m1", "7001", minutes_ago(10), Some(4711));
    first.visit_id = Some(42);
    first.page = Some("https://shop.example/p?x=1".into());
    let dialog = store
        .record_chat_message(c, first.clone(), dialogs)
        .await
        .expect("chat");
    store
        .record_chat_message(c, first.clone(), dialogs)
        .await
        .expect("replay");
    store
        .record_chat_message(c, chat_message("m2", "7001", minutes_ago(9), None), dialogs)
        .await
        .expect("second message");

    let events = store.project_events(c, 0, 100).await.expect("events");
    assert_eq!(
        kinds(&events),
        vec![EventKind::CallFinished, EventKind::ChatStarted]
    );
    assert_eq!(
        payload(&events[0]),
        EventPayload::CallFinished(CallFinishedPayload {
            answered: true,
            call_id: stored.id,
            called: "+74950000000".into(),
            caller: Some("+79991234567".into()),
            contact_id: None,
            duration: 95,
            is_target: true,
            is_unique: false,
            lead_id: None,
            number: Some("+74950000001".into()),
            provider: "zadarma".into(),
            recording_url: Some("https://rec.example/1.mp3".into()),
            source_id: "call-1".into(),
            started_at: started,
            visit_id: Some(42),
        })
    );
    // The event is at the call's end.
    assert_eq!(events[0].at, started + Duration::seconds(95));
    assert_eq!(
        payload(&events[1]),
        EventPayload::ChatStarted(ChatStartedPayload {
            contact_id: None,
            dialog_id: dialog.dialog_id,
            is_new: true,
            lead_id: None,
            messenger: "whatsapp".into(),
            page: Some("https://shop.example/p?x=1".into()),
            started_at: first.sent_at,
            visit_code: Some(4711),
            visit_id: Some(42),
        })
    );
}
