//! The foundation's HTTP contract: health, metrics, OpenAPI, keys, project
//! isolation, settings with ETag/If-Match, login, and one test per bad input.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{error_code, TestServer};
use serde_json::json;

#[tokio::test]
async fn healthz_answers() {
    let s = TestServer::new().await;
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["store"], "sqlite");
}

#[tokio::test]
async fn malformed_json_is_400_and_server_keeps_serving() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let req = Request::put("/api/v1/settings")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"general\": {"))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r), "invalid_json");
    // Nothing changed and the server still answers.
    let r = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get(header::ETAG).unwrap(), "\"1\"");
}

#[tokio::test]
async fn two_mib_body_is_413() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let req = Request::put("/api/v1/settings")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&r), "payload_too_large");
    let r = s.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let req = Request::put("/api/v1/settings")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&r), "unsupported_media_type");
}

#[tokio::test]
async fn missing_key_is_401() {
    let s = TestServer::new().await;
    s.project("shop").await;
    let r = s.call(Method::GET, "/api/v1/settings", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&r), "unauthorized");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Bearer"));
}

#[tokio::test]
async fn wrong_key_is_403() {
    let s = TestServer::new().await;
    s.project("shop").await;
    let r = s
        .call(
            Method::GET,
            "/api/v1/settings",
            Some("sk_not_a_real_key"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&r), "forbidden");
}

#[tokio::test]
async fn unknown_route_is_404_json() {
    let s = TestServer::new().await;
    let r = s
        .call(Method::GET, "/api/v1/no-such-thing", None, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&r), "not_found");
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/api/v1/no-such-thing"));
}

#[tokio::test]
async fn wrong_method_is_405_json() {
    let s = TestServer::new().await;
    let r = s.call(Method::DELETE, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&r), "method_not_allowed");
}

#[tokio::test]
async fn one_projects_key_cannot_reach_another_project() {
    let s = TestServer::new().await;
    let (a_id, _, a_key) = s.project("a").await;
    let (b_id, _, b_key) = s.project("b").await;
    // Each key sees its own project...
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/projects/{a_id}"),
            Some(&a_key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["name"], "a");
    // ...and never the other one.
    let r = s
        .call(
            Method::GET,
            &format!("/api/v1/projects/{b_id}"),
            Some(&a_key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.get("name").is_none() && !r.text.contains("\"b\""));
    // Settings written with B's key do not show under A's key.
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&b_key), None)
        .await
        .body;
    doc["general"]["currency"] = json!("USD");
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&b_key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = s
        .call(Method::GET, "/api/v1/settings", Some(&a_key), None)
        .await;
    assert_eq!(a.body["general"]["currency"], "RUB");
    let b = s
        .call(Method::GET, "/api/v1/settings", Some(&b_key), None)
        .await;
    assert_eq!(b.body["general"]["currency"], "USD");
}

#[tokio::test]
async fn settings_etag_if_match_and_validation() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let r = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["general"]["timezone"], "Europe/Moscow");
    assert_eq!(r.body["general"]["currency"], "RUB");
    assert!(r.body["pipeline"]["stages"].as_array().unwrap().len() >= 3);
    let mut doc = r.body.clone();

    // A bad field: 422 naming its path; nothing stored.
    doc["pipeline"]["stages"][0]["kind"] = json!("maybe");
    let r = s
        .call(
            Method::PUT,
            "/api/v1/settings",
            Some(&key),
            Some(doc.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&r), "invalid");
    assert_eq!(r.body["error"]["field"], "pipeline.stages[0].kind");

    // A good change with the right If-Match.
    doc["pipeline"]["stages"][0]["kind"] = json!("open");
    doc["general"]["timezone"] = json!("Asia/Yekaterinburg");
    let req = Request::put("/api/v1/settings")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::IF_MATCH, "\"1\"")
        .body(Body::from(doc.to_string()))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers.get(header::ETAG).unwrap(), "\"2\"");

    // The same stale If-Match now conflicts.
    let req = Request::put("/api/v1/settings")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::IF_MATCH, "\"1\"")
        .body(Body::from(doc.to_string()))
        .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&r), "conflict");
    let r = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await;
    assert_eq!(r.body["general"]["timezone"], "Asia/Yekaterinburg");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let s = TestServer::new().await;
    s.call(Method::GET, "/healthz", None, None).await;
    s.call(Method::GET, "/nope", None, None).await;
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("skvoz_http_requests_total{"), "{}", r.text);
    assert!(r.text.contains("route=\"/healthz\""), "{}", r.text);
    assert!(r.text.contains("status=\"404\""), "{}", r.text);
    assert!(
        r.text
            .contains("skvoz_http_request_duration_seconds_bucket"),
        "{}",
        r.text
    );
}

/// Regression: every invented method a client sent became a label value of
/// its own, kept forever (20,000 random methods grew `/metrics` by 32 MB).
#[tokio::test]
async fn invented_methods_are_one_metrics_label() {
    let s = TestServer::new().await;
    let mut seed: u64 = 0x5eed;
    for i in 0..1_000 {
        // A valid token nobody defines: XQ + ten pseudo-random letters.
        let mut name = String::from("XQ");
        for _ in 0..10 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            name.push(char::from(b'A' + u8::try_from((seed >> 33) % 26).unwrap()));
        }
        let method = Method::from_bytes(name.as_bytes()).unwrap();
        let path = if i % 2 == 0 {
            "/healthz"
        } else {
            "/no-such-route"
        };
        let r = s.call(method, path, None, None).await;
        assert!(r.status.is_client_error(), "{name} {path}: {}", r.status);
    }
    let r = s.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.text.contains("method=\"XQ"),
        "an invented method became a label"
    );
    assert!(r.text.contains("method=\"other\""), "{}", r.text);
    let methods: std::collections::BTreeSet<&str> = r
        .text
        .lines()
        .filter(|l| l.starts_with("skvoz_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    let standard = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE", "other",
    ];
    assert!(methods.iter().all(|m| standard.contains(m)), "{methods:?}");
    let series = r
        .text
        .lines()
        .filter(|l| l.starts_with("skvoz_http_requests_total{"))
        .count();
    assert!(series < 100, "{series} request series after 1,000 methods");
}

#[tokio::test]
async fn openapi_lists_the_routes() {
    let s = TestServer::new().await;
    let r = s.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/healthz",
        "/metrics",
        "/api/v1/settings",
        "/api/v1/project",
    ] {
        assert!(r.body["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(r.body["components"]["securitySchemes"]["api_key"].is_object());
}

#[tokio::test]
async fn login_sets_an_httponly_cookie_and_logout_ends_it() {
    let s = TestServer::new().await;
    s.app
        .auth
        .create_user("admin", "correct horse", true)
        .await
        .unwrap();
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": "admin", "password": "wrong one"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"login": "admin", "password": "correct horse"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let me = Request::get("/api/v1/auth/me")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .unwrap();
    let r = s.send(me).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["login"], "admin");
    let out = Request::post("/api/v1/auth/logout")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .unwrap();
    assert_eq!(s.send(out).await.status, StatusCode::NO_CONTENT);
    let me = Request::get("/api/v1/auth/me")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .unwrap();
    assert_eq!(s.send(me).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_start_page_says_where_things_are() {
    let s = TestServer::new().await;
    // `/` is the dashboard: logged out, it leads to the login page, which
    // links the API document and the tracker.
    let r = s.call(Method::GET, "/", None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = s.call(Method::GET, "/login", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("/openapi.json") && r.text.contains("t.js"));
}
