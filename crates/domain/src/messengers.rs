//! Messenger tracking as pure rules: the `messengers` settings section
//! (WhatsApp numbers with their greetings, Telegram bots, the dialog
//! windows), the text the site script prefills in a WhatsApp link, the
//! Telegram deep-link payload, and how a new message joins or starts a
//! dialog.
//!
//! WhatsApp carries no hidden payload: the visit code travels inside the
//! prefilled text as a marker (`ID: 12345` by default). Telegram carries it
//! in the `start` parameter of `https://t.me/<bot>?start=<prefix><code>`
//! (1–64 characters of `A-Za-z0-9_-`).

use crate::settings::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where the visit code goes in a marker template.
pub const CODE_PLACEHOLDER: &str = "{code}";

/// The longest Telegram `start` payload.
pub const TELEGRAM_PAYLOAD_MAX: usize = 64;

/// The `messengers` section of the settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessengerSettings {
    /// WhatsApp (Cloud API webhooks, `wa.me` link rewriting).
    pub whatsapp: WhatsAppSettings,
    /// Telegram bots (webhooks, `t.me` deep links).
    pub telegram: TelegramSettings,
    /// A dialog is *repeat* when the same chat wrote within this many days
    /// before it started; otherwise it is *new*.
    pub repeat_window_days: u32,
    /// A message after this many hours of silence in a chat starts a new
    /// dialog; earlier ones continue the current dialog.
    pub dialog_gap_hours: u32,
    /// Repeat dialogs become leads too (by default only new dialogs do;
    /// repeat dialogs are counted in the chat report).
    pub repeat_dialogs_as_leads: bool,
}

impl Default for MessengerSettings {
    fn default() -> Self {
        MessengerSettings {
            whatsapp: WhatsAppSettings::default(),
            telegram: TelegramSettings::default(),
            repeat_window_days: 30,
            dialog_gap_hours: 24,
            repeat_dialogs_as_leads: false,
        }
    }
}

/// WhatsApp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppSettings {
    /// The project's numbers: only links to these are rewritten (a support
    /// line that is not listed stays untouched).
    pub numbers: Vec<WhatsAppNumber>,
    /// The marker appended to the greeting; `{code}` is the visit code.
    pub marker: String,
    /// The Meta app secret: `X-Hub-Signature-256` is its HMAC-SHA256 of the
    /// raw body.
    pub app_secret: String,
    /// The token Meta sends in the verification handshake.
    pub verify_token: String,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        WhatsAppSettings {
            numbers: Vec::new(),
            marker: "ID: {code}".to_owned(),
            app_secret: String::new(),
            verify_token: String::new(),
        }
    }
}

/// One WhatsApp number of the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppNumber {
    /// E.164 (`+79991234567`).
    pub number: String,
    /// The text prefilled before the marker.
    #[serde(default)]
    pub greeting: String,
    /// Greetings for pages: the first matching pattern wins.
    #[serde(default)]
    pub pages: Vec<PageGreeting>,
}

/// A greeting for pages matching a pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageGreeting {
    /// A path pattern with `*` wildcards (`/kids/*`), matched against the
    /// page's path, case-insensitively; a pattern with `://` is matched
    /// against the whole URL without its query.
    pub pattern: String,
    /// The greeting on those pages.
    pub greeting: String,
}

/// Telegram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSettings {
    /// The project's bots.
    pub bots: Vec<TelegramBot>,
}

/// One Telegram bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramBot {
    /// The bot's username without `@` (`shop_bot`).
    pub username: String,
    /// The `secret_token` given to `setWebhook`; every update must carry
    /// it in `X-Telegram-Bot-Api-Secret-Token`.
    #[serde(default)]
    pub secret_token: String,
    /// Prefix of the `start` payload before the visit code.
    #[serde(default = "default_payload_prefix")]
    pub payload_prefix: String,
}

fn default_payload_prefix() -> String {
    "v".to_owned()
}

fn is_payload_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The digits of an E.164 number (`+79991234567` → `79991234567`), as
/// `wa.me` links and WhatsApp's `wa_id` write it.
pub fn e164_digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

