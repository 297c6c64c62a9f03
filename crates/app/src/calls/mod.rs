//! Call tracking: dynamic numbers held by visits, calls in from telephony
//! (generic API, Zadarma, Calltouch), their attribution, target and unique
//! calls, leads of kind `call`, pool status and sizing.
//!
//! - [`numbers`]: the in-memory reservations the tracker's hot path uses.
//! - [`service`]: [`CallService`], everything that happens to a call.

pub mod numbers;
pub mod service;

pub use numbers::{NumberPools, NumberReservations};
pub use service::{CallOutcome, CallService};
/// The telephony formats the routes parse (re-exported so handlers need
/// no connector dependency).
pub use skvoz_connectors::telephony;
