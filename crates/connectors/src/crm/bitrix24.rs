//! Bitrix24 deal events → [`DealUpdate`]s, in two steps: parse the outbound
//! event ([`parse_event`], [`token_matches`]), then read the deal back with
//! `crm.deal.get` ([`Bitrix24Client::deal_get`]) and normalize it
//! ([`deal_to_update`]).
//!
//! # Event format
//!
//! Bitrix24 outbound event handlers POST form-encoded bodies with
//! PHP-style bracketed keys (brackets usually percent-encoded):
//!
//! ```text
//! event=ONCRMDEALUPDATE
//! event_handler_id=17
//! data[FIELDS][ID]=45
//! ts=1700000000
//! auth[domain]=shop.bitrix24.ru
//! auth[client_endpoint]=https://shop.bitrix24.ru/rest/
//! auth[server_endpoint]=https://oauth.bitrix.info/rest/
//! auth[member_id]=a223c6b3710f85df22e9377d6c4f7553
//! auth[application_token]=abc123
//! ```
//!
//! Events used: `ONCRMDEALADD`, `ONCRMDEALUPDATE`, `ONCRMDEALDELETE`
//! ([`Bitrix24EventKind`]). Only the deal id arrives; the caller checks
//! `application_token` against the one shown when the handler was created
//! ([`token_matches`]), then reads the deal (except after a delete).
//!
//! # `crm.deal.get`
//!
//! `GET {portal_url}crm.deal.get.json?id=45`, where `portal_url` is an
//! incoming-webhook base such as `https://shop.bitrix24.ru/rest/1/secretcode/`
//! (a secret: it is never printed by `Debug` or in errors). The answer is
//! `{"result": {"ID": "45", "TITLE": …, "STAGE_ID": "WON" | "C1:WON" | "NEW"
//! | "LOSE" | …, "STAGE_SEMANTIC_ID": "P" | "S" | "F", "OPPORTUNITY":
//! "15000.00", "CURRENCY_ID": "RUB", "DATE_CREATE":
//! "2024-01-15T10:00:00+03:00", "CLOSEDATE": …, "CLOSED": "Y" | "N",
//! "CONTACT_ID": "12", "UTM_SOURCE": …, "UF_CRM_…": …}, "time": {…}}`;
//! failures come as `{"error": "…", "error_description": "…"}` with HTTP
//! 400/401/…. The client has a short timeout (1.5 s by default) so the
//! webhook that triggered the read still answers within 2 s.
//!
//! # Unconfirmed, hence tolerant
//!
//! The event is "form-encoded in practice" — a JSON body of the same shape is
//! accepted too. Deal fields may arrive as strings or numbers; unknown fields
//! are ignored; a missing or unparsable field becomes `None`. Status comes
//! from `STAGE_ID` with its `C<n>:` pipeline prefix stripped, falling back
//! to `STAGE_SEMANTIC_ID` (`S` won, `F` lost) for custom final stages.
//! `CLOSEDATE` is the *planned* close date while a deal is open, so it is
//! used only once the deal is won, lost or `CLOSED = "Y"`. `CURRENCY_ID` is
//! not converted: amounts are taken to be in the project currency. Only the
//! deal id is required.
//!
//! The caller keeps the raw event body and the raw `crm.deal.get` answer
//! next to what this module returns, so they can be replayed once a mapping
//! is fixed.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use skvoz_domain::crm::{DealStatus, DealUpdate};
use skvoz_domain::Money;
use subtle::ConstantTimeEq;

use super::amocrm::parse_visit_code;

