//! The funnel's core services: leads (with contact resolution and
//! deduplication), deals (upserts from the API and from CRM connectors),
//! the CRM webhooks, and the Alytics format both ways.

pub mod alytics;
pub mod deals;
pub mod leads;
pub mod webhooks;

pub use alytics::AlyticsService;
pub use deals::{DealService, Strictness};
pub use leads::{LeadInput, LeadService};
pub use webhooks::CrmWebhooks;
