//! `/reports/funnel`: deals created in the period that reached each stage
//! of the pipeline — the funnel chart, and the same per channel.

use super::charts;
use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use skvoz_app::reports::ReportParams;

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        model: dash.q("model").map(str::to_owned),
        group_by: Some("channel".to_owned()),
        ..Default::default()
    };
    let report = state.app.reports.funnel(ctx, &params).await?;
    let json = &report.json;
    let lang = dash.lang;
    let stages = json["stages"].as_array().cloned().unwrap_or_default();
    let mut body = layout::period_form(
        dash,
        (&from.to_string(), &to.to_string()),
        false,
        "",
        &["model"],
    );
    let items: Vec<(String, f64, Option<f64>)> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format::text(&s["stage"]),
                format::num(&s["deals"]).unwrap_or(0.0),
                if i == 0 {
                    None
                } else {
                    format::num(&s["conversion_from_previous"])
                },
            )
        })
        .collect();
    let count = |v: f64| format::metric(lang, "deals", Some(v), "");
    body.push_str(&format!(
        "<section class=\"card\">{}</section>",
        charts::funnel("funnel-chart", dash.t("nav_funnel"), &items, &count)
    ));
    body.push_str(&format!(
        "<div class=\"table-wrap\"><table class=\"report\" id=\"funnel-table\"><thead><tr><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
        esc(dash.t("stage")),
        esc(dash.t("deals")),
        esc(dash.t("share_of_first")),
        esc(dash.t("conversion_from_previous")),
    ));
    for s in &stages {
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&format::text(&s["stage"])),
            esc(&count(format::num(&s["deals"]).unwrap_or(0.0))),
            esc(&format::metric(lang, "roi", format::num(&s["share_of_first"]), "")),
            esc(&format::metric(lang, "roi", format::num(&s["conversion_from_previous"]), "")),
        ));
    }
    body.push_str("</tbody></table></div>");
    // Per channel.
    let rows = json["rows"].as_array().cloned().unwrap_or_default();
    if !rows.is_empty() {
        body.push_str(&format!(
            "<h2>{}</h2><div class=\"table-wrap\"><table class=\"report\" id=\"funnel-by-channel\"><thead><tr><th>{}</th>",
            esc(dash.t("by_channel")),
            esc(dash.t("channel"))
        ));
        for s in &stages {
            body.push_str(&format!(
                "<th class=\"num\">{}</th>",
                esc(&format::text(&s["stage"]))
            ));
        }
        body.push_str("</tr></thead><tbody>");
        for r in &rows {
            body.push_str(&format!(
                "<tr><th scope=\"row\">{}</th>",
                esc(&format::text(&r["channel"]))
            ));
            for s in r["stages"].as_array().into_iter().flatten() {
                body.push_str(&format!(
                    "<td class=\"num\">{}</td>",
                    esc(&count(format::num(&s["deals"]).unwrap_or(0.0)))
                ));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table></div>");
    }
    Ok(layout::page(dash, "nav_funnel", "/reports/funnel", &body))
}

/// `GET /reports/funnel`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
