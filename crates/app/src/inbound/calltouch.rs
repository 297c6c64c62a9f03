//! Calltouch-style call webhooks (a GET query or a form-encoded POST, in
//! either spelling of the parameters), authenticated by the URL's `secret`.

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::calls::service::{telephony_error, HookOutcome};
use crate::calls::CallService;
use crate::context::ProjectContext;
use crate::AppError;
use skvoz_connectors::telephony::calltouch;
use skvoz_domain::calltracking::InboundCall;

/// The Calltouch-style webhook, recording calls through a [`CallService`].
pub struct CalltouchWebhook<'a> {
    calls: &'a CallService,
}

impl<'a> CalltouchWebhook<'a> {
    /// Recording through `calls`.
    pub fn new(calls: &'a CallService) -> Self {
        CalltouchWebhook { calls }
    }
}

impl Webhook for CalltouchWebhook<'_> {
    const PROVIDER: &'static str = "calltouch";
    type Verified = ();
    type Parsed = InboundCall;
    type Outcome = HookOutcome;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            ctx.settings.calltracking.calltouch.enabled,
            "Calltouch connector (enable it in settings.calltracking.calltouch)",
        )
    }

    fn authenticate(&self, ctx: &ProjectContext, delivery: &Delivery<'_>) -> Result<(), AppError> {
        super::shared_secret(delivery, &ctx.settings.calltracking.calltouch.secret)
    }

    fn parse(
        &self,
        ctx: &ProjectContext,
        _verified: (),
        body: &[u8],
    ) -> Result<InboundCall, Rejected> {
        calltouch::parse(body, ctx.tz).map_err(|e| Rejected::new(e.to_string(), telephony_error(e)))
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        call: InboundCall,
    ) -> Result<Recorded<HookOutcome>, Failure> {
        Ok(Recorded::new(HookOutcome {
            event: "call".into(),
            call: Some(self.calls.record(ctx, call).await?),
        }))
    }
}
