//! Customer support: support tickets as the domain sees them, the project's
//! service-cost settings, and the pure math reports need to put the cost of
//! serving a customer next to what the customer brought — service cost per
//! ticket, CSAT, resolved share, tickets per sale, ROI after service, and
//! the operator card's priority hint.
//!
//! Everything here takes values and returns values; the services store
//! tickets and the reports aggregate them with these functions.

use crate::money::Money;
use crate::settings::FieldError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketEventKind {
    /// The ticket was opened.
    Created,
    /// Its status changed.
    Status,
    /// The customer rated the service (CSAT 1–5).
    Rating,
    /// An operator replied (the first reply sets the time to first response).
    Reply,
}

impl TicketEventKind {
    /// The name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEventKind::Created => "created",
            TicketEventKind::Status => "status",
            TicketEventKind::Rating => "rating",
            TicketEventKind::Reply => "reply",
        }
    }

    /// Parses [`TicketEventKind::as_str`].
    pub fn parse(s: &str) -> Option<TicketEventKind> {
        Some(match s {
            "created" => TicketEventKind::Created,
            "status" => TicketEventKind::Status,
            "rating" => TicketEventKind::Rating,
            "reply" => TicketEventKind::Reply,
            _ => return None,
        })
    }
}

/// One ticket event as a connector (the generic API, HelpDeskEddy's webhook
/// or its REST API) reports it, before the service resolves and stores it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TicketEvent {
    /// The ticket's id in the help desk (unique per project and provider).
    pub ticket_id: String,
    /// The sender's id of this event, for idempotent redelivery; `None`
    /// derives one from the ticket, kind, status/rating and time.
    pub event_id: Option<String>,
    /// What happened (`None` is not allowed past validation).
    pub kind: Option<TicketEventKind>,
    /// The status after the event (the help desk's own name).
    pub status: Option<String>,
    /// CSAT rating 1–5.
    pub rating: Option<u8>,
    /// When it happened.
    pub at: Option<DateTime<Utc>>,
    /// When the ticket was created, when the event says (REST, webhook
    /// bodies carrying the ticket's creation time).
    pub created_at: Option<DateTime<Utc>>,
    /// The client's e-mail (raw).
    pub email: Option<String>,
    /// The client's phone (raw).
    pub phone: Option<String>,
    /// skvoz visitor id, when the help desk widget passed it.
    pub vid: Option<String>,
    /// Visit code, when the client quoted it.
    pub visit_code: Option<i64>,
    /// The client's name.
    pub name: Option<String>,
    /// The ticket's subject.
    pub subject: Option<String>,
    /// Priority as the help desk names it (`low`, `high`, …).
    pub priority: Option<String>,
    /// The product the ticket is about, when known.
    pub product: Option<String>,
    /// Minutes operators spent on the ticket so far, when the help desk
    /// tracks it.
    pub handling_minutes: Option<u32>,
}

impl TicketEvent {
    /// The id that makes a redelivery of this event a no-op: the sender's
    /// id when it has one, else one derived from what the event says.
    pub fn idempotency_key(&self) -> String {
        if let Some(id) = &self.event_id {
            return id.clone();
        }
        let kind = self.kind.map_or("?", TicketEventKind::as_str);
        let at = self.at.map_or(0, |t| t.timestamp_millis());
        format!(
            "{}:{kind}:{}:{}:{at}",
            self.ticket_id,
            self.status.as_deref().unwrap_or(""),
            self.rating.map_or(String::new(), |r| r.to_string()),
        )
    }
}

/// Where a status puts a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusClass {
    /// Still being worked on.
    Open,
    /// Solved (the SLA's time to resolution stops here).
    Resolved,
    /// Closed: final.
    Closed,
}

