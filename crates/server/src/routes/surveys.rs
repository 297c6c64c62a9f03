//! Surveys and automations: the hosted survey page (`/s/{token}`, no
//! login: the one-time token is the capability), invitations, the NPS /
//! CSAT report, dynamic groups (JSON, CSV) and automation runs.

use crate::dashboard::{request_lang, same_origin};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject};
use crate::routes::chats::{date_param, usize_param};
use crate::survey_page::{self, Notice, SHOWN_FIELD};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{Duration, Utc};
use serde::Deserialize;
use skvoz_app::surveys::groups::members_csv;
use skvoz_app::surveys::report::NpsQuery;
use skvoz_app::surveys::{Closed, InviteTarget, Submitted};
use std::collections::{BTreeMap, HashMap};

/// Largest survey form accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 32 * 1024;
/// Most fields read from one form post.
const MAX_FIELDS: usize = 40;

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The token is in the URL: never leak it to another site (`same-origin`
    // rather than `no-referrer`, which would make the browser send
    // `Origin: null` with the form and fail the origin check).
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'"),
    );
    h.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    resp
}

fn closed_page(lang: crate::dashboard::i18n::Lang, closed: Closed) -> Response {
    match closed {
        Closed::Unknown => html(
            StatusCode::NOT_FOUND,
            survey_page::notice(lang, Notice::Unknown),
        ),
        Closed::Used => html(StatusCode::GONE, survey_page::notice(lang, Notice::Used)),
        Closed::Expired => html(StatusCode::GONE, survey_page::notice(lang, Notice::Expired)),
    }
}

fn action(token: &str, q: &[(String, String)]) -> String {
    match q.iter().find(|(k, _)| k == "lang") {
        Some((_, l)) if l == "en" || l == "ru" => format!("/s/{token}?lang={l}"),
        _ => format!("/s/{token}"),
    }
}

fn server_error(lang: crate::dashboard::i18n::Lang, e: &skvoz_app::AppError) -> Response {
    tracing::error!(error = %e, "survey page failed");
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        survey_page::notice(lang, Notice::Unknown),
    )
}

/// The hosted survey page: the first step of the form (404 for an unknown
/// link, 410 for a used or expired one). Russian or English by `?lang=`
/// or `Accept-Language`.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let lang = request_lang(&headers, &q);
    match state.app.surveys.open(&token, Utc::now()).await {
        Ok(Ok(open)) => html(
            StatusCode::OK,
            survey_page::form(
                lang,
                &open.survey,
                &action(&token, &q),
                &Default::default(),
                &BTreeMap::new(),
            ),
        ),
        Ok(Err(closed)) => closed_page(lang, closed),
        Err(e) => server_error(lang, &e),
    }
}

/// One step of the survey form: the next questions (a follow-up that
/// depends on the answer, or errors in place, 422) or the thanks page.
/// A post from another site (its `Origin`) is refused (403).
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = request_lang(&headers, &q);
    if !same_origin(&headers) {
        return html(
            StatusCode::FORBIDDEN,
            survey_page::notice(lang, Notice::ForeignOrigin),
        );
    }
    let open = match state.app.surveys.open(&token, Utc::now()).await {
        Ok(Ok(open)) => open,
        Ok(Err(closed)) => return closed_page(lang, closed),
        Err(e) => return server_error(lang, &e),
    };
    // Later values win: a tapped button comes after the hidden current
    // answer in the form data.
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs.into_iter().take(MAX_FIELDS) {
        fields.insert(k, v);
    }
    let shown: Vec<String> = fields
        .get(SHOWN_FIELD)
        .map(|s| s.split(',').take(20).map(str::to_owned).collect())
        .unwrap_or_default();
    match state
        .app
        .surveys
        .submit(&open, &fields, &shown, Utc::now())
        .await
    {
        Ok(Submitted::Thanks) => html(StatusCode::OK, survey_page::thanks(lang)),
        Ok(Submitted::More { answers, errors }) => html(
            if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            },
            survey_page::form(lang, &open.survey, &action(&token, &q), &answers, &errors),
        ),
        Ok(Submitted::Closed(closed)) => closed_page(lang, closed),
        Err(e) => server_error(lang, &e),
    }
}

