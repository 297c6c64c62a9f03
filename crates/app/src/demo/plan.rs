//! What planning produces and replaying consumes: a visitor's browser, its
//! visits and hits, and its CRM steps (leads and deal updates).

use crate::tracking::input::HitFields;
use crate::tracking::HitInput;
use chrono::{DateTime, Utc};
use skvoz_domain::Money;

/// One page view or event as the site script would send it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedHit {
    pub(super) at: DateTime<Utc>,
    pub(super) url: String,
    pub(super) referrer: Option<String>,
    pub(super) title: Option<String>,
    /// A `form_submit` event of this form, rather than a page view.
    pub(super) form: Option<&'static str>,
}

/// One visit as planned (sessionization decides the stored visits; a visit
/// across local midnight becomes two).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedVisit {
    pub(super) hits: Vec<PlannedHit>,
}

impl PlannedVisit {
    pub(super) fn start(&self) -> DateTime<Utc> {
        self.hits.first().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at)
    }

    pub(super) fn end(&self) -> DateTime<Utc> {
        self.hits.last().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at)
    }
}

/// A visitor's browser, hits and CRM events, ready to replay.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedVisitor {
    pub(super) crawler: bool,
    pub(super) vid: String,
    pub(super) ua: &'static str,
    pub(super) screen: Option<&'static str>,
    pub(super) lang: Option<&'static str>,
    pub(super) tz: Option<&'static str>,
    pub(super) ga_cid: Option<String>,
    pub(super) ym_uid: Option<String>,
    /// All hits, in time order.
    pub(super) hits: Vec<PlannedHit>,
    /// Leads and deal updates, in time order.
    pub(super) crm: Vec<CrmStep>,
}

impl PlannedVisitor {
    pub(super) fn input(&self, hit: &PlannedHit) -> HitInput {
        let props = hit.form.map(|form| {
            let mut m = serde_json::Map::new();
            m.insert("form".into(), form.into());
            m
        });
        HitInput {
            fields: HitFields {
                key: None,
                vid: Some(self.vid.clone()),
                url: hit.url.clone(),
                referrer: hit.referrer.clone(),
                title: hit.title.clone(),
                screen: self.screen.map(str::to_owned),
                lang: self.lang.map(str::to_owned),
                tz: self.tz.map(str::to_owned),
                ga_cid: self.ga_cid.clone(),
                ym_uid: self.ym_uid.clone(),
                event: hit.form.map(|_| "form_submit".to_owned()),
                props,
            },
            at: hit.at,
            explicit_time: true,
            ip: None,
            ua: Some(self.ua.to_owned()),
        }
    }
}

/// A lead or a deal update.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum CrmStep {
    Lead(PlannedLead),
    Deal(PlannedDealStep),
}

impl CrmStep {
    pub(super) fn at(&self) -> DateTime<Utc> {
        match self {
            CrmStep::Lead(l) => l.at,
            CrmStep::Deal(d) => d.at,
        }
    }
}

/// A site form sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedLead {
    pub(super) at: DateTime<Utc>,
    /// The hit (index into the visitor's hits) whose visit code the form
    /// passed; `None` for a form that passed none.
    pub(super) hit: Option<usize>,
    /// Before hits are flattened: (visit, hit in visit).
    pub(super) hit_ref: Option<(usize, usize)>,
    pub(super) form: &'static str,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) name: Option<String>,
    pub(super) product: Option<&'static str>,
}

/// The pipeline stages the demo uses (the default pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    New,
    Qualified,
    Proposal,
    Won,
    Lost,
}

impl Stage {
    pub(super) fn name(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Qualified => "qualified",
            Stage::Proposal => "proposal",
            Stage::Won => "won",
            Stage::Lost => "lost",
        }
    }

    pub(super) fn is_closed(self) -> bool {
        matches!(self, Stage::Won | Stage::Lost)
    }
}

/// The CRM reporting a deal in a stage.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlannedDealStep {
    pub(super) at: DateTime<Utc>,
    /// The visitor's deal this is (0 = first; `demo-<n>` is numbered when
    /// replayed).
    pub(super) deal: u32,
    pub(super) stage: Stage,
    pub(super) created_at: DateTime<Utc>,
    pub(super) revenue: Option<Money>,
    pub(super) profit: Option<Money>,
    pub(super) product: Option<&'static str>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
}
