//! HelpDeskEddy → [`TicketEvent`]s, from its rule-engine webhooks and from
//! its REST API.
//!
//! # Webhooks: the recommended body
//!
//! HelpDeskEddy's webhooks are actions of its rule engine; the customer
//! composes the body from template tags. skvoz documents this JSON body (one
//! rule per event: ticket created, status changed, rating given, operator
//! replied), POSTed to `/hooks/{public_key}/helpdeskeddy?secret=…`:
//!
//! ```json
//! {
//!   "event": "created",
//!   "event_id": "{ticket_id}-{date_updated}",
//!   "ticket_id": "{ticket_id}",
//!   "status": "{status_id}",
//!   "rating": "{rating}",
//!   "email": "{user_email}",
//!   "phone": "{user_phone}",
//!   "name": "{user_name}",
//!   "subject": "{title}",
//!   "priority": "{priority_id}",
//!   "date_created": "{date_created}",
//!   "date": "{date_updated}"
//! }
//! ```
//!
//! Template tags render as text, so every field is accepted as a string or
//! a number, and an empty string (or a tag left unrendered, `{…}`) counts as
//! missing. Dates are `YYYY-MM-DD HH:MM:SS` in the account's time zone (the
//! caller passes it), RFC 3339, or Unix seconds. `event` may also be
//! `status_changed`, `rated`, `rating`, `reply`, `answered`. Only `ticket_id`
//! and a known `event` are required; `event_id`, when missing, is derived
//! from what the event says (see [`TicketEvent::idempotency_key`]).
//!
//! # REST: polling and backfill
//!
//! `GET {base}tickets/?from_date_updated=YYYY-MM-DD HH:MM:SS&page=N` with
//! Basic auth `email:api_key` answers `{"data": …, "pagination": {"total",
//! "total_pages"}}`; `data` is a list of tickets or an object keyed by id
//! (both are accepted). Each ticket becomes a `created` event (at
//! `date_created`) and a `status` event (at `date_updated`), with ids that
//! make re-polling the same ticket a no-op ([`rest_ticket_events`]).
//!
//! *Unconfirmed* beyond INTEGRATIONS.md (`id`, `unique_id`, `date_created`,
//! `date_updated`, `title`, `source`, `status_id`): the client fields are
//! read from `user_email`/`email`/`user.email` and
//! `user_phone`/`phone`/`user.phone`, the rating from `rating`/`rate`, the
//! priority from `priority_id`/`priority`; unknown fields are ignored.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use skvoz_domain::support::{TicketEvent, TicketEventKind};
use std::time::Duration;

/// What can go wrong reading HelpDeskEddy.
#[derive(Debug, thiserror::Error)]
pub enum HelpDeskEddyError {
    /// The body is not a JSON object.
    #[error("the body is not a JSON object: {0}")]
    NotJson(String),
    /// A required field is missing or empty.
    #[error("`{0}` is required")]
    Missing(&'static str),
    /// A field has a value that cannot be read.
    #[error("`{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The base URL is not an http(s) URL.
    #[error("invalid HelpDeskEddy API URL: {0}")]
    BadUrl(String),
    /// The API did not answer in time.
    #[error("HelpDeskEddy did not answer in time")]
    Timeout,
    /// The request failed below HTTP.
    #[error("HelpDeskEddy request failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The API answered with an error status.
    #[error("HelpDeskEddy answered HTTP {status}")]
    Status {
        /// HTTP status.
        status: u16,
    },
    /// The API answered with something that is not a tickets page.
    #[error("unexpected HelpDeskEddy answer: {0}")]
    BadResponse(&'static str),
}

/// Text of a scalar JSON value; empty strings and unrendered template tags
/// (`{user_email}`) are missing.
fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    let unrendered = s.starts_with('{') && s.ends_with('}');
    (!s.is_empty() && !unrendered).then_some(s)
}

fn first_text(obj: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        let mut cur = obj;
        for part in k.split('.') {
            cur = cur.get(part)?;
        }
        text(Some(cur))
    })
}

fn limit(value: Option<String>, max: usize) -> Option<String> {
    value.map(|v| {
        if v.len() <= max {
            v
        } else {
            let mut end = max;
            while !v.is_char_boundary(end) {
                end -= 1;
            }
            v[..end].to_owned()
        }
    })
}

/// Reads a HelpDeskEddy time: `YYYY-MM-DD HH:MM:SS` in `tz`, RFC 3339, or
/// Unix seconds.
pub fn parse_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return tz
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc));
        }
    }
    let secs: i64 = s.parse().ok()?;
    (1_000_000_000..10_000_000_000)
        .contains(&secs)
        .then(|| Utc.timestamp_opt(secs, 0).single())
        .flatten()
}