/// An invitation to make by hand.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    /// The survey's id in `settings.surveys.items`.
    pub survey: String,
    /// The contact asked.
    #[serde(default)]
    pub contact_id: Option<i64>,
    /// The ticket it is about.
    #[serde(default)]
    pub ticket_id: Option<i64>,
    /// The deal it is about.
    #[serde(default)]
    pub deal_id: Option<i64>,
}

/// Makes a survey invitation and answers its one-time link (shown once:
/// only the token's hash is stored) — for sending the link another way.
#[utoipa::path(post, path = "/api/v1/surveys/invitations", tag = "surveys", security(("api_key" = [])),
    request_body(content = Object, description = "survey (id in settings.surveys.items), contact_id?, ticket_id?, deal_id?"),
    responses((status = 200, description = "invitation_id, token, url (null without surveys.public_url), expires_at"), (status = 422, description = "a bad field, named")))]
pub async fn create_invitation(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(input): ApiJson<InviteInput>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let invited = state
        .app
        .surveys
        .invite(
            &ctx,
            &input.survey,
            InviteTarget {
                contact_id: input.contact_id,
                ticket_id: input.ticket_id,
                deal_id: input.deal_id,
            },
            "api",
            Utc::now(),
        )
        .await?;
    Ok(Json(serde_json::json!({
        "invitation_id": invited.invitation_id,
        "token": invited.token,
        "path": format!("/s/{}", invited.token),
        "url": invited.url,
        "expires_at": invited.expires_at,
    })))
}

/// NPS (% promoters − % detractors) and CSAT (share of 4–5, mean) of the
/// answers of a period: totals, by acquisition channel, and over time.
#[utoipa::path(get, path = "/api/v1/reports/nps", tag = "reports", security(("api_key" = [])),
    params(
        ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (project time zone); default 29 days before `to`"),
        ("to" = Option<String>, Query, description = "last day, inclusive; default today"),
        ("granularity" = Option<String>, Query, description = "day (default), week, month, quarter"),
        ("survey" = Option<String>, Query, description = "only this survey (id or kind nps|csat)"),
    ),
    responses((status = 200, description = "{totals, by_channel: [{channel, nps, csat, …}], points: [{period, from, to, nps, csat, …}]}"), (status = 422, description = "a bad parameter")))]
pub async fn nps_report(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let today = Utc::now().with_timezone(&ctx.tz).date_naive();
    let to = date_param(&q, "to")?.unwrap_or(today);
    let from = date_param(&q, "from")?.unwrap_or(to - Duration::days(29));
    let query = NpsQuery {
        from,
        to,
        granularity: q.get("granularity").cloned(),
        survey: q.get("survey").filter(|s| !s.is_empty()).cloned(),
    };
    Ok(Json(state.app.surveys.nps_report(&ctx, &query).await?))
}

/// A dynamic group's contacts now (contact id, name, e-mail, phone, last
/// score, its survey and channel), as JSON or CSV (`format=csv`).
#[utoipa::path(get, path = "/api/v1/groups/{id}/contacts", tag = "surveys", security(("api_key" = [])),
    params(("id" = String, Path, description = "the group's id in settings.groups"), ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, description = "{group, count, contacts: [...]} or CSV"), (status = 404, description = "no such group")))]
pub async fn group_contacts(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let members = state
        .app
        .surveys
        .group_members(&ctx, &id, Utc::now())
        .await?;
    match q.get("format").map(String::as_str) {
        None | Some("json") => Ok(Json(serde_json::json!({
            "group": id,
            "count": members.len(),
            "contacts": members,
        }))
        .into_response()),
        Some("csv") => {
            let safe: String = id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"group-{safe}.csv\""),
                    ),
                ],
                members_csv(&members)?,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::invalid("format", "format is json or csv")),
    }
}

/// The latest automation runs, newest first, each with the outbox
/// messages it enqueued and their delivery status.
#[utoipa::path(get, path = "/api/v1/automations/runs", tag = "surveys", security(("api_key" = [])),
    params(("limit" = Option<usize>, Query, description = "runs, default 50, at most 500")),
    responses((status = 200, description = "{runs: [{id, automation_id, event_id, status, step, due_at, note, messages: [...]}]}")))]
pub async fn automation_runs(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let limit = usize_param(&q, "limit")?.unwrap_or(50).clamp(1, 500);
    let runs = state.app.automations.history(ctx.scope, limit).await?;
    Ok(Json(serde_json::json!({ "runs": runs })))
}
