//! Signed, expiring URLs of the operator card iframe
//! (`/widget/contact?key=…&email=…|phone=…|visit_code=…&exp=…&sig=…`).
//!
//! The help desk shows the card without a skvoz login, so the URL itself is
//! the credential: `sig` is the hex HMAC-SHA256, under the project's
//! `service.widget_secret`, of `key \n field \n value \n exp` — the
//! project's public key, which identity is looked up and its value exactly
//! as in the URL, and the expiry (Unix seconds). A forged, altered or
//! expired URL is 403. Any help desk (or a proxy in front of it) can mint
//! URLs with the secret; `GET /api/v1/widget/url` mints one for API users.

use super::card::LookupKey;
use crate::context::ProjectContext;
use crate::AppError;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What is signed.
fn message(key: &str, field: &str, value: &str, exp: i64) -> String {
    format!("{key}\n{field}\n{value}\n{exp}")
}

/// The hex signature of a card URL's parameters.
pub fn sign(secret: &str, key: &str, field: &str, value: &str, exp: i64) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(message(key, field, value, exp).as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Checks a card URL's signature (constant time) and expiry.
pub fn verify(
    ctx: &ProjectContext,
    lookup: &LookupKey,
    exp: i64,
    sig: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let secret = &ctx.settings.service.widget_secret;
    let forbidden = |m: &str| AppError::Forbidden(m.to_owned());
    if secret.is_empty() {
        return Err(forbidden(
            "the contact card is not enabled (settings.service.widget_secret)",
        ));
    }
    if exp < now.timestamp() {
        return Err(forbidden("the link has expired"));
    }
    let Ok(given) = hex::decode(sig.trim()) else {
        return Err(forbidden("bad signature"));
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return Err(forbidden("bad signature"));
    };
    mac.update(
        message(
            &ctx.project.public_key,
            lookup.field(),
            &lookup.value(),
            exp,
        )
        .as_bytes(),
    );
    mac.verify_slice(&given)
        .map_err(|_| forbidden("bad signature"))
}

/// A signed card URL path and query for a lookup key, valid for the
/// project's `widget_ttl_minutes`.
pub fn signed_path(
    ctx: &ProjectContext,
    lookup: &LookupKey,
    now: DateTime<Utc>,
) -> Result<(String, i64), AppError> {
    let service = &ctx.settings.service;
    if service.widget_secret.is_empty() {
        return Err(AppError::Conflict(
            "set settings.service.widget_secret (16+ characters) to enable the contact card".into(),
        ));
    }
    let exp = now.timestamp() + i64::from(service.widget_ttl_minutes) * 60;
    let key = &ctx.project.public_key;
    let value = lookup.value();
    let sig = sign(&service.widget_secret, key, lookup.field(), &value, exp);
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Ok((
        format!(
            "/widget/contact?key={}&{}={}&exp={exp}&sig={sig}",
            enc(key),
            lookup.field(),
            enc(&value)
        ),
        exp,
    ))
}