/// The service-cost section of the project settings (`service`): what one
/// ticket and one hour of handling cost, which help-desk statuses mean
/// resolved and closed, the HelpDeskEddy connector, and the secret that
/// signs the operator card's URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSettings {
    /// Cost of one ticket, decimal money in the project currency.
    pub cost_per_ticket: f64,
    /// Cost of one hour of an operator's handling time.
    pub cost_per_hour: f64,
    /// Statuses (case-insensitive) that mean the ticket is solved.
    pub resolved_statuses: Vec<String>,
    /// Statuses that mean the ticket is closed for good.
    pub closed_statuses: Vec<String>,
    /// The HelpDeskEddy connector.
    pub helpdeskeddy: HelpDeskEddySettings,
    /// Signs `/widget/contact` URLs (HMAC-SHA256); empty disables the card.
    pub widget_secret: String,
    /// How long a signed card URL stays valid, in minutes.
    pub widget_ttl_minutes: u32,
    /// Won revenue to date from which the card says VIP.
    pub vip_ltv: f64,
    /// Won revenue to date from which the card says high priority.
    pub high_ltv: f64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            cost_per_ticket: 0.0,
            cost_per_hour: 0.0,
            resolved_statuses: vec!["resolved".into(), "solved".into(), "done".into()],
            closed_statuses: vec!["closed".into()],
            helpdeskeddy: HelpDeskEddySettings::default(),
            widget_secret: String::new(),
            widget_ttl_minutes: 24 * 60,
            vip_ltv: 100_000.0,
            high_ltv: 20_000.0,
        }
    }
}

/// HelpDeskEddy: webhooks of its rule engine to
/// `/hooks/{public_key}/helpdeskeddy?secret=…`, and polling of its REST API
/// (`https://{account}.helpdeskeddy.com/api/v2/`, Basic auth
/// `email:api_key`) as a fallback and for backfill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HelpDeskEddySettings {
    /// Accept its webhooks and poll it.
    pub enabled: bool,
    /// The account name (`shop` of `shop.helpdeskeddy.com`).
    pub account: String,
    /// The API base URL; empty means `https://{account}.helpdeskeddy.com/api/v2/`.
    pub api_url: String,
    /// The API user's e-mail (Basic auth login).
    pub email: String,
    /// The API key (Basic auth password).
    pub api_key: String,
    /// The `secret` query parameter of the webhook URL.
    pub webhook_secret: String,
    /// Minutes between polls; 0 disables polling.
    pub poll_minutes: u32,
}

impl Default for HelpDeskEddySettings {
    fn default() -> Self {
        HelpDeskEddySettings {
            enabled: false,
            account: String::new(),
            api_url: String::new(),
            email: String::new(),
            api_key: String::new(),
            webhook_secret: String::new(),
            poll_minutes: 15,
        }
    }
}

impl HelpDeskEddySettings {
    /// The REST API base URL (ends with `/`).
    pub fn base_url(&self) -> String {
        let url = if self.api_url.trim().is_empty() {
            format!("https://{}.helpdeskeddy.com/api/v2/", self.account.trim())
        } else {
            self.api_url.trim().to_owned()
        };
        if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        }
    }
}

fn money_ok(v: f64) -> bool {
    v.is_finite() && (0.0..=1e12).contains(&v)
}

