//! One way in for provider webhooks. Every delivery — a PBX notification, a
//! messenger update, a CRM event, a help desk rule — takes the same steps,
//! and each provider (one file here per connector in `skvoz-connectors`)
//! supplies only its own check, credentials, parser and use case:
//!
//! ```text
//! delivery ─► enabled in the project's settings?      no ─► 404
//!   ─► authenticate (signature / secret / token)     bad ─► 401, nothing kept
//!   ─► parse (connectors::*)                     refused ─► keep "rejected: …", 422
//!   ─► record through the provider's service      failed ─► the error (kept when
//!                                                            the provider says so)
//!   ─► keep the raw payload with its outcome (inbound_payloads) ─► the outcome
//! ```
//!
//! [`receive`] is the pipeline; [`Webhook`] is what a provider implements.
//! Handshakes that store nothing (Zadarma's echo, WhatsApp's verify token)
//! live beside their provider's webhook.

pub mod amocrm;
pub mod bitrix24;
pub mod calltouch;
pub mod helpdeskeddy;
pub mod telegram;
pub mod whatsapp;
pub mod zadarma;

use crate::context::ProjectContext;
use crate::AppError;
use serde::Serialize;
use skvoz_store::{Scope, Store};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

pub use amocrm::AmoCrmWebhook;
pub use bitrix24::Bitrix24Webhook;
pub use calltouch::CalltouchWebhook;
pub use helpdeskeddy::HelpDeskEddyWebhook;
pub use telegram::TelegramWebhook;
pub use whatsapp::WhatsAppWebhook;
pub use zadarma::ZadarmaWebhook;

/// One delivery as the server hands it over, without HTTP types.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// What the request authenticates with, as its provider sends it: a
    /// signature header, a secret-token header or the URL's `secret`
    /// (`None` when the request carries none).
    pub credential: Option<&'a str>,
    /// The raw body (for a webhook sent as a GET, its query string).
    pub body: &'a [u8],
}

impl<'a> Delivery<'a> {
    /// A delivery of `body` carrying `credential`.
    pub fn new(credential: Option<&'a str>, body: &'a [u8]) -> Self {
        Delivery { credential, body }
    }
}

/// A payload the provider's parser refused: kept as `rejected: {reason}`
/// and answered with `error`.
#[derive(Debug)]
pub struct Rejected {
    reason: String,
    error: AppError,
}

impl Rejected {
    /// Refused for `reason`, answered with `error`.
    pub fn new(reason: impl Display, error: AppError) -> Self {
        Rejected {
            reason: reason.to_string(),
            error,
        }
    }

    /// Refused for `reason`, answered with a 422 that names no field.
    pub fn invalid(reason: impl Display) -> Self {
        let reason = reason.to_string();
        Rejected {
            error: AppError::invalid("", reason.clone()),
            reason,
        }
    }
}

/// A failure while recording a parsed delivery.
#[derive(Debug)]
pub struct Failure {
    error: AppError,
    /// What to keep beside the raw payload; `None` keeps nothing.
    note: Option<String>,
}

impl Failure {
    /// Fails with `error` and keeps the raw payload with `note`.
    pub fn kept(error: AppError, note: impl Into<String>) -> Self {
        Failure {
            error,
            note: Some(note.into()),
        }
    }
}

/// A failure that keeps nothing (the provider retries the delivery).
impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Failure { error, note: None }
    }
}

/// A recorded delivery: the outcome answered, and what is kept beside the
/// raw payload.
#[derive(Debug)]
pub struct Recorded<O> {
    outcome: O,
    note: Option<&'static str>,
}

impl<O> Recorded<O> {
    /// Recorded; the outcome's JSON is kept beside the payload.
    pub fn new(outcome: O) -> Self {
        Recorded {
            outcome,
            note: None,
        }
    }

    /// Answered with `outcome`, but kept with `note` (a delivery with
    /// nothing to record).
    pub fn noted(outcome: O, note: &'static str) -> Self {
        Recorded {
            outcome,
            note: Some(note),
        }
    }
}

/// A provider's webhook: the steps of [`receive`] that differ between
/// providers.
pub trait Webhook: Sync {
    /// The provider's name, under which raw payloads are kept.
    const PROVIDER: &'static str;
    /// What authentication establishes and parsing needs (the bot that
    /// was addressed, an already parsed notification, or nothing).
    type Verified: Send;
    /// The delivery parsed, ready to record.
    type Parsed: Send;
    /// What recording answers (the response body, kept as JSON).
    type Outcome: Serialize + Send;

