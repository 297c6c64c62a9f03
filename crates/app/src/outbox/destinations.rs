//! The built-in deliverers: outgoing webhooks, GA4, Yandex Metrika
//! (conversions and calls) and eSputnik. Each reads its section of the
//! project's settings at delivery time — a secret rotated or a destination
//! removed while messages wait takes effect — and maps the receiver's
//! answer to an [`Outcome`].

use super::routing::{Ga4Payload, MetrikaCallPayload, MetrikaPayload};
use super::{Deliverer, OutboxItem, Outcome};
use async_trait::async_trait;
use chrono::Utc;
use serde::de::DeserializeOwned;
use skvoz_connectors::outbound::{
    esputnik, ga4, metrika, webhook, Delivery, HttpRequest, OutboundClient,
};
use skvoz_domain::outbound::{
    outside_window, EsputnikSettings, Ga4Settings, MetrikaSettings, WebhookEndpoint, GA4_WINDOW,
    METRIKA_WINDOW,
};

/// Default requests per second of a destination without its own setting.
pub const DEFAULT_RATE: f64 = 10.0;
/// Default Metrika uploads per second (each carries a batch).
pub const METRIKA_RATE: f64 = 1.0;

fn outcome(d: Delivery) -> Outcome {
    match d {
        Delivery::Delivered => Outcome::Delivered,
        Delivery::Retry { error, after } => Outcome::Retry { error, after },
        Delivery::Failed { error } => Outcome::Failed { error },
    }
}

/// A settings section, or `None` when absent or unreadable.
fn section<T: DeserializeOwned>(settings: &serde_json::Value, path: &[&str]) -> Option<T> {
    let mut v = settings;
    for p in path {
        v = v.get(p)?;
    }
    serde_json::from_value(v.clone()).ok()
}

async fn send(client: &OutboundClient, req: Result<HttpRequest, String>) -> Outcome {
    match req {
        Ok(r) => outcome(client.send(&r).await),
        Err(error) => Outcome::Failed { error },
    }
}

fn all(n: usize, o: Outcome) -> Vec<Outcome> {
    vec![o; n]
}

/// Why a conversion message (`ga4`, `metrika`, `metrika_calls`) is not to
/// be sent at `now`: the contact has no id the receiver knows, or the
/// conversion is outside the receiver's window. `None`: send it.
pub fn conversion_skip(
    kind: &str,
    payload: &serde_json::Value,
    now: chrono::DateTime<Utc>,
) -> Option<String> {
    let read = |p: &serde_json::Value| -> Option<(bool, chrono::DateTime<Utc>)> {
        Some(match kind {
            "ga4" => {
                let p: Ga4Payload = serde_json::from_value(p.clone()).ok()?;
                (p.client_id.is_some(), p.at)
            }
            "metrika" => {
                let p: MetrikaPayload = serde_json::from_value(p.clone()).ok()?;
                (p.client_id.is_some() || p.yclid.is_some(), p.at)
            }
            _ => {
                let p: MetrikaCallPayload = serde_json::from_value(p.clone()).ok()?;
                (p.client_id.is_some(), p.at)
            }
        })
    };
    let (has_id, at) = read(payload)?;
    if kind == "ga4" {
        if !has_id {
            return Some("the contact has no GA client id".into());
        }
        return outside_window("GA4", GA4_WINDOW, at, now);
    }
    if !has_id {
        return Some(if kind == "metrika" {
            "the contact has no Metrika ClientId or yclid".into()
        } else {
            "the contact has no Metrika ClientId".into()
        });
    }
    outside_window("Metrika", METRIKA_WINDOW, at, now)
}

/// POSTs the message's JSON to a webhook of the `webhooks` section, signed.
pub struct WebhookDeliverer {
    /// The HTTP client.
    pub client: OutboundClient,
}

