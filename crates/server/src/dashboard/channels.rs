//! `/reports/channels`: the channel report as a table — drill-down channel
//! → source → campaign → ad → keyword (each row opens the next level for
//! that value), the attribution model (with a line on what it does) and
//! date-mode switchers, several models side by side, the previous period,
//! and CSV export of what is shown (`/reports/channels.csv`,
//! session-authenticated).

use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use skvoz_app::reports::{Report, ReportParams};
use skvoz_domain::attribution::ModelKind;

/// The drill-down path.
pub const LEVELS: &[&str] = &["channel", "source", "campaign", "ad", "keyword"];

/// Columns that do not depend on the model.
const PLAIN: &[&str] = &["visits", "cost"];
/// Columns per model.
const PER_MODEL: &[&str] = &["leads", "sales", "revenue", "roi"];
/// Extra columns when one model is shown.
const SINGLE_EXTRA: &[&str] = &["cpl", "conversion_lead"];

/// What the query asks the report for.
pub struct Query {
    /// The drill-down filters, in [`LEVELS`] order.
    pub filters: Vec<String>,
    /// The report parameters.
    pub params: ReportParams,
    /// The models, primary first.
    pub models: Vec<String>,
}

/// Reads the page's query: period, filters, models, date mode, sort.
pub fn read_query(dash: &Dash) -> Result<Query, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let mut filters = Vec::new();
    for level in &LEVELS[..LEVELS.len() - 1] {
        match dash.q(&format!("f_{level}")) {
            Some(v) if v.len() <= 500 => filters.push(v.to_owned()),
            _ => break,
        }
    }
    let primary = dash
        .q("model")
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.settings.attribution.default_model.clone());
    let mut models = vec![primary];
    for m in dash.q_all("also") {
        if !models.iter().any(|x| x == m) {
            models.push(m.to_owned());
        }
    }
    models.truncate(ModelKind::ALL.len());
    let (pf, pt) = super::overview::previous(from, to);
    let compare = dash.compare();
    let params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        model: Some(models.join(",")),
        group_by: Some(LEVELS[..=filters.len()].join(",")),
        date_mode: dash.q("date_mode").map(str::to_owned),
        compare_from: compare.then(|| pf.to_string()),
        compare_to: compare.then(|| pt.to_string()),
        sort: dash.q("sort").map(str::to_owned),
        ..Default::default()
    };
    Ok(Query {
        filters,
        params,
        models,
    })
}

fn matches(row: &Value, filters: &[String]) -> bool {
    filters
        .iter()
        .enumerate()
        .all(|(i, f)| format::text(&row[LEVELS[i]]) == *f)
}

/// One metric of a row under `model` (the primary one at the top level).
fn value(row: &Value, model: &str, primary: bool, metric: &str) -> Option<f64> {
    if primary || !PER_MODEL.contains(&metric) {
        format::num(&row[metric])
    } else {
        format::num(&row["by_model"][model][metric])
    }
}

