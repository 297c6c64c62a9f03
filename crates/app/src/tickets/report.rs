//! Service totals of a period per acquisition channel: the pieces the
//! channel report aggregates (tickets, resolved share, CSAT, service cost).
//! A ticket counts for the channel of its contact's first visit; tickets
//! without a contact or a visit count for `(none)`, so the rows always add
//! up to the period's total.

use super::TicketService;
use crate::context::ProjectContext;
use crate::AppError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::support::ServiceTotals;
use std::collections::{BTreeMap, HashMap};

/// The channel of tickets whose contact has no known visit.
pub const NO_CHANNEL: &str = "(none)";

/// One channel's service totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelService {
    /// The channel group.
    pub channel: String,
    /// Its totals.
    pub totals: ServiceTotals,
    /// Distinct contacts with tickets.
    pub customers: u64,
}

impl TicketService {
    /// Service totals of tickets created within `[from, to)`, per channel
    /// (sorted by name), and the period's total computed over all tickets.
    pub async fn service_by_channel(
        &self,
        ctx: &ProjectContext,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<ChannelService>, ServiceTotals), AppError> {
        let tickets = self.store.tickets_between(ctx.scope, from, to).await?;
        let settings = &ctx.settings.service;
        // Each contact's first-visit channel, read in one store call.
        let mut contacts: Vec<i64> = tickets.iter().filter_map(|t| t.contact_id).collect();
        contacts.sort_unstable();
        contacts.dedup();
        let channel_of = self.store.first_visit_channels(ctx.scope, contacts).await?;
        let mut rows: BTreeMap<String, (ServiceTotals, std::collections::HashSet<i64>)> =
            BTreeMap::new();
        let mut total = ServiceTotals::default();
        for t in &tickets {
            let facts = t.facts();
            total.add(&facts, settings);
            let channel = t
                .contact_id
                .and_then(|c| channel_of.get(&c))
                .map_or_else(|| NO_CHANNEL.to_owned(), Clone::clone);
            let row = rows.entry(channel).or_default();
            row.0.add(&facts, settings);
            if let Some(c) = t.contact_id {
                row.1.insert(c);
            }
        }
        Ok((
            rows.into_iter()
                .map(|(channel, (totals, customers))| ChannelService {
                    channel,
                    totals,
                    customers: customers.len() as u64,
                })
                .collect(),
            total,
        ))
    }
}

/// The product of tickets that name none and whose contact bought nothing.
pub const NO_PRODUCT: &str = "(unknown)";

/// One product's service totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductService {
    /// The product: the ticket's own, else that of the contact's latest won
    /// deal before the ticket, else [`NO_PRODUCT`].
    pub product: String,
    /// Its totals.
    pub totals: ServiceTotals,
}

impl TicketService {
    /// Service totals of tickets created within `[from, to)` per product,
    /// most tickets first: which products bring many tickets.
    pub async fn service_by_product(
        &self,
        ctx: &ProjectContext,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ProductService>, AppError> {
        let tickets = self.store.tickets_between(ctx.scope, from, to).await?;
        let settings = &ctx.settings.service;
        let mut deals_of: HashMap<i64, Vec<skvoz_store::Deal>> = HashMap::new();
        let mut rows: HashMap<String, ServiceTotals> = HashMap::new();
        for t in &tickets {
            let product = match (&t.product, t.contact_id) {
                (Some(p), _) => p.clone(),
                (None, Some(c)) => {
                    if let std::collections::hash_map::Entry::Vacant(slot) = deals_of.entry(c) {
                        slot.insert(self.store.deals_of_contact(ctx.scope, c).await?);
                    }
                    deals_of
                        .get(&c)
                        .into_iter()
                        .flatten()
                        .filter(|d| {
                            d.status == skvoz_domain::crm::DealStatus::Won
                                && d.created_at <= t.created_at
                        })
                        .filter_map(|d| d.product.clone())
                        .next_back()
                        .unwrap_or_else(|| NO_PRODUCT.to_owned())
                }
                (None, None) => NO_PRODUCT.to_owned(),
            };
            rows.entry(product).or_default().add(&t.facts(), settings);
        }
        let mut out: Vec<ProductService> = rows
            .into_iter()
            .map(|(product, totals)| ProductService { product, totals })
            .collect();
        out.sort_by(|a, b| {
            b.totals
                .tickets
                .cmp(&a.totals.tickets)
                .then_with(|| a.product.cmp(&b.product))
        });
        Ok(out)
    }
}
