//! Zadarma PBX notifications.
//!
//! # Format
//!
//! Zadarma POSTs `application/x-www-form-urlencoded` bodies with an `event`:
//! `NOTIFY_START` (`call_start`, `pbx_call_id`, `caller_id`, `called_did`),
//! `NOTIFY_ANSWER`, `NOTIFY_END` (the same plus `internal`, `duration` in
//! seconds, `disposition` — `answered`, `busy`, `cancel`, `no answer`,
//! `failed`, … — `status_code`, `is_recorded`, `call_id_with_rec`),
//! `NOTIFY_OUT_START`/`NOTIFY_OUT_END` and `NOTIFY_RECORD`. `call_start` is
//! `YYYY-MM-DD HH:MM:SS` in the account's time zone.
//!
//! When the URL is set, Zadarma checks it with a GET carrying `zd_echo=X`
//! and expects the body `X` back ([`echo`]).
//!
//! Each notification carries a `Signature` header: base64 of the
//! **lower-case hex** HMAC-SHA1, keyed by the API secret, of some fields
//! joined without separators ([`signed_string`]). [`verify`] compares it in
//! constant time.
//!
//! A call is complete at `NOTIFY_END` ([`to_call`]); the other events are
//! acknowledged and kept as raw payloads only.

use super::{duration, form_pairs, parse_time, required, TelephonyError};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use skvoz_domain::calltracking::InboundCall;
use std::collections::BTreeMap;

/// One notification: its event name and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ZadarmaNotification {
    /// `NOTIFY_START`, `NOTIFY_END`, …
    pub event: String,
    /// All fields as sent.
    pub fields: BTreeMap<String, String>,
}

impl ZadarmaNotification {
    /// A field, empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Parses a notification body.
pub fn parse(body: &[u8]) -> Result<ZadarmaNotification, TelephonyError> {
    let fields: BTreeMap<String, String> = form_pairs(body)?.into_iter().collect();
    let event = fields
        .get("event")
        .filter(|e| !e.is_empty() && e.len() <= 64)
        .cloned()
        .ok_or(TelephonyError::Missing("event"))?;
    Ok(ZadarmaNotification { event, fields })
}

/// The answer to the URL check: the `zd_echo` value, if the query has one.
pub fn echo(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "zd_echo")
        .map(|(_, v)| v.chars().take(256).collect())
}

/// The string a notification's signature covers.
pub fn signed_string(n: &ZadarmaNotification) -> String {
    let f = |name: &str| n.get(name);
    match n.event.as_str() {
        "NOTIFY_ANSWER" => [f("caller_id"), f("destination"), f("call_start")].concat(),
        "NOTIFY_OUT_START" | "NOTIFY_OUT_END" => {
            [f("internal"), f("destination"), f("call_start")].concat()
        }
        "NOTIFY_RECORD" => [f("pbx_call_id"), f("call_id_with_rec")].concat(),
        // NOTIFY_START, NOTIFY_END and NOTIFY_INTERNAL.
        _ => [f("caller_id"), f("called_did"), f("call_start")].concat(),
    }
}

/// The `Signature` of `data` under `secret`.
pub fn signature(secret: &str, data: &str) -> String {
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(data.as_bytes());
    let hex = hex::encode(mac.finalize().into_bytes());
    base64::engine::general_purpose::STANDARD.encode(hex)
}

/// Whether the `Signature` header matches the notification under `secret`
/// (constant-time; an empty secret or header never matches).
pub fn verify(n: &ZadarmaNotification, secret: &str, header: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    let Some(given) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    if secret.is_empty() {
        return false;
    }
    let expected = signature(secret, &signed_string(n));
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The call a `NOTIFY_END` reports (`None` for other events). `tz` is the
/// account's time zone, in which `call_start` is written.
pub fn to_call(
    n: &ZadarmaNotification,
    tz: chrono_tz::Tz,
) -> Result<Option<InboundCall>, TelephonyError> {
    if n.event != "NOTIFY_END" {
        return Ok(None);
    }
    let get = |k: &str| n.fields.get(k).map(String::as_str);
    let disposition = n.get("disposition").trim().to_ascii_lowercase();
    Ok(Some(InboundCall {
        provider: "zadarma",
        source_id: required(get("pbx_call_id"), "pbx_call_id")?,
        caller: required(get("caller_id"), "caller_id")?,
        called: required(get("called_did"), "called_did")?,
        started_at: parse_time(
            &required(get("call_start"), "call_start")?,
            tz,
            "call_start",
        )?,
        duration: duration(get("duration"), "duration")?,
        answered: disposition == "answered",
        recording_url: None,
    }))
}
