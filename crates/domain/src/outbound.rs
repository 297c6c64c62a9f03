//! Where a project's events go: the `webhooks`, `conversions` and `esputnik`
//! settings sections, and the pure decisions the outbox relay and its
//! deliverers make over them (which rule fires on which event, which
//! conversions fall outside the receivers' windows).

use crate::settings::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// The public event types (the names webhook subscribers select).
pub const EVENT_TYPES: [&str; 6] = [
    "lead.created",
    "deal.stage_changed",
    "call.finished",
    "chat.started",
    "ticket.closed",
    "survey.answered",
];

/// GA4 takes events at most 72 hours old.
pub const GA4_WINDOW: Duration = Duration::hours(72);
/// Yandex Metrika links offline conversions at most 21 days old.
pub const METRIKA_WINDOW: Duration = Duration::days(21);

/// One subscriber of outgoing webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Its id (1-40 of `[A-Za-z0-9_-]`), part of idempotency keys.
    pub id: String,
    /// Where to POST.
    pub url: String,
    /// HMAC-SHA256 key of `X-Skvoz-Signature` (at least 16 characters).
    pub secret: String,
    /// Event types it receives (`lead.created`, …; `*` for all).
    pub events: Vec<String>,
    /// Deliver to it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Requests per second at most (default 10).
    #[serde(default)]
    pub rate_per_second: Option<f64>,
}

impl WebhookEndpoint {
    /// Whether it subscribes to an event type.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// Conversions sent to GA4 and Yandex Metrika.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConversionSettings {
    /// GA4 Measurement Protocol.
    pub ga4: Option<Ga4Settings>,
    /// Yandex Metrika offline conversions.
    pub metrika: Option<MetrikaSettings>,
    /// When to send what.
    pub rules: Vec<ConversionRule>,
}

/// GA4 Measurement Protocol credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ga4Settings {
    /// `G-…`.
    pub measurement_id: String,
    /// The stream's Measurement Protocol API secret.
    pub api_secret: String,
    /// Default `https://www.google-analytics.com` (EU:
    /// `https://region1.google-analytics.com`; tests: a local fake).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Requests per second at most (default 10).
    #[serde(default)]
    pub rate_per_second: Option<f64>,
}

/// Yandex Metrika management API credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetrikaSettings {
    /// The counter (tag) id, digits.
    pub counter_id: String,
    /// OAuth token with the counter's edit rights.
    pub token: String,
    /// Default `https://api-metrika.yandex.net`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Upload requests per second at most (default 1; each carries a batch).
    #[serde(default)]
    pub rate_per_second: Option<f64>,
}

/// One conversion rule: when it fires and where it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRule {
    /// Its id (1-40 of `[A-Za-z0-9_-]`), part of idempotency keys.
    pub id: String,
    /// The trigger: exactly one of `deal_stage`, `lead_kind`, `event`.
    pub when: ConversionWhen,
    /// `ga4`, `metrika`, `metrika_calls` (calls only).
    pub send_to: Vec<String>,
    /// GA4 event name (default `purchase`).
    #[serde(default)]
    pub event_name: Option<String>,
    /// Metrika goal identifier (the `Target` column); required with `metrika`.
    #[serde(default)]
    pub metrika_target: Option<String>,
    /// Fire it.
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A rule's trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ConversionWhen {
    /// A deal entered this stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deal_stage: Option<String>,
    /// A (non-repeat) lead of this kind appeared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_kind: Option<String>,
    /// Any event of this type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// With `event: call.finished`: target calls only.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub target_only: bool,
}

/// The facts of an event a rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    /// The event type (`deal.stage_changed`, …).
    pub event_type: &'a str,
    /// The stage entered (deal events).
    pub stage: Option<&'a str>,
    /// The lead's kind (lead events).
    pub lead_kind: Option<&'a str>,
    /// The lead is a repeat lead of an open deal.
    pub duplicate: bool,
    /// The call is a target call.
    pub is_target: bool,
}

