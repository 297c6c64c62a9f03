//! Telephony formats: calls reported by a PBX or a call-tracking service,
//! turned into [`InboundCall`](skvoz_domain::calltracking::InboundCall)s.
//!
//! - [`zadarma`]: Zadarma PBX notifications, the `zd_echo` URL check and the
//!   `Signature` HMAC.
//! - [`calltouch`]: Calltouch-style webhooks in both spellings of their
//!   parameter names.
//! - [`generic`]: skvoz's own JSON shape (`POST /api/v1/calls`).
//!
//! Fixtures of each format live in `fixtures/` beside this file.

pub mod calltouch;
pub mod generic;
pub mod zadarma;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// Why a telephony payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelephonyError {
    /// The body is not what the format says.
    #[error("malformed payload: {0}")]
    Malformed(String),
    /// A required field is missing or empty.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A field has a value that cannot be read.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Longest accepted id, number or URL in a payload.
pub const MAX_FIELD: usize = 512;

/// Decodes a form-encoded body into (name, value) pairs, refusing bodies
/// that are not UTF-8 or hold absurdly long values.
pub(crate) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, TelephonyError> {
    std::str::from_utf8(body).map_err(|_| TelephonyError::Malformed("not UTF-8".into()))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.len() > 200 {
        return Err(TelephonyError::Malformed("more than 200 fields".into()));
    }
    if let Some((k, _)) = pairs.iter().find(|(_, v)| v.len() > 4096) {
        return Err(TelephonyError::Malformed(format!("field {k} is too long")));
    }
    Ok(pairs)
}

/// Reads a time as vendors send it: Unix seconds (or milliseconds), RFC
/// 3339, or a local `YYYY-MM-DD HH:MM:SS` / `DD.MM.YYYY HH:MM:SS` in `tz`.
pub fn parse_time(
    value: &str,
    tz: chrono_tz::Tz,
    field: &'static str,
) -> Result<DateTime<Utc>, TelephonyError> {
    let v = value.trim();
    let bad = || TelephonyError::Invalid {
        field,
        message: format!("'{}' is not a time", v.chars().take(40).collect::<String>()),
    };
    if let Ok(n) = v.parse::<i64>() {
        let t = if n > 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        return t.filter(|t| t.timestamp() > 0).ok_or_else(bad);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%d.%m.%Y %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(v, format) {
            return tz
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(bad);
        }
    }
    Err(bad())
}

/// A required, bounded, non-empty text field.
pub(crate) fn required(value: Option<&str>, field: &'static str) -> Result<String, TelephonyError> {
    let v = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(TelephonyError::Missing(field))?;
    if v.len() > MAX_FIELD {
        return Err(TelephonyError::Invalid {
            field,
            message: format!("longer than {MAX_FIELD} bytes"),
        });
    }
    Ok(v.to_owned())
}

/// A duration in whole seconds (a day at most).
pub(crate) fn duration(value: Option<&str>, field: &'static str) -> Result<u32, TelephonyError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(0),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|d| d.is_finite() && *d >= 0.0 && *d <= 86_400.0)
            .map(|d| d.round() as u32)
            .ok_or(TelephonyError::Invalid {
                field,
                message: "must be 0-86400 seconds".into(),
            }),
    }
}

/// An optional http(s) link.
pub(crate) fn link(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| v.len() <= MAX_FIELD && (v.starts_with("https://") || v.starts_with("http://")))
        .map(str::to_owned)
}
