//! Telephony payloads against fixtures: Zadarma (signatures pinned from an
//! independent implementation), Calltouch in both spellings, the generic
//! shape.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use skvoz_connectors::telephony::{calltouch, generic, zadarma, TelephonyError};

const Z_START: &str = include_str!("../src/telephony/fixtures/zadarma/notify_start.txt");
const Z_END: &str = include_str!("../src/telephony/fixtures/zadarma/notify_end_answered.txt");
const Z_MISSED: &str = include_str!("../src/telephony/fixtures/zadarma/notify_end_missed.txt");
const Z_RECORD: &str = include_str!("../src/telephony/fixtures/zadarma/notify_record.txt");
const Z_NO_ID: &str = include_str!("../src/telephony/fixtures/zadarma/malformed_no_call_id.txt");
const CT_LOWER: &str = include_str!("../src/telephony/fixtures/calltouch/lowercase_get.txt");
const CT_CAMEL: &str = include_str!("../src/telephony/fixtures/calltouch/camel_post.txt");
const CT_NO_CALLER: &str =
    include_str!("../src/telephony/fixtures/calltouch/malformed_no_caller.txt");
const GENERIC: &str = include_str!("../src/telephony/fixtures/generic/answered.json");

const SECRET: &str = "test-zadarma-secret";
/// base64(hex(HMAC-SHA1)) computed with Python's `hmac` module.
const SIG_START: &str = "ZjgxYWEzOWE4ZDYxNDQ2ZmQyYWRiYTEwZWQ3Yzk4MzE3M2JiMWZlZA==";
const SIG_MISSED: &str = "YzM3MjcxNDNkYWQ1Mjg3NGEzNWNiMTVjMWYzNjU4MGQzMmI5NzVkZQ==";
const SIG_RECORD: &str = "MmUyNDI1YWI2MjM0MTdhZmY0MmYyNTRjZjJmNWIxYmFkY2Y4M2I1ZQ==";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn zadarma_signatures_match_an_independent_implementation() {
    for (body, sig) in [
        (Z_START, SIG_START),
        (Z_END, SIG_START),
        (Z_MISSED, SIG_MISSED),
        (Z_RECORD, SIG_RECORD),
    ] {
        let n = zadarma::parse(body.as_bytes()).unwrap();
        assert_eq!(
            zadarma::signature(SECRET, &zadarma::signed_string(&n)),
            sig,
            "{}",
            n.event
        );
        assert!(zadarma::verify(&n, SECRET, Some(sig)));
        assert!(!zadarma::verify(&n, "other-secret", Some(sig)));
        assert!(!zadarma::verify(&n, SECRET, None));
        assert!(!zadarma::verify(&n, SECRET, Some("")));
        assert!(!zadarma::verify(&n, "", Some(sig)));
    }
    // Changing a signed field breaks the signature.
    let tampered = Z_END.replace("caller_id=79991234567", "caller_id=79990000000");
    let n = zadarma::parse(tampered.as_bytes()).unwrap();
    assert!(!zadarma::verify(&n, SECRET, Some(SIG_START)));
}

#[test]
fn zadarma_end_is_a_call_other_events_are_not() {
    let tz = chrono_tz::Europe::Moscow;
    let n = zadarma::parse(Z_END.as_bytes()).unwrap();
    let call = zadarma::to_call(&n, tz).unwrap().unwrap();
    assert_eq!(call.provider, "zadarma");
    assert_eq!(call.source_id, "in_5f0e3c7a9b2d41e6a1c4f2b3d5e6a7b8");
    assert_eq!(call.caller, "79991234567");
    assert_eq!(call.called, "74951112201");
    // 14:05:11 Moscow time is 11:05:11 UTC.
    assert_eq!(call.started_at, utc("2026-03-02T11:05:11Z"));
    assert_eq!(call.duration, 94);
    assert!(call.answered);
    let missed = zadarma::to_call(&zadarma::parse(Z_MISSED.as_bytes()).unwrap(), tz)
        .unwrap()
        .unwrap();
    assert!(!missed.answered);
    assert_eq!(missed.duration, 0);
    assert_eq!(missed.caller, "+79997654321");
    for body in [Z_START, Z_RECORD] {
        let n = zadarma::parse(body.as_bytes()).unwrap();
        assert_eq!(zadarma::to_call(&n, tz).unwrap(), None, "{}", n.event);
    }
    let no_id = zadarma::parse(Z_NO_ID.as_bytes()).unwrap();
    assert_eq!(
        zadarma::to_call(&no_id, tz),
        Err(TelephonyError::Missing("pbx_call_id"))
    );
    assert_eq!(
        zadarma::parse(b"caller_id=1"),
        Err(TelephonyError::Missing("event"))
    );
    assert!(zadarma::parse(&[0xff, 0xfe]).is_err());
}

