//! Bitrix24 outbound events (`ONCRMDEALADD`, `ONCRMDEALUPDATE`), checked by
//! their `application_token`. The event carries only the deal's id, so the
//! deal is read back from the portal (`crm.deal.get`) and upserted; other
//! events are kept as skipped.

use super::{Delivery, Failure, Recorded, Rejected, Webhook};
use crate::context::ProjectContext;
use crate::crm::webhooks::WebhookOutcome;
use crate::crm::{DealService, Strictness};
use crate::AppError;
use skvoz_connectors::crm::bitrix24;
use std::time::Duration;

/// How long the portal may take to answer `crm.deal.get`.
const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);

/// Bitrix24's webhook, upserting deals through a [`DealService`].
pub struct Bitrix24Webhook<'a> {
    deals: &'a DealService,
}

impl<'a> Bitrix24Webhook<'a> {
    /// Upserting through `deals`.
    pub fn new(deals: &'a DealService) -> Self {
        Bitrix24Webhook { deals }
    }
}

impl Webhook for Bitrix24Webhook<'_> {
    const PROVIDER: &'static str = "bitrix24";
    /// The token is inside the event, so the event is parsed to be checked.
    type Verified = bitrix24::Bitrix24Event;
    type Parsed = bitrix24::Bitrix24Event;
    type Outcome = WebhookOutcome;

    fn check_enabled(&self, ctx: &ProjectContext) -> Result<(), AppError> {
        super::enabled_or_not_found(
            ctx.settings.crm.bitrix24.enabled,
            "Bitrix24 connector (enable it in settings.crm.bitrix24)",
        )
    }

    fn authenticate(
        &self,
        ctx: &ProjectContext,
        delivery: &Delivery<'_>,
    ) -> Result<Self::Verified, AppError> {
        let event = bitrix24::parse_event(delivery.body)
            .map_err(|e| AppError::invalid("", e.to_string()))?;
        if !bitrix24::token_matches(&event, &ctx.settings.crm.bitrix24.application_token) {
            return Err(AppError::Unauthorized("wrong application_token".into()));
        }
        Ok(event)
    }

    fn parse(
        &self,
        _ctx: &ProjectContext,
        event: Self::Verified,
        _body: &[u8],
    ) -> Result<Self::Parsed, Rejected> {
        Ok(event)
    }

    async fn record(
        &self,
        ctx: &ProjectContext,
        event: Self::Parsed,
    ) -> Result<Recorded<WebhookOutcome>, Failure> {
        let cfg = &ctx.settings.crm.bitrix24;
        if event.kind() != bitrix24::Bitrix24EventKind::Add
            && event.kind() != bitrix24::Bitrix24EventKind::Update
        {
            let skipped = WebhookOutcome {
                deals: 1,
                skipped: 1,
                ..Default::default()
            };
            return Ok(Recorded::noted(skipped, "skipped"));
        }
        let client = bitrix24::Bitrix24Client::new(&cfg.rest_webhook_secret, FETCH_TIMEOUT)
            .map_err(|e| AppError::Internal(format!("bitrix24 client: {e}")))?;
        let deal = match client.deal_get(&event.deal_id).await {
            Ok(d) => d,
            Err(e) => {
                let error = AppError::Unavailable(format!(
                    "could not read deal {} from the portal: {e}",
                    event.deal_id
                ));
                return Err(Failure::kept(error, format!("fetch failed: {e}")));
            }
        };
        let mapping = bitrix24::Bitrix24Mapping {
            won_stages: cfg.won_stages.clone(),
            lost_stages: cfg.lost_stages.clone(),
            stages: cfg.stages.clone(),
            visit_code_field: cfg.visit_code_field.clone(),
        };
        let update = bitrix24::deal_to_update(&deal, &mapping)
            .map_err(|e| AppError::invalid("", e.to_string()))?;
        let rec = self
            .deals
            .upsert(ctx, update, Strictness::Connector, None)
            .await?;
        Ok(Recorded::new(WebhookOutcome {
            deals: 1,
            created: usize::from(rec.created),
            changed: usize::from(rec.changed && !rec.created),
            skipped: 0,
        }))
    }
}
