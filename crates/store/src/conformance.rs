//! The conformance suite: generic tests every backend must pass.
//!
//! Each test is an async function over any [`Store`]; a backend instantiates
//! all of them with [`conformance_suite!`](crate::conformance_suite), passing
//! an async factory that returns `(store, guard)` (the guard keeps temporary
//! files alive). Written once, so no backend can drift from the others.

use crate::{
    DealWrite, Hit, IngestWrite, LeadPolicy, NewLead, NewProject, Scope, Store, StoreError, Visit,
    VisitProgress,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use skvoz_domain::crm::{DealStatus, Identity, IdentityKind, LeadKind};
use skvoz_domain::traffic::{classify, parse_user_agent};
use skvoz_domain::{Money, ProjectName};
use std::sync::Arc;

mod calls;
mod chats;
mod events;
mod outbox;
pub use calls::calls_and_reservations_are_idempotent_and_scoped;
pub use chats::dialogs_of_contacts_follow_merges_and_scope;
pub use events::changes_append_events_once_and_scoped;
pub use outbox::{
    outbox_leases_outcomes_and_retries_are_scoped, outbox_prune_keeps_pending_and_dead,
};
mod node_neutral;
pub use node_neutral::{
    report_revision_moves_with_report_facts_only,
    visit_id_and_code_blocks_are_disjoint_and_above_stored,
};
mod surveys;
pub use surveys::{
    automation_runs_fire_once_and_stay_scoped, survey_answers_consume_tokens_and_stay_scoped,
};
mod tickets;
pub use tickets::{
    ticket_events_are_idempotent_and_derive_sla, ticket_leads_open_no_deal_and_follow_merges,
};
mod coverage_automations;
mod coverage_crm;
mod coverage_maintenance;
mod coverage_tickets;
mod ingest;
pub use coverage_automations::run_tags_put_contacts_in_tag_groups_and_stay_scoped;
pub use coverage_crm::{
    contact_deals_stage_entries_and_lead_ranges_are_scoped,
    inbound_payloads_are_kept_for_existing_projects,
    pull_runs_keep_the_latest_attempt_per_day_and_stay_scoped,
};
pub use coverage_maintenance::close_after_writes_succeeds_and_can_repeat;
pub use coverage_tickets::contact_visits_follow_visitor_ids_and_leads_and_stay_scoped;
use ingest::write_blocking;
pub use ingest::{
    blocking_ingest_is_atomic_and_scoped, visit_ranges_are_half_open_ordered_and_scoped,
};

/// Instantiates every conformance test for a backend.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_suite!(@tests $factory;
            projects_create_and_lookup,
            project_names_are_unique,
            api_key_rotation,
            settings_versioning,
            settings_are_isolated,
            users_and_sessions,
            ping_and_backup,
            visits_round_trip_and_isolation,
            a_failed_batch_stores_nothing,
            leads_dedup_and_merge,
            deal_upserts_are_idempotent_and_scoped,
            costs_replace_by_day_and_source_and_are_scoped,
            report_facts_are_scoped,
            chat_dialogs_are_idempotent_and_scoped,
            dialogs_of_contacts_follow_merges_and_scope,
            calls_and_reservations_are_idempotent_and_scoped,
            ticket_events_are_idempotent_and_derive_sla,
            ticket_leads_open_no_deal_and_follow_merges,
            changes_append_events_once_and_scoped,
            outbox_leases_outcomes_and_retries_are_scoped,
            outbox_prune_keeps_pending_and_dead,
            survey_answers_consume_tokens_and_stay_scoped,
            automation_runs_fire_once_and_stay_scoped,
            blocking_ingest_is_atomic_and_scoped,
            visit_ranges_are_half_open_ordered_and_scoped,
            contact_deals_stage_entries_and_lead_ranges_are_scoped,
            pull_runs_keep_the_latest_attempt_per_day_and_stay_scoped,
            inbound_payloads_are_kept_for_existing_projects,
            contact_visits_follow_visitor_ids_and_leads_and_stay_scoped,
            run_tags_put_contacts_in_tag_groups_and_stay_scoped,
            close_after_writes_succeeds_and_can_repeat,
            report_revision_moves_with_report_facts_only,
            visit_id_and_code_blocks_are_disjoint_and_above_stored,
        );
    };
    (@tests $factory:path; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (store, _guard) = $factory().await;
                $crate::conformance::$name(&store).await;
            }
        )*
    };
}

