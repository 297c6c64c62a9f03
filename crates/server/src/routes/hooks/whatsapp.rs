//! `/hooks/{public_key}/whatsapp`: the WhatsApp Cloud API's verification
//! handshake (GET) and its deliveries (POST).

use crate::error::ApiResult;
use crate::routes::hooks::{header_str, project_by_key};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use skvoz_app::chats::ChatDelivery;
use std::collections::HashMap;

/// WhatsApp's verification handshake: the raw `hub.challenge` when
/// `hub.verify_token` matches `settings.messengers.whatsapp.verify_token`,
/// else 403.
#[utoipa::path(get, path = "/hooks/{public_key}/whatsapp", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key"),
        ("hub.mode" = String, Query, description = "subscribe"), ("hub.verify_token" = String, Query, description = "the verify token"),
        ("hub.challenge" = String, Query, description = "echoed back")),
    responses((status = 200, description = "the challenge", content_type = "text/plain"), (status = 403)))]
pub async fn whatsapp_verify(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = project_by_key(&state, &public_key).await?;
    let challenge = state.app.chats.whatsapp_verify(
        &ctx,
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str),
        q.get("hub.challenge").map(String::as_str),
    )?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        challenge,
    )
        .into_response())
}

/// WhatsApp Cloud API deliveries, checked by `X-Hub-Signature-256` (401
/// and nothing stored when it is wrong); statuses are ignored, messages of
/// every entry recorded; a redelivered message id changes nothing.
#[utoipa::path(post, path = "/hooks/{public_key}/whatsapp", tag = "webhooks",
    params(("public_key" = String, Path, description = "the project's public key")),
    request_body(content = Object, description = "the Cloud API's webhook body"),
    responses((status = 200, description = "what the delivery did"), (status = 401, description = "bad signature")))]
pub async fn whatsapp_hook(
    State(state): State<AppState>,
    Path(public_key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ChatDelivery>> {
    let ctx = project_by_key(&state, &public_key).await?;
    let signature = header_str(&headers, "x-hub-signature-256");
    Ok(Json(
        state.app.chats.whatsapp(&ctx, signature, &body).await?,
    ))
}
