//! The project's configuration as one typed JSON document.
//!
//! The document is validated as a whole: deserialization errors and semantic
//! errors both come back as [`FieldError`]s naming the JSON path of the bad
//! field (`pipeline.stages[2].kind`). Each issue that adds configuration adds
//! a section here. Secrets are masked on read by key name (see
//! [`mask_secrets`]) and a masked value sent back on write keeps the stored
//! secret (see [`restore_masked_secrets`]), so a client can round-trip the
//! document without ever seeing or erasing a secret.

use crate::project::{Currency, TimeZone};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The whole configuration of one project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectSettings {
    /// Time zone, currency and other basics.
    pub general: GeneralSettings,
    /// Channel grouping rules.
    pub channels: ChannelSettings,
    /// The sales pipeline.
    pub pipeline: Pipeline,
    /// How leads open deals.
    pub leads: LeadSettings,
    /// CRM connectors and the Alytics format.
    pub crm: CrmSettings,
    /// Attribution: default model, lookback window, model parameters.
    pub attribution: AttributionSettings,
    /// WhatsApp and Telegram tracking.
    pub messengers: crate::messengers::MessengerSettings,
    /// Call tracking: number pools, call rules, telephony webhooks.
    pub calltracking: crate::calltracking::CallTrackingSettings,
    /// Customer service: ticket cost, help desk, the operator card.
    pub service: crate::support::ServiceSettings,
    /// Outgoing webhooks, signed with `X-Skvoz-Signature`.
    pub webhooks: Vec<crate::outbound::WebhookEndpoint>,
    /// Conversions to GA4 and Yandex Metrika.
    pub conversions: crate::outbound::ConversionSettings,
    /// eSputnik `v2/event` calls.
    pub esputnik: crate::outbound::EsputnikSettings,
    /// NPS and CSAT surveys and their links.
    pub surveys: crate::surveys::SurveySettings,
    /// Scenarios: trigger → delay → conditions → actions.
    pub automations: Vec<crate::automations::Automation>,
    /// Dynamic groups of contacts.
    pub groups: Vec<crate::automations::Group>,
    /// The SMTP server e-mails go through.
    pub smtp: crate::automations::SmtpSettings,
}

/// How conversions are attributed to the touches of their journeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttributionSettings {
    /// The model reports use when a request names none (API.md names).
    pub default_model: String,
    /// Visits older than this many days before a conversion are not part
    /// of its journey.
    pub lookback_days: u32,
    /// `time_decay`: credit halves every this many days before the
    /// conversion.
    pub time_decay_half_life_days: f64,
    /// `position_based`: the first touch's share.
    pub position_first: f64,
    /// `position_based`: the last touch's share (the middle touches share
    /// the rest).
    pub position_last: f64,
}

impl Default for AttributionSettings {
    fn default() -> Self {
        AttributionSettings {
            default_model: "last_non_direct".to_owned(),
            lookback_days: 90,
            time_decay_half_life_days: 7.0,
            position_first: 0.4,
            position_last: 0.4,
        }
    }
}

impl AttributionSettings {
    /// Checks the section; errors name the field path.
    pub fn validate(&self) -> Result<(), FieldError> {
        if crate::attribution::ModelKind::parse(&self.default_model).is_none() {
            return Err(FieldError::new(
                "attribution.default_model",
                "unknown model: use first_click, last_click, last_non_direct, last_paid, linear, time_decay, position_based, markov, markov_path or shapley",
            ));
        }
        if !(1..=730).contains(&self.lookback_days) {
            return Err(FieldError::new(
                "attribution.lookback_days",
                "must be between 1 and 730",
            ));
        }
        if !(self.time_decay_half_life_days > 0.0 && self.time_decay_half_life_days <= 365.0) {
            return Err(FieldError::new(
                "attribution.time_decay_half_life_days",
                "must be more than 0 and at most 365",
            ));
        }
        for (field, v) in [
            ("attribution.position_first", self.position_first),
            ("attribution.position_last", self.position_last),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(FieldError::new(field, "must be between 0 and 1"));
            }
        }
        if self.position_first + self.position_last > 1.0 + 1e-9 {
            return Err(FieldError::new(
                "attribution.position_last",
                "position_first + position_last must not exceed 1",
            ));
        }
        Ok(())
    }
}

