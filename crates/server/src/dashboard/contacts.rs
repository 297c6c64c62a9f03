//! `/contacts/{id}`: a contact's journey on one timeline — the visits with
//! their sources, form leads, calls (with their recordings), messenger
//! dialogs, support tickets (status, rating) and deals with every stage
//! they passed — under the marketing card (phones, e-mails, where they came
//! from, lifetime value). Both come from the app's contact card service,
//! the same as `GET /api/v1/contacts/{id}/timeline` and the operator card.

use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use skvoz_app::tickets::card::{ContactCard, TimelineEntry};

/// Text of a JSON field, or empty.
fn s<'a>(data: &'a Value, key: &str) -> &'a str {
    data[key].as_str().unwrap_or("")
}

/// The CSS class, the tag and the HTML of one timeline entry.
fn entry(dash: &Dash, card: &ContactCard, e: &TimelineEntry) -> (String, String, String) {
    let d = &e.data;
    let lang = dash.lang;
    match e.kind {
        "visit" => {
            let mut src = format!("{} / {}", s(d, "source"), s(d, "medium"));
            if !s(d, "campaign").is_empty() {
                src.push_str(&format!(" / {}", s(d, "campaign")));
            }
            let text = format!(
                "{} — {src} · {} · {} {}",
                s(d, "channel"),
                s(d, "landing"),
                d["hits"].as_i64().unwrap_or(0),
                dash.t("hits")
            );
            ("visit".into(), dash.t("visit").into(), esc(&text))
        }
        "lead" => {
            let kind = s(d, "lead_kind");
            let mut text = dash.t("lead").to_owned();
            if d["duplicate"].as_bool() == Some(true) {
                text.push_str(&format!(" ({})", dash.t("duplicate")));
            }
            (kind.to_owned(), dash.t(kind).into(), esc(&text))
        }
        "call" => {
            let status = if d["answered"].as_bool() == Some(true) {
                dash.t("answered")
            } else {
                dash.t("missed")
            };
            let mut text = format!(
                "{} · {} · {status}",
                e.title,
                format::duration(d["duration"].as_u64().unwrap_or(0) as u32),
            );
            for (flag, label) in [("is_target", "target"), ("is_unique", "unique")] {
                if d[flag].as_bool() == Some(true) {
                    text.push_str(&format!(" · {}", dash.t(label)));
                }
            }
            let mut html = esc(&text);
            if let Some(url) = d["recording_url"].as_str().and_then(format::web_url) {
                html.push(' ');
                html.push_str(&super::calls::recording_link(dash, url));
            }
            ("call".into(), dash.t("call").into(), html)
        }
        "chat" => {
            let mut text = format!(
                "{} · {} {}",
                s(d, "messenger"),
                d["messages"].as_i64().unwrap_or(0),
                dash.t("messages_lower")
            );
            if d["is_new"].as_bool() == Some(false) {
                text.push_str(&format!(" · {}", dash.t("dialog_repeat")));
            }
            if !s(d, "page").is_empty() {
                text.push_str(&format!(" · {}", s(d, "page")));
            }
            ("chat".into(), dash.t("chat").into(), esc(&text))
        }
        "deal_stage" => {
            let name = match d["external_id"].as_str() {
                Some(x) => x.to_owned(),
                None => format!("#{}", d["deal_id"].as_i64().unwrap_or(0)),
            };
            let text = format!(
                "{} {name}: {} · {} · {}",
                dash.t("deal"),
                s(d, "stage"),
                dash.t(&format!("status_{}", s(d, "status"))),
                format::metric(lang, "revenue", d["revenue"].as_f64(), &card.currency)
            );
            ("deal".into(), dash.t("stage").into(), esc(&text))
        }
        kind => {
            // Tickets: created, resolved, closed.
            let mut text = if kind == "ticket_created" {
                s(d, "subject").to_owned()
            } else {
                dash.t(kind).to_owned()
            };
            if !s(d, "status").is_empty() {
                text.push_str(&format!(" · {}: {}", dash.t("status"), s(d, "status")));
            }
            if let Some(r) = d["rating"].as_i64() {
                text.push_str(&format!(" · {}: {r}", dash.t("rating")));
            }
            ("ticket".into(), dash.t("ticket").into(), esc(&text))
        }
    }
}

async fn render(state: &AppState, dash: &Dash, id: &str) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::NotFound("contact".into()))?;
    let cards = &state.app.cards;
    let not_found = |e| match e {
        skvoz_app::AppError::NotFound(_) => PageError::NotFound("contact".into()),
        other => PageError::from(other),
    };
    let card = cards.card(ctx, id).await.map_err(not_found)?;
    let (_, entries) = cards.timeline(ctx, id).await.map_err(not_found)?;
    let lang = dash.lang;

    let title = card
        .name
        .clone()
        .unwrap_or_else(|| format!("{} #{}", dash.t("contact"), card.contact_id));
    let mut body = format!(
        "<section class=\"card\" id=\"contact-card\"><h2>{}</h2><dl class=\"facts\">",
        esc(&title)
    );
    let mut fact = |k: &str, v: String| {
        body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(dash.t(k)), esc(&v)));
    };
    for p in &card.phones {
        fact("phone", p.clone());
    }
    for e in &card.emails {
        fact("email", e.clone());
    }
    if let Some(a) = &card.acquisition {
        fact(
            "first_touch",
            format!(
                "{} — {} / {} · {}",
                a.channel, a.source, a.medium, a.landing
            ),
        );
    }
    fact("visits", card.visits.to_string());
    let l = &card.leads;
    fact(
        "leads",
        format!(
            "{} · {} {} · {} {} · {} {}",
            l.forms + l.calls + l.chats + l.tickets + l.emails,
            dash.t("form"),
            l.forms,
            dash.t("call"),
            l.calls,
            dash.t("chat"),
            l.chats
        ),
    );
    fact(
        "deals",
        format!(
            "{} · {} {}",
            card.deals,
            dash.t("status_won"),
            card.won_deals
        ),
    );
    fact(
        "tickets",
        match card.avg_rating {
            Some(r) => format!(
                "{} · {}: {}",
                card.tickets,
                dash.t("rating"),
                format::number(lang, r, 1)
            ),
            None => card.tickets.to_string(),
        },
    );
    fact(
        "ltv",
        format::metric(lang, "revenue", Some(card.ltv), &card.currency),
    );
    body.push_str("</dl></section>");
    body.push_str(&format!(
        "<h2>{}</h2><ol class=\"timeline\" id=\"timeline\">",
        esc(dash.t("journey"))
    ));
    for e in &entries {
        let (class, tag, html) = entry(dash, &card, e);
        body.push_str(&format!(
            "<li class=\"ev-{class}\" data-kind=\"{kind}\"><time datetime=\"{iso}\">{local}</time><span class=\"tag\">{tag}</span> {html}</li>",
            class = esc(&class),
            kind = esc(e.kind),
            iso = e.at.to_rfc3339(),
            local = esc(&e.at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M").to_string()),
            tag = esc(&tag),
        ));
    }
    if entries.is_empty() {
        body.push_str(&format!(
            "<li class=\"muted\">{}</li>",
            esc(dash.t("no_data"))
        ));
    }
    body.push_str("</ol>");
    Ok(layout::page(dash, "contact", "/leads", &body))
}

/// `GET /contacts/{id}` (a merged id shows the surviving contact).
pub async fn page(State(state): State<AppState>, dash: Dash, Path(id): Path<String>) -> Response {
    let r = render(&state, &dash, &id).await;
    finish(&dash, r)
}
