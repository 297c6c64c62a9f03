//! The demo's delivery history, so the outbox view has something to show:
//! a CRM webhook and GA4/Metrika conversion rules (switched off afterwards —
//! their hosts are `.invalid`), and the messages they made for the last 30
//! days of events, each with the outcome the worker would record at the
//! demo's end: delivered, skipped (no client id, outside GA4's 72 hours or
//! Metrika's 21 days), and two dead letters from a webhook that answered
//! 410 — which a person can retry from the dashboard or the API.

use crate::context::ProjectContext;
use crate::outbox::destinations::conversion_skip;
use crate::outbox::routing;
use crate::{keys, App, AppError};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use skvoz_domain::ProjectSettings;
use skvoz_store::{ContactKeys, OutboxFilter, OutboxResult};

/// The consumer name under which the history is enqueued (its cursor is
/// not the relay's, so other projects' events are untouched).
const CONSUMER: &str = "demo-outbox-history";

fn destinations(enabled: bool) -> serde_json::Value {
    json!({
        "webhooks": [{
            "id": "crm-demo",
            "url": "https://hooks.demo.invalid/skvoz",
            "secret": keys::random_token("whsec_", 24),
            "events": ["lead.created", "deal.stage_changed", "ticket.closed"],
            "enabled": enabled,
        }],
        "conversions": {
            "ga4": {"measurement_id": "G-DEMO00001", "api_secret": "demo-secret",
                "base_url": "https://ga4.demo.invalid"},
            "metrika": {"counter_id": "10000001", "token": "demo-token",
                "base_url": "https://metrika.demo.invalid"},
            "rules": [{"id": "won", "when": {"deal_stage": "won"}, "send_to": ["ga4", "metrika"],
                "metrika_target": "deal_won", "enabled": enabled}],
        },
    })
}

/// Writes the history as of `as_of` (the demo's end); returns how many
/// messages it holds.
pub(super) async fn generate(
    app: &App,
    ctx: &ProjectContext,
    as_of: DateTime<Utc>,
) -> Result<u64, AppError> {
    let scope = ctx.scope;
    let mut doc = app.store.settings(scope).await?.doc;
    let on = destinations(true);
    for section in ["webhooks", "conversions"] {
        doc[section] = on[section].clone();
    }
    let enabled = ProjectSettings::from_json(doc.clone())?;

    let since = as_of - Duration::days(30);
    let mut after = 0;
    let mut messages = Vec::new();
    loop {
        let events = app.store.project_events(scope, after, 1000).await?;
        let Some(last) = events.last() else { break };
        after = last.id;
        for e in events.iter().filter(|e| e.at >= since && e.at <= as_of) {
            let keys = match (routing::needs_keys(e, &enabled), e.contact_id) {
                (true, Some(c)) => app.store.contact_keys(scope, c).await?,
                _ => ContactKeys::default(),
            };
            messages.extend(
                routing::route(e, &enabled, &keys)
                    .into_iter()
                    .map(|m| (scope, m)),
            );
        }
    }
    app.store.relay_batch(CONSUMER, after, messages).await?;

    // The destinations stay configured but off: nothing real is called.
    let mut off_doc = doc;
    let off = destinations(false);
    off_doc["webhooks"][0]["enabled"] = off["webhooks"][0]["enabled"].clone();
    off_doc["conversions"]["rules"] = off["conversions"]["rules"].clone();
    app.settings.put(scope, None, off_doc).await?;

    let pending = app
        .store
        .list_outbox(
            scope,
            OutboxFilter {
                status: Some("pending".into()),
                limit: 1_000_000,
                ..Default::default()
            },
        )
        .await?;
    let mut dead_left = 2;
    // Newest first: the two newest webhook messages are the dead letters.
    let results = pending
        .iter()
        .map(|m| {
            let result = match m.destination_kind.as_str() {
                "webhook" if dead_left > 0 => {
                    dead_left -= 1;
                    OutboxResult::Dead {
                        error: "HTTP 410: Gone (the endpoint was removed)".into(),
                    }
                }
                "webhook" => OutboxResult::Delivered { at: Utc::now() },
                kind => match conversion_skip(kind, &m.payload, as_of) {
                    Some(reason) => OutboxResult::Skipped { reason },
                    None => OutboxResult::Delivered { at: Utc::now() },
                },
            };
            (m.id, result)
        })
        .collect();
    app.store.finish_outbox(results).await?;
    Ok(pending.len() as u64)
}
