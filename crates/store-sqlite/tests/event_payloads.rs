//! Pins the `data` of every event kind exactly as SQLite stores it — the
//! bytes external webhooks receive under `data`. Fixed inputs through the
//! public trait methods make fixed output; a change to a payload's fields,
//! their names, their order or their formatting fails here.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use skvoz_domain::calltracking::CallAttribution;
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind, LeadKind};
use skvoz_domain::support::{StatusClass, TicketEventKind};
use skvoz_domain::{Money, ProjectName};
use skvoz_store::{
    AnswerOutcome, CallStore, ChatStore, CrmStore, DealWrite, DialogPolicy, EventKind, EventStore,
    LeadPolicy, NewAnswer, NewCall, NewChatMessage, NewInvitation, NewLead, NewProject,
    ProjectStore, Scope, SurveyStore, TicketStore, TicketWrite,
};
use skvoz_store_sqlite::{SqliteOptions, SqliteStore};

fn at(h: u32, m: u32, s: u32, ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, h, m, s)
        .single()
        .expect("valid time")
        + chrono::Duration::milliseconds(ms)
}

fn ticket(
    event: &str,
    kind: TicketEventKind,
    status: Option<(&str, StatusClass)>,
    when: DateTime<Utc>,
) -> TicketWrite {
    TicketWrite {
        provider: "api".into(),
        external_id: "T-9".into(),
        event_id: event.into(),
        kind,
        status: status.map(|(s, _)| s.to_owned()),
        status_class: status.map(|(_, c)| c),
        rating: Some(4),
        at: when,
        created_at: Some(at(9, 0, 0, 0)),
        subject: Some("Возврат \"заказа\"".into()),
        priority: Some("high".into()),
        product: Some("Plan B".into()),
        handling_minutes: Some(12),
        raw: json!({"event": event}),
    }
}

/// An event's `(kind, contact, subject, at in ms, data)` as stored, `data`
/// as the raw stored string.
type StoredRow = (String, Option<i64>, Option<i64>, i64, String);

/// The same, written out in the test.
type ExpectedRow = (&'static str, Option<i64>, Option<i64>, i64, &'static str);

