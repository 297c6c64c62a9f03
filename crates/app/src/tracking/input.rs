//! A hit as it arrives and the checks it must pass before anything is
//! stored.

use crate::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Longest accepted page URL or referrer.
pub const MAX_URL: usize = 4096;

/// The fields of a hit common to `/collect` and `/api/v1/hits`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HitFields {
    /// The project's public key (`/collect` only; the API uses its Bearer
    /// key instead).
    #[serde(default)]
    pub key: Option<String>,
    /// Visitor id (`skvoz_vid` cookie); minted when absent.
    #[serde(default)]
    pub vid: Option<String>,
    /// The page URL with its query (UTM tags, click ids).
    pub url: String,
    /// `document.referrer`.
    #[serde(default)]
    pub referrer: Option<String>,
    /// Page title.
    #[serde(default)]
    pub title: Option<String>,
    /// Screen size, `1920x1080`.
    #[serde(default)]
    pub screen: Option<String>,
    /// Browser language.
    #[serde(default)]
    pub lang: Option<String>,
    /// Browser time zone.
    #[serde(default)]
    pub tz: Option<String>,
    /// Google Analytics client id (from `_ga`).
    #[serde(default)]
    pub ga_cid: Option<String>,
    /// Yandex Metrika client id (`_ym_uid`).
    #[serde(default)]
    pub ym_uid: Option<String>,
    /// Event name for `skvoz.event(name, props)`.
    #[serde(default)]
    pub event: Option<String>,
    /// Event properties.
    #[serde(default)]
    pub props: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A hit ready for the tracking service.
#[derive(Debug, Clone)]
pub struct HitInput {
    /// The fields.
    pub fields: HitFields,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Whether `at` was given explicitly (server-side import) rather than
    /// taken from the clock.
    pub explicit_time: bool,
    /// The client's IP, for the region.
    pub ip: Option<IpAddr>,
    /// The client's User-Agent.
    pub ua: Option<String>,
}

/// What a hit produced: the `/collect` response fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitOutcome {
    /// The visitor id (as sent, or newly minted).
    pub vid: String,
    /// The visit the hit belongs to; `None` for a bot.
    pub visit_id: Option<i64>,
    /// The visit's short code; `None` for a bot.
    pub visit_code: Option<i64>,
    /// Tracking phone number to show (call tracking; `None` until pools exist).
    pub phone: Option<String>,
    /// Text to prefill in messenger links (`None` until configured): the
    /// first configured WhatsApp number's.
    pub wa_text: Option<String>,
    /// Every configured WhatsApp number with its prefill text for this page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wa: Vec<skvoz_domain::messengers::WaPrefill>,
    /// Every configured Telegram bot with its `start` payload for this visit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tg: Vec<skvoz_domain::messengers::TgPayload>,
    /// Set when the hit came from a known bot and was only counted.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

fn check_len(field: &str, value: &Option<String>, max: usize) -> Result<(), AppError> {
    match value {
        Some(v) if v.len() > max => Err(AppError::invalid(
            field,
            format!("{field} is longer than {max} bytes"),
        )),
        _ => Ok(()),
    }
}

fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && s.len() > 8
}

impl HitFields {
    /// Validates sizes and shapes; on success every field is within limits.
    pub fn validate(&self) -> Result<(), AppError> {
        if self.url.is_empty() {
            return Err(AppError::invalid("url", "url is required"));
        }
        if self.url.len() > MAX_URL {
            return Err(AppError::invalid(
                "url",
                format!("url is longer than {MAX_URL} bytes"),
            ));
        }
        if !is_http_url(&self.url) {
            return Err(AppError::invalid(
                "url",
                "url must be an absolute http(s) URL",
            ));
        }
        if let Some(vid) = &self.vid {
            let ok = !vid.is_empty()
                && vid.len() <= 64
                && vid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(AppError::invalid(
                    "vid",
                    "vid must be 1-64 characters of [A-Za-z0-9._-]",
                ));
            }
        }
        check_len("referrer", &self.referrer, MAX_URL)?;
        check_len("title", &self.title, 1000)?;
        check_len("lang", &self.lang, 35)?;
        check_len("tz", &self.tz, 64)?;
        check_len("ga_cid", &self.ga_cid, 100)?;
        check_len("ym_uid", &self.ym_uid, 64)?;
        check_len("event", &self.event, 100)?;
        if let Some(screen) = &self.screen {
            let ok = screen.len() <= 20
                && screen.split_once('x').is_some_and(|(w, h)| {
                    !w.is_empty()
                        && !h.is_empty()
                        && (w.to_owned() + h).bytes().all(|b| b.is_ascii_digit())
                });
            if !ok {
                return Err(AppError::invalid(
                    "screen",
                    "screen must look like 1920x1080",
                ));
            }
        }
        if let Some(props) = &self.props {
            let size = serde_json::to_string(props)
                .map(|s| s.len())
                .unwrap_or(usize::MAX);
            if size > 8192 {
                return Err(AppError::invalid("props", "props are larger than 8 KiB"));
            }
        }
        Ok(())
    }

    /// Drops empty strings so "" and a missing field mean the same.
    pub fn normalize(&mut self) {
        for f in [
            &mut self.vid,
            &mut self.referrer,
            &mut self.title,
            &mut self.screen,
            &mut self.lang,
            &mut self.tz,
            &mut self.ga_cid,
            &mut self.ym_uid,
            &mut self.event,
        ] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(url: &str) -> HitFields {
        HitFields {
            url: url.to_owned(),
            ..Default::default()
        }
    }

    #[test]
    fn validation() {
        assert!(hit("https://shop.ru/?utm_source=x").validate().is_ok());
        assert!(hit("").validate().is_err());
        assert!(hit("javascript:alert(1)").validate().is_err());
        assert!(hit(&format!("https://shop.ru/{}", "a".repeat(MAX_URL)))
            .validate()
            .is_err());
        let mut h = hit("https://shop.ru/");
        h.vid = Some("bad vid!".into());
        assert!(h.validate().is_err());
        h.vid = Some("v123".into());
        h.screen = Some("1920x1080".into());
        assert!(h.validate().is_ok());
        h.screen = Some("big".into());
        assert!(h.validate().is_err());
    }
}