/// Why a Bitrix24 event or deal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Bitrix24Error {
    /// The event body is not UTF-8 text.
    #[error("Bitrix24 event body is not UTF-8")]
    NotUtf8,
    /// The event body is neither form-encoded nor a JSON object.
    #[error("Bitrix24 event body is neither form-encoded nor JSON")]
    NotAnEvent,
    /// A required event field is missing or empty.
    #[error("`{field}` is missing in Bitrix24 event")]
    MissingField {
        /// The key, e.g. `data[FIELDS][ID]`.
        field: &'static str,
    },
    /// The portal URL is not an http(s) URL.
    #[error("invalid Bitrix24 portal URL: {reason}")]
    InvalidPortalUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The portal did not answer within the client's timeout.
    #[error("Bitrix24 portal did not answer in time")]
    Timeout,
    /// The request failed below HTTP (connection, TLS, body); the portal URL
    /// is stripped from the error because it holds the webhook secret.
    #[error("Bitrix24 request failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The portal answered with a Bitrix24 error object.
    #[error("Bitrix24 error (HTTP {status}): {error}: {description}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error` (may be empty, e.g. for "Not found").
        error: String,
        /// `error_description`.
        description: String,
    },
    /// The portal answered with something that is not a `crm.deal.get`
    /// result.
    #[error("unexpected Bitrix24 answer (HTTP {status}): {reason}")]
    BadResponse {
        /// HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A deal object without the field [`deal_to_update`] needs.
    #[error("Bitrix24 deal has no `{field}`")]
    MissingDealField {
        /// The field, e.g. `ID`.
        field: &'static str,
    },
}

/// The kinds of deal event skvoz subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bitrix24EventKind {
    /// `ONCRMDEALADD`.
    Add,
    /// `ONCRMDEALUPDATE`.
    Update,
    /// `ONCRMDEALDELETE`: the deal is gone; do not read it back.
    Delete,
    /// Any other event name (not a deal event skvoz handles).
    Other,
}

/// One outbound event from a Bitrix24 portal.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitrix24Event {
    /// The event name as sent, e.g. `ONCRMDEALUPDATE`.
    pub event: String,
    /// `data[FIELDS][ID]`.
    pub deal_id: String,
    /// `auth[application_token]`, to check with [`token_matches`].
    pub application_token: Option<String>,
    /// `auth[domain]`, e.g. `shop.bitrix24.ru`.
    pub domain: Option<String>,
    /// `ts` (unix seconds).
    pub ts: Option<i64>,
}

impl Bitrix24Event {
    /// What kind of deal event this is (names compared case-insensitively).
    pub fn kind(&self) -> Bitrix24EventKind {
        match self.event.to_ascii_uppercase().as_str() {
            "ONCRMDEALADD" => Bitrix24EventKind::Add,
            "ONCRMDEALUPDATE" => Bitrix24EventKind::Update,
            "ONCRMDEALDELETE" => Bitrix24EventKind::Delete,
            _ => Bitrix24EventKind::Other,
        }
    }
}

// The application token authenticates the portal: keep it out of logs.
impl std::fmt::Debug for Bitrix24Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitrix24Event")
            .field("event", &self.event)
            .field("deal_id", &self.deal_id)
            .field(
                "application_token",
                &self.application_token.as_ref().map(|_| "[redacted]"),
            )
            .field("domain", &self.domain)
            .field("ts", &self.ts)
            .finish()
    }
}

/// Parses an outbound event body (form-encoded, or JSON of the same shape).
///
/// `event` and `data[FIELDS][ID]` are required; the rest is optional.
pub fn parse_event(body: &[u8]) -> Result<Bitrix24Event, Bitrix24Error> {
    let text = std::str::from_utf8(body).map_err(|_| Bitrix24Error::NotUtf8)?;
    let text = text.trim();
    let fields = if text.starts_with('{') {
        json_event_fields(text)?
    } else if text.contains('=') {
        form_event_fields(text)
    } else {
        return Err(Bitrix24Error::NotAnEvent);
    };
    let event = fields
        .event
        .ok_or(Bitrix24Error::MissingField { field: "event" })?;
    let deal_id = fields.deal_id.ok_or(Bitrix24Error::MissingField {
        field: "data[FIELDS][ID]",
    })?;
    Ok(Bitrix24Event {
        event,
        deal_id,
        application_token: fields.application_token,
        domain: fields.domain,
        ts: fields.ts.and_then(|ts| ts.parse().ok()),
    })
}

