//! The demo data set end to end on an embedded store: reproducible from its
//! seed, different for another seed, and shaped like a shop's funnel.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use skvoz_app::demo::{self, DemoOptions, DemoStats};
use skvoz_app::DynStore;
use skvoz_app::{App, AppError};
use skvoz_backends::{test_store, TestStore};
use skvoz_store::{Deal, Lead, Scope, Visit};
use std::collections::BTreeMap;

fn options(seed: u64, visitors: u32) -> DemoOptions {
    DemoOptions {
        days: 60,
        seed,
        visitors,
        end: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    }
}

/// Everything a run stored, in comparable form.
#[derive(Debug, PartialEq)]
struct Snapshot {
    stats: DemoStats,
    visits: Vec<Visit>,
    leads: Vec<Lead>,
    /// Deals with when they entered `new` and (if so) `won` / `lost`.
    deals: Vec<(Deal, DateTime<Utc>)>,
    won: Vec<Deal>,
    lost: usize,
}

impl Snapshot {
    fn channels(&self) -> BTreeMap<String, usize> {
        let mut by_channel = BTreeMap::new();
        for v in &self.visits {
            *by_channel.entry(v.channel.clone()).or_default() += 1;
        }
        by_channel
    }
}

/// A fresh store, the app over it, and the guard keeping its files.
async fn open() -> (TestStore, DynStore, App) {
    let (store, guard) = test_store().await.unwrap();
    let app = App::new(store.clone());
    (guard, store, app)
}

