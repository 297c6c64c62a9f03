//! Helpers shared by the binary's end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The `skvoz` binary with a clean environment.
pub fn skvoz() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skvoz"));
    c.env_remove("SKVOZ_DATA")
        .env_remove("SKVOZ_LISTEN")
        .env("RUST_LOG", "warn");
    c
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
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server on {port} never became healthy");
}

/// `skvoz project create NAME --data DIR`; its keys (`public_key`,
/// `api_key`, …).
pub fn create_project(dir: &Path, name: &str) -> serde_json::Value {
    let out = skvoz()
        .args(["project", "create", name, "--data"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
