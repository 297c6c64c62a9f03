//! From the engine's sums to what a reader sees: metric values per row,
//! rounded so that rows add up to the totals exactly (largest remainder),
//! ratios that are `null` when their denominator is zero, and the same
//! table as JSON, CSV or aligned text.

use super::engine::{Aggregates, Attributed, Traffic};
use skvoz_domain::attribution::ModelKind;
use skvoz_domain::metrics::{apportion, change, percent, ratio, roi};

/// Every metric a report row carries, in display order.
pub const METRICS: &[&str] = &[
    "visits",
    "visitors",
    "leads",
    "leads_form",
    "leads_call",
    "leads_chat",
    "leads_ticket",
    "leads_email",
    "deals",
    "sales",
    "revenue",
    "profit",
    "cost",
    "clicks",
    "impressions",
    "calls",
    "target_calls",
    "unique_calls",
    "missed_calls",
    "cpc",
    "cpl",
    "cpo",
    "roi",
    "romi",
    "conversion_lead",
    "conversion_sale",
    "avg_check",
];

/// The metrics that depend on the attribution model.
pub const ATTRIBUTED_METRICS: &[&str] = &[
    "leads",
    "leads_form",
    "leads_call",
    "leads_chat",
    "leads_ticket",
    "leads_email",
    "deals",
    "sales",
    "revenue",
    "profit",
    "cpl",
    "cpo",
    "roi",
    "romi",
    "conversion_lead",
    "conversion_sale",
    "avg_check",
];

/// Metric values of one row under one model, in [`METRICS`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSet(pub Vec<Option<f64>>);

impl MetricSet {
    /// A metric by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        METRICS
            .iter()
            .position(|m| *m == name)
            .and_then(|i| self.0[i])
    }
}

/// One row: its dimension values and metrics per model.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Dimension values in `group_by` order.
    pub dims: Vec<String>,
    /// Per model (query order).
    pub models: Vec<MetricSet>,
}

