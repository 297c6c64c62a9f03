//! Health, metrics and the OpenAPI document.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// The store backend.
    pub store: &'static str,
    /// The skvoz version.
    pub version: &'static str,
}

/// 200 when the store answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, body = Health), (status = 503, description = "store unavailable")))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.app.ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "store unavailable",
        )
    })?;
    Ok(Json(Health {
        status: "ok",
        store: state.app.backend(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The OpenAPI document of every route.
pub async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_ref().clone(),
    )
}

/// Liveness: answers as long as the process serves HTTP, without touching
/// the store (use `/healthz` for readiness).
#[utoipa::path(get, path = "/livez", tag = "system", responses((status = 200, description = "alive")))]
pub async fn livez() -> &'static str {
    "ok"
}
