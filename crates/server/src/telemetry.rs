//! Prometheus metrics: requests by route and status, latency histograms,
//! ingestion counters. One process-wide recorder; `/metrics` renders it.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
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
            // Histograms keep every sample until drained: without upkeep a
            // server nobody scrapes would hold one sample per request.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("skvoz-metrics".into())
                .spawn(move || loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "no metrics upkeep thread; histograms drain only when scraped");
            }
            handle
        })
        .clone()
}

/// Middleware: counts and times every request under its route template
/// (`/api/v1/deals/{external_id}`, not the raw path, so labels stay few).
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record(
        route,
        method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// The `method` label: the standard methods by name, any other token a
/// client sends as `other` — a label value per invented method would grow
/// the registry (and `/metrics`) without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// One route's metric handles, registered on the route's first request
/// with each method and status (a registry lookup with freshly allocated
/// labels on every request was a measurable part of a `/collect` hit).
#[derive(Default)]
struct RouteMetrics {
    latency: Vec<(&'static str, Histogram)>,
    requests: Vec<(&'static str, u16, Counter)>,
}

type RouteTable = parking_lot::RwLock<HashMap<String, RouteMetrics>>;

fn routes() -> &'static RouteTable {
    static ROUTES: OnceLock<RouteTable> = OnceLock::new();
    ROUTES.get_or_init(Default::default)
}

impl RouteMetrics {
    /// The handles for `method` and `status`, when registered.
    fn find(&self, method: &str, status: u16) -> Option<(&Histogram, &Counter)> {
        let latency = self.latency.iter().find(|(m, _)| *m == method)?;
        let requests = self
            .requests
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)?;
        Some((&latency.1, &requests.2))
    }
}

fn record(route: &str, method: &'static str, status: u16, seconds: f64) {
    let observe = |(h, c): (&Histogram, &Counter)| {
        h.record(seconds);
        c.increment(1);
    };
    if let Some(handles) = routes()
        .read()
        .get(route)
        .and_then(|m| m.find(method, status))
    {
        return observe(handles);
    }
    let mut table = routes().write();
    let m = table.entry(route.to_owned()).or_default();
    if !m.latency.iter().any(|(x, _)| *x == method) {
        let h = metrics::histogram!(HTTP_LATENCY, "route" => route.to_owned(), "method" => method);
        m.latency.push((method, h));
    }
    if m.find(method, status).is_none() {
        let c = metrics::counter!(HTTP_REQUESTS, "route" => route.to_owned(), "method" => method, "status" => status.to_string());
        m.requests.push((method, status, c));
    }
    if let Some(handles) = m.find(method, status) {
        observe(handles);
    }
}