/// How leads open deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeadSettings {
    /// A lead from a contact with an open deal opens no new deal (it is
    /// recorded as a repeat lead of that deal).
    pub dedup: bool,
}

impl Default for LeadSettings {
    fn default() -> Self {
        LeadSettings { dedup: true }
    }
}

/// CRM connectors and the Alytics universal format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CrmSettings {
    /// amoCRM webhooks.
    pub amocrm: AmoCrmSettings,
    /// Bitrix24 outbound events.
    pub bitrix24: Bitrix24Settings,
    /// Serving the Alytics format at `/export/alytics/{n}/`.
    pub alytics_export: AlyticsExportSettings,
    /// Alytics-format feeds of other systems pulled daily.
    pub alytics_pull: Vec<AlyticsPullSource>,
}

/// amoCRM: webhooks to `/hooks/{public_key}/amocrm?secret=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmoCrmSettings {
    /// Accept its webhooks.
    pub enabled: bool,
    /// The `secret` query parameter of the webhook URL (amoCRM signs nothing).
    pub secret: String,
    /// Status ids that mean won.
    pub won_status_ids: Vec<i64>,
    /// Status ids that mean lost.
    pub lost_status_ids: Vec<i64>,
    /// Status id → stage name of the pipeline.
    pub stages: BTreeMap<String, String>,
    /// Custom fields holding the visit code.
    pub visit_code_fields: Vec<String>,
}

impl Default for AmoCrmSettings {
    fn default() -> Self {
        AmoCrmSettings {
            enabled: false,
            secret: String::new(),
            won_status_ids: vec![142],
            lost_status_ids: vec![143],
            stages: BTreeMap::new(),
            visit_code_fields: vec!["roistat".into(), "visit_code".into(), "skvoz".into()],
        }
    }
}

/// Bitrix24: outbound events to `/hooks/{public_key}/bitrix24`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bitrix24Settings {
    /// Accept its events.
    pub enabled: bool,
    /// The portal's incoming-webhook URL used to read deals back
    /// (`https://x.bitrix24.ru/rest/1/<code>/`); it contains a secret.
    pub rest_webhook_secret: String,
    /// The `application_token` the outbound events must carry.
    pub application_token: String,
    /// Stage ids that mean won.
    pub won_stages: Vec<String>,
    /// Stage ids that mean lost.
    pub lost_stages: Vec<String>,
    /// Stage id → stage name of the pipeline.
    pub stages: BTreeMap<String, String>,
    /// The deal field holding the visit code (`UF_CRM_…`).
    pub visit_code_field: Option<String>,
}

impl Default for Bitrix24Settings {
    fn default() -> Self {
        Bitrix24Settings {
            enabled: false,
            rest_webhook_secret: String::new(),
            application_token: String::new(),
            won_stages: vec!["WON".into()],
            lost_stages: vec!["LOSE".into(), "APOLOGY".into()],
            stages: BTreeMap::new(),
            visit_code_field: None,
        }
    }
}

/// Serving the Alytics universal CRM format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AlyticsExportSettings {
    /// Basic-auth login.
    pub login: String,
    /// Basic-auth password.
    pub password: String,
    /// Goal n (the URL `/export/alytics/{n}/`) → the stage whose entry it
    /// reports; empty disables the export.
    pub stages: Vec<String>,
}

/// An Alytics-format feed to pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlyticsPullSource {
    /// A short name (part of the deals' external ids).
    pub name: String,
    /// The feed URL (`?date=` is added).
    pub url: String,
    /// Basic-auth login.
    #[serde(default)]
    pub login: String,
    /// Basic-auth password.
    #[serde(default)]
    pub password: String,
    /// The stage its transactions put deals in (default: the first won stage).
    #[serde(default)]
    pub stage: Option<String>,
    /// Days re-pulled after yesterday, for late updates.
    #[serde(default = "default_repull_days")]
    pub repull_days: u32,
    /// Pull it.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

fn default_repull_days() -> u32 {
    7
}

fn default_true() -> bool {
    true
}

