//! `/hooks/{public_key}/bitrix24`: Bitrix24's outbound deal events.

use crate::error::ApiResult;
use crate::routes::hooks::project_by_key;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;

/// Bitrix24 outbound events (`ONCRMDEALADD`/`ONCRMDEALUPDATE`), checked by
/// their `application_token`; the deal is read back with `crm.deal.get`.
#[utoipa::path(post, path = "/hooks/{public_key}/bitrix24", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Bitrix24's event body"),
    responses((status = 200, description = "applied"), (status = 401, description = "wrong application_token"),
        (status = 503, description = "the portal did not answer")))]
pub async fn bitrix24_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    body: Bytes,
) -> ApiResult<Json<skvoz_app::crm::webhooks::WebhookOutcome>> {
    let ctx = project_by_key(&state, &public_key).await?;
    Ok(Json(state.app.crm_webhooks.bitrix24(&ctx, &body).await?))
}
