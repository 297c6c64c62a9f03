//! Bitrix24 events and `crm.deal.get` against fixtures and a local fake
//! portal.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use skvoz_connectors::crm::bitrix24::{
    deal_to_update, parse_event, token_matches, Bitrix24Client, Bitrix24Error, Bitrix24EventKind,
    Bitrix24Mapping,
};
use skvoz_domain::crm::DealStatus;
use skvoz_domain::Money;

const EVENT_ADD: &str = include_str!("../src/crm/fixtures/bitrix24/event_add.txt");
const EVENT_UPDATE: &str = include_str!("../src/crm/fixtures/bitrix24/event_update.txt");
const EVENT_DELETE: &str = include_str!("../src/crm/fixtures/bitrix24/event_delete.txt");
const EVENT_MISSING_ID: &str = include_str!("../src/crm/fixtures/bitrix24/event_missing_id.txt");
const DEAL_WON: &str = include_str!("../src/crm/fixtures/bitrix24/deal_won.json");
const DEAL_OPEN_PIPELINE: &str =
    include_str!("../src/crm/fixtures/bitrix24/deal_open_pipeline.json");
const DEAL_LOST_CUSTOM_STAGE: &str =
    include_str!("../src/crm/fixtures/bitrix24/deal_lost_custom_stage.json");
const ERROR_NOT_FOUND: &str = include_str!("../src/crm/fixtures/bitrix24/error_not_found.json");
const ERROR_INVALID_CREDENTIALS: &str =
    include_str!("../src/crm/fixtures/bitrix24/error_invalid_credentials.json");

/// Longer than any client timeout used here.
const SLOW: Duration = Duration::from_secs(5);

fn at(rfc3339: &str) -> Option<DateTime<Utc>> {
    Some(
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc),
    )
}

fn result_of(fixture: &str) -> Value {
    serde_json::from_str::<Value>(fixture).unwrap()["result"].clone()
}

// ---- events ---------------------------------------------------------------

#[test]
fn parses_add_update_and_delete_events() {
    let add = parse_event(EVENT_ADD.as_bytes()).unwrap();
    assert_eq!(add.kind(), Bitrix24EventKind::Add);
    assert_eq!(add.deal_id, "46");

    let update = parse_event(EVENT_UPDATE.as_bytes()).unwrap();
    assert_eq!(update.event, "ONCRMDEALUPDATE");
    assert_eq!(update.kind(), Bitrix24EventKind::Update);
    assert_eq!(update.deal_id, "45");
    assert_eq!(update.domain.as_deref(), Some("shop.bitrix24.ru"));
    assert_eq!(update.application_token.as_deref(), Some("abc123"));
    assert_eq!(update.ts, Some(1705741800));

    let delete = parse_event(EVENT_DELETE.as_bytes()).unwrap();
    assert_eq!(delete.kind(), Bitrix24EventKind::Delete);
    assert_eq!(delete.deal_id, "47");
}

#[test]
fn an_event_without_deal_id_is_an_error() {
    let err = parse_event(EVENT_MISSING_ID.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            Bitrix24Error::MissingField {
                field: "data[FIELDS][ID]"
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("data[FIELDS][ID]"), "{err}");
    assert!(matches!(
        parse_event(b"data[FIELDS][ID]=45"),
        Err(Bitrix24Error::MissingField { field: "event" })
    ));
}

#[test]
fn unencoded_keys_json_bodies_and_other_events_are_tolerated() {
    let event = parse_event(
        b"event=onCrmDealUpdate&data[FIELDS][ID]=45&ts=junk&auth[application_token]=abc123",
    )
    .unwrap();
    assert_eq!(event.kind(), Bitrix24EventKind::Update);
    assert_eq!(event.ts, None);
    assert_eq!(event.domain, None);

    let json = br#"{"event":"ONCRMDEALADD","data":{"FIELDS":{"ID":46}},"ts":"1705302000",
        "auth":{"domain":"shop.bitrix24.ru","application_token":"abc123"}}"#;
    let event = parse_event(json).unwrap();
    assert_eq!(event.deal_id, "46");
    assert_eq!(event.ts, Some(1705302000));

    let lead = parse_event(b"event=ONCRMLEADADD&data[FIELDS][ID]=3").unwrap();
    assert_eq!(lead.kind(), Bitrix24EventKind::Other);
}

#[test]
fn bodies_that_are_not_events_are_rejected() {
    assert!(matches!(parse_event(b""), Err(Bitrix24Error::NotAnEvent)));
    assert!(matches!(
        parse_event(b"hello"),
        Err(Bitrix24Error::NotAnEvent)
    ));
    assert!(matches!(
        parse_event(b"{not json"),
        Err(Bitrix24Error::NotAnEvent)
    ));
    assert!(matches!(
        parse_event(b"event=\xff"),
        Err(Bitrix24Error::NotUtf8)
    ));
}

