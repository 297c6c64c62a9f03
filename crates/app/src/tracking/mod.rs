//! Visit tracking: validate a hit, classify its source and device, decide
//! its session, and commit it through the group-commit writer before
//! answering.
//!
//! - [`input`]: the hit as it arrives (`/collect`, `/api/v1/hits`) and its
//!   validation.
//! - [`crate::context`] (shared with every other service): the per-project
//!   context cached for the hot path (settings, compiled channel rules, time zone).
//! - [`sessions`]: the table of active sessions (an interface; in memory by
//!   default).
//! - [`writer`]: the batch writer that acknowledges a hit only after its
//!   batch is committed.
//! - [`service`]: [`TrackingService`], tying them together.

pub mod geo;
pub mod input;
pub mod service;
pub mod sessions;
pub mod writer;

pub use input::{HitInput, HitOutcome};
pub use service::TrackingService;
