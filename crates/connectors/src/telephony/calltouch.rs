//! Calltouch-style call webhooks.
//!
//! # Format
//!
//! A GET query or a form-encoded POST whose parameter set the customer
//! chooses. Two spellings are seen and both are accepted: the webhook's
//! lower-case names (`callerphone`, `phonenumber`, `calltime`, `status` =
//! `successful`, `unique`, `utm_source`, …) and the call log's camelCase
//! (`callId`, `callerNumber`, `phoneNumber`, `startTime`, `duration`,
//! `successful`, `uniqueCall`, `targetCall`, `callUrl`, `utmSource`, …).
//! Names are matched case-insensitively, ignoring `_`. *The exact names are
//! unconfirmed*, hence the aliases. Calltouch signs nothing: the hook URL
//! carries a secret.
//!
//! Without a call id the id is derived from caller, number and time, so a
//! redelivery is still recognized.

use super::{duration, form_pairs, link, parse_time, required, TelephonyError};
use skvoz_domain::calltracking::InboundCall;

const ID: &[&str] = &["callid", "id", "calluuid"];
const CALLER: &[&str] = &["callerphone", "callernumber", "caller", "callerid"];
const CALLED: &[&str] = &["phonenumber", "callednumber", "called", "trackingnumber"];
const TIME: &[&str] = &["calltime", "starttime", "callstart", "timestamp", "date"];
const DURATION: &[&str] = &["duration", "callduration"];
const ANSWERED: &[&str] = &["successful", "answered", "status"];
const RECORDING: &[&str] = &["callurl", "recordurl", "recordingurl", "record"];

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Parses a webhook (query string or body). Times without a zone are read
/// in `tz`.
pub fn parse(payload: &[u8], tz: chrono_tz::Tz) -> Result<InboundCall, TelephonyError> {
    let pairs: Vec<(String, String)> = form_pairs(payload)?
        .into_iter()
        .map(|(k, v)| (key(&k), v))
        .collect();
    let get = |names: &[&str]| {
        names.iter().find_map(|n| {
            pairs
                .iter()
                .find(|(k, v)| k == n && !v.trim().is_empty())
                .map(|(_, v)| v.as_str())
        })
    };
    let caller = required(get(CALLER), "callerphone")?;
    let called = required(get(CALLED), "phonenumber")?;
    let time = required(get(TIME), "calltime")?;
    let started_at = parse_time(&time, tz, "calltime")?;
    let answered = get(ANSWERED).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "successful" | "success" | "answered" | "yes"
        )
    });
    let source_id = match get(ID) {
        Some(id) => required(Some(id), "callId")?,
        None => format!("{caller}|{called}|{}", started_at.timestamp()),
    };
    Ok(InboundCall {
        provider: "calltouch",
        source_id,
        caller,
        called,
        started_at,
        duration: duration(get(DURATION), "duration")?,
        answered,
        recording_url: link(get(RECORDING)),
    })
}
