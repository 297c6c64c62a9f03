//! Prometheus metrics: requests by route and status, latency histograms,
//! ingestion counters. One process-wide recorder; `/metrics` renders it.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Requests served, by `route`, `method` and `status`.
pub const HTTP_REQUESTS: &str = "skvoz_http_requests_total";
/// Request latency in seconds, by `route` and `method`.
pub const HTTP_LATENCY: &str = "skvoz_http_request_duration_seconds";
/// Records accepted and committed, by `kind` (`hit`, `lead`, `call`, …).
pub const INGESTED: &str = "skvoz_ingested_total";
/// Records refused, by `kind` and `reason`.
pub const REJECTED: &str = "skvoz_rejected_total";

/// The process-wide recorder's handle, installed on first use.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_LATENCY.to_owned()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("skvoz_ingest_commit_seconds".to_owned()),
                        &[0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5],
                    )
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests in one
            // process); the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            metrics::describe_counter!(
                HTTP_REQUESTS,
                "HTTP requests served by route, method and status"
            );
            metrics::describe_histogram!(
                HTTP_LATENCY,
                metrics::Unit::Seconds,
                "HTTP request latency"
            );
            metrics::describe_counter!(INGESTED, "Records accepted and committed, by kind");
            metrics::describe_counter!(REJECTED, "Records refused, by kind and reason");
            handle
        })
        .clone()
}

/// Middleware: counts and times every request under its route template
/// (`/api/v1/deals/{external_id}`, not the raw path, so labels stay few).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_LATENCY, "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    response
}
