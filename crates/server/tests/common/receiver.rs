//! A fake HTTP receiver on loopback: records every request, answers with a
//! status the test sets, and runs a format check that turns a malformed
//! request into a 400 (recorded as an error), the way the real receivers
//! would refuse it.

#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

type Check = Arc<dyn Fn(&Received) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    pub errors: Arc<Mutex<Vec<String>>>,
    pub status: Arc<AtomicU16>,
}

impl Receiver {
    pub async fn start(
        check: impl Fn(&Received) -> Result<(), String> + Send + Sync + 'static,
    ) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let r = Receiver {
            base,
            got: Arc::default(),
            errors: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
        };
        let check: Check = Arc::new(check);
        let state = (r.clone(), check);
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (r, check) = state.clone();
            async move {
                let got = Received {
                    uri: uri.to_string(),
                    headers,
                    body: body.to_vec(),
                };
                let verdict = check(&got);
                r.got.lock().unwrap().push(got);
                if let Err(e) = verdict {
                    r.errors.lock().unwrap().push(e.clone());
                    return (StatusCode::BAD_REQUEST, e).into_response();
                }
                let status = StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap();
                let mut resp = (status, "{}").into_response();
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    resp.headers_mut()
                        .insert("retry-after", "7".parse().unwrap());
                }
                resp
            }
        });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        r
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().unwrap().clone()
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// The part `name` of a multipart/form-data body.
pub fn multipart_part(content_type: &str, body: &[u8], name: &str) -> Result<Vec<u8>, String> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .ok_or("no multipart boundary")?
        .trim_matches('"');
    let text = String::from_utf8(body.to_vec()).map_err(|_| "multipart body is not UTF-8")?;
    let delimiter = format!("--{boundary}");
    if !text.trim_end().ends_with(&format!("{delimiter}--")) {
        return Err("multipart body does not end with the closing boundary".into());
    }
    for part in text.split(&delimiter).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains(&format!("name=\"{name}\"")) {
            return Ok(content
                .strip_suffix("\r\n")
                .unwrap_or(content)
                .as_bytes()
                .to_vec());
        }
    }
    Err(format!("no multipart part named {name}"))
}
