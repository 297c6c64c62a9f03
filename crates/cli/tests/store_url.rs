//! `--store URL` / `SKVOZ_STORE`: every command opens the store a URL names
//! instead of the data folder's `skvoz.db`, `serve` included, and a URL's
//! password never reaches the output.

#![allow(clippy::unwrap_used)]

mod common;

use common::{free_port, http_get, run_ok, skvoz, wait_healthy};

use std::process::{Command, Stdio};

#[test]
fn serve_opens_the_store_the_url_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("elsewhere/custom.db");
    let url = format!("sqlite://{}", file.display());
    let port = free_port();
    let mut child = skvoz()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--store", &url])
        .arg("--data")
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port);
    let (status, body) = http_get(port, "/healthz").unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().unwrap();
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["store"], "sqlite");
    assert!(exit.success(), "graceful stop: {exit:?}");
    assert!(file.is_file(), "the store is the named file");
    assert!(
        !data.join("skvoz.db").exists(),
        "the data folder's default file is not opened when --store is given"
    );
}

#[test]
fn every_command_reads_the_store_from_skvoz_store_or_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.db");
    let url = format!("sqlite://{}", file.display());
    // Created through the environment variable, from a working folder whose
    // default data folder stays untouched.
    let out = run_ok(
        skvoz()
            .args(["project", "create", "shop"])
            .env("SKVOZ_STORE", &url)
            .current_dir(dir.path()),
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(file.is_file());
    assert!(!dir.path().join("skvoz-data").exists());
    // Listed through the flag, given as a bare path.
    let out = run_ok(
        skvoz()
            .args(["project", "list", "--store"])
            .arg(&file)
            .current_dir(dir.path()),
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["project_id"], created["project_id"]);
    assert_eq!(listed["name"], "shop");
    // Without --store the data folder's own (empty) store is opened, as
    // before.
    let out = run_ok(
        skvoz()
            .args(["project", "list", "--data"])
            .arg(dir.path().join("data")),
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(dir.path().join("data/skvoz.db").is_file());
}

#[test]
fn a_server_url_is_refused_without_showing_its_password() {
    for args in [
        vec![
            "project",
            "list",
            "--store",
            "postgres://skvoz:hunter2@db/skvoz",
        ],
        vec![
            "project",
            "list",
            "--store",
            "mysql://root:hunter2@db/skvoz",
        ],
    ] {
        let out = skvoz().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert!(
            stderr.contains("not supported yet in this build")
                || stderr.contains("unknown store URL scheme"),
            "{stderr}"
        );
    }
}

#[test]
fn the_example_config_shows_the_store_line() {
    let out = run_ok(skvoz().args(["config", "example"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("# store = \"sqlite:///var/lib/skvoz/skvoz.db\""),
        "{text}"
    );
}
