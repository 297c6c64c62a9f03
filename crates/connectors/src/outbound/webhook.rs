//! Outgoing webhooks: a JSON envelope per event, signed with the
//! subscriber's secret.
//!
//! `X-Skvoz-Signature: sha256=<hex>` is HMAC-SHA256 of the raw body;
//! `X-Skvoz-Delivery` and `Idempotency-Key` carry the message's idempotency
//! key, the same on every redelivery, so a receiver can drop repeats.

use super::HttpRequest;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<hex HMAC-SHA256 of body with secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header in constant time (for receivers and tests).
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// The envelope every subscriber gets:
/// `{"id": "evt_…", "type", "created_at", "project_id", "data"}`.
pub fn envelope(
    event_id: i64,
    event_type: &str,
    created_at: DateTime<Utc>,
    project_id: i64,
    data: &serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": format!("evt_{event_id}"),
        "type": event_type,
        "created_at": created_at,
        "project_id": project_id,
        "data": data,
    })
}

/// The signed POST of a body to a subscriber.
pub fn request(url: &str, secret: &str, body: Vec<u8>, event_type: &str, key: &str) -> HttpRequest {
    HttpRequest {
        url: url.to_owned(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Skvoz-Signature".into(), signature(secret, &body)),
            ("X-Skvoz-Event".into(), event_type.to_owned()),
            ("X-Skvoz-Delivery".into(), key.to_owned()),
            ("Idempotency-Key".into(), key.to_owned()),
        ],
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_the_raw_body() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify("Jefe", b"what do ya want for nothing?", &sig));
        assert!(!verify("Jefe", b"what do ya want for nothing!", &sig));
        assert!(!verify("other", b"what do ya want for nothing?", &sig));
        let req = request(
            "http://h/x",
            "Jefe",
            b"{}".to_vec(),
            "lead.created",
            "ev1:webhook:h",
        );
        assert_eq!(req.header("x-skvoz-event"), Some("lead.created"));
        assert_eq!(req.header("Idempotency-Key"), Some("ev1:webhook:h"));
        assert!(verify(
            "Jefe",
            b"{}",
            req.header("X-Skvoz-Signature").unwrap_or("")
        ));
    }
}
