//! GA4 Measurement Protocol: `POST {base}/mp/collect?measurement_id=…&api_secret=…`
//! with `{client_id, user_id?, timestamp_micros, events: [{name, params}]}`.
//!
//! `/mp/collect` answers 2xx even to a malformed event, so the limits GA4
//! documents are checked here before sending: names at most 40 characters,
//! at most 25 parameters per event, a body under 130 kB.

use super::{join, HttpRequest};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// The public host (EU: `https://region1.google-analytics.com`).
pub const DEFAULT_BASE: &str = "https://www.google-analytics.com";
/// Longest event or parameter name.
pub const MAX_NAME: usize = 40;
/// Most parameters per event.
pub const MAX_PARAMS: usize = 25;
/// The body must be smaller than this.
pub const MAX_BODY: usize = 130 * 1024;

/// One event for one client.
#[derive(Debug, Clone, PartialEq)]
pub struct Ga4Event {
    /// The GA client id (`_ga` cookie's `123.456`).
    pub client_id: String,
    /// skvoz's contact id, as GA4's `user_id`.
    pub user_id: Option<String>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `purchase` or a custom name.
    pub name: String,
    /// `transaction_id`, `value`, `currency`, …
    pub params: Map<String, Value>,
}

/// The JSON body.
pub fn body(e: &Ga4Event) -> Value {
    let mut v = serde_json::json!({
        "client_id": e.client_id,
        "timestamp_micros": e.at.timestamp_micros(),
        "events": [{"name": e.name, "params": e.params}],
    });
    if let (Some(uid), Some(obj)) = (&e.user_id, v.as_object_mut()) {
        obj.insert("user_id".into(), Value::String(uid.clone()));
    }
    v
}

/// Builds the request, or says which documented limit the event breaks.
pub fn request(
    base: Option<&str>,
    measurement_id: &str,
    api_secret: &str,
    e: &Ga4Event,
) -> Result<HttpRequest, String> {
    if e.name.is_empty() || e.name.chars().count() > MAX_NAME {
        return Err(format!("event name must be 1-{MAX_NAME} characters"));
    }
    if e.params.len() > MAX_PARAMS {
        return Err(format!("at most {MAX_PARAMS} parameters per event"));
    }
    if let Some(k) = e.params.keys().find(|k| k.chars().count() > MAX_NAME) {
        return Err(format!(
            "parameter name '{k}' is longer than {MAX_NAME} characters"
        ));
    }
    let bytes = body(e).to_string().into_bytes();
    if bytes.len() >= MAX_BODY {
        return Err(format!("body of {} bytes is not under 130 kB", bytes.len()));
    }
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("measurement_id", measurement_id)
        .append_pair("api_secret", api_secret)
        .finish();
    Ok(HttpRequest {
        url: format!(
            "{}?{query}",
            join(base.unwrap_or(DEFAULT_BASE), "mp/collect")
        ),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: bytes,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn event() -> Ga4Event {
        let mut params = Map::new();
        params.insert("transaction_id".into(), "deal-7".into());
        params.insert("value".into(), serde_json::json!(1500.5));
        params.insert("currency".into(), "RUB".into());
        Ga4Event {
            client_id: "111.222".into(),
            user_id: Some("42".into()),
            at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            name: "purchase".into(),
            params,
        }
    }

    #[test]
    fn the_body_and_url_are_as_documented() {
        let req = request(None, "G-ABC", "s e/c", &event()).expect("valid");
        assert_eq!(
            req.url,
            "https://www.google-analytics.com/mp/collect?measurement_id=G-ABC&api_secret=s+e%2Fc"
        );
        let v: Value = serde_json::from_slice(&req.body).expect("json");
        assert_eq!(v["client_id"], "111.222");
        assert_eq!(v["user_id"], "42");
        assert_eq!(v["timestamp_micros"], 1_772_359_200_000_000i64);
        assert_eq!(v["events"][0]["name"], "purchase");
        assert_eq!(v["events"][0]["params"]["transaction_id"], "deal-7");
    }

    #[test]
    fn limits_are_checked() {
        let mut long = event();
        long.name = "x".repeat(41);
        assert!(request(None, "G-A", "s", &long).is_err());
        let mut many = event();
        for i in 0..23 {
            many.params.insert(format!("p{i}"), 1.into());
        }
        assert!(request(None, "G-A", "s", &many).unwrap_err().contains("25"));
        let mut big = event();
        big.params.insert("blob".into(), "x".repeat(140_000).into());
        assert!(request(None, "G-A", "s", &big)
            .unwrap_err()
            .contains("130 kB"));
    }
}
