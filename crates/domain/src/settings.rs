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
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
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
                restore_masked_secrets(v, stored.and_then(|s| s.get(i)));
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
