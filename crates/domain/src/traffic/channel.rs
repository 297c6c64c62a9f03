//! Channel grouping: a visit's [`TrafficSource`] and landing URL become the
//! project's channel name (`paid search`, `social`, …) by the ordered rules
//! of [`ChannelSettings`], first match wins.
//!
//! Rules are compiled once per settings version into a [`ChannelClassifier`]
//! and then matched per visit without allocating.

use super::source::TrafficSource;
use crate::settings::{compile_rule_pattern, ChannelField, ChannelSettings, FieldError};
use regex::Regex;

/// Channel rules compiled once per settings version.
#[derive(Debug, Clone)]
pub struct ChannelClassifier {
    rules: Vec<CompiledRule>,
    fallback: String,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    channel: String,
    conditions: Vec<(ChannelField, Regex)>,
}

impl ChannelClassifier {
    /// Compiles the rules. A bad pattern is reported at its settings path
    /// (`channels.rules[2].when.medium`), as [`crate::ProjectSettings::validate`]
    /// does.
    pub fn new(settings: &ChannelSettings) -> Result<ChannelClassifier, FieldError> {
        let mut rules = Vec::with_capacity(settings.rules.len());
        for (i, rule) in settings.rules.iter().enumerate() {
            let mut conditions = Vec::with_capacity(rule.when.len());
            for (&field, pattern) in &rule.when {
                let regex = compile_rule_pattern(pattern).map_err(|e| FieldError {
                    field: format!("channels.rules[{i}].when.{}", field_name(field)),
                    message: format!("invalid regular expression: {e}"),
                })?;
                conditions.push((field, regex));
            }
            rules.push(CompiledRule {
                channel: rule.channel.clone(),
                conditions,
            });
        }
        Ok(ChannelClassifier {
            rules,
            fallback: settings.fallback.clone(),
        })
    }

    /// The channel name for a source and landing URL: the first rule whose
    /// conditions all match, else the settings' fallback. A missing optional
    /// field (campaign, ad, keyword, referrer host) is matched as `""`.
    pub fn classify(&self, source: &TrafficSource, landing: &str) -> &str {
        self.rules
            .iter()
            .find(|rule| {
                rule.conditions
                    .iter()
                    .all(|(field, regex)| regex.is_match(field_value(*field, source, landing)))
            })
            .map_or(self.fallback.as_str(), |rule| rule.channel.as_str())
    }
}

fn field_value<'a>(field: ChannelField, source: &'a TrafficSource, landing: &'a str) -> &'a str {
    match field {
        ChannelField::Source => &source.source,
        ChannelField::Medium => &source.medium,
        ChannelField::Campaign => source.campaign.as_deref().unwrap_or(""),
        ChannelField::Content => source.content.as_deref().unwrap_or(""),
        ChannelField::Term => source.term.as_deref().unwrap_or(""),
        ChannelField::ReferrerHost => source.referrer_host.as_deref().unwrap_or(""),
        ChannelField::Landing => landing,
    }
}

