//! The WhatsApp Cloud API webhook.
//!
//! # Verification
//!
//! Meta checks the callback URL with `GET ?hub.mode=subscribe&
//! hub.verify_token=…&hub.challenge=…`: the raw challenge is answered when
//! the token matches, 403 otherwise ([`verify_handshake`]).
//!
//! # Deliveries
//!
//! `POST` with JSON `{"object": "whatsapp_business_account", "entry": [{"id",
//! "changes": [{"field": "messages", "value": {"messaging_product":
//! "whatsapp", "metadata": {"display_phone_number", "phone_number_id"},
//! "contacts": [{"wa_id", "profile": {"name"}}], "messages": [{"from", "id":
//! "wamid…", "timestamp": "<Unix seconds>", "type": "text" | "image" | …,
//! "text": {"body"}}], "statuses": [{"id", "status", "timestamp",
//! "recipient_id"}]}}]}]}`. One delivery may carry several entries and
//! changes; statuses (sent/delivered/read of *our* messages) are counted
//! and otherwise ignored. The body is signed: `X-Hub-Signature-256:
//! sha256=<hex>` is the HMAC-SHA256 of the raw body with the app secret
//! ([`signature_valid`], compared in constant time).
//!
//! # Tolerance
//!
//! Unknown fields are ignored. A media message's caption (`image.caption`,
//! `video.caption`, `document.caption`), a button's `text`, an interactive
//! reply's `title` become its text; other types have none. A message
//! without `from`, `id` or a readable `timestamp` is skipped and counted
//! (not a failure of the whole delivery).

use super::MessengerError;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use skvoz_domain::messengers::{InboundMessage, Messenger};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// What one delivery held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WhatsAppDelivery {
    /// Incoming messages, in delivery order.
    pub messages: Vec<InboundMessage>,
    /// Status updates (ignored for leads).
    pub statuses: usize,
    /// Messages skipped for missing `from`, `id` or `timestamp`.
    pub skipped: usize,
}

/// Answers the verification handshake: `Some(challenge)` when the mode is
/// `subscribe` and the token matches the configured one.
pub fn verify_handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Option<String> {
    let token_ok = !expected_token.is_empty()
        && token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected_token.as_bytes())));
    (mode == Some("subscribe") && token_ok)
        .then(|| challenge.unwrap_or("").chars().take(200).collect())
}

/// Checks `X-Hub-Signature-256` (`sha256=<hex>`) over the raw body: the
/// same HMAC-SHA256 scheme as skvoz's own outgoing webhooks.
pub fn signature_valid(body: &[u8], header: Option<&str>, app_secret: &str) -> bool {
    match header {
        Some(h) if !app_secret.is_empty() => {
            crate::outbound::webhook::verify(app_secret, body, h.trim())
        }
        _ => false,
    }
}

/// The signature header value for a body (for tests and fake senders).
pub fn sign(body: &[u8], app_secret: &str) -> String {
    crate::outbound::webhook::signature(app_secret, body)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    let secs = match v.get("timestamp")? {
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    Utc.timestamp_opt(secs, 0).single()
}

fn message_text(m: &Value, kind: &str) -> Option<String> {
    let t = match kind {
        "text" => str_at(m, &["text", "body"]),
        "button" => str_at(m, &["button", "text"]),
        "interactive" => str_at(m, &["interactive", "button_reply", "title"])
            .or_else(|| str_at(m, &["interactive", "list_reply", "title"])),
        other => str_at(m, &[other, "caption"]),
    };
    t.map(|s| s.chars().take(4096).collect())
}

/// Parses a delivery.
pub fn parse_webhook(body: &[u8]) -> Result<WhatsAppDelivery, MessengerError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| MessengerError::NotJson(e.to_string()))?;
    if v.get("object").and_then(Value::as_str) != Some("whatsapp_business_account") {
        return Err(MessengerError::Shape(
            "object is not whatsapp_business_account".into(),
        ));
    }
    let entries = v
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| MessengerError::Shape("no entry array".into()))?;
    let mut out = WhatsAppDelivery::default();
    for entry in entries {
        let changes = entry
            .get("changes")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for change in changes {
            let Some(value) = change.get("value") else {
                continue;
            };
            let to = str_at(value, &["metadata", "display_phone_number"])
                .map(|n| n.chars().filter(char::is_ascii_digit).collect::<String>());
            let names: HashMap<&str, &str> = value
                .get("contacts")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| Some((str_at(c, &["wa_id"])?, str_at(c, &["profile", "name"])?)))
                .collect();
            out.statuses += value
                .get("statuses")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let messages = value
                .get("messages")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for m in messages {
                let (Some(from), Some(id), Some(at)) =
                    (str_at(m, &["from"]), str_at(m, &["id"]), timestamp(m))
                else {
                    out.skipped += 1;
                    continue;
                };
                let digits: String = from.chars().filter(char::is_ascii_digit).collect();
                if digits.is_empty() || digits.len() > 15 || id.len() > 200 {
                    out.skipped += 1;
                    continue;
                }
                let kind = str_at(m, &["type"]).unwrap_or("unknown");
                out.messages.push(InboundMessage {
                    messenger: Messenger::Whatsapp,
                    external_chat: digits.clone(),
                    message_id: id.to_owned(),
                    phone: Some(format!("+{digits}")),
                    // `contacts[].wa_id` can differ from `from` (numbers
                    // WhatsApp rewrites, e.g. Brazil's ninth digit): with a
                    // single contact in the change it is still the sender.
                    name: names
                        .get(from)
                        .or_else(|| (names.len() == 1).then(|| names.values().next()).flatten())
                        .map(|n| n.chars().take(200).collect()),
                    username: None,
                    text: message_text(m, kind),
                    kind: kind.chars().take(32).collect(),
                    start_payload: None,
                    sent_at: at,
                    to: to.clone(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let sig = sign(body, "s3cret");
        assert!(signature_valid(body, Some(&sig), "s3cret"));
        assert!(!signature_valid(body, Some(&sig), "other"));
        assert!(!signature_valid(b"{}", Some(&sig), "s3cret"));
        assert!(!signature_valid(body, None, "s3cret"));
        assert!(!signature_valid(body, Some("sha256=zz"), "s3cret"));
        assert!(!signature_valid(body, Some(&sig), ""));
    }

    #[test]
    fn the_single_contact_names_a_sender_whose_wa_id_was_rewritten() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
            "contacts":[{"wa_id":"5511912345678","profile":{"name":"Joao"}}],
            "messages":[{"from":"551112345678","id":"wamid.x","timestamp":"1700000000","type":"text","text":{"body":"oi"}}]}}]}]}"#;
        let d = parse_webhook(body).expect("parses");
        assert_eq!(d.messages[0].name.as_deref(), Some("Joao"));
        assert_eq!(d.messages[0].external_chat, "551112345678");
    }

    #[test]
    fn handshake() {
        let ok = verify_handshake(Some("subscribe"), Some("tok"), Some("1158201444"), "tok");
        assert_eq!(ok.as_deref(), Some("1158201444"));
        assert_eq!(
            verify_handshake(Some("subscribe"), Some("bad"), Some("1"), "tok"),
            None
        );
        assert_eq!(
            verify_handshake(Some("unsubscribe"), Some("tok"), Some("1"), "tok"),
            None
        );
        assert_eq!(
            verify_handshake(Some("subscribe"), Some(""), Some("1"), ""),
            None
        );
    }
}
