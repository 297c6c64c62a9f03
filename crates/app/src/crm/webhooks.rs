//! CRM webhooks: amoCRM and Bitrix24 deliveries turned into deal upserts.
//! Raw payloads are kept with what became of them. Redelivery is safe: an
//! upsert with the same values changes nothing, and an amoCRM update older
//! than the stored one is ignored.

use super::deals::{DealService, Strictness};
use crate::tracking::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{TimeZone, Utc};
use serde::Serialize;
use skvoz_connectors::crm::{amocrm, bitrix24};
use std::time::Duration;

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

/// Compares secrets in constant time.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && given.as_bytes().ct_eq(expected.as_bytes()).into()
}

impl CrmWebhooks {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        CrmWebhooks {
            deals: DealService::new(store.clone()),
            store,
        }
    }

    /// An amoCRM delivery; `secret` is the URL's `secret` parameter.
    pub async fn amocrm(
        &self,
        ctx: &ProjectContext,
        secret: &str,
        body: &[u8],
    ) -> Result<WebhookOutcome, AppError> {
        let cfg = &ctx.settings.crm.amocrm;
        if !cfg.enabled {
            return Err(AppError::NotFound(
                "amoCRM connector (enable it in settings.crm.amocrm)".into(),
            ));
        }
        if !secrets_match(secret, &cfg.secret) {
            return Err(AppError::Unauthorized("wrong or missing secret".into()));
        }
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
        let text = String::from_utf8_lossy(body).into_owned();
        let parsed = match amocrm::parse_webhook(body, &mapping) {
            Ok(p) => p,
            Err(e) => {
                self.store
                    .keep_payload(ctx.scope, "amocrm", &text, &format!("rejected: {e}"))
                    .await?;
                return Err(AppError::invalid("", e.to_string()));
            }
        };
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
        self.store
            .keep_payload(
                ctx.scope,
                "amocrm",
                &text,
                &serde_json::to_string(&out).unwrap_or_default(),
            )
            .await?;
        Ok(out)
    }

    /// A Bitrix24 event: the token is checked, then the deal is read back
    /// from the portal (the event carries only its id).
    pub async fn bitrix24(
        &self,
        ctx: &ProjectContext,
        body: &[u8],
    ) -> Result<WebhookOutcome, AppError> {
        let cfg = &ctx.settings.crm.bitrix24;
        if !cfg.enabled {
            return Err(AppError::NotFound(
                "Bitrix24 connector (enable it in settings.crm.bitrix24)".into(),
            ));
        }
        let event =
            bitrix24::parse_event(body).map_err(|e| AppError::invalid("", e.to_string()))?;
        if !bitrix24::token_matches(&event, &cfg.application_token) {
            return Err(AppError::Unauthorized("wrong application_token".into()));
        }
        let text = String::from_utf8_lossy(body).into_owned();
        if event.kind() != bitrix24::Bitrix24EventKind::Add
            && event.kind() != bitrix24::Bitrix24EventKind::Update
        {
            self.store
                .keep_payload(ctx.scope, "bitrix24", &text, "skipped")
                .await?;
            return Ok(WebhookOutcome {
                deals: 1,
                skipped: 1,
                ..Default::default()
            });
        }
        let client =
            bitrix24::Bitrix24Client::new(&cfg.rest_webhook_secret, Duration::from_millis(1500))
                .map_err(|e| AppError::Internal(format!("bitrix24 client: {e}")))?;
        let deal = match client.deal_get(&event.deal_id).await {
            Ok(d) => d,
            Err(e) => {
                self.store
                    .keep_payload(ctx.scope, "bitrix24", &text, &format!("fetch failed: {e}"))
                    .await?;
                return Err(AppError::Unavailable(format!(
                    "could not read deal {} from the portal: {e}",
                    event.deal_id
                )));
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
        let out = WebhookOutcome {
            deals: 1,
            created: usize::from(rec.created),
            changed: usize::from(rec.changed && !rec.created),
            skipped: 0,
        };
        self.store
            .keep_payload(
                ctx.scope,
                "bitrix24",
                &text,
                &serde_json::to_string(&out).unwrap_or_default(),
            )
            .await?;
        Ok(out)
    }
}
