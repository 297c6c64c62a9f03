//! Route handlers, one file per area. Handlers are thin: parse, call a
//! service, map the result.

pub mod auth;
pub mod calls;
pub mod chats;
pub mod crm;
pub mod hooks;
pub mod outbox;
pub mod projects;
pub mod reports;
pub mod settings;
pub mod surveys;
pub mod system;
pub mod tickets;
pub mod tracking;
