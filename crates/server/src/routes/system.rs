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
    state.app.store.ping().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "store unavailable",
        )
    })?;
    Ok(Json(Health {
        status: "ok",
        store: state.app.store.backend(),
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

/// The start page until the dashboard pages arrive: where things are, in
/// Russian and English.
pub async fn index() -> axum::response::Html<&'static str> {
    axum::response::Html(INDEX_HTML)
}

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>skvoz</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}a{color:#0b5cad}</style></head>
<body>
<h1>skvoz</h1>
<p>Сквозная аналитика: визиты, заявки, сделки и их источники. Панель с отчётами появится в следующей версии;
сейчас работают сбор визитов, заявки, сделки и CRM-интеграции через API.</p>
<p lang="en">End-to-end marketing analytics: visits, leads, deals and where they came from. The dashboard pages come
next; tracking, leads, deals and the CRM connectors work through the API now.</p>
<ul>
<li><a href="/openapi.json">/openapi.json</a> — API / описание API</li>
<li><a href="/healthz">/healthz</a>, <a href="/metrics">/metrics</a> — health and Prometheus metrics</li>
<li><a href="/t.js">/t.js</a> — the site tracker / счётчик для сайта:
<code>&lt;script async src="/t.js" data-key="PUBLIC_KEY"&gt;&lt;/script&gt;</code></li>
</ul>
</body></html>
"#;