impl MessengerSettings {
    /// Semantic checks; errors name the JSON path.
    pub fn validate(&self) -> Result<(), FieldError> {
        let err = |field: String, message: &str| {
            Err(FieldError {
                field,
                message: message.to_owned(),
            })
        };
        if !(1..=365).contains(&self.repeat_window_days) {
            return err(
                "messengers.repeat_window_days".into(),
                "must be between 1 and 365",
            );
        }
        if !(1..=24 * 30).contains(&self.dialog_gap_hours) {
            return err(
                "messengers.dialog_gap_hours".into(),
                "must be between 1 and 720",
            );
        }
        let wa = &self.whatsapp;
        if wa.numbers.len() > 20 {
            return err("messengers.whatsapp.numbers".into(), "at most 20 numbers");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, n) in wa.numbers.iter().enumerate() {
            let digits = e164_digits(&n.number);
            let well_formed = n.number.starts_with('+')
                && (8..=15).contains(&digits.len())
                && n.number[1..].chars().all(|c| c.is_ascii_digit());
            if !well_formed {
                return err(
                    format!("messengers.whatsapp.numbers[{i}].number"),
                    "must be E.164: + and 8-15 digits (+79991234567)",
                );
            }
            if !seen.insert(digits) {
                return err(
                    format!("messengers.whatsapp.numbers[{i}].number"),
                    "duplicate number",
                );
            }
            if n.greeting.chars().count() > 300 {
                return err(
                    format!("messengers.whatsapp.numbers[{i}].greeting"),
                    "at most 300 characters",
                );
            }
            if n.pages.len() > 50 {
                return err(
                    format!("messengers.whatsapp.numbers[{i}].pages"),
                    "at most 50 page greetings",
                );
            }
            for (j, p) in n.pages.iter().enumerate() {
                if p.pattern.trim().is_empty() || p.pattern.len() > 300 {
                    return err(
                        format!("messengers.whatsapp.numbers[{i}].pages[{j}].pattern"),
                        "must be 1-300 characters",
                    );
                }
                if p.greeting.chars().count() > 300 {
                    return err(
                        format!("messengers.whatsapp.numbers[{i}].pages[{j}].greeting"),
                        "at most 300 characters",
                    );
                }
            }
        }
        let marker_ok = wa.marker.matches(CODE_PLACEHOLDER).count() == 1
            && wa.marker.chars().count() <= 60
            && !wa.marker.replace(CODE_PLACEHOLDER, "").trim().is_empty();
        if !marker_ok {
            return err(
                "messengers.whatsapp.marker".into(),
                "must hold {code} once, with some text around it (ID: {code}), at most 60 characters",
            );
        }
        if wa
            .marker
            .replace(CODE_PLACEHOLDER, "")
            .chars()
            .any(|c| c.is_ascii_digit())
        {
            return err(
                "messengers.whatsapp.marker".into(),
                "must not contain digits besides {code}",
            );
        }
        if !wa.numbers.is_empty() && wa.app_secret.is_empty() {
            return err(
                "messengers.whatsapp.app_secret".into(),
                "WhatsApp numbers need the app secret that signs the webhooks",
            );
        }
        let mut names = std::collections::HashSet::new();
        for (i, bot) in self.telegram.bots.iter().enumerate() {
            let name_ok = (5..=32).contains(&bot.username.len())
                && bot
                    .username
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok || !names.insert(bot.username.to_ascii_lowercase()) {
                return err(
                    format!("messengers.telegram.bots[{i}].username"),
                    "must be a unique bot username: 5-32 characters of A-Za-z0-9_ without @",
                );
            }
            if bot.secret_token.len() < 16
                || bot.secret_token.len() > 256
                || !bot.secret_token.chars().all(is_payload_char)
            {
                return err(
                    format!("messengers.telegram.bots[{i}].secret_token"),
                    "must be 16-256 characters of A-Za-z0-9_- (Telegram's rule)",
                );
            }
            // The code takes at most 19 digits; the payload stays within 64.
            if bot.payload_prefix.len() > TELEGRAM_PAYLOAD_MAX - 19
                || !bot.payload_prefix.chars().all(is_payload_char)
                || bot.payload_prefix.ends_with(|c: char| c.is_ascii_digit())
            {
                return err(
                    format!("messengers.telegram.bots[{i}].payload_prefix"),
                    "at most 45 characters of A-Za-z0-9_-, not ending in a digit",
                );
            }
        }
        Ok(())
    }