impl ConversionRule {
    /// Whether this rule fires on an event.
    pub fn matches(&self, e: &EventFacts<'_>) -> bool {
        if !self.enabled {
            return false;
        }
        let w = &self.when;
        if let Some(stage) = &w.deal_stage {
            return e.event_type == "deal.stage_changed"
                && e.stage
                    .is_some_and(|s| s.eq_ignore_ascii_case(stage.trim()));
        }
        if let Some(kind) = &w.lead_kind {
            return e.event_type == "lead.created"
                && !e.duplicate
                && e.lead_kind.is_some_and(|k| k.eq_ignore_ascii_case(kind));
        }
        if let Some(event) = &w.event {
            return e.event_type == event && (!w.target_only || e.is_target);
        }
        false
    }

    /// The GA4 event name.
    pub fn ga4_event_name(&self) -> &str {
        self.event_name.as_deref().unwrap_or("purchase")
    }
}

/// eSputnik: events of the project as `v2/event` calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct EsputnikSettings {
    /// The API key (Basic auth password).
    pub api_key: String,
    /// Default `https://esputnik.com`.
    pub base_url: Option<String>,
    /// skvoz event type → eSputnik `eventTypeKey`; only these are sent.
    pub events: BTreeMap<String, String>,
    /// Requests per second at most (default 10).
    pub rate_per_second: Option<f64>,
}

fn yes() -> bool {
    true
}

/// Why a conversion at `at` is not sent at `now` to a receiver with a
/// window, or `None` when it is inside the window.
pub fn outside_window(
    receiver: &str,
    window: Duration,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<String> {
    let age = now - at;
    (age > window).then(|| {
        format!(
            "outside the {receiver} window: the conversion is {} h old, the limit is {} h",
            age.num_hours(),
            window.num_hours()
        )
    })
}

fn check_id(field: String, id: &str, seen: &mut HashSet<String>) -> Result<(), FieldError> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(FieldError::new(
            field,
            "must be 1-40 characters of [A-Za-z0-9_-]",
        ));
    }
    if !seen.insert(id.to_owned()) {
        return Err(FieldError::new(field, format!("duplicate id '{id}'")));
    }
    Ok(())
}

fn check_url(field: String, url: &str) -> Result<(), FieldError> {
    let parsed = url::Url::parse(url).map_err(|e| FieldError::new(&field, e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(FieldError::new(field, "must be an http(s) URL"));
    }
    Ok(())
}

fn check_rate(field: String, rate: Option<f64>) -> Result<(), FieldError> {
    match rate {
        Some(r) if !(r > 0.0 && r <= 1000.0) => Err(FieldError::new(
            field,
            "must be more than 0 and at most 1000",
        )),
        _ => Ok(()),
    }
}

fn check_event_type(field: String, name: &str) -> Result<(), FieldError> {
    if EVENT_TYPES.contains(&name) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "unknown event type '{name}': use {}",
                EVENT_TYPES.join(", ")
            ),
        ))
    }
}

/// Checks the `webhooks` section; errors name the field path.
pub fn validate_webhooks(hooks: &[WebhookEndpoint]) -> Result<(), FieldError> {
    if hooks.len() > 50 {
        return Err(FieldError::new("webhooks", "at most 50 endpoints"));
    }
    let mut ids = HashSet::new();
    for (i, h) in hooks.iter().enumerate() {
        check_id(format!("webhooks[{i}].id"), &h.id, &mut ids)?;
        check_url(format!("webhooks[{i}].url"), &h.url)?;
        if h.secret.len() < 16 {
            return Err(FieldError::new(
                format!("webhooks[{i}].secret"),
                "must be at least 16 characters",
            ));
        }
        if h.events.is_empty() {
            return Err(FieldError::new(
                format!("webhooks[{i}].events"),
                "name at least one event type (or *)",
            ));
        }
        for (j, e) in h.events.iter().enumerate() {
            if e != "*" {
                check_event_type(format!("webhooks[{i}].events[{j}]"), e)?;
            }
        }
        check_rate(format!("webhooks[{i}].rate_per_second"), h.rate_per_second)?;
    }
    Ok(())
}