fn new_project(name: &str) -> NewProject {
    NewProject {
        name: ProjectName::new(name).expect("valid name"),
        public_key: format!("pk_{name}"),
        api_key_hash: format!("hash_{name}"),
        settings: json!({"general": {"currency": "RUB"}}),
    }
}

/// A new project's scope (the conformance tests' usual first step).
async fn project<S: Store>(store: &S, name: &str) -> Scope {
    Scope::new(
        store
            .create_project(new_project(name))
            .await
            .expect("create")
            .id,
    )
}

/// Creating a project and finding it by id, name and both keys.
pub async fn projects_create_and_lookup<S: Store>(store: &S) {
    let p = store
        .create_project(new_project("shop"))
        .await
        .expect("create");
    assert_eq!(p.name.as_str(), "shop");
    let by_id = store.project(p.id).await.expect("get").expect("exists");
    assert_eq!(by_id, p);
    let by_name = store
        .project_by_name("shop")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(by_name.id, p.id);
    let by_key = store
        .project_by_api_key_hash("hash_shop")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(by_key.id, p.id);
    let by_pk = store
        .project_by_public_key("pk_shop")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(by_pk.id, p.id);
    assert!(store
        .project_by_api_key_hash("nope")
        .await
        .expect("get")
        .is_none());
    assert!(store
        .project_by_public_key("nope")
        .await
        .expect("get")
        .is_none());
    let s = store.settings(Scope::new(p.id)).await.expect("settings");
    assert_eq!(s.version, 1);
    assert_eq!(s.doc, json!({"general": {"currency": "RUB"}}));
}

/// A second project with a taken name is refused, and nothing half-made stays.
pub async fn project_names_are_unique<S: Store>(store: &S) {
    store
        .create_project(new_project("a"))
        .await
        .expect("create");
    let mut dup = new_project("a");
    dup.public_key = "pk_other".into();
    dup.api_key_hash = "hash_other".into();
    let err = store.create_project(dup).await.expect_err("duplicate");
    assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    assert_eq!(store.list_projects().await.expect("list").len(), 1);
    assert!(store
        .project_by_public_key("pk_other")
        .await
        .expect("get")
        .is_none());
}

/// Rotating the API key makes the old one stop working.
pub async fn api_key_rotation<S: Store>(store: &S) {
    let p = store
        .create_project(new_project("r"))
        .await
        .expect("create");
    store
        .set_api_key_hash(p.id, "hash_new")
        .await
        .expect("rotate");
    assert!(store
        .project_by_api_key_hash("hash_r")
        .await
        .expect("get")
        .is_none());
    assert_eq!(
        store
            .project_by_api_key_hash("hash_new")
            .await
            .expect("get")
            .map(|p| p.id),
        Some(p.id)
    );
}

