//! Helpers shared by the binary's end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The `skvoz` binary with a clean environment.
pub fn skvoz() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skvoz"));
    c.env_remove("SKVOZ_DATA")
        .env_remove("SKVOZ_STORE")
        .env_remove("SKVOZ_LISTEN")
        .env("RUST_LOG", "warn");
    c
}

/// Runs the command and asserts it succeeded (showing its stderr when not).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `GET path` on the local port: the status and the body, or `None` when
/// nothing answered.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_get_as(port, path, None)
}

/// [`http_get`] with an API key (`Authorization: Bearer`); chunked bodies
/// (axum streams larger answers) are reassembled.
pub fn http_get_as(port: u16, path: &str, key: Option<&str>) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let auth = key.map_or_else(String::new, |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf).into_owned();
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).ok()?;
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    Some((status, body))
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits up to 30 s until `GET /healthz` on `port` answers 200.
pub fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_get(port, "/healthz").is_some_and(|(status, _)| status == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on {port} never became healthy");
}

/// `skvoz project create NAME --data DIR`; its keys (`public_key`,
/// `api_key`, …).
pub fn create_project(dir: &Path, name: &str) -> serde_json::Value {
    let out = run_ok(skvoz().args(["project", "create", name, "--data"]).arg(dir));
    serde_json::from_slice(&out.stdout).unwrap()
}
