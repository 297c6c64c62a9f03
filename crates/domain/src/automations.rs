//! Automations (eSputnik-style scenarios), dynamic groups and the SMTP
//! server: the `automations`, `groups` and `smtp` settings sections and the
//! pure parts of running a scenario — matching an event's fields against a
//! trigger's filters, checking a field against a regex, filling a message
//! template from the event.
//!
//! A scenario is: a trigger (an event type plus filters on its fields) →
//! an optional delay → conditions checked when the delay is over → actions
//! (send a survey, call a webhook, send an eSputnik event, send an e-mail,
//! tag the contact). The engine that runs them lives in the app crate.

use crate::settings::FieldError;
use crate::surveys::SurveySettings;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// The event types a trigger can name (the public webhook event types).
pub const EVENT_TYPES: [&str; 6] = [
    "lead.created",
    "deal.stage_changed",
    "call.finished",
    "chat.started",
    "ticket.closed",
    "survey.answered",
];

/// Most automations per project.
pub const MAX_AUTOMATIONS: usize = 100;
/// Longest delay: 90 days.
pub const MAX_DELAY_MINUTES: u32 = 90 * 24 * 60;

/// One scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// Unique id (kept by its runs).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Off: events create no runs, and due runs are cancelled.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What starts a run.
    pub trigger: Trigger,
    /// Minutes between the event and the conditions and actions.
    #[serde(default)]
    pub delay_minutes: u32,
    /// All must hold when the run fires, else it is skipped.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// What a run does, in order.
    pub actions: Vec<Action>,
}

fn yes() -> bool {
    true
}

/// An event type and filters on its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// One of [`EVENT_TYPES`].
    pub event: String,
    /// All must match the event's data.
    #[serde(default)]
    pub filters: Vec<Filter>,
}

/// A test on one field of the event's data (`score`, `answers.solved`,
/// `stage`: a dotted path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Dotted path into the event's data.
    pub field: String,
    /// The comparison.
    pub op: FilterOp,
    /// The value compared with (a list for `in`, a pattern for `regex`, a
    /// number for `gte`/`lte`).
    pub value: Value,
}

/// Comparisons of a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// Equal (numbers and their text compare equal).
    Eq,
    /// Not equal (a missing field is not equal).
    Ne,
    /// Equal to one of a list.
    In,
    /// The field's text matches the pattern (anywhere; anchor with ^$).
    Regex,
    /// The number is at least the value.
    Gte,
    /// The number is at most the value.
    Lte,
}

/// A condition checked when a run fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// The contact got no survey invitation in the last N days.
    NoSurveyWithin {
        /// Days.
        no_survey_within_days: u32,
    },
    /// The contact is in a dynamic group (its id in `groups`).
    InGroup {
        /// The group's id.
        in_group: String,
    },
    /// A field of the event's data matches a regex.
    Field {
        /// Dotted path into the event's data.
        field: String,
        /// The pattern.
        regex: String,
    },
}

/// What a run does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Invite the contact to a survey.
    SendSurvey(SendSurvey),
    /// POST the event to a webhook endpoint (its id in `webhooks`).
    Webhook(String),
    /// Send an eSputnik event with this `eventTypeKey`.
    EsputnikEvent(String),
    /// Send an e-mail (to a manager, say).
    Email(EmailAction),
    /// Tag the contact.
    Tag(String),
}

/// How a survey invitation travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyVia {
    /// An e-mail over SMTP to the contact's address.
    Email,
    /// A webhook (the receiver sends the link its own way).
    Webhook,
    /// An eSputnik event (eSputnik's scenario sends the link).
    Esputnik,
}

/// `send_survey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendSurvey {
    /// The survey's id in `surveys.items`.
    pub survey: String,
    /// How the link travels.
    pub via: SurveyVia,
    /// The webhook endpoint's id (`via: webhook`).
    #[serde(default)]
    pub webhook: Option<String>,
    /// The eSputnik `eventTypeKey` (`via: esputnik`; default `skvoz_survey`).
    #[serde(default)]
    pub event_key: Option<String>,
}

/// `email`: `{{field}}` in the subject and text is replaced by the event's
/// field (`{{score}}`, `{{answers.what_went_wrong}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailAction {
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// A dynamic group: contacts matching a rule, evaluated by query when
/// asked (never stored as a list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique id.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// Who is in it.
    pub rule: GroupRule,
}

