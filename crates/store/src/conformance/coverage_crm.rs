//! Conformance tests of the CRM reads and records the other CRM tests do
//! not reach: a contact's deals, deals entering a stage, leads of a time
//! range, pull-connector runs and kept inbound payloads.

use super::{deal, lead, policy, project};
use crate::{PullRun, Scope, Store};
use chrono::{DateTime, Duration, Utc};
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind};
use skvoz_domain::ProjectId;

/// A fixed instant, whole milliseconds (what every backend keeps).
fn t0() -> DateTime<Utc> {
    "2026-04-01T09:00:00Z".parse().expect("time")
}

/// A contact's deals oldest first; deals entering a stage within `[from,
/// to)` with when; leads created within `[from, to)` oldest first — each
/// only of its project.
pub async fn contact_deals_stage_entries_and_lead_ranges_are_scoped<S: Store>(store: &S) {
    let a = project(store, "ka").await;
    let b = project(store, "kb").await;
    let d = Duration::days(1);
    let at = |w: &mut crate::DealWrite, when: DateTime<Utc>| {
        w.created_at = Some(when);
        w.at = when;
    };
    let mut x_new = deal("x", None, Some("new"), 100);
    at(&mut x_new, t0());
    let x = store.upsert_deal(a, x_new).await.expect("x");
    let contact = x.contact_id.expect("x's contact");
    let mut y_new = deal("y", None, Some("new"), 200);
    at(&mut y_new, t0() + d);
    let y = store.upsert_deal(a, y_new).await.expect("y");
    assert_eq!(y.contact_id, Some(contact), "same e-mail, same contact");
    let mut x_won = deal("x", Some(DealStatus::Won), Some("won"), 150);
    x_won.at = t0() + d * 2;
    store.upsert_deal(a, x_won).await.expect("x won");
    // Project b: a deal of the same id and client that won the same day.
    let mut b_won = deal("x", Some(DealStatus::Won), Some("won"), 999);
    at(&mut b_won, t0() + d * 2);
    let bx = store.upsert_deal(b, b_won).await.expect("b's x");

    let deals = store.deals_of_contact(a, contact).await.expect("deals");
    assert_eq!(
        deals.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![x.deal_id, y.deal_id],
        "oldest first"
    );
    assert_eq!(
        (deals[0].status, deals[0].stage.as_str()),
        (DealStatus::Won, "won")
    );
    assert!(store
        .deals_of_contact(b, contact)
        .await
        .expect("deals")
        .is_empty());

    let entering = |stage: &'static str, from: DateTime<Utc>, to: DateTime<Utc>| async move {
        store
            .deals_entering_stage(a, stage, from, to)
            .await
            .expect("entering")
            .into_iter()
            .map(|(deal, when)| (deal.id, when))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entering("won", t0(), t0() + d * 3).await,
        vec![(x.deal_id, t0() + d * 2)]
    );
    assert!(
        entering("won", t0(), t0() + d * 2).await.is_empty(),
        "the end is excluded"
    );
    assert_eq!(
        entering("new", t0(), t0() + d * 3).await,
        vec![(x.deal_id, t0()), (y.deal_id, t0() + d)],
        "in the order they entered"
    );
    let in_b = store
        .deals_entering_stage(b, "won", t0(), t0() + d * 3)
        .await
        .expect("entering");
    assert_eq!(
        in_b.iter().map(|(deal, _)| deal.id).collect::<Vec<_>>(),
        vec![bx.deal_id]
    );

    // Leads of a time range.
    let email = Identity::new(IdentityKind::Email, "d@e.ru");
    let mut early = lead(vec![email.clone()], Some("form-early"));
    early.created_at = t0() + Duration::hours(1);
    let mut late = lead(vec![email.clone()], Some("form-late"));
    late.created_at = t0() + d * 5;
    let mut other = lead(vec![email.clone()], Some("form-early"));
    other.created_at = t0() + Duration::hours(1);
    let first = store.record_lead(a, early, policy()).await.expect("lead");
    let last = store.record_lead(a, late, policy()).await.expect("lead");
    let of_b = store.record_lead(b, other, policy()).await.expect("lead");
    assert_eq!(first.contact_id, contact);
    let ids = |leads: Vec<crate::Lead>| leads.into_iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .leads_between(a, t0(), t0() + d * 5)
            .await
            .expect("leads")),
        vec![first.lead_id],
        "the end is excluded"
    );
    assert_eq!(
        ids(store
            .leads_between(a, t0(), t0() + d * 6)
            .await
            .expect("leads")),
        vec![first.lead_id, last.lead_id]
    );
    assert!(store
        .leads_between(a, t0() + d * 6, t0() + d * 7)
        .await
        .expect("leads")
        .is_empty());
    assert_eq!(
        ids(store
            .leads_between(b, t0(), t0() + d * 6)
            .await
            .expect("leads")),
        vec![of_b.lead_id]
    );
}

fn pull(day: &str, attempted_at: DateTime<Utc>, ok: bool) -> PullRun {
    PullRun {
        source: "alytics".into(),
        day: day.into(),
        attempted_at,
        ok,
        transactions: if ok { 12 } else { 0 },
        error: (!ok).then(|| "HTTP 502".to_owned()),
    }
}

/// A pull run is kept once per source and day (the latest attempt wins),
/// listed newest attempt first, at most `limit`, only in its project.
pub async fn pull_runs_keep_the_latest_attempt_per_day_and_stay_scoped<S: Store>(store: &S) {
    let a = project(store, "pa").await;
    let b = project(store, "pb").await;
    let h = Duration::hours(1);
    let failed = pull("2026-04-01", t0(), false);
    store.record_pull(a, failed.clone()).await.expect("record");
    let other_day = pull("2026-04-02", t0() + h, true);
    store
        .record_pull(a, other_day.clone())
        .await
        .expect("record");
    let retried = pull("2026-04-01", t0() + h * 2, true);
    store.record_pull(a, retried.clone()).await.expect("retry");
    store
        .record_pull(b, pull("2026-04-01", t0() + h * 3, false))
        .await
        .expect("record");

    assert_eq!(
        store.pull_runs(a, 200).await.expect("runs"),
        vec![retried.clone(), other_day],
        "one run per day, the retry replacing the failure"
    );
    assert_eq!(store.pull_runs(a, 1).await.expect("runs"), vec![retried]);
    let of_b = store.pull_runs(b, 200).await.expect("runs");
    assert_eq!(of_b.len(), 1);
    assert_eq!(
        (of_b[0].ok, of_b[0].error.as_deref()),
        (false, Some("HTTP 502"))
    );
}

/// Connectors keep every raw payload they were sent, whatever it is (not
/// JSON, large, repeated), with its outcome; never for a project that does
/// not exist. Nothing reads them back through the traits yet.
pub async fn inbound_payloads_are_kept_for_existing_projects<S: Store>(store: &S) {
    let a = project(store, "ga").await;
    let big = "{\"leads\":[".to_owned() + &"{\"id\":1},".repeat(20_000) + "{}]}";
    for (body, outcome) in [
        ("{\"event\":\"lead\"}", "recorded"),
        ("{\"event\":\"lead\"}", "recorded"),
        ("not json at all: привет", "rejected: expected value"),
        ("", "rejected: empty body"),
        (big.as_str(), "skipped"),
    ] {
        store
            .keep_payload(a, "amocrm", body, outcome)
            .await
            .expect("kept");
    }
    let missing = Scope::new(ProjectId(a.project().0 + 1_000_000));
    assert!(store
        .keep_payload(missing, "amocrm", "{}", "recorded")
        .await
        .is_err());
}