impl ServiceSettings {
    /// Semantic checks; errors name the path under `service`.
    pub fn validate(&self) -> Result<(), FieldError> {
        let err = |f: &str, m: &str| {
            Err(FieldError {
                field: format!("service.{f}"),
                message: m.to_owned(),
            })
        };
        for (name, v) in [
            ("cost_per_ticket", self.cost_per_ticket),
            ("cost_per_hour", self.cost_per_hour),
            ("vip_ltv", self.vip_ltv),
            ("high_ltv", self.high_ltv),
        ] {
            if !money_ok(v) {
                return err(name, "must be an amount between 0 and 10^12");
            }
        }
        if self.high_ltv > self.vip_ltv {
            return err("high_ltv", "must not exceed vip_ltv");
        }
        for (name, list) in [
            ("resolved_statuses", &self.resolved_statuses),
            ("closed_statuses", &self.closed_statuses),
        ] {
            if list.len() > 50 || list.iter().any(|s| s.trim().is_empty() || s.len() > 100) {
                return err(name, "at most 50 statuses of 1-100 characters");
            }
        }
        if !self.widget_secret.is_empty() && self.widget_secret.len() < 16 {
            return err("widget_secret", "must be at least 16 characters (or empty)");
        }
        if !(1..=30 * 24 * 60).contains(&self.widget_ttl_minutes) {
            return err("widget_ttl_minutes", "must be between 1 and 43200");
        }
        let h = &self.helpdeskeddy;
        if h.enabled {
            let account_ok = h.account.len() <= 63
                && h.account
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if h.api_url.trim().is_empty() && (h.account.is_empty() || !account_ok) {
                return err(
                    "helpdeskeddy.account",
                    "an enabled HelpDeskEddy connector needs its account name (letters, digits, -)",
                );
            }
            let url = h.api_url.trim();
            if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
                return err("helpdeskeddy.api_url", "must be an http(s) URL");
            }
            if h.webhook_secret.len() < 16 {
                return err(
                    "helpdeskeddy.webhook_secret",
                    "an enabled HelpDeskEddy connector needs a webhook secret of at least 16 characters",
                );
            }
            if h.poll_minutes > 0 && (h.email.is_empty() || h.api_key.is_empty()) {
                return err(
                    "helpdeskeddy.api_key",
                    "polling needs the API user's email and api_key (or poll_minutes = 0)",
                );
            }
        }
        if h.poll_minutes > 24 * 60 {
            return err("helpdeskeddy.poll_minutes", "at most 1440");
        }
        Ok(())
    }

    /// Where a status puts a ticket (closed wins over resolved; anything
    /// else is open).
    pub fn classify_status(&self, status: &str) -> StatusClass {
        let s = status.trim();
        if self
            .closed_statuses
            .iter()
            .any(|c| c.eq_ignore_ascii_case(s))
        {
            StatusClass::Closed
        } else if self
            .resolved_statuses
            .iter()
            .any(|c| c.eq_ignore_ascii_case(s))
        {
            StatusClass::Resolved
        } else {
            StatusClass::Open
        }
    }
}

/// The facts of one ticket that cost and SLA math need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketFacts {
    /// Opened.
    pub created_at: Option<DateTime<Utc>>,
    /// First operator reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Solved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Operator minutes, when the help desk tracks them.
    pub handling_minutes: Option<u32>,
    /// CSAT 1–5.
    pub rating: Option<u8>,
}

/// What serving one ticket cost: the per-ticket cost plus the per-hour cost
/// of its handling minutes (none when unknown), rounded half up to minor
/// units.
pub fn service_cost(ticket: &TicketFacts, settings: &ServiceSettings) -> Money {
    let per_ticket = Money::from_decimal(settings.cost_per_ticket).unwrap_or(Money::ZERO);
    let per_hour = Money::from_decimal(settings.cost_per_hour).unwrap_or(Money::ZERO);
    let minutes = i128::from(ticket.handling_minutes.unwrap_or(0));
    // Integer math: per_hour (minor units) × minutes / 60, rounded half up.
    let handling = (i128::from(per_hour.0) * minutes * 2 + 60) / 120;
    Money(per_ticket.0 + i64::try_from(handling).unwrap_or(i64::MAX - per_ticket.0))
}

/// Minutes from creation to the first operator reply (SLA).
pub fn time_to_first_response(ticket: &TicketFacts) -> Option<i64> {
    minutes_between(ticket.created_at, ticket.first_response_at)
}

/// Minutes from creation to resolution (or closing, when it was never
/// marked resolved).
pub fn time_to_resolution(ticket: &TicketFacts) -> Option<i64> {
    minutes_between(ticket.created_at, ticket.resolved_at.or(ticket.closed_at))
}