/// Settings versions increase; a stale expected version is a conflict that
/// changes nothing.
pub async fn settings_versioning<S: Store>(store: &S) {
    let p = store
        .create_project(new_project("v"))
        .await
        .expect("create");
    let scope = Scope::new(p.id);
    let v2 = store
        .put_settings(scope, Some(1), json!({"x": 2}))
        .await
        .expect("put");
    assert_eq!(v2.version, 2);
    let err = store
        .put_settings(scope, Some(1), json!({"x": 3}))
        .await
        .expect_err("stale");
    assert!(
        matches!(
            err,
            StoreError::VersionConflict {
                expected: 1,
                found: 2
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store.settings(scope).await.expect("get").doc,
        json!({"x": 2})
    );
    let v3 = store
        .put_settings(scope, None, json!({"x": 4}))
        .await
        .expect("unconditional put");
    assert_eq!(v3.version, 3);
}

/// One project's scope never reads or writes another's settings.
pub async fn settings_are_isolated<S: Store>(store: &S) {
    let a = store
        .create_project(new_project("iso_a"))
        .await
        .expect("create");
    let b = store
        .create_project(new_project("iso_b"))
        .await
        .expect("create");
    store
        .put_settings(Scope::new(a.id), None, json!({"who": "a"}))
        .await
        .expect("put");
    let sb = store.settings(Scope::new(b.id)).await.expect("get");
    assert_eq!(sb.doc, json!({"general": {"currency": "RUB"}}));
    assert_eq!(sb.version, 1);
    let missing = Scope::new(skvoz_domain::ProjectId(a.id.0 + b.id.0 + 1000));
    assert!(matches!(
        store.settings(missing).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.put_settings(missing, None, json!({})).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Users, unique logins, sessions that expire and end.
pub async fn users_and_sessions<S: Store>(store: &S) {
    assert_eq!(store.count_users().await.expect("count"), 0);
    let u = store
        .create_user("admin", "$argon2id$fake", true)
        .await
        .expect("create");
    assert!(matches!(
        store.create_user("admin", "x", false).await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(
        store.user_by_login("admin").await.expect("get"),
        Some(u.clone())
    );
    let now = Utc::now();
    store
        .create_session(u.id, "tok", now + Duration::hours(1))
        .await
        .expect("session");
    store
        .create_session(u.id, "old", now - Duration::seconds(1))
        .await
        .expect("session");
    assert_eq!(
        store
            .session_user("tok", now)
            .await
            .expect("get")
            .map(|u| u.id),
        Some(u.id)
    );
    assert!(store.session_user("old", now).await.expect("get").is_none());
    store.delete_session("tok").await.expect("delete");
    assert!(store.session_user("tok", now).await.expect("get").is_none());
}

/// The store answers pings and writes a backup that exists afterwards.
pub async fn ping_and_backup<S: Store>(store: &S) {
    store.ping().await.expect("ping");
    store
        .create_project(new_project("b"))
        .await
        .expect("create");
    let dir = std::env::temp_dir().join(format!("skvoz-backup-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let dest = dir.join(format!(
        "{}-{}.bak",
        store.backend(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    store.backup(&dest).await.expect("backup");
    assert!(dest.exists(), "backup file at {}", dest.display());
    let _ = std::fs::remove_file(&dest);
}

fn visit(id: i64, code: i64, vid: &str, at: DateTime<Utc>) -> Visit {
    Visit {
        id,
        code,
        vid: vid.to_owned(),
        started_at: at,
        last_at: at,
        hits: 1,
        source: classify("https://a.ru/?utm_source=yandex&utm_medium=cpc", None),
        channel: "paid search".into(),
        landing: "https://a.ru/?utm_source=yandex&utm_medium=cpc".into(),
        referrer: None,
        device: parse_user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"),
        screen: Some("1920x1080".into()),
        lang: None,
        tz: None,
        region: None,
        city: None,
        country: None,
        ga_cid: Some("1.2".into()),
        ym_uid: None,
    }
}

fn hit_write(scope: Scope, v: &Visit, new: bool, hits: i64, at: DateTime<Utc>) -> IngestWrite {
    IngestWrite::Hit {
        scope,
        visit_id: v.id,
        new_visit: new.then(|| Arc::new(v.clone())),
        progress: VisitProgress {
            last_at: at,
            hits,
            ga_cid: v.ga_cid.clone(),
            ym_uid: None,
        },
        hit: Hit {
            visit_id: v.id,
            at,
            url: format!("https://a.ru/p{hits}"),
            title: None,
            event: None,
            props: None,
        },
        links: vec![crate::VisitorLink {
            vid: v.vid.clone(),
            kind: "ga_cid",
            value: "1.2".into(),
        }],
    }
}

/// Visits and hits written in a batch read back, and only in their project.
pub async fn visits_round_trip_and_isolation<S: Store + Clone + 'static>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("va"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("vb"))
            .await
            .expect("create")
            .id,
    );
    let t0 = Utc::now() - Duration::minutes(10);
    let v = visit(1, 1, "v1", t0);
    let batch = vec![
        hit_write(a, &v, true, 1, t0),
        hit_write(a, &v, false, 2, t0 + Duration::minutes(1)),
        IngestWrite::Bot {
            scope: a,
            day: "2026-01-01".into(),
        },
    ];
    write_blocking(store, batch).await.expect("batch");
    let stored = store
        .visit_by_code(a, 1)
        .await
        .expect("get")
        .expect("visit");
    assert_eq!(stored.hits, 2);
    assert_eq!(
        stored.last_at.timestamp_millis(),
        (t0 + Duration::minutes(1)).timestamp_millis()
    );
    assert_eq!(stored.source.source, "yandex");
    assert_eq!(store.hits_of_visit(a, 1).await.expect("hits").len(), 2);
    assert_eq!(store.max_visit_id().await.expect("max"), 1);
    assert_eq!(store.max_visit_code(a).await.expect("max"), 1);
    assert_eq!(
        store
            .latest_visit(a, "v1", Utc::now())
            .await
            .expect("latest")
            .map(|v| v.id),
        Some(1)
    );
    assert_eq!(store.active_visits(a, t0).await.expect("active").len(), 1);
    assert_eq!(
        store.vids_by_link(a, "ga_cid", "1.2").await.expect("links"),
        vec!["v1".to_owned()]
    );
    assert_eq!(
        store
            .bot_hits(a, "2026-01-01", "2026-01-01")
            .await
            .expect("bots"),
        1
    );
    // Nothing of it is visible to project b.
    assert!(store.visit_by_code(b, 1).await.expect("get").is_none());
    assert!(store.visit(b, 1).await.expect("get").is_none());
    assert!(store.hits_of_visit(b, 1).await.expect("hits").is_empty());
    assert!(store
        .latest_visit(b, "v1", Utc::now())
        .await
        .expect("latest")
        .is_none());
    assert!(store
        .vids_by_link(b, "ga_cid", "1.2")
        .await
        .expect("links")
        .is_empty());
    assert_eq!(store.max_visit_code(b).await.expect("max"), 0);
}

/// A batch is atomic: a hit continuing a visit that does not exist fails it
/// whole.
pub async fn a_failed_batch_stores_nothing<S: Store + Clone + 'static>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("fb"))
            .await
            .expect("create")
            .id,
    );
    let now = Utc::now();
    let good = visit(10, 1, "g", now);
    let missing = visit(11, 2, "m", now);
    let batch = vec![
        hit_write(a, &good, true, 1, now),
        hit_write(a, &missing, false, 2, now),
    ];
    assert!(write_blocking(store, batch).await.is_err());
    assert!(store.visit_by_code(a, 1).await.expect("get").is_none());
    assert!(store
        .hits_of_visit(a, good.id)
        .await
        .expect("hits")
        .is_empty());
}

fn lead(identities: Vec<Identity>, source_id: Option<&str>) -> NewLead {
    NewLead {
        kind: LeadKind::Form,
        source_id: source_id.map(str::to_owned),
        created_at: Utc::now(),
        visit_id: None,
        identities,
        name: None,
        payload: json!({}),
    }
}

fn policy() -> LeadPolicy {
    LeadPolicy {
        dedup: true,
        first_stage: "new".into(),
    }
}

/// Leads dedup against the open deal, merge contacts, replay by source id,
/// and stay in their project.
pub async fn leads_dedup_and_merge<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("la"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("lb"))
            .await
            .expect("create")
            .id,
    );
    let phone = Identity::new(IdentityKind::Phone, "+79990000000");
    let email = Identity::new(IdentityKind::Email, "a@b.ru");
    let first = store
        .record_lead(a, lead(vec![phone.clone()], None), policy())
        .await
        .expect("lead");
    assert!(!first.duplicate && first.deal_id.is_some());
    let second = store
        .record_lead(a, lead(vec![phone.clone()], Some("call-1")), policy())
        .await
        .expect("lead");
    assert!(second.duplicate);
    assert_eq!(second.deal_id, first.deal_id);
    let replay = store
        .record_lead(a, lead(vec![phone.clone()], Some("call-1")), policy())
        .await
        .expect("lead");
    assert!(replay.replayed);
    assert_eq!(replay.lead_id, second.lead_id);
    let other = store
        .record_lead(a, lead(vec![email.clone()], None), policy())
        .await
        .expect("lead");
    assert_ne!(other.contact_id, first.contact_id);
    let both = store
        .record_lead(a, lead(vec![phone.clone(), email.clone()], None), policy())
        .await
        .expect("lead");
    assert_eq!(both.contact_id, first.contact_id);
    assert_eq!(both.merged, vec![other.contact_id]);
    let contact = store
        .contact(a, first.contact_id)
        .await
        .expect("get")
        .expect("contact");
    assert_eq!(contact.identities.len(), 2);
    assert_eq!(
        store
            .leads_of_contact(a, first.contact_id)
            .await
            .expect("leads")
            .len(),
        4
    );
    // Project b: same phone, separate person, nothing visible across.
    let in_b = store
        .record_lead(b, lead(vec![phone.clone()], Some("call-1")), policy())
        .await
        .expect("lead");
    assert!(!in_b.replayed && !in_b.duplicate);
    assert_ne!(in_b.contact_id, first.contact_id);
    assert!(store
        .contact(b, first.contact_id)
        .await
        .expect("get")
        .is_none());
    assert_eq!(
        store.contact_by_identity(b, &phone).await.expect("get"),
        Some(in_b.contact_id)
    );
}

fn deal(ext: &str, status: Option<DealStatus>, stage: Option<&str>, revenue: i64) -> DealWrite {
    DealWrite {
        external_id: ext.into(),
        status,
        stage: stage.map(str::to_owned),
        default_stage: "new".into(),
        revenue: Some(Money(revenue)),
        profit: None,
        product: None,
        created_at: None,
        closed_at: None,
        identities: vec![Identity::new(IdentityKind::Email, "d@e.ru")],
        visit_id: None,
        source_updated_at: None,
        at: Utc::now(),
    }
}

/// Deal upserts: created once, unchanged on redelivery, history on stage
/// changes, invisible to other projects.
pub async fn deal_upserts_are_idempotent_and_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("da"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("db"))
            .await
            .expect("create")
            .id,
    );
    let r = store
        .upsert_deal(a, deal("x", None, Some("new"), 100))
        .await
        .expect("upsert");
    assert!(r.created);
    let r2 = store
        .upsert_deal(a, deal("x", None, Some("new"), 100))
        .await
        .expect("upsert");
    assert!(!r2.created && !r2.changed);
    let r3 = store
        .upsert_deal(a, deal("x", Some(DealStatus::Won), Some("won"), 150))
        .await
        .expect("upsert");
    assert!(r3.changed && r3.stage_changed);
    let stored = store
        .deal_by_external_id(a, "x")
        .await
        .expect("get")
        .expect("deal");
    assert_eq!(stored.status, DealStatus::Won);
    assert_eq!(stored.revenue, Money(150));
    assert!(stored.closed_at.is_some());
    assert_eq!(
        store
            .deal_history(a, stored.id)
            .await
            .expect("history")
            .len(),
        2
    );
    assert!(store
        .deal_by_external_id(b, "x")
        .await
        .expect("get")
        .is_none());
    assert!(store.deal(b, stored.id).await.expect("get").is_none());
    assert!(store
        .deal_history(b, stored.id)
        .await
        .expect("history")
        .is_empty());
}

fn cost_row(
    day: &str,
    source: &str,
    campaign: &str,
    kopecks: i64,
) -> skvoz_domain::cost::DailyCost {
    skvoz_domain::cost::DailyCost {
        day: day.parse().expect("day"),
        key: skvoz_domain::cost::CostKey::normalized(source, None, Some(campaign), None, None),
        cost: Money(kopecks),
        clicks: 3,
        impressions: 100,
    }
}

/// Re-importing a day of a source replaces it (never doubles), leaves other
/// sources and days alone, and costs stay in their project.
pub async fn costs_replace_by_day_and_source_and_are_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("ca"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("cb"))
            .await
            .expect("create")
            .id,
    );
    let day = |s: &str| s.parse::<chrono::NaiveDate>().expect("day");
    let r0 = store.report_revision(a).await.expect("revision");
    store
        .replace_costs(
            a,
            vec![
                cost_row("2026-11-01", "yandex", "brand", 10_000),
                cost_row("2026-11-01", "yandex", "generic", 5_000),
                cost_row("2026-11-01", "google", "pmax", 7_000),
                cost_row("2026-11-02", "yandex", "brand", 11_000),
            ],
        )
        .await
        .expect("import");
    assert!(
        store.report_revision(a).await.expect("revision") > r0,
        "a cost import moves the revision"
    );
    // The same day of yandex again, with one campaign only.
    let again = store
        .replace_costs(a, vec![cost_row("2026-11-01", "yandex", "brand", 12_000)])
        .await
        .expect("re-import");
    assert_eq!(again.removed, 2);
    assert_eq!(again.rows, 1);
    let rows = store
        .costs_between(a, day("2026-11-01"), day("2026-11-01"))
        .await
        .expect("read");
    let total: i64 = rows.iter().map(|r| r.cost.0).sum();
    assert_eq!(total, 12_000 + 7_000, "{rows:?}");
    let all = store
        .costs_between(a, day("2026-10-01"), day("2026-11-30"))
        .await
        .expect("read");
    assert_eq!(
        all.iter().map(|r| r.cost.0).sum::<i64>(),
        12_000 + 7_000 + 11_000
    );
    assert!(store
        .costs_between(b, day("2026-10-01"), day("2026-11-30"))
        .await
        .expect("read")
        .is_empty());
}

