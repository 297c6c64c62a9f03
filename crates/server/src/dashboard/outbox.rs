//! `/outbox`: outbound delivery at a glance — the queue by status, the dead
//! letters with a retry button (one or all), and the latest messages with
//! their attempts, errors and skip reasons.

use super::format::esc;
use super::layout;
use super::{finish, same_origin, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use skvoz_app::context::ProjectContext;
use skvoz_store::{OutboxFilter, OutboxMessage};

/// Messages in the "latest" table.
pub const RECENT: usize = 50;

fn rows(
    dash: &Dash,
    ctx: &ProjectContext,
    messages: &[OutboxMessage],
    retry: Option<i64>,
) -> String {
    let mut out = String::new();
    for m in messages {
        let note = m
            .skip_reason
            .as_deref()
            .or(m.last_error.as_deref())
            .unwrap_or("");
        let button = match retry {
            Some(pid) => format!(
                "<td><form method=\"post\" action=\"/outbox/retry?project={pid}\"><input type=\"hidden\" name=\"id\" value=\"{}\"><button type=\"submit\">{}</button></form></td>",
                m.id,
                esc(dash.t("outbox_retry"))
            ),
            None => String::new(),
        };
        out.push_str(&format!(
            "<tr data-status=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td>{button}</tr>",
            esc(&m.status),
            esc(&m.created_at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M").to_string()),
            esc(&m.destination_kind),
            esc(&m.destination),
            esc(dash.t(&format!("outbox_{}", m.status))),
            m.attempts,
            esc(note),
        ));
    }
    out
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let outbox = &state.app.outbox;
    let counts = outbox.counts(ctx.scope).await?;
    let mut body = String::from("<section class=\"kpis\" id=\"outbox-counts\">");
    for status in ["pending", "delivered", "skipped", "dead"] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        body.push_str(&format!(
            "<div class=\"kpi\"><div class=\"name\">{}</div><div class=\"value\" id=\"outbox-{status}\">{n}</div></div>",
            esc(dash.t(&format!("outbox_{status}")))
        ));
    }
    body.push_str("</section>");
    let head = |with_retry: bool| {
        format!(
            "<div class=\"table-wrap\"><table class=\"report\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>{}</tr></thead><tbody>",
            esc(dash.t("time")),
            esc(dash.t("kind")),
            esc(dash.t("outbox_destination")),
            esc(dash.t("outbox_status")),
            esc(dash.t("outbox_attempts")),
            esc(dash.t("outbox_note")),
            if with_retry { "<th></th>" } else { "" },
        )
    };
    let filter = |status: Option<&str>| OutboxFilter {
        status: status.map(str::to_owned),
        limit: RECENT,
        ..Default::default()
    };
    let dead = outbox.list(ctx.scope, filter(Some("dead"))).await?;
    let manage = dash.can_manage();
    let pid = ctx.project.id.0;
    body.push_str(&format!(
        "<section class=\"card\" id=\"outbox-dead\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(dash.t("outbox_dead_letters")),
        esc(dash.t("outbox_dead_hint"))
    ));
    if dead.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(dash.t("outbox_empty"))
        ));
    } else {
        if manage {
            body.push_str(&format!(
                "<form method=\"post\" action=\"/outbox/retry?project={pid}\"><input type=\"hidden\" name=\"id\" value=\"all\"><button type=\"submit\" id=\"retry-all\">{}</button></form>",
                esc(dash.t("outbox_retry_all"))
            ));
        }
        body.push_str(&head(manage));
        body.push_str(&rows(dash, ctx, &dead, manage.then_some(pid)));
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>");
    let recent = outbox.list(ctx.scope, filter(None)).await?;
    body.push_str(&format!(
        "<section class=\"card\" id=\"outbox-recent\"><h2>{}</h2>",
        esc(dash.t("outbox_recent"))
    ));
    if recent.is_empty() {
        body.push_str(&format!(
            "<p class=\"muted\">{}</p>",
            esc(dash.t("outbox_empty"))
        ));
    } else {
        body.push_str(&head(false));
        body.push_str(&rows(dash, ctx, &recent, None));
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>");
    Ok(layout::page(dash, "nav_outbox", "/outbox", &body))
}

/// `GET /outbox`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}

/// `POST /outbox/retry` (`id` = a message id or `all`): puts dead letters
/// back in the queue and shows the page again.
pub async fn retry(
    State(state): State<AppState>,
    dash: Dash,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if !dash.can_manage() || !same_origin(&headers) {
        return super::settings::forbidden(&dash);
    }
    let Some(ctx) = &dash.ctx else {
        return PageError::NotFound("no_projects".into()).render(&dash);
    };
    let id = pairs
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let outbox = &state.app.outbox;
    let done = match id {
        "all" => outbox.retry_dead(ctx.scope).await.map(|_| ()),
        other => match other.parse::<i64>() {
            Ok(n) => outbox.retry(ctx.scope, n).await,
            Err(_) => return PageError::NotFound("outbox_empty".into()).render(&dash),
        },
    };
    match done {
        Ok(()) => Redirect::to(&dash.link("/outbox", &[])).into_response(),
        Err(e) => PageError::from(e).render(&dash),
    }
}
