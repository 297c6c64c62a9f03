//! The shared conformance suite, run against the SQLite backend.

use skvoz_store_sqlite::{SqliteOptions, SqliteStore};

async fn sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&SqliteOptions::new(dir.path())).expect("open");
    (store, dir)
}

skvoz_store::conformance_suite!(sqlite);
