//! `/settings`: projects (and a form to create one), the API key (rotated
//! on demand, shown once), the tracker snippet to copy, the webhook URL of
//! every integration to paste into the other system (CRMs, telephony,
//! messengers, the help desk, the Alytics export), the channel rules, the
//! number pools, the messenger numbers and bots, and the whole settings
//! document as JSON — validated on save, the bad field named next to the
//! editor. Changes need an administrator.

use super::format::esc;
use super::layout;
use super::{finish, same_origin, Dash, PageError};
use crate::AppState;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use skvoz_app::AppError;
use skvoz_domain::calltracking::{CallTrackingSettings, PoolKind};
use skvoz_domain::messengers::MessengerSettings;

/// Largest settings document the editor accepts, in bytes.
const MAX_DOCUMENT: usize = 512 * 1024;

/// What the page shows besides the settings: a one-time secret, errors of
/// a form, and the values to put back in it.
#[derive(Default)]
struct Extra {
    /// A message and a one-time value (a new API key).
    notice: Option<(String, Option<String>)>,
    /// (field, message) of the create-project form.
    project_errors: Vec<(String, String)>,
    /// The create-project form's values.
    project_values: Vec<(String, String)>,
    /// The document editor's error: (field path, message).
    document_error: Option<(String, String)>,
    /// The document as submitted (kept when it failed).
    document_text: Option<String>,
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn field_error(errors: &[(String, String)], field: &str) -> String {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map_or(String::new(), |(_, m)| {
            format!(
                "<span class=\"field-error\" id=\"error-{}\" role=\"alert\">{}</span>",
                esc(field),
                esc(m)
            )
        })
}

async fn render(state: &AppState, dash: &Dash, extra: Extra) -> Result<Response, PageError> {
    let mut body = String::new();
    if let Some((message, secret)) = &extra.notice {
        body.push_str(&format!(
            "<div class=\"notice\" id=\"notice\"><p>{}</p>",
            esc(message)
        ));
        if let Some(s) = secret {
            body.push_str(&format!(
                "<p><code id=\"one-time-secret\">{}</code> <button type=\"button\" data-copy=\"one-time-secret\">{}</button></p><p class=\"muted\">{}</p>",
                esc(s),
                esc(dash.t("copy")),
                esc(dash.t("shown_once"))
            ));
        }
        body.push_str("</div>");
    }
    let manage = dash.can_manage();

    // Projects.
    body.push_str(&format!(
        "<section class=\"card\" id=\"projects\"><h2>{}</h2><div class=\"table-wrap\"><table class=\"report\"><thead><tr><th>id</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(dash.t("projects")),
        esc(dash.t("name")),
        esc(dash.t("public_key")),
        esc(dash.t("created"))
    ));
    for p in &dash.projects {
        body.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"/settings?project={}\">{}</a></td><td><code>{}</code></td><td>{}</td></tr>",
            p.id.0,
            p.id.0,
            esc(&p.name.to_string()),
            esc(&p.public_key),
            p.created_at.format("%Y-%m-%d")
        ));
    }
    body.push_str("</tbody></table></div>");
    if manage {
        let pe = &extra.project_errors;
        let pv = &extra.project_values;
        let inv = |f: &str| {
            if pe.iter().any(|(n, _)| n == f) {
                " aria-invalid=\"true\""
            } else {
                ""
            }
        };
        body.push_str(&format!(
            "<form method=\"post\" action=\"/settings/projects\" class=\"stack\" id=\"new-project\" novalidate><h3>{}</h3>\
<label for=\"np-name\">{}</label><input id=\"np-name\" name=\"name\" maxlength=\"64\" value=\"{}\"{}>{}\
<label for=\"np-timezone\">{}</label><input id=\"np-timezone\" name=\"timezone\" placeholder=\"Europe/Moscow\" maxlength=\"64\" value=\"{}\"{}>{}\
<label for=\"np-currency\">{}</label><input id=\"np-currency\" name=\"currency\" placeholder=\"RUB\" maxlength=\"3\" value=\"{}\"{}>{}\
<button type=\"submit\">{}</button></form>",
            esc(dash.t("new_project")),
            esc(dash.t("name")),
            esc(value(pv, "name")),
            inv("name"),
            field_error(pe, "name"),
            esc(dash.t("timezone")),
            esc(value(pv, "timezone")),
            inv("timezone"),
            field_error(pe, "timezone"),
            esc(dash.t("currency")),
            esc(value(pv, "currency")),
            inv("currency"),
            field_error(pe, "currency"),
            esc(dash.t("create")),
        ));
    }
    body.push_str("</section>");

    let Some(ctx) = &dash.ctx else {
        return Ok(layout::page(dash, "nav_settings", "/settings", &body));
    };
    let project = &ctx.project;
    let pid = project.id.0;
    let (_, typed) = state.app.settings.typed(ctx.scope).await?;

    // API key and tracker snippet.
    let snippet = format!(
        "<script>window.skvoz=window.skvoz||{{q:[],onReady:function(c){{this.q.push([\"onReady\",c])}},event:function(n,p){{this.q.push([\"event\",n,p])}}}};</script>\n<script async src=\"{}/t.js\" data-key=\"{}\"></script>",
        dash.origin, project.public_key
    );
    body.push_str(&format!(
        "<section class=\"card\" id=\"tracker\"><h2>{}</h2><p class=\"muted\">{}</p><pre id=\"snippet\">{}</pre><button type=\"button\" data-copy=\"snippet\">{}</button></section>",
        esc(dash.t("tracker_snippet")),
        esc(dash.t("tracker_hint")),
        esc(&snippet),
        esc(dash.t("copy")),
    ));
    body.push_str(&format!(
        "<section class=\"card\" id=\"api-key\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(dash.t("api_key")),
        esc(dash.t("api_key_hint"))
    ));
    if manage {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/settings/api-key?project={pid}\" data-confirm=\"{}\"><button type=\"submit\" id=\"rotate-key\">{}</button></form>",
            esc(dash.t("rotate_confirm")),
            esc(dash.t("rotate_key"))
        ));
    }
    body.push_str("</section>");

    // Webhook URLs.
    let origin = &dash.origin;
    let pk = &project.public_key;
    // A secret in a URL is shown to administrators only.
    let secret = |value: &str| {
        if manage && !value.is_empty() {
            value.to_owned()
        } else {
            "SECRET".to_owned()
        }
    };
    let on_off = |on: bool| {
        if on {
            dash.t("enabled")
        } else {
            dash.t("disabled")
        }
    };
    let ct = &typed.calltracking;
    let msg = &typed.messengers;
    let hde = &typed.service.helpdeskeddy;
    let mut hooks = vec![
        (
            "amoCRM",
            format!(
                "{origin}/hooks/{pk}/amocrm?secret={}",
                secret(&typed.crm.amocrm.secret)
            ),
            on_off(typed.crm.amocrm.enabled),
            "hint_amocrm",
        ),
        (
            "Bitrix24",
            format!("{origin}/hooks/{pk}/bitrix24"),
            on_off(typed.crm.bitrix24.enabled),
            "hint_bitrix24",
        ),
        (
            "Zadarma",
            format!("{origin}/hooks/{pk}/zadarma"),
            on_off(ct.zadarma.enabled),
            "hint_zadarma",
        ),
        (
            "Calltouch",
            format!(
                "{origin}/hooks/{pk}/calltouch?secret={}",
                secret(&ct.calltouch.secret)
            ),
            on_off(ct.calltouch.enabled),
            "hint_calltouch",
        ),
        (
            "WhatsApp",
            format!("{origin}/hooks/{pk}/whatsapp"),
            on_off(!msg.whatsapp.numbers.is_empty()),
            "hint_whatsapp",
        ),
        (
            "Telegram",
            format!("{origin}/hooks/{pk}/telegram"),
            on_off(!msg.telegram.bots.is_empty()),
            "hint_telegram",
        ),
        (
            "HelpDeskEddy",
            format!(
                "{origin}/hooks/{pk}/helpdeskeddy?secret={}",
                secret(&hde.webhook_secret)
            ),
            on_off(hde.enabled),
            "hint_helpdeskeddy",
        ),
    ];
    let goals = typed.crm.alytics_export.stages.len().max(1);
    for n in 0..goals {
        hooks.push((
            "Alytics",
            format!("{origin}/export/alytics/{n}/"),
            on_off(!typed.crm.alytics_export.stages.is_empty()),
            "hint_alytics",
        ));
    }
    body.push_str(&format!(
        "<section class=\"card\" id=\"webhooks\"><h2>{}</h2><div class=\"table-wrap\"><table class=\"report\"><tbody>",
        esc(dash.t("integrations"))
    ));
    for (i, (name, url, state, hint)) in hooks.iter().enumerate() {
        body.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td><code id=\"hook-{i}\">{}</code> <button type=\"button\" data-copy=\"hook-{i}\">{}</button><br><small class=\"muted\">{} · {}</small></td></tr>",
            esc(name),
            esc(url),
            esc(dash.t("copy")),
            esc(state),
            esc(dash.t(hint)),
        ));
    }
    body.push_str("</tbody></table></div></section>");

    // Channel rules.
    body.push_str(&format!(
        "<section class=\"card\" id=\"channel-rules\"><h2>{}</h2><p class=\"muted\">{}</p><div class=\"table-wrap\"><table class=\"report\"><thead><tr><th>#</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        esc(dash.t("channel_rules")),
        esc(dash.t("channel_rules_hint")),
        esc(dash.t("channel")),
        esc(dash.t("conditions")),
    ));
    for (i, rule) in typed.channels.rules.iter().enumerate() {
        let when = serde_json::to_value(&rule.when)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|m| {
                m.iter()
                    .map(|(k, v)| format!("{k} = {}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&rule.channel),
            esc(&when)
        ));
    }
    body.push_str(&format!(
        "<tr><td>—</td><td>{}</td><td class=\"muted\">{}</td></tr></tbody></table></div></section>",
        esc(&typed.channels.fallback),
        esc(dash.t("fallback"))
    ));

    body.push_str(&pools_section(dash, ct));
    body.push_str(&messengers_section(dash, msg));

    // The whole document.
    let view = state.app.settings.get(ctx.scope).await?;
    let text = extra.document_text.clone().unwrap_or_else(|| {
        serde_json::to_string_pretty(&view.doc).unwrap_or_else(|_| "{}".to_owned())
    });
    let (doc_error, invalid) = match &extra.document_error {
        Some((field, message)) => (
            format!(
                "<p class=\"field-error\" id=\"error-document\" role=\"alert\"><code>{}</code> {}</p>",
                esc(field),
                esc(message)
            ),
            " aria-invalid=\"true\"",
        ),
        None => (String::new(), ""),
    };
    body.push_str(&format!(
        "<section class=\"card\" id=\"document\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(dash.t("settings_document")),
        esc(dash.t("settings_document_hint"))
    ));
    if manage {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/settings/document?project={pid}\" class=\"stack\" id=\"document-form\">\
<input type=\"hidden\" name=\"version\" value=\"{}\">{doc_error}<textarea name=\"document\" id=\"document-text\" rows=\"18\" spellcheck=\"false\"{invalid}>{}</textarea>\
<button type=\"submit\">{}</button></form>",
            view.version,
            esc(&text),
            esc(dash.t("save")),
        ));
    } else {
        body.push_str(&format!("<pre>{}</pre>", esc(&text)));
    }
    body.push_str("</section>");
    Ok(layout::page(dash, "nav_settings", "/settings", &body))
}

