//! The binary end to end: `project create` output, `serve --demo` health,
//! the demo login printed once, settings from the CLI, graceful SIGTERM.

#![allow(clippy::unwrap_used)]

mod common;

use common::{create_project, free_port, http_get, http_get_as, run_ok, skvoz};

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn project_create_prints_keys_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let v = create_project(dir.path(), "shop");
    assert!(v["project_id"].as_i64().unwrap() > 0);
    assert!(v["public_key"].as_str().unwrap().len() >= 32);
    assert!(v["api_key"].as_str().unwrap().len() >= 32);
    // A second project with the same name is refused with a message.
    let out = skvoz()
        .args(["project", "create", "shop", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // Bad time zone: refused.
    let out = skvoz()
        .args([
            "project",
            "create",
            "x",
            "--timezone",
            "Mars/Base",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn settings_put_from_the_cli_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = skvoz()
        .args(["project", "create", "shop", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"general": {"currency": "RUBLES"}}"#).unwrap();
    let out = skvoz()
        .args(["settings", "put", "--project", "shop", "--data"])
        .arg(dir.path())
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("general.currency"));
    let good = dir.path().join("good.json");
    std::fs::write(&good, r#"{"general": {"currency": "usd"}}"#).unwrap();
    run_ok(
        skvoz()
            .args(["settings", "put", "--project", "shop", "--data"])
            .arg(dir.path())
            .arg(&good),
    );
    let out = skvoz()
        .args(["settings", "get", "--project", "shop", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["general"]["currency"], "USD");
}

#[test]
fn config_example_is_printed() {
    let out = skvoz().args(["config", "example"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""));
}

#[cfg(unix)]
#[test]
fn serve_demo_answers_health_prints_login_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = skvoz()
        .args([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(5)
        .map(|l| l.unwrap())
        .collect();
    let all = lines.join("\n");
    assert!(all.contains("Dashboard login: admin / "), "{all}");
    assert!(all.contains(&format!("http://127.0.0.1:{port}/")), "{all}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut healthy = false;
    while Instant::now() < deadline {
        if let Some((200, body)) = http_get(port, "/healthz") {
            assert!(body.contains("\"ok\""));
            healthy = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(healthy, "no 200 from /healthz");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The channel report is the same through the CLI (JSON and CSV) and the
/// HTTP API, on the demo data with costs imported from a Metrika-style CSV.
#[cfg(unix)]
#[test]
fn report_channels_is_identical_through_cli_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        skvoz()
            .args(["demo", "--visitors", "300", "--days", "30", "--data"])
            .arg(dir.path()),
    );
    let keys: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let api_key = keys["api_key"].as_str().unwrap().to_owned();
    let csv_path = dir.path().join("costs.csv");
    std::fs::write(
        &csv_path,
        "Date,UTMSource,UTMMedium,UTMCampaign,UTMTerm,UTMContent,Expenses,Clicks\n\
         2026-01-05,yandex,cpc,poisk_brend,,,1000.50,10\n\
         2026-01-05..2026-01-07,partner,cpa,,,,300,3\n",
    )
    .unwrap();
    for _ in 0..2 {
        let out = run_ok(
            skvoz()
                .args(["import", "costs"])
                .arg(&csv_path)
                .args(["--project", "demo", "--data"])
                .arg(dir.path()),
        );
        let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(done["rows"], 4, "{done}");
    }
    let query = [
        ("from", "2025-12-01"),
        ("to", "2028-11-30"),
        ("model", "last_non_direct,markov"),
        ("group_by", "channel,source"),
    ];
    let cli = |format: &str| {
        let mut c = skvoz();
        c.args([
            "report",
            "channels",
            "--project",
            "demo",
            "--format",
            format,
            "--data",
        ])
        .arg(dir.path());
        for (k, v) in query {
            c.arg(format!("--{}", k.replace('_', "-"))).arg(v);
        }
        String::from_utf8(run_ok(&mut c).stdout).unwrap()
    };
    let cli_json: serde_json::Value = serde_json::from_str(&cli("json")).unwrap();
    let cli_csv = cli("csv");
    let table = cli("table");
    assert!(
        table.lines().next().unwrap().starts_with("channel"),
        "{table}"
    );
    let rows = cli_json["rows"].as_array().unwrap();
    assert!(rows.len() > 3, "{cli_json}");
    assert!(
        cli_json["totals"]["cost"].as_f64().unwrap() > 1300.0,
        "demo costs plus the file"
    );
    let partner_cost: f64 = rows
        .iter()
        .filter(|r| r["source"] == "partner")
        .map(|r| r["cost"].as_f64().unwrap())
        .sum();
    assert_eq!(partner_cost, 300.0, "imported twice, counted once");

    let port = free_port();
    let mut child = skvoz()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let path = format!("/api/v1/reports/channels?{}", qs.join("&"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut http = None;
    while Instant::now() < deadline {
        if let Some((200, body)) = http_get_as(port, &path, Some(&api_key)) {
            http = Some(body);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let http_json: serde_json::Value =
        serde_json::from_str(&http.expect("report over HTTP")).unwrap();
    let (_, http_csv) = http_get_as(port, &format!("{path}&format=csv"), Some(&api_key)).unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    assert_eq!(cli_json, http_json);
    assert_eq!(cli_csv, http_csv);
}