/// Rounded integer columns of one cell under one model.
#[derive(Debug, Clone, Copy, Default)]
struct Rounded {
    visits: i64,
    visitors: i64,
    /// Hundredths.
    leads: i64,
    by_kind: [i64; 5],
    deals: i64,
    sales: i64,
    /// Minor units.
    revenue: i64,
    profit: i64,
    profit_known: bool,
    cost: i64,
    clicks: i64,
    impressions: i64,
    calls: i64,
    target_calls: i64,
    unique_calls: i64,
    missed_calls: i64,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn metrics_of(r: &Rounded) -> MetricSet {
    let hundredths = |v: i64| v as f64 / 100.0;
    let money = |v: i64| v as f64 / 100.0;
    let leads = hundredths(r.leads);
    let sales = hundredths(r.sales);
    let revenue = money(r.revenue);
    let cost = money(r.cost);
    let visits = r.visits as f64;
    let values = vec![
        Some(visits),
        Some(r.visitors as f64),
        Some(leads),
        Some(hundredths(r.by_kind[0])),
        Some(hundredths(r.by_kind[1])),
        Some(hundredths(r.by_kind[2])),
        Some(hundredths(r.by_kind[3])),
        Some(hundredths(r.by_kind[4])),
        Some(hundredths(r.deals)),
        Some(sales),
        Some(revenue),
        r.profit_known.then(|| money(r.profit)),
        Some(cost),
        Some(r.clicks as f64),
        Some(r.impressions as f64),
        Some(r.calls as f64),
        Some(r.target_calls as f64),
        Some(r.unique_calls as f64),
        Some(r.missed_calls as f64),
        ratio(cost, r.clicks as f64).map(round2),
        ratio(cost, leads).map(round2),
        ratio(cost, sales).map(round2),
        roi(revenue, cost).map(round2),
        if r.profit_known {
            roi(money(r.profit), cost).map(round2)
        } else {
            None
        },
        percent(leads, visits).map(round2),
        percent(sales, leads).map(round2),
        ratio(revenue, sales).map(round2),
    ];
    MetricSet(values)
}

/// Rounds a set of cells (each: traffic and one [`Attributed`] per model)
/// and returns each cell's metrics per model plus the totals per model.
/// `total_visitors` is the distinct count over all cells (visitors are not
/// additive).
/// One cell: its traffic and what each model credits to it.
type Cell = (Traffic, Vec<Attributed>);

fn round_cells(
    cells: &[Cell],
    models: usize,
    total_visitors: f64,
) -> (Vec<Vec<MetricSet>>, Vec<MetricSet>) {
    let col = |f: &dyn Fn(&Cell) -> f64| -> Vec<i64> {
        apportion(&cells.iter().map(f).collect::<Vec<_>>())
    };
    let visits = col(&|c| c.0.visits);
    let visitors = col(&|c| c.0.visitors);
    let cost = col(&|c| c.0.cost);
    let clicks = col(&|c| c.0.clicks);
    let impressions = col(&|c| c.0.impressions);
    let calls = col(&|c| c.0.calls);
    let target_calls = col(&|c| c.0.target_calls);
    let unique_calls = col(&|c| c.0.unique_calls);
    let missed_calls = col(&|c| c.0.missed_calls);
    let mut rows: Vec<Vec<MetricSet>> = vec![Vec::with_capacity(models); cells.len()];
    let mut totals = Vec::with_capacity(models);
    for m in 0..models {
        let leads = col(&|c| c.1[m].leads * 100.0);
        let kinds: Vec<Vec<i64>> = (0..5)
            .map(|k| col(&|c| c.1[m].by_kind[k] * 100.0))
            .collect();
        let deals = col(&|c| c.1[m].deals * 100.0);
        let sales = col(&|c| c.1[m].sales * 100.0);
        let revenue = col(&|c| c.1[m].revenue);
        let profit = col(&|c| c.1[m].profit);
        let mut total = Rounded {
            visitors: total_visitors.round() as i64,
            ..Rounded::default()
        };
        for (i, row) in rows.iter_mut().enumerate() {
            let r = Rounded {
                visits: visits[i],
                visitors: visitors[i],
                leads: leads[i],
                by_kind: [
                    kinds[0][i],
                    kinds[1][i],
                    kinds[2][i],
                    kinds[3][i],
                    kinds[4][i],
                ],
                deals: deals[i],
                sales: sales[i],
                revenue: revenue[i],
                profit: profit[i],
                profit_known: cells[i].1[m].profit_sales > 0.0,
                cost: cost[i],
                clicks: clicks[i],
                impressions: impressions[i],
                calls: calls[i],
                target_calls: target_calls[i],
                unique_calls: unique_calls[i],
                missed_calls: missed_calls[i],
            };
            total.visits += r.visits;
            total.leads += r.leads;
            for k in 0..5 {
                total.by_kind[k] += r.by_kind[k];
            }
            total.deals += r.deals;
            total.sales += r.sales;
            total.revenue += r.revenue;
            total.profit += r.profit;
            total.profit_known |= r.profit_known;
            total.cost += r.cost;
            total.clicks += r.clicks;
            total.impressions += r.impressions;
            total.calls += r.calls;
            total.target_calls += r.target_calls;
            total.unique_calls += r.unique_calls;
            total.missed_calls += r.missed_calls;
            row.push(metrics_of(&r));
        }
        totals.push(metrics_of(&total));
    }
    (rows, totals)
}

fn is_empty(t: &Traffic, a: &[Attributed]) -> bool {
    *t == Traffic::default() && a.iter().all(|x| *x == Attributed::default())
}

/// The rows of a grouped report (one bucket), empty groups left out, and
/// the totals.
pub fn grouped_rows(agg: &Aggregates) -> (Vec<Row>, Vec<MetricSet>) {
    let models = agg.attributed.len();
    let nb = agg.buckets.max(1);
    let mut keep: Vec<usize> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    for g in 0..agg.groups.len() {
        let mut t = Traffic::default();
        let mut a = vec![Attributed::default(); models];
        for b in 0..nb {
            let cell = g * nb + b;
            add_traffic(&mut t, &agg.traffic[cell]);
            for (m, am) in a.iter_mut().enumerate() {
                add_attributed(am, &agg.attributed[m][cell]);
            }
        }
        if !is_empty(&t, &a) {
            keep.push(g);
            cells.push((t, a));
        }
    }
    let (rows, totals) = round_cells(&cells, models, agg.period_visitors);
    let rows = keep
        .into_iter()
        .zip(rows)
        .map(|(g, models)| Row {
            dims: agg.groups[g].clone(),
            models,
        })
        .collect();
    (rows, totals)
}

/// Per bucket, the metrics of each group (rounded across all cells so that
/// buckets add up to the period), and per bucket totals over the groups.
pub fn bucket_rows(agg: &Aggregates) -> (Vec<Row>, Vec<Vec<MetricSet>>) {
    let models = agg.attributed.len();
    let nb = agg.buckets.max(1);
    let mut cells: Vec<Cell> = Vec::new();
    for cell in 0..agg.groups.len() * nb {
        cells.push((
            agg.traffic[cell],
            (0..models).map(|m| agg.attributed[m][cell]).collect(),
        ));
    }
    let (rounded, _) = round_cells(&cells, models, agg.period_visitors);
    // One row per cell (`group * buckets + bucket`).
    let rows = rounded
        .into_iter()
        .enumerate()
        .map(|(cell, models)| Row {
            dims: agg.groups[cell / nb].clone(),
            models,
        })
        .collect();
    // Totals per bucket over groups.
    let mut per_bucket = Vec::with_capacity(nb);
    for b in 0..nb {
        let bucket_cells: Vec<Cell> = (0..agg.groups.len())
            .map(|g| cells[g * nb + b].clone())
            .collect();
        let (_, totals) = round_cells(&bucket_cells, models, agg.bucket_visitors[b]);
        per_bucket.push(totals);
    }
    (rows, per_bucket)
}

fn add_traffic(a: &mut Traffic, b: &Traffic) {
    a.visits += b.visits;
    a.visitors += b.visitors;
    a.cost += b.cost;
    a.clicks += b.clicks;
    a.impressions += b.impressions;
    a.calls += b.calls;
    a.target_calls += b.target_calls;
    a.unique_calls += b.unique_calls;
    a.missed_calls += b.missed_calls;
}

fn add_attributed(a: &mut Attributed, b: &Attributed) {
    a.leads += b.leads;
    for k in 0..5 {
        a.by_kind[k] += b.by_kind[k];
    }
    a.deals += b.deals;
    a.sales += b.sales;
    a.revenue += b.revenue;
    a.profit += b.profit;
    a.profit_sales += b.profit_sales;
}

/// A number as JSON: an integer when whole, else the float.
pub fn json_number(v: f64) -> serde_json::Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        serde_json::Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// A number as text (CSV, table): integers without a point, else as short
/// as it is exact; empty for `None`.
pub fn text_number(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => format!("{}", v as i64),
        Some(v) => format!("{v}"),
    }
}

