//! Connectors: one module per external format. Each turns a vendor's
//! payload into skvoz's normalized shapes (`skvoz_domain::crm::DealUpdate`,
//! …) or the other way, keeps its fixtures beside its tests, and never
//! touches the store: services resolve and store what connectors parse.

pub mod costs;
pub mod crm;
pub mod helpdesk;
pub mod messengers;
pub mod outbound;
pub mod smtp;
pub mod telephony;
