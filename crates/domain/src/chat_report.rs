//! The chat report's widgets as pure functions over its per-dialog rows:
//! the share of new and repeat dialogs, the top pages of first contact,
//! dialogs by channel, and the dynamics by day, week, month or quarter in
//! the project's time zone, with a second period to compare.
//!
//! Every widget is computed from the same rows the report lists, so the
//! widgets reconcile with the rows by construction; the property tests
//! below check it anyway.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the widgets need from one dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct DialogFacts {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// New (not repeat).
    pub is_new: bool,
    /// The page of first contact (`None` when unattributed).
    pub page: Option<String>,
    /// The channel of its visit (`None` when unattributed).
    pub channel: Option<String>,
}

/// Granularity of the dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Local days.
    Day,
    /// ISO weeks (from Monday).
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

impl Granularity {
    /// Parses `day`, `week`, `month`, `quarter`.
    pub fn parse(s: &str) -> Option<Granularity> {
        Some(match s {
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            "quarter" => Granularity::Quarter,
            _ => return None,
        })
    }

    /// The first day of the bucket holding `day`.
    pub fn bucket(self, day: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => day,
            Granularity::Week => {
                day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            Granularity::Month => day.with_day(1).unwrap_or(day),
            Granularity::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
            }
        }
    }
}

/// New against repeat dialogs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewRepeat {
    /// All dialogs.
    pub dialogs: u64,
    /// New dialogs.
    pub new: u64,
    /// Repeat dialogs.
    pub repeat: u64,
    /// `new / dialogs` in percent (0 when there are none).
    pub new_share: f64,
    /// `repeat / dialogs` in percent.
    pub repeat_share: f64,
}

/// A count under a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Page, channel…
    pub name: String,
    /// Dialogs.
    pub dialogs: u64,
}

/// One bucket of the dynamics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    /// The bucket's first day.
    pub start: NaiveDate,
    /// Dialogs that started in it.
    pub dialogs: u64,
    /// New ones.
    pub new: u64,
    /// Repeat ones.
    pub repeat: u64,
}

/// The share of new and repeat dialogs.
pub fn new_repeat(rows: &[DialogFacts]) -> NewRepeat {
    let new = rows.iter().filter(|r| r.is_new).count() as u64;
    let dialogs = rows.len() as u64;
    let pct = |n: u64| {
        if dialogs == 0 {
            0.0
        } else {
            (n as f64 * 10_000.0 / dialogs as f64).round() / 100.0
        }
    };
    NewRepeat {
        dialogs,
        new,
        repeat: dialogs - new,
        new_share: pct(new),
        repeat_share: pct(dialogs - new),
    }
}

/// The name unattributed dialogs are grouped under.
pub const UNATTRIBUTED: &str = "(unattributed)";

fn counts<'a>(names: impl Iterator<Item = &'a str>, limit: Option<usize>) -> Vec<Count> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for n in names {
        *by.entry(n).or_default() += 1;
    }
    let mut out: Vec<Count> = by
        .into_iter()
        .map(|(name, dialogs)| Count {
            name: name.to_owned(),
            dialogs,
        })
        .collect();
    // Most dialogs first; ties by name, so the order is stable.
    out.sort_by(|a, b| b.dialogs.cmp(&a.dialogs).then_with(|| a.name.cmp(&b.name)));
    if let Some(limit) = limit {
        out.truncate(limit);
    }
    out
}

/// Pages of first contact by dialogs, most first, at most `limit`
/// (unattributed dialogs under [`UNATTRIBUTED`]).
pub fn top_pages(rows: &[DialogFacts], limit: usize) -> Vec<Count> {
    counts(
        rows.iter()
            .map(|r| r.page.as_deref().unwrap_or(UNATTRIBUTED)),
        Some(limit),
    )
}

/// Dialogs by channel, most first (every channel; they sum to all dialogs).
pub fn channels(rows: &[DialogFacts]) -> Vec<Count> {
    counts(
        rows.iter()
            .map(|r| r.channel.as_deref().unwrap_or(UNATTRIBUTED)),
        None,
    )
}