/// Every stored event, oldest first.
fn stored_events(dir: &std::path::Path) -> Vec<StoredRow> {
    let c = rusqlite::Connection::open(dir.join("skvoz.db")).expect("open raw");
    let mut stmt = c
        .prepare("SELECT kind, contact_id, subject_id, at, data FROM events ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("query")
    .collect::<Result<Vec<_>, _>>()
    .expect("rows")
}

#[tokio::test]
async fn every_event_kind_stores_todays_exact_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&SqliteOptions::new(dir.path())).expect("open");
    let project = store
        .create_project(NewProject {
            name: ProjectName::new("pin").expect("name"),
            public_key: "pk_pin".into(),
            api_key_hash: "hash_pin".into(),
            settings: json!({}),
        })
        .await
        .expect("project");
    let scope = Scope::new(project.id);
    let policy = LeadPolicy {
        dedup: true,
        first_stage: "new".into(),
    };

    // lead.created, and deal.stage_changed for the deal it opens.
    let lead = store
        .record_lead(
            scope,
            NewLead {
                kind: LeadKind::Form,
                source_id: Some("form-7".into()),
                created_at: at(10, 15, 30, 250),
                visit_id: Some(42),
                identities: vec![
                    Identity::new(IdentityKind::Email, "anna@example.ru"),
                    Identity::new(IdentityKind::Phone, "+79991234567"),
                ],
                name: Some("Анна".into()),
                payload: json!({"name": "Анна", "comment": "call me", "utm": {"source": "ya", "b": [1, 2.5, null]}}),
            },
            policy.clone(),
        )
        .await
        .expect("lead");
    let contact = lead.contact_id;
    assert_eq!((lead.lead_id, contact, lead.deal_id), (1, 1, Some(1)));

    // The CRM's deal adopts the lead's open deal and wins it.
    store
        .upsert_deal(
            scope,
            DealWrite {
                external_id: "crm-55".into(),
                status: Some(DealStatus::Won),
                stage: Some("won".into()),
                default_stage: "new".into(),
                revenue: Some(Money(150_050)),
                profit: Some(Money(40_000)),
                product: Some("Plan B".into()),
                created_at: None,
                closed_at: Some(at(11, 0, 0, 0)),
                identities: vec![Identity::new(IdentityKind::Email, "anna@example.ru")],
                visit_id: None,
                source_updated_at: None,
                at: at(11, 0, 0, 500),
            },
        )
        .await
        .expect("deal");

    // call.finished.
    store
        .insert_call(
            scope,
            NewCall {
                provider: "zadarma".into(),
                source_id: "call-1".into(),
                caller: Some("+79991234567".into()),
                called: "+74950000000".into(),
                number: Some("+74950000001".into()),
                pool_id: Some("pool-a".into()),
                started_at: at(12, 0, 0, 0),
                duration: 95,
                answered: true,
                is_target: true,
                is_unique: false,
                recording_url: Some("https://rec.example/1.mp3".into()),
                attribution: CallAttribution::Dynamic,
                shared: false,
                visit_id: Some(42),
                contact_id: Some(contact),
                lead_id: Some(lead.lead_id),
            },
        )
        .await
        .expect("call");

    // chat.started.
    store
        .record_chat_message(
            scope,
            NewChatMessage {
                messenger: "whatsapp".into(),
                external_chat: "79991234567".into(),
                message_id: "wamid.1".into(),
                sent_at: at(13, 0, 0, 125),
                kind: "text".into(),
                text: Some("Здравствуйте! #4711".into()),
                name: Some("Анна".into()),
                phone: Some("+79991234567".into()),
                username: None,
                visit_code: Some(4711),
                visit_id: Some(42),
                page: Some("https://shop.example/p?x=1".into()),
                code_edited_away: false,
                tags: vec!["sale".into()],
            },
            DialogPolicy {
                gap: chrono::Duration::hours(24),
                repeat_window: chrono::Duration::days(30),
            },
        )
        .await
        .expect("chat");

    // ticket.closed (created says nothing).
    let created = store
        .record_ticket_event(
            scope,
            ticket("e1", TicketEventKind::Created, None, at(14, 0, 0, 0)),
        )
        .await
        .expect("ticket");
    store
        .link_ticket_lead(scope, created.ticket_id, lead.lead_id, Some(contact))
        .await
        .expect("link");
    store
        .record_ticket_event(
            scope,
            ticket(
                "e2",
                TicketEventKind::Status,
                Some(("solved", StatusClass::Resolved)),
                at(15, 30, 0, 0),
            ),
        )
        .await
        .expect("ticket");

    // survey.answered.
    let invitation = store
        .create_invitation(
            scope,
            NewInvitation {
                token_hash: "h".into(),
                survey_id: "csat-1".into(),
                kind: "csat".into(),
                contact_id: Some(contact),
                ticket_id: Some(created.ticket_id),
                deal_id: Some(1),
                channel: Some("organic search".into()),
                via: "email".into(),
                run_id: None,
                created_at: at(16, 0, 0, 0),
                expires_at: at(23, 0, 0, 0),
            },
        )
        .await
        .expect("invitation");
    let answered = store
        .answer_invitation(
            scope,
            invitation,
            NewAnswer {
                score: 5,
                answers: json!({"score": 5, "solved": "yes", "comment": "спасибо"}),
                at: at(17, 45, 10, 1),
            },
        )
        .await
        .expect("answer");
    assert!(matches!(answered, AnswerOutcome::Recorded { .. }));

    let kinds: Vec<EventKind> = store
        .project_events(scope, 0, 100)
        .await
        .expect("events")
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::LeadCreated,
            EventKind::DealStageChanged,
            EventKind::DealStageChanged,
            EventKind::CallFinished,
            EventKind::ChatStarted,
            EventKind::TicketClosed,
            EventKind::SurveyAnswered,
        ]
    );
    let got = stored_events(dir.path());
    // `(kind, contact, subject, at ms, data as stored)`; keys sorted, as a
    // `serde_json::Value` without `preserve_order` writes them.
    let expected: Vec<ExpectedRow> = vec![
        (
            "lead.created",
            Some(1),
            Some(1),
            1772446530250,
            r#"{"contact_id":1,"created_at":"2026-03-02T10:15:30.250Z","deal_id":1,"duplicate":false,"fields":{"comment":"call me","name":"Анна","utm":{"b":[1,2.5,null],"source":"ya"}},"kind":"form","lead_id":1,"name":"Анна","source_id":"form-7","visit_id":42}"#,
        ),
        (
            "deal.stage_changed",
            Some(1),
            Some(1),
            1772446530250,
            r#"{"at":"2026-03-02T10:15:30.250Z","contact_id":1,"deal_id":1,"external_id":null,"is_repeat":false,"lead_id":1,"product":null,"profit":null,"revenue":0.0,"stage":"new","status":"open","visit_id":42}"#,
        ),
        (
            "deal.stage_changed",
            Some(1),
            Some(1),
            1772449200000,
            r#"{"at":"2026-03-02T11:00:00Z","contact_id":1,"deal_id":1,"external_id":"crm-55","is_repeat":false,"lead_id":1,"product":"Plan B","profit":400.0,"revenue":1500.5,"stage":"won","status":"won","visit_id":42}"#,
        ),
        (
            "call.finished",
            Some(1),
            Some(1),
            1772452895000,
            r#"{"answered":true,"call_id":1,"called":"+74950000000","caller":"+79991234567","contact_id":1,"duration":95,"is_target":true,"is_unique":false,"lead_id":1,"number":"+74950000001","provider":"zadarma","recording_url":"https://rec.example/1.mp3","source_id":"call-1","started_at":"2026-03-02T12:00:00Z","visit_id":42}"#,
        ),
        (
            "chat.started",
            None,
            Some(1),
            1772456400125,
            r#"{"contact_id":null,"dialog_id":1,"is_new":true,"lead_id":null,"messenger":"whatsapp","page":"https://shop.example/p?x=1","started_at":"2026-03-02T13:00:00.125Z","visit_code":4711,"visit_id":42}"#,
        ),
        (
            "ticket.closed",
            Some(1),
            Some(1),
            1772465400000,
            r#"{"closed_at":"2026-03-02T15:30:00Z","contact_id":1,"created_at":"2026-03-02T09:00:00Z","external_id":"T-9","lead_id":1,"product":"Plan B","provider":"api","rating":4,"status":"solved","subject":"Возврат \"заказа\"","ticket_id":1}"#,
        ),
        (
            "survey.answered",
            Some(1),
            Some(1),
            1772473510001,
            r#"{"answer_id":1,"answered_at":"2026-03-02T17:45:10.001Z","answers":{"comment":"спасибо","score":5,"solved":"yes"},"channel":"organic search","contact_id":1,"deal_id":1,"invitation_id":1,"kind":"csat","score":5,"survey":"csat-1","ticket_id":1}"#,
        ),
    ];
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!((g.0.as_str(), g.1, g.2, g.3, g.4.as_str()), *e);
    }
}
