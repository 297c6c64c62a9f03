//! Planning visitors and their visits: when they come back, how each visit
//! arrives, the pages it walks through, and the crawlers beside them.

use super::audience::{CRAWLERS, DEVICES, HOURS, LANGS, TIME_ZONES};
use super::catalogue::{CART_FORMS, CATEGORIES, CATEGORY_WEIGHTS, PRODUCT_FORMS};
use super::leads::add_form;
use super::plan::{CrmStep, PlannedHit, PlannedVisit, PlannedVisitor};
use super::random::{one, pick, secs, stream};
use super::traffic::{landing, next_page, Arrival, Page, FIRST_ARRIVALS, RETURN_ARRIVALS};
use super::{DemoOptions, SITE};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::Rng;
use std::fmt::Write as _;

/// Percent-encodes a query value. By hand: the values are this module's own
/// fixed strings, not worth a URL dependency of the application crate.
pub(super) fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Plans visitors: the calendar of a run and the tables.
pub(super) struct Planner {
    pub(super) seed: u64,
    pub(super) days: u32,
    pub(super) first_day: NaiveDate,
    pub(super) end: DateTime<Utc>,
    pub(super) tz: Tz,
    /// Cumulative weights of the days (weekly rhythm, slow growth).
    pub(super) day_weights: Vec<f64>,
}

impl Planner {
    pub(super) fn new(options: &DemoOptions, tz: Tz) -> Planner {
        let first_day = options.end - Duration::days(i64::from(options.days));
        let mut acc = 0.0;
        let day_weights = (0..options.days)
            .map(|d| {
                let date = first_day + Duration::days(i64::from(d));
                let weekday = [1.05, 1.05, 1.0, 1.0, 0.95, 0.8, 0.9]
                    [date.weekday().num_days_from_monday() as usize];
                let trend = 0.85 + 0.3 * f64::from(d) / f64::from(options.days);
                acc += weekday * trend;
                acc
            })
            .collect();
        Planner {
            seed: options.seed,
            days: options.days,
            first_day,
            end: Utc.from_utc_datetime(&options.end.and_time(NaiveTime::MIN)),
            tz,
            day_weights,
        }
    }

    pub(super) fn date(&self, day: u32) -> NaiveDate {
        self.first_day + Duration::days(i64::from(day))
    }

