//! `/hooks/{public_key}/zadarma`: Zadarma's URL check (GET `zd_echo`) and
//! its PBX notifications (POST).

use crate::error::{ApiError, ApiResult};
use crate::routes::hooks::{header_str, project_by_key};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use skvoz_app::calls::service::HookOutcome;

/// Zadarma's URL check: a GET with `zd_echo=X` is answered with `X`.
#[utoipa::path(get, path = "/hooks/{public_key}/zadarma", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key"), ("zd_echo" = String, Query, description = "echoed back")),
    responses((status = 200, description = "the zd_echo value as text"), (status = 404)))]
pub async fn zadarma_echo(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let ctx = project_by_key(&state, &public_key).await?;
    if !ctx.settings.calltracking.zadarma.enabled {
        return Err(ApiError::not_found(
            "Zadarma connector (enable it in settings.calltracking.zadarma)",
        ));
    }
    let echo = skvoz_app::calls::telephony::zadarma::echo(query.as_deref().unwrap_or(""))
        .ok_or_else(|| ApiError::invalid("zd_echo", "zd_echo is required"))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response())
}

/// Zadarma PBX notifications (form-encoded), checked by their `Signature`
/// header (HMAC-SHA1 with the API secret); a bad or missing signature is a
/// 401 and nothing is stored. `NOTIFY_END` records the call.
#[utoipa::path(post, path = "/hooks/{public_key}/zadarma", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Zadarma's notification"),
    responses((status = 200, description = "event and the call recorded"), (status = 401, description = "bad or missing Signature")))]
pub async fn zadarma_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<HookOutcome>> {
    let ctx = project_by_key(&state, &public_key).await?;
    let signature = header_str(&headers, "signature");
    Ok(Json(state.app.calls.zadarma(&ctx, signature, &body).await?))
}
