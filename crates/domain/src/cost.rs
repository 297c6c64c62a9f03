//! Ad spend: cost lines as they arrive (one day or a date range, any of
//! the report dimensions) and the daily rows they become.
//!
//! A line covering several days is spread evenly over them in minor units;
//! the remainder goes one kopeck at a time to the first days, so the daily
//! rows add up to exactly the line's amount (the same for clicks and
//! impressions).

use crate::Money;
use chrono::NaiveDate;
use serde::Serialize;

/// Longest date range one cost line may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The medium of a cost line that names none: ad spend is paid traffic.
pub const DEFAULT_MEDIUM: &str = "cpc";

/// One cost line: spend over `from..=to` for a source and, optionally, a
/// medium, campaign, ad (`utm_content`) and keyword (`utm_term`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostLine {
    /// First day (project time zone).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// Dimensions, normalized as visits are (see [`CostKey::normalized`]).
    pub key: CostKey,
    /// Spend over the whole range.
    pub cost: Money,
    /// Clicks over the range.
    pub clicks: i64,
    /// Impressions over the range.
    pub impressions: i64,
}

/// The dimensions of a cost row, matched against visits' UTM values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CostKey {
    /// `utm_source`.
    pub source: String,
    /// `utm_medium` ([`DEFAULT_MEDIUM`] when not given).
    pub medium: String,
    /// `utm_campaign` (`""` when not given).
    pub campaign: String,
    /// `utm_content`: the ad (`""` when not given).
    pub ad: String,
    /// `utm_term`: the keyword (`""` when not given).
    pub keyword: String,
}

impl CostKey {
    /// Trims and lower-cases every part, as the tracker does with UTM tags,
    /// so that costs meet their visits; an empty medium becomes
    /// [`DEFAULT_MEDIUM`].
    pub fn normalized(
        source: &str,
        medium: Option<&str>,
        campaign: Option<&str>,
        ad: Option<&str>,
        keyword: Option<&str>,
    ) -> CostKey {
        let norm = |v: Option<&str>| v.map(|s| s.trim().to_lowercase()).unwrap_or_default();
        let medium = norm(medium);
        CostKey {
            source: norm(Some(source)),
            medium: if medium.is_empty() {
                DEFAULT_MEDIUM.to_owned()
            } else {
                medium
            },
            campaign: norm(campaign),
            ad: norm(ad),
            keyword: norm(keyword),
        }
    }
}

/// One day of spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyCost {
    /// The day (project time zone).
    pub day: NaiveDate,
    /// Dimensions.
    pub key: CostKey,
    /// Spend.
    pub cost: Money,
    /// Clicks.
    pub clicks: i64,
    /// Impressions.
    pub impressions: i64,
}

/// Why a cost line is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// No source.
    #[error("source is required")]
    NoSource,
    /// `to` before `from`, or a range that is too long.
    #[error("the date range is reversed or longer than {MAX_RANGE_DAYS} days")]
    BadRange,
    /// Negative spend, clicks or impressions.
    #[error("cost, clicks and impressions must not be negative")]
    Negative,
    /// A dimension is longer than 500 characters.
    #[error("a dimension is longer than 500 characters")]
    TooLong,
}

impl CostLine {
    /// Checks the line.
    pub fn validate(&self) -> Result<(), CostError> {
        if self.key.source.is_empty() {
            return Err(CostError::NoSource);
        }
        let days = (self.to - self.from).num_days();
        if !(0..MAX_RANGE_DAYS).contains(&days) {
            return Err(CostError::BadRange);
        }
        if self.cost.0 < 0 || self.clicks < 0 || self.impressions < 0 {
            return Err(CostError::Negative);
        }
        let k = &self.key;
        if [&k.source, &k.medium, &k.campaign, &k.ad, &k.keyword]
            .iter()
            .any(|s| s.chars().count() > 500)
        {
            return Err(CostError::TooLong);
        }
        Ok(())
    }

