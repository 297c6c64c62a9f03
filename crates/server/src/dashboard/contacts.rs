//! `/contacts/{id}`: a contact's journey on one timeline — the visits with
//! their sources, the leads (forms now; calls, chats and tickets as they
//! arrive), the deals and every stage they passed — with the lifetime
//! value on top.

use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use skvoz_domain::crm::DealStatus;
use std::collections::BTreeSet;

/// One line of the timeline.
struct Event {
    at: DateTime<Utc>,
    kind: &'static str,
    text: String,
}

async fn render(state: &AppState, dash: &Dash, id: &str) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::NotFound("contact".into()))?;
    let store = &state.app.store;
    let contact = store
        .contact(ctx.scope, id)
        .await?
        .ok_or_else(|| PageError::NotFound("contact".into()))?;
    let leads = store.leads_of_contact(ctx.scope, contact.id).await?;
    let deals = store.deals_of_contact(ctx.scope, contact.id).await?;
    let currency = ctx.settings.general.currency.to_string();
    let lang = dash.lang;
    let mut events = Vec::new();
    let mut visit_ids: BTreeSet<i64> = BTreeSet::new();
    visit_ids.extend(leads.iter().filter_map(|l| l.visit_id));
    visit_ids.extend(deals.iter().filter_map(|d| d.visit_id));
    for vid in visit_ids.iter().take(200) {
        if let Some(v) = store.visit(ctx.scope, *vid).await? {
            let mut src = format!("{} / {}", v.source.source, v.source.medium);
            for part in [&v.source.campaign, &v.source.content, &v.source.term]
                .into_iter()
                .flatten()
            {
                src.push_str(&format!(" / {part}"));
            }
            events.push(Event {
                at: v.started_at,
                kind: "visit",
                text: format!(
                    "{} — {src} · {} · {} {}",
                    v.channel,
                    v.landing,
                    v.hits,
                    dash.t("hits")
                ),
            });
        }
    }
    for l in &leads {
        let form = l
            .payload
            .get("form")
            .and_then(|f| f.as_str())
            .map(|f| format!(" «{f}»"))
            .unwrap_or_default();
        let dup = if l.is_duplicate {
            format!(" ({})", dash.t("duplicate"))
        } else {
            String::new()
        };
        events.push(Event {
            at: l.created_at,
            kind: l.kind.as_str(),
            text: format!("{}{form}{dup}", dash.t(l.kind.as_str())),
        });
    }
    let mut ltv = 0.0;
    for d in &deals {
        if d.status == DealStatus::Won {
            ltv += d.revenue.to_decimal();
        }
        let name = d
            .external_id
            .clone()
            .unwrap_or_else(|| format!("#{}", d.id));
        events.push(Event {
            at: d.created_at,
            kind: "deal",
            text: format!(
                "{} {name}{} — {}",
                dash.t("deal_created"),
                if d.is_repeat {
                    format!(" ({})", dash.t("repeat_sale"))
                } else {
                    String::new()
                },
                format::metric(lang, "revenue", Some(d.revenue.to_decimal()), &currency)
            ),
        });
        for change in store.deal_history(ctx.scope, d.id).await? {
            events.push(Event {
                at: change.at,
                kind: "stage",
                text: format!(
                    "{name}: {} · {}",
                    change.stage,
                    dash.t(&format!("status_{}", change.status.as_str()))
                ),
            });
        }
    }
    events.sort_by_key(|e| e.at);

    let title = contact
        .name
        .clone()
        .unwrap_or_else(|| format!("{} #{}", dash.t("contact"), contact.id));
    let mut body = format!(
        "<section class=\"card\" id=\"contact-card\"><h2>{}</h2><dl class=\"facts\">",
        esc(&title)
    );
    let mut fact = |k: &str, v: String| {
        body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(dash.t(k)), esc(&v)));
    };
    for i in contact
        .identities
        .iter()
        .filter(|i| matches!(i.kind.as_str(), "phone" | "email"))
    {
        fact(i.kind.as_str(), i.value.clone());
    }
    fact("leads", leads.len().to_string());
    fact("deals", deals.len().to_string());
    fact("ltv", format::metric(lang, "revenue", Some(ltv), &currency));
    if let Some(first) = events.iter().find(|e| e.kind == "visit") {
        fact("first_touch", first.text.clone());
    }
    body.push_str("</dl></section>");
    body.push_str(&format!(
        "<h2>{}</h2><ol class=\"timeline\" id=\"timeline\">",
        esc(dash.t("journey"))
    ));
    for e in &events {
        body.push_str(&format!(
            "<li class=\"ev-{kind}\"><time datetime=\"{iso}\">{local}</time><span class=\"tag\">{label}</span> {text}</li>",
            kind = e.kind,
            iso = e.at.to_rfc3339(),
            local = esc(&e.at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M").to_string()),
            label = esc(dash.t(e.kind)),
            text = esc(&e.text),
        ));
    }
    if events.is_empty() {
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