fn minutes_between(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Option<i64> {
    let (from, to) = (from?, to?);
    Some((to - from).num_minutes().max(0))
}

/// The handling time a ticket without tracked minutes is given: none. A
/// help desk that reports no handling time costs only per ticket; guessing
/// from the open time would charge for nights and weekends.
pub fn handling_minutes(ticket: &TicketFacts) -> u32 {
    ticket.handling_minutes.unwrap_or(0)
}

/// Totals of a set of tickets, as a report row needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ServiceTotals {
    /// Tickets.
    pub tickets: u64,
    /// Tickets resolved or closed.
    pub resolved: u64,
    /// Tickets rated.
    pub rated: u64,
    /// Ratings of 4 or 5.
    pub satisfied: u64,
    /// Sum of ratings (for the average).
    pub rating_sum: u64,
    /// Service cost.
    pub service_cost: Money,
}

impl ServiceTotals {
    /// Adds one ticket.
    pub fn add(&mut self, ticket: &TicketFacts, settings: &ServiceSettings) {
        self.tickets += 1;
        if ticket.resolved_at.is_some() || ticket.closed_at.is_some() {
            self.resolved += 1;
        }
        if let Some(r) = ticket.rating {
            self.rated += 1;
            self.rating_sum += u64::from(r);
            if r >= 4 {
                self.satisfied += 1;
            }
        }
        self.service_cost += service_cost(ticket, settings);
    }

    /// CSAT: the percentage of ratings that are 4 or 5; `None` without ratings.
    pub fn csat(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.satisfied as f64 * 100.0 / self.rated as f64)
    }

    /// Average rating 1–5.
    pub fn avg_rating(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.rating_sum as f64 / self.rated as f64)
    }

    /// Share of tickets resolved or closed, in percent.
    pub fn resolved_share(&self) -> Option<f64> {
        (self.tickets > 0).then(|| self.resolved as f64 * 100.0 / self.tickets as f64)
    }
}

/// Tickets per sale; `None` without sales.
pub fn tickets_per_sale(tickets: u64, sales: u64) -> Option<f64> {
    (sales > 0).then(|| tickets as f64 / sales as f64)
}

/// ROI after service, percent: (revenue − ad cost − service cost) / ad cost
/// × 100; `None` without ad cost.
pub fn roi_after_service(revenue: Money, ad_cost: Money, service_cost: Money) -> Option<f64> {
    (ad_cost.0 > 0)
        .then(|| (revenue.0 - ad_cost.0 - service_cost.0) as f64 * 100.0 / ad_cost.0 as f64)
}

/// Service cost as a share of revenue, percent; `None` without revenue.
pub fn service_cost_share(service_cost: Money, revenue: Money) -> Option<f64> {
    (revenue.0 > 0).then(|| service_cost.0 as f64 * 100.0 / revenue.0 as f64)
}

/// What the operator card suggests, by what the customer is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityHint {
    /// Won revenue to date at or above `vip_ltv`.
    Vip,
    /// At or above `high_ltv`, or an open deal worth that much.
    High,
    /// Everyone else.
    Normal,
}

/// The card's priority hint: by lifetime value, raised by open deals.
pub fn priority_hint(ltv: Money, open_value: Money, settings: &ServiceSettings) -> PriorityHint {
    let vip = Money::from_decimal(settings.vip_ltv).unwrap_or(Money(i64::MAX));
    let high = Money::from_decimal(settings.high_ltv).unwrap_or(Money(i64::MAX));
    if ltv >= vip && vip.0 > 0 {
        PriorityHint::Vip
    } else if (ltv >= high || open_value >= high) && high.0 > 0 {
        PriorityHint::High
    } else {
        PriorityHint::Normal
    }
}

/// What a ticket row holds that its events change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// The latest event's time.
    pub updated_at: DateTime<Utc>,
    /// Subject.
    pub subject: Option<String>,
    /// Priority.
    pub priority: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Operator minutes so far.
    pub handling_minutes: Option<u32>,
    /// The first operator reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// CSAT 1–5.
    pub rating: Option<u8>,
    /// The help desk's status.
    pub status: Option<String>,
    /// When that status was set (older status changes do not undo it).
    pub status_at: Option<DateTime<Utc>>,
    /// Solved: the SLA's time to resolution stops here.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
}