/// A group's rule: every given criterion must hold. The survey criteria
/// (`survey`, `score_lte`, `score_gte`, `within_days`, `channel`) hold
/// when the contact has one answer meeting all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GroupRule {
    /// A survey id or kind (`nps`, `csat`).
    pub survey: Option<String>,
    /// The answer's score is at most this.
    pub score_lte: Option<i64>,
    /// The answer's score is at least this.
    pub score_gte: Option<i64>,
    /// The answer came within the last N days.
    pub within_days: Option<u32>,
    /// The contact has this tag.
    pub tag: Option<String>,
    /// The answer's acquisition channel (the contact's first visit, or
    /// the deal's visit).
    pub channel: Option<String>,
}

impl GroupRule {
    /// Whether the rule asks about survey answers.
    pub fn has_survey_criteria(&self) -> bool {
        self.survey.is_some()
            || self.score_lte.is_some()
            || self.score_gte.is_some()
            || self.within_days.is_some()
            || self.channel.is_some()
    }
}

/// The SMTP server survey and notification e-mails go through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Host; empty disables e-mail (messages wait in the outbox).
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS, 25 plain).
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: SmtpTls,
    /// Login, when the server wants one.
    pub username: Option<String>,
    /// Password (masked on read).
    pub password: Option<String>,
    /// The sender (`Skvoz <noreply@example.com>` or a bare address).
    pub from: String,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: String::new(),
        }
    }
}

/// Transport security of the SMTP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain text (a local relay).
    None,
    /// Upgrade with STARTTLS (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// The value at a dotted path of an event's data.
pub fn field<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(data, |v, key| match v {
            Value::Object(m) => m.get(key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
        .filter(|v| !v.is_null())
}

/// A value as text (strings as they are, other scalars as JSON).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) if !a.is_boolean() && !b.is_boolean() => x == y,
        _ => value_text(a) == value_text(b),
    }
}

/// Compiles a user's pattern with a size limit (matches anywhere).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
}

impl Filter {
    /// Whether the event's data passes.
    pub fn matches(&self, data: &Value) -> bool {
        let got = field(data, &self.field);
        match self.op {
            FilterOp::Eq => got.is_some_and(|g| loosely_equal(g, &self.value)),
            FilterOp::Ne => !got.is_some_and(|g| loosely_equal(g, &self.value)),
            FilterOp::In => got.is_some_and(|g| {
                self.value
                    .as_array()
                    .is_some_and(|list| list.iter().any(|v| loosely_equal(g, v)))
            }),
            FilterOp::Regex => got.is_some_and(|g| regex_matches(self.value.as_str(), g)),
            FilterOp::Gte | FilterOp::Lte => match (got.and_then(number), number(&self.value)) {
                (Some(g), Some(v)) => {
                    if self.op == FilterOp::Gte {
                        g >= v
                    } else {
                        g <= v
                    }
                }
                _ => false,
            },
        }
    }

    fn validate(&self, path: &str) -> Result<(), FieldError> {
        if self.field.is_empty() || self.field.len() > 100 {
            return Err(fe(format!("{path}.field"), "must be 1-100 characters"));
        }
        let ok = match self.op {
            FilterOp::Eq | FilterOp::Ne => !self.value.is_array() && !self.value.is_object(),
            FilterOp::In => self.value.as_array().is_some_and(|a| a.len() <= 100),
            FilterOp::Regex => self.value.as_str().is_some_and(|p| compile(p).is_ok()),
            FilterOp::Gte | FilterOp::Lte => number(&self.value).is_some(),
        };
        if ok {
            Ok(())
        } else {
            Err(fe(
                format!("{path}.value"),
                "eq/ne take a scalar, in a list of at most 100, regex a valid pattern, gte/lte a number",
            ))
        }
    }
}

fn regex_matches(pattern: Option<&str>, v: &Value) -> bool {
    pattern
        .and_then(|p| compile(p).ok())
        .is_some_and(|re| re.is_match(&value_text(v)))
}

/// Whether the event's field matches a condition's regex (a missing field
/// does not).
pub fn field_matches(data: &Value, path: &str, pattern: &str) -> bool {
    field(data, path).is_some_and(|v| regex_matches(Some(pattern), v))
}

