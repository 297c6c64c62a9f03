//! Nothing acknowledged is lost: kill the server with SIGKILL while it takes
//! hits, and every hit that got a 2xx is in the store after restart.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use common::{create_project, free_port, skvoz, wait_healthy};

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One keep-alive HTTP/1.1 POST; returns the status.
fn post(stream: &mut BufReader<TcpStream>, body: &str) -> std::io::Result<u16> {
    let req = format!(
        "POST /collect HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(req.as_bytes())?;
    let mut status_line = String::new();
    if stream.read_line(&mut status_line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok(status)
}

#[test]
fn every_acknowledged_hit_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let keys = create_project(dir.path(), "crash");
    let pk = keys["public_key"].as_str().unwrap().to_owned();

    let port = free_port();
    let mut server = skvoz()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port);

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|t| {
            let (acked, stop, pk) = (acked.clone(), stop.clone(), pk.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(conn) = TcpStream::connect(("127.0.0.1", port)) else {
                        break;
                    };
                    let mut conn = BufReader::new(conn);
                    loop {
                        let url = format!("https://crash.example/p?n={t}-{i}");
                        let body =
                            format!(r#"{{"key":"{pk}","vid":"v{t}-{}","url":"{url}"}}"#, i / 5);
                        i += 1;
                        match post(&mut conn, &body) {
                            Ok(200) => acked.lock().unwrap().push(url),
                            Ok(status) => panic!("unexpected status {status}"),
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-KILL", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = server.wait();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "too few hits before the kill: {}",
        acked.len()
    );

    // Restart on the same data: WAL recovery, then the store has them all.
    let port2 = free_port();
    let mut server = skvoz()
        .args(["serve", "--listen", &format!("127.0.0.1:{port2}"), "--data"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(port2);
    let db = rusqlite::Connection::open(dir.path().join("skvoz.db")).unwrap();
    let mut stmt = db.prepare("SELECT url FROM hits").unwrap();
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|u| !stored.contains(*u)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged hits lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!(
        "{} acknowledged hits, {} stored, none lost",
        acked.len(),
        stored.len()
    );

    // And the restarted server keeps serving hits.
    let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", port2)).unwrap());
    let status = post(
        &mut conn,
        &format!(r#"{{"key":"{pk}","url":"https://crash.example/after"}}"#),
    )
    .unwrap();
    assert_eq!(status, 200);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}
