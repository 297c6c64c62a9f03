//! The operator's marketing card (`GET /api/v1/contacts/lookup`, the
//! `/widget/contact` iframe) and the contact timeline
//! (`GET /api/v1/contacts/{id}/timeline`).
//!
//! The card answers "who is this and what are they worth" while a ticket
//! is open: where the contact came from (the source and channel of their
//! first visit), first and last visit, how many visits, calls, chats, forms
//! and tickets, deals (open and won), lifetime value (won revenue to date)
//! and a priority hint by value. It opens with every ticket, so it is a
//! handful of indexed reads.

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::contact::{normalize_email, normalize_phone};
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind, LeadKind};
use skvoz_domain::support::{priority_hint, PriorityHint, StatusClass};
use skvoz_domain::Money;
use skvoz_store::Visit;

/// Who to look up: exactly one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupKey {
    /// A phone in any common notation.
    Phone(String),
    /// An e-mail.
    Email(String),
    /// A visit code.
    VisitCode(i64),
}

impl LookupKey {
    /// From the query parameters: exactly one of `phone`, `email`,
    /// `visit_code` must be given.
    pub fn from_query(
        phone: Option<&str>,
        email: Option<&str>,
        visit_code: Option<&str>,
    ) -> Result<LookupKey, AppError> {
        let given: Vec<_> = [
            ("phone", phone),
            ("email", email),
            ("visit_code", visit_code),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(str::trim).filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        match given.as_slice() {
            [("phone", v)] if v.len() <= 64 => Ok(LookupKey::Phone((*v).to_owned())),
            [("email", v)] if v.len() <= 254 => Ok(LookupKey::Email((*v).to_owned())),
            [("visit_code", v)] => v
                .parse::<i64>()
                .ok()
                .filter(|c| *c > 0)
                .map(LookupKey::VisitCode)
                .ok_or_else(|| {
                    AppError::invalid("visit_code", "visit_code must be a positive number")
                }),
            [(field, _)] => Err(AppError::invalid(*field, format!("{field} is too long"))),
            _ => Err(AppError::invalid(
                "",
                "give exactly one of phone, email, visit_code",
            )),
        }
    }

    /// The field name (`phone`, `email`, `visit_code`).
    pub fn field(&self) -> &'static str {
        match self {
            LookupKey::Phone(_) => "phone",
            LookupKey::Email(_) => "email",
            LookupKey::VisitCode(_) => "visit_code",
        }
    }

    /// The value as given.
    pub fn value(&self) -> String {
        match self {
            LookupKey::Phone(v) | LookupKey::Email(v) => v.clone(),
            LookupKey::VisitCode(c) => c.to_string(),
        }
    }
}

/// Where the contact came from: their first visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Acquisition {
    /// Traffic source.
    pub source: String,
    /// Medium.
    pub medium: String,
    /// Campaign.
    pub campaign: Option<String>,
    /// Channel group.
    pub channel: String,
    /// Landing page.
    pub landing: String,
}

/// Leads of the contact by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LeadCounts {
    /// Site forms.
    pub forms: u32,
    /// Calls.
    pub calls: u32,
    /// Chats.
    pub chats: u32,
    /// Tickets.
    pub tickets: u32,
    /// E-mails.
    pub emails: u32,
}

