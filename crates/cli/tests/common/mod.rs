//! Helpers shared by the binary's end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::Command;

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
