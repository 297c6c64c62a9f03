//! `skvoz-loadgen`: replays realistic `/collect` traffic against a running
//! skvoz server over HTTP/1.1 keep-alive connections and reports throughput
//! and latency percentiles.
//!
//! - [`model`] makes the traffic: visitors, sessions, sources, bodies.
//! - [`runner`] sends it, open loop (`--rps N`) or closed loop (`--rps 0`).
//! - [`report`] holds the results and renders them.
//! - [`cli`] is the command line and the top-level flow.
//!
//! `--json` prints one object: `route`, `mode` (`open-loop`|`closed-loop`),
//! `target_rps`, `connections`, `latency_from` (`scheduled`|`send`), `sent`,
//! `ok` (2xx), `errors` (all failures), `errors_by_status` (`{"429": n}`),
//! `conn_errors`, `timeouts`, `unsent` (open loop backlog), `rps` (all
//! requests / s), `ok_rps`, `p50_ms`, `p90_ms`, `p99_ms`, `p999_ms`,
//! `max_ms`, `duration_s`; with `--noop-path` also `noop` (the same object
//! for that route) and `ratio` (`ok_rps` of the main route over the no-op
//! route's, or null).

pub mod cli;
pub mod model;
pub mod report;
pub mod runner;
