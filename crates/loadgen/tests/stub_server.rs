//! Drives the generator for a second or so against a tiny hyper server on
//! 127.0.0.1 (ephemeral port) that checks each `/collect` body.

use bytes::Bytes;
use clap::Parser as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use skvoz_loadgen::cli::{execute, Args};
use skvoz_loadgen::runner::Target;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

#[derive(Default)]
struct Seen {
    collect: AtomicU64,
    bad: AtomicU64,
    healthz: AtomicU64,
}

async fn handle(
    req: Request<Incoming>,
    seen: Arc<Seen>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, body: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *r.status_mut() = status;
        Ok(r)
    };
    match (req.method().clone(), req.uri().path()) {
        (Method::POST, "/collect") => {
            let json_type = req
                .headers()
                .get("content-type")
                .is_some_and(|v| v == "application/json");
            let has_ua = req.headers().contains_key("user-agent");
            let body = req.into_body().collect().await.map(|b| b.to_bytes());
            let valid = body
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| {
                    v["key"] == "pk_stub" && v["vid"].is_string() && v["url"].is_string()
                });
            if json_type && has_ua && valid {
                seen.collect.fetch_add(1, Ordering::Relaxed);
                reply(StatusCode::OK, "{}")
            } else {
                seen.bad.fetch_add(1, Ordering::Relaxed);
                reply(StatusCode::BAD_REQUEST, "{}")
            }
        }
        (Method::GET, "/healthz") => {
            seen.healthz.fetch_add(1, Ordering::Relaxed);
            reply(StatusCode::OK, "ok")
        }
        (_, "/fail") => reply(StatusCode::SERVICE_UNAVAILABLE, "{}"),
        _ => reply(StatusCode::NOT_FOUND, "{}"),
    }
}

async fn stub() -> anyhow::Result<(SocketAddr, Arc<Seen>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let seen = Arc::new(Seen::default());
    let s = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, Arc::clone(&s)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, seen))
}

fn args(addr: SocketAddr, extra: &[&str]) -> anyhow::Result<Args> {
    let url = format!("http://{addr}");
    let mut argv = vec![
        "skvoz-loadgen",
        "--url",
        &url,
        "--key",
        "pk_stub",
        "--visitors",
        "1000",
        "--pool",
        "5000",
        "--quiet",
    ];
    argv.extend_from_slice(extra);
    Ok(Args::try_parse_from(argv)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_with_noop_route() -> anyhow::Result<()> {
    let (addr, seen) = stub().await?;
    let a = args(
        addr,
        &[
            "--connections",
            "4",
            "--duration",
            "1s",
            "--warmup",
            "200ms",
            "--noop-path",
            "/healthz",
        ],
    )?;
    let out = execute(&a).await?;
    assert!(out.main.ok > 100, "{}", out.to_text());
    assert_eq!(out.main.errors(), 0, "{}", out.to_text());
    assert_eq!(seen.bad.load(Ordering::Relaxed), 0);
    // Warm-up requests reach the server but are not counted.
    assert!(seen.collect.load(Ordering::Relaxed) >= out.main.ok);
    let noop = out
        .noop
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no noop run"))?;
    assert!(noop.ok > 100);
    assert!(seen.healthz.load(Ordering::Relaxed) >= noop.ok);

    let json: serde_json::Value = serde_json::from_str(&out.to_json()?)?;
    for field in [
        "sent",
        "ok",
        "errors",
        "rps",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "p999_ms",
        "max_ms",
        "duration_s",
    ] {
        assert!(json[field].is_number(), "{field} in {json}");
    }
    assert!(json["ratio"].is_number(), "{json}");
    assert_eq!(json["noop"]["route"], "GET /healthz");
    assert_eq!(json["latency_from"], "send");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_holds_the_rate() -> anyhow::Result<()> {
    let (addr, _seen) = stub().await?;
    let a = args(
        addr,
        &[
            "--rps",
            "400",
            "--connections",
            "8",
            "--duration",
            "1s",
            "--warmup",
            "0s",
        ],
    )?;
    let out = execute(&a).await?;
    let sent = out.main.sent();
    // 400 slots fall in the 1 s window; a busy machine may leave a few of
    // them unsent at the end, but never more than were scheduled.
    assert!(
        (398..=402).contains(&(sent + out.main.unsent)),
        "{}",
        out.to_text()
    );
    assert!(sent >= 300, "{}", out.to_text());
    assert_eq!(out.main.ok, sent);
    assert!(
        out.main.rps() > 250.0 && out.main.rps() < 420.0,
        "{}",
        out.to_text()
    );
    let json: serde_json::Value = serde_json::from_str(&out.to_json()?)?;
    assert_eq!(json["latency_from"], "scheduled");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_2xx_are_counted_by_status() -> anyhow::Result<()> {
    let (addr, _seen) = stub().await?;
    let a = args(
        addr,
        &[
            "--path",
            "/fail",
            "--connections",
            "2",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
        ],
    )?;
    let out = execute(&a).await?;
    assert_eq!(out.main.ok, 0);
    let n503 = out.main.by_status.get(&503).copied().unwrap_or(0);
    assert!(n503 > 0 && n503 == out.main.errors(), "{}", out.to_text());
    let json: serde_json::Value = serde_json::from_str(&out.to_json()?)?;
    assert_eq!(json["errors_by_status"]["503"], n503);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_errors_and_the_run_ends() -> anyhow::Result<()> {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        l.local_addr()?
    };
    let a = args(
        addr,
        &[
            "--connections",
            "2",
            "--duration",
            "500ms",
            "--warmup",
            "0s",
            "--timeout",
            "1s",
        ],
    )?;
    let started = std::time::Instant::now();
    let out = execute(&a).await?;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(out.main.ok, 0);
    assert!(out.main.conn_errors > 0, "{}", out.to_text());
    Ok(())
}

#[tokio::test]
async fn only_loopback_by_default() -> anyhow::Result<()> {
    assert!(Target::resolve("http://192.0.2.1:8080", false)
        .await
        .is_err());
    assert!(Target::resolve("https://127.0.0.1:8080", false)
        .await
        .is_err());
    let t = Target::resolve("http://127.0.0.1:9/base/", false).await?;
    assert_eq!(t.uri("/collect")?.to_string(), "/base/collect");
    let t = Target::resolve("http://[::1]:9", false).await?;
    assert!(t.addr.ip().is_loopback());
    Ok(())
}