/// Basics of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GeneralSettings {
    /// IANA time zone; report days are local days of this zone.
    pub timezone: TimeZone,
    /// ISO 4217 currency of money amounts.
    pub currency: Currency,
    /// ISO 3166 region used to read phone numbers written without a country
    /// code (`8 999 …`, `999 …`).
    pub default_region: String,
    /// Minutes of inactivity after which a new session starts.
    pub session_timeout_minutes: u32,
}

impl Default for GeneralSettings {
    fn default() -> Self {
        GeneralSettings {
            timezone: TimeZone::default(),
            currency: Currency::default(),
            default_region: "RU".to_owned(),
            session_timeout_minutes: 30,
        }
    }
}

/// Channel grouping: ordered rules, first match wins, `other` when none does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelSettings {
    /// The rules, in order.
    pub rules: Vec<ChannelRule>,
    /// The channel of a visit no rule matched.
    pub fallback: String,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        ChannelSettings {
            rules: default_channel_rules(),
            fallback: "other".to_owned(),
        }
    }
}

/// One rule: every condition must match (case-insensitive regex, whole value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// The channel name this rule assigns.
    pub channel: String,
    /// Field → regex; all must match. An empty map matches everything.
    pub when: BTreeMap<ChannelField, String>,
}

/// What a channel rule can look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelField {
    /// Traffic source (`yandex`, `google`, `vk`, a referring host, `(direct)`).
    Source,
    /// Medium (`cpc`, `organic`, `social`, `referral`, `(none)`).
    Medium,
    /// `utm_campaign`.
    Campaign,
    /// `utm_content` (the ad).
    Content,
    /// `utm_term` (the keyword).
    Term,
    /// The referrer's host.
    ReferrerHost,
    /// The landing page URL.
    Landing,
}

fn rule(channel: &str, when: &[(ChannelField, &str)]) -> ChannelRule {
    ChannelRule {
        channel: channel.to_owned(),
        when: when.iter().map(|(f, r)| (*f, (*r).to_owned())).collect(),
    }
}

/// The documented default channel groups, in order.
pub fn default_channel_rules() -> Vec<ChannelRule> {
    use ChannelField::*;
    const PAID: &str = "cpc|ppc|cpm|cpv|cpa|paid|paidsearch|paid_search|paid-search|display|banner|retargeting|remarketing";
    const SOCIAL_SOURCES: &str =
        "vk|vk\\.com|vkontakte|ok|odnoklassniki|facebook|fb|instagram|ig|tiktok|twitter|x|youtube|dzen|mytarget|telegram|tg|pinterest|linkedin";
    vec![
        rule("paid social", &[(Medium, PAID), (Source, SOCIAL_SOURCES)]),
        rule(
            "paid social",
            &[(
                Medium,
                "paid_social|paid-social|paidsocial|social_paid|smm_paid",
            )],
        ),
        rule("paid search", &[(Medium, PAID)]),
        rule("organic search", &[(Medium, "organic")]),
        rule(
            "messengers",
            &[(Medium, "messenger|messengers|whatsapp|telegram|viber|chat")],
        ),
        rule("messengers", &[(Source, "whatsapp|viber|telegram_bot")]),
        rule(
            "social",
            &[(
                Medium,
                "social|sm|smm|social-network|social_network|social-media|social_media",
            )],
        ),
        rule("email", &[(Medium, "e-?mail|newsletter|mailing|rassylka")]),
        rule("referral", &[(Medium, "referral|partner|affiliate")]),
        rule("direct", &[(Source, "\\(direct\\)")]),
    ]
}

/// The sales pipeline: ordered stages, each open, won or lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pipeline {
    /// Stages in funnel order.
    pub stages: Vec<Stage>,
}

impl Default for Pipeline {
    fn default() -> Self {
        let stage = |name: &str, kind| Stage {
            name: name.to_owned(),
            kind,
        };
        Pipeline {
            stages: vec![
                stage("new", StageKind::Open),
                stage("qualified", StageKind::Open),
                stage("proposal", StageKind::Open),
                stage("won", StageKind::Won),
                stage("lost", StageKind::Lost),
            ],
        }
    }
}

