//! `/login` and `/logout`: the login form (errors shown next to the fields)
//! and the session cookie it sets.

use super::format::esc;
use super::i18n::{self, Lang};
use super::layout::{head, html};
use super::{request_lang, safe_back, same_origin};
use crate::extract::{cookie, SESSION_COOKIE};
use crate::AppState;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use skvoz_app::auth::SESSION_TTL_DAYS;
use skvoz_app::AppError;

/// Longest login or password the form takes.
const MAX_FIELD: usize = 200;

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The form with `errors` as (field, message key) next to the fields.
fn render(lang: Lang, login: &str, next: &str, errors: &[(&str, &str)]) -> String {
    let t = |k: &str| i18n::t(lang, k);
    let err = |f: &str| -> String {
        errors
            .iter()
            .find(|(n, _)| *n == f)
            .map_or(String::new(), |(_, m)| {
                format!(
                    "<span class=\"field-error\" id=\"error-{f}\" role=\"alert\">{}</span>",
                    esc(t(m))
                )
            })
    };
    let invalid = |f: &str| {
        if errors.iter().any(|(n, _)| *n == f) {
            " aria-invalid=\"true\""
        } else {
            ""
        }
    };
    let other = match lang {
        Lang::Ru => Lang::En,
        Lang::En => Lang::Ru,
    };
    let mut out = head(lang, t("login_title"));
    out.push_str(&format!(
        "<main class=\"login\"><form method=\"post\" action=\"/login\" id=\"login-form\" novalidate>\
<h1>skvoz</h1><p class=\"muted\">{subtitle}</p>\
<input type=\"hidden\" name=\"next\" value=\"{next}\">\
<label for=\"login\">{l_login}</label><input id=\"login\" name=\"login\" autocomplete=\"username\" maxlength=\"{MAX_FIELD}\" value=\"{login}\"{inv_login}>{e_login}\
<label for=\"password\">{l_password}</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" maxlength=\"{MAX_FIELD}\"{inv_password}>{e_password}\
<button type=\"submit\" id=\"login-submit\">{l_submit}</button>\
<p><a href=\"/lang?set={oc}&amp;back=/login\" id=\"lang-switch\">{on}</a></p></form>\
<p class=\"muted links\"><a href=\"/openapi.json\">API (OpenAPI)</a> · <a href=\"/t.js\">t.js</a> · <a href=\"/healthz\">healthz</a></p></main></body></html>",
        subtitle = esc(t("login_subtitle")),
        next = esc(next),
        l_login = esc(t("login")),
        login = esc(login),
        inv_login = invalid("login"),
        e_login = err("login"),
        l_password = esc(t("password")),
        inv_password = invalid("password"),
        e_password = err("password"),
        l_submit = esc(t("sign_in")),
        oc = other.code(),
        on = other.name(),
    ));
    out
}

/// `GET /login`.
pub async fn form(headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let lang = request_lang(&headers, &q);
    html(render(lang, "", &safe_back(Some(field(&q, "next"))), &[]))
}

/// `POST /login` (form): sets the session cookie and goes to `next`, or
/// shows the form again with the errors in place (422).
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let lang = request_lang(&headers, &[]);
    let login = field(&pairs, "login").trim();
    let password = field(&pairs, "password");
    let next = safe_back(Some(field(&pairs, "next")));
    let again = |errors: &[(&str, &str)]| {
        let mut r = html(render(lang, login, &next, errors));
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    };
    if !same_origin(&headers) {
        return again(&[("login", "foreign_origin")]);
    }
    let mut errors = Vec::new();
    if login.is_empty() {
        errors.push(("login", "required"));
    } else if login.len() > MAX_FIELD {
        errors.push(("login", "too_long"));
    }
    if password.is_empty() {
        errors.push(("password", "required"));
    } else if password.len() > MAX_FIELD {
        errors.push(("password", "too_long"));
    }
    if !errors.is_empty() {
        return again(&errors);
    }
    match state.app.auth.login(login, password).await {
        Ok((_, token)) => {
            let mut resp = Redirect::to(&next).into_response();
            let secure = if state.secure_cookies { "; Secure" } else { "" };
            if let Ok(c) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                SESSION_TTL_DAYS * 86_400
            )) {
                resp.headers_mut().insert(header::SET_COOKIE, c);
            }
            resp
        }
        Err(AppError::Unauthorized(_)) => again(&[("password", "wrong_login")]),
        Err(e) => {
            tracing::error!(error = %e, "login failed");
            let mut r = again(&[("login", "internal_error")]);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}

/// `POST /logout`: ends the session and goes to the login page.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = state.app.auth.logout(token).await {
            tracing::warn!(error = %e, "logout failed");
        }
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    )) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}
