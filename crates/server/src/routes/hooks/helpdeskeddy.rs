//! `/hooks/{public_key}/helpdeskeddy`: HelpDeskEddy's rule-engine webhooks.

use crate::error::ApiResult;
use crate::routes::hooks::{project_by_key, SecretQuery};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use skvoz_app::tickets::TicketOutcome;

/// HelpDeskEddy rule-engine webhooks with the recommended JSON body (see
/// README), authenticated by the URL's `secret`.
#[utoipa::path(post, path = "/hooks/{public_key}/helpdeskeddy", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key"), ("secret" = String, Query, description = "settings.service.helpdeskeddy.webhook_secret")),
    request_body(content = Object, description = "the recommended body: event, event_id?, ticket_id, status?, rating?, email?, phone?, name?, subject?, priority?, date_created?, date?"),
    responses((status = 200, description = "applied"), (status = 401, description = "wrong secret"), (status = 422)))]
pub async fn helpdeskeddy_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    Query(q): Query<SecretQuery>,
    body: Bytes,
) -> ApiResult<Json<TicketOutcome>> {
    let ctx = project_by_key(&state, &public_key).await?;
    Ok(Json(
        state
            .app
            .tickets
            .helpdeskeddy_webhook(&ctx, &q.secret, &body)
            .await?,
    ))
}
