//! Sends the load: one task per HTTP/1.1 keep-alive connection, each with
//! its own hyper connection, no shared pool.
//!
//! Open loop (`rps > 0`): request `i` is scheduled at `start + i / rps`; a
//! connection takes the next ticket, waits for its time and sends; latency is
//! taken from the scheduled time, so a stalled server shows up as latency
//! instead of as fewer samples (coordinated omission). Closed loop
//! (`rps = 0`): each connection sends back to back. Requests that start
//! during the warm-up are sent but not counted. No request starts after the
//! end of the run; the ones in flight finish or time out.

use crate::model::Hit;
use crate::report::{new_histogram, Mode, RunStats};
use anyhow::{bail, Context as _};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{sleep, sleep_until, Instant};

/// How long a connection waits after a failed connect before trying again.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(20);

/// The server to load, resolved once.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header (the URL's authority).
    pub host: HeaderValue,
    /// The URL's path without a trailing slash (usually empty), prefixed to
    /// every route.
    pub base_path: String,
}

impl Target {
    /// Parses an `http://host[:port][/prefix]` URL and resolves it. Unless
    /// `allow_non_loopback`, every address the host resolves to must be a
    /// loopback address: a load test only ever targets the local machine.
    pub async fn resolve(url: &str, allow_non_loopback: bool) -> anyhow::Result<Self> {
        let uri: Uri = url.parse().with_context(|| format!("bad --url {url:?}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => bail!("--url: scheme {other:?} is not supported (plain http only)"),
            None => bail!("--url must start with http://"),
        }
        let authority = uri
            .authority()
            .with_context(|| format!("--url {url:?} has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(80);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .with_context(|| format!("cannot resolve {host}"))?
            .collect();
        let addr = if allow_non_loopback {
            addrs.first().copied()
        } else {
            if let Some(a) = addrs.iter().find(|a| !a.ip().is_loopback()) {
                bail!(
                    "{host} resolves to {}, which is not a loopback address; \
                     pass --allow-non-loopback to load another machine",
                    a.ip()
                );
            }
            addrs.first().copied()
        };
        let addr = addr.with_context(|| format!("{host} resolves to no address"))?;
        Ok(Self {
            addr,
            host: HeaderValue::from_str(authority.as_str())?,
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The request URI (origin form) for `path`.
    pub fn uri(&self, path: &str) -> anyhow::Result<Uri> {
        let path = if path.starts_with('/') {
            format!("{}{path}", self.base_path)
        } else {
            format!("{}/{path}", self.base_path)
        };
        path.parse().with_context(|| format!("bad path {path:?}"))
    }
}

/// How progress lines are printed on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Not at all.
    Off,
    /// One line per second.
    Lines,
    /// One line per second, rewritten in place (stderr is a terminal).
    InPlace,
}

/// One run against one route.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The server.
    pub target: Target,
    /// Route path, e.g. `/collect`.
    pub path: String,
    /// `POST` with the hit's JSON body, or `GET` without a body.
    pub method: Method,
    /// Open or closed loop.
    pub mode: Mode,
    /// Keep-alive connections (at least one).
    pub connections: usize,
    /// Not-counted lead-in.
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Progress output.
    pub progress: Progress,
}

/// What every connection task shares.
struct Shared {
    uri: Uri,
    host: HeaderValue,
    method: Method,
    addr: SocketAddr,
    timeout: Duration,
    start: Instant,
    measure_start: Instant,
    end: Instant,
    /// Open loop: nanoseconds between scheduled starts.
    interval_ns: Option<f64>,
    /// Next schedule slot (open loop).
    ticket: AtomicU64,
    /// Next hit of the pool.
    next_hit: AtomicUsize,
    hits: Arc<[Hit]>,
    /// All answers so far incl. warm-up, for progress lines.
    done_ok: AtomicU64,
    /// All failures so far incl. warm-up, for progress lines.
    done_err: AtomicU64,
}

/// One connection's tally of the measured window.
struct Tally {
    latency_us: Histogram<u64>,
    ok: u64,
    by_status: BTreeMap<u16, u64>,
    conn_errors: u64,
    timeouts: u64,
    last_done: Option<Instant>,
}

/// How one request ended.
enum Outcome {
    Status(u16),
    ConnError,
    Timeout,
}

/// Runs `cfg`, cycling through `hits` for request bodies and user agents.
pub async fn run(cfg: &RunConfig, hits: Arc<[Hit]>) -> anyhow::Result<RunStats> {
    if hits.is_empty() {
        bail!("no hits to send");
    }
    let connections = cfg.connections.max(1);
    let start = Instant::now();
    let measure_start = start + cfg.warmup;
    let end = measure_start + cfg.duration;
    let interval_ns = match cfg.mode {
        Mode::OpenLoop { rps } if rps > 0 => Some(1e9 / rps as f64),
        _ => None,
    };
    let shared = Arc::new(Shared {
        uri: cfg.target.uri(&cfg.path)?,
        host: cfg.target.host.clone(),
        method: cfg.method.clone(),
        addr: cfg.target.addr,
        timeout: cfg.timeout,
        start,
        measure_start,
        end,
        interval_ns,
        ticket: AtomicU64::new(0),
        next_hit: AtomicUsize::new(0),
        hits,
        done_ok: AtomicU64::new(0),
        done_err: AtomicU64::new(0),
    });

    let label = format!("{} {}", cfg.method, cfg.path);
    let progress = (cfg.progress != Progress::Off).then(|| {
        tokio::spawn(progress_lines(
            Arc::clone(&shared),
            label.clone(),
            cfg.progress,
        ))
    });

    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let tally = Tally {
            latency_us: new_histogram()?,
            ok: 0,
            by_status: BTreeMap::new(),
            conn_errors: 0,
            timeouts: 0,
            last_done: None,
        };
        tasks.push(tokio::spawn(connection(Arc::clone(&shared), tally)));
    }
    let mut total = Tally {
        latency_us: new_histogram()?,
        ok: 0,
        by_status: BTreeMap::new(),
        conn_errors: 0,
        timeouts: 0,
        last_done: None,
    };
    for task in tasks {
        let t = task.await.context("connection task failed")?;
        total.latency_us.add(&t.latency_us)?;
        total.ok += t.ok;
        for (status, n) in t.by_status {
            *total.by_status.entry(status).or_default() += n;
        }
        total.conn_errors += t.conn_errors;
        total.timeouts += t.timeouts;
        total.last_done = total.last_done.max(t.last_done);
    }
    if let Some(p) = progress {
        p.abort();
        if cfg.progress == Progress::InPlace {
            eprintln!();
        }
    }

    let finished = total.last_done.map_or(end, |t| t.max(end));
    let mut stats = RunStats {
        label,
        mode: cfg.mode,
        connections,
        ok: total.ok,
        by_status: total.by_status,
        conn_errors: total.conn_errors,
        timeouts: total.timeouts,
        unsent: 0,
        duration: finished.saturating_duration_since(measure_start),
        latency_us: total.latency_us,
    };
    if let Some(iv) = interval_ns {
        // Slots i with measure_start <= start + i*iv < end.
        let first = (cfg.warmup.as_nanos() as f64 / iv).ceil() as u64;
        let last = ((cfg.warmup + cfg.duration).as_nanos() as f64 / iv).ceil() as u64;
        stats.unsent = (last - first).saturating_sub(stats.sent());
    }
    Ok(stats)
}

/// One keep-alive connection: sends until the end of the run.
async fn connection(shared: Arc<Shared>, mut tally: Tally) -> Tally {
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let now = Instant::now();
        if now >= shared.end {
            break;
        }
        let scheduled = match shared.interval_ns {
            Some(iv) => {
                let i = shared.ticket.fetch_add(1, Ordering::Relaxed);
                let at = shared.start + Duration::from_nanos((i as f64 * iv) as u64);
                if at >= shared.end {
                    break;
                }
                if at > now {
                    sleep_until(at).await;
                }
                at
            }
            None => now,
        };
        let measured = scheduled >= shared.measure_start;

        if sender.as_ref().is_none_or(SendRequest::is_closed) {
            sender = connect(shared.addr, shared.timeout).await.ok();
        }
        let Some(s) = sender.as_mut() else {
            tally.record(&shared, measured, scheduled, Outcome::ConnError);
            sleep(RECONNECT_BACKOFF).await;
            continue;
        };

        let idx = shared.next_hit.fetch_add(1, Ordering::Relaxed) % shared.hits.len();
        let req = build_request(&shared, &shared.hits[idx]);
        let sent_at = Instant::now();
        let from = if shared.interval_ns.is_some() {
            scheduled
        } else {
            sent_at
        };
        let exchange = async {
            s.ready().await?;
            let resp = s.send_request(req).await?;
            let status = resp.status().as_u16();
            resp.into_body().collect().await?;
            Ok::<u16, hyper::Error>(status)
        };
        let outcome = match tokio::time::timeout(shared.timeout, exchange).await {
            Ok(Ok(status)) => Outcome::Status(status),
            Ok(Err(_)) => Outcome::ConnError,
            Err(_) => Outcome::Timeout,
        };
        if !matches!(outcome, Outcome::Status(_)) {
            sender = None;
        }
        tally.record(&shared, measured, from, outcome);
    }
    tally
}

impl Tally {
    fn record(&mut self, shared: &Shared, measured: bool, from: Instant, outcome: Outcome) {
        let now = Instant::now();
        let ok = matches!(outcome, Outcome::Status(s) if (200..300).contains(&s));
        if ok {
            shared.done_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.done_err.fetch_add(1, Ordering::Relaxed);
        }
        if !measured {
            return;
        }
        match outcome {
            Outcome::Status(_) if ok => self.ok += 1,
            Outcome::Status(s) => *self.by_status.entry(s).or_default() += 1,
            Outcome::ConnError => self.conn_errors += 1,
            Outcome::Timeout => self.timeouts += 1,
        }
        if !matches!(outcome, Outcome::ConnError) {
            let us = now.saturating_duration_since(from).as_micros();
            self.latency_us
                .saturating_record(u64::try_from(us).unwrap_or(u64::MAX).max(1));
        }
        self.last_done = Some(now);
    }
}

fn build_request(shared: &Shared, hit: &Hit) -> Request<Full<Bytes>> {
    let post = shared.method == Method::POST;
    let body = if post {
        Full::new(hit.body.clone())
    } else {
        Full::new(Bytes::new())
    };
    let mut req = Request::new(body);
    *req.method_mut() = shared.method.clone();
    *req.uri_mut() = shared.uri.clone();
    let headers = req.headers_mut();
    headers.insert(HOST, shared.host.clone());
    headers.insert(USER_AGENT, HeaderValue::from_static(hit.user_agent));
    if post {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    req
}

/// Opens one HTTP/1.1 connection and drives it on its own task.
async fn connect(addr: SocketAddr, timeout: Duration) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let open = async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes.
            let _ = conn.await;
        });
        Ok::<_, anyhow::Error>(sender)
    };
    tokio::time::timeout(timeout, open)
        .await
        .context("connect timed out")?
}

/// Prints one short line per second until aborted.
async fn progress_lines(shared: Arc<Shared>, label: String, mode: Progress) {
    let mut tick = tokio::time::interval_at(
        shared.start + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let (mut last_ok, mut last_err) = (0u64, 0u64);
    let mut second = 0u64;
    loop {
        let at = tick.tick().await;
        second += 1;
        let ok = shared.done_ok.load(Ordering::Relaxed);
        let err = shared.done_err.load(Ordering::Relaxed);
        let phase = if at <= shared.measure_start {
            " (warmup)"
        } else {
            ""
        };
        let line = format!(
            "{label} {second:>3}s {:>7} req/s  ok {ok}  err {err}{phase}",
            (ok - last_ok) + (err - last_err)
        );
        (last_ok, last_err) = (ok, err);
        let mut stderr = std::io::stderr().lock();
        let _ = match mode {
            Progress::InPlace => write!(stderr, "\r{line}\x1b[K"),
            _ => writeln!(stderr, "{line}"),
        };
        let _ = stderr.flush();
    }
}
