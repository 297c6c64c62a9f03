//! Planning the people who send forms and what follows: their leads (and
//! the duplicates sent while a deal is open), their deals' way through the
//! pipeline, and repeat purchases.

use super::audience::{FEMALE_NAMES, MAIL_DOMAINS, MALE_NAMES, OPERATOR_CODES, SURNAMES};
use super::catalogue::{ACCESSORIES, CATEGORIES, CATEGORY_WEIGHTS, PRODUCT_FORMS};
use super::plan::{CrmStep, PlannedDealStep, PlannedHit, PlannedLead, PlannedVisit, Stage};
use super::random::{one, pick, secs};
use super::traffic::{Arrival, REPEAT_ARRIVALS};
use super::visitors::Planner;
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use skvoz_domain::Money;

impl Planner {
    /// A person who sent a form: identity, the first lead, its deal's way
    /// through the pipeline, a duplicate form now and then, and repeat
    /// purchases after a won deal.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn plan_customer(
        &self,
        rng: &mut StdRng,
        i: u64,
        visits: &mut Vec<PlannedVisit>,
        arrivals: &[Arrival],
        lead_visit: usize,
        interest: usize,
        crm: &mut Vec<CrmStep>,
    ) {
        let person = Person::new(rng, self.seed, i);
        let (with_phone, with_email) = match rng.gen_range(0..100) {
            0..=54 => (true, false),
            55..=89 => (true, true),
            _ => (false, true),
        };
        let lead_hit = visits[lead_visit].hits.len() - 1;
        let t0 = visits[lead_visit].hits[lead_hit].at + Duration::seconds(1);
        let product = rng.gen_range(0..CATEGORIES[interest].products.len());
        // Some site forms pass no visit code: those leads stay unattributed.
        let attributed = !rng.gen_bool(0.08);
        crm.push(CrmStep::Lead(person.lead(
            rng,
            t0,
            attributed.then_some((lead_visit, lead_hit)),
            visits[lead_visit].hits[lead_hit].form.unwrap_or("callback"),
            with_phone,
            with_email,
            Some(CATEGORIES[interest].products[product].name),
        )));
        let path = deal_path(rng, t0, false);
        let closes = path.last().filter(|(_, s)| s.is_closed()).map(|(t, _)| *t);

        // The same person again while the deal is open: a second form in
        // the same visit, or on a later visit.
        if rng.gen_bool(0.15) {
            let until = closes.unwrap_or(self.end).min(t0 + Duration::days(5));
            if rng.gen_bool(0.3) {
                let at = t0 + secs(rng, 60, 300);
                if at < until {
                    let form = *pick(rng, PRODUCT_FORMS);
                    add_form_at(&mut visits[lead_visit].hits, at, form);
                    let hit = visits[lead_visit].hits.len() - 1;
                    crm.push(CrmStep::Lead(person.lead(
                        rng,
                        at + Duration::seconds(1),
                        Some((lead_visit, hit)),
                        form,
                        with_phone,
                        with_email,
                        None,
                    )));
                }
            } else if until > t0 + Duration::hours(2) {
                let span = (until - t0).num_seconds();
                let at = t0 + secs(rng, 2 * 3600, span);
                let at = self.free_start(visits, at, rng);
                let arrival = if rng.gen_bool(0.6) {
                    Arrival::Direct
                } else {
                    arrivals[lead_visit]
                };
                let mut topic = interest;
                let visit = self.visit(rng, at, arrival, &mut topic, false, true);
                let hit = visit.hits.len() - 1;
                let lead_at = visit.hits[hit].at + Duration::seconds(1);
                let form = visit.hits[hit].form.unwrap_or("callback");
                if lead_at < until {
                    visits.push(visit);
                    crm.push(CrmStep::Lead(person.lead(
                        rng,
                        lead_at,
                        Some((visits.len() - 1, hit)),
                        form,
                        with_phone,
                        with_email,
                        None,
                    )));
                }
            }
        }
        let mut won_at = self.push_deal(
            rng,
            crm,
            &person,
            0,
            t0,
            &path,
            (interest, product),
            with_phone,
            with_email,
        );

        // Happy customers come back weeks later for something else.
        let mut deal = 1;
        while let Some(won) = won_at {
            if deal > 2 || !rng.gen_bool(0.3) {
                break;
            }
            let at = won + secs(rng, 10 * 86_400, 45 * 86_400);
            let at = self.free_start(visits, at, rng);
            if at >= self.end {
                break;
            }
            let arrival = *pick(rng, REPEAT_ARRIVALS);
            let mut topic = if rng.gen_bool(0.5) {
                ACCESSORIES
            } else {
                *pick(rng, CATEGORY_WEIGHTS)
            };
            let visit = self.visit(rng, at, arrival, &mut topic, false, true);
            let hit = visit.hits.len() - 1;
            let t = visit.hits[hit].at + Duration::seconds(1);
            let form = visit.hits[hit].form.unwrap_or("callback");
            visits.push(visit);
            let product = rng.gen_range(0..CATEGORIES[topic].products.len());
            crm.push(CrmStep::Lead(person.lead(
                rng,
                t,
                Some((visits.len() - 1, hit)),
                form,
                with_phone,
                with_email,
                Some(CATEGORIES[topic].products[product].name),
            )));
            let path = deal_path(rng, t, true);
            won_at = self.push_deal(
                rng,
                crm,
                &person,
                deal,
                t,
                &path,
                (topic, product),
                with_phone,
                with_email,
            );
            deal += 1;
        }
    }

    /// The CRM's updates of one deal along `path`; returns when it was won.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_deal(
        &self,
        rng: &mut StdRng,
        crm: &mut Vec<CrmStep>,
        person: &Person,
        deal: u32,
        created_at: DateTime<Utc>,
        path: &[(DateTime<Utc>, Stage)],
        (category, product): (usize, usize),
        with_phone: bool,
        with_email: bool,
    ) -> Option<DateTime<Utc>> {
        let category = &CATEGORIES[category];
        let product = &category.products[product];
        let quantity = if category.slug == "accessories" && rng.gen_bool(0.2) {
            2
        } else {
            1
        };
        let discount = if rng.gen_bool(0.2) { 95 } else { 100 };
        let rubles = product.price * quantity * discount / 100 / 10 * 10;
        let margin = rng.gen_range(category.margin.0..=category.margin.1);
        let revenue = Money(rubles * 100);
        let profit = Money(rubles * margin);
        let mut won_at = None;
        for &(at, stage) in path {
            let won = stage == Stage::Won;
            if won && at < self.end {
                won_at = Some(at);
            }
            crm.push(CrmStep::Deal(PlannedDealStep {
                at,
                deal,
                stage,
                created_at,
                revenue: won.then_some(revenue),
                profit: won.then_some(profit),
                product: (stage != Stage::New).then_some(product.name),
                // The CRM keeps numbers in E.164.
                phone: with_phone.then(|| format!("+7{}", person.phone)),
                email: with_email.then(|| person.email.clone()),
            }));
        }
        won_at
    }
}

