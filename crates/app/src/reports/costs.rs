//! Ad spend in: `POST /api/v1/costs` (JSON lines) and `skvoz import costs`
//! (a CSV file). Lines are spread over their days, merged by day and
//! dimensions, and stored so that each `(day, source)` an import names is
//! replaced — importing the same file twice changes nothing.

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use serde::{Deserialize, Serialize};
use skvoz_domain::cost::{merge_daily, CostKey, CostLine, DailyCost};
use skvoz_domain::Money;

/// Most lines one import takes.
pub const MAX_LINES: usize = 200_000;

/// Daily rows written per store transaction (an import is split only
/// between `(day, source)` groups, so a group is replaced whole).
const CHUNK_ROWS: usize = 5_000;

/// One line of `POST /api/v1/costs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostInput {
    /// The day, or a range `FROM..TO` (project days).
    pub date: Option<String>,
    /// First day of a range (with `date_to`).
    pub date_from: Option<String>,
    /// Last day of a range, inclusive.
    pub date_to: Option<String>,
    /// `utm_source`.
    pub source: String,
    /// `utm_medium` (default `cpc`).
    pub medium: Option<String>,
    /// `utm_campaign`.
    pub campaign: Option<String>,
    /// `utm_content`: the ad.
    pub ad: Option<String>,
    /// `utm_term`: the keyword.
    pub keyword: Option<String>,
    /// Spend in the project currency (decimal).
    pub cost: f64,
    /// Clicks.
    pub clicks: Option<i64>,
    /// Impressions.
    pub impressions: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CostImport {
    /// Lines read.
    pub lines: u64,
    /// Daily rows written.
    pub rows: u64,
    /// Stored rows the import replaced.
    pub replaced: u64,
    /// Distinct days touched.
    pub days: u64,
}

/// Cost import.
#[derive(Clone)]
pub struct CostService {
    store: DynStore,
}

impl CostInput {
    fn to_line(&self, i: usize) -> Result<CostLine, AppError> {
        let field = |name: &str| format!("[{i}].{name}");
        let (from, to) = match (&self.date, &self.date_from, &self.date_to) {
            (Some(d), None, None) => skvoz_connectors::costs::parse_days(d).ok_or_else(|| {
                AppError::invalid(field("date"), "date must be YYYY-MM-DD or FROM..TO")
            })?,
            (None, Some(a), Some(b)) => {
                let day = |v: &str, name: &str| {
                    skvoz_connectors::costs::parse_day(v).ok_or_else(|| {
                        AppError::invalid(field(name), format!("{name} must be YYYY-MM-DD"))
                    })
                };
                (day(a, "date_from")?, day(b, "date_to")?)
            }
            _ => {
                return Err(AppError::invalid(
                    field("date"),
                    "give date, or date_from and date_to",
                ))
            }
        };
        let cost = Money::from_decimal(self.cost)
            .ok_or_else(|| AppError::invalid(field("cost"), "cost is not an amount"))?;
        let line = CostLine {
            from,
            to,
            key: CostKey::normalized(
                &self.source,
                self.medium.as_deref(),
                self.campaign.as_deref(),
                self.ad.as_deref(),
                self.keyword.as_deref(),
            ),
            cost,
            clicks: self.clicks.unwrap_or(0),
            impressions: self.impressions.unwrap_or(0),
        };
        line.validate().map_err(|e| {
            let name = match e {
                skvoz_domain::cost::CostError::NoSource => "source",
                skvoz_domain::cost::CostError::BadRange => "date",
                skvoz_domain::cost::CostError::Negative => "cost",
                skvoz_domain::cost::CostError::TooLong => "source",
            };
            AppError::invalid(field(name), e.to_string())
        })?;
        Ok(line)
    }
}

impl CostService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        CostService { store }
    }

    /// `POST /api/v1/costs`.
    pub async fn import_json(
        &self,
        ctx: &ProjectContext,
        input: Vec<CostInput>,
    ) -> Result<CostImport, AppError> {
        if input.is_empty() {
            return Err(AppError::invalid("", "send at least one cost line"));
        }
        if input.len() > MAX_LINES {
            return Err(AppError::invalid(
                "",
                format!("at most {MAX_LINES} lines per import"),
            ));
        }
        let lines = input
            .iter()
            .enumerate()
            .map(|(i, l)| l.to_line(i))
            .collect::<Result<Vec<_>, _>>()?;
        self.import_lines(ctx, lines, &|_, _| {}).await
    }

    /// Imports parsed lines; `progress(done, all)` is called after every
    /// stored chunk of daily rows.
    pub async fn import_lines(
        &self,
        ctx: &ProjectContext,
        lines: Vec<CostLine>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<CostImport, AppError> {
        if lines.len() > MAX_LINES {
            return Err(AppError::invalid(
                "",
                format!("at most {MAX_LINES} lines per import"),
            ));
        }
        let mut out = CostImport {
            lines: lines.len() as u64,
            ..CostImport::default()
        };
        let rows: Vec<DailyCost> = merge_daily(lines.iter().flat_map(CostLine::spread));
        let mut days: Vec<_> = rows.iter().map(|r| r.day).collect();
        days.dedup();
        out.days = days.len() as u64;
        let total = rows.len() as u64;
        let mut chunk: Vec<DailyCost> = Vec::new();
        let mut done = 0u64;
        let mut iter = rows.into_iter().peekable();
        while let Some(r) = iter.next() {
            let boundary = iter
                .peek()
                .is_none_or(|n| n.day != r.day || n.key.source != r.key.source);
            chunk.push(r);
            if boundary && (chunk.len() >= CHUNK_ROWS || iter.peek().is_none()) {
                let n = chunk.len() as u64;
                let replaced = self
                    .store
                    .replace_costs(ctx.scope, std::mem::take(&mut chunk))
                    .await?;
                out.rows += replaced.rows;
                out.replaced += replaced.removed;
                done += n;
                progress(done, total);
            }
        }
        Ok(out)
    }
}