fn cells(dash: &Dash, row: &Value, q: &Query, currency: &str, id_prefix: Option<&str>) -> String {
    let mut out = String::new();
    let compare = row.get("change").is_some();
    let mut cell = |metric: &str, model: &str, primary: bool| {
        let v = value(row, model, primary, metric);
        let id = id_prefix.map_or(String::new(), |p| {
            if primary {
                format!(" id=\"{p}-{metric}\"")
            } else {
                format!(" id=\"{p}-{metric}-{model}\"")
            }
        });
        out.push_str(&format!(
            "<td class=\"num\" data-metric=\"{metric}\"{id}>{}",
            esc(&format::metric(dash.lang, metric, v, currency))
        ));
        if compare && primary {
            let ch = format::num(&row["change"][metric]);
            let class = match ch {
                Some(c) if c > 0.0 => "up",
                Some(c) if c < 0.0 => "down",
                _ => "flat",
            };
            out.push_str(&format!(
                "<small class=\"change {class}\">{}</small>",
                esc(&format::change(dash.lang, ch))
            ));
        }
        out.push_str("</td>");
    };
    let primary = q.models[0].as_str();
    for m in PLAIN {
        cell(m, primary, true);
    }
    for (i, model) in q.models.iter().enumerate() {
        for m in PER_MODEL {
            cell(m, model, i == 0);
        }
    }
    if q.models.len() == 1 {
        for m in SINGLE_EXTRA {
            cell(m, primary, true);
        }
    }
    out
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let q = read_query(dash)?;
    let report = state.app.reports.channels(ctx, &q.params).await?;
    let json = &report.json;
    let currency = format::text(&json["currency"]);
    let level = q.filters.len();
    let dim = LEVELS[level];
    let from = format::text(&json["from"]);
    let to = format::text(&json["to"]);

    // Controls: model, extra models, date mode.
    let model_options: Vec<(String, String)> = ModelKind::ALL
        .iter()
        .map(|m| (m.as_str().to_owned(), dash.t(m.as_str()).to_owned()))
        .collect();
    let date_modes = vec![
        (
            "conversion".to_owned(),
            dash.t("date_conversion").to_owned(),
        ),
        ("session".to_owned(), dash.t("date_session").to_owned()),
    ];
    let mut extra = format!(
        "<label>{}{}</label><label>{}{}</label><details class=\"also\"><summary>{}</summary>",
        esc(dash.t("model")),
        layout::select("model", "model-select", &model_options, &q.models[0]),
        esc(dash.t("date_mode")),
        layout::select(
            "date_mode",
            "date-mode-select",
            &date_modes,
            format::text(&json["date_mode"]).as_str()
        ),
        esc(dash.t("compare_models")),
    );
    for m in ModelKind::ALL {
        let name = m.as_str();
        if name == q.models[0] {
            continue;
        }
        let checked = if q.models[1..].iter().any(|x| x == name) {
            " checked"
        } else {
            ""
        };
        extra.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"also\" value=\"{name}\" id=\"also-{name}\"{checked}>{}</label>",
            esc(dash.t(name))
        ));
    }
    extra.push_str("</details>");
    let filter_keys: Vec<String> = LEVELS[..level].iter().map(|l| format!("f_{l}")).collect();
    let filter_refs: Vec<&str> = filter_keys
        .iter()
        .map(String::as_str)
        .chain(["sort"])
        .collect();
    let mut body = layout::period_form(dash, (&from, &to), true, &extra, &filter_refs);
    // What the primary model does, in one line.
    body.push_str(&format!(
        "<p class=\"model-help muted\" id=\"model-help\">{}</p>",
        esc(dash.t(&format!("model_help_{}", q.models[0])))
    ));

    // Breadcrumbs of the drill-down.
    body.push_str("<nav class=\"crumbs\" id=\"crumbs\">");
    let base = dash.keep(&["f_channel", "f_source", "f_campaign", "f_ad", "f_keyword"]);
    body.push_str(&format!(
        "<a href=\"{}\">{}</a>",
        esc(&dash.link("/reports/channels", &base)),
        esc(dash.t("all_channels"))
    ));
    for i in 0..level {
        let mut p = base.clone();
        let keys: Vec<String> = LEVELS[..=i].iter().map(|l| format!("f_{l}")).collect();
        for (k, key) in keys.iter().enumerate() {
            p.push((key.as_str(), q.filters[k].as_str()));
        }
        body.push_str(&format!(
            " › <a href=\"{}\">{}: {}</a>",
            esc(&dash.link("/reports/channels", &p)),
            esc(dash.t(LEVELS[i])),
            esc(&q.filters[i])
        ));
    }
    body.push_str("</nav>");

    if let Some(w) = json["totals"]["warning"].as_str() {
        body.push_str(&format!("<p class=\"warning\">{}</p>", esc(w)));
    }

    // The table.
    let multi = q.models.len() > 1;
    body.push_str(
        "<div class=\"table-wrap\"><table class=\"report\" id=\"channel-report\"><thead>",
    );
    if multi {
        body.push_str(&format!("<tr><th colspan=\"{}\"></th>", 1 + PLAIN.len()));
        for m in &q.models {
            body.push_str(&format!(
                "<th colspan=\"{}\" class=\"model\">{}</th>",
                PER_MODEL.len(),
                esc(dash.t(m))
            ));
        }
        body.push_str("</tr>");
    }
    body.push_str(&format!("<tr><th>{}</th>", esc(dash.t(dim))));
    let sort_link = |metric: &str| {
        let mut p = dash.keep(&["sort"]);
        p.push(("sort", metric));
        dash.link("/reports/channels", &p)
    };
    let mut header_cell = |metric: &str| {
        body.push_str(&format!(
            "<th class=\"num\"><a href=\"{}\">{}</a></th>",
            esc(&sort_link(metric)),
            esc(dash.t(metric))
        ));
    };
    for m in PLAIN {
        header_cell(m);
    }
    for _ in &q.models {
        for m in PER_MODEL {
            header_cell(m);
        }
    }
    if !multi {
        for m in SINGLE_EXTRA {
            header_cell(m);
        }
    }
    body.push_str("</tr></thead><tbody id=\"report-rows\">");
    let rows = json["rows"].as_array().cloned().unwrap_or_default();
    let mut shown = 0;
    for row in rows.iter().filter(|r| matches(r, &q.filters)) {
        shown += 1;
        let name = format::text(&row[dim]);
        let label = if level + 1 < LEVELS.len() && name != "(unattributed)" {
            let mut p = dash.keep(&[]);
            let key = format!("f_{dim}");
            p.push((key.as_str(), name.as_str()));
            format!(
                "<a href=\"{}\" class=\"drill\">{}</a>",
                esc(&dash.link("/reports/channels", &p)),
                esc(&name)
            )
        } else {
            esc(&name)
        };
        body.push_str(&format!(
            "<tr><th scope=\"row\">{label}</th>{}</tr>",
            cells(dash, row, &q, &currency, None)
        ));
    }
    if shown == 0 {
        body.push_str(&format!(
            "<tr><td colspan=\"99\" class=\"muted\">{}</td></tr>",
            esc(dash.t("no_data"))
        ));
    }
    body.push_str("</tbody><tfoot>");
    // The totals line: the whole period at the top level; the parent
    // row (the drilled-into value) deeper down.
    let total_row = if level == 0 {
        Some(json["totals"].clone())
    } else {
        let mut parent = q.params.clone();
        parent.group_by = Some(LEVELS[..level].join(","));
        let up = state.app.reports.channels(ctx, &parent).await?;
        up.json["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| matches(r, &q.filters)).cloned())
    };
    if let Some(t) = total_row {
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th>{}</tr>",
            esc(dash.t("total")),
            cells(dash, &t, &q, &currency, Some("total"))
        ));
    }
    body.push_str("</tfoot></table></div>");
    body.push_str(&format!(
        "<p><a class=\"button\" id=\"csv-link\" href=\"{}\" download>{}</a></p>",
        esc(&dash.link("/reports/channels.csv", &dash.keep(&[]))),
        esc(dash.t("export_csv"))
    ));
    Ok(layout::page(
        dash,
        "nav_channels",
        "/reports/channels",
        &body,
    ))
}

/// `GET /reports/channels`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}

/// The rows a drill-down shows, as a report for CSV.
fn filtered(report: Report, filters: &[String]) -> Report {
    if filters.is_empty() {
        return report;
    }
    let lines = report
        .lines
        .into_iter()
        .filter(|l| filters.iter().enumerate().all(|(i, f)| l.get(i) == Some(f)))
        .collect();
    Report { lines, ..report }
}

/// `GET /reports/channels.csv`: what the page shows, as CSV.
pub async fn csv(State(state): State<AppState>, dash: Dash) -> Response {
    let r = async {
        let ctx = dash.project()?;
        let q = read_query(&dash)?;
        let report = state.app.reports.channels(ctx, &q.params).await?;
        let name = format!(
            "channels-{}-{}.csv",
            format::text(&report.json["from"]),
            format::text(&report.json["to"])
        );
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            filtered(report, &q.filters).csv(),
        )
            .into_response())
    }
    .await;
    finish(&dash, r)
}
