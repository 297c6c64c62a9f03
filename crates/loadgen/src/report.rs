//! Results of one run: counters, the latency histogram, and their human and
//! JSON renderings.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// The highest latency the histogram tells apart, in microseconds (10 min);
/// anything slower is recorded as this.
const MAX_LATENCY_US: u64 = 600_000_000;

/// A latency histogram in microseconds, 3 significant digits.
pub fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)?)
}

/// How request start times are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Each connection sends its next request as soon as the last one is
    /// answered: maximum throughput.
    ClosedLoop,
    /// Requests start on a fixed schedule at this many per second, whatever
    /// the server does; latency counts from the scheduled start.
    OpenLoop {
        /// Target requests per second.
        rps: u64,
    },
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::ClosedLoop => "closed-loop",
            Mode::OpenLoop { .. } => "open-loop",
        }
    }

    fn target_rps(self) -> u64 {
        match self {
            Mode::ClosedLoop => 0,
            Mode::OpenLoop { rps } => rps,
        }
    }

    /// Where latency is measured from.
    fn latency_from(self) -> &'static str {
        match self {
            Mode::ClosedLoop => "send",
            Mode::OpenLoop { .. } => "scheduled",
        }
    }
}

/// The outcome of one measured run against one route.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// `METHOD path`, e.g. `POST /collect`.
    pub label: String,
    /// The rate mode.
    pub mode: Mode,
    /// Keep-alive connections used.
    pub connections: usize,
    /// Requests answered 2xx.
    pub ok: u64,
    /// Requests answered with another status, by status.
    pub by_status: BTreeMap<u16, u64>,
    /// Requests that failed below HTTP (connect, reset, bad response).
    pub conn_errors: u64,
    /// Requests that got no answer within the timeout.
    pub timeouts: u64,
    /// Open loop: requests scheduled inside the window that were never sent
    /// because every connection was still busy when the run ended.
    pub unsent: u64,
    /// The measured window: from the end of the warm-up to the last answer
    /// (at least the nominal duration).
    pub duration: Duration,
    /// Latency of answered and timed-out requests, microseconds.
    pub latency_us: Histogram<u64>,
}

impl RunStats {
    /// Non-2xx answers, connection errors and timeouts together.
    pub fn errors(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.conn_errors + self.timeouts
    }

    /// Requests sent inside the measured window.
    pub fn sent(&self) -> u64 {
        self.ok + self.errors()
    }

    /// Achieved requests per second (all answers and failures).
    pub fn rps(&self) -> f64 {
        let secs = self.duration.as_secs_f64();
        if secs > 0.0 {
            self.sent() as f64 / secs
        } else {
            0.0
        }
    }

    /// Achieved 2xx answers per second.
    pub fn ok_rps(&self) -> f64 {
        let secs = self.duration.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency at quantile `q` (0..=1) in milliseconds; 0 without data.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latency_us.is_empty() {
            0.0
        } else {
            self.latency_us.value_at_quantile(q) as f64 / 1000.0
        }
    }

    /// The slowest recorded latency in milliseconds; 0 without data.
    pub fn max_ms(&self) -> f64 {
        if self.latency_us.is_empty() {
            0.0
        } else {
            self.latency_us.max() as f64 / 1000.0
        }
    }

    fn json(&self) -> RunJson<'_> {
        RunJson {
            route: &self.label,
            mode: self.mode.name(),
            target_rps: self.mode.target_rps(),
            connections: self.connections,
            latency_from: self.mode.latency_from(),
            sent: self.sent(),
            ok: self.ok,
            errors: self.errors(),
            errors_by_status: self
                .by_status
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect(),
            conn_errors: self.conn_errors,
            timeouts: self.timeouts,
            unsent: self.unsent,
            rps: round(self.rps(), 1),
            ok_rps: round(self.ok_rps(), 1),
            p50_ms: round(self.quantile_ms(0.50), 3),
            p90_ms: round(self.quantile_ms(0.90), 3),
            p99_ms: round(self.quantile_ms(0.99), 3),
            p999_ms: round(self.quantile_ms(0.999), 3),
            max_ms: round(self.max_ms(), 3),
            duration_s: round(self.duration.as_secs_f64(), 3),
        }
    }

    /// A short human-readable block.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mode = match self.mode {
            Mode::ClosedLoop => "closed loop (max throughput); latency from send".to_owned(),
            Mode::OpenLoop { rps } => format!(
                "open loop at {rps} req/s; latency from the scheduled start \
                 (corrected for coordinated omission)"
            ),
        };
        let _ = writeln!(
            s,
            "{}: {} connections, {mode}",
            self.label, self.connections
        );
        let _ = writeln!(
            s,
            "  sent {}  ok(2xx) {}  errors {}  in {:.2}s",
            self.sent(),
            self.ok,
            self.errors(),
            self.duration.as_secs_f64()
        );
        if self.errors() > 0 {
            let mut parts: Vec<String> = self
                .by_status
                .iter()
                .map(|(st, n)| format!("{st}: {n}"))
                .collect();
            if self.conn_errors > 0 {
                parts.push(format!("connection: {}", self.conn_errors));
            }
            if self.timeouts > 0 {
                parts.push(format!("timeout: {}", self.timeouts));
            }
            let _ = writeln!(s, "  errors by kind: {}", parts.join(", "));
        }
        if self.unsent > 0 {
            let _ = writeln!(
                s,
                "  not sent: {} scheduled requests (all connections busy; add --connections)",
                self.unsent
            );
        }
        let _ = writeln!(
            s,
            "  throughput {:.1} req/s ({:.1} ok/s)",
            self.rps(),
            self.ok_rps()
        );
        let _ = writeln!(
            s,
            "  latency ms  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            self.quantile_ms(0.50),
            self.quantile_ms(0.90),
            self.quantile_ms(0.99),
            self.quantile_ms(0.999),
            self.max_ms()
        );
        s
    }
}

/// `x` rounded to `digits` decimals (for tidy JSON).
fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The JSON of one run, fields in a stable order (see the crate docs).
#[derive(Serialize)]
struct RunJson<'a> {
    route: &'a str,
    mode: &'static str,
    target_rps: u64,
    connections: usize,
    latency_from: &'static str,
    sent: u64,
    ok: u64,
    errors: u64,
    errors_by_status: BTreeMap<String, u64>,
    conn_errors: u64,
    timeouts: u64,
    unsent: u64,
    rps: f64,
    ok_rps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    duration_s: f64,
}

/// The `--json` object: the main run's fields, then `noop` and `ratio`
/// when there was a no-op run.
#[derive(Serialize)]
struct CombinedJson<'a> {
    #[serde(flatten)]
    main: RunJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    noop: Option<RunJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio: Option<Option<f64>>,
}

/// The `--json` line: the `/collect` run and optionally the no-op run.
pub fn combined_json(main: &RunStats, noop: Option<&RunStats>) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&CombinedJson {
        main: main.json(),
        noop: noop.map(RunStats::json),
        ratio: noop.map(|n| ratio(main, n).map(|r| round(r, 3))),
    })?)
}

/// `main` 2xx throughput over the no-op route's 2xx throughput.
pub fn ratio(main: &RunStats, noop: &RunStats) -> Option<f64> {
    let n = noop.ok_rps();
    (n > 0.0).then(|| main.ok_rps() / n)
}
