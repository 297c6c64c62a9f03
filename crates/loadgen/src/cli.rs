//! Command line and the top-level flow: build the hit pool, run `/collect`,
//! optionally run the no-op route, print the report.

use crate::model::TrafficModel;
use crate::report::{self, Mode, RunStats};
use crate::runner::{self, Progress, RunConfig, Target};
use anyhow::Context as _;
use clap::Parser;
use hyper::Method;
use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Replays realistic `/collect` traffic against a running skvoz server over
/// HTTP/1.1 keep-alive connections and reports throughput and latency.
#[derive(Parser, Debug, Clone)]
#[command(name = "skvoz-loadgen", version)]
pub struct Args {
    /// Base URL of the server (plain http; loopback only unless
    /// --allow-non-loopback).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The project's public key (`"key"` in every body).
    #[arg(long)]
    pub key: String,
    /// Target requests per second (open loop); 0 = as fast as possible
    /// (closed loop).
    #[arg(long, default_value_t = 0)]
    pub rps: u64,
    /// Measured duration, e.g. 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub connections: u16,
    /// Visitors in the pool.
    #[arg(long, default_value_t = 100_000)]
    pub visitors: usize,
    /// Seed of the traffic model.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Route that receives the hits.
    #[arg(long, default_value = "/collect")]
    pub path: String,
    /// Print one JSON object on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// After the main run, GET this route the same way (e.g. /healthz) and
    /// report the throughput ratio.
    #[arg(long)]
    pub noop_path: Option<String>,
    /// Lead-in before each measured run, not counted.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Per-request timeout (counted as an error).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Pre-built request bodies, cycled (fewer are built in open loop when
    /// the run needs fewer).
    #[arg(long, default_value_t = 200_000)]
    pub pool: usize,
    /// Runtime worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No per-second progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Print 5 sample bodies and exit; sends nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow a --url that resolves to a non-loopback address.
    #[arg(long)]
    pub allow_non_loopback: bool,
}

/// Parses `10s`, `500ms`, `1.5s`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?} (e.g. 10s, 500ms, 2m)"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("bad duration unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// The outcome of a whole invocation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The run against `--path`.
    pub main: RunStats,
    /// The run against `--noop-path`, if asked for.
    pub noop: Option<RunStats>,
}

impl Outcome {
    /// The `--json` object, one line.
    pub fn to_json(&self) -> anyhow::Result<String> {
        report::combined_json(&self.main, self.noop.as_ref())
    }

    /// The text report.
    pub fn to_text(&self) -> String {
        let mut s = self.main.to_text();
        if let Some(noop) = &self.noop {
            s.push_str(&noop.to_text());
            match report::ratio(&self.main, noop) {
                Some(r) => s.push_str(&format!(
                    "ratio {} / {} (2xx req/s): {r:.3} ({} the 0.4 floor)\n",
                    self.main.label,
                    noop.label,
                    if r >= 0.4 { "meets" } else { "BELOW" }
                )),
                None => s.push_str("ratio: n/a (the no-op route answered no 2xx)\n"),
            }
        }
        s
    }
}

/// The first `n` bodies the model makes for these arguments.
pub fn sample_bodies(args: &Args, n: usize) -> anyhow::Result<Vec<String>> {
    let mut model = TrafficModel::new(&args.key, args.visitors, args.seed);
    model
        .pool(n)?
        .into_iter()
        .map(|hit| Ok(String::from_utf8(hit.body.to_vec())?))
        .collect()
}

/// Runs the whole load test (inside a Tokio runtime).
pub async fn execute(args: &Args) -> anyhow::Result<Outcome> {
    if args.duration.is_zero() {
        anyhow::bail!("--duration must be above zero");
    }
    let target = Target::resolve(&args.url, args.allow_non_loopback).await?;
    let mode = if args.rps > 0 {
        Mode::OpenLoop { rps: args.rps }
    } else {
        Mode::ClosedLoop
    };
    let mut pool = args.pool.max(1);
    if args.rps > 0 {
        let needed = (args.rps as f64 * (args.warmup + args.duration).as_secs_f64()).ceil() + 1.0;
        pool = pool.min(needed as usize);
    }

    let built = Instant::now();
    let key = args.key.clone();
    let (visitors, seed) = (args.visitors, args.seed);
    let hits =
        tokio::task::spawn_blocking(move || TrafficModel::new(&key, visitors, seed).pool(pool))
            .await
            .context("building the hit pool")??;
    let hits: Arc<[_]> = hits.into();
    if !args.quiet {
        eprintln!(
            "skvoz-loadgen: {} hits from {} visitors (seed {}) built in {:.2}s; target {} ({})",
            hits.len(),
            args.visitors.max(1),
            args.seed,
            built.elapsed().as_secs_f64(),
            args.url,
            target.addr
        );
    }

    let progress = if args.quiet {
        Progress::Off
    } else if std::io::stderr().is_terminal() {
        Progress::InPlace
    } else {
        Progress::Lines
    };
    let mut cfg = RunConfig {
        target,
        path: args.path.clone(),
        method: Method::POST,
        mode,
        connections: usize::from(args.connections),
        warmup: args.warmup,
        duration: args.duration,
        timeout: args.timeout,
        progress,
    };
    let main = runner::run(&cfg, Arc::clone(&hits)).await?;
    let noop = match &args.noop_path {
        Some(path) => {
            cfg.path = path.clone();
            cfg.method = Method::GET;
            Some(runner::run(&cfg, hits).await?)
        }
        None => None,
    };
    Ok(Outcome { main, noop })
}

/// The binary's body: parses nothing, prints the report, returns errors.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.dry_run {
        for body in sample_bodies(&args, 5)? {
            println!("{body}");
        }
        return Ok(());
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if args.threads > 0 {
        builder.worker_threads(args.threads);
    }
    let outcome = builder.build()?.block_on(execute(&args))?;
    if args.json {
        println!("{}", outcome.to_json()?);
    } else {
        print!("{}", outcome.to_text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn cli_parses() {
        let args = Args::try_parse_from([
            "skvoz-loadgen",
            "--key",
            "pk",
            "--rps",
            "500",
            "--duration",
            "3s",
            "--noop-path",
            "/healthz",
            "--json",
        ]);
        assert!(args.is_ok(), "{args:?}");
        if let Ok(a) = args {
            assert_eq!(a.rps, 500);
            assert_eq!(a.connections, 64);
            assert_eq!(a.noop_path.as_deref(), Some("/healthz"));
            assert_eq!(a.warmup, Duration::from_secs(2));
        }
    }

    #[test]
    fn dry_run_bodies_are_collect_json() -> anyhow::Result<()> {
        let args = Args::try_parse_from(["skvoz-loadgen", "--key", "pk_demo", "--dry-run"])?;
        let bodies = sample_bodies(&args, 5)?;
        assert_eq!(bodies.len(), 5);
        for b in bodies {
            let v: serde_json::Value = serde_json::from_str(&b)?;
            assert_eq!(v["key"], "pk_demo");
            assert!(v["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(crate::model::SITE)));
        }
        Ok(())
    }
}
