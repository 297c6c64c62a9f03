//! amoCRM webhooks (`leads[add]`, `leads[update]`, `leads[status]`,
//! `leads[delete]`, form-encoded), authenticated by the URL's `secret` and
//! turned into deal upserts. Redelivery is safe: an update older than the
//! stored one is ignored.

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::context::ProjectContext;
use crate::crm::webhooks::WebhookOutcome;
use crate::crm::{DealService, Strictness};
use crate::AppError;
use chrono::{TimeZone, Utc};
use skvoz_connectors::crm::amocrm;

/// amoCRM's webhook, upserting deals through a [`DealService`].
pub struct AmoCrmWebhook<'a> {
    deals: &'a DealService,
}

impl<'a> AmoCrmWebhook<'a> {
    /// Upserting through `deals`.
    pub fn new(deals: &'a DealService) -> Self {
        AmoCrmWebhook { deals }
    }
}

impl Webhook for AmoCrmWebhook<'_> {
    const PROVIDER: &'static str = "amocrm";
    type Verified = ();
    /// The connector's reading of the delivery.
    type Parsed = amocrm::AmoCrmWebhook;
    type Outcome = WebhookOutcome;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            ctx.settings.crm.amocrm.enabled,
            "amoCRM connector (enable it in settings.crm.amocrm)",
        )
    }

    fn authenticate(&self, ctx: &ProjectContext, delivery: &Delivery<'_>) -> Result<(), AppError> {
        super::shared_secret(delivery, &ctx.settings.crm.amocrm.secret)
    }

    fn parse(
        &self,
        ctx: &ProjectContext,
        _verified: (),
        body: &[u8],
    ) -> Result<Self::Parsed, Rejected> {
        let cfg = &ctx.settings.crm.amocrm;
        let mapping = amocrm::AmoCrmMapping {
            won_status_ids: cfg.won_status_ids.clone(),
            lost_status_ids: cfg.lost_status_ids.clone(),
            stages: cfg
                .stages
                .iter()
                .filter_map(|(k, v)| k.parse::<i64>().ok().map(|k| (k, v.clone())))
                .collect(),
            visit_code_fields: cfg.visit_code_fields.clone(),
            ..Default::default()
        };
        amocrm::parse_webhook(body, &mapping).map_err(Rejected::invalid)
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        parsed: Self::Parsed,
    ) -> Result<Recorded<WebhookOutcome>, Failure> {
        let mut out = WebhookOutcome {
            deals: parsed.deals.len(),
            ..Default::default()
        };
        for deal in parsed.deals {
            if deal.event == amocrm::AmoEvent::Delete {
                out.skipped += 1;
                continue;
            }
            let modified = deal
                .last_modified
                .and_then(|s| Utc.timestamp_opt(s, 0).single());
            let rec = self
                .deals
                .upsert(ctx, deal.update, Strictness::Connector, modified)
                .await?;
            out.created += usize::from(rec.created);
            out.changed += usize::from(rec.changed && !rec.created);
        }
        Ok(Recorded::new(out))
    }
}
