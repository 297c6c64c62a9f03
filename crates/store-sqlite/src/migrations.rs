//! Schema migrations, embedded in the binary, tracked by SQLite's
//! `user_version`. Append new files; never edit one that has shipped. The
//! position in this list is what `user_version` counts, so a file's number
//! is its position.

use rusqlite_migration::{Migrations, M};

/// Every migration, in order.
pub(crate) fn all() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/0001_core.sql")),
        M::up(include_str!("../migrations/0002_visits.sql")),
        M::up(include_str!("../migrations/0003_crm.sql")),
        M::up(include_str!("../migrations/0004_costs.sql")),
        M::up(include_str!("../migrations/0005_chats.sql")),
        M::up(include_str!("../migrations/0006_calls.sql")),
        M::up(include_str!("../migrations/0007_tickets.sql")),
        M::up(include_str!("../migrations/0008_events.sql")),
        M::up(include_str!("../migrations/0009_outbox_worker.sql")),
        M::up(include_str!("../migrations/0010_surveys.sql")),
        M::up(include_str!("../migrations/0011_node_neutral.sql")),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::all()
            .validate()
            .expect("migrations apply to an empty database");
    }
}
