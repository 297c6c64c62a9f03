//! Sessionization: does a new hit continue the visitor's current session or
//! start a new one?
//!
//! A session ends after the project's inactivity timeout (30 minutes by
//! default), when the traffic source changes (a direct or internal hit never
//! counts as a change), and at local midnight in the project's time zone, so
//! that no session spans two report days.

use super::source::{SourceKey, TrafficSource};
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// What the sessionizer remembers about a visitor's current session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// When the session's first hit happened.
    pub started_at: DateTime<Utc>,
    /// When its latest hit happened.
    pub last_hit_at: DateTime<Utc>,
    /// The key of the source the session was attributed to (its first
    /// hit's); see [`TrafficSource::key`].
    pub source_key: SourceKey,
}

/// Whether a hit continues the current session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionDecision {
    /// The hit belongs to the current session.
    Continue,
    /// The hit starts a new session, for this reason.
    NewSession(NewSessionReason),
}

/// Why a hit starts a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewSessionReason {
    /// The visitor has no session yet.
    FirstVisit,
    /// The inactivity timeout passed since the session's last hit.
    Idle,
    /// The hit came from a different (non-direct, non-internal) source.
    SourceChanged,
    /// The hit is on another local calendar day than the session's last hit.
    DayBoundary,
}

/// Decides whether a hit at `at` from `source` continues `prev`.
///
/// Rules, in order: no previous session → [`NewSessionReason::FirstVisit`];
/// `at - last_hit_at >= timeout` → [`NewSessionReason::Idle`]; the hit's source
/// is a change candidate and differs from the session's →
/// [`NewSessionReason::SourceChanged`] (direct and internal hits never count,
/// and re-landing from the same UTM tags or click-id source keeps the
/// session); the hit's local calendar day in `tz` differs from the last hit's
/// → [`NewSessionReason::DayBoundary`]; else [`SessionDecision::Continue`].
///
/// A hit earlier than `last_hit_at` (out of order) continues the session when
/// it is less than `timeout` before it, and is `Idle` otherwise. A zero or
/// negative `timeout` makes every hit start a new session. Never panics.
pub fn decide(
    prev: Option<&SessionState>,
    at: DateTime<Utc>,
    source: &TrafficSource,
    timeout: Duration,
    tz: Tz,
) -> SessionDecision {
    let Some(prev) = prev else {
        return SessionDecision::NewSession(NewSessionReason::FirstVisit);
    };
    let gap = if at >= prev.last_hit_at {
        at - prev.last_hit_at
    } else {
        prev.last_hit_at - at
    };
    if gap >= timeout {
        return SessionDecision::NewSession(NewSessionReason::Idle);
    }
    if source.is_change_candidate() && source.key() != prev.source_key {
        return SessionDecision::NewSession(NewSessionReason::SourceChanged);
    }
    if local_date(at, tz) != local_date(prev.last_hit_at, tz) {
        return SessionDecision::NewSession(NewSessionReason::DayBoundary);
    }
    SessionDecision::Continue
}