/// The facts reports read: visits scanned from a watermark in id order,
/// leads, deals and contacts' visitor ids — each only of its project.
pub async fn report_facts_are_scoped<S: Store + Clone + 'static>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("ra"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("rb"))
            .await
            .expect("create")
            .id,
    );
    let base = store.max_visit_id().await.expect("max");
    let now = Utc::now() - Duration::hours(1);
    let va1 = visit(base + 1, 1, "vid-a", now);
    let va2 = visit(base + 2, 2, "vid-a", now + Duration::minutes(40));
    let vb = visit(base + 3, 1, "vid-b", now);
    write_blocking(
        store,
        vec![
            hit_write(a, &va1, true, 1, now),
            hit_write(a, &va2, true, 1, va2.started_at),
            hit_write(b, &vb, true, 1, now),
        ],
    )
    .await
    .expect("write");
    let mut seen = Vec::new();
    let n = store
        .scan_visits_blocking(a, 0, &mut |r| {
            seen.push((
                r.id,
                r.vid.to_owned(),
                r.channel.to_owned(),
                r.source.to_owned(),
            ))
        })
        .expect("scan");
    assert_eq!(n, 2);
    assert_eq!(seen[0].0, va1.id);
    assert_eq!(seen[1].1, "vid-a");
    assert_eq!(seen[1].2, "paid search");
    assert_eq!(seen[1].3, "yandex");
    let mut after = 0;
    store
        .scan_visits_blocking(a, va1.id, &mut |_| after += 1)
        .expect("scan");
    assert_eq!(after, 1, "the watermark skips what was read");
    let mut l = lead(vec![Identity::new(IdentityKind::Vid, "vid-a")], None);
    l.visit_id = Some(va2.id);
    let rec = store.record_lead(a, l, policy()).await.expect("lead");
    let leads = store.report_leads(a).await.expect("leads");
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0].visit_id, Some(va2.id));
    assert_eq!(leads[0].contact_id, Some(rec.contact_id));
    let deals = store.report_deals(a).await.expect("deals");
    assert_eq!(deals.len(), 1);
    assert_eq!(deals[0].lead_id, Some(rec.lead_id));
    // The contact's own visitor id, and the visitor ids its GA client id
    // is linked to in its project ("vid-c"; "vid-b" is project b's).
    let vc = visit(base + 4, 3, "vid-c", now);
    write_blocking(store, vec![hit_write(a, &vc, true, 1, now)])
        .await
        .expect("write");
    let mut l2 = lead(
        vec![
            Identity::new(IdentityKind::Vid, "vid-a"),
            Identity::new(IdentityKind::GaCid, "1.2"),
        ],
        None,
    );
    l2.visit_id = Some(va2.id);
    store.record_lead(a, l2, policy()).await.expect("lead 2");
    let mut cv = store
        .report_contact_vids(a)
        .await
        .expect("contact visitors");
    cv.sort_unstable();
    cv.dedup();
    assert_eq!(
        cv,
        vec![
            (rec.contact_id, "vid-a".to_owned()),
            (rec.contact_id, "vid-c".to_owned())
        ]
    );
    assert!(!store
        .report_stage_history(a)
        .await
        .expect("history")
        .is_empty());
    assert!(store.report_leads(b).await.expect("leads").is_empty());
    assert!(store.report_deals(b).await.expect("deals").is_empty());
    assert!(store.report_contact_vids(b).await.expect("cv").is_empty());
    assert!(store.report_stage_history(b).await.expect("h").is_empty());
}

