//! `GET/PUT /api/v1/settings`: the project's configuration as one document,
//! versioned with `ETag` / `If-Match`.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use skvoz_app::settings::SettingsView;

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

fn respond(view: SettingsView) -> Response {
    let mut resp = Json(view.doc).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(view.version)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Parses `If-Match: "7"` (or `W/"7"`); `*` means any version.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::bad_request(
                "bad_if_match",
                "If-Match must be an ETag returned by GET /api/v1/settings",
            )
            .with_field("If-Match")
        })
}

/// The settings document (secrets masked) with its `ETag`.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings",
    security(("api_key" = [])),
    responses((status = 200, description = "the settings document; ETag header carries its version")))]
pub async fn get(State(state): State<AppState>, project: ApiProject) -> ApiResult<Response> {
    Ok(respond(state.app.settings.get(project.scope()).await?))
}

/// Replaces the whole document after validating it; `If-Match` guards
/// against overwriting someone else's change (409 when stale); a masked
/// secret keeps its stored value.
#[utoipa::path(put, path = "/api/v1/settings", tag = "settings",
    security(("api_key" = [])),
    request_body(content = Object, description = "the whole settings document"),
    responses((status = 200, description = "stored; new ETag"), (status = 409, description = "stale If-Match"),
        (status = 422, description = "invalid; `field` names the JSON path")))]
pub async fn put(
    State(state): State<AppState>,
    project: ApiProject,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let view = state
        .app
        .settings
        .put(project.scope(), expected, doc)
        .await?;
    let mut resp = respond(view);
    *resp.status_mut() = StatusCode::OK;
    Ok(resp)
}