/// The event fields this module reads, trimmed and non-empty.
#[derive(Default)]
struct EventFields {
    event: Option<String>,
    deal_id: Option<String>,
    application_token: Option<String>,
    domain: Option<String>,
    ts: Option<String>,
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Reads the few flat keys the event needs; no bracket tree is built since
/// every key is looked up by its full name.
fn form_event_fields(text: &str) -> EventFields {
    let mut fields = EventFields::default();
    for (key, value) in form_urlencoded::parse(text.as_bytes()) {
        let slot = match key.as_ref() {
            "event" => &mut fields.event,
            "data[FIELDS][ID]" => &mut fields.deal_id,
            "auth[application_token]" => &mut fields.application_token,
            "auth[domain]" => &mut fields.domain,
            "ts" => &mut fields.ts,
            _ => continue,
        };
        *slot = non_empty(&value);
    }
    fields
}

fn json_event_fields(text: &str) -> Result<EventFields, Bitrix24Error> {
    let json: Value = serde_json::from_str(text).map_err(|_| Bitrix24Error::NotAnEvent)?;
    if !json.is_object() {
        return Err(Bitrix24Error::NotAnEvent);
    }
    Ok(EventFields {
        event: scalar_text(json.get("event")),
        deal_id: scalar_text(json.pointer("/data/FIELDS/ID")),
        application_token: scalar_text(json.pointer("/auth/application_token")),
        domain: scalar_text(json.pointer("/auth/domain")),
        ts: scalar_text(json.get("ts")),
    })
}

/// A JSON string or number as trimmed, non-empty text.
fn scalar_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => non_empty(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Constant-time comparison of the event's application_token with the
/// configured one. `false` when either is missing or empty.
pub fn token_matches(event: &Bitrix24Event, expected: &str) -> bool {
    match event.application_token.as_deref() {
        Some(token) if !token.is_empty() && !expected.is_empty() => {
            token.as_bytes().ct_eq(expected.as_bytes()).into()
        }
        _ => false,
    }
}

/// How Bitrix24 stages map to skvoz (from the project's settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitrix24Mapping {
    /// Stage ids that mean "won"; `WON` also matches `C<n>:WON`.
    pub won_stages: Vec<String>,
    /// Stage ids that mean "lost"; `LOSE` also matches `C<n>:LOSE`.
    pub lost_stages: Vec<String>,
    /// `STAGE_ID` → stage name in the skvoz pipeline. The full id
    /// (`C1:PREPARATION`) is looked up first, then the id without its
    /// pipeline prefix (`PREPARATION`).
    pub stages: BTreeMap<String, String>,
    /// The user field holding the visit code, e.g. `UF_CRM_ROISTAT`. When
    /// `None`, [`COMMON_VISIT_CODE_FIELDS`] are tried.
    pub visit_code_field: Option<String>,
}

impl Default for Bitrix24Mapping {
    fn default() -> Self {
        Bitrix24Mapping {
            won_stages: vec!["WON".to_owned()],
            lost_stages: vec!["LOSE".to_owned(), "APOLOGY".to_owned()],
            stages: BTreeMap::new(),
            visit_code_field: None,
        }
    }
}

/// User fields tried for the visit code when none is configured.
pub const COMMON_VISIT_CODE_FIELDS: [&str; 3] =
    ["UF_CRM_ROISTAT", "UF_CRM_VISIT_CODE", "UF_CRM_SKVOZ"];

/// Reads deals from one Bitrix24 portal through an incoming webhook.
#[derive(Clone)]
pub struct Bitrix24Client {
    http: reqwest::Client,
    portal: reqwest::Url,
}

// The portal URL embeds the webhook secret: show the host only.
impl std::fmt::Debug for Bitrix24Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitrix24Client")
            .field("host", &self.portal.host_str())
            .finish_non_exhaustive()
    }
}

impl Bitrix24Client {
    /// The timeout to use when a webhook waits for the read: Bitrix24 and
    /// amoCRM expect an answer within 2 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1500);

