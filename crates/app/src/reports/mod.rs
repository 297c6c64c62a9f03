//! Reports: the channel report (drill-down by channel → source → campaign
//! → ad → keyword, several attribution models side by side, period
//! comparison), dynamics over days, weeks, months or quarters, the
//! deal-stage funnel, and the period's journeys as paths (the input of
//! ChannelAttribution) — as JSON, CSV or a text table, the same numbers
//! whichever way they are asked for (HTTP, CLI).
//!
//! Reports are live: each request first brings the project's in-memory
//! index up to date (new visits; the CRM facts when they changed), then
//! runs the engine over it. See [`index`] and [`engine`]. A fresh process
//! starts a project's index from its on-disk snapshot (see [`snapshot`])
//! when there is a good one, and writes a new snapshot after reading many
//! new visits.

pub mod costs;
pub mod engine;
mod index;
pub mod render;
mod service;
mod snapshot;

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use engine::{Aggregates, DateMode, Dim, EngineQuery};
use index::ProjectIndex;
use parking_lot::Mutex;
use render::{MetricSet, Row};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use skvoz_domain::attribution::ModelKind;
use skvoz_domain::settings::StageKind;
use skvoz_domain::ProjectId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Longest period a report covers.
pub const MAX_PERIOD_DAYS: i64 = 1_100;

/// Report parameters as they arrive (query string, CLI flags); every field
/// optional, validated by the report that uses it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// First day (project time zone), `YYYY-MM-DD`; default 29 days before `to`.
    pub from: Option<String>,
    /// Last day, inclusive; default today.
    pub to: Option<String>,
    /// Model name, or several comma-separated (the first is primary).
    pub model: Option<String>,
    /// Comma-separated dimensions: `channel,source,medium,campaign,ad,keyword`.
    pub group_by: Option<String>,
    /// `conversion` (default) or `session`.
    pub date_mode: Option<String>,
    /// First day of the comparison period.
    pub compare_from: Option<String>,
    /// Last day of the comparison period.
    pub compare_to: Option<String>,
    /// Metric to sort rows by (descending); default `visits`.
    pub sort: Option<String>,
    /// Dynamics: the metric.
    pub metric: Option<String>,
    /// Dynamics: `day`, `week`, `month` or `quarter`.
    pub granularity: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Paths: the conversions exported (`leads`, `deals`, `sales`; default
    /// `sales`).
    pub conversion: Option<String>,
}

/// A period of whole project days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

impl Period {
    fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// Time buckets of dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// Days.
    Day,
    /// ISO weeks (Monday first).
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

impl Granularity {
    fn parse(s: &str) -> Option<Granularity> {
        Some(match s {
            "day" => Granularity::Day,
            "week" => Granularity::Week,
            "month" => Granularity::Month,
            "quarter" => Granularity::Quarter,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
            Granularity::Quarter => "quarter",
        }
    }

    /// The start of the bucket holding `d`.
    fn start_of(self, d: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => d,
            Granularity::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Granularity::Month => d.with_day(1).unwrap_or(d),
            Granularity::Quarter => {
                NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d)
            }
        }
    }

    fn next(self, d: NaiveDate) -> NaiveDate {
        match self {
            Granularity::Day => d + Duration::days(1),
            Granularity::Week => d + Duration::days(7),
            Granularity::Month => d.checked_add_months(chrono::Months::new(1)).unwrap_or(d),
            Granularity::Quarter => d.checked_add_months(chrono::Months::new(3)).unwrap_or(d),
        }
    }

    fn label(self, d: NaiveDate) -> String {
        match self {
            Granularity::Day => d.to_string(),
            Granularity::Week => {
                let w = d.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Granularity::Month => format!("{}-{:02}", d.year(), d.month()),
            Granularity::Quarter => format!("{}-Q{}", d.year(), d.month0() / 3 + 1),
        }
    }
}

/// A report in both shapes: the JSON document and the table behind CSV and
/// text output.
#[derive(Debug, Clone)]
pub struct Report {
    /// The JSON answer.
    pub json: Value,
    /// Column names.
    pub header: Vec<String>,
    /// Lines (the totals line last, where a report has one).
    pub lines: Vec<Vec<String>>,
}

impl Report {
    /// As CSV.
    pub fn csv(&self) -> String {
        render::to_csv(&self.header, &self.lines)
    }