/// The operator's card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactCard {
    /// The contact.
    pub contact_id: i64,
    /// Name.
    pub name: Option<String>,
    /// Phones.
    pub phones: Vec<String>,
    /// E-mails.
    pub emails: Vec<String>,
    /// Source and channel of the first visit.
    pub acquisition: Option<Acquisition>,
    /// First visit.
    pub first_visit_at: Option<DateTime<Utc>>,
    /// Latest visit.
    pub last_visit_at: Option<DateTime<Utc>>,
    /// Visits.
    pub visits: i64,
    /// Leads by kind.
    pub leads: LeadCounts,
    /// Deals in all.
    pub deals: u32,
    /// Open deals.
    pub open_deals: u32,
    /// Won deals.
    pub won_deals: u32,
    /// Revenue of open deals (decimal).
    pub open_value: f64,
    /// Lifetime value: won revenue to date (decimal).
    pub ltv: f64,
    /// Currency of the amounts.
    pub currency: String,
    /// `vip`, `high` or `normal`.
    pub priority: PriorityHint,
    /// Tickets in all.
    pub tickets: u32,
    /// Tickets not yet resolved or closed.
    pub open_tickets: u32,
    /// Average CSAT rating of rated tickets.
    pub avg_rating: Option<f64>,
}

/// The most calls and the most dialogs one timeline lists.
const TIMELINE_ITEMS: usize = 1_000;

/// One entry of the contact timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// `visit`, `lead`, `call`, `chat`, `deal_stage`, `ticket_created`,
    /// `ticket_resolved`, `ticket_closed`.
    pub kind: &'static str,
    /// What, for a person.
    pub title: String,
    /// Details (ids, source/medium/campaign/channel, stage, status…).
    pub data: serde_json::Value,
}

/// The card and the timeline.
#[derive(Clone)]
pub struct ContactCardService {
    store: DynStore,
}

fn acquisition(v: &Visit) -> Acquisition {
    Acquisition {
        source: v.source.source.clone(),
        medium: v.source.medium.clone(),
        campaign: v.source.campaign.clone(),
        channel: v.channel.clone(),
        landing: v.landing.clone(),
    }
}

