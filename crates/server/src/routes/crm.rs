//! Leads, deals, contacts and the Alytics format (amoCRM's and Bitrix24's
//! webhooks are in [`hooks`](super::hooks)).

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use skvoz_app::crm::{LeadInput, Strictness};
use skvoz_domain::crm::{DealStatus, DealUpdate};
use skvoz_domain::Money;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The answer to `POST /api/v1/leads`.
#[derive(Serialize, ToSchema)]
pub struct LeadResponse {
    /// The lead.
    pub lead_id: i64,
    /// Its contact (`null` when the lead names nobody).
    pub contact_id: Option<i64>,
    /// The deal it opened or joined.
    pub deal_id: Option<i64>,
    /// It joined the contact's open deal instead of opening one.
    pub duplicate: bool,
    /// The deal it opened follows a won deal of the same contact.
    pub repeat_sale: bool,
    /// Contacts merged into this one by the lead.
    pub merged_contacts: Vec<i64>,
}

/// A lead from a site form: linked to its visit by `visit_code`, else
/// `vid`, else `ga_cid`/`ym_uid`; the contact is found or created (and
/// merged when the lead proves two are one person); with deduplication a
/// contact's open deal is joined instead of a new one opened.
#[utoipa::path(post, path = "/api/v1/leads", tag = "leads", security(("api_key" = [])),
    request_body(content = Object, description = "visit_code?, vid?, ga_cid?, ym_uid?, phone?, email?, name?, form?, fields?, created_at?"),
    responses((status = 200, body = LeadResponse), (status = 422, description = "invalid phone, e-mail or field")))]
pub async fn create_lead(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(input): ApiJson<LeadInput>,
) -> ApiResult<Json<LeadResponse>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let r = state.app.leads.create_form_lead(&ctx, input).await?;
    Ok(Json(LeadResponse {
        lead_id: r.lead_id,
        contact_id: (r.contact_id != 0).then_some(r.contact_id),
        deal_id: r.deal_id,
        duplicate: r.duplicate,
        repeat_sale: r.repeat_sale,
        merged_contacts: r.merged,
    }))
}

/// The body of `PUT /api/v1/deals/{external_id}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealBody {
    /// `open`, `won` or `lost`.
    #[serde(default)]
    status: Option<String>,
    /// A stage of the project's pipeline.
    #[serde(default)]
    stage: Option<String>,
    /// Revenue, a decimal in the project currency.
    #[serde(default)]
    revenue: Option<f64>,
    /// Profit.
    #[serde(default)]
    profit: Option<f64>,
    /// Created (RFC 3339).
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    /// Closed (RFC 3339).
    #[serde(default)]
    closed_at: Option<DateTime<Utc>>,
    /// Client's phone.
    #[serde(default)]
    phone: Option<String>,
    /// Client's e-mail.
    #[serde(default)]
    email: Option<String>,
    /// The visit code the CRM kept.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    visit_code: Option<serde_json::Value>,
    /// The visitor id.
    #[serde(default)]
    vid: Option<String>,
    /// Product or title.
    #[serde(default)]
    product: Option<String>,
    /// When this change happened in the CRM (RFC 3339; the time of the
    /// stage change in the history); default now.
    #[serde(default)]
    changed_at: Option<DateTime<Utc>>,
}

/// The answer to a deal upsert.
#[derive(Serialize, ToSchema)]
pub struct DealResponse {
    /// The deal.
    pub deal_id: i64,
    /// It was created now.
    pub created: bool,
    /// It took over the deal a lead had opened for the same contact.
    pub adopted: bool,
    /// Something changed.
    pub changed: bool,
    /// Its contact.
    pub contact_id: Option<i64>,
}

fn money(value: Option<f64>, field: &str) -> ApiResult<Option<Money>> {
    value
        .map(|v| {
            Money::from_decimal(v)
                .ok_or_else(|| ApiError::invalid(field, format!("{field} is not a valid amount")))
        })
        .transpose()
}

/// Creates or updates a deal by its id in the CRM. A stage sets the status
/// (they must agree when both are sent); changes of stage are kept as
/// history; repeating the same body changes nothing.
#[utoipa::path(put, path = "/api/v1/deals/{external_id}", tag = "deals", security(("api_key" = [])),
    params(("external_id" = String, Path, description = "the deal's id in the CRM")),
    request_body = DealBody,
    responses((status = 200, body = DealResponse), (status = 201, body = DealResponse), (status = 422)))]
pub async fn put_deal(
    State(state): State<AppState>,
    project: ApiProject,
    Path(external_id): Path<String>,
    ApiJson(body): ApiJson<DealBody>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let status = match body.status.as_deref() {
        Some(s) => Some(
            DealStatus::parse(s)
                .ok_or_else(|| ApiError::invalid("status", "status must be open, won or lost"))?,
        ),
        None => None,
    };
    let visit_code = match &body.visit_code {
        Some(v) => skvoz_app::crm::leads::parse_visit_code(v)?,
        None => None,
    };
    let update = DealUpdate {
        external_id,
        status,
        stage: body.stage,
        revenue: money(body.revenue, "revenue")?,
        profit: money(body.profit, "profit")?,
        created_at: body.created_at,
        closed_at: body.closed_at,
        phone: body.phone,
        email: body.email,
        visit_code,
        vid: body.vid,
        ga_cid: None,
        crm_client_id: None,
        product: body.product,
        changed_at: body.changed_at,
    };
    let r = state
        .app
        .deals
        .upsert(&ctx, update, Strictness::Api, None)
        .await?;
    let code = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        code,
        Json(DealResponse {
            deal_id: r.deal_id,
            created: r.created,
            adopted: r.adopted,
            changed: r.changed,
            contact_id: r.contact_id,
        }),
    )
        .into_response())
}

