//! Messenger chats: the generic `POST /api/v1/chats`, a dialog read back,
//! and the chat report (WhatsApp's and Telegram's webhooks are in
//! [`hooks`](super::hooks)).

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use skvoz_app::chats::{ChatInput, ChatOutcome, ChatReport, ChatReportQuery};
use std::collections::HashMap;

/// A chat message in the generic shape, for any messenger platform or
/// script: `{"id", "channel", "from", "text", "sent_at"}` plus optional
/// `name`, `visit_code`, `tags`. Idempotent on (`channel`, `id`).
#[utoipa::path(post, path = "/api/v1/chats", tag = "chats", security(("api_key" = [])),
    request_body(content = Object, description = "id, channel (whatsapp|telegram|…), from, text?, sent_at, name?, visit_code?, tags?"),
    responses((status = 200, description = "the message's dialog, visit, contact and lead"), (status = 422, description = "a bad field")))]
pub async fn create_chat(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(input): ApiJson<ChatInput>,
) -> ApiResult<Json<ChatOutcome>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    Ok(Json(state.app.chats.create(&ctx, input).await?))
}

/// A dialog with its messages.
#[utoipa::path(get, path = "/api/v1/chats/{dialog_id}", tag = "chats", security(("api_key" = [])),
    params(("dialog_id" = i64, Path, description = "the dialog")),
    responses((status = 200, description = "{dialog, messages}"), (status = 404)))]
pub async fn get_dialog(
    State(state): State<AppState>,
    project: ApiProject,
    Path(dialog_id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let (dialog, messages) = state
        .app
        .chats
        .dialog_with_messages(project.scope(), dialog_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("dialog {dialog_id} not found")))?;
    Ok(Json(
        serde_json::json!({ "dialog": dialog, "messages": messages }),
    ))
}

pub(crate) fn date_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<NaiveDate>> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("{name} must be a date YYYY-MM-DD"))),
    }
}

pub(crate) fn usize_param(q: &HashMap<String, String>, name: &str) -> ApiResult<Option<usize>> {
    match q.get(name) {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("{name} must be a whole number"))),
    }
}

/// The chat report: one row per dialog that started in `from..=to` (days
/// of the project's time zone) and the widgets over all of them — new vs
/// repeat, top pages, channels, messengers, dynamics by `granularity` —
/// plus the same widgets for `compare_from..=compare_to`.
#[utoipa::path(get, path = "/api/v1/reports/chats", tag = "reports", security(("api_key" = [])),
    params(("from" = String, Query, description = "YYYY-MM-DD"), ("to" = String, Query, description = "YYYY-MM-DD, inclusive"),
        ("granularity" = Option<String>, Query, description = "day (default), week, month, quarter"),
        ("compare_from" = Option<String>, Query, description = "YYYY-MM-DD"), ("compare_to" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("limit" = Option<usize>, Query, description = "rows per page, default 500"), ("offset" = Option<usize>, Query, description = "rows to skip"),
        ("top" = Option<usize>, Query, description = "pages in the top-pages widget, default 10")),
    responses((status = 200, description = "{rows, widgets, compare, total}"), (status = 422)))]
pub async fn chat_report(
    State(state): State<AppState>,
    project: ApiProject,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<ChatReport>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let query = ChatReportQuery {
        from: date_param(&q, "from")?
            .ok_or_else(|| ApiError::invalid("from", "from=YYYY-MM-DD is required"))?,
        to: date_param(&q, "to")?
            .ok_or_else(|| ApiError::invalid("to", "to=YYYY-MM-DD is required"))?,
        compare_from: date_param(&q, "compare_from")?,
        compare_to: date_param(&q, "compare_to")?,
        granularity: q.get("granularity").cloned(),
        limit: usize_param(&q, "limit")?,
        offset: usize_param(&q, "offset")?,
        top: usize_param(&q, "top")?,
    };
    Ok(Json(state.app.chat_report.report(&ctx, query).await?))
}
