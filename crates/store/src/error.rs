//! Errors a store reports, typed so services can act on them.

/// What went wrong in a store call.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (project name, login, external id) is taken.
    #[error("already exists: {0}")]
    Duplicate(String),
    /// An optimistic-concurrency check failed (stale `If-Match`).
    #[error("version conflict: expected {expected}, found {found}")]
    VersionConflict {
        /// The version the caller based its change on.
        expected: i64,
        /// The version in the store.
        found: i64,
    },
    /// The thing asked for does not exist in this scope.
    #[error("not found: {0}")]
    NotFound(String),
    /// The backend failed (I/O, corruption, a bug). Logged, never shown to
    /// API clients.
    #[error("store backend error: {0}")]
    Backend(String),
}
