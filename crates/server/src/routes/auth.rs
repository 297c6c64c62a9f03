//! Dashboard login: a session cookie (HttpOnly, SameSite=Lax).

use crate::error::ApiResult;
use crate::extract::{cookie, ApiJson, SessionUser, SESSION_COOKIE};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use skvoz_app::auth::SESSION_TTL_DAYS;
use utoipa::ToSchema;

/// Login form.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
}

/// The logged-in user.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Login.
    pub login: String,
    /// Administrator.
    pub is_admin: bool,
}

fn session_cookie(token: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// Checks the password and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let (user, token) = state.app.auth.login(&req.login, &req.password).await?;
    let mut resp = Json(Me {
        login: user.login,
        is_admin: user.is_admin,
    })
    .into_response();
    if let Some(c) = session_cookie(&token, SESSION_TTL_DAYS * 86_400, state.secure_cookies) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.app.auth.logout(token).await?;
    }
    let mut resp = axum::http::StatusCode::NO_CONTENT.into_response();
    if let Some(c) = session_cookie("", 0, state.secure_cookies) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401)))]
pub async fn me(user: SessionUser) -> Json<Me> {
    Json(Me {
        login: user.0.login,
        is_admin: user.0.is_admin,
    })
}
