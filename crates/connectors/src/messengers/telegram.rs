//! The Telegram Bot API webhook: one `Update` per POST.
//!
//! `{"update_id", "message": {"message_id", "from": {"id", "is_bot",
//! "first_name", "last_name"?, "username"?}, "chat": {"id", "type"}, "date":
//! <Unix seconds>, "text"?}}`. A deep link `https://t.me/<bot>?start=PAYLOAD`
//! (1–64 characters of `A-Za-z0-9_-`) arrives as the text `/start PAYLOAD`
//! (also `/start@bot PAYLOAD`). Every update carries the bot's
//! `secret_token` in `X-Telegram-Bot-Api-Secret-Token` (checked by the
//! caller). Telegram gives no phone: the sender is keyed by `from.id`.
//!
//! Updates other than a new `message` (edited messages, channel posts,
//! callback queries, messages from bots) are acknowledged and ignored:
//! `Ok(None)`. A message id is unique only within its chat, so the id used
//! for idempotency is `<chat id>:<message_id>`.

use super::MessengerError;
use chrono::{TimeZone, Utc};
use serde_json::Value;
use skvoz_domain::messengers::{InboundMessage, Messenger, TELEGRAM_PAYLOAD_MAX};

/// The `start` payload of a `/start …` text, when it is a valid payload.
pub fn start_payload(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix("/start")?;
    // `/start@shop_bot payload`
    let rest = match rest.strip_prefix('@') {
        Some(r) => r.split_once(char::is_whitespace).map_or("", |(_, p)| p),
        None if rest.starts_with(char::is_whitespace) => rest,
        None => return None,
    };
    let payload = rest.trim();
    let valid = (1..=TELEGRAM_PAYLOAD_MAX).contains(&payload.len())
        && payload
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(payload)
}

/// The visit code in a payload made of `prefix` and digits (the code is
/// the trailing digits after the prefix; a payload another tool put in
/// front, `promo-v123`, still works).
pub fn code_in_payload(payload: &str, prefix: &str) -> Option<i64> {
    let digits_start = payload
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i)?;
    let head = &payload[..digits_start];
    if !head.ends_with(prefix) {
        return None;
    }
    let digits = &payload[digits_start..];
    if digits.len() > 15 {
        return None;
    }
    digits.parse().ok().filter(|v| *v > 0)
}

/// Parses an update; `Ok(None)` for updates that are not a new message of
/// a person.
pub fn parse_update(body: &[u8], bot: &str) -> Result<Option<InboundMessage>, MessengerError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| MessengerError::NotJson(e.to_string()))?;
    if v.get("update_id").and_then(Value::as_i64).is_none() {
        return Err(MessengerError::Shape("no update_id".into()));
    }
    let Some(m) = v.get("message") else {
        return Ok(None);
    };
    let from = m
        .get("from")
        .ok_or_else(|| MessengerError::Shape("message without from".into()))?;
    if from.get("is_bot").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let user = from
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| MessengerError::Shape("from.id is not a number".into()))?;
    let chat = m
        .get("chat")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64)
        .unwrap_or(user);
    let message_id = m
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| MessengerError::Shape("message_id is not a number".into()))?;
    let at = m
        .get("date")
        .and_then(Value::as_i64)
        .and_then(|d| Utc.timestamp_opt(d, 0).single())
        .ok_or_else(|| MessengerError::Shape("date is not Unix seconds".into()))?;
    let s = |k: &str| {
        from.get(k)
            .and_then(Value::as_str)
            .map(|s| s.trim().chars().take(100).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let name = match (s("first_name"), s("last_name")) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l),
    };
    let text = m
        .get("text")
        .or_else(|| m.get("caption"))
        .and_then(Value::as_str)
        .map(|t| t.chars().take(4096).collect::<String>());
    let payload = text.as_deref().and_then(start_payload).map(str::to_owned);
    let kind = if payload.is_some() || text.as_deref().is_some_and(|t| t.trim() == "/start") {
        "start"
    } else if m.get("text").is_some() {
        "text"
    } else {
        [
            "photo", "voice", "video", "document", "sticker", "contact", "location", "audio",
        ]
        .into_iter()
        .find(|k| m.get(*k).is_some())
        .unwrap_or("other")
    };
    Ok(Some(InboundMessage {
        messenger: Messenger::Telegram,
        external_chat: user.to_string(),
        message_id: format!("{chat}:{message_id}"),
        phone: None,
        name,
        username: s("username"),
        text,
        kind: kind.to_owned(),
        start_payload: payload,
        sent_at: at,
        to: Some(bot.to_owned()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(start_payload("/start v123"), Some("v123"));
        assert_eq!(start_payload("/start@shop_bot v123"), Some("v123"));
        assert_eq!(start_payload("/start"), None);
        assert_eq!(start_payload("/started v1"), None);
        assert_eq!(start_payload("/start bad payload!"), None);
        assert_eq!(start_payload(&format!("/start {}", "a".repeat(65))), None);
        assert_eq!(code_in_payload("v123", "v"), Some(123));
        assert_eq!(code_in_payload("promo-v77", "v"), Some(77));
        assert_eq!(code_in_payload("x123", "v"), None);
        assert_eq!(code_in_payload("v", "v"), None);
        assert_eq!(code_in_payload("123", ""), Some(123));
    }
}