    /// The bot with this username (case-insensitive).
    pub fn bot(&self, username: &str) -> Option<&TelegramBot> {
        self.telegram
            .bots
            .iter()
            .find(|b| b.username.eq_ignore_ascii_case(username))
    }
}

/// Matches `text` against a pattern where `*` stands for any run of
/// characters, case-insensitively (ASCII). Written by hand: it runs on
/// every tracked page view, and a compiled regex per pattern would cost
/// more than this linear scan with backtracking to the last star.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi].eq_ignore_ascii_case(&t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The URL without its query and fragment, and its path.
pub fn page_and_path(url: &str) -> (&str, &str) {
    let page = url.split(['?', '#']).next().unwrap_or(url);
    let path = match page.find("://") {
        Some(i) => {
            let rest = &page[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => page,
    };
    (page, path)
}

/// Prefilled WhatsApp texts, compiled once per project for the tracker's
/// hot path: each greeting is stored already joined with the marker's text
/// before the code, so a hit only appends the code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessengerLinks {
    numbers: Vec<CompiledNumber>,
    marker_before: String,
    marker_after: String,
    bots: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledNumber {
    digits: String,
    /// Greeting, a space, the marker up to the code.
    prefix: String,
    /// (pattern, matched against the whole URL, prefix).
    pages: Vec<(String, bool, String)>,
}

/// A WhatsApp number and the text to prefill for it on this page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaPrefill {
    /// The number's digits, as in `wa.me/<digits>`.
    pub n: String,
    /// Greeting and marker.
    pub t: String,
}

/// A bot and its `start` payload for this visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TgPayload {
    /// The bot's username.
    pub b: String,
    /// The `start` payload.
    pub p: String,
}

impl MessengerLinks {
    /// Compiles the settings.
    pub fn new(s: &MessengerSettings) -> MessengerLinks {
        let marker = &s.whatsapp.marker;
        let (before, after) = marker.split_once(CODE_PLACEHOLDER).unwrap_or((marker, ""));
        let prefix = |greeting: &str| {
            let g = greeting.trim();
            if g.is_empty() {
                before.to_owned()
            } else {
                format!("{g} {before}")
            }
        };
        MessengerLinks {
            numbers: s
                .whatsapp
                .numbers
                .iter()
                .map(|n| CompiledNumber {
                    digits: e164_digits(&n.number),
                    prefix: prefix(&n.greeting),
                    pages: n
                        .pages
                        .iter()
                        .map(|p| {
                            (
                                p.pattern.trim().to_owned(),
                                p.pattern.contains("://"),
                                prefix(&p.greeting),
                            )
                        })
                        .collect(),
                })
                .collect(),
            marker_before: before.to_owned(),
            marker_after: after.to_owned(),
            bots: s
                .telegram
                .bots
                .iter()
                .map(|b| {
                    let cut = telegram_payload(&b.payload_prefix, 0);
                    (b.username.clone(), cut[..cut.len() - 1].to_owned())
                })
                .collect(),
        }
    }

    /// Nothing to rewrite.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.bots.is_empty()
    }

    /// The marker with a code (`ID: 12345`).
    pub fn marker(&self, code: i64) -> String {
        format!("{}{code}{}", self.marker_before, self.marker_after)
    }

    /// The text to prefill for each number on the page `url`: the page's
    /// greeting (or the number's), a space, the marker.
    pub fn wa_texts(&self, url: &str, code: i64) -> Vec<WaPrefill> {
        use std::fmt::Write as _;
        if self.numbers.is_empty() {
            return Vec::new();
        }
        let (page, path) = page_and_path(url);
        self.numbers
            .iter()
            .map(|n| {
                let prefix = n
                    .pages
                    .iter()
                    .find(|(pattern, whole, _)| {
                        wildcard_match(pattern, if *whole { page } else { path })
                    })
                    .map_or(n.prefix.as_str(), |(_, _, p)| p.as_str());
                let mut t = String::with_capacity(prefix.len() + 20 + self.marker_after.len());
                t.push_str(prefix);
                let _ = write!(t, "{code}");
                t.push_str(&self.marker_after);
                WaPrefill {
                    n: n.digits.clone(),
                    t,
                }
            })
            .collect()
    }

    /// The `start` payload of each bot for a visit code.
    pub fn tg_payloads(&self, code: i64) -> Vec<TgPayload> {
        self.bots
            .iter()
            .map(|(b, prefix)| {
                use std::fmt::Write as _;
                // Prefixes are validated (≤ 45 payload characters), so the
                // payload fits in 64 without the general cut.
                let mut p = String::with_capacity(prefix.len() + 20);
                p.push_str(prefix);
                let _ = write!(p, "{code}");
                TgPayload { b: b.clone(), p }
            })
            .collect()
    }
}