fn time_field(
    obj: &Value,
    keys: &[&str],
    field: &'static str,
    tz: Tz,
) -> Result<Option<DateTime<Utc>>, HelpDeskEddyError> {
    match first_text(obj, keys) {
        None => Ok(None),
        Some(s) => parse_time(&s, tz)
            .map(Some)
            .ok_or_else(|| HelpDeskEddyError::Invalid {
                field,
                reason: format!("'{s}' is not a date"),
            }),
    }
}

fn rating_field(obj: &Value) -> Result<Option<u8>, HelpDeskEddyError> {
    match first_text(obj, &["rating", "rate", "csat"]) {
        None => Ok(None),
        Some(s) => s
            .parse::<f64>()
            .ok()
            .filter(|r| (1.0..=5.0).contains(r))
            .map(|r| Some(r.round() as u8))
            .ok_or(HelpDeskEddyError::Invalid {
                field: "rating",
                reason: "must be 1-5".into(),
            }),
    }
}

fn event_kind(s: &str) -> Option<TicketEventKind> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "created" | "create" | "ticket_created" | "new" => TicketEventKind::Created,
        "status" | "status_changed" | "status_change" | "updated" => TicketEventKind::Status,
        "rating" | "rated" | "rate" | "csat" => TicketEventKind::Rating,
        "reply" | "replied" | "answered" | "answer" => TicketEventKind::Reply,
        _ => return None,
    })
}

/// The identity and descriptive fields every HelpDeskEddy shape shares.
fn common(obj: &Value, ticket_id: String, tz: Tz) -> Result<TicketEvent, HelpDeskEddyError> {
    Ok(TicketEvent {
        ticket_id,
        email: limit(
            first_text(obj, &["email", "user_email", "client_email", "user.email"]),
            254,
        ),
        phone: limit(
            first_text(obj, &["phone", "user_phone", "client_phone", "user.phone"]),
            64,
        ),
        name: limit(
            first_text(obj, &["name", "user_name", "client_name", "user.name"]),
            200,
        ),
        vid: limit(first_text(obj, &["vid", "skvoz_vid"]), 64),
        visit_code: first_text(obj, &["visit_code", "roistat"]).and_then(|s| s.parse().ok()),
        subject: limit(first_text(obj, &["subject", "title"]), 500),
        priority: limit(first_text(obj, &["priority", "priority_id"]), 64),
        product: limit(first_text(obj, &["product"]), 200),
        status: limit(first_text(obj, &["status", "status_id"]), 100),
        rating: rating_field(obj)?,
        handling_minutes: first_text(obj, &["handling_minutes", "spent_minutes"])
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|m| m.is_finite() && *m >= 0.0 && *m < 1e6)
            .map(|m| m.round() as u32),
        created_at: time_field(obj, &["date_created", "created_at"], "date_created", tz)?,
        ..TicketEvent::default()
    })
}

/// Parses one webhook delivery with the recommended body.
pub fn parse_webhook(body: &[u8], tz: Tz) -> Result<TicketEvent, HelpDeskEddyError> {
    let obj: Value =
        serde_json::from_slice(body).map_err(|e| HelpDeskEddyError::NotJson(e.to_string()))?;
    if !obj.is_object() {
        return Err(HelpDeskEddyError::NotJson("not an object".into()));
    }
    let ticket_id = limit(first_text(&obj, &["ticket_id", "id"]), 100)
        .ok_or(HelpDeskEddyError::Missing("ticket_id"))?;
    let kind_text = first_text(&obj, &["event"]).ok_or(HelpDeskEddyError::Missing("event"))?;
    let kind = event_kind(&kind_text).ok_or_else(|| HelpDeskEddyError::Invalid {
        field: "event",
        reason: format!("'{kind_text}' is not created, status, rating or reply"),
    })?;
    let mut event = common(&obj, ticket_id, tz)?;
    event.kind = Some(kind);
    event.event_id = limit(first_text(&obj, &["event_id"]), 200);
    event.at = time_field(&obj, &["date", "date_updated", "at"], "date", tz)?;
    if kind == TicketEventKind::Created && event.at.is_none() {
        event.at = event.created_at;
    }
    if kind == TicketEventKind::Rating && event.rating.is_none() {
        return Err(HelpDeskEddyError::Missing("rating"));
    }
    if kind == TicketEventKind::Status && event.status.is_none() {
        return Err(HelpDeskEddyError::Missing("status"));
    }
    Ok(event)
}

