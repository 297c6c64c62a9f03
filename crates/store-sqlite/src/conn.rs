//! Opening the database, pragmas, and running blocking work off the runtime.

use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use skvoz_store::{MaintenanceStore, StoreError, StoreResult};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a commit survives a crash of the process (not of
    /// the machine); much faster.
    Normal,
}

/// The database file's name inside a data folder.
pub const DEFAULT_FILE_NAME: &str = "skvoz.db";

/// How to open the store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file; its folder is created when missing. The WAL and
    /// shared-memory files (`-wal`, `-shm`) live beside it.
    pub path: PathBuf,
    /// Commit durability.
    pub durability: Durability,
    /// Read-only connections for queries.
    pub readers: usize,
}

impl SqliteOptions {
    /// Defaults for a data folder: the database is `DIR/skvoz.db`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SqliteOptions::file(dir.into().join(DEFAULT_FILE_NAME))
    }

    /// Defaults for a given database file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SqliteOptions {
            path: path.into(),
            durability: Durability::Full,
            readers: 4,
        }
    }
}

/// The SQLite store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

pub(crate) fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Runs a query and collects its rows.
pub(crate) fn query_vec<T, P: rusqlite::Params>(
    c: &Connection,
    sql: &str,
    params: P,
    map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(backend_err)?;
    let rows = stmt.query_map(params, map).map_err(backend_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend_err)
}

/// Maps a unique-constraint violation to [`StoreError::Duplicate`].
pub(crate) fn map_unique(e: rusqlite::Error, what: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Duplicate(what.to_owned())
        }
        _ => backend_err(e),
    }
}

/// Page cache of the writer, in KiB. Kept modest on purpose: SQLite walks
/// the whole cache at the end of every write transaction, so a big cache
/// makes every commit slower.
const WRITER_CACHE_KIB: i64 = 8_000;
/// Page cache of each reader, in KiB.
const READER_CACHE_KIB: i64 = 8_000;
/// Memory-mapped I/O window. Mapped pages count as the process's resident
/// memory, so the window is bounded; beyond it SQLite reads through the
/// operating system's page cache.
const MMAP_BYTES: i64 = 64 << 20;
/// How often the background checkpointer copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// The writer checkpoints by itself only past this many WAL pages (a safety
/// valve); normally the background checkpointer keeps the WAL short.
const AUTOCHECKPOINT_PAGES: i64 = 20_000;

fn configure(conn: &Connection, durability: Durability, cache_kib: i64) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database and applies migrations.
    pub fn open(options: &SqliteOptions) -> StoreResult<SqliteStore> {
        let path = options.path.clone();
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| {
                backend_err(format!(
                    "cannot create data folder {}: {e}",
                    folder.display()
                ))
            })?;
        }
        let mut writer = Connection::open(&path).map_err(backend_err)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(backend_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend_err(format!(
                "could not enable WAL (journal_mode={mode})"
            )));
        }
        configure(&writer, options.durability, WRITER_CACHE_KIB).map_err(backend_err)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)
            .map_err(backend_err)?;
        crate::migrations::all()
            .to_latest(&mut writer)
            .map_err(|e| backend_err(format!("migration failed: {e}")))?;
        let mut readers = Vec::with_capacity(options.readers.max(1));
        for _ in 0..options.readers.max(1) {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .map_err(backend_err)?;
            configure(&r, options.durability, READER_CACHE_KIB).map_err(backend_err)?;
            readers.push(Mutex::new(r));
        }
        let checkpointer = Connection::open(&path).map_err(backend_err)?;
        configure(&checkpointer, options.durability, 2_000).map_err(backend_err)?;
        let inner = Arc::new(Inner {
            path,
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        });
        spawn_checkpointer(Arc::downgrade(&inner), checkpointer);
        Ok(SqliteStore { inner })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer connection, off the async runtime.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock();
            f(&mut conn)
        })
        .await
        .map_err(backend_err)?
    }

    /// Runs `f` on the writer connection on the calling thread.
    pub(crate) fn write_blocking<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut conn = self.inner.writer.lock();
        f(&mut conn)
    }

    /// Runs `f` on a read-only connection on the calling thread.
    pub(crate) fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let n = self.inner.readers.len();
        let start = self.inner.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            if let Some(conn) = self.inner.readers[(start + i) % n].try_lock() {
                return f(&conn);
            }
        }
        let conn = self.inner.readers[start % n].lock();
        f(&conn)
    }

    /// Runs `f` on a read-only connection, off the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let n = inner.readers.len();
            let start = inner.next_reader.fetch_add(1, Ordering::Relaxed);
            // Take a free reader if there is one, else wait on ours.
            for i in 0..n {
                if let Some(conn) = inner.readers[(start + i) % n].try_lock() {
                    return f(&conn);
                }
            }
            let conn = inner.readers[start % n].lock();
            f(&conn)
        })
        .await
        .map_err(backend_err)?
    }
}

/// Copies committed WAL pages into the database file on its own thread and
/// connection (PASSIVE: never blocks the writer or readers), so commits on
/// the ingestion path do not pay for checkpoints. Stops with the store.
fn spawn_checkpointer(inner: std::sync::Weak<Inner>, conn: Connection) {
    let spawned = std::thread::Builder::new()
        .name("skvoz-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            if inner.upgrade().is_none() {
                break;
            }
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "background checkpoint failed");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no background checkpointer; the writer checkpoints itself");
    }
}

#[async_trait::async_trait]
impl MaintenanceStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn backup(&self, dest: &Path) -> StoreResult<()> {
        if dest.exists() {
            return Err(StoreError::Duplicate(format!(
                "{} already exists",
                dest.display()
            )));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| backend_err("backup path is not UTF-8"))?
            .to_owned();
        // VACUUM INTO reads one consistent snapshot and writes a compact copy
        // while other readers and the writer go on.
        self.read(move |c| {
            c.execute("VACUUM INTO ?1", [dest]).map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn close(&self) -> StoreResult<()> {
        // Everything acknowledged is already committed; folding the WAL
        // into the database file is housekeeping. The background
        // checkpointer may hold the checkpoint lock for a moment, so a busy
        // answer is retried briefly and then left for the next start.
        self.write(|c| {
            for attempt in 0..20 {
                match c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
                    Ok(0) => return Ok(()),
                    Ok(_) | Err(_) if attempt < 19 => std::thread::sleep(std::time::Duration::from_millis(25)),
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "final checkpoint failed; the WAL is replayed at next start");
                        break;
                    }
                }
            }
            Ok(())
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_data_folder_holds_skvoz_db_and_a_file_path_is_taken_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let in_folder = SqliteStore::open(&SqliteOptions::new(dir.path().join("data"))).unwrap();
        assert_eq!(in_folder.path(), dir.path().join("data").join("skvoz.db"));
        assert!(dir.path().join("data/skvoz.db").is_file());

        let file = dir.path().join("nested/deeper/analytics.sqlite");
        let named = SqliteStore::open(&SqliteOptions::file(&file)).unwrap();
        assert_eq!(named.path(), file);
        assert!(file.is_file(), "the folder is created and the file opened");
        assert!(!dir.path().join("nested/deeper/skvoz.db").exists());
    }
}
