//! The dashboard: server-rendered HTML pages in Russian and English, with
//! inline SVG charts and a little vanilla JavaScript, embedded in the binary
//! (no Node toolchain to build or run).
//!
//! One module per page; [`layout`] draws the frame (navigation, project and
//! language switchers), [`i18n`] holds every label in both languages,
//! [`charts`] draws the SVG charts, [`assets`] serves the CSS and JS.
//! Pages call the app services directly (not the JSON API over HTTP), so a
//! page costs what its reports cost.
//!
//! Adding a page: a module with a handler that takes [`Dash`], a line in
//! [`routes`], an entry in [`layout::NAV`] and its labels in [`i18n`].

pub mod assets;
pub mod calls;
pub mod channels;
pub mod charts;
pub mod chats;
pub mod contacts;
pub mod dynamics;
pub mod format;
pub mod funnel;
pub mod i18n;
pub mod layout;
pub mod leads;
pub mod login;
pub mod outbox;
pub mod overview;
pub mod settings;
pub mod surveys;

use crate::extract::{cookie, SESSION_COOKIE};
use crate::AppState;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use i18n::Lang;
use skvoz_app::context::ProjectContext;
use skvoz_app::AppError;
use skvoz_domain::Project;
use skvoz_store::User;
use std::sync::Arc;

/// The cookie holding the chosen language.
pub const LANG_COOKIE: &str = "skvoz_lang";
/// The cookie holding the chosen project.
pub const PROJECT_COOKIE: &str = "skvoz_project";
/// Longest query string a page reads.
const MAX_QUERY: usize = 4096;

/// The dashboard's routes (merged into the application router).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/lang", get(switch_lang))
        .route("/project", get(switch_project))
        .route("/reports/channels", get(channels::page))
        .route("/reports/channels.csv", get(channels::csv))
        .route("/reports/dynamics", get(dynamics::page))
        .route("/reports/funnel", get(funnel::page))
        .route("/leads", get(leads::page))
        .route("/calls", get(calls::page))
        .route("/chats", get(chats::page))
        .route("/outbox", get(outbox::page))
        .route("/outbox/retry", post(outbox::retry))
        .route("/contacts/{id}", get(contacts::page))
        .route("/settings", get(settings::page))
        .route("/surveys", get(surveys::page))
        .route("/settings/projects", post(settings::create_project))
        .route("/settings/api-key", post(settings::rotate_key))
        .route("/settings/document", post(settings::save_document))
        .route("/assets/dashboard.css", get(assets::css))
        .route("/assets/dashboard.js", get(assets::js))
        .layer(axum::middleware::from_fn(security_headers))
}

/// The dashboard's content policy: scripts and styles only from this
/// server (inline `style` attributes of the charts allowed; call recordings
/// play from the telephony's https host), no plugins, no
/// framing by another site (clickjacking) — the operator card (`/widget/contact`), which help desks embed,
/// is not a dashboard route and keeps its own headers.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' https:; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

/// Middleware: security headers on every dashboard response (pages, CSV,
/// assets, redirects).
async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// One dashboard request: the logged-in user, the language, the projects
/// and the chosen one, and the query string.
pub struct Dash {
    /// Who is logged in.
    pub user: User,
    /// The page language.
    pub lang: Lang,
    /// Every project this user may open.
    pub projects: Vec<Project>,
    /// The chosen project (`None` when there is none yet).
    pub ctx: Option<Arc<ProjectContext>>,
    /// The query string as pairs (repeated keys kept).
    pub query: Vec<(String, String)>,
    /// The request path.
    pub path: String,
    /// `scheme://host` as the browser sees this server.
    pub origin: String,
}

impl Dash {
    /// The label `key` in the page language.
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// The first value of query parameter `name`, if not empty.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    /// Every value of query parameter `name`.
    pub fn q_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// The chosen project, or a page saying there is none.
    pub fn project(&self) -> Result<&Arc<ProjectContext>, PageError> {
        self.ctx
            .as_ref()
            .ok_or_else(|| PageError::NotFound("no_projects".into()))
    }

