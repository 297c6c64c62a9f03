//! Tracking routes: `POST /collect` from the site script and
//! `POST /api/v1/hits` from a site's backend or a history import.

use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, ApiJson, ApiProject};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use skvoz_app::tracking::input::HitFields;
use skvoz_app::tracking::{HitInput, HitOutcome};
use std::net::{IpAddr, SocketAddr};
use utoipa::ToSchema;

/// The client's address and browser, as far as the request tells.
pub struct ClientMeta {
    /// Client IP (the socket peer, or the first `X-Forwarded-For` hop when
    /// skvoz is told it is behind a proxy).
    pub ip: Option<IpAddr>,
    /// `User-Agent`.
    pub ua: Option<String>,
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = if state.trust_proxy {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok())
                .or_else(|| {
                    parts
                        .headers
                        .get("x-real-ip")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse().ok())
                })
        } else {
            None
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let ua = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Ok(ClientMeta {
            ip: forwarded.or(peer),
            ua,
        })
    }
}

/// The `/collect` response.
#[derive(Serialize, ToSchema)]
pub struct CollectResponse {
    /// Visitor id to keep in the `skvoz_vid` cookie.
    pub vid: String,
    /// The visit id (`null` for a bot).
    pub visit_id: Option<i64>,
    /// The visit's short code (`null` for a bot).
    pub visit_code: Option<i64>,
    /// Tracking number to show instead of the site's, if any.
    pub phone: Option<String>,
    /// Text to prefill in messenger links, if any.
    pub wa_text: Option<String>,
    /// Configured WhatsApp numbers (digits, `n`) with the text to prefill
    /// on this page (`t`); absent when none are configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub wa: Vec<skvoz_domain::messengers::WaPrefill>,
    /// Configured Telegram bots (`b`) with this visit's `start` payload
    /// (`p`); absent when none are configured.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub tg: Vec<skvoz_domain::messengers::TgPayload>,
}

impl From<HitOutcome> for CollectResponse {
    fn from(o: HitOutcome) -> Self {
        CollectResponse {
            vid: o.vid,
            visit_id: o.visit_id,
            visit_code: o.visit_code,
            phone: o.phone,
            wa_text: o.wa_text,
            wa: o.wa,
            tg: o.tg,
        }
    }
}

/// The `/collect` body (documented shape).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CollectBody {
    /// Public tracker key.
    key: String,
    /// Visitor id.
    vid: Option<String>,
    /// Page URL.
    url: String,
    /// Referrer.
    referrer: Option<String>,
    /// Page title.
    title: Option<String>,
    /// `1920x1080`.
    screen: Option<String>,
    /// Browser language.
    lang: Option<String>,
    /// Browser time zone.
    tz: Option<String>,
    /// GA client id.
    ga_cid: Option<String>,
    /// Yandex Metrika client id.
    ym_uid: Option<String>,
    /// Event name.
    event: Option<String>,
    /// Event properties.
    props: Option<serde_json::Value>,
}

fn body_is_json_or_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || m == "text/plain" || m.ends_with("+json")
        })
        .unwrap_or(false)
}

/// A page view or event from the site script. Accepts `application/json`
/// and `text/plain` (what `fetch`/`sendBeacon` send without a CORS
/// preflight). Answers only after the hit is committed.
#[utoipa::path(post, path = "/collect", tag = "tracking",
    request_body = CollectBody,
    responses((status = 200, body = CollectResponse), (status = 401, description = "no key"),
        (status = 403, description = "unknown key"), (status = 422, description = "invalid field")))]
pub async fn collect(
    State(state): State<AppState>,
    meta: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CollectResponse>> {
    if !body_is_json_or_text(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the hit as application/json or text/plain",
        ));
    }
    let mut fields: HitFields = parse_json(&body)?;
    let key = match fields.key.take() {
        Some(k) if !k.is_empty() => k,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing tracker key",
            )
            .with_field("key"))
        }
    };
    let input = HitInput {
        fields,
        at: Utc::now(),
        explicit_time: false,
        ip: meta.ip,
        // A browser always sends a User-Agent; none at all is a script.
        ua: Some(meta.ua.unwrap_or_default()),
    };
    let outcome = state.app.tracking.collect(&key, input).await?;
    Ok(Json(outcome.into()))
}

/// One server-side hit.
#[derive(Deserialize, ToSchema)]
pub struct ApiHit {
    /// The `/collect` fields without `key`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    fields: HitFieldsDoc,
    /// When it happened (RFC 3339); default now.
    at: Option<DateTime<Utc>>,
    /// The visitor's IP, for the region.
    #[schema(value_type = Option<String>)]
    ip: Option<IpAddr>,
    /// The visitor's User-Agent.
    ua: Option<String>,
}

/// Wrapper so the flattened fields deserialize as [`HitFields`].
#[derive(Deserialize)]
#[serde(transparent)]
pub struct HitFieldsDoc(HitFields);

/// A single hit or an array of them.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// Several hits.
    Many(Vec<ApiHit>),
    /// One hit.
    One(Box<ApiHit>),
}

/// Server-side tracking and history import: one hit or an array (up to
/// 10,000), sessionized per visitor in time order with the same rules as
/// `/collect`; committed together; the response has one entry per hit, in
/// request order (an array when an array was sent).
#[utoipa::path(post, path = "/api/v1/hits", tag = "tracking",
    security(("api_key" = [])),
    request_body(content = Object, description = "a hit or an array of hits"),
    responses((status = 200, description = "the /collect response fields per hit"), (status = 422)))]
pub async fn hits(
    State(state): State<AppState>,
    project: ApiProject,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let is_array = body.is_array();
    let parsed: OneOrMany =
        serde_json::from_value(body).map_err(|e| ApiError::invalid("", e.to_string()))?;
    let hits = match parsed {
        OneOrMany::Many(v) => v,
        OneOrMany::One(h) => vec![*h],
    };
    if hits.is_empty() || hits.len() > 10_000 {
        return Err(ApiError::invalid("", "send 1 to 10000 hits"));
    }
    let now = Utc::now();
    let inputs = hits
        .into_iter()
        .map(|h| HitInput {
            explicit_time: h.at.is_some(),
            at: h.at.unwrap_or(now),
            ip: h.ip,
            // The caller's own User-Agent is a backend's, not the visitor's.
            ua: h.ua,
            fields: HitFields {
                key: None,
                ..h.fields.0
            },
        })
        .collect();
    let outcomes = state.app.tracking.import(project.0.id, inputs).await?;
    let responses: Vec<CollectResponse> = outcomes.into_iter().map(Into::into).collect();
    let value = if is_array {
        serde_json::to_value(responses)
    } else {
        serde_json::to_value(responses.into_iter().next())
    }
    .map_err(|e| ApiError::from(skvoz_app::AppError::Internal(e.to_string())))?;
    Ok(Json(value))
}

/// The site script, embedded in the binary, with its plugins appended.
pub const TRACKER_JS: &str = concat!(
    include_str!("../../assets/t.js"),
    include_str!("../../assets/chats.js"),
    include_str!("../../assets/calls.js"),
    include_str!("../../assets/tickets.js")
);

/// The site script. Cached by browsers for an hour; gzip when accepted.
#[utoipa::path(get, path = "/t.js", tag = "tracking",
    responses((status = 200, description = "the tracker script", content_type = "application/javascript")))]
pub async fn script() -> impl axum::response::IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        TRACKER_JS,
    )
}