#[test]
fn token_check_accepts_the_configured_token_only() {
    let event = parse_event(EVENT_UPDATE.as_bytes()).unwrap();
    assert!(token_matches(&event, "abc123"));
    assert!(!token_matches(&event, "abc124"));
    assert!(!token_matches(&event, ""));
    let without = parse_event(b"event=ONCRMDEALUPDATE&data[FIELDS][ID]=45").unwrap();
    assert!(!token_matches(&without, "abc123"));
}

#[test]
fn debug_output_hides_the_application_token() {
    let event = parse_event(EVENT_UPDATE.as_bytes()).unwrap();
    let shown = format!("{event:?}");
    assert!(!shown.contains("abc123"), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
}

// ---- deal mapping ---------------------------------------------------------

#[test]
fn a_won_deal_maps_every_field() {
    let update = deal_to_update(&result_of(DEAL_WON), &Bitrix24Mapping::default()).unwrap();
    assert_eq!(update.external_id, "bitrix24:45");
    assert_eq!(update.status, Some(DealStatus::Won));
    assert_eq!(update.stage, None);
    assert_eq!(update.revenue, Some(Money(1_500_000)));
    assert_eq!(update.created_at, at("2024-01-15T07:00:00Z"));
    assert_eq!(update.closed_at, at("2024-01-20T00:00:00Z"));
    assert_eq!(update.visit_code, Some(12345));
    assert_eq!(update.crm_client_id.as_deref(), Some("bitrix24:12"));
    assert_eq!(
        update.product.as_deref(),
        Some("Диван угловой — заказ #1042")
    );
}

#[test]
fn an_open_deal_in_another_pipeline_ignores_the_planned_close_date() {
    let mapping = Bitrix24Mapping {
        stages: BTreeMap::from([("PREPARATION".to_owned(), "Qualified".to_owned())]),
        visit_code_field: Some("UF_CRM_1705302000123".to_owned()),
        ..Bitrix24Mapping::default()
    };
    let update = deal_to_update(&result_of(DEAL_OPEN_PIPELINE), &mapping).unwrap();
    assert_eq!(update.external_id, "bitrix24:46");
    assert_eq!(update.status, Some(DealStatus::Open));
    assert_eq!(update.stage.as_deref(), Some("Qualified"));
    assert_eq!(update.revenue, Some(Money(250_050)));
    assert_eq!(update.closed_at, None);
    assert_eq!(update.visit_code, Some(777));
    assert_eq!(update.crm_client_id, None);

    // Without the configured field only the common names are tried, and
    // UF_CRM_ROISTAT is empty here.
    let default = deal_to_update(&result_of(DEAL_OPEN_PIPELINE), &Bitrix24Mapping::default());
    assert_eq!(default.unwrap().visit_code, None);
}

#[test]
fn a_custom_failure_stage_is_lost_by_its_semantics() {
    let update = deal_to_update(
        &result_of(DEAL_LOST_CUSTOM_STAGE),
        &Bitrix24Mapping::default(),
    )
    .unwrap();
    assert_eq!(update.status, Some(DealStatus::Lost));
    assert_eq!(update.closed_at, at("2024-01-18T00:00:00Z"));
    assert_eq!(update.revenue, Some(Money(0)));
    assert_eq!(update.crm_client_id, None, "CONTACT_ID 0 is no contact");
    assert_eq!(
        update.visit_code,
        Some(555),
        "first usable value of a multiple field"
    );
}

#[test]
fn pipeline_prefixes_and_full_stage_ids_both_map() {
    let mapping = Bitrix24Mapping {
        stages: BTreeMap::from([
            ("C1:WON".to_owned(), "Paid (wholesale)".to_owned()),
            ("WON".to_owned(), "Paid".to_owned()),
        ]),
        ..Bitrix24Mapping::default()
    };
    let deal =
        json!({"ID": 50, "STAGE_ID": "C1:WON", "OPPORTUNITY": 1200.5, "UF_CRM_VISIT_CODE": 99});
    let update = deal_to_update(&deal, &mapping).unwrap();
    assert_eq!(update.external_id, "bitrix24:50");
    assert_eq!(update.status, Some(DealStatus::Won));
    assert_eq!(update.stage.as_deref(), Some("Paid (wholesale)"));
    assert_eq!(update.revenue, Some(Money(120_050)));
    assert_eq!(update.visit_code, Some(99));

    let deal = json!({"ID": "51", "STAGE_ID": "C2:WON"});
    let update = deal_to_update(&deal, &mapping).unwrap();
    assert_eq!(update.stage.as_deref(), Some("Paid"));
}

#[test]
fn a_deal_without_id_is_an_error() {
    let err = deal_to_update(&json!({"TITLE": "x"}), &Bitrix24Mapping::default()).unwrap_err();
    assert!(matches!(
        err,
        Bitrix24Error::MissingDealField { field: "ID" }
    ));
    assert!(deal_to_update(&json!("45"), &Bitrix24Mapping::default()).is_err());
}

// ---- client against a fake portal -------------------------------------------

fn json_response(status: StatusCode, body: &'static str) -> axum::response::Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn deal_get(Query(query): Query<HashMap<String, String>>) -> axum::response::Response {
    match query.get("id").map(String::as_str) {
        Some("45") => json_response(StatusCode::OK, DEAL_WON),
        Some("46") => json_response(StatusCode::OK, DEAL_OPEN_PIPELINE),
        Some("slow") => {
            tokio::time::sleep(SLOW).await;
            json_response(StatusCode::OK, DEAL_WON)
        }
        Some("null-result") => json_response(StatusCode::OK, r#"{"result": null}"#),
        Some(_) => json_response(StatusCode::BAD_REQUEST, ERROR_NOT_FOUND),
        None => json_response(
            StatusCode::BAD_REQUEST,
            r#"{"error":"INVALID_ARG_VALUE","error_description":"ID is not defined or invalid."}"#,
        ),
    }
}

/// Starts a fake portal on 127.0.0.1 and returns its base URL.
async fn fake_portal() -> String {
    let app = Router::new()
        .route(
            "/rest/1/secret/crm.deal.get.json",
            get(deal_get).post(deal_get),
        )
        .route(
            "/rest/1/wrong/crm.deal.get.json",
            get(|| async { json_response(StatusCode::UNAUTHORIZED, ERROR_INVALID_CREDENTIALS) }),
        )
        .route(
            "/rest/1/proxy/crm.deal.get.json",
            get(|| async { (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn client(base: &str, path: &str) -> Bitrix24Client {
    Bitrix24Client::new(&format!("{base}{path}"), Bitrix24Client::DEFAULT_TIMEOUT).unwrap()
}

#[tokio::test]
async fn reads_a_deal_and_maps_it() {
    let base = fake_portal().await;
    let portal = client(&base, "/rest/1/secret/");
    let deal = portal.deal_get("45").await.unwrap();
    assert_eq!(deal["ID"], "45");
    let update = deal_to_update(&deal, &Bitrix24Mapping::default()).unwrap();
    assert_eq!(update.status, Some(DealStatus::Won));

    // A base URL without its final slash still reaches crm.deal.get.
    let portal = client(&base, "/rest/1/secret");
    assert_eq!(portal.deal_get("46").await.unwrap()["ID"], "46");
}

#[tokio::test]
async fn error_answers_become_api_errors() {
    let base = fake_portal().await;
    let err = client(&base, "/rest/1/secret/")
        .deal_get("999")
        .await
        .unwrap_err();
    match &err {
        Bitrix24Error::Api {
            status,
            error,
            description,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(error, "");
            assert_eq!(description, "Not found");
        }
        other => panic!("expected an API error, got {other:?}"),
    }

    let err = client(&base, "/rest/1/wrong/")
        .deal_get("45")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Bitrix24Error::Api { status: 401, error, .. } if error == "INVALID_CREDENTIALS"),
        "{err:?}"
    );
}

#[tokio::test]
async fn answers_that_are_not_deals_are_bad_responses() {
    let base = fake_portal().await;
    let err = client(&base, "/rest/1/proxy/")
        .deal_get("45")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Bitrix24Error::BadResponse { status: 502, .. }),
        "{err:?}"
    );
    let err = client(&base, "/rest/1/secret/")
        .deal_get("null-result")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Bitrix24Error::BadResponse { status: 200, .. }),
        "{err:?}"
    );
    let err = client(&base, "/rest/1/secret/")
        .deal_get(" ")
        .await
        .unwrap_err();
    assert!(matches!(err, Bitrix24Error::MissingField { field: "id" }));
}

#[tokio::test]
async fn a_slow_portal_times_out_within_the_webhook_budget() {
    let base = fake_portal().await;
    let portal = client(&base, "/rest/1/secret/");
    let started = Instant::now();
    let err = portal.deal_get("slow").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, Bitrix24Error::Timeout), "{err:?}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    assert!(
        elapsed >= Bitrix24Client::DEFAULT_TIMEOUT,
        "took {elapsed:?}"
    );
}

#[tokio::test]
async fn transport_errors_do_not_leak_the_webhook_secret() {
    // A port that was free a moment ago: the connection is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let portal = Bitrix24Client::new(
        &format!("http://{addr}/rest/1/secret/"),
        Duration::from_millis(500),
    )
    .unwrap();
    let err = portal.deal_get("45").await.unwrap_err();
    assert!(matches!(err, Bitrix24Error::Http(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret"), "{err:?}");
    assert!(!format!("{portal:?}").contains("secret"), "{portal:?}");
}

#[test]
fn portal_urls_must_be_http() {
    for bad in [
        "not a url",
        "ftp://shop.bitrix24.ru/rest/1/x/",
        "https://shop.bitrix24.ru/rest/1/x/?a=1",
    ] {
        assert!(
            matches!(
                Bitrix24Client::new(bad, Bitrix24Client::DEFAULT_TIMEOUT),
                Err(Bitrix24Error::InvalidPortalUrl { .. })
            ),
            "{bad}"
        );
    }
}