/// Appends a `form_submit` event a little after the visit's last hit.
pub(super) fn add_form(rng: &mut StdRng, hits: &mut Vec<PlannedHit>, form: &'static str) {
    let at = hits.last().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at) + secs(rng, 20, 150);
    add_form_at(hits, at, form);
}

/// Appends a `form_submit` event on the visit's last page.
pub(super) fn add_form_at(hits: &mut Vec<PlannedHit>, at: DateTime<Utc>, form: &'static str) {
    if let Some(last) = hits.last() {
        let event = PlannedHit {
            at,
            url: last.url.clone(),
            referrer: last.referrer.clone(),
            title: last.title.clone(),
            form: Some(form),
        };
        hits.push(event);
    }
}

/// How a deal opened at `opened` moves: the CRM picks it up as `new`
/// minutes later, then it qualifies, gets a proposal, and is won or lost —
/// or stalls in an open stage. Returning customers convert more often.
pub(super) fn deal_path(
    rng: &mut StdRng,
    opened: DateTime<Utc>,
    repeat: bool,
) -> Vec<(DateTime<Utc>, Stage)> {
    // (advance, lost when not advancing) per open stage.
    let odds: [(f64, f64); 3] = if repeat {
        [(0.85, 0.5), (0.85, 0.3), (0.8, 0.5)]
    } else {
        [(0.6, 0.55), (0.667, 0.25), (0.625, 0.2)]
    };
    let mut at = opened + secs(rng, 120, 1200);
    let mut path = vec![(at, Stage::New)];
    let delays = [
        (3600, 36 * 3600),
        (12 * 3600, 5 * 86_400),
        (86_400, 10 * 86_400),
    ];
    for (n, next) in [Stage::Qualified, Stage::Proposal, Stage::Won]
        .into_iter()
        .enumerate()
    {
        let (advance, lost) = odds[n];
        if rng.gen_bool(advance) {
            at += secs(rng, delays[n].0, delays[n].1);
            path.push((at, next));
            if next.is_closed() {
                break;
            }
        } else {
            if rng.gen_bool(lost) {
                at += secs(rng, 86_400, 7 * 86_400);
                path.push((at, Stage::Lost));
            }
            break;
        }
    }
    path
}

