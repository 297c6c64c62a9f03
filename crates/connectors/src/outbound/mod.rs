//! Outbound destinations: the wire formats skvoz sends (outgoing webhooks,
//! GA4 Measurement Protocol, Yandex Metrika offline conversions, eSputnik
//! events) as pure builders of an [`HttpRequest`], and one small client
//! that sends a request and classifies the answer for the outbox worker.
//!
//! Builders take values and return bytes, so tests check the exact format
//! without a network; the client is the only place that does I/O.

pub mod esputnik;
pub mod ga4;
pub mod metrika;
pub mod webhook;

use std::time::Duration;

/// A request ready to send: always a POST.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// Full URL with query.
    pub url: String,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a receiver answered, as the outbox sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// 2xx.
    Delivered,
    /// Network error, timeout, 408, 429 or 5xx: try again (after the
    /// receiver's `Retry-After` when it gave one).
    Retry {
        /// What went wrong.
        error: String,
        /// The receiver's `Retry-After`.
        after: Option<Duration>,
    },
    /// Any other status: retrying the same request will not help.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// Classifies a response by status, `Retry-After` and the start of its body.
pub fn classify(status: u16, retry_after: Option<&str>, body: &str) -> Delivery {
    let snippet: String = body.chars().take(300).collect();
    let error = if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    };
    match status {
        200..=299 => Delivery::Delivered,
        408 | 429 | 500..=599 => Delivery::Retry {
            error,
            after: retry_after.and_then(parse_retry_after),
        },
        _ => Delivery::Failed { error },
    }
}

/// `Retry-After` as delay-seconds or an HTTP date (capped at one day).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    let secs = match v.parse::<u64>() {
        Ok(s) => s,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
            let d = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
            d.num_seconds().max(0) as u64
        }
    };
    Some(Duration::from_secs(secs.min(86_400)))
}

/// Sends [`HttpRequest`]s with a timeout.
#[derive(Clone)]
pub struct OutboundClient {
    http: reqwest::Client,
}

impl OutboundClient {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<OutboundClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("skvoz/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OutboundClient { http })
    }

    /// Sends one request and classifies the answer.
    pub async fn send(&self, req: &HttpRequest) -> Delivery {
        let mut builder = self.http.post(&req.url).body(req.body.clone());
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        match builder.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = resp.text().await.unwrap_or_default();
                classify(status, retry_after.as_deref(), &body)
            }
            Err(e) => Delivery::Retry {
                // Without the URL: it may carry a secret (GA4's api_secret).
                error: format!("network: {}", e.without_url()),
                after: None,
            },
        }
    }
}

/// Joins a base URL (no trailing slash needed) and a path.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_as_documented() {
        assert_eq!(classify(204, None, ""), Delivery::Delivered);
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify(s, None, ""), Delivery::Retry { .. }),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(
                matches!(classify(s, None, ""), Delivery::Failed { .. }),
                "{s}"
            );
        }
        assert_eq!(
            classify(429, Some("7"), "slow down"),
            Delivery::Retry {
                error: "HTTP 429: slow down".into(),
                after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(join("http://x/", "/a"), "http://x/a");
    }
}