async fn run(options: DemoOptions) -> Snapshot {
    let options = &options;
    let (_guard, store, app) = open().await;
    let calls = std::sync::atomic::AtomicU64::new(0);
    let (created, stats) = demo::generate(&app, options, &|done, total| {
        assert!(done <= total);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .await
    .unwrap();
    assert!(calls.into_inner() >= 1);
    let scope = Scope::new(skvoz_domain::ProjectId(created.project_id));
    let end = Utc.from_utc_datetime(&options.end.and_hms_opt(0, 0, 0).unwrap());
    let from = end - Duration::days(i64::from(options.days) + 2);
    // Open stages are stamped with the wall clock by the deal service, so
    // stage queries reach up to now.
    let until = Utc::now() + Duration::days(1);
    let visits = store
        .visits_between(scope, from, end, 1_000_000)
        .await
        .unwrap();
    // Ticket leads are counted in `stats.tickets` (see tests/demo_tickets.rs).
    let mut leads = store.leads_between(scope, from, end).await.unwrap();
    leads.retain(|l| l.kind != skvoz_domain::crm::LeadKind::Ticket);
    let deals = store
        .deals_entering_stage(scope, "new", from, until)
        .await
        .unwrap();
    let won = store
        .deals_entering_stage(scope, "won", from, until)
        .await
        .unwrap();
    let lost = store
        .deals_entering_stage(scope, "lost", from, until)
        .await
        .unwrap();
    Snapshot {
        stats,
        visits,
        leads,
        deals,
        won: won.into_iter().map(|(d, _)| d).collect(),
        lost: lost.len(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let (a, b, c) = tokio::join!(
        run(options(42, 600)),
        run(options(42, 600)),
        run(options(43, 600))
    );
    assert_eq!(a.stats, b.stats);
    assert_eq!(a.channels(), b.channels());
    assert_eq!(a.visits, b.visits);
    assert_eq!(a.leads, b.leads);
    assert_eq!(a.deals, b.deals);
    assert_eq!(a.won, b.won);
    assert_ne!(a.stats, c.stats);
    assert_ne!(a.visits, c.visits);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_set_looks_like_a_shop() {
    let s = run(options(42, 2_000)).await;
    let stats = &s.stats;
    eprintln!("{stats:?}\n{:?}", s.channels());

    // Stats agree with what the store holds.
    assert_eq!(stats.visitors, 2_000);
    assert_eq!(stats.visits, s.visits.len() as u64);
    assert_eq!(stats.leads, s.leads.len() as u64);
    assert_eq!(stats.deals, s.deals.len() as u64);
    assert_eq!(stats.won, s.won.len() as u64);
    assert!(stats.visits > stats.visitors, "visitors come back");
    assert!(stats.hits > 2 * stats.visits, "visits see several pages");

    // Channels in believable shares.
    let channels = s.channels();
    for channel in [
        "direct",
        "organic search",
        "paid search",
        "social",
        "paid social",
        "email",
        "referral",
    ] {
        assert!(channels.contains_key(channel), "no {channel}: {channels:?}");
    }
    for (channel, n) in &channels {
        assert!(
            (*n as f64) < 0.6 * s.visits.len() as f64,
            "{channel} has {n} of {} visits",
            s.visits.len()
        );
    }
    let paid = s
        .visits
        .iter()
        .filter(|v| v.channel == "paid search")
        .collect::<Vec<_>>();
    assert!(paid.iter().all(|v| v.source.campaign.is_some()));
    assert!(paid.iter().any(|v| v.source.term.is_some()));
    assert!(paid.iter().any(|v| v.source.content.is_some()));
    assert!(s.visits.iter().any(|v| v.ga_cid.is_some()));
    assert!(s.visits.iter().any(|v| v.ym_uid.is_some()));
    assert!(s
        .visits
        .iter()
        .any(|v| v.device.device_type == skvoz_domain::traffic::DeviceType::Mobile));
    assert!(s
        .visits
        .iter()
        .any(|v| v.device.device_type == skvoz_domain::traffic::DeviceType::Desktop));

    // Visitors come back from other channels.
    let mut channels_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for v in &s.visits {
        channels_of.entry(&v.vid).or_default().push(&v.channel);
    }
    assert!(channels_of.values().any(|c| {
        let mut c = c.clone();
        c.sort_unstable();
        c.dedup();
        c.len() >= 2
    }));

    // Leads: a few percent of visitors, some duplicates, some without a
    // visit.
    let forms = s
        .leads
        .iter()
        .filter(|l| l.kind == skvoz_domain::crm::LeadKind::Form)
        .count();
    let leads = forms as f64 / stats.visitors as f64;
    assert!(
        (0.02..0.12).contains(&leads),
        "{leads} form leads per visitor"
    );
    // Target calls are leads too, fewer than forms.
    let call_leads = s
        .leads
        .iter()
        .filter(|l| l.kind == skvoz_domain::crm::LeadKind::Call)
        .count();
    assert!(
        call_leads > 0 && call_leads < forms,
        "{call_leads} call leads"
    );
    assert!(
        stats.calls as usize > call_leads,
        "not every call is a target call"
    );
    assert!(s.leads.iter().any(|l| l.is_duplicate));
    assert!(s.leads.iter().any(|l| l.visit_id.is_none()));
    assert!(s.leads.iter().filter(|l| l.visit_id.is_some()).count() > s.leads.len() / 2);
    assert!(s
        .leads
        .iter()
        .all(|l| l.contact_id.is_some() && l.deal_id.is_some()));

    // Deals: every one a form lead opened synced from the CRM (the demo's
    // CRM does not sync call deals), won with revenue in range, lost ones,
    // open ones, repeat sales.
    let call_lead_ids: std::collections::HashSet<i64> = s
        .leads
        .iter()
        .filter(|l| l.kind == skvoz_domain::crm::LeadKind::Call)
        .map(|l| l.id)
        .collect();
    let form_deals: Vec<_> = s
        .deals
        .iter()
        .filter(|(d, _)| d.lead_id.is_none_or(|l| !call_lead_ids.contains(&l)))
        .collect();
    let synced = form_deals
        .iter()
        .filter(|(d, _)| {
            d.external_id
                .as_deref()
                .is_some_and(|e| e.starts_with("demo-"))
        })
        .count();
    assert!(
        synced * 10 >= form_deals.len() * 9,
        "{synced} of {} synced",
        form_deals.len()
    );
    assert!(!s.won.is_empty());
    assert!(s
        .won
        .iter()
        .all(|d| (300_000..=15_000_000).contains(&d.revenue.0)
            && d.profit.is_some_and(|p| p.0 > 0 && p < d.revenue)
            && d.closed_at.is_some()));
    assert!(s.lost > 0);
    assert!(s
        .deals
        .iter()
        .any(|(d, _)| d.status == skvoz_domain::crm::DealStatus::Open));
    assert!(s.deals.iter().any(|(d, _)| d.is_repeat));
    assert!(s.won.iter().any(|d| d.is_repeat), "a repeat sale was won");
}

#[tokio::test]
async fn seeding_happens_once_and_a_second_demo_is_a_conflict() {
    let (_guard, _, app) = open().await;
    let seeded = demo::seed_if_empty(&app, Some("s3cret-pass"), &options(1, 50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        seeded.admin,
        Some(("admin".to_owned(), "s3cret-pass".to_owned()))
    );
    assert_eq!(seeded.stats.visitors, 50);
    assert!(demo::seed_if_empty(&app, None, &options(1, 50))
        .await
        .unwrap()
        .is_none());
    let again = demo::generate(&app, &options(1, 50), &|_, _| {}).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "{again:?}");
    let mut future = options(1, 50);
    future.end = Utc::now().date_naive() + Duration::days(2);
    assert!(matches!(
        demo::generate(&app, &future, &|_, _| {}).await,
        Err(AppError::Invalid { .. })
    ));
}
