//! Which outbox messages an event makes under a project's settings: pure,
//! so the relay's fan-out is tested without a store or a network.
//!
//! Idempotency keys are `ev{event_id}:{kind}:{destination}` — the same event
//! relayed twice makes the same keys, which the outbox ignores the second
//! time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skvoz_domain::outbound::{ConversionRule, EventFacts};
use skvoz_domain::ProjectSettings;
use skvoz_store::{ContactKeys, NewOutboxMessage, StoredEvent};

/// What a `ga4` message carries; the deliverer builds the request at
/// delivery time (and skips it when it is too old by then).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ga4Payload {
    /// The rule that fired.
    pub rule: String,
    /// The contact's GA client id, if known.
    pub client_id: Option<String>,
    /// The contact id, as GA4's `user_id`.
    pub user_id: Option<String>,
    /// The event name (`purchase`, …).
    pub event_name: String,
    /// When the conversion happened.
    pub at: chrono::DateTime<chrono::Utc>,
    /// `transaction_id`, `value`, `currency` and the event's type.
    pub params: Map<String, Value>,
}

/// What a `metrika` message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetrikaPayload {
    /// The rule that fired.
    pub rule: String,
    /// The contact's Metrika ClientId, if known.
    pub client_id: Option<String>,
    /// The contact's latest yclid (used when there is no ClientId).
    pub yclid: Option<String>,
    /// The goal.
    pub target: String,
    /// When the conversion happened.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Its value.
    pub price: Option<String>,
    /// ISO 4217.
    pub currency: String,
}

/// What a `metrika_calls` message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetrikaCallPayload {
    /// The rule that fired.
    pub rule: String,
    /// The contact's Metrika ClientId, if known.
    pub client_id: Option<String>,
    /// When the call started.
    pub at: chrono::DateTime<chrono::Utc>,
    /// ISO 4217.
    pub currency: String,
    /// The caller.
    pub phone: String,
    /// Seconds.
    pub talk_duration: u32,
    /// Nobody answered.
    pub missed: bool,
    /// The caller's first call.
    pub first_time_caller: bool,
    /// The number was a static one.
    pub static_call: bool,
    /// A label (the number pool or `target`).
    pub tag: String,
}

