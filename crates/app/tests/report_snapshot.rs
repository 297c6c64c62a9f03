//! Report index snapshots: a fresh process that starts a project's index
//! from its snapshot answers exactly what a fresh process reading every row
//! answers — after late-committed visits and new leads, deals and costs,
//! and when the snapshot is corrupt, another project's, or another
//! database's.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use skvoz_app::crm::{LeadInput, Strictness};
use skvoz_app::reports::costs::CostInput;
use skvoz_app::reports::{ReportParams, SnapshotOptions};
use skvoz_app::DynStore;
use skvoz_app::{App, AppOptions};
use skvoz_backends::{test_store, TestStore};
use skvoz_domain::crm::DealUpdate;
use skvoz_domain::traffic::{classify, parse_user_agent};
use skvoz_domain::{Money, ProjectId};
use skvoz_store::{Hit, IngestWrite, Scope, Visit, VisitProgress};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An app over the test store, reopened as a fresh process would (its
/// snapshots in the test's data folder), and the store under it; with
/// snapshots written after this many new visits.
async fn open(at: &TestStore, snapshots: Option<usize>) -> (App, DynStore) {
    let store = at.reopen().await.unwrap();
    let app = App::with_options(
        store.clone(),
        AppOptions {
            report_snapshots: snapshots.map(|min_new_visits| SnapshotOptions {
                dir: snapshot_dir(at.dir()),
                min_new_visits,
            }),
            ..AppOptions::default()
        },
    );
    (app, store)
}

fn snapshot_dir(dir: &Path) -> PathBuf {
    dir.join("report-index")
}

fn snapshot_file(dir: &Path, project: ProjectId) -> PathBuf {
    snapshot_dir(dir).join(format!("project-{}.bin", project.0))
}

async fn demo(at: &TestStore, seed: u64) -> ProjectId {
    let (app, _) = open(at, None).await;
    let options = skvoz_app::demo::DemoOptions {
        visitors: 400,
        seed,
        ..Default::default()
    };
    let (created, _) = skvoz_app::demo::generate(&app, &options, &|_, _| {})
        .await
        .unwrap();
    app.shutdown().await.unwrap();
    ProjectId(created.project_id)
}

fn params(model: &str) -> ReportParams {
    let today = Utc::now().date_naive();
    ReportParams {
        from: Some((today - Duration::days(90)).to_string()),
        to: Some(today.to_string()),
        model: Some(model.to_owned()),
        group_by: Some("channel,source,campaign".to_owned()),
        ..ReportParams::default()
    }
}

/// The channel report under four models (Markov among them), dynamics and
/// the funnel of `project`, from a fresh process.
async fn reports(at: &TestStore, project: ProjectId, snapshots: Option<usize>) -> Vec<Value> {
    let (app, _) = open(at, snapshots).await;
    let ctx = app.contexts.by_id(project).await.unwrap();
    let r = &app.reports;
    let mut dynamics = params("last_non_direct");
    dynamics.group_by = Some("channel".to_owned());
    let out = vec![
        r.channels(&ctx, &params("last_non_direct,first_click,linear,markov"))
            .await
            .unwrap()
            .json,
        r.dynamics(&ctx, &dynamics).await.unwrap().json,
        r.funnel(&ctx, &params("last_non_direct"))
            .await
            .unwrap()
            .json,
    ];
    app.shutdown().await.unwrap();
    out
}

/// The file's inode: a snapshot is written to a new file renamed over the
/// old one, so an unchanged inode means it was read, not rewritten.
fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().ino()
}

fn visits_total(reports: &[Value]) -> f64 {
    reports[0]["totals"]["visits"].as_f64().unwrap()
}

