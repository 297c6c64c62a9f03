//! eSputnik events: `POST {base}/api/v2/event`, Basic auth with any user and
//! the API key as password, JSON `{"eventTypeKey", "keyValue", "params":
//! [{"name", "value"}]}`.

use super::{join, HttpRequest};
use base64::Engine;

/// The public host.
pub const DEFAULT_BASE: &str = "https://esputnik.com";

/// The `v2/event` body.
pub fn event_body(
    event_type_key: &str,
    key_value: &str,
    params: &[(String, String)],
) -> serde_json::Value {
    serde_json::json!({
        "eventTypeKey": event_type_key,
        "keyValue": key_value,
        "params": params
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
            .collect::<Vec<_>>(),
    })
}

/// The authenticated POST of a body.
pub fn request(base: Option<&str>, api_key: &str, body: &serde_json::Value) -> HttpRequest {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("skvoz:{api_key}"));
    HttpRequest {
        url: join(base.unwrap_or(DEFAULT_BASE), "api/v2/event"),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Accept".into(), "application/json".into()),
            ("Authorization".into(), format!("Basic {auth}")),
        ],
        body: body.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_carries_the_key_as_password() {
        let body = event_body("deal_won", "a@b.ru", &[("deal_id".into(), "5".into())]);
        assert_eq!(
            body["params"][0],
            serde_json::json!({"name": "deal_id", "value": "5"})
        );
        let req = request(None, "KEY", &body);
        assert_eq!(req.url, "https://esputnik.com/api/v2/event");
        let auth = req.header("Authorization").unwrap_or("");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim_start_matches("Basic "))
            .unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&decoded), "skvoz:KEY");
    }
}