    /// The period of the page: `from`/`to` from the query, default the last
    /// 30 days up to today in the project's time zone; and the same number
    /// of days just before it when `compare` is on.
    pub fn period(&self) -> Result<(NaiveDate, NaiveDate), PageError> {
        let tz = self.project()?.tz;
        let today = chrono::Utc::now().with_timezone(&tz).date_naive();
        let day = |name: &str| -> Result<Option<NaiveDate>, PageError> {
            match self.q(name) {
                None => Ok(None),
                Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| PageError::Invalid(name.to_owned(), "bad_date".into())),
            }
        };
        let to = day("to")?.unwrap_or(today);
        let from = day("from")?.unwrap_or(to - Duration::days(29));
        if from > to {
            return Err(PageError::Invalid("from".into(), "from_after_to".into()));
        }
        if (to - from).num_days() >= skvoz_app::reports::MAX_PERIOD_DAYS {
            return Err(PageError::Invalid("from".into(), "period_too_long".into()));
        }
        Ok((from, to))
    }

    /// [`Dash::period`] with its bounds as instants: the start of `from`
    /// and the start of the day after `to` in the project's time zone.
    pub fn period_bounds(
        &self,
    ) -> Result<(NaiveDate, NaiveDate, DateTime<Utc>, DateTime<Utc>), PageError> {
        let tz = self.project()?.tz;
        let (from, to) = self.period()?;
        let at = |day: NaiveDate| {
            DateTime::from_timestamp_millis(skvoz_app::reports::day_start_ms(tz, day))
                .ok_or_else(|| PageError::Invalid("from".into(), "bad_date".into()))
        };
        Ok((from, to, at(from)?, at(to + Duration::days(1))?))
    }

    /// The page number asked for (`page`), within `1..=pages`.
    pub fn page_no(&self, pages: usize) -> usize {
        self.q("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, pages.max(1))
    }

    /// Whether the previous period is compared.
    pub fn compare(&self) -> bool {
        self.q("compare").is_some_and(|v| v == "1" || v == "on")
    }

    /// Whether the user may change settings, keys and projects.
    pub fn can_manage(&self) -> bool {
        self.user.is_admin
    }

    /// A link to `path` on the chosen project with `params`.
    pub fn link(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &self.ctx {
            pairs.push(("project", c.project.id.0.to_string()));
        }
        for (k, v) in params {
            if !v.is_empty() {
                pairs.push((k, (*v).to_owned()));
            }
        }
        let qs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", format::url_encode(k), format::url_encode(v)))
            .collect();
        if qs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", qs.join("&"))
        }
    }

    /// The current query without `drop` keys, as pairs for [`Dash::link`].
    pub fn keep(&self, drop: &[&str]) -> Vec<(&str, &str)> {
        self.query
            .iter()
            .filter(|(k, _)| k != "project" && k != "lang" && !drop.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Why a page could not be shown; rendered as an HTML page.
#[derive(Debug)]
pub enum PageError {
    /// A query parameter is wrong: (parameter, message key).
    Invalid(String, String),
    /// Nothing to show (message key or text).
    NotFound(String),
    /// A service failed.
    App(AppError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, message } => {
                PageError::Invalid(field.unwrap_or_default(), message)
            }
            AppError::NotFound(what) => PageError::NotFound(what),
            other => PageError::App(other),
        }
    }
}

impl From<skvoz_store::StoreError> for PageError {
    fn from(e: skvoz_store::StoreError) -> Self {
        PageError::from(AppError::from(e))
    }
}

impl PageError {
    /// The page for this error, framed by the layout.
    pub fn render(self, dash: &Dash) -> Response {
        let (status, text) = match &self {
            PageError::Invalid(field, message) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: {}", field, i18n::t_or(dash.lang, message)),
            ),
            PageError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                format!("{} — {}", dash.t("not_found"), i18n::t_or(dash.lang, what)),
            ),
            PageError::App(e) => {
                tracing::error!(error = %e, "dashboard page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    dash.t("internal_error").to_owned(),
                )
            }
        };
        let body = format!(
            "<p class=\"error\" id=\"page-error\">{}</p>",
            format::esc(&text)
        );
        let mut resp = layout::page(dash, "error", "", &body);
        *resp.status_mut() = status;
        resp
    }
}

/// Renders `result`, or the error page.
pub fn finish(dash: &Dash, result: Result<Response, PageError>) -> Response {
    result.unwrap_or_else(|e| e.render(dash))
}