/// The metrics of a set as a JSON object (`only`: a subset of names).
pub fn metrics_json(
    set: &MetricSet,
    only: Option<&[&str]>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (i, name) in METRICS.iter().enumerate() {
        if only.is_some_and(|o| !o.contains(name)) {
            continue;
        }
        map.insert(
            (*name).to_owned(),
            set.0[i].map_or(serde_json::Value::Null, json_number),
        );
    }
    map
}

/// Relative changes (percent) of every metric from `previous` to `current`.
pub fn change_set(current: &MetricSet, previous: &MetricSet) -> MetricSet {
    MetricSet(
        current
            .0
            .iter()
            .zip(&previous.0)
            .map(|(c, p)| match (c, p) {
                (Some(c), Some(p)) => change(*c, *p).map(round2),
                _ => None,
            })
            .collect(),
    )
}

/// An empty metric set (all zero; ratios `null`), for a row that exists in
/// one period only.
pub fn zero_set() -> MetricSet {
    metrics_of(&Rounded::default())
}

/// Column names for the CSV / table form of a grouped report.
pub fn columns(dims: &[&str], models: &[ModelKind], compare: bool) -> Vec<String> {
    let mut cols: Vec<String> = dims.iter().map(|d| (*d).to_owned()).collect();
    cols.extend(METRICS.iter().map(|m| (*m).to_owned()));
    for model in models.iter().skip(1) {
        cols.extend(
            ATTRIBUTED_METRICS
                .iter()
                .map(|m| format!("{}.{m}", model.as_str())),
        );
    }
    if compare {
        cols.extend(METRICS.iter().map(|m| format!("previous.{m}")));
        cols.extend(METRICS.iter().map(|m| format!("change.{m}")));
    }
    cols
}

