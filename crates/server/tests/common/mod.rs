//! Shared helpers for the server's integration tests: a real router over a
//! fresh store (the backend `SKVOZ_TEST_STORE` names; SQLite by default),
//! driven with `oneshot`.

#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use skvoz_app::{App, DynStore};
use skvoz_backends::{test_store, TestStore};
use skvoz_server::{router, ServerOptions};
use tower::ServiceExt;

/// A desktop Chrome User-Agent (a browser, not a bot).
pub const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

pub struct TestServer {
    pub app: App,
    /// The store under `app`, for checking what was written (the app keeps
    /// its own private: handlers go through services).
    pub store: DynStore,
    pub router: Router,
    /// Keeps the store's files; reopens the store after a "restart".
    pub guard: TestStore,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestServer {
    pub async fn new() -> TestServer {
        let (store, guard) = test_store().await.unwrap();
        TestServer::over(App::new(store.clone()), store, guard)
    }

    /// A server over an existing app on `store` (e.g. one reopened from
    /// `guard` after a restart).
    pub fn over(app: App, store: DynStore, guard: TestStore) -> TestServer {
        let router = router(app.clone(), &ServerOptions::default());
        TestServer {
            app,
            store,
            router,
            guard,
        }
    }

    /// Drops the app, the store handle and the router — a process that
    /// stopped — and keeps the store's files for a reopen.
    pub fn into_guard(self) -> TestStore {
        self.guard
    }

    /// Creates a project and returns (project_id, public_key, api_key).
    pub async fn project(&self, name: &str) -> (i64, String, String) {
        let (_, c) = self.app.projects.create(name, None, None).await.unwrap();
        (c.project_id, c.public_key, c.api_key)
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            b = b.header(header::AUTHORIZATION, format!("Bearer {k}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }
}

/// Asserts the JSON error shape and returns its code.
pub fn error_code(reply: &Reply) -> String {
    let err = &reply.body["error"];
    assert!(
        err.is_object(),
        "not the JSON error shape: {} {}",
        reply.status,
        reply.text
    );
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {}",
        reply.text
    );
    let ct = reply
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.starts_with("application/json"), "content type {ct}");
    err["code"].as_str().unwrap().to_owned()
}

impl TestServer {
    /// Posts a hit to `/collect` as desktop Chrome; asserts 200 and returns
    /// the answer.
    pub async fn collect(&self, body: Value) -> Value {
        let req = Request::post("/collect")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, CHROME)
            .body(Body::from(body.to_string()))
            .unwrap();
        let r = self.send(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }

    /// Reads the project's settings document, lets `patch` change it and
    /// stores it; asserts 200.
    pub async fn patch_settings(&self, key: &str, patch: impl FnOnce(&mut Value)) {
        let mut doc = self
            .call(Method::GET, "/api/v1/settings", Some(key), None)
            .await
            .body;
        patch(&mut doc);
        let r = self
            .call(Method::PUT, "/api/v1/settings", Some(key), Some(doc))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
}

/// A support-ticket lead (opens no deal) of a contact with these
/// identities, with nothing else filled in.
pub fn ticket_lead(
    source_id: &str,
    created_at: chrono::DateTime<chrono::Utc>,
    identities: Vec<skvoz_domain::crm::Identity>,
) -> skvoz_store::NewLead {
    skvoz_store::NewLead {
        kind: skvoz_domain::crm::LeadKind::Ticket,
        source_id: Some(source_id.to_owned()),
        created_at,
        visit_id: None,
        identities,
        name: None,
        payload: serde_json::json!({}),
    }
}

/// The usual lead policy: deduplicate, open deals in stage `new`.
pub fn lead_policy() -> skvoz_store::LeadPolicy {
    skvoz_store::LeadPolicy {
        dedup: true,
        first_stage: "new".into(),
    }
}
