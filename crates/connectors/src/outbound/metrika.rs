//! Yandex Metrika offline conversions: a CSV uploaded as the multipart part
//! `file` to `POST {base}/management/v1/counter/{id}/offline_conversions/upload
//! ?client_id_type=CLIENT_ID` (or `YCLID`) with `Authorization: OAuth <token>`;
//! calls go to `…/upload_calls` with the calls columns. `DateTime` is Unix
//! seconds.

use super::{join, HttpRequest};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The public API host.
pub const DEFAULT_BASE: &str = "https://api-metrika.yandex.net";
/// The columns of a conversions upload.
pub const CONVERSION_COLUMNS: [&str; 5] = ["ClientId", "Target", "DateTime", "Price", "Currency"];
/// The columns of a calls upload.
pub const CALL_COLUMNS: [&str; 13] = [
    "ClientId",
    "DateTime",
    "Price",
    "Currency",
    "PhoneNumber",
    "TalkDuration",
    "HoldDuration",
    "CallMissed",
    "Tag",
    "FirstTimeCaller",
    "URL",
    "CallTrackerURL",
    "StaticCall",
];

/// One offline conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// ClientId (or yclid, with the YCLID id type).
    pub client_id: String,
    /// The goal identifier.
    pub target: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Its value, as a decimal.
    pub price: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
}

/// One call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallConversion {
    /// ClientId.
    pub client_id: String,
    /// When the call started.
    pub at: DateTime<Utc>,
    /// Its value.
    pub price: Option<String>,
    /// ISO 4217.
    pub currency: Option<String>,
    /// The caller's number.
    pub phone: String,
    /// Seconds talked.
    pub talk_duration: u32,
    /// Seconds waited before an answer.
    pub hold_duration: u32,
    /// Nobody answered.
    pub missed: bool,
    /// A label.
    pub tag: String,
    /// The caller's first call.
    pub first_time_caller: bool,
    /// The page the caller saw.
    pub url: String,
    /// The call's record in skvoz.
    pub call_tracker_url: String,
    /// A number shown to everyone (not from a dynamic pool).
    pub static_call: bool,
}

fn csv_of(header: &[&str], rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(r);
    }
    w.into_inner().unwrap_or_default()
}

fn past_seconds(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    // Metrika refuses times in the future; a clock a little ahead is not the
    // conversion's fault.
    at.min(now).timestamp().to_string()
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

/// The conversions CSV.
pub fn conversions_csv(rows: &[Conversion], now: DateTime<Utc>) -> Vec<u8> {
    csv_of(
        &CONVERSION_COLUMNS,
        rows.iter()
            .map(|c| {
                vec![
                    c.client_id.clone(),
                    c.target.clone(),
                    past_seconds(c.at, now),
                    c.price.clone().unwrap_or_default(),
                    c.currency.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// The calls CSV.
pub fn calls_csv(rows: &[CallConversion], now: DateTime<Utc>) -> Vec<u8> {
    csv_of(
        &CALL_COLUMNS,
        rows.iter()
            .map(|c| {
                vec![
                    c.client_id.clone(),
                    past_seconds(c.at, now),
                    c.price.clone().unwrap_or_default(),
                    c.currency.clone().unwrap_or_default(),
                    c.phone.clone(),
                    c.talk_duration.to_string(),
                    c.hold_duration.to_string(),
                    flag(c.missed),
                    c.tag.clone(),
                    flag(c.first_time_caller),
                    c.url.clone(),
                    c.call_tracker_url.clone(),
                    flag(c.static_call),
                ]
            })
            .collect(),
    )
}

/// A `multipart/form-data` body with one part `file` holding `csv`;
/// returns (content type, body). Written by hand: one fixed part needs no
/// multipart library, and the boundary is derived from the content so the
/// builder stays pure.
pub fn multipart(csv: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("skvoz-{}", &hex::encode(Sha256::digest(csv))[..32]);
    let mut body = Vec::with_capacity(csv.len() + 256);
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        b"Content-Disposition: form-data; name=\"file\"; filename=\"conversions.csv\"\r\n",
    );
    body.extend_from_slice(b"Content-Type: text/csv\r\n\r\n");
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The upload request. `calls` picks `upload_calls`; `id_type` is
/// `CLIENT_ID`, `USER_ID` or `YCLID`.
pub fn upload_request(
    base: Option<&str>,
    counter_id: &str,
    token: &str,
    id_type: &str,
    calls: bool,
    csv: &[u8],
) -> HttpRequest {
    let endpoint = if calls { "upload_calls" } else { "upload" };
    let (content_type, body) = multipart(csv);
    HttpRequest {
        url: format!(
            "{}?client_id_type={id_type}",
            join(
                base.unwrap_or(DEFAULT_BASE),
                &format!("management/v1/counter/{counter_id}/offline_conversions/{endpoint}")
            )
        ),
        headers: vec![
            ("Content-Type".into(), content_type),
            ("Authorization".into(), format!("OAuth {token}")),
        ],
        body,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn csv_and_multipart_are_as_documented() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let rows = [Conversion {
            client_id: "1700000000123".into(),
            target: "deal_won".into(),
            at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            price: Some("1500.50".into()),
            currency: Some("RUB".into()),
        }];
        let csv = conversions_csv(&rows, now);
        assert_eq!(
            String::from_utf8_lossy(&csv),
            "ClientId,Target,DateTime,Price,Currency\r\n1700000000123,deal_won,1772359200,1500.50,RUB\r\n"
        );
        let req = upload_request(
            Some("http://127.0.0.1:9/"),
            "123",
            "TOK",
            "CLIENT_ID",
            false,
            &csv,
        );
        assert_eq!(
            req.url,
            "http://127.0.0.1:9/management/v1/counter/123/offline_conversions/upload?client_id_type=CLIENT_ID"
        );
        assert_eq!(req.header("Authorization"), Some("OAuth TOK"));
        let ct = req.header("Content-Type").unwrap_or("");
        let boundary = ct.split("boundary=").nth(1).unwrap_or("");
        let text = String::from_utf8_lossy(&req.body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"file\""));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        // A future time is clamped to now.
        let later = Conversion {
            at: now + chrono::Duration::hours(1),
            ..rows[0].clone()
        };
        assert!(String::from_utf8_lossy(&conversions_csv(&[later], now))
            .contains(&now.timestamp().to_string()));
    }

    #[test]
    fn calls_have_the_calls_columns() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
        let csv = calls_csv(
            &[CallConversion {
                client_id: "17".into(),
                at: now,
                phone: "+79990001122".into(),
                talk_duration: 65,
                first_time_caller: true,
                ..Default::default()
            }],
            now,
        );
        let text = String::from_utf8_lossy(&csv);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CALL_COLUMNS.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some(format!("17,{},,,+79990001122,65,0,0,,1,,,0", now.timestamp()).as_str())
        );
        let req = upload_request(None, "5", "T", "CLIENT_ID", true, &csv);
        assert!(req
            .url
            .contains("/offline_conversions/upload_calls?client_id_type=CLIENT_ID"));
    }
}