    /// A client for the incoming-webhook base `portal_url`
    /// (`https://shop.bitrix24.ru/rest/1/secretcode/`; a missing final `/`
    /// is added). `timeout` bounds each whole request.
    pub fn new(portal_url: &str, timeout: Duration) -> Result<Self, Bitrix24Error> {
        let mut portal = reqwest::Url::parse(portal_url.trim()).map_err(|e| {
            Bitrix24Error::InvalidPortalUrl {
                reason: e.to_string(),
            }
        })?;
        if !matches!(portal.scheme(), "http" | "https") {
            return Err(Bitrix24Error::InvalidPortalUrl {
                reason: format!("scheme `{}` is not http or https", portal.scheme()),
            });
        }
        if portal.query().is_some() || portal.fragment().is_some() {
            return Err(Bitrix24Error::InvalidPortalUrl {
                reason: "it must not have a query or fragment".to_owned(),
            });
        }
        if !portal.path().ends_with('/') {
            let path = format!("{}/", portal.path());
            portal.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("skvoz/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Bitrix24Error::Http(e.without_url()))?;
        Ok(Bitrix24Client { http, portal })
    }

    /// Reads one deal with `crm.deal.get` and returns its `result` object.
    pub async fn deal_get(&self, id: &str) -> Result<Value, Bitrix24Error> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Bitrix24Error::MissingField { field: "id" });
        }
        let mut url =
            self.portal
                .join("crm.deal.get.json")
                .map_err(|e| Bitrix24Error::InvalidPortalUrl {
                    reason: e.to_string(),
                })?;
        url.query_pairs_mut().append_pair("id", id);

        let response = self.http.get(url).send().await.map_err(transport_error)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport_error)?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();

        if let Some(error) = json.as_ref().and_then(|j| j.get("error")) {
            return Err(Bitrix24Error::Api {
                status: status.as_u16(),
                error: scalar_text(Some(error)).unwrap_or_default(),
                description: json
                    .as_ref()
                    .and_then(|j| scalar_text(j.get("error_description")))
                    .unwrap_or_default(),
            });
        }
        let bad = |reason| Bitrix24Error::BadResponse {
            status: status.as_u16(),
            reason,
        };
        if !status.is_success() {
            return Err(bad("an error status without a Bitrix24 error object"));
        }
        match json {
            Some(Value::Object(mut answer)) => match answer.remove("result") {
                Some(result @ Value::Object(_)) => Ok(result),
                _ => Err(bad("`result` is not an object")),
            },
            _ => Err(bad("the body is not a JSON object")),
        }
    }
}

/// Maps reqwest failures, dropping the URL (it holds the webhook secret).
fn transport_error(error: reqwest::Error) -> Bitrix24Error {
    if error.is_timeout() {
        Bitrix24Error::Timeout
    } else {
        Bitrix24Error::Http(error.without_url())
    }
}

/// Normalizes a `crm.deal.get` result object.
///
/// `external_id` is `bitrix24:{ID}` (the only required field); see the
/// module docs for how status, stage and dates are read.
pub fn deal_to_update(
    deal: &Value,
    mapping: &Bitrix24Mapping,
) -> Result<DealUpdate, Bitrix24Error> {
    let field = |name: &str| scalar_text(deal.get(name));
    let id = field("ID").ok_or(Bitrix24Error::MissingDealField { field: "ID" })?;

    let stage_id = field("STAGE_ID");
    let status = deal_status(
        stage_id.as_deref(),
        field("STAGE_SEMANTIC_ID").as_deref(),
        mapping,
    );
    let stage = stage_id.as_deref().and_then(|full| {
        mapping
            .stages
            .get(full)
            .or_else(|| mapping.stages.get(strip_pipeline_prefix(full)))
            .cloned()
    });
    let closed = matches!(status, Some(DealStatus::Won | DealStatus::Lost))
        || field("CLOSED").is_some_and(|c| c.eq_ignore_ascii_case("Y"));

    let visit_code = match &mapping.visit_code_field {
        Some(name) => visit_code_in(deal.get(name.trim())),
        None => COMMON_VISIT_CODE_FIELDS
            .iter()
            .find_map(|name| visit_code_in(deal.get(*name))),
    };

    Ok(DealUpdate {
        external_id: format!("bitrix24:{id}"),
        status,
        stage,
        revenue: field("OPPORTUNITY").as_deref().and_then(Money::parse),
        created_at: field("DATE_CREATE").as_deref().and_then(parse_time),
        closed_at: if closed {
            field("CLOSEDATE").as_deref().and_then(parse_time)
        } else {
            None
        },
        visit_code,
        crm_client_id: field("CONTACT_ID")
            .filter(|c| c != "0")
            .map(|c| format!("bitrix24:{c}")),
        product: field("TITLE"),
        ..DealUpdate::default()
    })
}