/// The number pools: id, kind, numbers, which visits or source, hold.
fn pools_section(dash: &Dash, ct: &CallTrackingSettings) -> String {
    let mut out = format!(
        "<section class=\"card\" id=\"settings-pools\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(dash.t("number_pools")),
        esc(dash.t("edit_in_document")),
    );
    out.push_str(&layout::table_start(
        "settings-pools-table",
        &[
            ("id", false),
            (dash.t("kind"), false),
            (dash.t("numbers"), false),
            (dash.t("serves"), false),
            (dash.t("hold_minutes"), true),
        ],
    ));
    for p in &ct.pools {
        let (kind, serves) = match p.kind {
            PoolKind::Dynamic => {
                let r = &p.rule;
                let mut parts: Vec<String> = [
                    ("source", &r.source),
                    ("medium", &r.medium),
                    ("campaign", &r.campaign),
                    ("channel", &r.channel),
                ]
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} ~ {v}")))
                .collect();
                if r.paid {
                    parts.push(dash.t("paid_traffic").to_owned());
                }
                (dash.t("pool_dynamic"), parts.join(" · "))
            }
            PoolKind::Static => (
                dash.t("pool_static"),
                [&p.source, &p.medium, &p.campaign]
                    .iter()
                    .filter_map(|v| v.as_deref())
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
        };
        out.push_str(&format!(
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(&p.id),
            esc(kind),
            esc(&p.numbers.join(", ")),
            esc(&serves),
            ct.hold_of(p)
        ));
    }
    if ct.pools.is_empty() {
        out.push_str(&format!(
            "<tr><td colspan=\"5\" class=\"muted\">{}</td></tr>",
            esc(dash.t("no_pools"))
        ));
    }
    out.push_str(&layout::table_end(dash, 5, false));
    out.push_str("</section>");
    out
}

