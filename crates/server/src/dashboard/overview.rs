//! `/`: the overview — visits, leads, sales, revenue, cost and ROI of the
//! period against the previous one, the trend of a chosen metric, and the
//! channels' shares of visits and revenue.

use super::charts::{self, Series};
use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate};
use serde_json::Value;
use skvoz_app::reports::ReportParams;

/// The figures at the top of the overview.
pub const KPIS: &[&str] = &["visits", "leads", "sales", "revenue", "cost", "roi"];

/// Metrics the trend chart can show.
pub const TREND_METRICS: &[&str] = &["visits", "leads", "sales", "revenue", "cost"];

/// The period just before `from..=to`, as long.
pub fn previous(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let prev_to = from - Duration::days(1);
    (prev_to - (to - from), prev_to)
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let (pf, pt) = previous(from, to);
    let model = dash.q("model").map(str::to_owned);
    let params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        model: model.clone(),
        group_by: Some("channel".into()),
        compare_from: Some(pf.to_string()),
        compare_to: Some(pt.to_string()),
        sort: Some("visits".into()),
        ..Default::default()
    };
    let report = state.app.reports.channels(ctx, &params).await?;
    let json = &report.json;
    let currency = format::text(&json["currency"]);
    let totals = &json["totals"];
    let lang = dash.lang;
    let mut body = layout::period_form(
        dash,
        (&from.to_string(), &to.to_string()),
        false,
        "",
        &["metric", "model"],
    );
    body.push_str("<section class=\"kpis\">");
    for k in KPIS {
        let now = format::num(&totals[*k]);
        let prev = format::num(&totals["previous"][*k]);
        let change = format::num(&totals["change"][*k]);
        let class = match change {
            Some(c) if c > 0.0 => "up",
            Some(c) if c < 0.0 => "down",
            _ => "flat",
        };
        body.push_str(&format!(
            "<div class=\"kpi\"><div class=\"name\">{}</div><div class=\"value\" id=\"kpi-{k}\">{}</div>\
<div class=\"change {class}\" title=\"{}: {}\">{}</div></div>",
            esc(dash.t(k)),
            esc(&format::metric(lang, k, now, &currency)),
            esc(dash.t("previous_period")),
            esc(&format::metric(lang, k, prev, &currency)),
            esc(&format::change(lang, change)),
        ));
    }
    body.push_str("</section>");

    // The trend of one metric, the previous period dashed beneath.
    let metric = dash
        .q("metric")
        .filter(|m| TREND_METRICS.contains(m))
        .unwrap_or("visits");
    body.push_str("<section class=\"card\"><div class=\"tabs\" id=\"trend-tabs\">");
    for m in TREND_METRICS {
        let class = if *m == metric {
            " class=\"active\""
        } else {
            ""
        };
        let mut keep = dash.keep(&["metric"]);
        keep.push(("metric", m));
        body.push_str(&format!(
            "<a href=\"{}\"{class}>{}</a>",
            esc(&dash.link("/", &keep)),
            esc(dash.t(m))
        ));
    }
    body.push_str("</div>");
    let dyn_params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        model,
        metric: Some(metric.to_owned()),
        compare_from: Some(pf.to_string()),
        compare_to: Some(pt.to_string()),
        ..Default::default()
    };
    let dynamics = state.app.reports.dynamics(ctx, &dyn_params).await?;
    let points = dynamics.json["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let prev_points = dynamics.json["previous"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let labels: Vec<String> = points.iter().map(|p| format::text(&p["period"])).collect();
    let values = |ps: &[Value]| {
        ps.iter()
            .map(|p| format::num(&p["value"]))
            .collect::<Vec<_>>()
    };
    let fmt_axis = |v: f64| format::metric(lang, metric, Some(v), &currency);
    body.push_str(&charts::trend(
        "trend-chart",
        dash.t(metric),
        &labels,
        &[
            Series {
                name: dash.t("this_period"),
                values: values(&points),
                dashed: false,
            },
            Series {
                name: dash.t("previous_period"),
                values: values(&prev_points),
                dashed: true,
            },
        ],
        &fmt_axis,
    ));
    body.push_str("</section>");

    // Channel shares.
    let rows = json["rows"].as_array().cloned().unwrap_or_default();
    let items = |metric: &str| -> Vec<(String, f64)> {
        rows.iter()
            .map(|r| {
                (
                    format::text(&r["channel"]),
                    format::num(&r[metric]).unwrap_or(0.0),
                )
            })
            .filter(|(_, v)| *v > 0.0)
            .collect()
    };
    let money = |v: f64| format::metric(lang, "revenue", Some(v), &currency);
    body.push_str(&format!(
        "<div class=\"grid2\"><section class=\"card\"><h2>{}</h2>{}</section><section class=\"card\"><h2>{}</h2>{}</section></div>",
        esc(dash.t("visits_by_channel")),
        charts::donut("share-visits", dash.t("visits_by_channel"), &items("visits")),
        esc(dash.t("revenue_by_channel")),
        charts::share_bars("share-revenue", dash.t("revenue_by_channel"), &items("revenue"), &money),
    ));
    // The deal funnel of the period.
    let funnel_params = ReportParams {
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        ..Default::default()
    };
    let funnel = state.app.reports.funnel(ctx, &funnel_params).await?;
    let stages: Vec<(String, f64, Option<f64>)> = funnel.json["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, s)| {
            (
                format::text(&s["stage"]),
                format::num(&s["deals"]).unwrap_or(0.0),
                (i > 0)
                    .then(|| format::num(&s["conversion_from_previous"]))
                    .flatten(),
            )
        })
        .collect();
    let count = |v: f64| format::metric(lang, "deals", Some(v), "");
    body.push_str(&format!(
        "<section class=\"card\"><h2><a href=\"{}\">{}</a></h2>{}</section>",
        esc(&dash.link(
            "/reports/funnel",
            &[("from", &from.to_string()), ("to", &to.to_string())]
        )),
        esc(dash.t("nav_funnel")),
        charts::funnel("overview-funnel", dash.t("nav_funnel"), &stages, &count)
    ));
    body.push_str(&format!(
        "<p><a href=\"{}\">{} →</a></p>",
        esc(&dash.link(
            "/reports/channels",
            &[("from", &from.to_string()), ("to", &to.to_string())]
        )),
        esc(dash.t("open_channel_report"))
    ));
    Ok(layout::page(dash, "nav_overview", "/", &body))
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
