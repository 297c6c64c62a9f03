//! The domain of skvoz: pure types and math with no I/O.
//!
//! Everything here takes values and returns values, so it can be tested
//! exhaustively and reused by every store backend and service.

pub mod attribution;
pub mod automations;
pub mod calltracking;
pub mod chat_report;
pub mod contact;
pub mod cost;
pub mod crm;
pub mod ids;
pub mod messengers;
pub mod metrics;
pub mod money;
pub mod outbound;
pub mod project;
pub mod settings;
pub mod support;
pub mod surveys;
pub mod traffic;

pub use ids::ProjectId;
pub use money::Money;
pub use project::{Currency, Project, ProjectName, TimeZone};
pub use settings::{FieldError, ProjectSettings};
