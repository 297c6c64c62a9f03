//! WhatsApp Cloud API deliveries, signed in `X-Hub-Signature-256` with the
//! app secret: status updates are counted and ignored, the messages of
//! every entry recorded. Also the verification handshake of the webhook's
//! GET.

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::chats::{ChatDelivery, ChatService};
use crate::context::ProjectContext;
use crate::AppError;
use skvoz_connectors::messengers::whatsapp;

/// WhatsApp's webhook, recording messages through a [`ChatService`].
pub struct WhatsAppWebhook<'a> {
    chats: &'a ChatService,
}

impl<'a> WhatsAppWebhook<'a> {
    /// Recording through `chats`.
    pub fn new(chats: &'a ChatService) -> Self {
        WhatsAppWebhook { chats }
    }
}

/// The verification handshake: the challenge to answer when `mode` is
/// `subscribe` and `token` is `settings.messengers.whatsapp.verify_token`.
pub fn verify_handshake(
    ctx: &ProjectContext,
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
) -> Result<String, AppError> {
    whatsapp::verify_handshake(
        mode,
        token,
        challenge,
        &ctx.settings.messengers.whatsapp.verify_token,
    )
    .ok_or_else(|| AppError::Forbidden("verify token does not match".into()))
}

impl Webhook for WhatsAppWebhook<'_> {
    const PROVIDER: &'static str = "whatsapp";
    type Verified = ();
    type Parsed = whatsapp::WhatsAppDelivery;
    type Outcome = ChatDelivery;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            !ctx.settings.messengers.whatsapp.app_secret.is_empty(),
            "WhatsApp connector (set settings.messengers.whatsapp.app_secret)",
        )
    }

    fn authenticate(&self, ctx: &ProjectContext, delivery: &Delivery<'_>) -> Result<(), AppError> {
        let secret = &ctx.settings.messengers.whatsapp.app_secret;
        if whatsapp::signature_valid(delivery.body, delivery.credential, secret) {
            Ok(())
        } else {
            Err(AppError::Unauthorized(
                "X-Hub-Signature-256 is missing or wrong".into(),
            ))
        }
    }

    fn parse(
        &self,
        _ctx: &ProjectContext,
        _verified: (),
        body: &[u8],
    ) -> Result<Self::Parsed, Rejected> {
        whatsapp::parse_webhook(body).map_err(Rejected::invalid)
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        parsed: Self::Parsed,
    ) -> Result<Recorded<ChatDelivery>, Failure> {
        let mut out = ChatDelivery {
            messages: parsed.messages.len(),
            statuses: parsed.statuses,
            skipped: parsed.skipped,
            ..ChatDelivery::default()
        };
        for m in parsed.messages {
            let r = self.chats.ingest(ctx, m, Vec::new()).await?;
            out.count(&r);
        }
        Ok(Recorded::new(out))
    }
}
