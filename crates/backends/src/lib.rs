//! One way into the store: [`open_store`] takes a [`StoreUrl`] and returns
//! the backend its scheme names behind the `Store` traits, so the CLI, the
//! server's tests and the benches never name a backend type.
//!
//! Like atuin, the backend is chosen at run time from the URL:
//! `sqlite:///var/lib/skvoz/skvoz.db` (or a bare path) opens the embedded
//! SQLite store; `postgres://` and `clickhouse://` are recognized and answer
//! "not supported yet in this build" until their crates are added here.
//!
//! With the `testing` feature, [`test_store`] gives every test a fresh store
//! on the backend `SKVOZ_TEST_STORE` names (SQLite in a temporary folder by
//! default), so the same integration tests run on any backend.

mod url;

#[cfg(feature = "testing")]
mod testing;

pub use url::{Backend, StoreUrl, UrlError};

#[cfg(feature = "testing")]
pub use testing::{test_store, TestStore, TEST_STORE_VAR};

use skvoz_store::{Store, StoreError};
use skvoz_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

/// How hard a commit waits for the disk. Each backend maps it to its own
/// knob (SQLite's `synchronous`; a server's synchronous commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A commit survives power loss.
    #[default]
    Full,
    /// A commit survives a crash of the process (not of the machine); much
    /// faster. For bulk loads that can be made again, and tests.
    Normal,
}

/// How to open a store, whatever the backend: what the CLI reads from its
/// configuration besides the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenOptions {
    /// Commit durability.
    pub durability: Durability,
}

/// Why a store could not be opened. Messages show the URL redacted.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The text is not a store URL.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// A backend the URL names but this build does not contain yet.
    #[error(
        "{backend} stores are not supported yet in this build ({url}); \
         use sqlite:///path/to/skvoz.db"
    )]
    NotSupported {
        /// The backend the URL names.
        backend: Backend,
        /// The URL, redacted.
        url: String,
    },
    /// An SQLite URL that names a folder instead of the database file.
    #[error("{url} is a folder; name the database file, e.g. {url}/skvoz.db")]
    IsAFolder {
        /// The URL.
        url: String,
    },
    /// The backend failed to open or migrate the store.
    #[error("opening the store at {url}: {source}")]
    Store {
        /// The URL, redacted.
        url: String,
        /// What the backend said.
        #[source]
        source: StoreError,
    },
    /// Files around the store (a test store's temporary folder) could not
    /// be made.
    #[error("store files: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens (creating and migrating when needed) the store `url` names.
///
/// Async because server backends connect and migrate over the network;
/// the SQLite file is opened on tokio's blocking pool so a caller on the
/// runtime is not stalled by migrations. Must run inside a tokio runtime.
pub async fn open_store(
    url: &StoreUrl,
    options: &OpenOptions,
) -> Result<Arc<dyn Store>, OpenError> {
    match url.backend() {
        Backend::Sqlite => {
            let Some(path) = url.sqlite_path() else {
                return Err(OpenError::NotSupported {
                    backend: url.backend(),
                    url: url.to_string(),
                });
            };
            if path.is_dir() {
                return Err(OpenError::IsAFolder {
                    url: url.to_string(),
                });
            }
            let mut sqlite = SqliteOptions::file(path);
            sqlite.durability = match options.durability {
                Durability::Full => skvoz_store_sqlite::Durability::Full,
                Durability::Normal => skvoz_store_sqlite::Durability::Normal,
            };
            let opened = tokio::task::spawn_blocking(move || SqliteStore::open(&sqlite))
                .await
                .map_err(|e| StoreError::Backend(format!("the opening task failed: {e}")))
                .and_then(|opened| opened);
            match opened {
                Ok(store) => Ok(Arc::new(store)),
                Err(source) => Err(OpenError::Store {
                    url: url.to_string(),
                    source,
                }),
            }
        }
        backend @ (Backend::Postgres | Backend::ClickHouse) => Err(OpenError::NotSupported {
            backend,
            url: url.to_string(),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sqlite_url_opens_that_file_and_a_reopen_sees_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/analytics.db");
        let url: StoreUrl = format!("sqlite://{}", file.display()).parse().unwrap();
        let store = open_store(&url, &OpenOptions::default()).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        store.ping().await.unwrap();
        let name = skvoz_domain::ProjectName::new("shop").unwrap();
        store
            .create_project(skvoz_store::NewProject {
                name,
                public_key: "pk".into(),
                api_key_hash: "hash".into(),
                settings: serde_json::json!({}),
            })
            .await
            .unwrap();
        store.close().await.unwrap();
        drop(store);
        assert!(file.is_file(), "the named file holds the store");
        assert!(!dir.path().join("nested/skvoz.db").exists());

        let durable = OpenOptions {
            durability: Durability::Normal,
        };
        let again = open_store(&url, &durable).await.unwrap();
        let projects = again.list_projects().await.unwrap();
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].name.as_str(), "shop");
    }

    #[tokio::test]
    async fn a_folder_is_not_a_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::sqlite_file(dir.path());
        let e = open_store(&url, &OpenOptions::default())
            .await
            .err()
            .unwrap();
        assert!(matches!(e, OpenError::IsAFolder { .. }), "{e}");
        assert!(e.to_string().contains("skvoz.db"), "{e}");
    }

    #[tokio::test]
    async fn server_backends_are_not_in_this_build_and_keep_their_secrets() {
        for (text, backend) in [
            ("postgres://skvoz:hunter2@db/skvoz", "postgres"),
            ("clickhouse://default:hunter2@ch:8123/skvoz", "clickhouse"),
        ] {
            let url: StoreUrl = text.parse().unwrap();
            let e = open_store(&url, &OpenOptions::default())
                .await
                .err()
                .unwrap();
            let message = e.to_string();
            assert!(matches!(e, OpenError::NotSupported { .. }), "{message}");
            assert!(
                message.contains("not supported yet in this build"),
                "{message}"
            );
            assert!(message.starts_with(backend), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!format!("{e:?}").contains("hunter2"), "{e:?}");
        }
    }
}
