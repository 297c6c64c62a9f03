//! `/hooks/{public_key}/telegram`: Telegram bot updates.

use crate::error::ApiResult;
use crate::routes::hooks::{header_str, project_by_key};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use skvoz_app::chats::ChatDelivery;

/// Telegram bot updates, checked by `X-Telegram-Bot-Api-Secret-Token`
/// (which also names the bot); `/start <payload>` links the chat to the
/// visit.
#[utoipa::path(post, path = "/hooks/{public_key}/telegram", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key")),
    request_body(content = Object, description = "a Telegram Update"),
    responses((status = 200, description = "what the update did"), (status = 401, description = "wrong secret token")))]
pub async fn telegram_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ChatDelivery>> {
    let ctx = project_by_key(&state, &public_key).await?;
    let secret = header_str(&headers, "x-telegram-bot-api-secret-token");
    Ok(Json(state.app.chats.telegram(&ctx, secret, &body).await?))
}
