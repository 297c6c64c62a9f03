//! The skvoz HTTP server (axum): public ingestion routes, the authenticated
//! JSON API with its OpenAPI document, webhooks, and the dashboard.
//!
//! [`router`] builds the whole application; tests drive it with `oneshot`
//! and the binary serves it with [`serve`].

pub mod dashboard;
pub mod error;
pub mod extract;
pub mod routes;
pub mod survey_page;
pub mod telemetry;
pub mod widget;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::ApiError;
use metrics_exporter_prometheus::PrometheusHandle;
use skvoz_app::App;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Server options that are not services.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest accepted request body, in bytes (default 1 MiB).
    pub body_limit: usize,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Take the client IP from `X-Forwarded-For` (behind a reverse proxy).
    pub trust_proxy: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            body_limit: 1024 * 1024,
            secure_cookies: false,
            trust_proxy: false,
        }
    }
}

/// What every handler can reach: one `Arc`, so the per-request clone axum
/// makes is a single reference-count increment.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;
    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The state behind [`AppState`].
pub struct SharedState {
    /// The services.
    pub app: App,
    /// The metrics recorder.
    pub metrics: PrometheusHandle,
    /// The OpenAPI document, rendered once.
    pub openapi_json: Arc<String>,
    /// Whether cookies get `Secure`.
    pub secure_cookies: bool,
    /// Whether `X-Forwarded-For` is trusted.
    pub trust_proxy: bool,
}

fn collect_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::tracking::collect))
        .routes(routes!(routes::calls::hold))
}

fn script_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(routes::tracking::script))
}

fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(routes::system::healthz))
        .routes(routes!(routes::system::metrics))
        .routes(routes!(routes::system::livez))
        .routes(routes!(routes::projects::current))
        .routes(routes!(routes::projects::by_id))
        .routes(routes!(routes::settings::get, routes::settings::put))
        .routes(routes!(routes::auth::login))
        .routes(routes!(routes::auth::logout))
        .routes(routes!(routes::auth::me))
        .routes(routes!(routes::tracking::hits))
        .routes(routes!(routes::crm::create_lead))
        .routes(routes!(routes::crm::put_deal, routes::crm::get_deal))
        .routes(routes!(routes::crm::get_contact))
        .routes(routes!(routes::crm::alytics_export))
        .routes(routes!(routes::crm::alytics_pull))
        .routes(routes!(routes::crm::alytics_status))
        .routes(routes!(routes::reports::channels))
        .routes(routes!(routes::reports::dynamics))
        .routes(routes!(routes::reports::funnel))
        .routes(routes!(routes::reports::paths))
        .routes(routes!(routes::reports::service))
        .routes(routes!(routes::reports::import_costs))
        .routes(routes!(routes::chats::create_chat))
        .routes(routes!(routes::chats::get_dialog))
        .routes(routes!(routes::chats::chat_report))
        .routes(routes!(
            routes::calls::create_call,
            routes::calls::list_calls
        ))
        .routes(routes!(routes::calls::list_pools))
        .routes(routes!(routes::calls::pool_sizing))
        .routes(routes!(routes::tickets::create_ticket_event))
        .routes(routes!(routes::tickets::get_ticket))
        .routes(routes!(routes::tickets::helpdeskeddy_poll))
        .routes(routes!(routes::tickets::lookup))
        .routes(routes!(routes::tickets::timeline))
        .routes(routes!(routes::tickets::widget_url))
        .routes(routes!(routes::tickets::widget_contact))
        .routes(routes!(routes::outbox::list))
        .routes(routes!(routes::outbox::retry_one))
        .routes(routes!(routes::outbox::retry_dead))
        .routes(routes!(routes::outbox::events))
        .routes(routes!(routes::surveys::create_invitation))
        .routes(routes!(routes::surveys::nps_report))
        .routes(routes!(routes::surveys::group_contacts))
        .routes(routes!(routes::surveys::automation_runs))
        .merge(routes::hooks::routes())
}

/// The OpenAPI document of every documented route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = documented_routes()
        .merge(collect_routes())
        .merge(script_routes())
        .split_for_parts();
    api.info.title = "skvoz".to_owned();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api.info.description = Some("End-to-end marketing analytics: tracking, leads, calls, chats, tickets, deals, costs and attribution.".to_owned());
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    api
}

/// Builds the whole application router over `app`.
pub fn router(app: App, options: &ServerOptions) -> Router {
    let api_json = serde_json::to_string_pretty(&openapi()).unwrap_or_else(|_| "{}".to_owned());
    let state = AppState(Arc::new(SharedState {
        app,
        metrics: telemetry::prometheus(),
        openapi_json: Arc::new(api_json),
        secure_cookies: options.secure_cookies,
        trust_proxy: options.trust_proxy,
    }));
    let (documented, _) = documented_routes().split_for_parts();
    // The tracker's routes are called from other origins.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(86_400));
    let (collect, _) = collect_routes().split_for_parts();
    let (script, _) = script_routes().split_for_parts();
    // The tracker's routes write no events: they are not wrapped in
    // `wake_outbox` (at tens of thousands of hits a second, waking the
    // relay after each kept it reading the event log in a loop).
    let tracker = Router::new()
        .merge(collect.layer(cors.clone()))
        .merge(script.layer(cors).layer(CompressionLayer::new()));
    documented
        .route("/export/alytics/", get(routes::crm::alytics_export_base))
        .route("/export/alytics/{n}", get(routes::crm::alytics_export))
        .route(
            "/s/{token}",
            get(routes::surveys::page)
                .post(routes::surveys::submit)
                .layer(DefaultBodyLimit::max(routes::surveys::MAX_FORM_BYTES)),
        )
        .merge(dashboard::routes())
        .route("/openapi.json", get(routes::system::openapi))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            wake_outbox,
        ))
        .merge(tracker)
        .fallback(not_found)
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(state)
}

/// Wakes the outbox relay after a write was answered, so events go out at
/// once instead of at its next poll (cheap: a notify without waiters is a
/// no-op).
async fn wake_outbox(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let write = req.method() != Method::GET && req.method() != Method::HEAD;
    let response = next.run(req).await;
    if write && response.status().is_success() {
        state.app.outbox.wake();
    }
    response
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

/// Turns any error response that is not already JSON (axum's own 405, a
/// layer's 413, …) into the JSON error shape, so clients see one format.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // Dashboard pages answer their errors as HTML pages on purpose.
    if is_json {
        return response;
    }
    let message = status.canonical_reason().unwrap_or("error").to_owned();
    let mut fresh =
        ApiError::new(status, ApiError::code_for_status(status), message).into_response();
    // Keep headers such as Allow and Retry-After.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fresh
}

/// Serves until `shutdown` resolves, then drains in-flight requests and
/// flushes the store.
pub async fn serve(
    listener: TcpListener,
    app: App,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(app.clone(), &options);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    tracing::info!("server stopped; flushing pending writes");
    app.shutdown()
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(())
}
