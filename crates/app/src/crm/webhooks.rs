//! CRM webhooks: amoCRM and Bitrix24 deliveries turned into deal upserts.
//! Raw payloads are kept with what became of them. Redelivery is safe: an
//! upsert with the same values changes nothing, and an amoCRM update older
//! than the stored one is ignored.

use super::deals::DealService;
use crate::context::ProjectContext;
use crate::inbound::{self, AmoCrmWebhook, Bitrix24Webhook, Delivery};
use crate::{AppError, DynStore};
use serde::Serialize;

/// Compares secrets in constant time (kept here for the Alytics export's
/// login).
pub use crate::inbound::secrets_match;

/// What a delivery did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WebhookOutcome {
    /// Deals in the delivery.
    pub deals: usize,
    /// Deals created.
    pub created: usize,
    /// Deals changed.
    pub changed: usize,
    /// Entries skipped (deletions, nothing to apply).
    pub skipped: usize,
}

/// The CRM webhook use cases.
#[derive(Clone)]
pub struct CrmWebhooks {
    store: DynStore,
    deals: DealService,
}

impl CrmWebhooks {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        CrmWebhooks {
            deals: DealService::new(store.clone()),
            store,
        }
    }

    /// An amoCRM delivery, through the [`inbound`] pipeline; `secret` is
    /// the URL's `secret` parameter.
    pub async fn amocrm(
        &self,
        ctx: &ProjectContext,
        secret: &str,
        body: &[u8],
    ) -> Result<WebhookOutcome, AppError> {
        let webhook = AmoCrmWebhook::new(&self.deals);
        inbound::receive(
            &self.store,
            &webhook,
            ctx,
            Delivery::new(Some(secret), body),
        )
        .await
    }

    /// A Bitrix24 event, through the [`inbound`] pipeline: the token is
    /// checked, then the deal is read back from the portal (the event
    /// carries only its id).
    pub async fn bitrix24(
        &self,
        ctx: &ProjectContext,
        body: &[u8],
    ) -> Result<WebhookOutcome, AppError> {
        let webhook = Bitrix24Webhook::new(&self.deals);
        inbound::receive(&self.store, &webhook, ctx, Delivery::new(None, body)).await
    }
}