/// WhatsApp numbers and Telegram bots.
fn messengers_section(dash: &Dash, msg: &MessengerSettings) -> String {
    let mut out = format!(
        "<section class=\"card\" id=\"settings-messengers\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(dash.t("messenger_numbers")),
        esc(dash.t("edit_in_document")),
    );
    out.push_str(&layout::table_start(
        "settings-messengers-table",
        &[
            (dash.t("messenger"), false),
            (dash.t("account"), false),
            (dash.t("details"), false),
        ],
    ));
    for n in &msg.whatsapp.numbers {
        out.push_str(&format!(
            "<tr><td>WhatsApp</td><td>{}</td><td>{}</td></tr>",
            esc(&n.number),
            esc(&n.greeting)
        ));
    }
    for b in &msg.telegram.bots {
        let token = if b.secret_token.is_empty() {
            dash.t("no_secret_token")
        } else {
            dash.t("secret_token_set")
        };
        out.push_str(&format!(
            "<tr><td>Telegram</td><td>@{}</td><td>{} · /start {}…</td></tr>",
            esc(&b.username),
            esc(token),
            esc(&b.payload_prefix)
        ));
    }
    if msg.whatsapp.numbers.is_empty() && msg.telegram.bots.is_empty() {
        out.push_str(&format!(
            "<tr><td colspan=\"3\" class=\"muted\">{}</td></tr>",
            esc(dash.t("no_messengers"))
        ));
    }
    out.push_str(&layout::table_end(dash, 3, false));
    out.push_str("</section>");
    out
}