/// A Telegram `start` payload: the prefix and the code, cut to 64
/// characters from the left if ever longer (the code is kept).
pub fn telegram_payload(prefix: &str, code: i64) -> String {
    let code = code.to_string();
    let room = TELEGRAM_PAYLOAD_MAX.saturating_sub(code.len());
    let prefix: String = prefix
        .chars()
        .filter(|c| is_payload_char(*c))
        .take(room)
        .collect();
    format!("{prefix}{code}")
}

/// The messenger a chat runs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Messenger {
    /// WhatsApp.
    Whatsapp,
    /// Telegram.
    Telegram,
    /// Another messenger named by the generic API (`viber`, `vk`, …).
    Other(String),
}

impl Messenger {
    /// Parses a name (`whatsapp`, `telegram`, or another lower-case name of
    /// 1-32 characters of `a-z0-9_-`).
    pub fn parse(s: &str) -> Option<Messenger> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "whatsapp" | "wa" => Some(Messenger::Whatsapp),
            "telegram" | "tg" => Some(Messenger::Telegram),
            _ if (1..=32).contains(&s.len())
                && s.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                }) =>
            {
                Some(Messenger::Other(s))
            }
            _ => None,
        }
    }

    /// The name used in storage and reports.
    pub fn as_str(&self) -> &str {
        match self {
            Messenger::Whatsapp => "whatsapp",
            Messenger::Telegram => "telegram",
            Messenger::Other(s) => s,
        }
    }
}

/// One incoming message, as every messenger connector produces it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboundMessage {
    /// The messenger.
    pub messenger: Messenger,
    /// The sender's id in it: the WhatsApp `wa_id` (phone digits), the
    /// Telegram user id, the generic API's `from`.
    pub external_chat: String,
    /// The sender's message id (unique per messenger in the project).
    pub message_id: String,
    /// The sender's E.164 phone, when the messenger gives one (WhatsApp).
    pub phone: Option<String>,
    /// The sender's name as the messenger shows it.
    pub name: Option<String>,
    /// The sender's username (Telegram).
    pub username: Option<String>,
    /// The text (or a media caption); `None` for media without one.
    pub text: Option<String>,
    /// `text`, `image`, `audio`, `start`, … as the messenger names it.
    pub kind: String,
    /// The `/start` payload of a Telegram deep link.
    pub start_payload: Option<String>,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The business number or bot that received it.
    pub to: Option<String>,
}

/// How a message relates to the chat's dialogs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogDecision {
    /// It continues the current dialog.
    Continue,
    /// It starts a dialog; `is_new` unless the chat wrote within the
    /// repeat window before.
    Start {
        /// No message from this chat within the repeat window before.
        is_new: bool,
    },
}