    /// The instant of `seconds` after local midnight of `day`.
    pub(super) fn at(&self, day: u32, seconds: u32) -> DateTime<Utc> {
        let local = self.date(day).and_time(NaiveTime::MIN) + Duration::seconds(i64::from(seconds));
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    /// The local day of an instant, as an index (may be out of range).
    pub(super) fn day_of(&self, at: DateTime<Utc>) -> i64 {
        (at.with_timezone(&self.tz).date_naive() - self.first_day).num_days()
    }

    pub(super) fn random_day(&self, rng: &mut StdRng) -> u32 {
        let total = self.day_weights.last().copied().unwrap_or(1.0);
        let roll = rng.gen_range(0.0..total);
        self.day_weights.partition_point(|&w| w <= roll) as u32
    }

    /// A local time of day, following the shop's daily curve.
    pub(super) fn random_time(rng: &mut StdRng) -> u32 {
        let hour = *pick(rng, HOURS);
        hour * 3600 + rng.gen_range(0..3600)
    }

    /// A crawler for some visitor indices (about one in 25).
    pub(super) fn crawler(&self, i: u64) -> Option<PlannedVisitor> {
        let mut rng = stream(self.seed, i, 1);
        if !rng.gen_ratio(1, 25) {
            return None;
        }
        let ua = *one(&mut rng, CRAWLERS);
        let mut hits: Vec<PlannedHit> = (0..rng.gen_range(2..15))
            .map(|_| {
                let day = rng.gen_range(0..self.days);
                let at = self.at(day, rng.gen_range(0..86_400));
                let cat = rng.gen_range(0..CATEGORIES.len());
                let page = match rng.gen_range(0..3) {
                    0 => Page::Catalog(cat),
                    1 => Page::Product(cat, rng.gen_range(0..CATEGORIES[cat].products.len())),
                    _ => Page::Home,
                };
                PlannedHit {
                    at,
                    url: format!("{SITE}{}", page.path()),
                    referrer: None,
                    title: None,
                    form: None,
                }
            })
            .filter(|h| h.at < self.end)
            .collect();
        hits.sort_by_key(|h| h.at);
        Some(PlannedVisitor {
            crawler: true,
            vid: format!("{:016x}{:08x}", rng.gen::<u64>(), rng.gen::<u32>()),
            ua,
            screen: None,
            lang: None,
            tz: None,
            ga_cid: None,
            ym_uid: None,
            hits,
            crm: Vec::new(),
        })
        .filter(|c| !c.hits.is_empty())
    }

    /// Visitor `i`: browser, visits over the days, and — for those who send
    /// a form — leads and the deals they open.
    pub(super) fn visitor(&self, i: u64) -> PlannedVisitor {
        let mut rng = stream(self.seed, i, 0);
        let rng = &mut rng;
        let device = pick(rng, DEVICES);
        let screen = *one(rng, device.screens);
        let lang = *pick(rng, LANGS);
        let tz = *pick(rng, TIME_ZONES);
        let vid = format!("{:016x}{:08x}", rng.gen::<u64>(), rng.gen::<u32>());
        let first_day = self.random_day(rng);
        let first_at = self.at(first_day, Self::random_time(rng));
        let ga_cid = rng.gen_bool(0.35).then(|| {
            format!(
                "{}.{}",
                rng.gen_range(100_000_000..2_147_483_647u32),
                first_at.timestamp()
            )
        });
        let ym_uid = rng.gen_bool(0.6).then(|| {
            format!(
                "{}{}",
                first_at.timestamp(),
                rng.gen_range(100_000_000..1_000_000_000u32)
            )
        });

        // Visits: most people come once; some come back on later days,
        // from other sources.
        let count = match rng.gen_range(0..100) {
            0..=61 => 1,
            62..=81 => 2,
            82..=90 => 3,
            91..=95 => 4,
            _ => rng.gen_range(5..=8),
        };
        let mut interest = *pick(rng, CATEGORY_WEIGHTS);
        let mut visits: Vec<PlannedVisit> = Vec::new();
        let mut arrivals: Vec<Arrival> = Vec::new();
        let mut lead_visit: Option<usize> = None;
        let mut start = first_at;
        for n in 0..count {
            if n > 0 {
                // Back after a few days (sometimes the same day, hours later).
                let gap_days = (-3.5 * (1.0 - rng.gen::<f64>()).ln()) as i64;
                let day = self.day_of(start) + gap_days;
                let candidate = if gap_days == 0 {
                    start + secs(rng, 2 * 3600, 8 * 3600)
                } else {
                    match u32::try_from(day) {
                        Ok(day) if day < self.days => self.at(day, Self::random_time(rng)),
                        _ => break,
                    }
                };
                start = self.free_start(&visits, candidate, rng);
            }
            if start >= self.end {
                break;
            }
            let arrival = *pick(
                rng,
                if n == 0 {
                    FIRST_ARRIVALS
                } else {
                    RETURN_ARRIVALS
                },
            );
            let rate = 0.024 * arrival.conversion() * if n > 0 { 1.6 } else { 1.0 };
            let converts = lead_visit.is_none() && rng.gen_bool(rate.min(1.0));
            let visit = self.visit(rng, start, arrival, &mut interest, n == 0, converts);
            if converts {
                lead_visit = Some(visits.len());
            }
            visits.push(visit);
            arrivals.push(arrival);
        }

        let mut crm = Vec::new();
        if let Some(v) = lead_visit {
            self.plan_customer(rng, i, &mut visits, &arrivals, v, interest, &mut crm);
        }
        self.finish(
            PlannedVisitor {
                crawler: false,
                vid,
                ua: device.ua,
                screen: Some(screen),
                lang: Some(lang),
                tz: Some(tz),
                ga_cid,
                ym_uid,
                hits: Vec::new(),
                crm,
            },
            visits,
        )
    }

    /// Moves a visit's start clear of the visitor's other visits.
    pub(super) fn free_start(
        &self,
        visits: &[PlannedVisit],
        mut at: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> DateTime<Utc> {
        let margin = Duration::minutes(45);
        while let Some(busy) = visits
            .iter()
            .find(|v| at > v.start() - margin && at < v.end() + margin)
        {
            at = busy.end() + margin + secs(rng, 0, 3 * 3600);
        }
        at
    }

    /// Orders visits, drops what falls after the end, and points leads at
    /// hits.
    pub(super) fn finish(
        &self,
        mut visitor: PlannedVisitor,
        mut visits: Vec<PlannedVisit>,
    ) -> PlannedVisitor {
        // Visits never overlap, so ordering by start orders all hits; the
        // lead references follow the visits they point at.
        let mut order: Vec<usize> = (0..visits.len()).collect();
        order.sort_by_key(|&v| visits[v].start());
        let mut flat_start = vec![0; visits.len()];
        let mut hits = Vec::new();
        for &v in &order {
            flat_start[v] = hits.len();
            hits.append(&mut visits[v].hits);
        }
        let kept = hits.partition_point(|h: &PlannedHit| h.at < self.end);
        hits.truncate(kept);
        visitor.hits = hits;
        visitor.crm.retain(|s| s.at() < self.end);
        for step in &mut visitor.crm {
            if let CrmStep::Lead(lead) = step {
                lead.hit = lead
                    .hit_ref
                    .map(|(v, h)| flat_start[v] + h)
                    .filter(|&h| h < kept);
            }
        }
        visitor.crm.sort_by_key(CrmStep::at);
        visitor
    }

    /// One visit: a landing from `arrival`, a walk through the shop, and
    /// with `converts` a form sent at the end.
    pub(super) fn visit(
        &self,
        rng: &mut StdRng,
        start: DateTime<Utc>,
        arrival: Arrival,
        interest: &mut usize,
        first: bool,
        converts: bool,
    ) -> PlannedVisit {
        let date = start.with_timezone(&self.tz).date_naive();
        let (page, query, referrer) = landing(rng, arrival, interest, first, date);
        let mut url = format!("{SITE}{}{query}", page.path());
        let mut hits = vec![PlannedHit {
            at: start,
            url: url.clone(),
            referrer,
            title: Some(page.title()),
            form: None,
        }];
        let pages = if converts {
            rng.gen_range(3..9)
        } else if rng.gen_bool(arrival.bounce_rate()) {
            1
        } else {
            2 + (-2.2 * (1.0 - rng.gen::<f64>()).ln()) as usize
        }
        .min(20);
        let mut at = start;
        let mut current = page;
        for n in 1..pages {
            let mut next = next_page(rng, current, *interest);
            if converts && n == pages - 1 && !matches!(next, Page::Product(..) | Page::Cart) {
                next = Page::Product(
                    *interest,
                    rng.gen_range(0..CATEGORIES[*interest].products.len()),
                );
            }
            at += secs(rng, 15, 240);
            let next_url = format!("{SITE}{}", next.path());
            hits.push(PlannedHit {
                at,
                url: next_url.clone(),
                referrer: Some(url),
                title: Some(next.title()),
                form: None,
            });
            url = next_url;
            current = next;
        }
        if converts {
            let form = *pick(
                rng,
                if matches!(current, Page::Cart) {
                    CART_FORMS
                } else {
                    PRODUCT_FORMS
                },
            );
            add_form(rng, &mut hits, form);
        }
        PlannedVisit { hits }
    }
}
