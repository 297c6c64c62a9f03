//! The conformance suite: generic tests every backend must pass.
//!
//! Each test is an async function over any [`Store`]; a backend instantiates
//! all of them with [`conformance_suite!`](crate::conformance_suite), passing
//! an async factory that returns `(store, guard)` (the guard keeps temporary
//! files alive). Written once, so no backend can drift from the others.

use crate::{NewProject, Scope, Store, StoreError};
use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_domain::ProjectName;

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
