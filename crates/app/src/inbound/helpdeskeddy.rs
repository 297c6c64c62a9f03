//! HelpDeskEddy rule-engine webhooks with the recommended JSON body,
//! authenticated by the URL's `secret`. An event the ticket path refuses is
//! kept as rejected too (the REST poll is the fallback for lost ones).

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::context::ProjectContext;
use crate::tickets::{Strict, TicketOutcome, TicketService, HELPDESKEDDY};
use crate::AppError;
use skvoz_connectors::helpdesk::helpdeskeddy;
use skvoz_domain::support::TicketEvent;

/// HelpDeskEddy's webhook, recording ticket events through a
/// [`TicketService`].
pub struct HelpDeskEddyWebhook<'a> {
    tickets: &'a TicketService,
}

impl<'a> HelpDeskEddyWebhook<'a> {
    /// Recording through `tickets`.
    pub fn new(tickets: &'a TicketService) -> Self {
        HelpDeskEddyWebhook { tickets }
    }
}

impl Webhook for HelpDeskEddyWebhook<'_> {
    const PROVIDER: &'static str = HELPDESKEDDY;
    type Verified = ();
    type Parsed = TicketEvent;
    type Outcome = TicketOutcome;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            ctx.settings.service.helpdeskeddy.enabled,
            "HelpDeskEddy connector (enable it in settings.service.helpdeskeddy)",
        )
    }

    fn authenticate(&self, ctx: &ProjectContext, delivery: &Delivery<'_>) -> Result<(), AppError> {
        super::shared_secret(delivery, &ctx.settings.service.helpdeskeddy.webhook_secret)
    }

    fn parse(
        &self,
        ctx: &ProjectContext,
        _verified: (),
        body: &[u8],
    ) -> Result<TicketEvent, Rejected> {
        helpdeskeddy::parse_webhook(body, ctx.tz).map_err(Rejected::invalid)
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        event: TicketEvent,
    ) -> Result<Recorded<TicketOutcome>, Failure> {
        match self
            .tickets
            .record(ctx, HELPDESKEDDY, event, Strict::Drop)
            .await
        {
            Ok(outcome) => Ok(Recorded::new(outcome)),
            Err(e) => {
                let note = format!("rejected: {e}");
                Err(Failure::kept(e, note))
            }
        }
    }
}