/// One CSV / table line of a grouped report, matching [`columns`].
pub fn line(
    dims: &[String],
    sets: &[MetricSet],
    previous: Option<&MetricSet>,
    delta: Option<&MetricSet>,
) -> Vec<String> {
    let mut out: Vec<String> = dims.to_vec();
    if let Some(primary) = sets.first() {
        out.extend(primary.0.iter().map(|v| text_number(*v)));
    }
    for set in sets.iter().skip(1) {
        out.extend(ATTRIBUTED_METRICS.iter().map(|m| text_number(set.get(m))));
    }
    for s in [previous, delta].into_iter().flatten() {
        out.extend(s.0.iter().map(|v| text_number(*v)));
    }
    out
}

/// Writes lines as CSV (RFC 4180 quoting): the one CSV writer of every
/// export (reports through the API, the CLI and the dashboard, group
/// members). Every cell goes through [`spreadsheet_safe`], since dimensions
/// (UTM tags, names) come from the public.
pub fn to_csv<H: AsRef<str>, C: AsRef<str>>(header: &[H], lines: &[Vec<C>]) -> String {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(
        header
            .iter()
            .map(|h| spreadsheet_safe(h.as_ref()).into_owned()),
    );
    for l in lines {
        let _ = w.write_record(l.iter().map(|c| spreadsheet_safe(c.as_ref()).into_owned()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A cell a spreadsheet will not run as a formula: one that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
/// (OWASP's CSV-injection advice), unless it is a plain number — a negative
/// ROI or an E.164 phone stays what it is.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.len() > 1
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && cell.parse::<f64>().is_ok();
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Writes lines as an aligned text table (numbers right-aligned).
pub fn to_table(header: &[String], lines: &[Vec<String>]) -> String {
    let n = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for l in lines {
        for (i, c) in l.iter().enumerate().take(n) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let numeric = |s: &str| !s.is_empty() && s.parse::<f64>().is_ok();
    let mut write = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                if numeric(c) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    write(header);
    for l in lines {
        write(l);
    }
    out
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        for (cell, want) in [
            ("=2+5", "'=2+5"),
            ("+2+5", "'+2+5"),
            ("-2+5", "'-2+5"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-12.5", "-12.5"),
            ("+79991234567", "+79991234567"),
            ("1e3", "1e3"),
            ("organic search", "organic search"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), want, "{cell:?}");
        }
        let csv = to_csv(
            &["keyword", "roi"],
            &[vec![
                "=HYPERLINK(\"http://x\")".to_owned(),
                "-100".to_owned(),
            ]],
        );
        assert_eq!(csv, "keyword,roi\n\"'=HYPERLINK(\"\"http://x\"\")\",-100\n");
    }
}
