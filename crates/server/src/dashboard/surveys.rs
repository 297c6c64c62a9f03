//! `/surveys`: NPS and CSAT of the period — the totals, the trend (shares
//! of promoters, detractors and satisfied answers per bucket, with NPS per
//! bucket in the table), and NPS / CSAT by acquisition channel.

use super::charts::{self, Series};
use super::format::esc;
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use serde_json::Value;
use skvoz_app::surveys::report::NpsQuery;

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".to_owned(), |x| format!("{x:.1}"))
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn share(part: &Value, of: &Value) -> Option<f64> {
    let of = count(of);
    (of > 0).then(|| count(part) as f64 * 100.0 / of as f64)
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let granularity = dash.q("granularity").unwrap_or("week").to_owned();
    let report = state
        .app
        .surveys
        .nps_report(
            ctx,
            &NpsQuery {
                from,
                to,
                granularity: Some(granularity.clone()),
                survey: None,
            },
        )
        .await?;
    let extra = super::dynamics::granularity_picker(dash, "granularity-select", &granularity);
    let mut body = layout::period_form(
        dash,
        (&from.to_string(), &to.to_string()),
        false,
        &extra,
        &[],
    );
    let totals = &report["totals"];
    body.push_str(&format!(
        "<section class=\"kpis\" id=\"survey-totals\">\
<div class=\"kpi\"><div class=\"name\">NPS</div><div class=\"value\" id=\"kpi-nps\">{}</div><div class=\"change flat\">{} {}</div></div>\
<div class=\"kpi\"><div class=\"name\">CSAT, %</div><div class=\"value\" id=\"kpi-csat\">{}</div><div class=\"change flat\">{} {}</div></div>\
<div class=\"kpi\"><div class=\"name\">{}</div><div class=\"value\">{}</div></div></section>",
        esc(&pct(&totals["nps"])),
        count(&totals["nps_answers"]),
        esc(dash.t("survey_answers")),
        esc(&pct(&totals["csat"])),
        count(&totals["csat_answers"]),
        esc(dash.t("survey_answers")),
        esc(dash.t("csat_mean")),
        esc(&totals["csat_mean"].as_f64().map_or("—".to_owned(), |m| format!("{m:.2}"))),
    ));
    let points = report["points"].as_array().cloned().unwrap_or_default();
    let labels: Vec<String> = points
        .iter()
        .map(|p| p["period"].as_str().unwrap_or("").to_owned())
        .collect();
    let series = [
        Series {
            name: dash.t("promoters_share"),
            values: points
                .iter()
                .map(|p| share(&p["promoters"], &p["nps_answers"]))
                .collect(),
            dashed: false,
        },
        Series {
            name: dash.t("detractors_share"),
            values: points
                .iter()
                .map(|p| share(&p["detractors"], &p["nps_answers"]))
                .collect(),
            dashed: false,
        },
        Series {
            name: dash.t("csat_share"),
            values: points.iter().map(|p| p["csat"].as_f64()).collect(),
            dashed: false,
        },
    ];
    body.push_str(&format!(
        "<section class=\"card\">{}</section>",
        charts::trend(
            "survey-trend",
            dash.t("nav_surveys"),
            &labels,
            &series,
            &|v| format!("{v:.0}%")
        )
    ));
    let head = |first: &str| {
        format!(
            "<thead><tr><th>{}</th><th class=\"num\">NPS</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">CSAT, %</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead><tbody>",
            esc(first),
            esc(dash.t("promoters")),
            esc(dash.t("detractors")),
            esc(dash.t("survey_answers")),
            esc(dash.t("csat_mean")),
            esc(dash.t("survey_answers")),
        )
    };
    let line = |name: &str, r: &Value| {
        format!(
            "<tr><th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(name),
            esc(&pct(&r["nps"])),
            count(&r["promoters"]),
            count(&r["detractors"]),
            count(&r["nps_answers"]),
            esc(&pct(&r["csat"])),
            esc(&r["csat_mean"].as_f64().map_or("—".to_owned(), |m| format!("{m:.2}"))),
            count(&r["csat_answers"]),
        )
    };
    body.push_str(&format!(
        "<h2>{}</h2><div class=\"table-wrap\"><table class=\"report\" id=\"survey-by-channel\">{}",
        esc(dash.t("by_channel")),
        head(dash.t("channel"))
    ));
    for r in report["by_channel"].as_array().into_iter().flatten() {
        body.push_str(&line(r["channel"].as_str().unwrap_or(""), r));
    }
    body.push_str(&line(dash.t("total"), totals));
    body.push_str("</tbody></table></div>");
    body.push_str(&format!(
        "<h2>{}</h2><div class=\"table-wrap\"><table class=\"report\" id=\"survey-by-period\">{}",
        esc(dash.t("survey_over_time")),
        head(dash.t("period"))
    ));
    for p in &points {
        body.push_str(&line(p["period"].as_str().unwrap_or(""), p));
    }
    body.push_str("</tbody></table></div>");
    Ok(layout::page(dash, "nav_surveys", "/surveys", &body))
}

/// `GET /surveys`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
