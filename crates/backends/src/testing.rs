//! A fresh store per test on whichever backend `SKVOZ_TEST_STORE` names, so
//! every integration test and bench runs unchanged on any backend.
//!
//! Behind the `testing` feature (tests and benches turn it on in their
//! dev-dependencies) so release builds carry neither this helper nor
//! `tempfile`. It returns `Result` rather than panicking, as every library
//! function here does; tests unwrap it.

use crate::{open_store, Durability, OpenError, OpenOptions, StoreUrl};
use skvoz_store::Store;
use std::path::Path;
use std::sync::Arc;

/// The environment variable naming the backend the tests run on.
///
/// - unset or empty: SQLite, each test's `skvoz.db` in a new folder under
///   the system's temporary folder;
/// - an SQLite URL or path: the folder under which each test's new folder
///   is made (e.g. `sqlite:///dev/shm/skvoz-tests` for a RAM disk) — a
///   test never shares its database with another;
/// - `postgres://…`, `clickhouse://…`: the server to run on; each test gets
///   its own database there once those backends are in the build (until
///   then the tests fail with "not supported yet in this build").
pub const TEST_STORE_VAR: &str = "SKVOZ_TEST_STORE";

/// Keeps a test's store files alive and opens the store again. Dropping it
/// removes the temporary folder (and the SQLite file in it).
#[derive(Debug)]
pub struct TestStore {
    url: StoreUrl,
    options: OpenOptions,
    dir: tempfile::TempDir,
}

impl TestStore {
    /// The test's store.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// A temporary folder that lives as long as this guard: the test's data
    /// folder for files kept beside the store (report snapshots). With
    /// SQLite it also holds `skvoz.db`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Opens the same store again, as a restarted node would (close the
    /// previous handle first).
    pub async fn reopen(&self) -> Result<Arc<dyn Store>, OpenError> {
        open_store(&self.url, &self.options).await
    }
}

/// A fresh, empty store on the backend [`TEST_STORE_VAR`] names, and the
/// guard that keeps it alive. Commits use [`Durability::Normal`]: a test
/// needs no protection against power loss.
pub async fn test_store() -> Result<(Arc<dyn Store>, TestStore), OpenError> {
    let spec = std::env::var(TEST_STORE_VAR).ok();
    test_store_on(spec.as_deref()).await
}

/// [`test_store`] for a given value of the variable (tests of this module
/// pass it in rather than change the process's environment).
pub(crate) async fn test_store_on(
    spec: Option<&str>,
) -> Result<(Arc<dyn Store>, TestStore), OpenError> {
    let base: Option<StoreUrl> = match spec.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(text.parse()?),
        None => None,
    };
    let (url, dir) = match base {
        None => {
            let dir = tempfile::tempdir()?;
            (StoreUrl::data_folder(dir.path()), dir)
        }
        Some(base) => match base.sqlite_path() {
            Some(parent) => {
                std::fs::create_dir_all(parent)?;
                let dir = tempfile::tempdir_in(parent)?;
                (StoreUrl::data_folder(dir.path()), dir)
            }
            // A server backend makes the test's own database when it lands;
            // today opening it answers "not supported yet".
            None => (base, tempfile::tempdir()?),
        },
    };
    let options = OpenOptions {
        durability: Durability::Normal,
    };
    let store = open_store(&url, &options).await?;
    Ok((store, TestStore { url, options, dir }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn add_project(store: &Arc<dyn Store>, name: &str) {
        store
            .create_project(skvoz_store::NewProject {
                name: skvoz_domain::ProjectName::new(name).unwrap(),
                public_key: format!("pk-{name}"),
                api_key_hash: format!("hash-{name}"),
                settings: serde_json::json!({}),
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn each_test_store_is_fresh_and_reopens_with_its_data() {
        let (first, first_guard) = test_store_on(None).await.unwrap();
        let (second, second_guard) = test_store_on(Some("  ")).await.unwrap();
        assert_ne!(first_guard.url(), second_guard.url());
        add_project(&first, "shop").await;
        assert!(second.list_projects().await.unwrap().is_empty());

        let file = first_guard.dir().join("skvoz.db");
        assert_eq!(first_guard.url().sqlite_path(), Some(file.as_path()));
        first.close().await.unwrap();
        drop(first);
        let again = first_guard.reopen().await.unwrap();
        assert_eq!(again.list_projects().await.unwrap().len(), 1);

        let dir = first_guard.dir().to_path_buf();
        drop(again);
        drop(first_guard);
        assert!(!dir.exists(), "the guard removes the files");
    }

    #[tokio::test]
    async fn a_sqlite_url_names_the_folder_test_stores_go_under() {
        let base = tempfile::tempdir().unwrap();
        let parent = base.path().join("tests");
        let spec = format!("sqlite://{}", parent.display());
        let (store, guard) = test_store_on(Some(&spec)).await.unwrap();
        let (_, other) = test_store_on(Some(&spec)).await.unwrap();
        assert_eq!(guard.dir().parent(), Some(parent.as_path()));
        assert_ne!(guard.dir(), other.dir());
        store.ping().await.unwrap();
        assert!(guard.dir().join("skvoz.db").is_file());
    }

    #[tokio::test]
    async fn a_bad_or_future_backend_is_an_error_not_a_silent_sqlite() {
        let e = test_store_on(Some("mysql://db")).await.err().unwrap();
        assert!(matches!(e, OpenError::Url(_)), "{e}");
        let e = test_store_on(Some("postgres://u:hunter2@db/skvoz"))
            .await
            .err()
            .unwrap();
        assert!(e.to_string().contains("not supported yet"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
