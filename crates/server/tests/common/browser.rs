//! Helpers for tests that drive a real headless Chromium: finding the
//! binary (or skipping outside CI), serving routers on real loopback ports,
//! running Chromium with a hard timeout, and reading what it printed.
//!
//! Declared from a test file with
//! `#[path = "common/browser.rs"] mod browser;`.

#![allow(dead_code, clippy::unwrap_used)]

use axum::Router;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How long one Chromium run may take before it is killed.
pub const HARD_TIMEOUT: Duration = Duration::from_secs(30);

/// The Chromium binary: `SKVOZ_CHROMIUM`, else `chromium` or
/// `chromium-browser` on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("SKVOZ_CHROMIUM").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        assert!(
            path.is_file(),
            "SKVOZ_CHROMIUM={} is not a file",
            path.display()
        );
        return Some(path);
    }
    let dirs = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&dirs) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Whether we run under CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// Chromium, or `None` after a loud skip notice. Under CI a missing
/// Chromium fails the test instead: browser tests must not silently vanish.
pub fn chromium_or_skip(test: &str) -> Option<Chromium> {
    match find_chromium() {
        Some(path) => Some(Chromium { path }),
        None if in_ci() => panic!(
            "{test}: chromium not found, and CI requires the browser tests. \
             Install it (Debian: apt-get install chromium; .ci/run does) or point \
             SKVOZ_CHROMIUM at the binary."
        ),
        None => {
            // Straight to the process's stderr: the test harness captures
            // `eprintln!` of passing tests, and this notice must be seen.
            let notice = format!(
                "\n\
                 ************************************************************\n\
                 *  SKIPPED: chromium not found — {test} did not run.\n\
                 *  Install chromium (or set SKVOZ_CHROMIUM) to run it;\n\
                 *  under CI (CI=true) this is a failure.\n\
                 ************************************************************\n"
            );
            let _ = std::io::stderr().write_all(notice.as_bytes());
            None
        }
    }
}

/// Serves `router` on a fresh `127.0.0.1` port in a background task (with
/// the peer address, as `skvoz_server::serve` does) and returns the address.
/// The task ends with the test's runtime.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// A Chromium binary.
pub struct Chromium {
    /// Where it is.
    pub path: PathBuf,
}

/// What one Chromium run left behind.
pub struct Run {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output (the DOM, with `--dump-dom`).
    pub stdout: String,
    /// Standard error (Chromium's log, with the page's console messages).
    pub stderr: String,
    /// How long it took.
    pub elapsed: Duration,
}

impl Run {
    /// The page's console messages from the log (`--enable-logging=stderr`
    /// prints them as `…:INFO:CONSOLE:12] "message", source: url (12)`),
    /// only those whose source is one of `origins`.
    pub fn console_messages(&self, origins: &[String]) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .filter(|l| origins.iter().any(|o| l.contains(o.as_str())))
            .map(str::to_owned)
            .collect()
    }

    /// The last `n` lines of the log, for failure messages, without the
    /// D-Bus complaints of a machine without a session bus.
    pub fn stderr_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.contains("dbus") && !l.contains("D-Bus"))
            .collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Chromium {
    /// Flags for a quiet, deterministic, sandbox-free (root in CI
    /// containers) headless run that logs console messages to stderr.
    fn base_args(profile: &Path) -> Vec<String> {
        [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect()
    }

    /// Loads `url` and returns the DOM after the scripts ran.
    pub async fn dump_dom(&self, url: &str) -> Run {
        self.run(&["--dump-dom".to_owned()], url).await
    }

    /// Loads `url` and saves a PNG of the window to `png`.
    pub async fn screenshot(&self, url: &str, png: &Path, width: u32, height: u32) -> Run {
        let args = [
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_owned(),
        ];
        self.run(&args, url).await
    }

    /// Runs Chromium with a fresh profile, killing its whole process group
    /// after [`HARD_TIMEOUT`]. Output goes to files, not pipes, so a
    /// straggling helper process cannot hold the run open.
    pub async fn run(&self, extra: &[String], url: &str) -> Run {
        let scratch = tempfile::tempdir().unwrap();
        let profile = scratch.path().join("profile");
        let out_path = scratch.path().join("stdout");
        let err_path = scratch.path().join("stderr");
        let mut args = Chromium::base_args(&profile);
        args.extend(extra.iter().cloned());
        args.push(url.to_owned());

        let started = Instant::now();
        let mut child = tokio::process::Command::new(&self.path)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.path.display()));
        let pid = child.id();
        let status = match tokio::time::timeout(HARD_TIMEOUT, child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => {
                if let Some(pid) = pid {
                    // The group holds the browser and its renderers.
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", "--", &format!("-{pid}")])
                        .status();
                }
                let _ = child.kill().await;
                let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
                let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
                panic!(
                    "chromium did not finish within {HARD_TIMEOUT:?} on {url}; killed it. \
                     Log tail:\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
        };
        Run {
            status,
            stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
            elapsed: started.elapsed(),
        }
    }
}

/// The text content of the first element with `id` in a dumped DOM, with
/// the HTML serializer's escapes undone.
pub fn element_text(dom: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let at = dom.find(&marker)?;
    let open_end = at + dom[at..].find('>')? + 1;
    let close = open_end + dom[open_end..].find("</")?;
    Some(
        dom[open_end..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", "\u{a0}")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}

/// The value of cookie `name` in a `document.cookie` string.
pub fn cookie_value(cookies: &str, name: &str) -> Option<String> {
    cookies.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// `target/artifacts` of the workspace (created), where CI picks up
/// screenshots.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap_or(dir)
}