fn deal_status(
    stage_id: Option<&str>,
    semantic: Option<&str>,
    mapping: &Bitrix24Mapping,
) -> Option<DealStatus> {
    if let Some(full) = stage_id {
        let base = strip_pipeline_prefix(full);
        let listed = |stages: &[String]| {
            stages.iter().any(|s| {
                let s = s.trim();
                s.eq_ignore_ascii_case(full) || s.eq_ignore_ascii_case(base)
            })
        };
        if listed(&mapping.won_stages) {
            return Some(DealStatus::Won);
        }
        if listed(&mapping.lost_stages) {
            return Some(DealStatus::Lost);
        }
    }
    // Custom final stages (`C1:UC_8XK2QZ`) are only recognizable by their
    // semantics: S = success, F = failure, P = in progress.
    match semantic {
        Some("S") => Some(DealStatus::Won),
        Some("F") => Some(DealStatus::Lost),
        _ => stage_id.map(|_| DealStatus::Open),
    }
}

/// `C1:WON` → `WON`; ids of the default pipeline are returned as they are.
fn strip_pipeline_prefix(stage_id: &str) -> &str {
    match stage_id.split_once(':') {
        Some((pipeline, rest))
            if pipeline.len() > 1
                && pipeline.starts_with('C')
                && pipeline[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest
        }
        _ => stage_id,
    }
}

/// A visit code from a user field: a string, a number, or the first value
/// of a multiple field.
fn visit_code_in(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Array(values) => values.iter().find_map(|v| visit_code_in(Some(v))),
        other => scalar_text(Some(other))
            .as_deref()
            .and_then(parse_visit_code),
    }
}

/// Bitrix24 dates are RFC 3339 with the portal's offset.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_pipeline_prefixes() {
        assert_eq!(strip_pipeline_prefix("C1:WON"), "WON");
        assert_eq!(strip_pipeline_prefix("C12:UC_8XK2QZ"), "UC_8XK2QZ");
        assert_eq!(strip_pipeline_prefix("WON"), "WON");
        assert_eq!(strip_pipeline_prefix("C:WON"), "C:WON");
        assert_eq!(strip_pipeline_prefix("DT1_3:SUCCESS"), "DT1_3:SUCCESS");
    }

    #[test]
    fn status_prefers_the_mapping_then_semantics() {
        let mapping = Bitrix24Mapping::default();
        let cases = [
            (Some("WON"), None, Some(DealStatus::Won)),
            (Some("C3:WON"), Some("S"), Some(DealStatus::Won)),
            (Some("APOLOGY"), None, Some(DealStatus::Lost)),
            (Some("C1:LOSE"), None, Some(DealStatus::Lost)),
            (Some("C1:UC_X"), Some("F"), Some(DealStatus::Lost)),
            (Some("NEW"), Some("P"), Some(DealStatus::Open)),
            (Some("NEW"), None, Some(DealStatus::Open)),
            (None, None, None),
        ];
        for (stage, semantic, expected) in cases {
            assert_eq!(
                deal_status(stage, semantic, &mapping),
                expected,
                "{stage:?}"
            );
        }
    }

    #[test]
    fn token_check_rejects_missing_empty_and_different_tokens() {
        let mut event = Bitrix24Event {
            event: "ONCRMDEALUPDATE".into(),
            deal_id: "45".into(),
            application_token: Some("abc123".into()),
            domain: None,
            ts: None,
        };
        assert!(token_matches(&event, "abc123"));
        assert!(!token_matches(&event, "abc124"));
        assert!(!token_matches(&event, "abc1234"));
        assert!(!token_matches(&event, ""));
        event.application_token = None;
        assert!(!token_matches(&event, "abc123"));
    }
}
