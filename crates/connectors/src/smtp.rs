//! E-mail over SMTP (survey invitations, notifications to managers), with
//! `lettre` on tokio and rustls.
//!
//! One message per call. The outbox's idempotency key becomes the
//! `Message-ID` (and an `X-Skvoz-Idempotency-Key` header), so a mail
//! system or a receiver that sees a redelivery can drop it. Failures are
//! classified the way the outbox retries them: a 5xx answer or a bad
//! address is permanent, anything else (connection, timeout, 4xx) is
//! temporary.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use skvoz_domain::automations::{SmtpSettings, SmtpTls};
use std::time::Duration;

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (sent as an alternative to the text), if any.
    pub html: Option<String>,
    /// The outbox idempotency key.
    pub idempotency_key: String,
}

/// Why sending failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    /// Will not work on retry (rejected address, 5xx, no server configured).
    #[error("{0}")]
    Permanent(String),
    /// May work later (network, timeout, 4xx).
    #[error("{0}")]
    Temporary(String),
}

/// A `Message-ID` from an idempotency key: the key's safe characters at
/// `skvoz.invalid`.
pub fn message_id(idempotency_key: &str) -> String {
    let local: String = idempotency_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '.'
            }
        })
        .take(200)
        .collect();
    format!("<{local}@skvoz.invalid>")
}

/// Builds the message (checked addresses, text or text + HTML).
pub fn build(from: &str, email: &Email) -> Result<Message, SmtpError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| SmtpError::Permanent(format!("{what}: {e}"));
    let from: Mailbox = from.parse().map_err(|e| bad("bad sender address", &e))?;
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| bad("bad recipient address", &e))?;
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(message_id(&email.idempotency_key)));
    let built = match &email.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            html.clone(),
        )),
        None => builder.body(email.text.clone()),
    };
    built.map_err(|e| bad("cannot build the message", &e))
}

/// Sends one e-mail through the configured server.
pub async fn send(settings: &SmtpSettings, email: &Email) -> Result<(), SmtpError> {
    if settings.host.is_empty() {
        return Err(SmtpError::Permanent(
            "no SMTP server configured (settings.smtp.host)".into(),
        ));
    }
    let message = build(&settings.from, email)?;
    let host = settings.host.as_str();
    let builder = match settings.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .map_err(|e| SmtpError::Permanent(format!("TLS setup: {e}")))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .map_err(|e| SmtpError::Permanent(format!("TLS setup: {e}")))?,
    };
    let mut builder = builder
        .port(settings.port)
        .timeout(Some(Duration::from_secs(30)));
    if let Some(user) = settings.username.as_deref().filter(|u| !u.is_empty()) {
        builder = builder.credentials(Credentials::new(
            user.to_owned(),
            settings.password.clone().unwrap_or_default(),
        ));
    }
    let transport = builder.build();
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(SmtpError::Permanent(e.to_string())),
        Err(e) => Err(SmtpError::Temporary(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to: &str) -> Email {
        Email {
            to: to.into(),
            subject: "Оцените поддержку".into(),
            text: "https://x/s/abc".into(),
            html: Some("<a href=\"https://x/s/abc\">go</a>".into()),
            idempotency_key: "automation:12:0".into(),
        }
    }

    #[test]
    fn message_ids_come_from_idempotency_keys() {
        assert_eq!(
            message_id("automation:12:0"),
            "<automation.12.0@skvoz.invalid>"
        );
    }

    #[test]
    fn builds_text_and_html_with_the_message_id() {
        let m = build("Shop <noreply@shop.ru>", &email("client@mail.ru")).expect("valid");
        let raw = String::from_utf8(m.formatted()).expect("utf-8");
        assert!(
            raw.contains("Message-ID: <automation.12.0@skvoz.invalid>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("To: client@mail.ru"));
    }

    #[test]
    fn bad_addresses_are_permanent() {
        assert!(matches!(
            build("Shop <noreply@shop.ru>", &email("not an address")),
            Err(SmtpError::Permanent(_))
        ));
        assert!(matches!(
            build("nobody", &email("a@b.ru")),
            Err(SmtpError::Permanent(_))
        ));
    }
}
