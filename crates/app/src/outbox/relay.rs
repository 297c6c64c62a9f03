//! The relay (consumer `outbox-relay`): reads the event log from its
//! cursor and turns each event into the outbox messages the project's
//! settings ask for — enqueueing them and advancing the cursor in one store
//! transaction, so a crash never loses an event's messages nor makes them
//! twice.

use super::routing;
use crate::DynStore;
use skvoz_domain::{ProjectId, ProjectSettings};
use skvoz_store::{ContactKeys, Scope, StoreResult};
use std::collections::HashMap;

/// The relay's consumer name in `event_cursors`.
pub const CONSUMER: &str = "outbox-relay";
/// Events read per transaction.
pub const BATCH: usize = 500;

/// Relays one batch of events; returns (events read, messages new).
pub async fn relay_once(store: &DynStore) -> StoreResult<(usize, usize)> {
    let cursor = store.event_cursor(CONSUMER).await?;
    let events = store.events_after(cursor, BATCH).await?;
    let Some(last) = events.last().map(|e| e.id) else {
        return Ok((0, 0));
    };
    let mut settings: HashMap<ProjectId, Option<ProjectSettings>> = HashMap::new();
    // A contact's keys are read once per batch: a lead, its deal and the
    // deal's stages usually arrive together and name the same contact.
    let mut keys_of: HashMap<(ProjectId, i64), ContactKeys> = HashMap::new();
    let no_keys = ContactKeys::default();
    let mut messages = Vec::new();
    for event in &events {
        if let std::collections::hash_map::Entry::Vacant(slot) = settings.entry(event.project) {
            // A project whose stored document no longer validates sends
            // nothing rather than something half-configured.
            let typed = match store.settings(Scope::new(event.project)).await {
                Ok(v) => ProjectSettings::from_json(v.doc).ok(),
                Err(skvoz_store::StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            slot.insert(typed);
        }
        let Some(Some(s)) = settings.get(&event.project) else {
            continue;
        };
        let scope = Scope::new(event.project);
        let keys = match (routing::needs_keys(event, s), event.contact_id) {
            (true, Some(contact)) => match keys_of.entry((event.project, contact)) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(store.contact_keys(scope, contact).await?)
                }
            },
            _ => &no_keys,
        };
        for m in routing::route(event, s, keys) {
            messages.push((scope, m));
        }
    }
    let fresh = store.relay_batch(CONSUMER, last, messages).await?;
    Ok((events.len(), fresh))
}
