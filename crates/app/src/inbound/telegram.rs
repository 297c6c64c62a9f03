//! Telegram bot updates. The `X-Telegram-Bot-Api-Secret-Token` header both
//! authenticates the update and names the bot it was sent to; `/start
//! <payload>` links the chat to the visit.

use super::{secrets_match, Delivery, Failure, Recorded, Rejected, Webhook};
use crate::chats::{ChatDelivery, ChatService};
use crate::context::ProjectContext;
use crate::AppError;
use skvoz_connectors::messengers::telegram;
use skvoz_domain::messengers::InboundMessage;

/// Telegram's webhook, recording messages through a [`ChatService`].
pub struct TelegramWebhook<'a> {
    chats: &'a ChatService,
}

impl<'a> TelegramWebhook<'a> {
    /// Recording through `chats`.
    pub fn new(chats: &'a ChatService) -> Self {
        TelegramWebhook { chats }
    }
}

impl Webhook for TelegramWebhook<'_> {
    const PROVIDER: &'static str = "telegram";
    /// The username of the bot whose secret token the update carries.
    type Verified = String;
    /// The message, or `None` for an update that is not one.
    type Parsed = Option<InboundMessage>;
    type Outcome = ChatDelivery;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            !ctx.settings.messengers.telegram.bots.is_empty(),
            "Telegram connector (add a bot to settings.messengers.telegram.bots)",
        )
    }

    fn authenticate(
        &self,
        ctx: &ProjectContext,
        delivery: &Delivery<'_>,
    ) -> Result<String, AppError> {
        let given = delivery.credential.unwrap_or("");
        ctx.settings
            .messengers
            .telegram
            .bots
            .iter()
            .find(|b| secrets_match(given, &b.secret_token))
            .map(|b| b.username.clone())
            .ok_or_else(|| {
                AppError::Unauthorized("X-Telegram-Bot-Api-Secret-Token is missing or wrong".into())
            })
    }

    fn parse(
        &self,
        _ctx: &ProjectContext,
        bot: String,
        body: &[u8],
    ) -> Result<Self::Parsed, Rejected> {
        telegram::parse_update(body, &bot).map_err(Rejected::invalid)
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        parsed: Self::Parsed,
    ) -> Result<Recorded<ChatDelivery>, Failure> {
        let mut out = ChatDelivery::default();
        match parsed {
            Some(m) => {
                out.messages = 1;
                let r = self.chats.ingest(ctx, m, Vec::new()).await?;
                out.count(&r);
            }
            None => out.skipped = 1,
        }
        Ok(Recorded::new(out))
    }
}
