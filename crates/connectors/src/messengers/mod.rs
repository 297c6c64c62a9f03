//! Messenger formats: the WhatsApp Cloud API webhook (with its verification
//! handshake and `X-Hub-Signature-256`), the Telegram Bot API `Update`
//! (with `/start <payload>` deep links), and the visit-code marker that
//! travels inside a prefilled WhatsApp text. Each parser produces
//! [`skvoz_domain::messengers::InboundMessage`]s; fixtures of the documented
//! shapes live in `fixtures/`.

pub mod marker;
pub mod telegram;
pub mod whatsapp;

/// Why a messenger delivery could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MessengerError {
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not the documented shape.
    #[error("unexpected shape: {0}")]
    Shape(String),
}