/// The field's name in the settings document (`referrer_host`).
fn field_name(field: ChannelField) -> &'static str {
    match field {
        ChannelField::Source => "source",
        ChannelField::Medium => "medium",
        ChannelField::Campaign => "campaign",
        ChannelField::Content => "content",
        ChannelField::Term => "term",
        ChannelField::ReferrerHost => "referrer_host",
        ChannelField::Landing => "landing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ChannelRule;
    use crate::traffic::source::classify;
    use std::collections::BTreeMap;

    fn defaults() -> ChannelClassifier {
        ChannelClassifier::new(&ChannelSettings::default()).expect("default rules compile")
    }

    /// (landing URL, referrer, expected default channel)
    const CASES: &[(&str, &str, &str)] = &[
        // paid search
        (
            "https://s.ru/?utm_source=yandex&utm_medium=cpc",
            "",
            "paid search",
        ),
        (
            "https://s.ru/?utm_source=google&utm_medium=ppc",
            "",
            "paid search",
        ),
        ("https://s.ru/?gclid=abc", "", "paid search"),
        (
            "https://s.ru/?yclid=123",
            "https://yandex.ru/",
            "paid search",
        ),
        (
            "https://s.ru/?utm_source=yandex&utm_medium=display",
            "",
            "paid search",
        ),
        // organic search
        (
            "https://s.ru/",
            "https://yandex.ru/search/",
            "organic search",
        ),
        ("https://s.ru/", "https://www.google.de/", "organic search"),
        ("https://s.ru/", "https://go.mail.ru/", "organic search"),
        (
            "https://s.ru/?utm_source=google&utm_medium=organic",
            "",
            "organic search",
        ),
        // social
        ("https://s.ru/", "https://vk.com/", "social"),
        ("https://s.ru/", "https://t.me/channel", "social"),
        ("https://s.ru/", "https://dzen.ru/", "social"),
        ("https://s.ru/?utm_source=vk&utm_medium=smm", "", "social"),
        // paid social
        (
            "https://s.ru/?utm_source=vk&utm_medium=cpc",
            "",
            "paid social",
        ),
        (
            "https://s.ru/?utm_source=vk.com&utm_medium=cpm",
            "",
            "paid social",
        ),
        (
            "https://s.ru/?utm_source=facebook&utm_medium=cpc",
            "",
            "paid social",
        ),
        (
            "https://s.ru/?utm_source=mytarget&utm_medium=cpm",
            "",
            "paid social",
        ),
        (
            "https://s.ru/?utm_source=telegram&utm_medium=cpc",
            "",
            "paid social",
        ),
        (
            "https://s.ru/?utm_source=anything&utm_medium=paid_social",
            "",
            "paid social",
        ),
        // referral
        ("https://s.ru/", "https://partner.com/page", "referral"),
        (
            "https://s.ru/?utm_source=partner&utm_medium=affiliate",
            "",
            "referral",
        ),
        ("https://s.ru/", "https://mail.yandex.ru/", "referral"),
        // email
        (
            "https://s.ru/?utm_source=unisender&utm_medium=email",
            "",
            "email",
        ),
        (
            "https://s.ru/?utm_source=sendpulse&utm_medium=e-mail",
            "",
            "email",
        ),
        (
            "https://s.ru/?utm_source=digest&utm_medium=newsletter",
            "",
            "email",
        ),
        // messengers
        (
            "https://s.ru/?utm_source=whatsapp&utm_medium=messenger",
            "",
            "messengers",
        ),
        (
            "https://s.ru/?utm_source=bot&utm_medium=telegram",
            "",
            "messengers",
        ),
        ("https://s.ru/", "https://web.whatsapp.com/", "messengers"),
        // direct
        ("https://s.ru/", "", "direct"),
        ("https://s.ru/b", "https://www.s.ru/a", "direct"),
        // other
        ("https://s.ru/?utm_source=flyer", "", "other"),
        (
            "https://s.ru/?utm_source=offline&utm_medium=qr",
            "",
            "other",
        ),
    ];

    #[test]
    fn default_rules_give_the_documented_groups() {
        let classifier = defaults();
        let mut seen = std::collections::BTreeSet::new();
        for &(url, referrer, want) in CASES {
            let source = classify(url, Some(referrer));
            let got = classifier.classify(&source, url);
            assert_eq!(got, want, "{url} ← {referrer:?}: {source:?}");
            seen.insert(got);
        }
        let documented = [
            "paid search",
            "organic search",
            "social",
            "paid social",
            "referral",
            "email",
            "messengers",
            "direct",
            "other",
        ];
        assert_eq!(seen, documented.into_iter().collect());
    }

    #[test]
    fn custom_rules_match_every_field_case_insensitively() {
        let rule = |channel: &str, when: &[(ChannelField, &str)]| ChannelRule {
            channel: channel.into(),
            when: when
                .iter()
                .map(|&(f, p)| (f, p.to_owned()))
                .collect::<BTreeMap<_, _>>(),
        };
        let settings = ChannelSettings {
            rules: vec![
                rule(
                    "brand",
                    &[
                        (ChannelField::Campaign, "brand.*"),
                        (ChannelField::Term, ".+"),
                    ],
                ),
                rule("ads", &[(ChannelField::Content, "AD-\\d+")]),
                rule("promo", &[(ChannelField::Landing, ".*/promo/.*")]),
                rule(
                    "partners",
                    &[(ChannelField::ReferrerHost, ".*\\.partner\\.ru")],
                ),
            ],
            fallback: "rest".into(),
        };
        let c = ChannelClassifier::new(&settings).expect("compiles");
        let at = |url: &str, referrer: &str| {
            let s = classify(url, Some(referrer));
            c.classify(&s, url).to_owned()
        };
        assert_eq!(
            at(
                "https://s.ru/?utm_source=y&utm_campaign=Brand_1&utm_term=x",
                ""
            ),
            "brand"
        );
        assert_eq!(
            at("https://s.ru/?utm_source=y&utm_campaign=brand_1", ""),
            "rest",
            "a missing term is the empty string"
        );
        assert_eq!(at("https://s.ru/?utm_source=y&utm_content=ad-7", ""), "ads");
        assert_eq!(at("https://s.ru/promo/x", ""), "promo");
        assert_eq!(at("https://s.ru/", "https://shop.partner.ru/"), "partners");
        assert_eq!(at("https://s.ru/", "https://partner.ru/"), "rest");
        let empty = ChannelClassifier::new(&ChannelSettings {
            rules: vec![rule("all", &[])],
            fallback: "x".into(),
        })
        .expect("compiles");
        assert_eq!(empty.classify(&TrafficSource::default(), ""), "all");
    }

    #[test]
    fn bad_pattern_names_its_path() {
        let mut settings = ChannelSettings::default();
        settings.rules[1]
            .when
            .insert(ChannelField::ReferrerHost, "((".into());
        let err = ChannelClassifier::new(&settings).expect_err("must fail");
        assert_eq!(err.field, "channels.rules[1].when.referrer_host");
    }

    #[test]
    fn field_names_match_serde() {
        for field in [
            ChannelField::Source,
            ChannelField::Medium,
            ChannelField::Campaign,
            ChannelField::Content,
            ChannelField::Term,
            ChannelField::ReferrerHost,
            ChannelField::Landing,
        ] {
            assert_eq!(
                serde_json::to_value(field).expect("serialize"),
                field_name(field)
            );
        }
    }
}