/// The events one REST ticket stands for: its creation and its current
/// status (and its rating, when it has one). Ids are derived from the
/// ticket id and its times, so polling the same ticket again applies
/// nothing twice.
pub fn rest_ticket_events(ticket: &Value, tz: Tz) -> Result<Vec<TicketEvent>, HelpDeskEddyError> {
    let id = limit(first_text(ticket, &["id", "unique_id"]), 100)
        .ok_or(HelpDeskEddyError::Missing("id"))?;
    let base = common(ticket, id.clone(), tz)?;
    let created = base
        .created_at
        .ok_or(HelpDeskEddyError::Missing("date_created"))?;
    let updated = time_field(ticket, &["date_updated"], "date_updated", tz)?.unwrap_or(created);
    let mut out = vec![TicketEvent {
        kind: Some(TicketEventKind::Created),
        event_id: Some(format!("rest:{id}:created")),
        at: Some(created),
        rating: None,
        ..base.clone()
    }];
    if let Some(status) = &base.status {
        out.push(TicketEvent {
            kind: Some(TicketEventKind::Status),
            event_id: Some(format!("rest:{id}:status:{status}:{}", updated.timestamp())),
            at: Some(updated),
            rating: None,
            ..base.clone()
        });
    }
    if let Some(rating) = base.rating {
        out.push(TicketEvent {
            kind: Some(TicketEventKind::Rating),
            event_id: Some(format!("rest:{id}:rating:{rating}")),
            at: Some(updated),
            ..base
        });
    }
    Ok(out)
}

/// One page of `tickets/`.
#[derive(Debug, Clone)]
pub struct TicketsPage {
    /// The tickets (raw objects).
    pub tickets: Vec<Value>,
    /// Pages in all.
    pub total_pages: u32,
    /// Tickets in all.
    pub total: u64,
}

/// Reads tickets from one HelpDeskEddy account.
#[derive(Clone)]
pub struct HelpDeskEddyClient {
    http: reqwest::Client,
    base: reqwest::Url,
    auth: String,
    tz: Tz,
}

// The Basic auth header holds the API key.
impl std::fmt::Debug for HelpDeskEddyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelpDeskEddyClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl HelpDeskEddyClient {
    /// A client for the API base URL (`https://shop.helpdeskeddy.com/api/v2/`),
    /// with Basic auth `email:api_key`; `tz` is the account's time zone
    /// (dates are local). `timeout` bounds each request.
    pub fn new(
        base_url: &str,
        email: &str,
        api_key: &str,
        tz: Tz,
        timeout: Duration,
    ) -> Result<Self, HelpDeskEddyError> {
        let mut base = reqwest::Url::parse(base_url.trim())
            .map_err(|e| HelpDeskEddyError::BadUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(HelpDeskEddyError::BadUrl("not http(s)".into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("skvoz/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(HelpDeskEddyError::Http)?;
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{email}:{api_key}"))
        );
        Ok(HelpDeskEddyClient {
            http,
            base,
            auth,
            tz,
        })
    }

    /// One page (1-based) of the tickets updated at or after `since`.
    pub async fn tickets_page(
        &self,
        since: DateTime<Utc>,
        page: u32,
    ) -> Result<TicketsPage, HelpDeskEddyError> {
        let mut url = self
            .base
            .join("tickets/")
            .map_err(|e| HelpDeskEddyError::BadUrl(e.to_string()))?;
        let local = since.with_timezone(&self.tz).format("%Y-%m-%d %H:%M:%S");
        url.query_pairs_mut()
            .append_pair("from_date_updated", &local.to_string())
            .append_pair("page", &page.to_string());
        let response = self
            .http
            .get(url)
            .header(reqwest::header::AUTHORIZATION, &self.auth)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(HelpDeskEddyError::Status {
                status: status.as_u16(),
            });
        }
        let body: Value = response.json().await.map_err(transport)?;
        let tickets = match body.get("data") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Object(map)) => map.values().cloned().collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(HelpDeskEddyError::BadResponse("`data` is not a list")),
        };
        let pagination = body.get("pagination");
        let num = |k: &str| {
            pagination.and_then(|p| p.get(k)).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        Ok(TicketsPage {
            total_pages: num("total_pages").map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            total: num("total").unwrap_or(tickets.len() as u64),
            tickets,
        })
    }
}

fn transport(e: reqwest::Error) -> HelpDeskEddyError {
    if e.is_timeout() {
        HelpDeskEddyError::Timeout
    } else {
        HelpDeskEddyError::Http(e)
    }
}