impl ConversionSettings {
    /// Checks the section against the pipeline's stage names.
    pub fn validate(&self, known_stage: &dyn Fn(&str) -> bool) -> Result<(), FieldError> {
        if let Some(g) = &self.ga4 {
            if !g.measurement_id.starts_with("G-") || g.measurement_id.len() > 40 {
                return Err(FieldError::new(
                    "conversions.ga4.measurement_id",
                    "must be a GA4 measurement id such as G-XXXXXXX",
                ));
            }
            if g.api_secret.is_empty() || g.api_secret.len() > 200 {
                return Err(FieldError::new(
                    "conversions.ga4.api_secret",
                    "must be the stream's Measurement Protocol API secret",
                ));
            }
            if let Some(u) = &g.base_url {
                check_url("conversions.ga4.base_url".into(), u)?;
            }
            check_rate("conversions.ga4.rate_per_second".into(), g.rate_per_second)?;
        }
        if let Some(m) = &self.metrika {
            if m.counter_id.is_empty()
                || m.counter_id.len() > 20
                || !m.counter_id.chars().all(|c| c.is_ascii_digit())
            {
                return Err(FieldError::new(
                    "conversions.metrika.counter_id",
                    "must be the counter's number",
                ));
            }
            if m.token.is_empty() || m.token.len() > 500 {
                return Err(FieldError::new(
                    "conversions.metrika.token",
                    "must be an OAuth token",
                ));
            }
            if let Some(u) = &m.base_url {
                check_url("conversions.metrika.base_url".into(), u)?;
            }
            check_rate(
                "conversions.metrika.rate_per_second".into(),
                m.rate_per_second,
            )?;
        }
        if self.rules.len() > 100 {
            return Err(FieldError::new("conversions.rules", "at most 100 rules"));
        }
        let mut ids = HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            let at = |f: &str| format!("conversions.rules[{i}].{f}");
            check_id(at("id"), &r.id, &mut ids)?;
            let w = &r.when;
            let set = [
                w.deal_stage.is_some(),
                w.lead_kind.is_some(),
                w.event.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if set != 1 {
                return Err(FieldError::new(
                    at("when"),
                    "name exactly one of deal_stage, lead_kind, event",
                ));
            }
            if let Some(s) = &w.deal_stage {
                if !known_stage(s) {
                    return Err(FieldError::new(
                        at("when.deal_stage"),
                        format!("'{s}' is not a stage of the pipeline"),
                    ));
                }
            }
            if let Some(k) = &w.lead_kind {
                if crate::crm::LeadKind::parse(k).is_none() {
                    return Err(FieldError::new(
                        at("when.lead_kind"),
                        "use form, call, chat, ticket or email",
                    ));
                }
            }
            if let Some(e) = &w.event {
                check_event_type(at("when.event"), e)?;
            }
            if w.target_only && w.event.as_deref() != Some("call.finished") {
                return Err(FieldError::new(
                    at("when.target_only"),
                    "applies to event call.finished only",
                ));
            }
            if r.send_to.is_empty() {
                return Err(FieldError::new(at("send_to"), "name ga4 and/or metrika"));
            }
            for (j, t) in r.send_to.iter().enumerate() {
                let field = format!("conversions.rules[{i}].send_to[{j}]");
                match t.as_str() {
                    "ga4" if self.ga4.is_none() => {
                        return Err(FieldError::new(field, "configure conversions.ga4 first"))
                    }
                    "metrika" | "metrika_calls" if self.metrika.is_none() => {
                        return Err(FieldError::new(
                            field,
                            "configure conversions.metrika first",
                        ))
                    }
                    "metrika_calls" if w.event.as_deref() != Some("call.finished") => {
                        return Err(FieldError::new(
                            field,
                            "metrika_calls sends calls: use it with event call.finished",
                        ))
                    }
                    "ga4" | "metrika" | "metrika_calls" => {}
                    other => {
                        return Err(FieldError::new(
                            field,
                            format!(
                                "unknown destination '{other}': use ga4, metrika or metrika_calls"
                            ),
                        ))
                    }
                }
            }
            if let Some(name) = &r.event_name {
                let ok = !name.is_empty()
                    && name.len() <= 40
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    return Err(FieldError::new(
                        at("event_name"),
                        "GA4 event names are 1-40 letters, digits or _, starting with a letter",
                    ));
                }
            }
            let needs_target = r.send_to.iter().any(|t| t == "metrika");
            match &r.metrika_target {
                None if needs_target => {
                    return Err(FieldError::new(
                        at("metrika_target"),
                        "required when sending to metrika",
                    ))
                }
                Some(t) if t.is_empty() || t.len() > 100 || t.contains([',', '\n', '"']) => {
                    return Err(FieldError::new(
                        at("metrika_target"),
                        "1-100 characters without commas, quotes or line breaks",
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl EsputnikSettings {
    /// Checks the section.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !self.events.is_empty() && self.api_key.is_empty() {
            return Err(FieldError::new(
                "esputnik.api_key",
                "required when events are mapped",
            ));
        }
        if let Some(u) = &self.base_url {
            check_url("esputnik.base_url".into(), u)?;
        }
        for (name, key) in &self.events {
            check_event_type(format!("esputnik.events.{name}"), name)?;
            if key.is_empty() || key.len() > 200 {
                return Err(FieldError::new(
                    format!("esputnik.events.{name}"),
                    "the eventTypeKey: 1-200 characters",
                ));
            }
        }
        check_rate("esputnik.rate_per_second".into(), self.rate_per_second)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    fn rule(when: ConversionWhen) -> ConversionRule {
        ConversionRule {
            id: "r".into(),
            when,
            send_to: vec!["ga4".into()],
            event_name: None,
            metrika_target: None,
            enabled: true,
        }
    }

    fn facts<'a>(t: &'a str) -> EventFacts<'a> {
        EventFacts {
            event_type: t,
            stage: None,
            lead_kind: None,
            duplicate: false,
            is_target: false,
        }
    }

    #[test]
    fn rules_match_their_trigger_only() {
        let won = rule(ConversionWhen {
            deal_stage: Some("Won".into()),
            ..Default::default()
        });
        let mut e = facts("deal.stage_changed");
        e.stage = Some("won");
        assert!(won.matches(&e));
        e.stage = Some("lost");
        assert!(!won.matches(&e));

        let calls = rule(ConversionWhen {
            lead_kind: Some("call".into()),
            ..Default::default()
        });
        let mut l = facts("lead.created");
        l.lead_kind = Some("call");
        assert!(calls.matches(&l));
        l.duplicate = true;
        assert!(!calls.matches(&l), "a repeat lead is no new conversion");

        let target = rule(ConversionWhen {
            event: Some("call.finished".into()),
            target_only: true,
            ..Default::default()
        });
        let mut c = facts("call.finished");
        assert!(!target.matches(&c));
        c.is_target = true;
        assert!(target.matches(&c));
        let mut off = target.clone();
        off.enabled = false;
        assert!(!off.matches(&c));
    }

    #[test]
    fn windows_are_72_hours_and_21_days() {
        let now = Utc.with_ymd_and_hms(2026, 3, 30, 12, 0, 0).unwrap();
        assert_eq!(
            outside_window("GA4", GA4_WINDOW, now - Duration::hours(71), now),
            None
        );
        let why = outside_window("GA4", GA4_WINDOW, now - Duration::hours(73), now).unwrap();
        assert!(why.contains("73 h old") && why.contains("72 h"), "{why}");
        assert_eq!(
            outside_window("Metrika", METRIKA_WINDOW, now - Duration::days(20), now),
            None
        );
        assert!(outside_window("Metrika", METRIKA_WINDOW, now - Duration::days(22), now).is_some());
    }
}
