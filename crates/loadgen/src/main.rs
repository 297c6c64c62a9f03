//! The `skvoz-loadgen` binary; see the library docs.

use clap::Parser as _;
use skvoz_loadgen::cli::{run, Args};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("skvoz-loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
