//! The outbox API: messages with their attempts, errors and skip reasons
//! (`GET /api/v1/outbox`), retrying dead letters, and the event log
//! (`GET /api/v1/events`).

use crate::error::ApiResult;
use crate::extract::{ApiProject, ApiQuery};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use skvoz_store::OutboxFilter;

/// Filters of the outbox listing.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    status: Option<String>,
    kind: Option<String>,
    before: Option<i64>,
    limit: Option<usize>,
}

/// The project's outbox messages, newest first, and its counts by status.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", security(("api_key" = [])),
    params(("status" = Option<String>, Query, description = "pending, delivered, dead or skipped"),
        ("kind" = Option<String>, Query, description = "webhook, ga4, metrika, metrika_calls, esputnik, smtp, …"),
        ("before" = Option<i64>, Query, description = "only ids below this (paging)"),
        ("limit" = Option<usize>, Query, description = "default 100, at most 1000")),
    responses((status = 200, description = "{messages: [{id, destination_kind, destination, idempotency_key, payload, event_id, status, attempts, next_attempt_at, last_error, skip_reason, created_at, delivered_at}], counts: {status: n}}"), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> ApiResult<Json<Value>> {
    let scope = project.scope();
    let filter = OutboxFilter {
        status: q.status,
        kind: q.kind,
        before: q.before,
        limit: q.limit.unwrap_or(100),
    };
    let messages = state.app.outbox.list(scope, filter).await?;
    let counts: serde_json::Map<String, Value> = state
        .app
        .outbox
        .counts(scope)
        .await?
        .into_iter()
        .map(|(s, n)| (s, json!(n)))
        .collect();
    Ok(Json(json!({"messages": messages, "counts": counts})))
}

/// Puts one dead message back in the queue, due now, with a fresh attempt
/// count.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "outbox", security(("api_key" = [])),
    params(("id" = i64, Path, description = "the message id")),
    responses((status = 200, description = "{retried: 1}"), (status = 404, description = "no dead message with this id in the project")))]
pub async fn retry_one(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    state.app.outbox.retry(project.scope(), id).await?;
    Ok(Json(json!({"retried": 1})))
}

/// Puts every dead message of the project back in the queue.
#[utoipa::path(post, path = "/api/v1/outbox/retry", tag = "outbox", security(("api_key" = [])),
    responses((status = 200, description = "{retried: n}")))]
pub async fn retry_dead(
    State(state): State<AppState>,
    project: ApiProject,
) -> ApiResult<Json<Value>> {
    let n = state.app.outbox.retry_dead(project.scope()).await?;
    Ok(Json(json!({"retried": n})))
}

/// Paging of the event log.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    after: Option<i64>,
    limit: Option<usize>,
}

/// The project's event log, oldest first after `after`.
#[utoipa::path(get, path = "/api/v1/events", tag = "outbox", security(("api_key" = [])),
    params(("after" = Option<i64>, Query, description = "an event id (default 0)"),
        ("limit" = Option<usize>, Query, description = "default 100, at most 1000")),
    responses((status = 200, description = "{events: [{id, kind, contact_id, subject_id, at, recorded_at, data}], next_after}")))]
pub async fn events(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<Value>> {
    let after = q.after.unwrap_or(0);
    let events = state
        .app
        .outbox
        .events(project.scope(), after, q.limit.unwrap_or(100))
        .await?;
    let next = events.last().map(|e| e.id).unwrap_or(after);
    Ok(Json(json!({"events": events, "next_after": next})))
}
