//! `/leads`: the leads of the period, newest first, with the visit's source
//! and the deal each opened; each links to its contact's journey.

use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;

/// Leads per page.
pub const PAGE_SIZE: usize = 50;

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to, start, end) = dash.period_bounds()?;
    let leads_service = &state.app.leads;
    let mut leads = leads_service.between(ctx.scope, start, end).await?;
    leads.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let pages = leads.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = dash.page_no(pages);
    let mut body = layout::period_form(dash, (&from.to_string(), &to.to_string()), false, "", &[]);
    body.push_str(&format!(
        "<p class=\"muted\" id=\"leads-count\">{}: {}</p>",
        esc(dash.t("leads")),
        leads.len()
    ));
    body.push_str(&layout::table_start(
        "leads-table",
        &[
            (dash.t("time"), false),
            (dash.t("kind"), false),
            (dash.t("contact"), false),
            (dash.t("source"), false),
            (dash.t("deal"), false),
            (dash.t("revenue"), false),
        ],
    ));
    let currency = ctx.settings.general.currency.to_string();
    for lead in leads.iter().skip((page_no - 1) * PAGE_SIZE).take(PAGE_SIZE) {
        let (visit, deal) = leads_service.visit_and_deal(ctx.scope, lead).await?;
        let source = visit.as_ref().map_or_else(
            || dash.t("no_visit").to_owned(),
            |v| {
                let mut s = format!("{} / {}", v.source.source, v.source.medium);
                if let Some(c) = &v.source.campaign {
                    s.push_str(&format!(" / {c}"));
                }
                s
            },
        );
        let name = lead
            .payload
            .get("name")
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let contact = match lead.contact_id {
            Some(id) => format!(
                "<a href=\"{}\">{}</a>",
                esc(&dash.link(&format!("/contacts/{id}"), &[])),
                esc(&name.unwrap_or_else(|| format!("#{id}")))
            ),
            None => "—".to_owned(),
        };
        let (deal_text, revenue) = match &deal {
            Some(d) => (
                format!(
                    "{} · {}",
                    dash.t(&format!("status_{}", d.status.as_str())),
                    d.stage
                ),
                format::metric(
                    dash.lang,
                    "revenue",
                    Some(d.revenue.to_decimal()),
                    &currency,
                ),
            ),
            None => (
                if lead.is_duplicate {
                    dash.t("duplicate").to_owned()
                } else {
                    "—".to_owned()
                },
                "—".to_owned(),
            ),
        };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{contact}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&lead.created_at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M").to_string()),
            esc(dash.t(lead.kind.as_str())),
            esc(&source),
            esc(&deal_text),
            esc(&revenue),
        ));
    }
    body.push_str(&layout::table_end(dash, 6, leads.is_empty()));
    body.push_str(&layout::pager(dash, "/leads", pages, page_no));
    Ok(layout::page(dash, "nav_leads", "/leads", &body))
}

/// `GET /leads`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
