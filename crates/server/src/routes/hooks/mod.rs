//! Inbound webhooks, `/hooks/{public_key}/<provider>`: one file per
//! connector (mirroring `skvoz-connectors`). Each handler only takes the
//! request apart — the project by its public key, the credential the
//! provider sends (a signature header, a secret-token header or the URL's
//! `secret`) and the raw body — and hands them to the app service, whose
//! [`inbound`](skvoz_app::inbound) pipeline checks, parses, records and
//! keeps the payload.

pub mod amocrm;
pub mod bitrix24;
pub mod calltouch;
pub mod helpdeskeddy;
pub mod telegram;
pub mod whatsapp;
pub mod zadarma;

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::http::HeaderMap;
use axum::routing::get;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every webhook route; all but Calltouch's GET variant are documented.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(amocrm::amocrm_hook))
        .routes(routes!(bitrix24::bitrix24_hook))
        .routes(routes!(whatsapp::whatsapp_verify, whatsapp::whatsapp_hook))
        .routes(routes!(telegram::telegram_hook))
        .routes(routes!(zadarma::zadarma_echo, zadarma::zadarma_hook))
        .routes(routes!(calltouch::calltouch_hook))
        .route(
            "/hooks/{public_key}/calltouch",
            get(calltouch::calltouch_get),
        )
        .routes(routes!(helpdeskeddy::helpdeskeddy_hook))
}

/// The `secret` query parameter of webhook URLs.
#[derive(Deserialize)]
pub struct SecretQuery {
    #[serde(default)]
    pub(crate) secret: String,
}

/// The project context of a webhook URL's public key (404 when unknown).
pub(crate) async fn project_by_key(
    state: &AppState,
    public_key: &str,
) -> ApiResult<std::sync::Arc<skvoz_app::context::ProjectContext>> {
    state
        .app
        .contexts
        .by_public_key(public_key)
        .await?
        .ok_or_else(|| ApiError::not_found("no such project"))
}

/// A header's value as text (`None` when absent or not visible ASCII).
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