    /// As an aligned text table.
    pub fn table(&self) -> String {
        render::to_table(&self.header, &self.lines)
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Box<ProjectIndex>>>>;

/// Where and when the report index snapshots of a node are written.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// The folder holding one file per project.
    pub dir: PathBuf,
    /// A project's snapshot is (re)written after a report that found at
    /// least this many visits the last snapshot did not have.
    pub min_new_visits: usize,
}

impl SnapshotOptions {
    /// Visits a snapshot waits for by default: below this, reading the
    /// rows takes well under a second anyway.
    pub const MIN_NEW_VISITS: usize = 20_000;

    /// Snapshots in `DATA/report-index`.
    pub fn in_data_dir(data: &Path) -> SnapshotOptions {
        SnapshotOptions {
            dir: data.join("report-index"),
            min_new_visits: Self::MIN_NEW_VISITS,
        }
    }
}

/// The reports of every project on this node.
pub struct ReportService {
    store: DynStore,
    indexes: Mutex<HashMap<ProjectId, Slot>>,
    snapshots: Option<SnapshotOptions>,
    /// Snapshot writes in flight (awaited by [`ReportService::flush`]).
    writes: Mutex<tokio::task::JoinSet<()>>,
}

fn parse_day(field: &str, value: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("{field} must be a date YYYY-MM-DD")))
}

/// The day `tz` is at now.
fn today(tz: chrono_tz::Tz) -> NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// Midnight starting `day` in `tz`, as Unix ms (the first instant of the
/// day where a DST change skips midnight).
pub fn day_start_ms(tz: chrono_tz::Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.timestamp_millis(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp_millis(),
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map_or_else(
                || midnight.and_utc().timestamp_millis(),
                |t| t.timestamp_millis(),
            ),
    }
}

fn period(
    params_from: &Option<String>,
    params_to: &Option<String>,
    names: (&str, &str),
    tz: chrono_tz::Tz,
) -> Result<Period, AppError> {
    let to = match params_to {
        Some(t) => parse_day(names.1, t)?,
        None => today(tz),
    };
    let from = match params_from {
        Some(f) => parse_day(names.0, f)?,
        None => to - Duration::days(29),
    };
    let p = Period { from, to };
    if p.to < p.from {
        return Err(AppError::invalid(
            names.1,
            format!("{} is before {}", names.1, names.0),
        ));
    }
    if p.days() > MAX_PERIOD_DAYS {
        return Err(AppError::invalid(
            names.1,
            format!("a period is at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    Ok(p)
}

/// The parsed common part of a report request.
struct Common {
    period: Period,
    compare: Option<Period>,
    models: Vec<ModelKind>,
    group_by: Vec<Dim>,
    date_mode: DateMode,
}

fn common(
    ctx: &ProjectContext,
    p: &ReportParams,
    default_group: &[Dim],
) -> Result<Common, AppError> {
    let period = period(&p.from, &p.to, ("from", "to"), ctx.tz)?;
    let compare = match (&p.compare_from, &p.compare_to) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            return Err(AppError::invalid(
                if p.compare_from.is_none() {
                    "compare_from"
                } else {
                    "compare_to"
                },
                "compare_from and compare_to go together",
            ))
        }
        _ => Some(self::period(
            &p.compare_from,
            &p.compare_to,
            ("compare_from", "compare_to"),
            ctx.tz,
        )?),
    };
    let model_text = p
        .model
        .clone()
        .unwrap_or_else(|| ctx.settings.attribution.default_model.clone());
    let mut models = Vec::new();
    for name in model_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let m = ModelKind::parse(name).ok_or_else(|| {
            AppError::invalid(
                "model",
                format!(
                    "unknown model '{name}': use {}",
                    ModelKind::ALL.map(ModelKind::as_str).join(", ")
                ),
            )
        })?;
        if !models.contains(&m) {
            models.push(m);
        }
    }
    if models.is_empty() {
        models.push(ModelKind::LastNonDirect);
    }
    let group_by = match &p.group_by {
        None => default_group.to_vec(),
        Some(text) => {
            let mut dims = Vec::new();
            for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let d = Dim::parse(name).ok_or_else(|| {
                    AppError::invalid(
                        "group_by",
                        format!("unknown dimension '{name}': use channel, source, medium, campaign, ad, keyword"),
                    )
                })?;
                if dims.contains(&d) {
                    return Err(AppError::invalid(
                        "group_by",
                        format!("'{name}' is named twice"),
                    ));
                }
                dims.push(d);
            }
            dims
        }
    };
    let date_mode = match p.date_mode.as_deref() {
        None | Some("conversion") => DateMode::Conversion,
        Some("session") => DateMode::Session,
        Some(_) => {
            return Err(AppError::invalid(
                "date_mode",
                "date_mode is conversion or session",
            ))
        }
    };
    Ok(Common {
        period,
        compare,
        models,
        group_by,
        date_mode,
    })
}

