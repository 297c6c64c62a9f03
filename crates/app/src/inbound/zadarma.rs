//! Zadarma PBX notifications (form-encoded), signed in the `Signature`
//! header with the API secret; `NOTIFY_END` records the call, other events
//! are kept as raw payloads only.

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::calls::service::{telephony_error, HookOutcome};
use crate::calls::CallService;
use crate::context::ProjectContext;
use crate::AppError;
use skvoz_connectors::telephony::zadarma;
use skvoz_domain::calltracking::InboundCall;

/// Zadarma's webhook, recording calls through a [`CallService`].
pub struct ZadarmaWebhook<'a> {
    calls: &'a CallService,
}

impl<'a> ZadarmaWebhook<'a> {
    /// Recording through `calls`.
    pub fn new(calls: &'a CallService) -> Self {
        ZadarmaWebhook { calls }
    }
}

impl Webhook for ZadarmaWebhook<'_> {
    const PROVIDER: &'static str = "zadarma";
    /// The signature covers fields of the notification, so it is parsed to
    /// be checked.
    type Verified = zadarma::ZadarmaNotification;
    /// The event's name and the call it completes.
    type Parsed = (String, Option<InboundCall>);
    type Outcome = HookOutcome;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            ctx.settings.calltracking.zadarma.enabled,
            "Zadarma connector (enable it in settings.calltracking.zadarma)",
        )
    }

    fn authenticate(
        &self,
        ctx: &ProjectContext,
        delivery: &Delivery<'_>,
    ) -> Result<Self::Verified, AppError> {
        let signature = delivery.credential;
        if signature.is_none_or(|s| s.trim().is_empty()) {
            return Err(AppError::Unauthorized("missing Signature header".into()));
        }
        let wrong = || AppError::Unauthorized("wrong signature".into());
        let n = zadarma::parse(delivery.body).map_err(|_| wrong())?;
        if !zadarma::verify(&n, &ctx.settings.calltracking.zadarma.secret, signature) {
            return Err(wrong());
        }
        Ok(n)
    }

    fn parse(
        &self,
        ctx: &ProjectContext,
        n: Self::Verified,
        _body: &[u8],
    ) -> Result<Self::Parsed, Rejected> {
        match zadarma::to_call(&n, ctx.tz) {
            Ok(call) => Ok((n.event, call)),
            Err(e) => Err(Rejected::new(e.to_string(), telephony_error(e))),
        }
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        (event, call): Self::Parsed,
    ) -> Result<Recorded<HookOutcome>, Failure> {
        let call = match call {
            Some(call) => Some(self.calls.record(ctx, call).await?),
            None => None,
        };
        Ok(Recorded::new(HookOutcome { event, call }))
    }
}