/// A deal with its stage history.
#[utoipa::path(get, path = "/api/v1/deals/{external_id}", tag = "deals", security(("api_key" = [])),
    params(("external_id" = String, Path, description = "the deal's id in the CRM")),
    responses((status = 200, description = "the deal and its history"), (status = 404)))]
pub async fn get_deal(
    State(state): State<AppState>,
    project: ApiProject,
    Path(external_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (deal, history) = state
        .app
        .deals
        .with_history(project.scope(), &external_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("deal '{external_id}' not found")))?;
    Ok(Json(serde_json::json!({
        "deal": {
            "id": deal.id, "external_id": deal.external_id, "contact_id": deal.contact_id, "lead_id": deal.lead_id,
            "visit_id": deal.visit_id, "status": deal.status, "stage": deal.stage, "revenue": deal.revenue.to_decimal(),
            "profit": deal.profit.map(Money::to_decimal), "product": deal.product, "repeat_sale": deal.is_repeat,
            "created_at": deal.created_at, "closed_at": deal.closed_at,
        },
        "history": history,
    })))
}

/// A contact with its identities, leads and deals.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", security(("api_key" = [])),
    params(("id" = i64, Path, description = "contact id (a merged id leads to the surviving contact)")),
    responses((status = 200, description = "the contact"), (status = 404)))]
pub async fn get_contact(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let (contact, leads, deals) = state
        .app
        .cards
        .contact_with_leads_and_deals(project.scope(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("contact {id} not found")))?;
    Ok(Json(serde_json::json!({
        "contact": contact,
        "leads": leads,
        "deals": deals.iter().map(|d| serde_json::json!({
            "id": d.id, "external_id": d.external_id, "status": d.status, "stage": d.stage,
            "revenue": d.revenue.to_decimal(), "repeat_sale": d.is_repeat, "created_at": d.created_at,
        })).collect::<Vec<_>>(),
    })))
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_owned(), password.to_owned()))
}

fn unauthorized_basic(message: &str) -> Response {
    let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"skvoz export\""),
    );
    resp
}

/// The Alytics universal CRM format: goal `n`'s transactions (deals that
/// entered the configured stage) for a Moscow-time `date`. Basic auth with
/// the export's credentials.
#[utoipa::path(get, path = "/export/alytics/{n}/", tag = "export",
    params(("n" = usize, Path, description = "goal: 0 is the base URL's stage, 1 the next…"), ("date" = String, Query, description = "YYYY-MM-DD, Moscow time")),
    responses((status = 200, description = "{\"data\":{\"transactions\":[…]}}"), (status = 401)))]
pub async fn alytics_export(
    State(state): State<AppState>,
    Path(n): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some((login, password)) = basic_auth(&headers) else {
        return Ok(unauthorized_basic("Basic auth required"));
    };
    let ctx = match state.app.alytics.authenticate(&login, &password).await {
        Ok(ctx) => ctx,
        Err(_) => return Ok(unauthorized_basic("wrong export login or password")),
    };
    let goal: usize = n.parse().map_err(|_| ApiError::not_found("no such goal"))?;
    let date = q
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| ApiError::invalid("date", "date=YYYY-MM-DD is required"))?;
    let body = state.app.alytics.export(&ctx, goal, date).await?;
    Ok(Json(body).into_response())
}

/// The base goal's export URL without a goal number.
pub async fn alytics_export_base(
    state: State<AppState>,
    q: Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    alytics_export(state, Path("0".to_owned()), q, headers).await
}

/// `date` for a pull run.
#[derive(Deserialize)]
pub struct PullQuery {
    #[serde(default)]
    date: Option<NaiveDate>,
}

/// Pulls the project's Alytics-format sources now (all daily dates, or one
/// `date`), and answers what each source and day did.
#[utoipa::path(post, path = "/api/v1/crm/alytics/pull", tag = "crm", security(("api_key" = [])),
    params(("date" = Option<String>, Query, description = "one day (YYYY-MM-DD); default yesterday plus re-pulls")),
    responses((status = 200, description = "the runs")))]
pub async fn alytics_pull(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<PullQuery>,
) -> ApiResult<Json<skvoz_app::crm::alytics::PullReport>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    Ok(Json(state.app.alytics.pull(&ctx, q.date).await?))
}

/// The latest pull attempts with their errors.
#[utoipa::path(get, path = "/api/v1/crm/alytics/status", tag = "crm", security(("api_key" = [])),
    responses((status = 200, description = "the latest runs")))]
pub async fn alytics_status(
    State(state): State<AppState>,
    project: ApiProject,
) -> ApiResult<Json<serde_json::Value>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let runs = state.app.alytics.status(&ctx).await?;
    Ok(Json(serde_json::json!({ "runs": runs })))
}