#[test]
fn zadarma_echo() {
    assert_eq!(zadarma::echo("zd_echo=abc123").as_deref(), Some("abc123"));
    assert_eq!(zadarma::echo("x=1&zd_echo=a%20b").as_deref(), Some("a b"));
    assert_eq!(zadarma::echo("x=1"), None);
}

#[test]
fn calltouch_both_spellings() {
    let tz = chrono_tz::Europe::Moscow;
    let lower = calltouch::parse(CT_LOWER.as_bytes(), tz).unwrap();
    assert_eq!(lower.provider, "calltouch");
    assert_eq!(lower.source_id, "4412381");
    assert_eq!(lower.caller, "79991234567");
    assert_eq!(lower.called, "74951112201");
    assert_eq!(
        lower.started_at,
        DateTime::from_timestamp(1_772_453_111, 0).unwrap()
    );
    assert_eq!(lower.duration, 47);
    assert!(lower.answered);
    assert_eq!(lower.recording_url, None);

    let camel = calltouch::parse(CT_CAMEL.as_bytes(), tz).unwrap();
    assert_eq!(camel.source_id, "4412399");
    assert_eq!(camel.caller, "+7 (999) 765-43-21");
    assert_eq!(camel.called, "+74951112205");
    assert_eq!(camel.started_at, utc("2026-03-02T13:10:00Z"));
    assert_eq!(camel.duration, 12);
    assert!(!camel.answered);
    assert!(camel
        .recording_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://api.calltouch.ru/")));

    assert_eq!(
        calltouch::parse(CT_NO_CALLER.as_bytes(), tz),
        Err(TelephonyError::Missing("callerphone"))
    );
    // Without an id the id is stable across redeliveries.
    let body = "callerphone=79991234567&phonenumber=74951112201&calltime=1772453111";
    let a = calltouch::parse(body.as_bytes(), tz).unwrap();
    let b = calltouch::parse(body.as_bytes(), tz).unwrap();
    assert_eq!(a.source_id, b.source_id);
    assert!(calltouch::parse(b"callerphone=1&phonenumber=2&calltime=yesterday", tz).is_err());
}

#[test]
fn generic_shape() {
    let g: generic::GenericCall = serde_json::from_str(GENERIC).unwrap();
    let call = g.into_call().unwrap();
    assert_eq!(call.provider, "generic");
    assert_eq!(call.source_id, "pbx-7781");
    assert_eq!(call.started_at, utc("2026-03-02T11:05:11Z"));
    assert!(call.answered);
    assert_eq!(
        call.recording_url.as_deref(),
        Some("https://pbx.example.ru/rec/7781.mp3")
    );
    let bad: generic::GenericCall = serde_json::from_str(
        r#"{"id":"1","caller":"1","called":"2","started_at":"2026-01-01T00:00:00Z","answered":true,"recording_url":"javascript:alert(1)"}"#,
    )
    .unwrap();
    assert!(matches!(
        bad.into_call(),
        Err(TelephonyError::Invalid {
            field: "recording_url",
            ..
        })
    ));
    assert!(serde_json::from_str::<generic::GenericCall>(r#"{"id":"1","extra":1}"#).is_err());
}
