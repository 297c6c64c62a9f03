//! The embedded SQLite backend: one file in WAL mode (by default `skvoz.db`
//! in the data folder), versioned migrations compiled into the binary and
//! applied at open.
//!
//! One writer connection serializes writes (SQLite allows one writer at a
//! time anyway); a few read-only connections serve queries concurrently with
//! it, which WAL allows. Blocking calls run on tokio's blocking pool.

mod automations;
mod calls;
mod chats;
mod conn;
mod crm;
mod events;
mod migrations;
mod outbox;
mod projects;
mod reports;
mod settings;
mod surveys;
mod tickets;
mod users;
mod visits;

pub use conn::{Durability, SqliteOptions, SqliteStore, DEFAULT_FILE_NAME};