/// The calendar day of `at` in `tz`. Unlike `with_timezone(..).date_naive()`
/// this cannot panic at the very ends of chrono's range; there it falls back
/// to the UTC day.
fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    let utc = at.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).unwrap_or(utc).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::source::{classify, SourceKind};
    use proptest::prelude::*;
    use NewSessionReason::*;
    use SessionDecision::{Continue, NewSession};

    const MOSCOW: Tz = chrono_tz::Europe::Moscow;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .with_timezone(&Utc)
    }

    fn state(last: &str, url: &str, referrer: Option<&str>) -> SessionState {
        SessionState {
            started_at: utc(last),
            last_hit_at: utc(last),
            source_key: classify(url, referrer).key(),
        }
    }

    const LANDING: &str = "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=spring";

    /// (session's last hit, session landing, hit time, hit url, hit referrer, timeout minutes, tz, expected)
    #[allow(clippy::type_complexity)]
    const CASES: &[(&str, &str, &str, &str, &str, i64, Tz, SessionDecision)] = &[
        // 30-minute boundary: 29:59 continues, 30:00 is a new session.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:29:59Z",
            "https://shop.ru/a",
            "https://shop.ru/",
            30,
            MOSCOW,
            Continue,
        ),
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:30:00Z",
            "https://shop.ru/a",
            "https://shop.ru/",
            30,
            MOSCOW,
            NewSession(Idle),
        ),
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T12:00:00Z",
            "https://shop.ru/a",
            "",
            30,
            MOSCOW,
            NewSession(Idle),
        ),
        // A project's own timeout.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:50:00Z",
            "https://shop.ru/a",
            "",
            60,
            MOSCOW,
            Continue,
        ),
        // Direct and internal hits during a UTM session continue it.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:10:00Z",
            "https://shop.ru/",
            "",
            30,
            MOSCOW,
            Continue,
        ),
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:10:00Z",
            "https://shop.ru/cart",
            "https://www.shop.ru/catalog",
            30,
            MOSCOW,
            Continue,
        ),
        // Re-landing from the same campaign keeps the session.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:10:00Z",
            LANDING,
            "https://yandex.ru/",
            30,
            MOSCOW,
            Continue,
        ),
        // A new UTM campaign starts a new session.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:10:00Z",
            "https://shop.ru/?utm_source=yandex&utm_medium=cpc&utm_campaign=summer",
            "",
            30,
            MOSCOW,
            NewSession(SourceChanged),
        ),
        // Organic after UTM, referral after organic: source changed.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T10:10:00Z",
            "https://shop.ru/",
            "https://www.google.com/",
            30,
            MOSCOW,
            NewSession(SourceChanged),
        ),
        (
            "2024-05-01T10:00:00Z",
            "https://shop.ru/",
            "2024-05-01T10:10:00Z",
            "https://shop.ru/",
            "https://partner.com/",
            30,
            MOSCOW,
            NewSession(SourceChanged),
        ),
        // The same gclid source (a new click id) keeps the session.
        (
            "2024-05-01T10:00:00Z",
            "https://shop.ru/?gclid=one",
            "2024-05-01T10:10:00Z",
            "https://shop.ru/p?gclid=two",
            "",
            30,
            MOSCOW,
            Continue,
        ),
        // Direct session, then a search hit: a change.
        (
            "2024-05-01T10:00:00Z",
            "https://shop.ru/",
            "2024-05-01T10:05:00Z",
            "https://shop.ru/",
            "https://ya.ru/",
            30,
            MOSCOW,
            NewSession(SourceChanged),
        ),
        // Day boundary in the project's zone: 23:50 → 00:10 Moscow time.
        (
            "2024-05-01T20:50:00Z",
            LANDING,
            "2024-05-01T21:10:00Z",
            "https://shop.ru/a",
            "",
            30,
            MOSCOW,
            NewSession(DayBoundary),
        ),
        // 23:50 → 00:10 UTC is 02:50 → 03:10 in Moscow: the same day.
        (
            "2024-05-01T23:50:00Z",
            LANDING,
            "2024-05-02T00:10:00Z",
            "https://shop.ru/a",
            "",
            30,
            MOSCOW,
            Continue,
        ),
        // ... but a UTC project splits it.
        (
            "2024-05-01T23:50:00Z",
            LANDING,
            "2024-05-02T00:10:00Z",
            "https://shop.ru/a",
            "",
            30,
            chrono_tz::UTC,
            NewSession(DayBoundary),
        ),
        // Idle is reported before a source change.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T11:00:00Z",
            "https://shop.ru/",
            "https://vk.com/",
            30,
            MOSCOW,
            NewSession(Idle),
        ),
        // Out of order: a hit shortly before the last one continues...
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T09:55:00Z",
            "https://shop.ru/a",
            "",
            30,
            MOSCOW,
            Continue,
        ),
        // ... a hit long before it does not.
        (
            "2024-05-01T10:00:00Z",
            LANDING,
            "2024-05-01T08:00:00Z",
            "https://shop.ru/a",
            "",
            30,
            MOSCOW,
            NewSession(Idle),
        ),
    ];

    #[test]
    fn decision_table() {
        for (i, &(last, landing, at, url, referrer, minutes, tz, want)) in CASES.iter().enumerate()
        {
            let prev = state(last, landing, None);
            let source = classify(url, Some(referrer));
            let got = decide(
                Some(&prev),
                utc(at),
                &source,
                Duration::minutes(minutes),
                tz,
            );
            assert_eq!(got, want, "case {i}: {at} {url} {referrer} after {last}");
        }
    }

    #[test]
    fn first_visit() {
        let source = classify("https://shop.ru/", None);
        let at = Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(
            decide(None, at, &source, Duration::minutes(30), MOSCOW),
            NewSession(FirstVisit)
        );
    }

    #[test]
    fn degenerate_timeouts_do_not_panic() {
        let prev = state("2024-05-01T10:00:00Z", LANDING, None);
        let source = classify(LANDING, None);
        let at = utc("2024-05-01T10:00:00Z");
        for timeout in [Duration::zero(), Duration::minutes(-5)] {
            assert_eq!(
                decide(Some(&prev), at, &source, timeout, MOSCOW),
                NewSession(Idle)
            );
        }
        let far = DateTime::<Utc>::MAX_UTC;
        assert_eq!(
            decide(Some(&prev), far, &source, Duration::MAX, MOSCOW),
            NewSession(DayBoundary)
        );
        assert_eq!(
            decide(
                Some(&prev),
                DateTime::<Utc>::MIN_UTC,
                &source,
                Duration::minutes(30),
                MOSCOW
            ),
            NewSession(Idle)
        );
    }

    fn arb_source() -> impl Strategy<Value = TrafficSource> {
        (
            "[a-z]{1,8}",
            "[a-z]{1,8}",
            proptest::option::of("[a-z]{1,8}"),
            prop_oneof![
                Just(SourceKind::Utm),
                Just(SourceKind::PaidClick),
                Just(SourceKind::Organic),
                Just(SourceKind::Social),
                Just(SourceKind::Referral),
                Just(SourceKind::Internal),
                Just(SourceKind::Direct),
            ],
        )
            .prop_map(|(source, medium, campaign, kind)| TrafficSource {
                source,
                medium,
                campaign,
                kind,
                ..TrafficSource::default()
            })
    }

    proptest! {
        #[test]
        fn same_source_within_timeout_on_same_day_continues(
            source in arb_source(),
            // 2000-01-01 .. 2100-01-01
            start in 946_684_800i64..4_102_444_800i64,
            gap_secs in 0i64..1800,
            timeout_min in 31i64..600,
        ) {
            let last = DateTime::from_timestamp(start, 0).expect("in range");
            let at = last + Duration::seconds(gap_secs);
            prop_assume!(local_date(at, MOSCOW) == local_date(last, MOSCOW));
            let prev = SessionState { started_at: last, last_hit_at: last, source_key: source.key() };
            prop_assert_eq!(
                decide(Some(&prev), at, &source, Duration::minutes(timeout_min), MOSCOW),
                Continue
            );
        }

        #[test]
        fn direct_or_internal_hits_never_change_the_source(
            session_source in arb_source(),
            internal in any::<bool>(),
            start in 946_684_800i64..4_102_444_800i64,
            gap_secs in 0i64..1800,
        ) {
            let last = DateTime::from_timestamp(start, 0).expect("in range");
            let at = last + Duration::seconds(gap_secs);
            let hit = TrafficSource {
                source: "(direct)".into(),
                medium: "(none)".into(),
                kind: if internal { SourceKind::Internal } else { SourceKind::Direct },
                ..TrafficSource::default()
            };
            let prev = SessionState { started_at: last, last_hit_at: last, source_key: session_source.key() };
            let got = decide(Some(&prev), at, &hit, Duration::minutes(30), MOSCOW);
            prop_assert_ne!(got, NewSession(SourceChanged));
            prop_assert_ne!(got, NewSession(Idle));
        }

        #[test]
        fn gap_at_or_over_timeout_is_idle(
            a in arb_source(),
            b in arb_source(),
            start in 946_684_800i64..4_102_444_800i64,
            timeout_min in 1i64..1440,
            extra in 0i64..100_000,
        ) {
            let last = DateTime::from_timestamp(start, 0).expect("in range");
            let timeout = Duration::minutes(timeout_min);
            let at = last + timeout + Duration::seconds(extra);
            let prev = SessionState { started_at: last, last_hit_at: last, source_key: a.key() };
            prop_assert_eq!(decide(Some(&prev), at, &b, timeout, MOSCOW), NewSession(Idle));
        }

        #[test]
        fn decide_never_panics(
            last in any::<i64>(),
            at in any::<i64>(),
            timeout in any::<i64>(),
            a in arb_source(),
            b in arb_source(),
        ) {
            let clamp = |t: i64| DateTime::from_timestamp(t % 8_000_000_000_000, 0).unwrap_or_default();
            let prev = SessionState { started_at: clamp(last), last_hit_at: clamp(last), source_key: a.key() };
            let timeout = Duration::try_milliseconds(timeout).unwrap_or(Duration::MAX);
            let _ = decide(Some(&prev), clamp(at), &b, timeout, chrono_tz::Asia::Kolkata);
        }
    }
}
