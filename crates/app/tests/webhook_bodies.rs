//! Pins the whole body an outgoing webhook POSTs for `lead.created` and
//! `deal.stage_changed`: the envelope routing builds around the event's
//! `data`, written as the deliverer writes it (`payload.to_string()`). The
//! `data` here is the exact JSON the SQLite store keeps for these events
//! (pinned itself in `skvoz-store-sqlite`'s `tests/event_payloads.rs`).

use chrono::{TimeZone, Utc};
use serde_json::json;
use skvoz_app::outbox::routing::route;
use skvoz_domain::{ProjectId, ProjectSettings};
use skvoz_store::{ContactKeys, EventKind, StoredEvent};

fn subscribed_to_everything() -> ProjectSettings {
    ProjectSettings::from_json(json!({
        "webhooks": [
            {"id": "crm", "url": "https://h.example/x", "secret": "0123456789abcdef", "events": ["*"]}
        ]
    }))
    .expect("valid settings")
}

/// The one webhook body routing makes for an event stored with `data`.
fn webhook_body(id: i64, kind: EventKind, at_ms: i64, data: &str) -> String {
    let at = Utc
        .timestamp_millis_opt(at_ms)
        .single()
        .expect("valid time");
    let event = StoredEvent {
        id,
        project: ProjectId(3),
        kind,
        contact_id: Some(1),
        subject_id: Some(1),
        at,
        recorded_at: at,
        data: serde_json::from_str(data).expect("stored data is JSON"),
    };
    let messages = route(&event, &subscribed_to_everything(), &ContactKeys::default());
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].destination_kind, "webhook");
    assert_eq!(messages[0].idempotency_key, format!("ev{id}:webhook:crm"));
    messages[0].payload.to_string()
}

#[test]
fn lead_created_webhook_body_is_pinned() {
    let body = webhook_body(
        11,
        EventKind::LeadCreated,
        1772446530250,
        r#"{"contact_id":1,"created_at":"2026-03-02T10:15:30.250Z","deal_id":1,"duplicate":false,"fields":{"comment":"call me","name":"Анна","utm":{"b":[1,2.5,null],"source":"ya"}},"kind":"form","lead_id":1,"name":"Анна","source_id":"form-7","visit_id":42}"#,
    );
    assert_eq!(
        body,
        r#"{"created_at":"2026-03-02T10:15:30.250Z","data":{"contact_id":1,"created_at":"2026-03-02T10:15:30.250Z","deal_id":1,"duplicate":false,"fields":{"comment":"call me","name":"Анна","utm":{"b":[1,2.5,null],"source":"ya"}},"kind":"form","lead_id":1,"name":"Анна","source_id":"form-7","visit_id":42},"id":"evt_11","project_id":3,"type":"lead.created"}"#
    );
}

#[test]
fn deal_stage_changed_webhook_bodies_are_pinned() {
    let opened = webhook_body(
        12,
        EventKind::DealStageChanged,
        1772446530250,
        r#"{"at":"2026-03-02T10:15:30.250Z","contact_id":1,"deal_id":1,"external_id":null,"is_repeat":false,"lead_id":1,"product":null,"profit":null,"revenue":0.0,"stage":"new","status":"open","visit_id":42}"#,
    );
    assert_eq!(
        opened,
        r#"{"created_at":"2026-03-02T10:15:30.250Z","data":{"at":"2026-03-02T10:15:30.250Z","contact_id":1,"deal_id":1,"external_id":null,"is_repeat":false,"lead_id":1,"product":null,"profit":null,"revenue":0.0,"stage":"new","status":"open","visit_id":42},"id":"evt_12","project_id":3,"type":"deal.stage_changed"}"#
    );
    let won = webhook_body(
        13,
        EventKind::DealStageChanged,
        1772449200000,
        r#"{"at":"2026-03-02T11:00:00Z","contact_id":1,"deal_id":1,"external_id":"crm-55","is_repeat":false,"lead_id":1,"product":"Plan B","profit":400.0,"revenue":1500.5,"stage":"won","status":"won","visit_id":42}"#,
    );
    assert_eq!(
        won,
        r#"{"created_at":"2026-03-02T11:00:00Z","data":{"at":"2026-03-02T11:00:00Z","contact_id":1,"deal_id":1,"external_id":"crm-55","is_repeat":false,"lead_id":1,"product":"Plan B","profit":400.0,"revenue":1500.5,"stage":"won","status":"won","visit_id":42},"id":"evt_13","project_id":3,"type":"deal.stage_changed"}"#
    );
}
