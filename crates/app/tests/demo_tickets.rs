//! The demo data set's support tickets: statuses, ratings and handling
//! times, reproducible from the seed, each ticket a lead of its contact
//! that opened no deal, and skewed by channel so that paid social and
//! messengers bring more tickets per customer than e-mail and organic
//! search.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use skvoz_app::demo::{self, DemoOptions};
use skvoz_app::App;
use skvoz_app::DynStore;
use skvoz_backends::{test_store, TestStore};
use skvoz_domain::crm::LeadKind;
use skvoz_domain::ProjectId;
use skvoz_store::{Scope, Ticket};
use std::collections::{BTreeMap, HashSet};

/// The demo on a fresh store: the app, its store, the guard keeping the
/// store's files, the project and how many tickets were made.
async fn run(seed: u64) -> (App, DynStore, TestStore, i64, u64) {
    let (store, guard) = test_store().await.unwrap();
    let app = App::new(store.clone());
    let options = DemoOptions {
        days: 60,
        seed,
        visitors: 4_000,
        end: NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
    };
    let (created, stats) = demo::generate(&app, &options, &|_, _| {}).await.unwrap();
    (app, store, guard, created.project_id, stats.tickets)
}

fn key(t: &Ticket) -> (String, i64, Option<String>, Option<u8>, Option<u32>) {
    (
        t.external_id.clone(),
        t.created_at.timestamp(),
        t.status.clone(),
        t.rating,
        t.handling_minutes,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tickets_are_reproducible_and_skewed_by_channel() {
    let (app, store, _guard, pid, count) = run(42).await;
    let scope = Scope::new(ProjectId(pid));
    let from = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let tickets = store
        .tickets_between(scope, from, end + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(tickets.len() as u64, count);
    assert!(count >= 30, "{count} tickets");
    assert!(tickets
        .iter()
        .all(|t| t.created_at < end && t.contact_id.is_some()));
    let statuses: HashSet<_> = tickets.iter().filter_map(|t| t.status.as_deref()).collect();
    assert!(
        statuses.contains("closed") && statuses.contains("solved"),
        "{statuses:?}"
    );
    assert!(tickets.iter().any(|t| t.rating.is_some_and(|r| r <= 3)));
    assert!(tickets.iter().any(|t| t.rating.is_some_and(|r| r >= 4)));
    assert!(tickets.iter().any(|t| t.rating.is_none()));
    assert!(tickets
        .iter()
        .all(|t| t.first_response_at.is_some_and(|r| r > t.created_at)));
    assert!(
        tickets
            .iter()
            .filter(|t| t.handling_minutes.is_some())
            .count()
            > tickets.len() / 2
    );

    // Ticket leads opened no deals.
    let leads = store.leads_between(scope, from, end).await.unwrap();
    let ticket_leads: Vec<_> = leads
        .iter()
        .filter(|l| l.kind == LeadKind::Ticket)
        .collect();
    assert_eq!(ticket_leads.len() as u64, count);
    assert!(ticket_leads.iter().all(|l| l.deal_id.is_none()));

    // Tickets per contact with a lead, by acquisition channel.
    let ctx = app.contexts.by_id(ProjectId(pid)).await.unwrap();
    let (rows, total) = app
        .tickets
        .service_by_channel(&ctx, from, end)
        .await
        .unwrap();
    assert_eq!(total.tickets, count);
    assert!(total.service_cost.0 > 0, "demo settings price tickets");
    let mut contacts: BTreeMap<String, HashSet<i64>> = BTreeMap::new();
    let form_contacts: Vec<i64> = leads
        .iter()
        .filter(|l| l.kind == LeadKind::Form)
        .map(|l| l.contact_id.unwrap())
        .collect();
    // The report's batched lookup agrees with the operator card's, contact
    // by contact.
    let batched = store
        .first_visit_channels(scope, form_contacts.clone())
        .await
        .unwrap();
    assert!(!batched.is_empty());
    for &c in &form_contacts {
        let visits = store.contact_visits(scope, c).await.unwrap();
        let first = visits.first.map(|v| v.channel);
        assert_eq!(batched.get(&c), first.as_ref(), "contact {c}");
        let channel = first.unwrap_or_else(|| "direct".to_owned());
        contacts.entry(channel).or_default().insert(c);
    }
    let rate = |channels: &[&str]| {
        let tickets: u64 = rows
            .iter()
            .filter(|r| channels.contains(&r.channel.as_str()))
            .map(|r| r.totals.tickets)
            .sum();
        let people: usize = channels
            .iter()
            .map(|c| contacts.get(*c).map_or(0, HashSet::len))
            .sum();
        tickets as f64 / people.max(1) as f64
    };
    let problem = rate(&["paid social", "social", "messengers"]);
    let calm = rate(&["email", "organic search"]);
    eprintln!("{rows:#?}\nproblem {problem:.3} calm {calm:.3}");
    assert!(problem > 1.5 * calm, "problem {problem} vs calm {calm}");

    // The same seed gives the same tickets.
    let (_app2, store2, _guard2, pid2, count2) = run(42).await;
    let again = store2
        .tickets_between(Scope::new(ProjectId(pid2)), from, end + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(count2, count);
    assert_eq!(
        tickets.iter().map(key).collect::<Vec<_>>(),
        again.iter().map(key).collect::<Vec<_>>()
    );
}