#[async_trait]
impl Deliverer for WebhookDeliverer {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn rate_per_second(&self, settings: &serde_json::Value, destination: &str) -> f64 {
        section::<Vec<WebhookEndpoint>>(settings, &["webhooks"])
            .and_then(|hooks| hooks.into_iter().find(|h| h.id == destination))
            .and_then(|h| h.rate_per_second)
            .unwrap_or(DEFAULT_RATE)
    }

    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome> {
        let hooks: Vec<WebhookEndpoint> = section(settings, &["webhooks"]).unwrap_or_default();
        let mut out = Vec::with_capacity(batch.len());
        for item in batch {
            let Some(hook) = hooks.iter().find(|h| h.id == item.destination) else {
                out.push(Outcome::Skipped {
                    reason: format!("webhook '{}' is no longer configured", item.destination),
                });
                continue;
            };
            if !hook.enabled {
                out.push(Outcome::Skipped {
                    reason: format!("webhook '{}' is disabled", hook.id),
                });
                continue;
            }
            let event_type = item
                .payload
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let body = item.payload.to_string().into_bytes();
            let req = webhook::request(
                &hook.url,
                &hook.secret,
                body,
                event_type,
                &item.idempotency_key,
            );
            out.push(send(&self.client, Ok(req)).await);
        }
        out
    }
}

/// eSputnik `v2/event` calls with the message's body.
pub struct EsputnikDeliverer {
    /// The HTTP client.
    pub client: OutboundClient,
}

#[async_trait]
impl Deliverer for EsputnikDeliverer {
    fn kind(&self) -> &'static str {
        "esputnik"
    }

    fn rate_per_second(&self, settings: &serde_json::Value, _destination: &str) -> f64 {
        section::<EsputnikSettings>(settings, &["esputnik"])
            .and_then(|s| s.rate_per_second)
            .unwrap_or(DEFAULT_RATE)
    }

    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome> {
        let conf: EsputnikSettings = section(settings, &["esputnik"]).unwrap_or_default();
        if conf.api_key.is_empty() {
            return all(
                batch.len(),
                Outcome::Skipped {
                    reason: "eSputnik is not configured (esputnik.api_key)".into(),
                },
            );
        }
        let mut out = Vec::with_capacity(batch.len());
        for item in batch {
            if item
                .payload
                .get("keyValue")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .is_empty()
            {
                out.push(Outcome::Skipped {
                    reason: "the contact has no e-mail or phone for keyValue".into(),
                });
                continue;
            }
            let req = esputnik::request(conf.base_url.as_deref(), &conf.api_key, &item.payload);
            out.push(send(&self.client, Ok(req)).await);
        }
        out
    }
}

/// GA4 Measurement Protocol events.
pub struct Ga4Deliverer {
    /// The HTTP client.
    pub client: OutboundClient,
}

#[async_trait]
impl Deliverer for Ga4Deliverer {
    fn kind(&self) -> &'static str {
        "ga4"
    }

    fn rate_per_second(&self, settings: &serde_json::Value, _destination: &str) -> f64 {
        section::<Ga4Settings>(settings, &["conversions", "ga4"])
            .and_then(|s| s.rate_per_second)
            .unwrap_or(DEFAULT_RATE)
    }

    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome> {
        let Some(conf) = section::<Ga4Settings>(settings, &["conversions", "ga4"]) else {
            return all(
                batch.len(),
                Outcome::Skipped {
                    reason: "GA4 is not configured (conversions.ga4)".into(),
                },
            );
        };
        let mut out = Vec::with_capacity(batch.len());
        let now = Utc::now();
        for item in batch {
            if let Some(reason) = conversion_skip("ga4", &item.payload, now) {
                out.push(Outcome::Skipped { reason });
                continue;
            }
            let p: Ga4Payload = match serde_json::from_value(item.payload.clone()) {
                Ok(p) => p,
                Err(e) => {
                    out.push(Outcome::Failed {
                        error: format!("unreadable payload: {e}"),
                    });
                    continue;
                }
            };
            let event = ga4::Ga4Event {
                client_id: p.client_id.unwrap_or_default(),
                user_id: p.user_id,
                at: p.at,
                name: p.event_name,
                params: p.params,
            };
            let req = ga4::request(
                conf.base_url.as_deref(),
                &conf.measurement_id,
                &conf.api_secret,
                &event,
            );
            out.push(send(&self.client, req).await);
        }
        out
    }
}

/// Yandex Metrika offline conversions (`metrika`) or calls
/// (`metrika_calls`): one CSV upload per batch and client id type.
pub struct MetrikaDeliverer {
    /// The HTTP client.
    pub client: OutboundClient,
    /// `upload_calls` instead of `upload`.
    pub calls: bool,
}

