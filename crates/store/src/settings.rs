//! The per-project settings document, versioned for `ETag`/`If-Match`.

use crate::{Scope, StoreResult};
use async_trait::async_trait;

/// A stored settings document and its version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionedSettings {
    /// Increases by one on every successful write.
    pub version: i64,
    /// The document, secrets in clear (the API masks them).
    pub doc: serde_json::Value,
}

/// Settings storage.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// The project's current settings.
    async fn settings(&self, scope: Scope) -> StoreResult<VersionedSettings>;
    /// Replaces the document. With `expected_version`, fails with
    /// [`crate::StoreError::VersionConflict`] unless it is current.
    async fn put_settings(
        &self,
        scope: Scope,
        expected_version: Option<i64>,
        doc: serde_json::Value,
    ) -> StoreResult<VersionedSettings>;
}