fn dims_json(group_by: &[Dim], values: &[String]) -> Map<String, Value> {
    group_by
        .iter()
        .zip(values)
        .map(|(d, v)| (d.as_str().to_owned(), Value::from(v.clone())))
        .collect()
}

impl ReportService {
    /// Over a store, without snapshots.
    pub fn new(store: DynStore) -> Self {
        Self::with_snapshots(store, None)
    }

    /// Over a store, keeping index snapshots as `snapshots` says.
    pub fn with_snapshots(store: DynStore, snapshots: Option<SnapshotOptions>) -> Self {
        ReportService {
            store,
            indexes: Mutex::new(HashMap::new()),
            snapshots,
            writes: Mutex::new(tokio::task::JoinSet::new()),
        }
    }

    /// Waits for the snapshot writes in flight (call before the process
    /// exits, so a one-shot CLI report leaves its snapshot behind).
    pub async fn flush(&self) {
        let mut writes = std::mem::take(&mut *self.writes.lock());
        while let Some(done) = writes.join_next().await {
            if let Err(e) = done {
                tracing::warn!(error = %e, "report index snapshot write failed");
            }
        }
    }

    /// Runs `f` on the project's index, brought up to date first, off the
    /// async runtime. Requests of one project take turns.
    async fn with_index<T: Send + 'static>(
        &self,
        ctx: &ProjectContext,
        f: impl FnOnce(&mut ProjectIndex) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let slot = self
            .indexes
            .lock()
            .entry(ctx.project.id)
            .or_default()
            .clone();
        let mut guard = slot.lock().await;
        let index = guard.take().unwrap_or_default();
        let snapshots = self.snapshots.as_ref();
        let mut index = index
            .refresh(&self.store, ctx.scope, snapshots.map(|s| s.dir.clone()))
            .await?;
        let encode = snapshots.is_some_and(|s| index.visits.unsaved >= s.min_new_visits);
        let project = ctx.project.id;
        let (index, out, bytes) = tokio::task::spawn_blocking(move || {
            let out = f(&mut index);
            // Encoded here, while the index is at hand (tens of ms for
            // millions of visits); written to disk in the background.
            let bytes = encode.then(|| {
                index.visits.unsaved = 0;
                let rescan_from = index.visits.snapshot_rescan_from(std::time::Instant::now());
                snapshot::encode(project, &index.visits, rescan_from)
            });
            (index, out, bytes)
        })
        .await
        .map_err(|e| AppError::Internal(format!("report: {e}")))?;
        *guard = Some(index);
        if let (Some(bytes), Some(s)) = (bytes, snapshots) {
            let dir = s.dir.clone();
            let mut writes = self.writes.lock();
            while writes.try_join_next().is_some() {}
            writes.spawn_blocking(move || {
                if let Err(e) = snapshot::store(&dir, project, &bytes) {
                    tracing::warn!(project = project.0, error = %e, "cannot write the report index snapshot");
                }
            });
        }
        Ok(out)
    }

    /// Runs the engine for one period with buckets from `granularity`
    /// (`None`: one bucket).
    async fn aggregate(
        &self,
        ctx: &Arc<ProjectContext>,
        c: &Common,
        period: Period,
        granularity: Option<Granularity>,
        funnel: bool,
    ) -> Result<(Aggregates, Vec<NaiveDate>), AppError> {
        let mut days = vec![period.from];
        if let Some(g) = granularity {
            let mut d = g.next(g.start_of(period.from));
            while d <= period.to {
                days.push(d);
                d = g.next(d);
            }
        }
        days.push(period.to + Duration::days(1));
        let boundaries: Vec<i64> = days.iter().map(|d| day_start_ms(ctx.tz, *d)).collect();
        let ctx2 = ctx.clone();
        let group_by = c.group_by.clone();
        let models = c.models.clone();
        let date_mode = c.date_mode;
        let stages: Option<Vec<String>> = funnel.then(|| {
            ctx.settings
                .pipeline
                .stages
                .iter()
                .filter(|s| s.kind != StageKind::Lost)
                .map(|s| s.name.clone())
                .collect()
        });
        let days2 = days.clone();
        let agg = self
            .with_index(ctx, move |index| {
                engine::run(
                    index,
                    &EngineQuery {
                        boundaries: &boundaries,
                        day_boundaries: &days2,
                        group_by: &group_by,
                        models: &models,
                        date_mode,
                        attribution: &ctx2.settings.attribution,
                        channels: &ctx2.channels,
                        settings_version: ctx2.version,
                        funnel_stages: stages.as_deref(),
                    },
                )
            })
            .await?;
        Ok((agg, days))
    }

    /// `GET /api/v1/reports/channels`.
    pub async fn channels(
        &self,
        ctx: &Arc<ProjectContext>,
        params: &ReportParams,
    ) -> Result<Report, AppError> {
        let c = common(ctx, params, &[Dim::Channel])?;
        let sort = params.sort.clone().unwrap_or_else(|| "visits".to_owned());
        if !render::METRICS.contains(&sort.as_str()) {
            return Err(AppError::invalid(
                "sort",
                format!("unknown metric '{sort}'"),
            ));
        }
        let (agg, _) = self.aggregate(ctx, &c, c.period, None, false).await?;
        let (mut rows, totals) = render::grouped_rows(&agg);
        let previous = match c.compare {
            Some(p) => {
                let (prev, _) = self.aggregate(ctx, &c, p, None, false).await?;
                Some(render::grouped_rows(&prev))
            }
            None => None,
        };
        // Rows only the previous period has still show, with zeros now.
        let mut prev_by_dims: HashMap<Vec<String>, Vec<MetricSet>> = HashMap::new();
        if let Some((prev_rows, _)) = &previous {
            for r in prev_rows {
                prev_by_dims.insert(r.dims.clone(), r.models.clone());
            }
            for r in prev_rows {
                if !rows.iter().any(|x| x.dims == r.dims) {
                    rows.push(Row {
                        dims: r.dims.clone(),
                        models: vec![render::zero_set(); c.models.len()],
                    });
                }
            }
        }
        let key = |r: &Row| r.models[0].get(&sort).unwrap_or(f64::NEG_INFINITY);
        rows.sort_by(|a, b| {
            let unatt = |r: &Row| r.dims.first().is_some_and(|d| d == engine::UNATTRIBUTED);
            unatt(a)
                .cmp(&unatt(b))
                .then(key(b).total_cmp(&key(a)))
                .then(a.dims.cmp(&b.dims))
        });
        let dim_names: Vec<&str> = c.group_by.iter().map(|d| d.as_str()).collect();
        let compare = previous.is_some();
        let header = render::columns(&dim_names, &c.models, compare);
        let mut lines = Vec::new();
        let mut json_rows = Vec::new();
        let zero = render::zero_set();
        let row_out = |dims: &[String],
                       sets: &[MetricSet],
                       prev: Option<&MetricSet>,
                       lines: &mut Vec<Vec<String>>| {
            let mut obj = dims_json(&c.group_by, dims);
            obj.extend(render::metrics_json(&sets[0], None));
            if sets.len() > 1 {
                let by_model: Map<String, Value> = c
                    .models
                    .iter()
                    .zip(sets)
                    .map(|(m, s)| {
                        (
                            m.as_str().to_owned(),
                            Value::Object(render::metrics_json(
                                s,
                                Some(render::ATTRIBUTED_METRICS),
                            )),
                        )
                    })
                    .collect();
                obj.insert("by_model".into(), Value::Object(by_model));
            }
            let delta = prev.map(|p| render::change_set(&sets[0], p));
            if let (Some(p), Some(d)) = (prev, &delta) {
                obj.insert(
                    "previous".into(),
                    Value::Object(render::metrics_json(p, None)),
                );
                obj.insert(
                    "change".into(),
                    Value::Object(render::metrics_json(d, None)),
                );
            }
            lines.push(render::line(dims, sets, prev, delta.as_ref()));
            Value::Object(obj)
        };
        for r in &rows {
            let prev = if compare {
                Some(prev_by_dims.get(&r.dims).map_or(&zero, |m| &m[0]))
            } else {
                None
            };
            json_rows.push(row_out(&r.dims, &r.models, prev, &mut lines));
        }
        let total_dims: Vec<String> = (0..c.group_by.len())
            .map(|i| {
                if i == 0 {
                    "(total)".to_owned()
                } else {
                    String::new()
                }
            })
            .collect();
        let prev_totals = previous.as_ref().map(|(_, t)| &t[0]);
        let totals_json = row_out(&total_dims, &totals, prev_totals, &mut lines);
        let mut totals_json = match totals_json {
            Value::Object(mut m) => {
                for d in &c.group_by {
                    m.remove(d.as_str());
                }
                Value::Object(m)
            }
            v => v,
        };
        if agg.markov_truncated {
            totals_json["warning"] = json!(format!(
                "markov: more than {} groups; credit split equally — group by fewer dimensions",
                skvoz_domain::attribution::MarkovChain::MAX_STATES
            ));
        }
        let mut json = json!({
            "from": c.period.from.to_string(),
            "to": c.period.to.to_string(),
            "model": c.models[0].as_str(),
            "models": c.models.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "date_mode": c.date_mode.as_str(),
            "group_by": dim_names,
            "currency": ctx.settings.general.currency.to_string(),
            "time_zone": ctx.tz.name(),
            "rows": json_rows,
            "totals": totals_json,
        });
        if let Some(p) = c.compare {
            json["compare"] = json!({"from": p.from.to_string(), "to": p.to.to_string()});
        }
        Ok(Report {
            json,
            header,
            lines,
        })
    }

    /// `GET /api/v1/reports/paths`: every journey of the period in
    /// ChannelAttribution's input shape — `path` (`a > b > c`, the groups
    /// of `group_by` in time order, repeats kept), `total_conversions`,
    /// `total_null`, `total_conversion_value` — for one conversion type
    /// (`conversion`: `leads`, `deals` or `sales`, the default, whose value
    /// is the revenue). The same journeys `markov` builds its chain from.
    pub async fn paths(
        &self,
        ctx: &Arc<ProjectContext>,
        params: &ReportParams,
    ) -> Result<Report, AppError> {
        let c = common(ctx, params, &[Dim::Channel])?;
        let conversion = match params.conversion.as_deref() {
            None => engine::PathConversion::Sales,
            Some(name) => engine::PathConversion::parse(name).ok_or_else(|| {
                AppError::invalid("conversion", "conversion is leads, deals or sales")
            })?,
        };
        let days = [c.period.from, c.period.to + Duration::days(1)];
        let boundaries: Vec<i64> = days.iter().map(|d| day_start_ms(ctx.tz, *d)).collect();
        let ctx2 = ctx.clone();
        let group_by = c.group_by.clone();
        let table = self
            .with_index(ctx, move |index| {
                engine::paths(
                    index,
                    &EngineQuery {
                        boundaries: &boundaries,
                        day_boundaries: &days,
                        group_by: &group_by,
                        models: &[],
                        date_mode: DateMode::Conversion,
                        attribution: &ctx2.settings.attribution,
                        channels: &ctx2.channels,
                        settings_version: ctx2.version,
                        funnel_stages: None,
                    },
                    conversion,
                )
            })
            .await?;
        // A group's name: its dimension values joined by " / "; '>' would
        // split it in ChannelAttribution, so it shows as '›'.
        let names: Vec<String> = table
            .groups
            .iter()
            .map(|g| g.join(" / ").replace('>', "›"))
            .collect();
        let mut rows: Vec<(String, f64, f64, f64)> = table
            .rows
            .iter()
            .map(|r| {
                let path: Vec<&str> = r.path.iter().map(|&g| names[g as usize].as_str()).collect();
                (path.join(" > "), r.conversions, r.nulls, r.value / 100.0)
            })
            .collect();
        rows.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(b.2.total_cmp(&a.2))
                .then_with(|| a.0.cmp(&b.0))
        });
        let header: Vec<String> = [
            "path",
            "total_conversions",
            "total_null",
            "total_conversion_value",
        ]
        .map(str::to_owned)
        .to_vec();
        let lines: Vec<Vec<String>> = rows
            .iter()
            .map(|(path, conv, null, value)| {
                vec![
                    path.clone(),
                    render::text_number(Some(*conv)),
                    render::text_number(Some(*null)),
                    render::text_number(Some(*value)),
                ]
            })
            .collect();
        let json_rows: Vec<Value> = rows
            .iter()
            .map(|(path, conv, null, value)| {
                json!({
                    "path": path,
                    "total_conversions": render::json_number(*conv),
                    "total_null": render::json_number(*null),
                    "total_conversion_value": render::json_number(*value),
                })
            })
            .collect();
        let json = json!({
            "from": c.period.from.to_string(),
            "to": c.period.to.to_string(),
            "group_by": c.group_by.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            "conversion": conversion.as_str(),
            "currency": ctx.settings.general.currency.to_string(),
            "rows": json_rows,
        });
        Ok(Report {
            json,
            header,
            lines,
        })
    }

    /// `GET /api/v1/reports/dynamics`.
    pub async fn dynamics(
        &self,
        ctx: &Arc<ProjectContext>,
        params: &ReportParams,
    ) -> Result<Report, AppError> {
        let c = common(ctx, params, &[])?;
        let metric = params.metric.clone().unwrap_or_else(|| "visits".to_owned());
        if !render::METRICS.contains(&metric.as_str()) {
            return Err(AppError::invalid(
                "metric",
                format!(
                    "unknown metric '{metric}': use one of {}",
                    render::METRICS.join(", ")
                ),
            ));
        }
        let granularity = match params.granularity.as_deref() {
            None => Granularity::Day,
            Some(g) => Granularity::parse(g).ok_or_else(|| {
                AppError::invalid("granularity", "granularity is day, week, month or quarter")
            })?,
        };
        let series = |agg: &Aggregates, days: &[NaiveDate]| -> (Vec<Value>, Vec<Vec<String>>) {
            let (cells, totals) = render::bucket_rows(agg);
            let nb = agg.buckets.max(1);
            let point = |b: usize, v: Option<f64>| {
                json!({
                    "period": granularity.label(days[b]),
                    "from": days[b].to_string(),
                    "to": (days[b + 1] - Duration::days(1)).to_string(),
                    "value": v.map_or(Value::Null, render::json_number),
                })
            };
            let mut lines = Vec::new();
            if c.group_by.is_empty() {
                let points: Vec<Value> = (0..nb)
                    .map(|b| {
                        let v = totals[b][0].get(&metric);
                        lines.push(vec![granularity.label(days[b]), render::text_number(v)]);
                        point(b, v)
                    })
                    .collect();
                (vec![json!({"points": points})], lines)
            } else {
                let mut out = Vec::new();
                for g in 0..agg.groups.len() {
                    let values: Vec<Option<f64>> = (0..nb)
                        .map(|b| cells[g * nb + b].models[0].get(&metric))
                        .collect();
                    if values.iter().all(|v| v.unwrap_or(0.0) == 0.0) {
                        continue;
                    }
                    let mut obj = dims_json(&c.group_by, &agg.groups[g]);
                    obj.insert(
                        "points".into(),
                        Value::Array((0..nb).map(|b| point(b, values[b])).collect()),
                    );
                    for (b, v) in values.iter().enumerate() {
                        let mut l = agg.groups[g].clone();
                        l.push(granularity.label(days[b]));
                        l.push(render::text_number(*v));
                        lines.push(l);
                    }
                    out.push(Value::Object(obj));
                }
                (out, lines)
            }
        };
        let (agg, days) = self
            .aggregate(ctx, &c, c.period, Some(granularity), false)
            .await?;
        let (current, mut lines) = series(&agg, &days);
        let mut header: Vec<String> = c.group_by.iter().map(|d| d.as_str().to_owned()).collect();
        header.push("period".into());
        header.push(metric.clone());
        let mut json = json!({
            "metric": metric,
            "granularity": granularity.as_str(),
            "from": c.period.from.to_string(),
            "to": c.period.to.to_string(),
            "model": c.models[0].as_str(),
            "date_mode": c.date_mode.as_str(),
            "group_by": c.group_by.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        });
        if c.group_by.is_empty() {
            json["points"] = current[0]["points"].clone();
        } else {
            json["series"] = Value::Array(current);
        }
        if let Some(p) = c.compare {
            let (prev, prev_days) = self.aggregate(ctx, &c, p, Some(granularity), false).await?;
            let (previous, prev_lines) = series(&prev, &prev_days);
            json["compare"] = json!({"from": p.from.to_string(), "to": p.to.to_string()});
            if c.group_by.is_empty() {
                json["previous"] = previous[0]["points"].clone();
            } else {
                json["previous_series"] = Value::Array(previous);
            }
            for mut l in prev_lines {
                let n = l.len();
                l[n - 2] = format!("previous {}", l[n - 2]);
                lines.push(l);
            }
        }
        Ok(Report {
            json,
            header,
            lines,
        })
    }

    /// `GET /api/v1/reports/funnel`: deals created in the period, how many
    /// reached each open and won stage (a deal that went further counts
    /// for every stage before), by group under the primary model.
    pub async fn funnel(
        &self,
        ctx: &Arc<ProjectContext>,
        params: &ReportParams,
    ) -> Result<Report, AppError> {
        let mut c = common(ctx, params, &[])?;
        c.date_mode = DateMode::Conversion;
        let (agg, _) = self.aggregate(ctx, &c, c.period, None, true).await?;
        let stages: Vec<&skvoz_domain::settings::Stage> = ctx
            .settings
            .pipeline
            .stages
            .iter()
            .filter(|s| s.kind != StageKind::Lost)
            .collect();
        let n = stages.len();
        let mut totals = vec![0.0f64; n];
        for g in &agg.funnel {
            for (t, v) in totals.iter_mut().zip(g) {
                *t += v;
            }
        }
        let rounded_totals: Vec<f64> = totals.iter().map(|v| (v * 100.0).round() / 100.0).collect();
        let stage_json = |values: &[f64]| -> Vec<Value> {
            stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let v = values.get(i).copied().unwrap_or(0.0);
                    let first = values.first().copied().unwrap_or(0.0);
                    let prev = if i == 0 { v } else { values[i - 1] };
                    json!({
                        "stage": s.name,
                        "kind": if s.kind == StageKind::Won { "won" } else { "open" },
                        "deals": render::json_number(v),
                        "share_of_first": skvoz_domain::metrics::percent(v, first).map(|x| (x * 100.0).round() / 100.0),
                        "conversion_from_previous": skvoz_domain::metrics::percent(v, prev).map(|x| (x * 100.0).round() / 100.0),
                    })
                })
                .collect()
        };
        let mut header: Vec<String> = c.group_by.iter().map(|d| d.as_str().to_owned()).collect();
        header.extend(stages.iter().map(|s| s.name.clone()));
        let mut lines = Vec::new();
        let mut rows = Vec::new();
        if !c.group_by.is_empty() {
            // Apportion each stage column across groups.
            let cols: Vec<Vec<i64>> = (0..n)
                .map(|i| {
                    skvoz_domain::metrics::apportion(
                        &agg.funnel.iter().map(|g| g[i] * 100.0).collect::<Vec<_>>(),
                    )
                })
                .collect();
            for (g, dims) in agg.groups.iter().enumerate() {
                let values: Vec<f64> = (0..n).map(|i| cols[i][g] as f64 / 100.0).collect();
                if values.iter().all(|v| *v == 0.0) {
                    continue;
                }
                let mut obj = dims_json(&c.group_by, dims);
                obj.insert("stages".into(), Value::Array(stage_json(&values)));
                let mut l = dims.clone();
                l.extend(values.iter().map(|v| render::text_number(Some(*v))));
                lines.push(l);
                rows.push(Value::Object(obj));
            }
        }
        let mut total_line: Vec<String> = (0..c.group_by.len())
            .map(|i| {
                if i == 0 {
                    "(total)".to_owned()
                } else {
                    String::new()
                }
            })
            .collect();
        total_line.extend(rounded_totals.iter().map(|v| render::text_number(Some(*v))));
        lines.push(total_line);
        let json = json!({
            "from": c.period.from.to_string(),
            "to": c.period.to.to_string(),
            "model": c.models[0].as_str(),
            "group_by": c.group_by.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            "stages": stage_json(&rounded_totals),
            "rows": rows,
        });
        Ok(Report {
            json,
            header,
            lines,
        })
    }
}
