//! The error type of services, typed so the server maps it to a status.

use skvoz_domain::FieldError;
use skvoz_store::StoreError;

/// What a service call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input failed validation; `field` names the JSON path.
    #[error("{message}")]
    Invalid {
        /// The bad field's path, if one.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The thing does not exist (or is not visible to this caller).
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is taken, or a version check failed.
    #[error("{0}")]
    Conflict(String),
    /// Credentials missing or wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// Credentials valid but not for this (or an unknown key).
    #[error("{0}")]
    Forbidden(String),
    /// Temporarily unable to accept work (overload, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// An internal failure; details are logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A validation error on `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        let field = field.into();
        AppError::Invalid {
            field: (!field.is_empty()).then_some(field),
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::invalid(e.field, e.message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(what) => AppError::Conflict(format!("{what} already exists")),
            StoreError::VersionConflict { expected, found } => AppError::Conflict(format!(
                "settings changed since version {expected} (now {found}); reload and retry"
            )),
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Backend(msg) => AppError::Internal(msg),
        }
    }
}
