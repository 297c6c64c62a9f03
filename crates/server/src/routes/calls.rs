//! Call tracking: calls in through the generic API (Zadarma's and
//! Calltouch's webhooks are in [`hooks`](super::hooks)), the calls list,
//! pools with their status and sizing, and the site script's ping that
//! keeps a visitor's number.

use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, ApiJson, ApiProject};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use skvoz_app::calls::service::{CallRow, PoolStatus, SizingReport};
use skvoz_app::calls::telephony::generic::GenericCall;
use skvoz_app::calls::CallOutcome;
use utoipa::ToSchema;

/// A call in skvoz's own shape (any PBX or script). Redelivery with the
/// same `id` changes nothing. A target call becomes a lead of kind `call`.
#[utoipa::path(post, path = "/api/v1/calls", tag = "calls", security(("api_key" = [])),
    request_body(content = Object, description = "id, caller, called, started_at (RFC 3339), duration (s), answered, recording_url?"),
    responses((status = 200, description = "call_id, attribution (dynamic|static|unidentified|repeat), visit_id, is_target, is_unique, shared, lead_id, contact_id, replayed"),
        (status = 422, description = "invalid field")))]
pub async fn create_call(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(body): ApiJson<GenericCall>,
) -> ApiResult<Json<CallOutcome>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let call = body.into_call().map_err(|e| match e {
        skvoz_app::calls::telephony::TelephonyError::Missing(f)
        | skvoz_app::calls::telephony::TelephonyError::Invalid { field: f, .. } => {
            ApiError::invalid(f, e.to_string())
        }
        other => ApiError::invalid("", other.to_string()),
    })?;
    Ok(Json(state.app.calls.record(&ctx, call).await?))
}

/// `from`, `to` of the calls list.
#[derive(Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

/// A date (`YYYY-MM-DD`, a local day of the project; `to` includes its
/// day) or an RFC 3339 instant.
fn instant<Z: TimeZone>(
    value: &str,
    tz: Z,
    end: bool,
    field: &str,
) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid(field, format!("{field} must be YYYY-MM-DD or RFC 3339")))?;
    let day = if end {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::invalid(field, "no such local time"))
}

/// The calls list.
#[derive(Serialize, ToSchema)]
pub struct CallList {
    /// Calls, newest first.
    #[schema(value_type = Vec<Object>)]
    pub calls: Vec<CallRow>,
    /// Counts of the listed calls (calls, target, unique, missed) and the
    /// period's shared-visit rate.
    #[schema(value_type = Object)]
    pub totals: skvoz_app::calls::service::CallTotals,
}

/// Calls of a period (default the last 7 days), newest first, with the
/// source of their visits: caller, time, duration, answered / missed /
/// target / unique, attribution, recording link.
#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", security(("api_key" = [])),
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD (project time zone) or RFC 3339"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD (inclusive) or RFC 3339"),
        ("limit" = Option<usize>, Query, description = "at most this many (default 1000, max 10000)")),
    responses((status = 200, body = CallList), (status = 422)))]
pub async fn list_calls(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<PeriodQuery>,
) -> ApiResult<Json<CallList>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let to = match &q.to {
        Some(v) => instant(v, ctx.tz, true, "to")?,
        None => Utc::now() + Duration::minutes(5),
    };
    let from = match &q.from {
        Some(v) => instant(v, ctx.tz, false, "from")?,
        None => to - Duration::days(7),
    };
    if from > to {
        return Err(ApiError::invalid("from", "from is after to"));
    }
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be 1-10000"));
    }
    let calls = state.app.calls.list(&ctx, from, to, limit).await?;
    let totals = state
        .app
        .calls
        .totals(&ctx, calls.iter().map(|r| &r.call), from, to)
        .await?;
    Ok(Json(CallList { calls, totals }))
}

/// The pools list.
#[derive(Serialize, ToSchema)]
pub struct PoolList {
    /// Pools in settings order.
    #[schema(value_type = Vec<Object>)]
    pub pools: Vec<PoolStatus>,
}

/// The project's number pools: numbers, busy now, shared rate of the last
/// 7 days.
#[utoipa::path(get, path = "/api/v1/callpools", tag = "calls", security(("api_key" = [])),
    responses((status = 200, body = PoolList)))]
pub async fn list_pools(
    State(state): State<AppState>,
    project: ApiProject,
) -> ApiResult<Json<PoolList>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    Ok(Json(PoolList {
        pools: state.app.calls.pools(&ctx).await?,
    }))
}

/// `days` of a sizing.
#[derive(Deserialize)]
pub struct SizingQuery {
    #[serde(default)]
    days: Option<u32>,
}

/// How many numbers a dynamic pool needs so that at most 1% of the visits
/// it serves share a number, from the project's own traffic of the last
/// `days` (default 7): the visits its rule takes, each holding a number
/// from its first hit to its last plus the hold time, replayed against
/// pools of each size; with the peak of concurrent reservations and the
/// shared rates predicted at the current size and actually seen.
#[utoipa::path(get, path = "/api/v1/callpools/{id}/sizing", tag = "calls", security(("api_key" = [])),
    params(("id" = String, Path, description = "pool id"), ("days" = Option<u32>, Query, description = "1-90, default 7")),
    responses((status = 200, description = "the sizing"), (status = 404), (status = 422)))]
pub async fn pool_sizing(
    State(state): State<AppState>,
    project: ApiProject,
    Path(id): Path<String>,
    Query(q): Query<SizingQuery>,
) -> ApiResult<Json<SizingReport>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let days = q.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(ApiError::invalid("days", "days must be 1-90"));
    }
    Ok(Json(state.app.calls.sizing(&ctx, &id, days).await?))
}

/// The site script's ping.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Public tracker key.
    key: String,
    /// Visitor id.
    vid: String,
    /// The visit holding the number.
    visit_id: i64,
}

/// The answer to a ping.
#[derive(Serialize, ToSchema)]
pub struct HoldResponse {
    /// The number the visit holds (`null` when it holds none).
    pub phone: Option<String>,
    /// CSS selectors of the site's phone elements to rewrite.
    pub selectors: Vec<String>,
    /// The last 10 digits of the site's own numbers, whose `tel:` links and
    /// text are rewritten.
    pub numbers: Vec<String>,
}

/// Keeps a visitor's tracking number while the page stays visible (the
/// script pings every minute); answers the number, which may change if the
/// hold had run out. Touches memory only.
#[utoipa::path(post, path = "/collect/hold", tag = "tracking",
    request_body = HoldBody,
    responses((status = 200, body = HoldResponse), (status = 403, description = "unknown key")))]
pub async fn hold(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<HoldResponse>> {
    if body.len() > 4096 {
        return Err(ApiError::invalid("", "the ping is larger than 4 KiB"));
    }
    let ping: HoldBody = parse_json(&body)?;
    if ping.vid.len() > 64 {
        return Err(ApiError::invalid("vid", "vid is longer than 64 bytes"));
    }
    let ctx = state
        .app
        .contexts
        .by_public_key(&ping.key)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "unknown tracker key",
            )
        })?;
    let phone = state
        .app
        .calls
        .numbers()
        .ping(&ctx, ping.visit_id, &ping.vid, Utc::now())
        .await;
    let cfg = &ctx.settings.calltracking;
    let numbers = if phone.is_some() {
        cfg.site_numbers
            .iter()
            .map(|n| {
                let digits: String = n.chars().filter(char::is_ascii_digit).collect();
                digits[digits.len().saturating_sub(10)..].to_owned()
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(HoldResponse {
        phone,
        selectors: cfg.selectors.clone(),
        numbers,
    }))
}