/// `GET /settings`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash, Extra::default()).await;
    finish(&dash, r)
}

pub(super) fn forbidden(dash: &Dash) -> Response {
    let mut r = PageError::NotFound("admin_only".into()).render(dash);
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

/// Renders the page with a status other than 200 (a form with errors).
async fn again(state: &AppState, dash: &Dash, extra: Extra, status: StatusCode) -> Response {
    let mut r = finish(dash, render(state, dash, extra).await);
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

/// `POST /settings/projects`: creates a project; shows its API key once.
pub async fn create_project(
    State(state): State<AppState>,
    mut dash: Dash,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if !dash.can_manage() || !same_origin(&headers) {
        return forbidden(&dash);
    }
    let name = value(&pairs, "name").trim().to_owned();
    let tz = value(&pairs, "timezone").trim().to_owned();
    let currency = value(&pairs, "currency").trim().to_uppercase();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(("name".to_owned(), dash.t("required").to_owned()));
    }
    if errors.is_empty() {
        let result = state
            .app
            .projects
            .create(
                &name,
                (!tz.is_empty()).then_some(tz.as_str()),
                (!currency.is_empty()).then_some(currency.as_str()),
            )
            .await;
        match result {
            Ok((project, created)) => {
                dash.projects.push(project.clone());
                match state.app.contexts.by_id(project.id).await {
                    Ok(ctx) => dash.ctx = Some(ctx),
                    Err(e) => return PageError::from(e).render(&dash),
                }
                let extra = Extra {
                    notice: Some((
                        format!("{} «{}»", dash.t("project_created"), project.name),
                        Some(created.api_key),
                    )),
                    ..Extra::default()
                };
                return finish(&dash, render(&state, &dash, extra).await);
            }
            Err(AppError::Invalid { field, message }) => {
                errors.push((field.unwrap_or_else(|| "name".into()), message));
            }
            Err(AppError::Conflict(_)) => {
                errors.push(("name".to_owned(), dash.t("name_taken").to_owned()));
            }
            Err(e) => return PageError::from(e).render(&dash),
        }
    }
    let extra = Extra {
        project_errors: errors,
        project_values: vec![
            ("name".into(), name),
            ("timezone".into(), tz),
            ("currency".into(), currency),
        ],
        ..Extra::default()
    };
    again(&state, &dash, extra, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// `POST /settings/api-key?project=N`: a new API key, shown once.
pub async fn rotate_key(State(state): State<AppState>, dash: Dash, headers: HeaderMap) -> Response {
    if !dash.can_manage() || !same_origin(&headers) {
        return forbidden(&dash);
    }
    let Some(ctx) = &dash.ctx else {
        return PageError::NotFound("no_projects".into()).render(&dash);
    };
    match state.app.projects.rotate_api_key(&ctx.project).await {
        Ok(key) => {
            let extra = Extra {
                notice: Some((dash.t("key_rotated").to_owned(), Some(key))),
                ..Extra::default()
            };
            finish(&dash, render(&state, &dash, extra).await)
        }
        Err(e) => PageError::from(e).render(&dash),
    }
}

/// `POST /settings/document?project=N`: validates and stores the whole
/// settings document; a bad field is named next to the editor.
pub async fn save_document(
    State(state): State<AppState>,
    dash: Dash,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if !dash.can_manage() || !same_origin(&headers) {
        return forbidden(&dash);
    }
    let Some(ctx) = &dash.ctx else {
        return PageError::NotFound("no_projects".into()).render(&dash);
    };
    let text = value(&pairs, "document").to_owned();
    let version = value(&pairs, "version").parse::<i64>().ok();
    let fail = |field: String, message: String, text: String| Extra {
        document_error: Some((field, message)),
        document_text: Some(text),
        ..Extra::default()
    };
    if text.len() > MAX_DOCUMENT {
        let extra = fail(String::new(), dash.t("too_long").to_owned(), String::new());
        return again(&state, &dash, extra, StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let doc: serde_json::Value = match serde_json::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            let extra = fail(
                format!("{}:{}", e.line(), e.column()),
                format!("{}: {e}", dash.t("bad_json")),
                text,
            );
            return again(&state, &dash, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.app.settings.put(ctx.scope, version, doc).await {
        Ok(_) => {
            // Show the saved version (a fresh context picks it up).
            let extra = Extra {
                notice: Some((dash.t("settings_saved").to_owned(), None)),
                ..Extra::default()
            };
            finish(&dash, render(&state, &dash, extra).await)
        }
        Err(AppError::Invalid { field, message }) => {
            let extra = fail(field.unwrap_or_default(), message, text);
            again(&state, &dash, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(message)) => {
            let extra = fail(String::new(), message, text);
            again(&state, &dash, extra, StatusCode::CONFLICT).await
        }
        Err(e) => PageError::from(e).render(&dash),
    }
}
