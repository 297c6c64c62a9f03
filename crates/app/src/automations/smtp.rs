//! The `smtp` destination of the outbox: e-mails (survey invitations,
//! notifications) sent through the project's `smtp` settings section with
//! `skvoz_connectors::smtp`. Payload: `{to, subject, text, html?}`;
//! destination `default`.

use crate::outbox::{Deliverer, OutboxItem, Outcome};
use async_trait::async_trait;
use serde::Deserialize;
use skvoz_connectors::smtp::{send, Email, SmtpError};
use skvoz_domain::automations::SmtpSettings;

/// The payload of an `smtp` message.
#[derive(Debug, Deserialize)]
struct MailPayload {
    to: String,
    subject: String,
    text: String,
    #[serde(default)]
    html: Option<String>,
}

/// Delivers `smtp` messages one by one.
#[derive(Debug, Default, Clone)]
pub struct SmtpDeliverer;

impl SmtpDeliverer {
    async fn deliver_one(settings: &SmtpSettings, item: &OutboxItem) -> Outcome {
        let payload: MailPayload = match serde_json::from_value(item.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                return Outcome::Failed {
                    error: format!("bad smtp payload: {e}"),
                }
            }
        };
        let email = Email {
            to: payload.to,
            subject: payload.subject,
            text: payload.text,
            html: payload.html,
            idempotency_key: item.idempotency_key.clone(),
        };
        match send(settings, &email).await {
            Ok(()) => Outcome::Delivered,
            Err(SmtpError::Permanent(error)) => Outcome::Failed { error },
            Err(SmtpError::Temporary(error)) => Outcome::Retry { error, after: None },
        }
    }
}

#[async_trait]
impl Deliverer for SmtpDeliverer {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    async fn deliver(&self, settings: &serde_json::Value, batch: &[OutboxItem]) -> Vec<Outcome> {
        let smtp: SmtpSettings = match settings
            .get("smtp")
            .cloned()
            .map(serde_json::from_value)
            .unwrap_or_else(|| Ok(SmtpSettings::default()))
        {
            Ok(s) => s,
            Err(e) => {
                let error = format!("bad smtp settings: {e}");
                return batch
                    .iter()
                    .map(|_| Outcome::Failed {
                        error: error.clone(),
                    })
                    .collect();
            }
        };
        if smtp.host.is_empty() {
            // Not configured yet: keep the messages for when it is.
            return batch
                .iter()
                .map(|_| Outcome::Retry {
                    error: "no SMTP server configured (settings.smtp.host)".into(),
                    after: Some(std::time::Duration::from_secs(600)),
                })
                .collect();
        }
        let mut out = Vec::with_capacity(batch.len());
        for item in batch {
            out.push(Self::deliver_one(&smtp, item).await);
        }
        out
    }
}
