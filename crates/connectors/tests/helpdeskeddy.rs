//! HelpDeskEddy: the recommended webhook bodies (fixtures) and the REST
//! client against a local fake API with Basic auth and pagination.

#![allow(clippy::unwrap_used)]

use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::{TimeZone, Utc};
use serde_json::Value;
use skvoz_connectors::helpdesk::helpdeskeddy::{
    parse_webhook, rest_ticket_events, HelpDeskEddyClient, HelpDeskEddyError,
};
use skvoz_domain::support::TicketEventKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CREATED: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/webhook_created.json");
const STATUS: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/webhook_status.json");
const RATING: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/webhook_rating.json");
const REPLY: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/webhook_reply.json");
const BAD_RATING: &str =
    include_str!("../src/helpdesk/fixtures/helpdeskeddy/webhook_bad_rating.json");
const PAGE1: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/tickets_page1.json");
const PAGE2: &str = include_str!("../src/helpdesk/fixtures/helpdeskeddy/tickets_page2.json");

const MSK: chrono_tz::Tz = chrono_tz::Europe::Moscow;

#[test]
fn parses_the_recommended_webhook_bodies() {
    let created = parse_webhook(CREATED.as_bytes(), MSK).unwrap();
    assert_eq!(created.kind, Some(TicketEventKind::Created));
    assert_eq!(created.ticket_id, "4521");
    assert_eq!(created.event_id.as_deref(), Some("4521-created"));
    assert_eq!(created.email.as_deref(), Some("Ivan.Petrov@Example.RU"));
    assert_eq!(created.phone.as_deref(), Some("+7 (999) 123-45-67"));
    assert_eq!(created.subject.as_deref(), Some("Не включается телевизор"));
    assert_eq!(created.priority.as_deref(), Some("high"));
    assert_eq!(created.rating, None, "an empty rating is no rating");
    // 10:15 Moscow time is 07:15 UTC.
    assert_eq!(
        created.at,
        Utc.with_ymd_and_hms(2026, 3, 2, 7, 15, 0).single()
    );
    assert_eq!(created.created_at, created.at);

    let status = parse_webhook(STATUS.as_bytes(), MSK).unwrap();
    assert_eq!(status.kind, Some(TicketEventKind::Status));
    assert_eq!(status.ticket_id, "4521", "a numeric id is read as text");
    assert_eq!(status.status.as_deref(), Some("closed"));
    assert_eq!(status.phone, None, "an unrendered template tag is missing");
    assert_eq!(status.event_id, None);
    assert!(status.idempotency_key().starts_with("4521:status:closed"));

    let rating = parse_webhook(RATING.as_bytes(), MSK).unwrap();
    assert_eq!(rating.kind, Some(TicketEventKind::Rating));
    assert_eq!(rating.rating, Some(4));
    assert_eq!(
        rating.at,
        Utc.with_ymd_and_hms(2026, 3, 3, 6, 0, 0).single()
    );

    let reply = parse_webhook(REPLY.as_bytes(), MSK).unwrap();
    assert_eq!(reply.kind, Some(TicketEventKind::Reply));
}

#[test]
fn rejects_bad_bodies_naming_the_field() {
    let cases: [(&[u8], &str); 6] = [
        (BAD_RATING.as_bytes(), "rating"),
        (br#"{"event": "created"}"#, "ticket_id"),
        (br#"{"ticket_id": "1"}"#, "event"),
        (br#"{"ticket_id": "1", "event": "exploded"}"#, "event"),
        (br#"{"ticket_id": "1", "event": "status"}"#, "status"),
        (
            br#"{"ticket_id": "1", "event": "created", "date": "yesterday"}"#,
            "date",
        ),
    ];
    for (body, field) in cases {
        let err = parse_webhook(body, MSK).unwrap_err();
        assert!(err.to_string().contains(field), "{err} should name {field}");
    }
    assert!(matches!(
        parse_webhook(b"not json", MSK),
        Err(HelpDeskEddyError::NotJson(_))
    ));
    assert!(matches!(
        parse_webhook(b"[1,2]", MSK),
        Err(HelpDeskEddyError::NotJson(_))
    ));
}

#[test]
fn a_rest_ticket_becomes_created_status_and_rating_events() {
    let page: Value = serde_json::from_str(PAGE2).unwrap();
    let events = rest_ticket_events(&page["data"][0], MSK).unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.unwrap()).collect();
    assert_eq!(
        kinds,
        [
            TicketEventKind::Created,
            TicketEventKind::Status,
            TicketEventKind::Rating
        ]
    );
    assert_eq!(events[0].event_id.as_deref(), Some("rest:103:created"));
    assert_eq!(events[1].status.as_deref(), Some("solved"));
    assert_eq!(events[2].rating, Some(5));
    assert_eq!(events[0].subject.as_deref(), Some("Спасибо"));
    // The same ticket read again gives the same ids.
    let again = rest_ticket_events(&page["data"][0], MSK).unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| e.idempotency_key())
            .collect::<Vec<_>>(),
        again
            .iter()
            .map(|e| e.idempotency_key())
            .collect::<Vec<_>>()
    );
}

type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn fake_api(seen: Seen) -> String {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("api@shop.ru:key-123")
    );
    let app = Router::new().route(
        "/api/v2/tickets/",
        get(
            move |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| {
                let seen = seen.clone();
                let expected = expected.clone();
                async move {
                    if headers
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        != Some(expected.as_str())
                    {
                        return (StatusCode::UNAUTHORIZED, "{\"error\":\"auth\"}").into_response();
                    }
                    seen.lock().unwrap().push(q.clone());
                    let body = match q.get("page").map(String::as_str) {
                        Some("1") => PAGE1,
                        Some("2") => PAGE2,
                        _ => "{\"data\": [], \"pagination\": {\"total\": 3, \"total_pages\": 2}}",
                    };
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/v2")
}

#[tokio::test]
async fn pages_through_the_rest_api_with_basic_auth() {
    let seen: Seen = Arc::default();
    let base = fake_api(seen.clone()).await;
    let client =
        HelpDeskEddyClient::new(&base, "api@shop.ru", "key-123", MSK, Duration::from_secs(5))
            .unwrap();
    let since = Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).single().unwrap();
    let first = client.tickets_page(since, 1).await.unwrap();
    assert_eq!(first.total_pages, 2);
    assert_eq!(first.total, 3);
    assert_eq!(first.tickets.len(), 2, "an object keyed by id is a list");
    let second = client.tickets_page(since, 2).await.unwrap();
    assert_eq!(second.tickets.len(), 1);
    let q = seen.lock().unwrap().clone();
    assert_eq!(
        q[0]["from_date_updated"], "2026-03-01 09:00:00",
        "local time"
    );
    assert_eq!(q[1]["page"], "2");

    let wrong = HelpDeskEddyClient::new(&base, "api@shop.ru", "wrong", MSK, Duration::from_secs(5))
        .unwrap();
    assert!(matches!(
        wrong.tickets_page(since, 1).await,
        Err(HelpDeskEddyError::Status { status: 401 })
    ));
    assert!(
        format!("{wrong:?}").contains("HelpDeskEddyClient")
            && !format!("{wrong:?}").contains("wrong")
    );
}
