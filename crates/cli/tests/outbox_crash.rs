//! Kill the server mid-delivery: after a restart every outbox message is
//! delivered, and a receiver that drops repeats by idempotency key applies
//! each message's side effect exactly once — while having seen at least one
//! redelivery, which proves the kill really hit a delivery in flight.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use common::{create_project, free_port, skvoz, wait_healthy};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "crash-test-secret-0123456789";
const LEADS: usize = 40;

/// A slow webhook receiver: applies a message's side effect when it
/// arrives (once per idempotency key), then takes 300 ms to answer.
#[derive(Default)]
struct Sink {
    /// Idempotency key → requests seen.
    seen: Mutex<HashMap<String, usize>>,
    /// Side effects applied (deduplicated by key).
    applied: AtomicUsize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    bad_signatures: AtomicUsize,
}

fn serve_sink(sink: Arc<Sink>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let sink = sink.clone();
            std::thread::spawn(move || handle(conn, &sink));
        }
    });
    port
}

fn handle(conn: TcpStream, sink: &Sink) {
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        sink.requests.fetch_add(1, Ordering::SeqCst);
        let sig = headers
            .get("x-skvoz-signature")
            .cloned()
            .unwrap_or_default();
        if !skvoz_connectors::outbound::webhook::verify(SECRET, &body, &sig) {
            sink.bad_signatures.fetch_add(1, Ordering::SeqCst);
        }
        let key = headers.get("idempotency-key").cloned().unwrap_or_default();
        {
            let mut seen = sink.seen.lock().unwrap();
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            if *n == 1 {
                // The side effect, once per key.
                sink.applied.fetch_add(1, Ordering::SeqCst);
            }
        }
        sink.in_flight.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        sink.in_flight.fetch_sub(1, Ordering::SeqCst);
        let ok =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if reader.get_mut().write_all(ok).is_err() {
            return;
        }
    }
}

/// One request with `Connection: close`; returns (status, body).
fn http(port: u16, method: &str, path: &str, key: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    let child = skvoz()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("SKVOZ_OUTBOX_LEASE_SECONDS", "2")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port);
    child
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_kill_mid_delivery_loses_nothing_and_the_receiver_dedups_the_repeat() {
    let sink = Arc::new(Sink::default());
    let sink_port = serve_sink(sink.clone());
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(dir.path(), "crash");
    let api_key = keys["api_key"].as_str().unwrap().to_owned();
    let settings = serde_json::json!({"webhooks": [{
        "id": "sink", "url": format!("http://127.0.0.1:{sink_port}/hook"), "secret": SECRET,
        "events": ["lead.created"], "rate_per_second": 100
    }]});
    let mut put = skvoz()
        .args(["settings", "put", "--project", "crash", "-", "--data"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    put.stdin
        .take()
        .unwrap()
        .write_all(settings.to_string().as_bytes())
        .unwrap();
    assert!(put.wait().unwrap().success());

    let port = free_port();
    let mut server = start(dir.path(), port);
    for i in 0..LEADS {
        let body = format!(r#"{{"email":"lead{i}@crash.example","form":"crash"}}"#);
        let (status, text) = http(port, "POST", "/api/v1/leads", &api_key, &body);
        assert_eq!(status, 200, "{text}");
    }
    // Kill while a delivery is in flight: the receiver applied it but the
    // server never hears the answer.
    wait_for("deliveries to start", 30, || {
        sink.applied.load(Ordering::SeqCst) >= 5 && sink.in_flight.load(Ordering::SeqCst) > 0
    });
    let kill = Command::new("kill")
        .args(["-KILL", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = server.wait();
    let before = sink.applied.load(Ordering::SeqCst);
    assert!(
        before < LEADS,
        "the kill came after every delivery ({before})"
    );

    let port2 = free_port();
    let mut server = start(dir.path(), port2);
    wait_for("every delivery", 60, || {
        sink.applied.load(Ordering::SeqCst) == LEADS
    });
    // Let anything still queued arrive, then look at the store.
    wait_for("the outbox to settle", 30, || {
        let (_, body) = http(
            port2,
            "GET",
            "/api/v1/outbox?status=delivered&limit=1000",
            &api_key,
            "",
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v["messages"].as_array().map(Vec::len) == Some(LEADS)
    });
    let seen = sink.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), LEADS, "one key per lead");
    let repeats: usize = seen.values().map(|n| n - 1).sum();
    assert!(
        repeats >= 1,
        "no redelivery: the kill did not hit a delivery in flight"
    );
    assert_eq!(
        sink.applied.load(Ordering::SeqCst),
        LEADS,
        "each side effect once"
    );
    assert_eq!(sink.bad_signatures.load(Ordering::SeqCst), 0);
    eprintln!(
        "{LEADS} messages, {before} applied before the kill, {} requests, {repeats} redelivered and dropped by key",
        sink.requests.load(Ordering::SeqCst)
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    // The CLI sees the same outbox.
    let out = skvoz()
        .args([
            "outbox",
            "list",
            "--project",
            "crash",
            "--status",
            "delivered",
            "--limit",
            "1000",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), LEADS);
    assert!(lines
        .iter()
        .all(|m| m["destination_kind"] == "webhook" && m["delivered_at"].is_string()));
    let out = skvoz()
        .args(["outbox", "retry", "--dead", "--project", "crash", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"retried":0}"#
    );
    let delivered_id = lines[0]["id"].as_i64().unwrap().to_string();
    let out = skvoz()
        .args([
            "outbox",
            "retry",
            &delivered_id,
            "--project",
            "crash",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "only dead messages are retried");
}
