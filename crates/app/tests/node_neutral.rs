//! Two processes on one store: a lead recorded through one is in the other's
//! warm reports (the report revision is stored, not per process).

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_app::crm::LeadInput;
use skvoz_app::reports::ReportParams;
use skvoz_app::DynStore;
use skvoz_app::{App, AppOptions};
use skvoz_backends::test_store;
use skvoz_domain::ProjectId;
use skvoz_store::Scope;

fn open(store: DynStore) -> App {
    App::with_options(store, AppOptions::default())
}

fn params() -> ReportParams {
    let today = Utc::now().date_naive();
    ReportParams {
        from: Some((today - Duration::days(90)).to_string()),
        to: Some(today.to_string()),
        model: Some("last_non_direct".to_owned()),
        group_by: Some("channel".to_owned()),
        ..ReportParams::default()
    }
}

async fn leads_total(app: &App, project: ProjectId) -> f64 {
    let ctx = app.contexts.by_id(project).await.unwrap();
    let report = app.reports.channels(&ctx, &params()).await.unwrap().json;
    report["totals"]["leads"]
        .as_f64()
        .unwrap_or_else(|| panic!("no leads total in {}", report["totals"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_written_through_another_store_handle_reaches_warm_reports() {
    let (store, guard) = test_store().await.unwrap();
    let reporting = open(store);
    let options = skvoz_app::demo::DemoOptions {
        visitors: 200,
        seed: 3,
        ..Default::default()
    };
    let (created, _) = skvoz_app::demo::generate(&reporting, &options, &|_, _| {})
        .await
        .unwrap();
    let project = ProjectId(created.project_id);
    // The index is warm: its CRM facts carry the revision it read.
    let before = leads_total(&reporting, project).await;
    assert_eq!(leads_total(&reporting, project).await, before);

    // Another process on the same file records a lead on a recent visit.
    let second = guard.reopen().await.unwrap();
    let writing = open(second.clone());
    let now = Utc::now();
    let visit = second
        .visits_between(Scope::new(project), now - Duration::days(30), now, 1)
        .await
        .unwrap()
        .pop()
        .expect("a demo visit in the last 30 days");
    let ctx = writing.contexts.by_id(project).await.unwrap();
    let input: LeadInput = serde_json::from_value(json!({
        "vid": visit.vid, "email": "second-handle@example.com",
        "created_at": visit.started_at + Duration::minutes(1),
    }))
    .unwrap();
    writing.leads.create_form_lead(&ctx, input).await.unwrap();
    writing.shutdown().await.unwrap();

    assert_eq!(
        leads_total(&reporting, project).await,
        before + 1.0,
        "the warm index reloaded the facts another handle changed"
    );
    reporting.shutdown().await.unwrap();
}