    /// The line as daily rows, spread evenly over its days.
    pub fn spread(&self) -> Vec<DailyCost> {
        let days = ((self.to - self.from).num_days().max(0) + 1) as usize;
        let costs = split(self.cost.0, days);
        let clicks = split(self.clicks, days);
        let impressions = split(self.impressions, days);
        (0..days)
            .map(|i| DailyCost {
                day: self.from + chrono::Duration::days(i as i64),
                key: self.key.clone(),
                cost: Money(costs[i]),
                clicks: clicks[i],
                impressions: impressions[i],
            })
            .collect()
    }
}

/// Splits a non-negative integer into `parts` near-equal parts summing to
/// it exactly; the first `total % parts` parts get one more.
pub fn split(total: i64, parts: usize) -> Vec<i64> {
    if parts == 0 {
        return Vec::new();
    }
    let n = parts as i64;
    let (base, rest) = (total.div_euclid(n), total.rem_euclid(n));
    (0..n).map(|i| base + i64::from(i < rest)).collect()
}

/// Adds up daily rows with the same day and dimensions (a file may list a
/// key twice, or a range may overlap a single day of the same key).
pub fn merge_daily(rows: impl IntoIterator<Item = DailyCost>) -> Vec<DailyCost> {
    let mut map: std::collections::BTreeMap<(NaiveDate, CostKey), DailyCost> =
        std::collections::BTreeMap::new();
    for r in rows {
        map.entry((r.day, r.key.clone()))
            .and_modify(|m| {
                m.cost += r.cost;
                m.clicks += r.clicks;
                m.impressions += r.impressions;
            })
            .or_insert(r);
    }
    map.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn line(from: &str, to: &str, cost: i64) -> CostLine {
        CostLine {
            from: day(from),
            to: day(to),
            key: CostKey::normalized(" Yandex ", None, Some("Brand"), None, None),
            cost: Money(cost),
            clicks: 10,
            impressions: 0,
        }
    }

    #[test]
    fn a_range_is_spread_evenly_to_the_kopeck() {
        let rows = line("2026-11-01", "2026-11-03", 10_000).spread();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows.iter().map(|r| r.cost.0).collect::<Vec<_>>(),
            [3334, 3333, 3333]
        );
        assert_eq!(rows.iter().map(|r| r.clicks).collect::<Vec<_>>(), [4, 3, 3]);
        assert_eq!(rows[2].day, day("2026-11-03"));
        assert_eq!(rows[0].key.source, "yandex");
        assert_eq!(rows[0].key.medium, "cpc");
        assert_eq!(rows[0].key.campaign, "brand");
    }

    #[test]
    fn bad_lines_are_refused() {
        assert_eq!(
            line("2026-11-03", "2026-11-01", 1).validate(),
            Err(CostError::BadRange)
        );
        assert_eq!(
            line("2025-01-01", "2026-11-01", 1).validate(),
            Err(CostError::BadRange)
        );
        assert_eq!(
            line("2026-11-01", "2026-11-01", -1).validate(),
            Err(CostError::Negative)
        );
        let mut l = line("2026-11-01", "2026-11-01", 1);
        l.key.source.clear();
        assert_eq!(l.validate(), Err(CostError::NoSource));
        assert!(line("2026-11-01", "2026-11-30", 1).validate().is_ok());
    }

    #[test]
    fn merging_adds_the_same_day_and_key() {
        let mut rows = line("2026-11-01", "2026-11-02", 200).spread();
        rows.extend(line("2026-11-02", "2026-11-02", 50).spread());
        let merged = merge_daily(rows);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[1].cost, Money(150));
        assert_eq!(merged[1].clicks, 15);
    }

    proptest! {
        #[test]
        fn spreading_keeps_the_total(total in 0i64..10_000_000_000, days in 0i64..365) {
            let mut l = line("2026-01-01", "2026-01-01", total);
            l.to = l.from + chrono::Duration::days(days);
            let rows = l.spread();
            prop_assert_eq!(rows.len() as i64, days + 1);
            prop_assert_eq!(rows.iter().map(|r| r.cost.0).sum::<i64>(), total);
            let max = rows.iter().map(|r| r.cost.0).max().unwrap_or(0);
            let min = rows.iter().map(|r| r.cost.0).min().unwrap_or(0);
            prop_assert!(max - min <= 1);
        }
    }
}
