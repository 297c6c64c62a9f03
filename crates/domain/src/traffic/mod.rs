//! Visit tracking rules: where a hit came from, which channel that is, whether
//! it starts a new session, and what device sent it.
//!
//! Everything here is pure and cheap enough to run on every hit: regexes and
//! lookup tables are built once in statics, never per call.
//!
//! - [`source`]: page URL + referrer → [`TrafficSource`] (`source` / `medium`).
//! - [`channel`]: [`TrafficSource`] + landing → the project's channel group.
//! - [`session`]: previous session + new hit → continue or start a session.
//! - [`device`]: User-Agent → OS, browser, device type, bot flag.

pub mod channel;
pub mod device;
pub mod session;
pub mod source;

pub use channel::ChannelClassifier;
pub use device::{parse_user_agent, Device, DeviceType};
pub use session::{decide, NewSessionReason, SessionDecision, SessionState};
pub use source::{classify, SourceKey, SourceKind, TrafficSource};