/// Someone who sent a form.
pub(super) struct Person {
    pub(super) name: String,
    pub(super) first_name: &'static str,
    /// Ten digits after +7.
    pub(super) phone: String,
    pub(super) email: String,
}

impl Person {
    pub(super) fn new(rng: &mut StdRng, seed: u64, i: u64) -> Person {
        let female = rng.gen_bool(0.55);
        let (first, first_latin) = *one(rng, if female { FEMALE_NAMES } else { MALE_NAMES });
        let (last, last_latin) = *one(rng, SURNAMES);
        let (last, last_latin) = if female {
            (format!("{last}а"), format!("{last_latin}a"))
        } else {
            (last.to_owned(), last_latin.to_owned())
        };
        // Unique per visitor (the multiplier is coprime to 10^7), so two
        // people never share a number by accident.
        let local = (i % 10_000_000 * 7_919_821 + seed % 10_000_000) % 10_000_000;
        let phone = format!("{}{local:07}", one(rng, OPERATOR_CODES));
        let mailbox = match rng.gen_range(0..4) {
            0 => format!("{first_latin}.{last_latin}{i}"),
            1 => format!("{last_latin}.{first_latin}{i}"),
            2 => format!("{first_latin}{i}"),
            _ => format!("{last_latin}_{i}"),
        };
        let email = format!("{mailbox}@{}", pick(rng, MAIL_DOMAINS));
        Person {
            name: format!("{first} {last}"),
            first_name: first,
            phone,
            email,
        }
    }

    /// A phone as people type it into forms.
    pub(super) fn phone_text(&self, rng: &mut StdRng) -> String {
        let p = &self.phone;
        match rng.gen_range(0..5) {
            0 => format!("+7 ({}) {}-{}-{}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
            1 => format!("8{p}"),
            2 => format!("+7{p}"),
            3 => format!("8 {} {} {} {}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
            _ => format!("8({}){}-{}-{}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn lead(
        &self,
        rng: &mut StdRng,
        at: DateTime<Utc>,
        hit_ref: Option<(usize, usize)>,
        form: &'static str,
        with_phone: bool,
        with_email: bool,
        product: Option<&'static str>,
    ) -> PlannedLead {
        let name = match rng.gen_range(0..10) {
            0..=5 => Some(self.first_name.to_owned()),
            6..=8 => Some(self.name.clone()),
            _ => None,
        };
        PlannedLead {
            at,
            hit: None,
            hit_ref,
            form,
            phone: with_phone.then(|| self.phone_text(rng)),
            email: with_email.then(|| self.email.clone()),
            name,
            product,
        }
    }
}
