//! Tickets (`POST /api/v1/tickets`, HelpDeskEddy polling; its webhook is in
//! [`hooks`](super::hooks)),
//! the contact card (`GET /api/v1/contacts/lookup`, `/widget/contact`), the
//! contact timeline, and minting signed card URLs.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use skvoz_app::tickets::card::{ContactCard, LookupKey};
use skvoz_app::tickets::{widget, PollReport, Strict, TicketInput, TicketOutcome, API_PROVIDER};
use skvoz_domain::support::{service_cost, time_to_first_response, time_to_resolution};
use std::collections::HashMap;

/// A ticket event in the generic shape: the first event that names the
/// client (e-mail, phone) makes a lead of kind `ticket` for the contact —
/// no deal is opened; the same `event_id` (or the same event) sent again
/// changes nothing.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", security(("api_key" = [])),
    request_body(content = Object, description = "id, event (created|status|rating|reply), status?, rating? (1-5), email?, phone?, at (RFC 3339); optional event_id, name, subject, priority, product, vid, visit_code, handling_minutes, created_at"),
    responses((status = 200, description = "ticket_id, created, duplicate, lead_id, contact_id"), (status = 422, description = "a bad field, named")))]
pub async fn create_ticket_event(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(input): ApiJson<TicketInput>,
) -> ApiResult<Json<TicketOutcome>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let event = input.into_event()?;
    Ok(Json(
        state
            .app
            .tickets
            .record(&ctx, API_PROVIDER, event, Strict::Reject)
            .await?,
    ))
}

/// A ticket with its events, SLA times (minutes) and service cost.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", security(("api_key" = [])),
    params(("id" = i64, Path, description = "the ticket's skvoz id")),
    responses((status = 200, description = "the ticket"), (status = 404)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let (ticket, events) = state
        .app
        .tickets
        .with_events(ctx.scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id} not found")))?;
    let facts = ticket.facts();
    Ok(Json(serde_json::json!({
        "ticket": ticket,
        "events": events,
        "time_to_first_response_minutes": time_to_first_response(&facts),
        "time_to_resolution_minutes": time_to_resolution(&facts),
        "service_cost": service_cost(&facts, &ctx.settings.service).to_decimal(),
    })))
}

/// `from` of a poll run.
#[derive(Deserialize)]
pub struct PollQuery {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
}

/// Polls HelpDeskEddy now: tickets updated since `from` (RFC 3339; default
/// the stored cursor) — a fallback for lost webhooks and the way to backfill.
#[utoipa::path(post, path = "/api/v1/tickets/helpdeskeddy/poll", tag = "tickets", security(("api_key" = [])),
    params(("from" = Option<String>, Query, description = "RFC 3339; default: the stored cursor")),
    responses((status = 200, description = "pages, tickets, applied, duplicates, rejected, cursor"), (status = 503, description = "HelpDeskEddy did not answer")))]
pub async fn helpdeskeddy_poll(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<PollQuery>,
) -> ApiResult<Json<PollReport>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    Ok(Json(
        state.app.tickets.poll_helpdeskeddy(&ctx, q.from).await?,
    ))
}

fn lookup_key(q: &HashMap<String, String>) -> Result<LookupKey, ApiError> {
    Ok(LookupKey::from_query(
        q.get("phone").map(String::as_str),
        q.get("email").map(String::as_str),
        q.get("visit_code").map(String::as_str),
    )?)
}

/// The contact's marketing card by `phone`, `email` or `visit_code`
/// (exactly one): source and channel of the first visit, first and last
/// visit, visits, leads by kind, deals, LTV, open deals, tickets, priority.
#[utoipa::path(get, path = "/api/v1/contacts/lookup", tag = "contacts", security(("api_key" = [])),
    params(("phone" = Option<String>, Query), ("email" = Option<String>, Query), ("visit_code" = Option<i64>, Query)),
    responses((status = 200, description = "the card"), (status = 404, description = "nobody matches"), (status = 422)))]
pub async fn lookup(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ContactCard>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let key = lookup_key(&q)?;
    Ok(Json(state.app.cards.lookup(&ctx, &key).await?))
}

/// The contact's history in time order: visits (source, medium, campaign,
/// channel), leads of every kind, calls (with the recording link), messenger
/// dialogs, deals' stage changes, tickets (created, resolved/closed).
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", tag = "contacts", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contact id")),
    responses((status = 200, description = "{contact_id, entries: [{at, kind, title, data}]}"), (status = 404)))]
pub async fn timeline(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let (contact_id, entries) = state.app.cards.timeline(&ctx, id).await?;
    Ok(Json(
        serde_json::json!({"contact_id": contact_id, "entries": entries}),
    ))
}

/// A signed, expiring `/widget/contact` URL for `phone`, `email` or
/// `visit_code` (path and query; prepend skvoz's public origin).
#[utoipa::path(get, path = "/api/v1/widget/url", tag = "contacts", security(("api_key" = [])),
    params(("phone" = Option<String>, Query), ("email" = Option<String>, Query), ("visit_code" = Option<i64>, Query)),
    responses((status = 200, description = "{url, expires_at}"), (status = 409, description = "no widget_secret configured")))]
pub async fn widget_url(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let key = lookup_key(&q)?;
    let (url, exp) = widget::signed_path(&ctx, &key, Utc::now())?;
    Ok(Json(serde_json::json!({
        "url": url,
        "expires_at": DateTime::<Utc>::from_timestamp(exp, 0),
    })))
}

/// The operator card as a compact HTML page for a help desk iframe. No
/// login: the URL is signed with the project's `widget_secret` and expires
/// (`key`, one of `email`/`phone`/`visit_code`, `exp`, `sig`; optional
/// `lang=ru|en`). Forged or expired → 403.
#[utoipa::path(get, path = "/widget/contact", tag = "contacts",
    params(("key" = String, Query, description = "the project's public key"), ("email" = Option<String>, Query), ("phone" = Option<String>, Query),
        ("visit_code" = Option<i64>, Query), ("exp" = i64, Query, description = "expiry, Unix seconds"), ("sig" = String, Query, description = "hex HMAC-SHA256"),
        ("lang" = Option<String>, Query, description = "ru (default) or en")),
    responses((status = 200, description = "text/html card"), (status = 403, description = "forged or expired link")))]
pub async fn widget_contact(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let forbidden = || ApiError::from(skvoz_app::AppError::Forbidden("bad or expired link".into()));
    let public_key = q.get("key").ok_or_else(forbidden)?;
    if public_key.len() > 100 {
        return Err(forbidden());
    }
    let ctx = state
        .app
        .contexts
        .by_public_key(public_key)
        .await?
        .ok_or_else(forbidden)?;
    let key = lookup_key(&q)?;
    let exp: i64 = q
        .get("exp")
        .and_then(|e| e.parse().ok())
        .ok_or_else(forbidden)?;
    let sig = q.get("sig").ok_or_else(forbidden)?;
    widget::verify(&ctx, &key, exp, sig, Utc::now())?;
    let lang = crate::widget::Lang::parse(q.get("lang").map(String::as_str));
    let card = match state.app.cards.lookup(&ctx, &key).await {
        Ok(card) => Some(card),
        Err(skvoz_app::AppError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let html = crate::widget::render(card.as_ref(), &key.value(), lang);
    let mut resp = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    Ok(resp)
}
