//! skvoz's own call shape, for any PBX or script (`POST /api/v1/calls`):
//!
//! ```json
//! {"id": "pbx-7781", "caller": "+7 999 123-45-67", "called": "+74951112201",
//!  "started_at": "2026-03-02T11:05:11Z", "duration": 94, "answered": true,
//!  "recording_url": "https://pbx.example.ru/rec/7781.mp3"}
//! ```

use super::{link, required, TelephonyError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use skvoz_domain::calltracking::InboundCall;

/// The generic call body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericCall {
    /// The sender's call id (redelivery with the same id changes nothing).
    pub id: String,
    /// Who called, any common notation.
    pub caller: String,
    /// The number called.
    pub called: String,
    /// When the call started (RFC 3339).
    pub started_at: DateTime<Utc>,
    /// Talk time, seconds.
    #[serde(default)]
    pub duration: u32,
    /// Whether it was answered.
    pub answered: bool,
    /// A link to the recording.
    #[serde(default)]
    pub recording_url: Option<String>,
}

impl GenericCall {
    /// Checks the fields and returns the normalized call.
    pub fn into_call(self) -> Result<InboundCall, TelephonyError> {
        if self.duration > 86_400 {
            return Err(TelephonyError::Invalid {
                field: "duration",
                message: "must be 0-86400 seconds".into(),
            });
        }
        let recording_url = match self.recording_url.as_deref() {
            None | Some("") => None,
            Some(u) => Some(link(Some(u)).ok_or(TelephonyError::Invalid {
                field: "recording_url",
                message: "must be an http(s) URL".into(),
            })?),
        };
        Ok(InboundCall {
            provider: "generic",
            source_id: required(Some(&self.id), "id")?,
            caller: required(Some(&self.caller), "caller")?,
            called: required(Some(&self.called), "called")?,
            started_at: self.started_at,
            duration: self.duration,
            answered: self.answered,
            recording_url,
        })
    }
}
