//! `skvoz report paths`: the demo's journeys in ChannelAttribution's input
//! shape, and exactly the conversions `markov` hands to the groups.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run_ok, skvoz};

#[test]
fn report_paths_exports_the_journeys_markov_splits() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(
        skvoz()
            .args(["demo", "--visitors", "500", "--seed", "7", "--data"])
            .arg(dir.path()),
    );
    let report = |args: &[&str]| {
        let mut c = skvoz();
        c.args(["report"])
            .args(args)
            .args([
                "--project",
                "demo",
                "--from",
                "2025-12-01",
                "--to",
                "2028-11-30",
                "--data",
            ])
            .arg(dir.path());
        String::from_utf8(run_ok(&mut c).stdout).unwrap()
    };
    let csv = report(&["paths", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("path,total_conversions,total_null,total_conversion_value")
    );
    assert!(lines.count() > 1, "{csv}");

    let paths: serde_json::Value =
        serde_json::from_str(&report(&["paths", "--format", "json"])).unwrap();
    assert_eq!(paths["conversion"], "sales");
    let rows = paths["rows"].as_array().unwrap();
    let sum = |field: &str| -> f64 { rows.iter().map(|r| r[field].as_f64().unwrap()).sum() };
    assert!(sum("total_conversions") > 0.0, "the demo sells");
    assert!(rows.iter().all(|r| !r["path"].as_str().unwrap().is_empty()));

    // The sales `markov` gives the groups (all but `(unattributed)`, the
    // sales with no visit) are the converting journeys of the export.
    let channels: serde_json::Value = serde_json::from_str(&report(&[
        "channels", "--model", "markov", "--format", "json",
    ]))
    .unwrap();
    let credited = |metric: &str| -> f64 {
        channels["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["channel"] != "(unattributed)")
            .map(|r| r[metric].as_f64().unwrap_or(0.0))
            .sum()
    };
    assert!(
        (credited("sales") - sum("total_conversions")).abs() < 1e-6,
        "markov credits {} sales, the paths hold {}",
        credited("sales"),
        sum("total_conversions")
    );
    assert!(
        (credited("revenue") - sum("total_conversion_value")).abs() < 0.01,
        "markov credits {} revenue, the paths hold {}",
        credited("revenue"),
        sum("total_conversion_value")
    );
}