fn chat_message(
    id: &str,
    chat: &str,
    at: DateTime<Utc>,
    code: Option<i64>,
) -> crate::NewChatMessage {
    crate::NewChatMessage {
        messenger: "whatsapp".into(),
        external_chat: chat.into(),
        message_id: id.into(),
        sent_at: at,
        kind: "text".into(),
        text: Some("hello".into()),
        name: Some("Anna".into()),
        phone: Some(format!("+{chat}")),
        username: None,
        visit_code: code,
        visit_id: None,
        page: None,
        code_edited_away: false,
        tags: vec!["t".into()],
    }
}

/// Messages group into dialogs by the gap, a repeat dialog is told from a
/// new one by the window, a new code starts a dialog, redelivery changes
/// nothing, and another project sees none of it.
pub async fn chat_dialogs_are_idempotent_and_scoped<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("ca"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("cb"))
            .await
            .expect("create")
            .id,
    );
    let policy = crate::DialogPolicy {
        gap: Duration::hours(24),
        repeat_window: Duration::days(30),
    };
    let t0 = Utc::now() - Duration::days(10);
    let first = store
        .record_chat_message(a, chat_message("m1", "7999", t0, Some(5)), policy)
        .await
        .expect("record");
    assert!(first.first_message && first.is_new && !first.replayed);
    let again = store
        .record_chat_message(a, chat_message("m1", "7999", t0, Some(5)), policy)
        .await
        .expect("replay");
    assert!(again.replayed && again.first_message);
    assert_eq!(again.dialog_id, first.dialog_id);
    let next = store
        .record_chat_message(
            a,
            chat_message("m2", "7999", t0 + Duration::hours(1), None),
            policy,
        )
        .await
        .expect("record");
    assert_eq!(next.dialog_id, first.dialog_id);
    assert!(!next.first_message);
    let later = store
        .record_chat_message(
            a,
            chat_message("m3", "7999", t0 + Duration::days(3), None),
            policy,
        )
        .await
        .expect("record");
    assert_ne!(later.dialog_id, first.dialog_id);
    assert!(
        later.first_message && !later.is_new,
        "repeat within the window"
    );
    let clicked = store
        .record_chat_message(
            a,
            chat_message(
                "m4",
                "7999",
                t0 + Duration::days(3) + Duration::minutes(5),
                Some(6),
            ),
            policy,
        )
        .await
        .expect("record");
    assert_ne!(
        clicked.dialog_id, later.dialog_id,
        "a new code starts a dialog"
    );
    store
        .link_dialog(a, first.dialog_id, None, None)
        .await
        .expect("link");
    let d = store
        .dialog(a, first.dialog_id)
        .await
        .expect("dialog")
        .expect("exists");
    assert_eq!((d.messages, d.visit_code, d.is_new), (2, Some(5), true));
    assert_eq!(d.tags, vec!["t".to_owned()]);
    assert_eq!(
        store
            .dialog_messages(a, first.dialog_id)
            .await
            .expect("messages")
            .len(),
        2
    );
    let from = t0 - Duration::days(1);
    let to = Utc::now();
    let rows = store
        .chat_report_rows(a, from, to, 100)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].contact_phone.as_deref(), Some("+7999"));
    // Project b: none of a's dialogs, and the same message id is its own.
    assert!(store
        .dialog(b, first.dialog_id)
        .await
        .expect("dialog")
        .is_none());
    assert!(store
        .chat_report_rows(b, from, to, 100)
        .await
        .expect("rows")
        .is_empty());
    let own = store
        .record_chat_message(b, chat_message("m1", "7999", t0, None), policy)
        .await
        .expect("record");
    assert!(!own.replayed && own.is_new);
    assert!(store
        .dialog_messages(b, first.dialog_id)
        .await
        .expect("messages")
        .is_empty());
}
