//! Support tickets of the demo data set: customers (and some leads that did
//! not buy) write to the help desk after their orders; the ticket rate,
//! handling time and satisfaction depend on the channel the contact came
//! from, so the "problem channels" view has something to show (paid social
//! and messengers bring many tickets per customer, e-mail and organic few).
//!
//! Tickets enter through [`TicketService::record`](crate::tickets::TicketService::record),
//! as HelpDeskEddy events would: created, first reply, solved, closed,
//! rating. Reproducible: each contact's tickets come from its own random
//! stream, and every time is derived from the contact's leads and deals.

use super::random::{one, pick, secs, stream};
use super::DemoOptions;
use crate::context::ProjectContext;
use crate::tickets::{Strict, HELPDESKEDDY};
use crate::{keys, App, AppError};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::Rng;
use skvoz_domain::crm::{DealStatus, IdentityKind};
use skvoz_domain::support::{TicketEvent, TicketEventKind};
use std::collections::HashSet;

/// Separates the ticket streams from the visitors' streams.
const SALT: u64 = 7_919;

/// How a channel's customers use support: (expected tickets per customer,
/// extra handling minutes, chance of a bad rating).
fn profile(channel: &str) -> (f64, i64, f64) {
    match channel {
        "paid social" => (1.6, 40, 0.45),
        "messengers" => (1.2, 25, 0.3),
        "social" => (0.9, 20, 0.3),
        "paid search" => (0.6, 10, 0.15),
        "referral" => (0.5, 10, 0.15),
        "direct" => (0.45, 5, 0.1),
        "organic search" => (0.35, 5, 0.1),
        "email" => (0.2, 0, 0.05),
        _ => (0.5, 10, 0.2),
    }
}

const SUBJECTS: &[&str] = &[
    "Где мой заказ?",
    "Не работает после доставки",
    "Возврат товара",
    "Вопрос по гарантии",
    "Не пришёл чек",
    "Ошибка в комплектации",
    "Как подключить?",
];

const PRIORITIES: &[(&str, u32)] = &[("low", 3), ("normal", 6), ("high", 2)];

/// Configures the demo project's service costs and card secret, and replays
/// its tickets. Returns the number of tickets.
pub(super) async fn generate(
    app: &App,
    ctx: &ProjectContext,
    options: &DemoOptions,
) -> Result<u64, AppError> {
    let view = app.settings.get(ctx.scope).await?;
    let mut doc = view.doc;
    doc["service"]["cost_per_ticket"] = serde_json::json!(150.0);
    doc["service"]["cost_per_hour"] = serde_json::json!(900.0);
    doc["service"]["widget_secret"] = serde_json::json!(keys::random_token("", 16));
    app.settings.put(ctx.scope, None, doc).await?;
    let ctx = app.contexts.by_id(ctx.project.id).await?;
    let ctx = ctx.as_ref();

    let end = Utc.from_utc_datetime(&options.end.and_hms_opt(0, 0, 0).unwrap_or_default());
    let start = end - Duration::days(i64::from(options.days) + 2);
    let store = &app.store;
    let leads = store.leads_between(ctx.scope, start, end).await?;
    let mut seen = HashSet::new();
    let mut n = 0u64;
    for lead in leads {
        let Some(contact_id) = lead.contact_id else {
            continue;
        };
        if !seen.insert(contact_id) {
            continue;
        }
        let visits = store.contact_visits(ctx.scope, contact_id).await?;
        let channel = visits
            .first
            .map_or_else(|| "direct".to_owned(), |v| v.channel);
        let deals = store.deals_of_contact(ctx.scope, contact_id).await?;
        let Some(contact) = store.contact(ctx.scope, contact_id).await? else {
            continue;
        };
        let email = contact
            .identities
            .iter()
            .find(|i| i.kind == IdentityKind::Email)
            .map(|i| i.value.clone());
        let phone = contact
            .identities
            .iter()
            .find(|i| i.kind == IdentityKind::Phone)
            .map(|i| i.value.clone());
        if email.is_none() && phone.is_none() {
            continue;
        }
        let mut rng = stream(options.seed, contact_id as u64, SALT);
        let (rate, extra_minutes, bad) = profile(&channel);
        let won: Vec<_> = deals
            .iter()
            .filter(|d| d.status == DealStatus::Won)
            .collect();
        // Buyers write far more than people who only asked.
        let expected = if won.is_empty() {
            rate * 0.4
        } else {
            rate * 2.0
        };
        let p = expected / (1.0 + expected);
        let mut count = 0;
        while count < 8 && rng.gen_bool(p.clamp(0.0, 0.9)) {
            count += 1;
        }
        for k in 0..count {
            let (after, product) = match won.get(k % won.len().max(1)) {
                Some(d) => (d.closed_at.unwrap_or(d.created_at), d.product.clone()),
                None => (lead.created_at, None),
            };
            let created = after + secs(&mut rng, 3_600, 20 * 86_400);
            if created >= end {
                continue;
            }
            n += 1;
            let id = format!("demo-{n}");
            let base = TicketEvent {
                ticket_id: id.clone(),
                email: email.clone(),
                phone: phone.clone(),
                ..TicketEvent::default()
            };
            let mut events = vec![TicketEvent {
                kind: Some(TicketEventKind::Created),
                status: Some("open".into()),
                at: Some(created),
                created_at: Some(created),
                subject: Some((*one(&mut rng, SUBJECTS)).to_owned()),
                priority: Some((*pick(&mut rng, PRIORITIES)).to_owned()),
                product: product.clone(),
                ..base.clone()
            }];
            let replied = created + secs(&mut rng, 300, 4 * 3_600);
            let solved = replied + secs(&mut rng, 1_800, 72 * 3_600);
            let closed = solved + Duration::hours(24);
            let mut push = |at: DateTime<Utc>, event: TicketEvent| {
                if at < end {
                    events.push(TicketEvent {
                        at: Some(at),
                        ..event
                    });
                }
            };
            push(
                replied,
                TicketEvent {
                    kind: Some(TicketEventKind::Reply),
                    ..base.clone()
                },
            );
            let handling = rng.gen_range(5..45) + rng.gen_range(0..=extra_minutes);
            push(
                solved,
                TicketEvent {
                    kind: Some(TicketEventKind::Status),
                    status: Some("solved".into()),
                    handling_minutes: Some(handling as u32),
                    ..base.clone()
                },
            );
            push(
                closed,
                TicketEvent {
                    kind: Some(TicketEventKind::Status),
                    status: Some("closed".into()),
                    ..base.clone()
                },
            );
            if rng.gen_bool(0.6) {
                let rating = if rng.gen_bool(bad) {
                    rng.gen_range(1..=3)
                } else {
                    rng.gen_range(4..=5)
                };
                push(
                    closed + Duration::minutes(30),
                    TicketEvent {
                        kind: Some(TicketEventKind::Rating),
                        rating: Some(rating),
                        ..base.clone()
                    },
                );
            }
            for event in events {
                app.tickets
                    .record(ctx, HELPDESKEDDY, event, Strict::Reject)
                    .await?;
            }
        }
    }
    Ok(n)
}