/// A visit written straight to the store with the id given, as the
/// ingestion writer would (ids are handed out before their batch commits).
async fn write_visit(store: &DynStore, project: ProjectId, id: i64, vid: &str) {
    let at = Utc::now() - Duration::hours(30);
    let url = "https://shop.example/?utm_source=late&utm_medium=cpc&utm_campaign=late";
    let visit = Visit {
        id,
        code: id,
        vid: vid.to_owned(),
        started_at: at,
        last_at: at,
        hits: 1,
        source: classify(url, None),
        channel: "paid search".into(),
        landing: url.into(),
        referrer: None,
        device: parse_user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"),
        screen: None,
        lang: None,
        tz: None,
        region: None,
        city: None,
        country: None,
        ga_cid: None,
        ym_uid: None,
    };
    let store = store.clone();
    let batch = vec![IngestWrite::Hit {
        scope: Scope::new(project),
        visit_id: id,
        new_visit: Some(Arc::new(visit)),
        progress: VisitProgress {
            last_at: at,
            hits: 1,
            ga_cid: None,
            ym_uid: None,
        },
        hit: Hit {
            visit_id: id,
            at,
            url: url.into(),
            title: None,
            event: None,
            props: None,
        },
        links: Vec::new(),
    }];
    tokio::task::spawn_blocking(move || store.write_batch_blocking(&batch))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_written_then_read_and_answers_what_the_rows_answer() {
    let (_, tmp) = test_store().await.unwrap();
    let project = demo(&tmp, 42).await;
    let file = snapshot_file(tmp.dir(), project);
    assert!(!file.exists());
    let rows = reports(&tmp, project, None).await;
    assert!(!file.exists(), "no snapshot without the option");

    // The first process reads the rows and leaves a snapshot behind.
    let first = reports(&tmp, project, Some(1)).await;
    assert_eq!(first, rows);
    assert!(file.exists(), "the first report wrote a snapshot");
    let written = inode(&file);

    // The next one starts from it (nothing new: it is not rewritten).
    let second = reports(&tmp, project, Some(1)).await;
    assert_eq!(second, rows);
    assert_eq!(inode(&file), written, "the snapshot was read, not rebuilt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_visits_and_new_crm_facts_after_the_snapshot_count() {
    let (_, tmp) = test_store().await.unwrap();
    let project = demo(&tmp, 7).await;
    let (app, store) = open(&tmp, None).await;
    let max = store.max_visit_id().await.unwrap();
    // Id `max + 2` commits before the snapshot, `max + 1` only after it.
    write_visit(&store, project, max + 2, "late-b").await;
    app.shutdown().await.unwrap();
    let before = reports(&tmp, project, Some(1)).await;
    let file = snapshot_file(tmp.dir(), project);
    assert!(file.exists());

    let (app, store) = open(&tmp, None).await;
    write_visit(&store, project, max + 1, "late-a").await;
    let ctx = app.contexts.by_id(project).await.unwrap();
    let lead_at = Utc::now() - Duration::hours(29);
    let input: LeadInput = serde_json::from_value(json!({
        "vid": "late-a", "email": "late@example.com", "created_at": lead_at,
    }))
    .unwrap();
    app.leads.create_form_lead(&ctx, input).await.unwrap();
    app.deals
        .upsert(
            &ctx,
            DealUpdate {
                external_id: "late-deal".to_owned(),
                stage: Some("won".to_owned()),
                revenue: Some(Money(123_400)),
                created_at: Some(lead_at),
                closed_at: Some(lead_at + Duration::hours(1)),
                email: Some("late@example.com".to_owned()),
                changed_at: Some(lead_at + Duration::hours(1)),
                ..DealUpdate::default()
            },
            Strictness::Api,
            None,
        )
        .await
        .unwrap();
    let cost: CostInput = serde_json::from_value(json!({
        "date": (Utc::now() - Duration::days(1)).date_naive().to_string(),
        "source": "late", "medium": "cpc", "campaign": "late", "cost": 99.5, "clicks": 7,
    }))
    .unwrap();
    app.costs.import_json(&ctx, vec![cost]).await.unwrap();
    app.shutdown().await.unwrap();

    // One new visit is below the rewrite threshold of 2: the snapshot is
    // read, not rebuilt (its inode stays), and the late visit still counts.
    let written = inode(&file);
    let from_snapshot = reports(&tmp, project, Some(2)).await;
    assert_eq!(inode(&file), written, "the snapshot was read, not rebuilt");
    let from_rows = reports(&tmp, project, None).await;
    assert_eq!(from_snapshot, from_rows);
    assert_eq!(visits_total(&from_snapshot), visits_total(&before) + 1.0);
    let late = from_snapshot[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "late")
        .expect("the late visits' row");
    assert_eq!(late["visits"], json!(2));
    assert_eq!(late["leads"], json!(1));
    assert_eq!(late["sales"], json!(1));
    assert_eq!(late["cost"], json!(99.5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_snapshot_is_ignored_and_rebuilt() {
    let (_, tmp) = test_store().await.unwrap();
    let project = demo(&tmp, 3).await;
    let rows = reports(&tmp, project, None).await;
    reports(&tmp, project, Some(1)).await;
    let file = snapshot_file(tmp.dir(), project);
    let good = std::fs::read(&file).unwrap();
    let damaged: Vec<Vec<u8>> = vec![
        {
            let mut b = good.clone();
            let i = b.len() / 2;
            b[i] ^= 0x40;
            b
        },
        good[..good.len() - 9].to_vec(),
        b"not a snapshot at all".to_vec(),
        Vec::new(),
    ];
    for bytes in damaged {
        std::fs::write(&file, &bytes).unwrap();
        let before = inode(&file);
        assert_eq!(reports(&tmp, project, Some(1)).await, rows);
        assert_ne!(inode(&file), before, "a good snapshot replaced the bad one");
        assert_eq!(std::fs::read(&file).unwrap().len(), good.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_projects_or_databases_snapshot_is_not_used() {
    let (_, a) = test_store().await.unwrap();
    let (_, b) = test_store().await.unwrap();
    // Same project id, different data (another seed).
    let pa = demo(&a, 1).await;
    let pb = demo(&b, 2).await;
    assert_eq!(pa, pb);
    let rows_b = reports(&b, pb, None).await;
    reports(&a, pa, Some(1)).await;
    let from_a = std::fs::read(snapshot_file(a.dir(), pa)).unwrap();

    // Another database's snapshot of "the same" project.
    std::fs::create_dir_all(snapshot_dir(b.dir())).unwrap();
    std::fs::write(snapshot_file(b.dir(), pb), &from_a).unwrap();
    assert_eq!(reports(&b, pb, Some(1)).await, rows_b);

    // Another project's snapshot under this project's name.
    let (app, _) = open(&b, None).await;
    let (other, _) = app.projects.create("other", None, None).await.unwrap();
    app.shutdown().await.unwrap();
    let rows_other = reports(&b, other.id, None).await;
    std::fs::write(snapshot_file(b.dir(), other.id), &from_a).unwrap();
    assert_eq!(reports(&b, other.id, Some(1)).await, rows_other);
    assert_eq!(visits_total(&rows_other), 0.0);
}
