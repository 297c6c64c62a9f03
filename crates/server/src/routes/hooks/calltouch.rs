//! `/hooks/{public_key}/calltouch`: Calltouch-style call webhooks, as a
//! form-encoded POST or a GET query.

use crate::error::ApiResult;
use crate::routes::hooks::{project_by_key, SecretQuery};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::Json;
use skvoz_app::calls::service::HookOutcome;

/// Calltouch-style call webhooks, as a GET query or a form-encoded POST,
/// in either spelling of the parameters; checked by the URL's `secret`.
#[utoipa::path(post, path = "/hooks/{public_key}/calltouch", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key"), ("secret" = String, Query, description = "settings.calltracking.calltouch.secret")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "callerphone/callerNumber, phonenumber/phoneNumber, calltime/startTime, duration, status/successful, callid/callId, callUrl"),
    responses((status = 200, description = "the call recorded"), (status = 401, description = "wrong secret")))]
pub async fn calltouch_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    Query(q): Query<SecretQuery>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> ApiResult<Json<HookOutcome>> {
    let ctx = project_by_key(&state, &public_key).await?;
    let payload = if body.is_empty() {
        query.unwrap_or_default().into_bytes()
    } else {
        body.to_vec()
    };
    Ok(Json(
        state.app.calls.calltouch(&ctx, &q.secret, &payload).await?,
    ))
}

/// Calltouch-style webhooks sent as a GET.
pub async fn calltouch_get(
    state: State<AppState>,
    path: Path<String>,
    q: Query<SecretQuery>,
    raw: RawQuery,
) -> ApiResult<Json<HookOutcome>> {
    calltouch_hook(state, path, q, raw, Bytes::new()).await
}