impl TicketState {
    /// A ticket first heard of at `at`, opened at `created_at`.
    pub fn opened(created_at: DateTime<Utc>, at: DateTime<Utc>) -> TicketState {
        TicketState {
            created_at,
            updated_at: at,
            subject: None,
            priority: None,
            product: None,
            handling_minutes: None,
            first_response_at: None,
            rating: None,
            status: None,
            status_at: None,
            resolved_at: None,
            closed_at: None,
        }
    }

    /// Resolved or closed (`ticket.closed` fires when a ticket becomes so).
    pub fn is_done(&self) -> bool {
        self.closed_at.or(self.resolved_at).is_some()
    }
}

/// One help-desk event as the ticket rules read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketChange {
    /// What happened.
    pub kind: TicketEventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// When the ticket was opened, when the event says.
    pub created_at: Option<DateTime<Utc>>,
    /// Subject (`None` keeps the stored one).
    pub subject: Option<String>,
    /// Priority (`None` keeps it).
    pub priority: Option<String>,
    /// Product (`None` keeps it).
    pub product: Option<String>,
    /// Operator minutes so far (`None` keeps them).
    pub handling_minutes: Option<u32>,
    /// Rating.
    pub rating: Option<u8>,
    /// Status after the event.
    pub status: Option<String>,
    /// Where that status puts the ticket (`None`: open).
    pub status_class: Option<StatusClass>,
}

