//! Help desk formats: HelpDeskEddy's rule-engine webhooks (with the body
//! skvoz recommends) and its REST API for polling and backfill.

pub mod helpdeskeddy;