impl ContactCardService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        ContactCardService { store }
    }

    /// A contact (a merged id leads to the surviving contact) with its
    /// leads and deals.
    #[allow(clippy::type_complexity)] // Three lists the handler shapes itself.
    pub async fn contact_with_leads_and_deals(
        &self,
        scope: skvoz_store::Scope,
        id: i64,
    ) -> Result<
        Option<(
            skvoz_store::Contact,
            Vec<skvoz_store::Lead>,
            Vec<skvoz_store::Deal>,
        )>,
        AppError,
    > {
        let Some(contact) = self.store.contact(scope, id).await? else {
            return Ok(None);
        };
        let leads = self.store.leads_of_contact(scope, contact.id).await?;
        let deals = self.store.deals_of_contact(scope, contact.id).await?;
        Ok(Some((contact, leads, deals)))
    }

    /// The contact a key names, if any.
    pub async fn find(
        &self,
        ctx: &ProjectContext,
        key: &LookupKey,
    ) -> Result<Option<i64>, AppError> {
        let identity = match key {
            LookupKey::Phone(p) => Identity::new(
                IdentityKind::Phone,
                normalize_phone(p, &ctx.settings.general.default_region)
                    .map_err(|e| AppError::invalid("phone", e.to_string()))?,
            ),
            LookupKey::Email(e) => Identity::new(
                IdentityKind::Email,
                normalize_email(e).map_err(|e| AppError::invalid("email", e.to_string()))?,
            ),
            LookupKey::VisitCode(code) => {
                let Some(visit) = self.store.visit_by_code(ctx.scope, *code).await? else {
                    return Ok(None);
                };
                Identity::new(IdentityKind::Vid, visit.vid)
            }
        };
        Ok(self.store.contact_by_identity(ctx.scope, &identity).await?)
    }

    /// The card of the contact a key names; 404 when nobody matches.
    pub async fn lookup(
        &self,
        ctx: &ProjectContext,
        key: &LookupKey,
    ) -> Result<ContactCard, AppError> {
        let id = self
            .find(ctx, key)
            .await?
            .ok_or_else(|| AppError::NotFound("contact".into()))?;
        self.card(ctx, id).await
    }

    /// The card of a contact.
    pub async fn card(
        &self,
        ctx: &ProjectContext,
        contact_id: i64,
    ) -> Result<ContactCard, AppError> {
        let scope = ctx.scope;
        let store = &self.store;
        let contact = store
            .contact(scope, contact_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("contact {contact_id}")))?;
        let (leads, deals, visits, tickets) = tokio::try_join!(
            store.leads_of_contact(scope, contact.id),
            store.deals_of_contact(scope, contact.id),
            store.contact_visits(scope, contact.id),
            store.tickets_of_contact(scope, contact.id),
        )?;
        let mut counts = LeadCounts::default();
        for lead in &leads {
            let slot = match lead.kind {
                LeadKind::Form => &mut counts.forms,
                LeadKind::Call => &mut counts.calls,
                LeadKind::Chat => &mut counts.chats,
                LeadKind::Ticket => &mut counts.tickets,
                LeadKind::Email => &mut counts.emails,
            };
            *slot += 1;
        }
        let ltv: Money = deals
            .iter()
            .filter(|d| d.status == DealStatus::Won)
            .map(|d| d.revenue)
            .sum();
        let open_value: Money = deals
            .iter()
            .filter(|d| d.status == DealStatus::Open)
            .map(|d| d.revenue)
            .sum();
        let service = &ctx.settings.service;
        let rated: Vec<u8> = tickets.iter().filter_map(|t| t.rating).collect();
        let pick = |kind: IdentityKind| {
            contact
                .identities
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| i.value.clone())
                .collect::<Vec<_>>()
        };
        // Without a stored visit, the first lead's visit is the source.
        Ok(ContactCard {
            contact_id: contact.id,
            name: contact.name.clone(),
            phones: pick(IdentityKind::Phone),
            emails: pick(IdentityKind::Email),
            acquisition: visits.first.as_ref().map(acquisition),
            first_visit_at: visits.first.as_ref().map(|v| v.started_at),
            last_visit_at: visits.last.as_ref().map(|v| v.last_at),
            visits: visits.count,
            leads: counts,
            deals: deals.len() as u32,
            open_deals: deals
                .iter()
                .filter(|d| d.status == DealStatus::Open)
                .count() as u32,
            won_deals: deals.iter().filter(|d| d.status == DealStatus::Won).count() as u32,
            open_value: open_value.to_decimal(),
            ltv: ltv.to_decimal(),
            currency: ctx.settings.general.currency.as_str().to_owned(),
            priority: priority_hint(ltv, open_value, service),
            tickets: tickets.len() as u32,
            open_tickets: tickets
                .iter()
                .filter(|t| {
                    t.resolved_at.is_none()
                        && t.closed_at.is_none()
                        && t.status
                            .as_deref()
                            .is_none_or(|s| service.classify_status(s) == StatusClass::Open)
                })
                .count() as u32,
            avg_rating: (!rated.is_empty())
                .then(|| rated.iter().map(|r| f64::from(*r)).sum::<f64>() / rated.len() as f64),
        })
    }

    /// The contact's history in time order: visits (with source, medium,
    /// campaign, channel), leads of every kind, calls from the contact's
    /// phones (duration, answered, target, recording link), messenger
    /// dialogs (of the contact and of the contacts merged into it), deals'
    /// stage changes, tickets' creation and resolution/closing. At most
    /// 1,000 visits, and 1,000 calls and dialogs.
    pub async fn timeline(
        &self,
        ctx: &ProjectContext,
        contact_id: i64,
    ) -> Result<(i64, Vec<TimelineEntry>), AppError> {
        let scope = ctx.scope;
        let store = &self.store;
        let contact = store
            .contact(scope, contact_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("contact {contact_id}")))?;
        let (leads, deals, visits, tickets) = tokio::try_join!(
            store.leads_of_contact(scope, contact.id),
            store.deals_of_contact(scope, contact.id),
            store.visits_of_contact(scope, contact.id, 1_000),
            store.tickets_of_contact(scope, contact.id),
        )?;
        let mut contact_ids = vec![contact.id];
        contact_ids.extend(&contact.merged_from);
        let dialogs = store
            .dialogs_of_contacts(scope, contact_ids, TIMELINE_ITEMS)
            .await?;
        let now = Utc::now() + chrono::Duration::days(1);
        let mut calls = Vec::new();
        for phone in contact
            .identities
            .iter()
            .filter(|i| i.kind == IdentityKind::Phone)
        {
            calls.extend(
                store
                    .calls_of_caller(scope, &phone.value, now, TIMELINE_ITEMS)
                    .await?,
            );
        }
        let mut out = Vec::new();
        for c in &calls {
            let call = &c.call;
            out.push(TimelineEntry {
                at: call.started_at,
                kind: "call",
                title: call.number.clone().unwrap_or_else(|| call.called.clone()),
                data: serde_json::json!({
                    "call_id": c.id, "caller": call.caller, "called": call.called, "number": call.number,
                    "pool_id": call.pool_id, "duration": call.duration, "answered": call.answered,
                    "is_target": call.is_target, "is_unique": call.is_unique,
                    "recording_url": call.recording_url, "visit_id": call.visit_id, "lead_id": call.lead_id,
                }),
            });
        }
        for d in &dialogs {
            out.push(TimelineEntry {
                at: d.started_at,
                kind: "chat",
                title: d.messenger.clone(),
                data: serde_json::json!({
                    "dialog_id": d.id, "messenger": d.messenger, "messages": d.messages,
                    "is_new": d.is_new, "page": d.page, "visit_id": d.visit_id, "lead_id": d.lead_id,
                    "last_message_at": d.last_message_at,
                }),
            });
        }
        for v in &visits {
            out.push(TimelineEntry {
                at: v.started_at,
                kind: "visit",
                title: format!("{} / {}", v.source.source, v.source.medium),
                data: serde_json::json!({
                    "visit_id": v.id, "code": v.code, "source": v.source.source, "medium": v.source.medium,
                    "campaign": v.source.campaign, "channel": v.channel, "landing": v.landing, "hits": v.hits,
                }),
            });
        }
        for l in &leads {
            out.push(TimelineEntry {
                at: l.created_at,
                kind: "lead",
                title: l.kind.as_str().to_owned(),
                data: serde_json::json!({
                    "lead_id": l.id, "lead_kind": l.kind, "visit_id": l.visit_id, "deal_id": l.deal_id,
                    "duplicate": l.is_duplicate,
                }),
            });
        }
        for d in &deals {
            for change in store.deal_history(scope, d.id).await? {
                out.push(TimelineEntry {
                    at: change.at,
                    kind: "deal_stage",
                    title: change.stage.clone(),
                    data: serde_json::json!({
                        "deal_id": d.id, "external_id": d.external_id, "stage": change.stage,
                        "status": change.status, "revenue": d.revenue.to_decimal(), "product": d.product,
                    }),
                });
            }
        }
        for t in &tickets {
            let data = serde_json::json!({
                "ticket_id": t.id, "provider": t.provider, "external_id": t.external_id,
                "subject": t.subject, "status": t.status, "priority": t.priority, "rating": t.rating,
            });
            out.push(TimelineEntry {
                at: t.created_at,
                kind: "ticket_created",
                title: t
                    .subject
                    .clone()
                    .unwrap_or_else(|| format!("ticket {}", t.external_id)),
                data: data.clone(),
            });
            let last = match (t.resolved_at, t.closed_at) {
                (_, Some(at)) => Some(("ticket_closed", at)),
                (Some(at), None) => Some(("ticket_resolved", at)),
                _ => None,
            };
            if let Some((kind, at)) = last {
                out.push(TimelineEntry {
                    at,
                    kind,
                    title: t.status.clone().unwrap_or_default(),
                    data,
                });
            }
        }
        out.sort_by_key(|e| e.at);
        Ok((contact.id, out))
    }
}
