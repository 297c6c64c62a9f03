//! `skvoz callpool list|sizing` and `skvoz calls list` on a demo store.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run_ok, skvoz};
use serde_json::Value;

/// Runs the command (it must succeed) and parses its JSON lines.
fn lines(cmd: &mut std::process::Command) -> Vec<Value> {
    String::from_utf8_lossy(&run_ok(cmd).stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn pools_sizing_and_calls_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    run_ok(skvoz().args(["demo", "--days", "10", "--visitors", "300", "--data", data]));

    let pools = lines(skvoz().args(["callpool", "list", "--project", "demo", "--data", data]));
    let ids: Vec<&str> = pools.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ads", "print", "partner"]);
    assert_eq!(pools[0]["kind"], "dynamic");

    let sizing = lines(skvoz().args([
        "callpool",
        "sizing",
        "ads",
        "--project",
        "demo",
        "--days",
        "10",
        "--data",
        data,
    ]));
    assert_eq!(sizing[0]["pool_id"], "ads");
    assert!(sizing[0]["visits"].as_u64().unwrap() > 0, "{}", sizing[0]);
    assert!(sizing[0]["recommended"].as_u64().unwrap() >= 1);

    let calls = lines(skvoz().args([
        "calls",
        "list",
        "--project",
        "demo",
        "--days",
        "30",
        "--data",
        data,
    ]));
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c["attribution"].is_string()));

    let bad = skvoz()
        .args([
            "callpool",
            "sizing",
            "print",
            "--project",
            "demo",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "a static pool is not sized");
}