/// Dialogs per bucket of local days in `[from, to]`, every bucket listed
/// (empty ones with zeros). Rows outside the days are not counted.
pub fn dynamics(
    rows: &[DialogFacts],
    tz: Tz,
    granularity: Granularity,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<Bucket> {
    let mut buckets: BTreeMap<NaiveDate, Bucket> = BTreeMap::new();
    let mut day = granularity.bucket(from);
    // Bounded: the caller limits the period.
    while day <= to {
        buckets.insert(
            day,
            Bucket {
                start: day,
                dialogs: 0,
                new: 0,
                repeat: 0,
            },
        );
        day = match granularity {
            Granularity::Day => day + chrono::Duration::days(1),
            Granularity::Week => day + chrono::Duration::days(7),
            Granularity::Month => day
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
            Granularity::Quarter => day
                .checked_add_months(chrono::Months::new(3))
                .unwrap_or(NaiveDate::MAX),
        };
    }
    for r in rows {
        let local = r.started_at.with_timezone(&tz).date_naive();
        if local < from || local > to {
            continue;
        }
        if let Some(b) = buckets.get_mut(&granularity.bucket(local)) {
            b.dialogs += 1;
            if r.is_new {
                b.new += 1;
            } else {
                b.repeat += 1;
            }
        }
    }
    buckets.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn row(ts: i64, is_new: bool, page: Option<&str>, channel: Option<&str>) -> DialogFacts {
        DialogFacts {
            started_at: Utc.timestamp_opt(ts, 0).single().expect("time"),
            is_new,
            page: page.map(str::to_owned),
            channel: channel.map(str::to_owned),
        }
    }

    #[test]
    fn days_are_local_days() {
        let tz: Tz = "Europe/Moscow".parse().expect("tz");
        // 2024-03-01 22:30 UTC is 2024-03-02 01:30 in Moscow.
        let r = row(1_709_332_200, true, None, None);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let b = dynamics(&[r], tz, Granularity::Day, d("2024-03-01"), d("2024-03-02"));
        assert_eq!(b[0].dialogs, 0);
        assert_eq!(b[1].dialogs, 1);
        assert_eq!(Granularity::Week.bucket(d("2024-03-02")), d("2024-02-26"));
        assert_eq!(
            Granularity::Quarter.bucket(d("2024-05-20")),
            d("2024-04-01")
        );
        assert_eq!(Granularity::Month.bucket(d("2024-05-20")), d("2024-05-01"));
    }

    #[test]
    fn shares_and_tops() {
        let rows = vec![
            row(0, true, Some("/a"), Some("paid search")),
            row(0, false, Some("/a"), Some("paid search")),
            row(0, true, Some("/b"), None),
            row(0, true, None, None),
        ];
        let nr = new_repeat(&rows);
        assert_eq!((nr.dialogs, nr.new, nr.repeat), (4, 3, 1));
        assert_eq!((nr.new_share, nr.repeat_share), (75.0, 25.0));
        let pages = top_pages(&rows, 2);
        assert_eq!(
            pages[0],
            Count {
                name: "/a".into(),
                dialogs: 2
            }
        );
        assert_eq!(pages.len(), 2);
        let ch = channels(&rows);
        assert_eq!(ch.iter().map(|c| c.dialogs).sum::<u64>(), 4);
    }

    proptest! {
        #[test]
        fn widgets_reconcile_with_rows(
            raw in proptest::collection::vec((0i64..400, any::<bool>(), 0u8..5, 0u8..4), 0..200),
            g in 0usize..4,
        ) {
            let tz: Tz = "Europe/Moscow".parse().expect("tz");
            let base = 1_704_056_400; // 2024-01-01 00:00 Moscow
            let pages = ["/a", "/b", "/c", "/d"];
            let chans = ["paid search", "direct", "social"];
            let rows: Vec<DialogFacts> = raw.iter().map(|(d, n, p, c)| DialogFacts {
                started_at: Utc.timestamp_opt(base + d * 86_400 + 3_600, 0).single().expect("time"),
                is_new: *n,
                page: pages.get(*p as usize).map(|s| (*s).to_owned()),
                channel: chans.get(*c as usize).map(|s| (*s).to_owned()),
            }).collect();
            let from = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
            let to = NaiveDate::from_ymd_opt(2025, 2, 3).expect("date");
            let gran = [Granularity::Day, Granularity::Week, Granularity::Month, Granularity::Quarter][g];
            let nr = new_repeat(&rows);
            prop_assert_eq!(nr.dialogs, rows.len() as u64);
            prop_assert_eq!(nr.new + nr.repeat, nr.dialogs);
            prop_assert_eq!(channels(&rows).iter().map(|c| c.dialogs).sum::<u64>(), nr.dialogs);
            prop_assert_eq!(top_pages(&rows, 1000).iter().map(|c| c.dialogs).sum::<u64>(), nr.dialogs);
            let dyn_ = dynamics(&rows, tz, gran, from, to);
            prop_assert_eq!(dyn_.iter().map(|b| b.dialogs).sum::<u64>(), nr.dialogs);
            prop_assert_eq!(dyn_.iter().map(|b| b.new).sum::<u64>(), nr.new);
            for w in dyn_.windows(2) {
                prop_assert!(w[0].start < w[1].start);
            }
        }
    }
}