/// The facts of an event the rules look at.
pub fn facts(event: &StoredEvent) -> EventFacts<'_> {
    let d = &event.data;
    EventFacts {
        event_type: event.kind.as_str(),
        stage: d.get("stage").and_then(Value::as_str),
        lead_kind: d.get("kind").and_then(Value::as_str),
        duplicate: d.get("duplicate").and_then(Value::as_bool).unwrap_or(false),
        is_target: d.get("is_target").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// Whether routing this event needs the contact's keys (a conversion rule
/// or eSputnik wants it).
pub fn needs_keys(event: &StoredEvent, settings: &ProjectSettings) -> bool {
    let f = facts(event);
    event.contact_id.is_some()
        && (settings.conversions.rules.iter().any(|r| r.matches(&f))
            || settings.esputnik.events.contains_key(event.kind.as_str()))
}

fn message(event: &StoredEvent, kind: &str, destination: &str, payload: Value) -> NewOutboxMessage {
    NewOutboxMessage {
        destination_kind: kind.to_owned(),
        destination: destination.to_owned(),
        idempotency_key: format!("ev{}:{kind}:{destination}", event.id),
        payload,
        event_id: Some(event.id),
        not_before: None,
    }
}

fn value_of(event: &StoredEvent) -> Option<f64> {
    event
        .data
        .get("revenue")
        .and_then(Value::as_f64)
        .filter(|v| *v > 0.0)
}

fn transaction_id(event: &StoredEvent) -> String {
    let d = &event.data;
    let (prefix, id) = match event.kind.as_str() {
        "deal.stage_changed" => ("deal", d.get("deal_id")),
        "lead.created" => ("lead", d.get("lead_id")),
        "call.finished" => ("call", d.get("call_id")),
        _ => ("event", None),
    };
    match id.and_then(Value::as_i64) {
        Some(id) => format!("{prefix}-{id}"),
        None => format!("event-{}", event.id),
    }
}

fn conversion_messages(
    event: &StoredEvent,
    rule: &ConversionRule,
    settings: &ProjectSettings,
    keys: &ContactKeys,
) -> Vec<NewOutboxMessage> {
    let currency = settings.general.currency.as_str().to_owned();
    let value = value_of(event);
    let mut out = Vec::new();
    for target in &rule.send_to {
        let payload = match target.as_str() {
            "ga4" => {
                let mut params = Map::new();
                params.insert("transaction_id".into(), transaction_id(event).into());
                params.insert("value".into(), value.unwrap_or(0.0).into());
                params.insert("currency".into(), currency.clone().into());
                params.insert("skvoz_event".into(), event.kind.as_str().into());
                serde_json::to_value(Ga4Payload {
                    rule: rule.id.clone(),
                    client_id: keys.ga_cid.clone(),
                    user_id: event.contact_id.map(|c| c.to_string()),
                    event_name: rule.ga4_event_name().to_owned(),
                    at: event.at,
                    params,
                })
            }
            "metrika" => serde_json::to_value(MetrikaPayload {
                rule: rule.id.clone(),
                client_id: keys.ym_uid.clone(),
                yclid: keys.yclid.clone(),
                target: rule.metrika_target.clone().unwrap_or_default(),
                at: event.at,
                price: value.map(|v| format!("{v:.2}")),
                currency: currency.clone(),
            }),
            "metrika_calls" => {
                let d = &event.data;
                let at = d
                    .get("started_at")
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or(event.at);
                serde_json::to_value(MetrikaCallPayload {
                    rule: rule.id.clone(),
                    client_id: keys.ym_uid.clone(),
                    at,
                    currency: currency.clone(),
                    phone: d
                        .get("caller")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    talk_duration: d.get("duration").and_then(Value::as_u64).unwrap_or(0) as u32,
                    missed: !d.get("answered").and_then(Value::as_bool).unwrap_or(true),
                    first_time_caller: d.get("is_unique").and_then(Value::as_bool).unwrap_or(false),
                    static_call: d.get("visit_id").map(Value::is_null).unwrap_or(true),
                    tag: if d.get("is_target").and_then(Value::as_bool).unwrap_or(false) {
                        "target".to_owned()
                    } else {
                        String::new()
                    },
                })
            }
            _ => continue,
        };
        // Serializing these structs cannot fail.
        if let Ok(payload) = payload {
            // One destination per kind: the project's GA4 stream or Metrika
            // counter; the rule is part of the key.
            let mut m = message(event, target, &rule.id, payload);
            m.destination = target.clone();
            out.push(m);
        }
    }
    out
}

/// eSputnik's params: the event's scalar facts as strings.
fn esputnik_params(event: &StoredEvent) -> Vec<(String, String)> {
    let mut params = vec![("event_id".to_owned(), event.id.to_string())];
    if let Some(obj) = event.data.as_object() {
        for (k, v) in obj {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            params.push((k.clone(), text.chars().take(500).collect()));
        }
    }
    params
}

/// Every message an event makes: one per subscribed webhook, one per
/// destination of each matching conversion rule, one for eSputnik when the
/// event type is mapped.
pub fn route(
    event: &StoredEvent,
    settings: &ProjectSettings,
    keys: &ContactKeys,
) -> Vec<NewOutboxMessage> {
    let kind = event.kind.as_str();
    let mut out = Vec::new();
    for hook in settings.webhooks.iter().filter(|h| h.wants(kind)) {
        let body = skvoz_connectors::outbound::webhook::envelope(
            event.id,
            kind,
            event.at,
            event.project.0,
            &event.data,
        );
        out.push(message(event, "webhook", &hook.id, body));
    }
    let f = facts(event);
    for rule in settings.conversions.rules.iter().filter(|r| r.matches(&f)) {
        out.extend(conversion_messages(event, rule, settings, keys));
    }
    if let Some(type_key) = settings.esputnik.events.get(kind) {
        let key_value = keys
            .email
            .clone()
            .or_else(|| keys.phone.clone())
            .unwrap_or_default();
        let body = skvoz_connectors::outbound::esputnik::event_body(
            type_key,
            &key_value,
            &esputnik_params(event),
        );
        out.push(message(event, "esputnik", "esputnik", body));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;
    use skvoz_domain::ProjectId;
    use skvoz_store::EventKind;

    fn settings() -> ProjectSettings {
        ProjectSettings::from_json(json!({
            "webhooks": [
                {"id": "crm", "url": "https://h.example/x", "secret": "0123456789abcdef", "events": ["deal.stage_changed"]},
                {"id": "all", "url": "https://h.example/y", "secret": "0123456789abcdef", "events": ["*"], "enabled": false}
            ],
            "conversions": {
                "ga4": {"measurement_id": "G-1", "api_secret": "s"},
                "metrika": {"counter_id": "1", "token": "t"},
                "rules": [{"id": "won", "when": {"deal_stage": "won"}, "send_to": ["ga4", "metrika"], "metrika_target": "deal_won"}]
            },
            "esputnik": {"api_key": "k", "events": {"deal.stage_changed": "dealStage"}}
        }))
        .expect("valid")
    }

    #[test]
    fn a_won_deal_fans_out_with_stable_keys() {
        let event = StoredEvent {
            id: 9,
            project: ProjectId(3),
            kind: EventKind::DealStageChanged,
            contact_id: Some(5),
            subject_id: Some(77),
            at: Utc::now(),
            recorded_at: Utc::now(),
            data: json!({"deal_id": 77, "stage": "won", "revenue": 1500.5}),
        };
        let s = settings();
        assert!(needs_keys(&event, &s));
        let keys = ContactKeys {
            ga_cid: Some("1.2".into()),
            email: Some("a@b.ru".into()),
            ..Default::default()
        };
        let msgs = route(&event, &s, &keys);
        let ids: Vec<(&str, &str, &str)> = msgs
            .iter()
            .map(|m| {
                (
                    m.destination_kind.as_str(),
                    m.destination.as_str(),
                    m.idempotency_key.as_str(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("webhook", "crm", "ev9:webhook:crm"),
                ("ga4", "ga4", "ev9:ga4:won"),
                ("metrika", "metrika", "ev9:metrika:won"),
                ("esputnik", "esputnik", "ev9:esputnik:esputnik"),
            ]
        );
        assert_eq!(msgs[0].payload["id"], "evt_9");
        assert_eq!(msgs[0].payload["type"], "deal.stage_changed");
        let ga4: Ga4Payload = serde_json::from_value(msgs[1].payload.clone()).expect("ga4");
        assert_eq!(ga4.client_id.as_deref(), Some("1.2"));
        assert_eq!(ga4.params["transaction_id"], "deal-77");
        assert_eq!(ga4.params["value"], 1500.5);
        let m: MetrikaPayload = serde_json::from_value(msgs[2].payload.clone()).expect("metrika");
        assert_eq!((m.client_id, m.price.as_deref()), (None, Some("1500.50")));
        assert_eq!(msgs[3].payload["keyValue"], "a@b.ru");
        // A lost deal matches the webhook and eSputnik, not the rule.
        let mut lost = event.clone();
        lost.data["stage"] = json!("lost");
        assert_eq!(route(&lost, &s, &keys).len(), 2);
    }
}