/// The language of a request: the `lang` query parameter, the language
/// cookie, `Accept-Language`, Russian.
pub fn request_lang(headers: &HeaderMap, query: &[(String, String)]) -> Lang {
    if let Some(l) = query
        .iter()
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
    {
        return l;
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or(Lang::Ru)
}

/// The query string as pairs; an oversize or malformed one is empty.
pub fn query_pairs(parts: &Parts) -> Vec<(String, String)> {
    let raw = parts.uri.query().unwrap_or("");
    if raw.len() > MAX_QUERY {
        return Vec::new();
    }
    Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// `scheme://host` as the browser sees the server (for webhook URLs and
/// the tracker snippet).
fn origin_of(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.len() < 256
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost:8080");
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Whether a form POST comes from this site: an `Origin` header, when the
/// browser sends one, must name this host (the session cookie is
/// `SameSite=Lax` already; this is the second lock).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, h)| !host.is_empty() && h == host)
}

/// A redirect to the login page that comes back to `parts`' URL.
fn to_login(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Redirect::to(&format!("/login?next={}", format::url_encode(next))).into_response()
}

impl FromRequestParts<AppState> for Dash {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query = query_pairs(parts);
        let lang = request_lang(&parts.headers, &query);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login(parts));
        };
        let user = match state.app.auth.session_user(token).await {
            Ok(Some(u)) => u,
            Ok(None) => return Err(to_login(parts)),
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
            }
        };
        // Users are the installation's operators: there is no per-user
        // project membership yet, so every user sees every project, and
        // only administrators change settings, keys and projects.
        let projects = state.app.projects.list().await.map_err(|e| {
            tracing::error!(error = %e, "listing projects failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        })?;
        let wanted = query
            .iter()
            .find(|(k, _)| k == "project")
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .or_else(|| cookie(&parts.headers, PROJECT_COOKIE).and_then(|v| v.parse().ok()));
        let chosen = wanted
            .and_then(|id| projects.iter().find(|p| p.id.0 == id))
            .or_else(|| projects.iter().find(|p| p.name.to_string() == "demo"))
            .or_else(|| projects.first());
        let ctx = match chosen {
            Some(p) => Some(state.app.contexts.by_id(p.id).await.map_err(|e| {
                tracing::error!(error = %e, "project context failed");
                StatusCode::SERVICE_UNAVAILABLE.into_response()
            })?),
            None => None,
        };
        Ok(Dash {
            user,
            lang,
            projects,
            ctx,
            query,
            path: parts.uri.path().to_owned(),
            origin: origin_of(&parts.headers, state.secure_cookies),
        })
    }
}

/// A path inside this site to return to, or `/`.
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        // Browsers drop tabs and newlines from URLs ("/\t/evil" is
        // "//evil"), and a `Location` header takes visible ASCII only
        // (links are percent-encoded), so anything else refuses the link.
        Some(b)
            if b.starts_with('/')
                && !b.starts_with("//")
                && !b.contains('\\')
                && b.len() <= 2048
                && b.chars().all(|c| c.is_ascii_graphic()) =>
        {
            b.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn cookie_header(name: &str, value: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; SameSite=Lax; Max-Age=31536000{secure}"
    ))
    .ok()
}

/// `GET /lang?set=en&back=/…`: remembers the language and goes back.
async fn switch_lang(
    State(state): State<AppState>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let mut resp = Redirect::to(&safe_back(get("back"))).into_response();
    if let Some(lang) = get("set").and_then(Lang::parse) {
        if let Some(c) = cookie_header(LANG_COOKIE, lang.code(), state.secure_cookies) {
            resp.headers_mut().insert(header::SET_COOKIE, c);
        }
    }
    resp
}

/// `GET /project?id=N&back=/…`: remembers the chosen project and goes back.
async fn switch_project(
    State(state): State<AppState>,
    dash: Dash,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let back = safe_back(get("back"));
    let id = get("id").and_then(|v| v.parse::<i64>().ok());
    let mut resp = Redirect::to(&back).into_response();
    if let Some(id) = id.filter(|id| dash.projects.iter().any(|p| p.id.0 == *id)) {
        if let Some(c) = cookie_header(PROJECT_COOKIE, &id.to_string(), state.secure_cookies) {
            resp.headers_mut().insert(header::SET_COOKIE, c);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_links_stay_on_this_site() {
        assert_eq!(
            safe_back(Some("/reports/channels?x=1")),
            "/reports/channels?x=1"
        );
        assert_eq!(safe_back(Some("//evil.example/")), "/");
        assert_eq!(safe_back(Some("https://evil.example/")), "/");
        assert_eq!(safe_back(Some("/\\evil")), "/");
        assert_eq!(safe_back(Some("/\t/evil.example")), "/");
        assert_eq!(safe_back(Some("/\n/evil.example")), "/");
        // Not a valid header value: would make the redirect fail.
        assert_eq!(safe_back(Some("/leads?x=ц")), "/");
        assert_eq!(safe_back(Some("/leads?x=%D1%86")), "/leads?x=%D1%86");
        assert_eq!(safe_back(None), "/");
    }

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h));
        h.insert(header::HOST, HeaderValue::from_static("a.example:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://a.example:8080"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
    }
}
