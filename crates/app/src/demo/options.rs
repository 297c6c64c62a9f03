//! What a run is asked for ([`DemoOptions`], checked before anything is
//! created) and what it produced ([`DemoStats`]).

use crate::AppError;
use chrono::{NaiveDate, Utc};

/// Most visitors one run generates.
const MAX_VISITORS: u32 = 10_000_000;

/// Most days of history.
const MAX_DAYS: u32 = 3_650;

/// What [`generate`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Days of history before [`DemoOptions::end`] (default 90).
    pub days: u32,
    /// Seed of the random streams: the same seed and `end` give the same
    /// data (default 42).
    pub seed: u64,
    /// People visiting the site; each makes one or more visits (default
    /// 3000). Crawlers come on top.
    pub visitors: u32,
    /// The data stops at midnight UTC at the start of this day (default
    /// today): the last day of history is the day before. Must not be later
    /// than today.
    pub end: NaiveDate,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            days: 90,
            seed: 42,
            visitors: 3_000,
            end: Utc::now().date_naive(),
        }
    }
}

impl DemoOptions {
    pub(super) fn validate(&self) -> Result<(), AppError> {
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(AppError::invalid(
                "days",
                format!("days must be 1-{MAX_DAYS}"),
            ));
        }
        if !(1..=MAX_VISITORS).contains(&self.visitors) {
            return Err(AppError::invalid(
                "visitors",
                format!("visitors must be 1-{MAX_VISITORS}"),
            ));
        }
        if self.end > Utc::now().date_naive() {
            return Err(AppError::invalid("end", "end must not be later than today"));
        }
        Ok(())
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoStats {
    /// Visitors (people; crawlers not counted).
    pub visitors: u64,
    /// Visits, as sessionization cut them.
    pub visits: u64,
    /// Page views and events of those visits (crawler hits not counted).
    pub hits: u64,
    /// Leads (forms and messenger dialogs), duplicates included.
    pub leads: u64,
    /// Deals (one per lead that was not a duplicate).
    pub deals: u64,
    /// Deals that reached the won stage.
    pub won: u64,
    /// Daily cost rows (campaign × ad × keyword × day).
    pub cost_rows: u64,
    /// Messenger dialogs (their leads are counted in `leads`).
    pub dialogs: u64,
    /// Calls (call tracking), to tracking numbers and the shop's own.
    pub calls: u64,
    /// Support tickets (their leads of kind `ticket` are not in `leads`).
    pub tickets: u64,
    /// Survey answers (CSAT after tickets, NPS after sales).
    pub survey_answers: u64,
}
