//! Extractors that answer bad input with the JSON error shape: a wrapped
//! JSON body, the Bearer API key, and the dashboard session.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use skvoz_domain::Project;
use skvoz_store::{Scope, User};

/// A JSON body; malformed JSON, a wrong content type or an oversize body
/// become the JSON error with 400/415/413 (and 422 for a body of the wrong
/// shape, naming the field).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "payload_too_large",
                    "request body is larger than the limit",
                )
            } else {
                ApiError::new(status, ApiError::code_for_status(status), e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Whether the request says its body is JSON (`application/json`, or any
/// `+json` type).
pub fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false)
}

/// Parses a JSON body: a syntax error is 400 `invalid_json`; a body of the
/// wrong shape is 422 `invalid` naming the path of the bad field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // A good body takes the plain parser (tracking the path of every field
    // was a good part of the parse on `/collect`); a bad one is parsed
    // again with the path, for the error.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let mut err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    inner.to_string(),
                );
                let field = if path == "." {
                    first_bad_field(&inner.to_string())
                } else {
                    Some(path)
                };
                if let Some(f) = field {
                    err = err.with_field(f);
                }
                err
            }
            _ => ApiError::bad_request("invalid_json", format!("malformed JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("invalid_json", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Pulls a field name out of serde's "missing field `x`" / "unknown field
/// `x`" messages.
fn first_bad_field(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// The project of a valid `Authorization: Bearer <api_key>`.
/// No key → 401; a key that belongs to no project → 403.
#[derive(Debug, Clone)]
pub struct ApiProject(pub Project);

impl ApiProject {
    /// The store scope this key grants.
    pub fn scope(&self) -> Scope {
        Scope::new(self.0.id)
    }
}

impl FromRequestParts<AppState> for ApiProject {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let key = match value.and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        }) {
            Some(k) if !k.trim().is_empty() => k.trim(),
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing API key: send Authorization: Bearer <api_key>",
                ))
            }
        };
        match state.app.projects.by_api_key(key).await? {
            Some(project) => Ok(ApiProject(project)),
            None => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "invalid API key",
            )),
        }
    }
}

/// The name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "skvoz_session";

/// Reads one cookie from the request headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The logged-in dashboard user (session cookie); 401 otherwise.
#[derive(Debug, Clone)]
pub struct SessionUser(pub User);

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "not logged in")
        })?;
        match state.app.auth.session_user(token).await? {
            Some(user) => Ok(SessionUser(user)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "session expired; log in again",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_field_names_in_serde_messages() {
        assert_eq!(
            super::first_bad_field("missing field `url` at line 1"),
            Some("url".into())
        );
        assert_eq!(super::first_bad_field("invalid type"), None);
    }
}

/// A query string; an unknown parameter or a value of the wrong type is a
/// 422 naming the problem.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::invalid("", e.body_text()))
    }
}
