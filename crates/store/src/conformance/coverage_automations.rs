//! Conformance test of the tags automation runs put on contacts, read the
//! only way production reads them: as the members of a tag's group.

use super::{lead, new_project, policy};
use crate::{NewRun, RunCompletion, RunStatus, Scope, Store};
use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_domain::automations::GroupRule;
use skvoz_domain::crm::{Identity, IdentityKind};

async fn contact_of<S: Store>(store: &S, scope: Scope, email: &str) -> i64 {
    store
        .record_lead(
            scope,
            lead(vec![Identity::new(IdentityKind::Email, email)], None),
            policy(),
        )
        .await
        .expect("lead")
        .contact_id
}

fn tag(name: &str) -> GroupRule {
    GroupRule {
        tag: Some(name.into()),
        ..Default::default()
    }
}

/// A completed run's tags put its contacts in the tag's group (a tag given
/// twice counts once); other contacts, other tags and other projects stay
/// out; another project cannot complete the run.
pub async fn run_tags_put_contacts_in_tag_groups_and_stay_scoped<S: Store>(store: &S) {
    let a = Scope::new(store.create_project(new_project("ta")).await.expect("a").id);
    let b = Scope::new(store.create_project(new_project("tb")).await.expect("b").id);
    let vip = contact_of(store, a, "vip@e.ru").await;
    let plain = contact_of(store, a, "plain@e.ru").await;
    let in_b = contact_of(store, b, "vip@e.ru").await;
    let now = Utc::now();
    let created = store
        .create_runs(
            "tags-test",
            1,
            vec![NewRun {
                project: a.project(),
                automation_id: "tag-vips".into(),
                event_id: 1,
                event_kind: "lead.created".into(),
                contact_id: Some(vip),
                event_data: json!({}),
                due_at: now - Duration::minutes(1),
            }],
        )
        .await
        .expect("runs");
    assert_eq!(created, 1);
    let due = store.due_runs(now, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    let completion = RunCompletion {
        status: RunStatus::Done,
        step: 2,
        note: None,
        invitations: Vec::new(),
        messages: Vec::new(),
        tags: vec![
            (vip, "vip".into()),
            (vip, "vip".into()),
            (plain, "seen".into()),
        ],
        at: now,
    };
    assert!(!store
        .complete_run(b, due[0].id, completion.clone())
        .await
        .expect("complete"));
    let members = |scope: Scope, rule: GroupRule| async move {
        store
            .group_members(scope, &rule, now, None, 100)
            .await
            .expect("group")
            .into_iter()
            .map(|m| m.contact_id)
            .collect::<Vec<_>>()
    };
    assert!(
        members(a, tag("vip")).await.is_empty(),
        "a refused completion tags nobody"
    );
    assert!(store
        .complete_run(a, due[0].id, completion)
        .await
        .expect("complete"));
    assert_eq!(members(a, tag("vip")).await, vec![vip]);
    assert_eq!(members(a, tag("seen")).await, vec![plain]);
    assert!(members(a, tag("other")).await.is_empty());
    assert!(members(b, tag("vip")).await.is_empty());
    assert!(store
        .group_members(b, &tag("vip"), now, Some(in_b), 1)
        .await
        .expect("membership")
        .is_empty());
    assert_eq!(
        store
            .group_members(a, &tag("vip"), now, Some(plain), 1)
            .await
            .expect("membership")
            .len(),
        0
    );
    assert_eq!(
        store
            .group_members(a, &tag("vip"), now, Some(vip), 1)
            .await
            .expect("membership")
            .len(),
        1
    );
}
