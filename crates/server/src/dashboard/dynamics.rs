//! `/reports/dynamics`: one metric over days, weeks, months or quarters —
//! in total against the previous period, or one line per channel.

use super::charts::{self, Series};
use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use skvoz_app::reports::ReportParams;

/// Metrics offered.
pub const METRICS: &[&str] = &[
    "visits",
    "visitors",
    "leads",
    "deals",
    "sales",
    "revenue",
    "profit",
    "cost",
    "cpl",
    "cpo",
    "roi",
    "conversion_lead",
    "conversion_sale",
    "avg_check",
];

/// Granularities offered.
pub const GRANULARITIES: &[&str] = &["day", "week", "month", "quarter"];

/// A labelled granularity `<select>` (name `granularity`) for a page's
/// filter bar.
pub fn granularity_picker(dash: &Dash, id: &str, selected: &str) -> String {
    let options: Vec<(String, String)> = GRANULARITIES
        .iter()
        .map(|g| ((*g).to_owned(), dash.t(g).to_owned()))
        .collect();
    format!(
        "<label>{}{}</label>",
        esc(dash.t("granularity")),
        layout::select("granularity", id, &options, selected)
    )
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let metric = dash.q("metric").unwrap_or("visits");
    if !METRICS.contains(&metric) {
        return Err(PageError::Invalid("metric".into(), "unknown_value".into()));
    }
    let granularity = dash.q("granularity").unwrap_or("day");
    let by_channel = dash.q("by") == Some("channel");
    let (pf, pt) = super::overview::previous(from, to);
    let compare = dash.compare() && !by_channel;
    let params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        model: dash.q("model").map(str::to_owned),
        metric: Some(metric.to_owned()),
        granularity: Some(granularity.to_owned()),
        group_by: by_channel.then(|| "channel".to_owned()),
        compare_from: compare.then(|| pf.to_string()),
        compare_to: compare.then(|| pt.to_string()),
        ..Default::default()
    };
    let report = state.app.reports.dynamics(ctx, &params).await?;
    let json = &report.json;
    let currency = ctx.settings.general.currency.to_string();
    let lang = dash.lang;
    let opts = |names: &[&str]| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), dash.t(n).to_owned()))
            .collect()
    };
    let split = vec![
        (String::new(), dash.t("in_total").to_owned()),
        ("channel".to_owned(), dash.t("by_channel").to_owned()),
    ];
    let extra = format!(
        "<label>{}{}</label><label>{}{}</label><label>{}{}</label>",
        esc(dash.t("metric")),
        layout::select("metric", "metric-select", &opts(METRICS), metric),
        esc(dash.t("granularity")),
        layout::select(
            "granularity",
            "granularity-select",
            &opts(GRANULARITIES),
            granularity
        ),
        esc(dash.t("split")),
        layout::select(
            "by",
            "by-select",
            &split,
            if by_channel { "channel" } else { "" }
        ),
    );
    let mut body = layout::period_form(
        dash,
        (&from.to_string(), &to.to_string()),
        true,
        &extra,
        &["model"],
    );
    let fmt_axis = |v: f64| format::metric(lang, metric, Some(v), &currency);
    let values = |ps: &Value| -> Vec<Option<f64>> {
        ps.as_array()
            .map(|a| a.iter().map(|p| format::num(&p["value"])).collect())
            .unwrap_or_default()
    };
    let labels = |ps: &Value| -> Vec<String> {
        ps.as_array()
            .map(|a| a.iter().map(|p| format::text(&p["period"])).collect())
            .unwrap_or_default()
    };
    body.push_str("<section class=\"card\">");
    let mut table_head = vec![dash.t("period").to_owned()];
    let mut columns: Vec<Vec<Option<f64>>> = Vec::new();
    let x_labels;
    if by_channel {
        let series = json["series"].as_array().cloned().unwrap_or_default();
        x_labels = series
            .first()
            .map(|s| labels(&s["points"]))
            .unwrap_or_default();
        let names: Vec<String> = series.iter().map(|s| format::text(&s["channel"])).collect();
        let lines: Vec<Series<'_>> = series
            .iter()
            .zip(&names)
            .map(|(s, n)| Series {
                name: n.as_str(),
                values: values(&s["points"]),
                dashed: false,
            })
            .collect();
        body.push_str(&charts::trend(
            "dynamics-chart",
            dash.t(metric),
            &x_labels,
            &lines,
            &fmt_axis,
        ));
        for (s, n) in series.iter().zip(&names) {
            table_head.push(n.clone());
            columns.push(values(&s["points"]));
        }
    } else {
        x_labels = labels(&json["points"]);
        let mut lines = vec![Series {
            name: dash.t("this_period"),
            values: values(&json["points"]),
            dashed: false,
        }];
        table_head.push(dash.t(metric).to_owned());
        columns.push(values(&json["points"]));
        if compare {
            lines.push(Series {
                name: dash.t("previous_period"),
                values: values(&json["previous"]),
                dashed: true,
            });
            table_head.push(dash.t("previous_period").to_owned());
            columns.push(values(&json["previous"]));
        }
        body.push_str(&charts::trend(
            "dynamics-chart",
            dash.t(metric),
            &x_labels,
            &lines,
            &fmt_axis,
        ));
    }
    body.push_str("</section><div class=\"table-wrap\"><table class=\"report\" id=\"dynamics-table\"><thead><tr>");
    for (i, h) in table_head.iter().enumerate() {
        let class = if i == 0 { "" } else { " class=\"num\"" };
        body.push_str(&format!("<th{class}>{}</th>", esc(h)));
    }
    body.push_str("</tr></thead><tbody>");
    for (i, label) in x_labels.iter().enumerate() {
        body.push_str(&format!("<tr><th scope=\"row\">{}</th>", esc(label)));
        for c in &columns {
            body.push_str(&format!(
                "<td class=\"num\">{}</td>",
                esc(&format::metric(
                    lang,
                    metric,
                    c.get(i).copied().flatten(),
                    &currency
                ))
            ));
        }
        body.push_str("</tr>");
    }
    body.push_str("</tbody></table></div>");
    Ok(layout::page(
        dash,
        "nav_dynamics",
        "/reports/dynamics",
        &body,
    ))
}

/// `GET /reports/dynamics`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