/// The ticket after one (not yet applied) event.
///
/// Descriptive fields: the latest word wins, a missing one keeps the old.
/// The creation event knows when the ticket was opened, even when a status
/// change arrived before it. The first reply is the earliest. A status
/// change older than the stored one (a late redelivery) is ignored;
/// otherwise resolving stamps `resolved_at` once (and un-closes), closing
/// stamps `closed_at` once, and reopening clears both so the SLA clock runs
/// again.
pub fn apply_ticket_event(state: &TicketState, change: &TicketChange) -> TicketState {
    let at = change.at;
    let mut next = state.clone();
    next.subject = change.subject.clone().or(next.subject);
    next.priority = change.priority.clone().or(next.priority);
    next.product = change.product.clone().or(next.product);
    next.handling_minutes = change.handling_minutes.or(next.handling_minutes);
    next.updated_at = next.updated_at.max(at);
    if change.kind == TicketEventKind::Created {
        next.created_at = change.created_at.unwrap_or(at);
    }
    if change.kind == TicketEventKind::Reply {
        next.first_response_at = Some(next.first_response_at.map_or(at, |t| t.min(at)));
    }
    if let Some(rating) = change.rating {
        next.rating = Some(rating);
    }
    if let Some(status) = &change.status {
        let stale = matches!(state.status_at, Some(set) if set > at);
        if !stale {
            next.status = Some(status.clone());
            next.status_at = Some(at);
            match change.status_class.unwrap_or(StatusClass::Open) {
                StatusClass::Resolved => {
                    next.resolved_at = next.resolved_at.or(Some(at));
                    next.closed_at = None;
                }
                StatusClass::Closed => next.closed_at = next.closed_at.or(Some(at)),
                StatusClass::Open => {
                    next.resolved_at = None;
                    next.closed_at = None;
                }
            }
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(1_700_000_000 + h * 60, 0).single()
    }

    fn cfg(per_ticket: f64, per_hour: f64) -> ServiceSettings {
        ServiceSettings {
            cost_per_ticket: per_ticket,
            cost_per_hour: per_hour,
            ..Default::default()
        }
    }

    #[test]
    fn service_cost_is_per_ticket_plus_handling_time() {
        let mut ticket = TicketFacts::default();
        assert_eq!(service_cost(&ticket, &cfg(150.0, 600.0)), Money(15_000));
        ticket.handling_minutes = Some(30);
        // 150 + 600 × 0.5 h = 450.00
        assert_eq!(service_cost(&ticket, &cfg(150.0, 600.0)), Money(45_000));
        // 1000/h × 1 min = 16.666… → 16.67 (half up)
        ticket.handling_minutes = Some(1);
        assert_eq!(service_cost(&ticket, &cfg(0.0, 1000.0)), Money(1_667));
        assert_eq!(service_cost(&ticket, &cfg(0.0, 0.0)), Money::ZERO);
    }

    #[test]
    fn sla_times() {
        let ticket = TicketFacts {
            created_at: t(0),
            first_response_at: t(12),
            resolved_at: None,
            closed_at: t(300),
            ..Default::default()
        };
        assert_eq!(time_to_first_response(&ticket), Some(12));
        assert_eq!(time_to_resolution(&ticket), Some(300));
        let resolved = TicketFacts {
            resolved_at: t(90),
            ..ticket.clone()
        };
        assert_eq!(time_to_resolution(&resolved), Some(90));
        assert_eq!(time_to_first_response(&TicketFacts::default()), None);
    }

    #[test]
    fn statuses_classify_case_insensitively() {
        let s = ServiceSettings::default();
        assert_eq!(s.classify_status("Closed"), StatusClass::Closed);
        assert_eq!(s.classify_status(" solved "), StatusClass::Resolved);
        assert_eq!(s.classify_status("open"), StatusClass::Open);
    }

    #[test]
    fn totals_give_csat_and_resolved_share() {
        let s = cfg(100.0, 0.0);
        let mut totals = ServiceTotals::default();
        for (rating, resolved) in [
            (Some(5), true),
            (Some(2), true),
            (None, false),
            (Some(4), false),
        ] {
            totals.add(
                &TicketFacts {
                    rating,
                    resolved_at: resolved.then(|| t(1)).flatten(),
                    ..Default::default()
                },
                &s,
            );
        }
        assert_eq!(totals.tickets, 4);
        assert_eq!(totals.service_cost, Money(40_000));
        assert_eq!(totals.csat(), Some(200.0 / 3.0));
        assert_eq!(totals.avg_rating(), Some(11.0 / 3.0));
        assert_eq!(totals.resolved_share(), Some(50.0));
        assert_eq!(ServiceTotals::default().csat(), None);
    }

    #[test]
    fn roi_after_service_subtracts_the_service_cost() {
        // revenue 300, ad cost 100, service 50 → (300-100-50)/100 = 150 %
        assert_eq!(
            roi_after_service(Money(30_000), Money(10_000), Money(5_000)),
            Some(150.0)
        );
        assert_eq!(roi_after_service(Money(1), Money::ZERO, Money::ZERO), None);
        assert_eq!(tickets_per_sale(3, 2), Some(1.5));
        assert_eq!(tickets_per_sale(3, 0), None);
        assert_eq!(service_cost_share(Money(50), Money(200)), Some(25.0));
    }

    #[test]
    fn priority_by_value() {
        let s = ServiceSettings::default();
        assert_eq!(
            priority_hint(Money(10_000_000), Money::ZERO, &s),
            PriorityHint::Vip
        );
        assert_eq!(
            priority_hint(Money(2_000_000), Money::ZERO, &s),
            PriorityHint::High
        );
        assert_eq!(
            priority_hint(Money::ZERO, Money(3_000_000), &s),
            PriorityHint::High
        );
        assert_eq!(
            priority_hint(Money(100), Money(100), &s),
            PriorityHint::Normal
        );
    }

    #[test]
    fn validation_names_the_path() {
        let mut s = ServiceSettings::default();
        assert!(s.validate().is_ok());
        s.cost_per_ticket = -1.0;
        assert_eq!(
            s.validate().map_err(|e| e.field),
            Err("service.cost_per_ticket".into())
        );
        let s = ServiceSettings {
            widget_secret: "short".into(),
            ..Default::default()
        };
        assert_eq!(
            s.validate().map_err(|e| e.field),
            Err("service.widget_secret".into())
        );
        let mut s = ServiceSettings::default();
        s.helpdeskeddy.enabled = true;
        s.helpdeskeddy.account = "shop".into();
        assert_eq!(
            s.validate().map_err(|e| e.field),
            Err("service.helpdeskeddy.webhook_secret".into())
        );
        s.helpdeskeddy.webhook_secret = "0123456789abcdef".into();
        s.helpdeskeddy.poll_minutes = 0;
        assert!(s.validate().is_ok());
        assert_eq!(
            s.helpdeskeddy.base_url(),
            "https://shop.helpdeskeddy.com/api/v2/"
        );
    }

    #[test]
    fn derived_event_ids_are_stable() {
        let e = TicketEvent {
            ticket_id: "7".into(),
            kind: Some(TicketEventKind::Status),
            status: Some("closed".into()),
            at: t(5),
            ..Default::default()
        };
        assert_eq!(e.idempotency_key(), e.clone().idempotency_key());
        let other = TicketEvent {
            status: Some("open".into()),
            ..e.clone()
        };
        assert_ne!(e.idempotency_key(), other.idempotency_key());
    }
}

#[cfg(test)]
mod ticket_state_tests {
    use super::*;
    use proptest::prelude::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).unwrap_or_default()
    }

    fn change(kind: TicketEventKind, at: i64) -> TicketChange {
        TicketChange {
            kind,
            at: t(at),
            created_at: None,
            subject: None,
            priority: None,
            product: None,
            handling_minutes: None,
            rating: None,
            status: None,
            status_class: None,
        }
    }

    fn status(at: i64, name: &str, class: StatusClass) -> TicketChange {
        TicketChange {
            status: Some(name.into()),
            status_class: Some(class),
            ..change(TicketEventKind::Status, at)
        }
    }

    #[test]
    fn resolve_close_and_reopen() {
        let open = TicketState::opened(t(0), t(0));
        let resolved = apply_ticket_event(&open, &status(10, "solved", StatusClass::Resolved));
        assert_eq!(resolved.resolved_at, Some(t(10)));
        assert_eq!(resolved.status.as_deref(), Some("solved"));
        assert!(resolved.is_done());
        // Solved again later: the first time stays.
        let again = apply_ticket_event(&resolved, &status(20, "solved", StatusClass::Resolved));
        assert_eq!(again.resolved_at, Some(t(10)));
        let closed = apply_ticket_event(&again, &status(30, "closed", StatusClass::Closed));
        assert_eq!(
            (closed.resolved_at, closed.closed_at),
            (Some(t(10)), Some(t(30)))
        );
        // Reopened: the SLA clock runs again.
        let reopened = apply_ticket_event(&closed, &status(40, "open", StatusClass::Open));
        assert_eq!((reopened.resolved_at, reopened.closed_at), (None, None));
        assert!(!reopened.is_done());
        // Resolving a closed ticket un-closes it.
        let re_resolved = apply_ticket_event(&closed, &status(50, "solved", StatusClass::Resolved));
        assert_eq!(
            (re_resolved.resolved_at, re_resolved.closed_at),
            (Some(t(10)), None)
        );
    }

    #[test]
    fn a_late_status_does_not_undo_a_newer_one() {
        let open = TicketState::opened(t(0), t(0));
        let closed = apply_ticket_event(&open, &status(30, "closed", StatusClass::Closed));
        let late = apply_ticket_event(&closed, &status(20, "open", StatusClass::Open));
        assert_eq!(late.status.as_deref(), Some("closed"));
        assert_eq!(late.closed_at, Some(t(30)));
        assert_eq!(late.status_at, Some(t(30)));
        // The same time is not late.
        let same = apply_ticket_event(&closed, &status(30, "open", StatusClass::Open));
        assert_eq!(same.status.as_deref(), Some("open"));
    }

    #[test]
    fn a_status_without_a_class_is_open() {
        let open = TicketState::opened(t(0), t(0));
        let closed = apply_ticket_event(&open, &status(5, "closed", StatusClass::Closed));
        let unclassified = TicketChange {
            status_class: None,
            ..status(6, "waiting", StatusClass::Closed)
        };
        assert!(!apply_ticket_event(&closed, &unclassified).is_done());
    }

    #[test]
    fn creation_replies_ratings_and_fields() {
        let first = TicketState::opened(t(5), t(5));
        let created = TicketChange {
            created_at: Some(t(1)),
            subject: Some("Broken".into()),
            ..change(TicketEventKind::Created, 3)
        };
        let s = apply_ticket_event(&first, &created);
        assert_eq!(s.created_at, t(1));
        assert_eq!(s.updated_at, t(5));
        assert_eq!(s.subject.as_deref(), Some("Broken"));
        let s = apply_ticket_event(&s, &change(TicketEventKind::Reply, 9));
        let s = apply_ticket_event(&s, &change(TicketEventKind::Reply, 7));
        assert_eq!(s.first_response_at, Some(t(7)));
        let rated = TicketChange {
            rating: Some(5),
            priority: Some("high".into()),
            ..change(TicketEventKind::Rating, 12)
        };
        let s = apply_ticket_event(&s, &rated);
        assert_eq!((s.rating, s.priority.as_deref()), (Some(5), Some("high")));
        assert_eq!(s.subject.as_deref(), Some("Broken"));
        assert_eq!(s.updated_at, t(12));
        // A creation event without a time dates the ticket at the event.
        let s = apply_ticket_event(&s, &change(TicketEventKind::Created, 2));
        assert_eq!(s.created_at, t(2));
    }

    fn any_class() -> impl Strategy<Value = Option<StatusClass>> {
        proptest::option::of(prop_oneof![
            Just(StatusClass::Open),
            Just(StatusClass::Resolved),
            Just(StatusClass::Closed)
        ])
    }

    fn any_kind() -> impl Strategy<Value = TicketEventKind> {
        prop_oneof![
            Just(TicketEventKind::Created),
            Just(TicketEventKind::Status),
            Just(TicketEventKind::Rating),
            Just(TicketEventKind::Reply)
        ]
    }

    prop_compose! {
        fn any_change()(
            kind in any_kind(),
            at in 0i64..100,
            status in proptest::option::of(Just("s".to_owned())),
            class in any_class(),
            rating in proptest::option::of(1u8..=5),
        ) -> TicketChange {
            TicketChange { status, status_class: class, rating, ..change(kind, at) }
        }
    }

    proptest! {
        #[test]
        fn status_rules_hold_for_any_event_sequence(
            changes in proptest::collection::vec(any_change(), 1..20)
        ) {
            let mut s = TicketState::opened(t(0), t(0));
            for c in &changes {
                let next = apply_ticket_event(&s, c);
                let applied = c.status.is_some() && s.status_at.is_none_or(|set| set <= c.at);
                if applied {
                    prop_assert_eq!(next.status_at, Some(c.at));
                    match c.status_class.unwrap_or(StatusClass::Open) {
                        StatusClass::Open => prop_assert!(!next.is_done()),
                        StatusClass::Resolved => {
                            prop_assert_eq!(next.closed_at, None);
                            prop_assert_eq!(next.resolved_at, s.resolved_at.or(Some(c.at)));
                        }
                        StatusClass::Closed => {
                            prop_assert_eq!(next.closed_at, s.closed_at.or(Some(c.at)));
                            prop_assert_eq!(next.resolved_at, s.resolved_at);
                        }
                    }
                } else {
                    // No status, or a late one: the status side is untouched.
                    prop_assert_eq!(&next.status, &s.status);
                    prop_assert_eq!(next.status_at, s.status_at);
                    prop_assert_eq!(next.resolved_at, s.resolved_at);
                    prop_assert_eq!(next.closed_at, s.closed_at);
                }
                // The status time never goes back; the first reply only
                // moves earlier; updated_at is the latest event.
                prop_assert!(next.status_at >= s.status_at);
                if s.first_response_at.is_some() {
                    prop_assert!(next.first_response_at <= s.first_response_at);
                }
                prop_assert_eq!(next.updated_at, s.updated_at.max(c.at));
                s = next;
            }
        }
    }
}
