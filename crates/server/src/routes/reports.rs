//! Reports (channel report, dynamics, funnel, paths) and ad spend. Every report
//! answers JSON, or CSV with `format=csv`.

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiProject, ApiQuery};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use skvoz_app::reports::costs::{CostImport, CostInput};
use skvoz_app::reports::{Report, ReportParams};

fn answer(report: Report, params: &ReportParams, name: &str) -> ApiResult<Response> {
    match params.format.as_deref() {
        None | Some("json") => Ok(Json(report.json).into_response()),
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.csv\""),
                ),
            ],
            report.csv(),
        )
            .into_response()),
        Some(_) => Err(ApiError::invalid("format", "format is json or csv")),
    }
}

/// The channel report: visits, leads, deals, sales, revenue, cost and the
/// ratios per group (drill down with `group_by`), under one or several
/// attribution models, optionally against a previous period.
#[utoipa::path(get, path = "/api/v1/reports/channels", tag = "reports", security(("api_key" = [])),
    params(
        ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (project time zone); default 29 days before `to`"),
        ("to" = Option<String>, Query, description = "last day, inclusive; default today"),
        ("model" = Option<String>, Query, description = "attribution model, or several comma-separated (first_click, last_click, last_non_direct, last_paid, linear, time_decay, position_based, markov, markov_path, shapley); the first is primary, the others come under `by_model`"),
        ("group_by" = Option<String>, Query, description = "comma list of channel, source, medium, campaign, ad, keyword; default channel"),
        ("date_mode" = Option<String>, Query, description = "conversion (default): credit on the conversion's date; session: on the date of the session that earned it"),
        ("compare_from" = Option<String>, Query, description = "first day of the comparison period"),
        ("compare_to" = Option<String>, Query, description = "last day of the comparison period"),
        ("sort" = Option<String>, Query, description = "metric to sort rows by, descending; default visits"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "{rows: [{dims…, metrics…, by_model?, previous?, change?}], totals}"), (status = 422, description = "a bad parameter")))]
pub async fn channels(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let report = state.app.reports.channels(&ctx, &params).await?;
    answer(report, &params, "channels")
}

/// One metric over time by day, week, month or quarter, optionally per
/// group and against a previous period.
#[utoipa::path(get, path = "/api/v1/reports/dynamics", tag = "reports", security(("api_key" = [])),
    params(
        ("metric" = Option<String>, Query, description = "any channel-report metric; default visits"),
        ("granularity" = Option<String>, Query, description = "day (default), week, month, quarter"),
        ("from" = Option<String>, Query, description = "first day"),
        ("to" = Option<String>, Query, description = "last day, inclusive"),
        ("model" = Option<String>, Query, description = "attribution model"),
        ("group_by" = Option<String>, Query, description = "optional: a series per group"),
        ("date_mode" = Option<String>, Query, description = "conversion or session"),
        ("compare_from" = Option<String>, Query, description = "first day of the comparison period"),
        ("compare_to" = Option<String>, Query, description = "last day of the comparison period"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "{points: [{period, from, to, value}], previous?} or {series: [...]}"), (status = 422, description = "a bad parameter")))]
pub async fn dynamics(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let report = state.app.reports.dynamics(&ctx, &params).await?;
    answer(report, &params, "dynamics")
}

/// The deal funnel: deals created in the period that reached each stage
/// of the pipeline, optionally per group.
#[utoipa::path(get, path = "/api/v1/reports/funnel", tag = "reports", security(("api_key" = [])),
    params(
        ("from" = Option<String>, Query, description = "first day"),
        ("to" = Option<String>, Query, description = "last day, inclusive"),
        ("model" = Option<String>, Query, description = "attribution model for groups"),
        ("group_by" = Option<String>, Query, description = "optional dimensions"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "{stages: [{stage, kind, deals, share_of_first, conversion_from_previous}], rows}")))]
pub async fn funnel(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let report = state.app.reports.funnel(&ctx, &params).await?;
    answer(report, &params, "funnel")
}

/// The period's journeys in ChannelAttribution's input shape, so the
/// models can be recomputed elsewhere: one row per distinct path of groups
/// (`a > b > c`, in time order, repeats kept) with `total_conversions`,
/// `total_null` and `total_conversion_value` — the journeys `markov`
/// builds its chain from.
#[utoipa::path(get, path = "/api/v1/reports/paths", tag = "reports", security(("api_key" = [])),
    params(
        ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD (project time zone)"),
        ("to" = Option<String>, Query, description = "last day, inclusive"),
        ("group_by" = Option<String>, Query, description = "comma list of channel, source, medium, campaign, ad, keyword (a path's states); default channel"),
        ("conversion" = Option<String>, Query, description = "leads, deals or sales (default; its value is the revenue)"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "{rows: [{path, total_conversions, total_null, total_conversion_value}], conversion, group_by, currency}"), (status = 422, description = "a bad parameter")))]
pub async fn paths(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let report = state.app.reports.paths(&ctx, &params).await?;
    answer(report, &params, "paths")
}

/// The "problem channels" view: per acquisition channel, tickets per
/// customer and per sale, service cost and its share of revenue, CSAT,
/// resolved share, ROI and ROI after service; ranked by tickets per
/// customer.
#[utoipa::path(get, path = "/api/v1/reports/service", tag = "reports", security(("api_key" = [])),
    params(
        ("from" = Option<String>, Query, description = "first day"),
        ("to" = Option<String>, Query, description = "last day, inclusive"),
        ("model" = Option<String>, Query, description = "attribution model for sales and revenue"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "{rows: [{channel, tickets, customers, tickets_per_customer, tickets_per_sale, service_cost, service_cost_share, csat, resolved_share, roi, roi_after_service, …}], totals}")))]
pub async fn service(
    State(state): State<AppState>,
    project: ApiProject,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> ApiResult<Response> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    let report = state
        .app
        .reports
        .service(&ctx, &params, &state.app.tickets)
        .await?;
    answer(report, &params, "service")
}

/// Ad spend: lines of `{date | date_from + date_to, source, medium?,
/// campaign?, ad?, keyword?, cost, clicks?, impressions?}`. A range is
/// spread evenly over its days; every (day, source) the import names is
/// replaced, so sending the same lines twice changes nothing.
#[utoipa::path(post, path = "/api/v1/costs", tag = "reports", security(("api_key" = [])),
    request_body(content = Object, description = "[{date, source, medium?, campaign?, ad?, keyword?, cost, clicks?, impressions?}]"),
    responses((status = 200, description = "{lines, rows, replaced, days}"), (status = 422, description = "a bad line, named by its index")))]
pub async fn import_costs(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(lines): ApiJson<Vec<CostInput>>,
) -> ApiResult<Json<CostImport>> {
    let ctx = state.app.contexts.by_id(project.0.id).await?;
    Ok(Json(state.app.costs.import_json(&ctx, lines).await?))
}