    /// `Ok` when the project's settings enable this provider, else
    /// [`AppError::NotFound`] naming the setting.
    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError>;

    /// Checks the delivery's credentials. Runs before anything is kept, so
    /// a forged delivery leaves no trace.
    fn authenticate(
        &self,
        ctx: &ProjectContext,
        delivery: &Delivery<'_>,
    ) -> Result<Self::Verified, AppError>;

    /// Parses an authenticated body.
    fn parse(
        &self,
        ctx: &ProjectContext,
        verified: Self::Verified,
        body: &[u8],
    ) -> Result<Self::Parsed, Rejected>;

    /// Records the parsed delivery through the provider's service.
    fn record(
        &self,
        ctx: &ProjectContext,
        parsed: Self::Parsed,
    ) -> impl Future<Output = Result<Recorded<Self::Outcome>, Failure>> + Send;
}

/// Where [`receive`] keeps raw payloads with their outcomes: the store's
/// `inbound_payloads`, or a test's list.
pub trait PayloadKeeper: Sync {
    /// Keeps `body`, received from `provider`, with `outcome`.
    fn keep(
        &self,
        scope: Scope,
        provider: &str,
        body: &str,
        outcome: &str,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

// Generic over the store so the impl holds for every lifetime of the
// trait object (`DynStore` alone trips the `Send` check of the handlers'
// futures).
impl<S: Store + ?Sized> PayloadKeeper for Arc<S> {
    async fn keep(
        &self,
        scope: Scope,
        provider: &str,
        body: &str,
        outcome: &str,
    ) -> Result<(), AppError> {
        Ok(self.keep_payload(scope, provider, body, outcome).await?)
    }
}

/// Takes one delivery through `webhook`'s steps and keeps its raw payload
/// with what became of it in `keeper` (see the module docs).
pub async fn receive<W: Webhook, K: PayloadKeeper>(
    keeper: &K,
    webhook: &W,
    ctx: &ProjectContext,
    delivery: Delivery<'_>,
) -> Result<W::Outcome, AppError> {
    webhook.check_enabled(ctx)?;
    let verified = webhook.authenticate(ctx, &delivery)?;
    let raw = String::from_utf8_lossy(delivery.body);
    let parsed = match webhook.parse(ctx, verified, delivery.body) {
        Ok(parsed) => parsed,
        Err(rejected) => {
            let note = format!("rejected: {}", rejected.reason);
            keeper.keep(ctx.scope, W::PROVIDER, &raw, &note).await?;
            return Err(rejected.error);
        }
    };
    match webhook.record(ctx, parsed).await {
        Ok(recorded) => {
            let note = match recorded.note {
                Some(note) => note.to_owned(),
                None => serde_json::to_string(&recorded.outcome).unwrap_or_default(),
            };
            keeper.keep(ctx.scope, W::PROVIDER, &raw, &note).await?;
            Ok(recorded.outcome)
        }
        Err(failure) => {
            if let Some(note) = &failure.note {
                keeper.keep(ctx.scope, W::PROVIDER, &raw, note).await?;
            }
            Err(failure.error)
        }
    }
}

/// The enabled-check every provider makes: `Ok` when `enabled`, else the
/// 404 that names where to turn the connector on (`what`).
pub fn enabled_or_not_found(enabled: bool, what: &str) -> Result<(), AppError> {
    if enabled {
        Ok(())
    } else {
        Err(AppError::NotFound(what.to_owned()))
    }
}

/// Authentication by a shared secret in the URL or a header: the
/// delivery's credential must match `expected` (constant time; an empty
/// expected secret matches nothing).
pub fn shared_secret(delivery: &Delivery<'_>, expected: &str) -> Result<(), AppError> {
    if secrets_match(delivery.credential.unwrap_or(""), expected) {
        Ok(())
    } else {
        Err(AppError::Unauthorized("wrong or missing secret".into()))
    }
}

/// Compares secrets in constant time; an empty expected secret matches
/// nothing.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && given.as_bytes().ct_eq(expected.as_bytes()).into()
}