/// One stage of the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Its name, unique in the pipeline.
    pub name: String,
    /// Whether a deal here is still open, won or lost.
    pub kind: StageKind,
}

/// The kind of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Still in progress.
    Open,
    /// Paid / closed won.
    Won,
    /// Closed lost.
    Lost,
}

/// A validation error at a JSON path of the settings document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path such as `pipeline.stages[2].kind`.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl ProjectSettings {
    /// Parses and validates a whole document. The first error names its path.
    pub fn from_json(value: Value) -> Result<ProjectSettings, FieldError> {
        let settings: ProjectSettings = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            FieldError::new(field, e.inner().to_string())
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Semantic checks that types alone do not express.
    pub fn validate(&self) -> Result<(), FieldError> {
        let g = &self.general;
        if g.default_region.len() != 2 || !g.default_region.chars().all(|c| c.is_ascii_uppercase())
        {
            return Err(FieldError::new(
                "general.default_region",
                "must be a two-letter upper-case ISO 3166 region such as RU",
            ));
        }
        if !(1..=24 * 60).contains(&g.session_timeout_minutes) {
            return Err(FieldError::new(
                "general.session_timeout_minutes",
                "must be between 1 and 1440",
            ));
        }
        self.attribution.validate()?;
        if self.channels.fallback.trim().is_empty() {
            return Err(FieldError::new("channels.fallback", "must not be empty"));
        }
        for (i, rule) in self.channels.rules.iter().enumerate() {
            if rule.channel.trim().is_empty() || rule.channel.len() > 64 {
                return Err(FieldError::new(
                    format!("channels.rules[{i}].channel"),
                    "must be 1-64 characters",
                ));
            }
            for (field, pattern) in &rule.when {
                if let Err(e) = compile_rule_pattern(pattern) {
                    let name = serde_json::to_value(field)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    return Err(FieldError::new(
                        format!("channels.rules[{i}].when.{name}"),
                        format!("invalid regular expression: {e}"),
                    ));
                }
            }
        }
        let stages = &self.pipeline.stages;
        if stages.is_empty() {
            return Err(FieldError::new("pipeline.stages", "must not be empty"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, stage) in stages.iter().enumerate() {
            let name = stage.name.trim();
            if name.is_empty() || name.len() > 100 {
                return Err(FieldError::new(
                    format!("pipeline.stages[{i}].name"),
                    "must be 1-100 characters",
                ));
            }
            if !seen.insert(name.to_lowercase()) {
                return Err(FieldError::new(
                    format!("pipeline.stages[{i}].name"),
                    format!("duplicate stage name '{name}'"),
                ));
            }
        }
        let known_stage = |name: &str| {
            stages
                .iter()
                .any(|s| s.name.eq_ignore_ascii_case(name.trim()))
        };
        for (status, stage) in &self.crm.amocrm.stages {
            if status.parse::<i64>().is_err() {
                return Err(FieldError::new(
                    format!("crm.amocrm.stages.{status}"),
                    "keys must be amoCRM status ids (numbers)",
                ));
            }
            if !known_stage(stage) {
                return Err(FieldError::new(
                    format!("crm.amocrm.stages.{status}"),
                    format!("'{stage}' is not a stage of the pipeline"),
                ));
            }
        }
        for (id, stage) in &self.crm.bitrix24.stages {
            if !known_stage(stage) {
                return Err(FieldError::new(
                    format!("crm.bitrix24.stages.{id}"),
                    format!("'{stage}' is not a stage of the pipeline"),
                ));
            }
        }
        if self.crm.amocrm.enabled && self.crm.amocrm.secret.len() < 16 {
            return Err(FieldError::new(
                "crm.amocrm.secret",
                "an enabled amoCRM connector needs a secret of at least 16 characters",
            ));
        }
        let b = &self.crm.bitrix24;
        if b.enabled && b.application_token.is_empty() {
            return Err(FieldError::new(
                "crm.bitrix24.application_token",
                "an enabled Bitrix24 connector needs the application_token of its events",
            ));
        }
        if b.enabled
            && !(b.rest_webhook_secret.starts_with("https://")
                || b.rest_webhook_secret.starts_with("http://"))
        {
            return Err(FieldError::new(
                "crm.bitrix24.rest_webhook_secret",
                "must be the portal's incoming-webhook URL (https://…/rest/1/…/)",
            ));
        }
        for (i, stage) in self.crm.alytics_export.stages.iter().enumerate() {
            if !known_stage(stage) {
                return Err(FieldError::new(
                    format!("crm.alytics_export.stages[{i}]"),
                    format!("'{stage}' is not a stage of the pipeline"),
                ));
            }
        }
        if !self.crm.alytics_export.stages.is_empty() && self.crm.alytics_export.password.len() < 8
        {
            return Err(FieldError::new(
                "crm.alytics_export.password",
                "serving the Alytics format needs a password of at least 8 characters",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, src) in self.crm.alytics_pull.iter().enumerate() {
            let name_ok = !src.name.is_empty()
                && src.name.len() <= 40
                && src
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok || !names.insert(src.name.clone()) {
                return Err(FieldError::new(
                    format!("crm.alytics_pull[{i}].name"),
                    "names must be unique, 1-40 characters of [A-Za-z0-9_-]",
                ));
            }
            if !(src.url.starts_with("https://") || src.url.starts_with("http://")) {
                return Err(FieldError::new(
                    format!("crm.alytics_pull[{i}].url"),
                    "must be an http(s) URL",
                ));
            }
            if let Some(stage) = &src.stage {
                if !known_stage(stage) {
                    return Err(FieldError::new(
                        format!("crm.alytics_pull[{i}].stage"),
                        format!("'{stage}' is not a stage of the pipeline"),
                    ));
                }
            }
            if src.repull_days > 60 {
                return Err(FieldError::new(
                    format!("crm.alytics_pull[{i}].repull_days"),
                    "at most 60",
                ));
            }
        }
        self.messengers.validate()?;
        self.calltracking.validate(&g.default_region)?;
        self.service.validate()?;
        crate::outbound::validate_webhooks(&self.webhooks)?;
        self.conversions.validate(&known_stage)?;
        self.esputnik.validate()?;
        self.surveys.validate()?;
        crate::automations::validate_groups(&self.groups)?;
        crate::automations::validate_automations(&self.automations, &self.surveys, &self.groups)?;
        self.smtp.validate()?;
        for kind in [StageKind::Open, StageKind::Won, StageKind::Lost] {
            if !stages.iter().any(|s| s.kind == kind) {
                return Err(FieldError::new(
                    "pipeline.stages",
                    format!("needs at least one stage of kind {kind:?}").to_lowercase(),
                ));
            }
        }
        Ok(())
    }

    /// The first stage of a kind (a new deal's stage is the first open one).
    pub fn first_stage(&self, kind: StageKind) -> Option<&Stage> {
        self.pipeline.stages.iter().find(|s| s.kind == kind)
    }

    /// The stage with this name (case-insensitive).
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.pipeline
            .stages
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// Compiles a channel-rule pattern the way rules are matched: whole value,
/// case-insensitive.
pub fn compile_rule_pattern(pattern: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
}

/// What a masked secret looks like on read.
pub const SECRET_MASK: &str = "********";

/// Whether a settings key holds a secret, by its name.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "token",
        "password",
        "api_key",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|s| k == *s || k.ends_with(&format!("_{s}")) || k.ends_with(s))
}

/// Replaces every non-empty secret string in a document with [`SECRET_MASK`].
pub fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) {
                    if let Value::String(s) = v {
                        if !s.is_empty() {
                            *s = SECRET_MASK.to_owned();
                        }
                        continue;
                    }
                }
                mask_secrets(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// In an incoming document, replaces each secret still equal to
/// [`SECRET_MASK`] with the value at the same path of the stored document, so
/// a round-tripped document keeps its secrets. A mask with no stored value at
/// its path becomes an empty string.
pub fn restore_masked_secrets(incoming: &mut Value, stored: Option<&Value>) {
    match incoming {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let old = stored.and_then(|s| s.get(k));
                if is_secret_key(k) && v.as_str() == Some(SECRET_MASK) {
                    *v = old.cloned().unwrap_or_else(|| Value::String(String::new()));
                } else {
                    restore_masked_secrets(v, old);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                // An item with an `id` (a webhook, a pool, a bot) keeps the
                // secret of the stored item with that id, wherever the list
                // moved it; items without one match by position.
                let old = match v.get("id") {
                    Some(id) => stored
                        .and_then(Value::as_array)
                        .and_then(|olds| olds.iter().find(|o| o.get("id") == Some(id))),
                    None => stored.and_then(|s| s.get(i)),
                };
                restore_masked_secrets(v, old);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let s = ProjectSettings::default();
        s.validate().expect("defaults valid");
        let v = serde_json::to_value(&s).expect("serialize");
        assert_eq!(ProjectSettings::from_json(v), Ok(s));
    }

    #[test]
    fn partial_documents_take_defaults() {
        let s = ProjectSettings::from_json(json!({"general": {"currency": "usd"}})).expect("valid");
        assert_eq!(s.general.currency.as_str(), "USD");
        assert_eq!(s.general.timezone.to_string(), "Europe/Moscow");
    }

    #[test]
    fn errors_name_the_path() {
        let cases = [
            (
                json!({"general": {"timezone": "Nowhere/Land"}}),
                "general.timezone",
            ),
            (
                json!({"pipeline": {"stages": [{"name": "a", "kind": "open"}, {"name": "b", "kind": "maybe"}]}}),
                "pipeline.stages[1].kind",
            ),
            (
                json!({"pipeline": {"stages": [{"name": "a", "kind": "open"}, {"name": "A", "kind": "won"}, {"name": "c", "kind": "lost"}]}}),
                "pipeline.stages[1].name",
            ),
            (
                json!({"pipeline": {"stages": [{"name": "a", "kind": "open"}]}}),
                "pipeline.stages",
            ),
            (
                json!({"channels": {"rules": [{"channel": "x", "when": {"medium": "(("}}]}}),
                "channels.rules[0].when.medium",
            ),
            (json!({"nonsense": 1}), "nonsense"),
            (
                json!({"general": {"default_region": "russia"}}),
                "general.default_region",
            ),
        ];
        for (doc, path) in cases {
            let err = ProjectSettings::from_json(doc.clone()).expect_err("must fail");
            assert_eq!(err.field, path, "{doc} -> {err:?}");
        }
    }

    #[test]
    fn masked_secrets_follow_their_item_id_when_a_list_is_reordered() {
        let stored = serde_json::json!({"webhooks": [
            {"id": "crm", "secret": "crm-secret-0123456789"},
            {"id": "bi", "secret": "bi-secret-0123456789"}]});
        let mut read = stored.clone();
        mask_secrets(&mut read);
        let mut incoming = serde_json::json!({"webhooks": [
            {"id": "bi", "secret": SECRET_MASK},
            {"id": "new", "secret": SECRET_MASK},
            {"id": "crm", "secret": SECRET_MASK}]});
        restore_masked_secrets(&mut incoming, Some(&stored));
        assert_eq!(incoming["webhooks"][0]["secret"], "bi-secret-0123456789");
        assert_eq!(incoming["webhooks"][1]["secret"], "");
        assert_eq!(incoming["webhooks"][2]["secret"], "crm-secret-0123456789");
    }

    #[test]
    fn secrets_mask_and_restore() {
        let stored = json!({"whatsapp": {"app_secret": "s3cr3t", "numbers": ["+7999"]}, "hooks": [{"url": "u", "secret": "a"}]});
        let mut read = stored.clone();
        mask_secrets(&mut read);
        assert_eq!(read["whatsapp"]["app_secret"], SECRET_MASK);
        assert_eq!(read["hooks"][0]["secret"], SECRET_MASK);
        assert_eq!(read["whatsapp"]["numbers"][0], "+7999");
        let mut back = read.clone();
        restore_masked_secrets(&mut back, Some(&stored));
        assert_eq!(back, stored);
        let mut changed = read;
        changed["hooks"][0]["secret"] = json!("new");
        restore_masked_secrets(&mut changed, Some(&stored));
        assert_eq!(changed["hooks"][0]["secret"], "new");
        assert_eq!(changed["whatsapp"]["app_secret"], "s3cr3t");
    }
}
