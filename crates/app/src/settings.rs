//! Reading and replacing a project's settings document.

use crate::{AppError, DynStore};
use serde_json::Value;
use skvoz_domain::settings::{mask_secrets, restore_masked_secrets};
use skvoz_domain::ProjectSettings;
use skvoz_store::Scope;

/// A settings document as the API shows it: every section with its
/// defaults filled in, secrets masked, and its version for `ETag`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsView {
    /// The version (`ETag`).
    pub version: i64,
    /// The masked document.
    pub doc: Value,
}

/// Settings documents.
#[derive(Clone)]
pub struct SettingsService {
    store: DynStore,
    contexts: std::sync::Arc<crate::context::ContextCache>,
}

/// Reads and parses a project's stored settings with their version.
pub(crate) async fn load_typed(
    store: &DynStore,
    scope: Scope,
) -> Result<(i64, ProjectSettings), AppError> {
    let stored = store.settings(scope).await?;
    let settings = ProjectSettings::from_json(stored.doc).map_err(|e| {
        AppError::Internal(format!(
            "stored settings invalid at {}: {}",
            e.field, e.message
        ))
    })?;
    Ok((stored.version, settings))
}

fn render(settings: &ProjectSettings) -> Result<Value, AppError> {
    let mut doc = serde_json::to_value(settings).map_err(|e| AppError::Internal(e.to_string()))?;
    mask_secrets(&mut doc);
    Ok(doc)
}

impl SettingsService {
    /// Over a store.
    pub fn new(store: DynStore, contexts: std::sync::Arc<crate::context::ContextCache>) -> Self {
        SettingsService { store, contexts }
    }

    /// The typed settings services work with.
    pub async fn typed(&self, scope: Scope) -> Result<(i64, ProjectSettings), AppError> {
        load_typed(&self.store, scope).await
    }

    /// The document for the API.
    pub async fn get(&self, scope: Scope) -> Result<SettingsView, AppError> {
        let (version, settings) = self.typed(scope).await?;
        Ok(SettingsView {
            version,
            doc: render(&settings)?,
        })
    }

    /// Validates and stores a whole document. Masked secrets keep their
    /// stored values; with `if_match`, a stale version is a conflict.
    pub async fn put(
        &self,
        scope: Scope,
        if_match: Option<i64>,
        mut doc: Value,
    ) -> Result<SettingsView, AppError> {
        if !doc.is_object() {
            return Err(AppError::invalid("", "settings must be a JSON object"));
        }
        let stored = self.store.settings(scope).await?;
        restore_masked_secrets(&mut doc, Some(&stored.doc));
        let settings = ProjectSettings::from_json(doc)?;
        let normalized =
            serde_json::to_value(&settings).map_err(|e| AppError::Internal(e.to_string()))?;
        let saved = self.store.put_settings(scope, if_match, normalized).await?;
        self.contexts.invalidate(scope.project());
        Ok(SettingsView {
            version: saved.version,
            doc: render(&settings)?,
        })
    }
}
