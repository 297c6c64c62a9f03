//! `/hooks/{public_key}/amocrm`: amoCRM's lead webhooks.

use crate::error::ApiResult;
use crate::routes::hooks::{project_by_key, SecretQuery};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;

/// amoCRM webhooks (`leads[add]`, `leads[update]`, `leads[status]`,
/// form-encoded), authenticated by the URL's `secret`.
#[utoipa::path(post, path = "/hooks/{public_key}/amocrm", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key"), ("secret" = String, Query, description = "settings.crm.amocrm.secret")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "amoCRM's webhook body"),
    responses((status = 200, description = "applied"), (status = 401, description = "wrong secret")))]
pub async fn amocrm_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    Query(q): Query<SecretQuery>,
    body: Bytes,
) -> ApiResult<Json<skvoz_app::crm::webhooks::WebhookOutcome>> {
    let ctx = project_by_key(&state, &public_key).await?;
    Ok(Json(
        state
            .app
            .crm_webhooks
            .amocrm(&ctx, &q.secret, &body)
            .await?,
    ))
}