/// One row ready for a CSV, or the outcome that replaces it.
enum Row {
    Conversion(&'static str, metrika::Conversion),
    Call(metrika::CallConversion),
    Done(Outcome),
}

fn metrika_row(item: &OutboxItem, calls: bool, now: chrono::DateTime<Utc>) -> Row {
    let kind = if calls { "metrika_calls" } else { "metrika" };
    if let Some(reason) = conversion_skip(kind, &item.payload, now) {
        return Row::Done(Outcome::Skipped { reason });
    }
    let unreadable = |e: serde_json::Error| {
        Row::Done(Outcome::Failed {
            error: format!("unreadable payload: {e}"),
        })
    };
    if calls {
        let p: MetrikaCallPayload = match serde_json::from_value(item.payload.clone()) {
            Ok(p) => p,
            Err(e) => return unreadable(e),
        };
        return Row::Call(metrika::CallConversion {
            client_id: p.client_id.unwrap_or_default(),
            at: p.at,
            price: None,
            currency: Some(p.currency),
            phone: p.phone,
            talk_duration: p.talk_duration,
            hold_duration: 0,
            missed: p.missed,
            tag: p.tag,
            first_time_caller: p.first_time_caller,
            url: String::new(),
            call_tracker_url: String::new(),
            static_call: p.static_call,
        });
    }
    let p: MetrikaPayload = match serde_json::from_value(item.payload.clone()) {
        Ok(p) => p,
        Err(e) => return unreadable(e),
    };
    let (id_type, client_id) = match (p.client_id, p.yclid) {
        (Some(c), _) => ("CLIENT_ID", c),
        (_, y) => ("YCLID", y.unwrap_or_default()),
    };
    Row::Conversion(
        id_type,
        metrika::Conversion {
            client_id,
            target: p.target,
            at: p.at,
            price: p.price,
            currency: Some(p.currency),
        },
    )
}

#[async_trait]
impl Deliverer for MetrikaDeliverer {
    fn kind(&self) -> &'static str {
        if self.calls {
            "metrika_calls"
        } else {
            "metrika"
        }
    }

    fn max_batch(&self) -> usize {
        500
    }

    fn rate_per_second(&self, settings: &serde_json::Value, _destination: &str) -> f64 {
        section::<MetrikaSettings>(settings, &["conversions", "metrika"])
            .and_then(|s| s.rate_per_second)
            .unwrap_or(METRIKA_RATE)
    }

    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome> {
        let Some(conf) = section::<MetrikaSettings>(settings, &["conversions", "metrika"]) else {
            return all(
                batch.len(),
                Outcome::Skipped {
                    reason: "Yandex Metrika is not configured (conversions.metrika)".into(),
                },
            );
        };
        let now = Utc::now();
        let rows: Vec<Row> = batch
            .iter()
            .map(|i| metrika_row(i, self.calls, now))
            .collect();
        let mut out: Vec<Option<Outcome>> = rows
            .iter()
            .map(|r| match r {
                Row::Done(o) => Some(o.clone()),
                _ => None,
            })
            .collect();
        // One upload per client id type, each row's outcome that upload's.
        for id_type in ["CLIENT_ID", "YCLID"] {
            let mut idx = Vec::new();
            let mut conversions = Vec::new();
            let mut call_rows = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                match r {
                    Row::Conversion(t, c) if *t == id_type => {
                        idx.push(i);
                        conversions.push(c.clone());
                    }
                    Row::Call(c) if id_type == "CLIENT_ID" => {
                        idx.push(i);
                        call_rows.push(c.clone());
                    }
                    _ => {}
                }
            }
            if idx.is_empty() {
                continue;
            }
            let csv = if self.calls {
                metrika::calls_csv(&call_rows, now)
            } else {
                metrika::conversions_csv(&conversions, now)
            };
            let req = metrika::upload_request(
                conf.base_url.as_deref(),
                &conf.counter_id,
                &conf.token,
                id_type,
                self.calls,
                &csv,
            );
            let o = send(&self.client, Ok(req)).await;
            for i in idx {
                out[i] = Some(o.clone());
            }
        }
        out.into_iter()
            .map(|o| {
                o.unwrap_or(Outcome::Failed {
                    error: "not sent".into(),
                })
            })
            .collect()
    }
}