/// Decides whether a message at `at` continues the chat's latest dialog
/// (whose last message was at `last_message`) or starts one, and whether a
/// started dialog is new or repeat.
pub fn decide_dialog(
    last_message: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    gap: Duration,
    repeat_window: Duration,
) -> DialogDecision {
    match last_message {
        Some(last) if at >= last && at - last <= gap => DialogDecision::Continue,
        // An older message redelivered out of order after a newer one
        // belongs to the dialog it was part of.
        Some(last) if at < last && last - at <= gap => DialogDecision::Continue,
        Some(last) => DialogDecision::Start {
            is_new: (at - last).abs() > repeat_window,
        },
        None => DialogDecision::Start { is_new: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn settings(v: serde_json::Value) -> MessengerSettings {
        serde_json::from_value(v).expect("parses")
    }

    #[test]
    fn defaults_are_valid() {
        MessengerSettings::default().validate().expect("valid");
    }

    #[test]
    fn validation_names_the_field() {
        let cases = [
            (
                json!({"whatsapp": {"numbers": [{"number": "89991234567"}], "app_secret": "s"}}),
                "messengers.whatsapp.numbers[0].number",
            ),
            (
                json!({"whatsapp": {"numbers": [{"number": "+79991234567"}]}}),
                "messengers.whatsapp.app_secret",
            ),
            (
                json!({"whatsapp": {"marker": "no code"}}),
                "messengers.whatsapp.marker",
            ),
            (
                json!({"whatsapp": {"marker": "{code}"}}),
                "messengers.whatsapp.marker",
            ),
            (
                json!({"telegram": {"bots": [{"username": "@bot", "secret_token": "0123456789abcdef"}]}}),
                "messengers.telegram.bots[0].username",
            ),
            (
                json!({"telegram": {"bots": [{"username": "shop_bot", "secret_token": "short"}]}}),
                "messengers.telegram.bots[0].secret_token",
            ),
            (
                json!({"telegram": {"bots": [{"username": "shop_bot", "secret_token": "0123456789abcdef", "payload_prefix": "v1"}]}}),
                "messengers.telegram.bots[0].payload_prefix",
            ),
            (
                json!({"repeat_window_days": 0}),
                "messengers.repeat_window_days",
            ),
        ];
        for (doc, field) in cases {
            let e = settings(doc.clone()).validate().expect_err("invalid");
            assert_eq!(e.field, field, "{doc}");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("/kids/*", "/kids/photo"));
        assert!(wildcard_match("/KIDS*", "/kids"));
        assert!(wildcard_match("*photo*", "/a/photo/b"));
        assert!(!wildcard_match("/kids/*", "/adults/kids/x"));
        assert!(wildcard_match("/a*b*c", "/aXbYbc"));
        assert!(!wildcard_match("/a*b*c", "/aXbYbd"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "/"));
    }

    #[test]
    fn prefilled_texts_follow_the_page() {
        let s = settings(json!({"whatsapp": {
            "numbers": [
                {"number": "+79991234567", "greeting": "Здравствуйте!",
                 "pages": [{"pattern": "/kids*", "greeting": "Сколько стоит детская фотосессия?"}]},
                {"number": "+79990000000"}
            ],
            "app_secret": "x"
        }, "telegram": {"bots": [{"username": "shop_bot", "secret_token": "0123456789abcdef"}]}}));
        s.validate().expect("valid");
        let links = MessengerLinks::new(&s);
        let kids = links.wa_texts("https://photo.ru/kids/?utm_source=x", 42);
        assert_eq!(kids[0].n, "79991234567");
        assert_eq!(kids[0].t, "Сколько стоит детская фотосессия? ID: 42");
        assert_eq!(kids[1].t, "ID: 42");
        let home = links.wa_texts("https://photo.ru/", 42);
        assert_eq!(home[0].t, "Здравствуйте! ID: 42");
        assert_eq!(
            links.tg_payloads(42),
            vec![TgPayload {
                b: "shop_bot".into(),
                p: "v42".into()
            }]
        );
    }

    #[test]
    fn telegram_payloads_stay_within_64() {
        let p = telegram_payload(&"x".repeat(80), i64::MAX);
        assert_eq!(p.len(), 64);
        assert!(p.ends_with(&i64::MAX.to_string()));
    }

    #[test]
    fn dialogs_start_after_the_gap_and_are_repeat_within_the_window() {
        let t = |h: i64| {
            Utc.timestamp_opt(1_700_000_000 + h * 3600, 0)
                .single()
                .expect("time")
        };
        let (gap, window) = (Duration::hours(24), Duration::days(30));
        assert_eq!(
            decide_dialog(None, t(0), gap, window),
            DialogDecision::Start { is_new: true }
        );
        assert_eq!(
            decide_dialog(Some(t(0)), t(5), gap, window),
            DialogDecision::Continue
        );
        assert_eq!(
            decide_dialog(Some(t(0)), t(48), gap, window),
            DialogDecision::Start { is_new: false }
        );
        assert_eq!(
            decide_dialog(Some(t(0)), t(24 * 31), gap, window),
            DialogDecision::Start { is_new: true }
        );
    }
}