/// Fills `{{path}}` placeholders from the event's data (missing → empty).
pub fn render_template(template: &str, data: &Value) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let path = after[..end].trim();
                if let Some(v) = field(data, path) {
                    out.push_str(&value_text(v));
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Trigger {
    /// Whether an event of `kind` with `data` starts a run.
    pub fn matches(&self, kind: &str, data: &Value) -> bool {
        self.event == kind && self.filters.iter().all(|f| f.matches(data))
    }
}

fn fe(field: String, message: &str) -> FieldError {
    FieldError {
        field,
        message: message.to_owned(),
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn email_ok(s: &str) -> bool {
    let addr = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    crate::contact::normalize_email(addr).is_ok() && s.len() <= 254
}

/// Checks the `automations` section against the surveys and groups it
/// names. Webhook endpoint ids are checked when a message is delivered
/// (the `webhooks` section may be edited independently).
pub fn validate_automations(
    list: &[Automation],
    surveys: &SurveySettings,
    groups: &[Group],
) -> Result<(), FieldError> {
    if list.len() > MAX_AUTOMATIONS {
        return Err(fe("automations".into(), "at most 100 automations"));
    }
    let mut ids = HashSet::new();
    for (i, a) in list.iter().enumerate() {
        let p = format!("automations[{i}]");
        if !id_ok(&a.id) || !ids.insert(a.id.as_str()) {
            return Err(fe(
                format!("{p}.id"),
                "ids must be unique, 1-40 characters of [A-Za-z0-9_-]",
            ));
        }
        if a.name.trim().is_empty() || a.name.len() > 200 {
            return Err(fe(format!("{p}.name"), "must be 1-200 characters"));
        }
        if !EVENT_TYPES.contains(&a.trigger.event.as_str()) {
            return Err(fe(
                format!("{p}.trigger.event"),
                "must be one of lead.created, deal.stage_changed, call.finished, chat.started, ticket.closed, survey.answered",
            ));
        }
        if a.trigger.filters.len() > 20 {
            return Err(fe(format!("{p}.trigger.filters"), "at most 20 filters"));
        }
        for (j, f) in a.trigger.filters.iter().enumerate() {
            f.validate(&format!("{p}.trigger.filters[{j}]"))?;
        }
        if a.delay_minutes > MAX_DELAY_MINUTES {
            return Err(fe(format!("{p}.delay_minutes"), "at most 129600 (90 days)"));
        }
        for (j, c) in a.conditions.iter().enumerate() {
            let cp = format!("{p}.conditions[{j}]");
            match c {
                Condition::NoSurveyWithin {
                    no_survey_within_days: d,
                } if !(1..=3650).contains(d) => {
                    return Err(fe(
                        format!("{cp}.no_survey_within_days"),
                        "must be between 1 and 3650",
                    ))
                }
                Condition::InGroup { in_group } if !groups.iter().any(|g| &g.id == in_group) => {
                    return Err(fe(
                        format!("{cp}.in_group"),
                        "must name a group of the groups section",
                    ))
                }
                Condition::Field { field, regex } => {
                    if field.is_empty() || field.len() > 100 {
                        return Err(fe(format!("{cp}.field"), "must be 1-100 characters"));
                    }
                    if compile(regex).is_err() {
                        return Err(fe(format!("{cp}.regex"), "invalid regular expression"));
                    }
                }
                _ => {}
            }
        }
        if a.actions.is_empty() || a.actions.len() > 10 {
            return Err(fe(format!("{p}.actions"), "must hold 1-10 actions"));
        }
        for (j, action) in a.actions.iter().enumerate() {
            let ap = format!("{p}.actions[{j}]");
            match action {
                Action::SendSurvey(s) => {
                    if surveys.survey(&s.survey).is_none() {
                        return Err(fe(
                            format!("{ap}.send_survey.survey"),
                            "must name a survey of surveys.items",
                        ));
                    }
                    if s.via == SurveyVia::Webhook && s.webhook.as_deref().is_none_or(|w| !id_ok(w))
                    {
                        return Err(fe(
                            format!("{ap}.send_survey.webhook"),
                            "via webhook needs the endpoint's id",
                        ));
                    }
                    if s.event_key
                        .as_ref()
                        .is_some_and(|k| k.is_empty() || k.len() > 100)
                    {
                        return Err(fe(
                            format!("{ap}.send_survey.event_key"),
                            "must be 1-100 characters",
                        ));
                    }
                }
                Action::Webhook(w) if !id_ok(w) => {
                    return Err(fe(format!("{ap}.webhook"), "must be an endpoint id"))
                }
                Action::EsputnikEvent(k) if k.is_empty() || k.len() > 100 => {
                    return Err(fe(
                        format!("{ap}.esputnik_event"),
                        "must be 1-100 characters",
                    ))
                }
                Action::Email(e) => {
                    if !email_ok(&e.to) {
                        return Err(fe(format!("{ap}.email.to"), "must be an e-mail address"));
                    }
                    if e.subject.trim().is_empty() || e.subject.len() > 300 {
                        return Err(fe(
                            format!("{ap}.email.subject"),
                            "must be 1-300 characters",
                        ));
                    }
                    if e.text.len() > 10_000 {
                        return Err(fe(format!("{ap}.email.text"), "at most 10000 characters"));
                    }
                }
                Action::Tag(t) if t.trim().is_empty() || t.len() > 64 => {
                    return Err(fe(format!("{ap}.tag"), "must be 1-64 characters"))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Checks the `groups` section.
pub fn validate_groups(groups: &[Group]) -> Result<(), FieldError> {
    if groups.len() > 100 {
        return Err(fe("groups".into(), "at most 100 groups"));
    }
    let mut ids = HashSet::new();
    for (i, g) in groups.iter().enumerate() {
        let p = format!("groups[{i}]");
        if !id_ok(&g.id) || !ids.insert(g.id.as_str()) {
            return Err(fe(
                format!("{p}.id"),
                "ids must be unique, 1-40 characters of [A-Za-z0-9_-]",
            ));
        }
        if g.name.trim().is_empty() || g.name.len() > 200 {
            return Err(fe(format!("{p}.name"), "must be 1-200 characters"));
        }
        let r = &g.rule;
        if !r.has_survey_criteria() && r.tag.is_none() {
            return Err(fe(format!("{p}.rule"), "needs at least one criterion"));
        }
        if r.within_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(fe(
                format!("{p}.rule.within_days"),
                "must be between 1 and 3650",
            ));
        }
    }
    Ok(())
}

impl SmtpSettings {
    /// Checks the section.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.host.is_empty() {
            return Ok(());
        }
        if self.host.len() > 253 || self.host.contains(char::is_whitespace) {
            return Err(fe("smtp.host".into(), "must be a host name"));
        }
        if self.port == 0 {
            return Err(fe("smtp.port".into(), "must be a port number"));
        }
        if !email_ok(&self.from) {
            return Err(fe(
                "smtp.from".into(),
                "must be an address (`Name <a@b.c>` or `a@b.c`)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(field: &str, op: FilterOp, value: Value) -> Filter {
        Filter {
            field: field.to_owned(),
            op,
            value,
        }
    }

    #[test]
    fn filters_compare_fields_of_the_event() {
        let data = json!({"score": 4, "answers": {"solved": "no"}, "stage": "won", "kind": "csat"});
        let yes = [
            filter("score", FilterOp::Lte, json!(6)),
            filter("score", FilterOp::Gte, json!("4")),
            filter("score", FilterOp::Eq, json!("4")),
            filter("answers.solved", FilterOp::Eq, json!("no")),
            filter("stage", FilterOp::In, json!(["paid", "won"])),
            filter("stage", FilterOp::Ne, json!("lost")),
            filter("missing", FilterOp::Ne, json!("x")),
            filter("kind", FilterOp::Regex, json!("^cs")),
        ];
        for f in &yes {
            assert!(f.matches(&data), "{f:?}");
        }
        let no = [
            filter("score", FilterOp::Lte, json!(3)),
            filter("score", FilterOp::Gte, json!(5)),
            filter("answers.solved", FilterOp::Eq, json!("yes")),
            filter("stage", FilterOp::In, json!(["paid"])),
            filter("missing", FilterOp::Eq, json!("x")),
            filter("missing", FilterOp::Lte, json!(1)),
            filter("kind", FilterOp::Regex, json!("^nps$")),
            filter("stage", FilterOp::Gte, json!(1)),
        ];
        for f in &no {
            assert!(!f.matches(&data), "{f:?}");
        }
    }

    #[test]
    fn triggers_need_the_type_and_every_filter() {
        let t = Trigger {
            event: "survey.answered".into(),
            filters: vec![
                filter("score", FilterOp::Lte, json!(6)),
                filter("kind", FilterOp::Eq, json!("nps")),
            ],
        };
        assert!(t.matches("survey.answered", &json!({"score": 6, "kind": "nps"})));
        assert!(!t.matches("survey.answered", &json!({"score": 7, "kind": "nps"})));
        assert!(!t.matches("ticket.closed", &json!({"score": 6, "kind": "nps"})));
    }

    #[test]
    fn conditions_and_actions_parse_in_the_documented_shapes() {
        let a: Automation = serde_json::from_value(json!({
            "id": "csat-after-ticket", "name": "CSAT", "trigger": {"event": "ticket.closed"},
            "delay_minutes": 60,
            "conditions": [{"no_survey_within_days": 7}, {"field": "status", "regex": "^closed$"}, {"in_group": "unhappy"}],
            "actions": [{"send_survey": {"survey": "csat", "via": "email"}}, {"webhook": "crm"},
                {"esputnik_event": "nps_low"}, {"email": {"to": "boss@shop.ru", "subject": "s", "text": "t"}}, {"tag": "vip"}]
        }))
        .expect("documented shape");
        assert!(a.enabled);
        assert_eq!(
            a.conditions[0],
            Condition::NoSurveyWithin {
                no_survey_within_days: 7
            }
        );
        assert!(matches!(a.conditions[1], Condition::Field { .. }));
        assert!(matches!(a.conditions[2], Condition::InGroup { .. }));
        assert_eq!(a.actions[4], Action::Tag("vip".into()));
        let groups = vec![Group {
            id: "unhappy".into(),
            name: "Unhappy".into(),
            rule: GroupRule {
                score_lte: Some(4),
                ..Default::default()
            },
        }];
        validate_automations(
            std::slice::from_ref(&a),
            &SurveySettings::default(),
            &groups,
        )
        .expect("valid");
        let e = validate_automations(&[a], &SurveySettings::default(), &[]).expect_err("group");
        assert_eq!(e.field, "automations[0].conditions[2].in_group");
    }

    #[test]
    fn validation_names_bad_fields() {
        let base = json!({"id": "a", "name": "A", "trigger": {"event": "ticket.closed"}, "actions": [{"tag": "x"}]});
        let cases = [
            (
                json!({"trigger": {"event": "ticket.opened"}}),
                "automations[0].trigger.event",
            ),
            (
                json!({"trigger": {"event": "ticket.closed", "filters": [{"field": "x", "op": "regex", "value": "(("}]}}),
                "automations[0].trigger.filters[0].value",
            ),
            (
                json!({"actions": [{"send_survey": {"survey": "nope", "via": "email"}}]}),
                "automations[0].actions[0].send_survey.survey",
            ),
            (
                json!({"actions": [{"send_survey": {"survey": "nps", "via": "webhook"}}]}),
                "automations[0].actions[0].send_survey.webhook",
            ),
            (
                json!({"actions": [{"email": {"to": "nobody", "subject": "s", "text": "t"}}]}),
                "automations[0].actions[0].email.to",
            ),
            (
                json!({"conditions": [{"field": "x", "regex": "(("}]}),
                "automations[0].conditions[0].regex",
            ),
            (json!({"actions": []}), "automations[0].actions"),
        ];
        for (patch, path) in cases {
            let mut doc = base.clone();
            for (k, v) in patch.as_object().expect("object") {
                doc[k] = v.clone();
            }
            let a: Automation = serde_json::from_value(doc).expect("shape");
            let e = validate_automations(&[a], &SurveySettings::default(), &[]).expect_err(path);
            assert_eq!(e.field, path);
        }
    }

    #[test]
    fn field_conditions_and_templates_read_dotted_paths() {
        let data =
            json!({"score": 3, "answers": {"what_went_wrong": "slow reply"}, "email": "a@b.ru"});
        assert!(field_matches(&data, "email", r"@b\.ru$"));
        assert!(!field_matches(&data, "email", r"@c\.ru$"));
        assert!(!field_matches(&data, "phone", ".*"));
        assert_eq!(
            render_template(
                "NPS {{score}}: {{ answers.what_went_wrong }} {{nope}}!",
                &data
            ),
            "NPS 3: slow reply !"
        );
        assert_eq!(render_template("open {{", &data), "open {{");
    }

    #[test]
    fn groups_and_smtp_validate() {
        let empty = Group {
            id: "g".into(),
            name: "G".into(),
            rule: GroupRule::default(),
        };
        assert_eq!(
            validate_groups(&[empty]).expect_err("no rule").field,
            "groups[0].rule"
        );
        let mut smtp = SmtpSettings::default();
        smtp.validate().expect("disabled is fine");
        smtp.host = "smtp.example.com".into();
        assert_eq!(smtp.validate().expect_err("from").field, "smtp.from");
        smtp.from = "Shop <noreply@shop.ru>".into();
        smtp.validate().expect("valid");
    }
}
