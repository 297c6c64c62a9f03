//! `/chats`: the chat report of `GET /api/v1/reports/chats` as a person
//! reads it — dialogs, new and repeat, leads from chats, dialogs tied to a
//! site visit; the dialogs over time; their shares by messenger, by channel
//! and by the page they started from; and the dialogs themselves in pages.

use super::charts::{self, Series};
use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use skvoz_app::chats::report::{ChatReportQuery, ChatRow};
use skvoz_domain::chat_report::Count;

/// Dialogs per page.
pub const PAGE_SIZE: usize = 50;
/// The most dialogs the list shows (the report's own ceiling per page).
pub const MAX_ROWS: usize = 10_000;

fn shares(items: &[Count]) -> Vec<(String, f64)> {
    items
        .iter()
        .map(|c| (c.name.clone(), c.dialogs as f64))
        .collect()
}

fn dialog_row(dash: &Dash, r: &ChatRow) -> String {
    let source = match (&r.source, &r.medium) {
        (Some(s), Some(m)) => format!(
            "{}<br><small class=\"muted\">{}</small>",
            esc(&format!("{s} / {m}")),
            esc(r.channel.as_deref().unwrap_or(""))
        ),
        _ => format!("<span class=\"muted\">{}</span>", esc(dash.t("no_visit"))),
    };
    let contact = match r.contact_id {
        Some(id) => format!(
            "<a href=\"{}\">{}</a>",
            esc(&dash.link(&format!("/contacts/{id}"), &[])),
            esc(&r.contact_name.clone().unwrap_or_else(|| format!("#{id}")))
        ),
        None => "—".to_owned(),
    };
    let lead = if r.lead_id.is_some() {
        dash.t("yes")
    } else {
        "—"
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{source}</td><td>{}</td><td>{contact}</td><td>{}</td><td class=\"num\">{}</td></tr>",
        esc(&r.date),
        esc(&r.messenger),
        esc(dash.t(&format!("dialog_{}", r.dialog_type))),
        esc(r.page.as_deref().unwrap_or("—")),
        esc(lead),
        r.messages,
    )
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to) = dash.period()?;
    let lang = dash.lang;
    let granularity = dash.q("granularity").unwrap_or("day");
    if !super::dynamics::GRANULARITIES.contains(&granularity) {
        return Err(PageError::Invalid(
            "granularity".into(),
            "unknown_value".into(),
        ));
    }
    let report = state
        .app
        .chat_report
        .report(
            ctx,
            ChatReportQuery {
                from,
                to,
                compare_from: None,
                compare_to: None,
                granularity: Some(granularity.to_owned()),
                limit: Some(MAX_ROWS),
                offset: None,
                top: Some(8),
            },
        )
        .await?;
    let pages = report.rows.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = dash.page_no(pages);
    let w = &report.widgets;
    let count = |v: u64| format::number(lang, v as f64, 0);
    let share = |part: u64| {
        let s = if w.new_repeat.dialogs == 0 {
            None
        } else {
            Some(part as f64 / w.new_repeat.dialogs as f64 * 100.0)
        };
        format::metric(lang, "roi", s, "")
    };

    let extra = super::dynamics::granularity_picker(dash, "granularity", granularity);
    let mut body = layout::period_form(
        dash,
        (&from.to_string(), &to.to_string()),
        false,
        &extra,
        &[],
    );
    body.push_str(&layout::figures(&[
        (
            "chats-dialogs",
            dash.t("dialogs"),
            count(w.new_repeat.dialogs),
        ),
        ("chats-new", dash.t("dialog_new"), count(w.new_repeat.new)),
        (
            "chats-repeat",
            dash.t("dialog_repeat"),
            count(w.new_repeat.repeat),
        ),
        ("chats-leads", dash.t("leads_from_chats"), count(w.leads)),
        (
            "chats-attributed",
            dash.t("attributed_share"),
            share(w.attributed),
        ),
    ]));
    if report.truncated || report.total > report.rows.len() {
        body.push_str(&format!(
            "<p class=\"warning\">{} {}</p>",
            esc(dash.t("truncated")),
            report.rows.len()
        ));
    }
    let labels: Vec<String> = w.dynamics.iter().map(|b| b.start.to_string()).collect();
    let series = |f: fn(&skvoz_domain::chat_report::Bucket) -> u64| {
        w.dynamics
            .iter()
            .map(|b| Some(f(b) as f64))
            .collect::<Vec<_>>()
    };
    let axis = |v: f64| format::metric(lang, "visits", Some(v), "");
    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>{}</section>",
        esc(dash.t("dialogs_over_time")),
        charts::trend(
            "chats-chart",
            dash.t("dialogs_over_time"),
            &labels,
            &[
                Series {
                    name: dash.t("dialog_new"),
                    values: series(|b| b.new),
                    dashed: false,
                },
                Series {
                    name: dash.t("dialog_repeat"),
                    values: series(|b| b.repeat),
                    dashed: false,
                },
            ],
            &axis,
        )
    ));
    body.push_str(&format!(
        "<div class=\"grid2\"><section class=\"card\"><h2>{}</h2>{}</section><section class=\"card\"><h2>{}</h2>{}</section></div>",
        esc(dash.t("by_messenger")),
        charts::donut("chats-messengers", dash.t("by_messenger"), &shares(&w.messengers)),
        esc(dash.t("by_channel")),
        charts::share_bars("chats-channels", dash.t("by_channel"), &shares(&w.channels), &axis),
    ));
    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>{}<p class=\"muted\" id=\"first-response\">{}</p></section>",
        esc(dash.t("top_pages")),
        charts::share_bars("chats-pages", dash.t("top_pages"), &shares(&w.top_pages), &axis),
        esc(dash.t("first_response_note")),
    ));

    body.push_str(&layout::table_start(
        "chats-table",
        &[
            (dash.t("time"), false),
            (dash.t("messenger"), false),
            (dash.t("kind"), false),
            (dash.t("source"), false),
            (dash.t("page"), false),
            (dash.t("contact"), false),
            (dash.t("lead"), false),
            (dash.t("messages"), true),
        ],
    ));
    // Newest first (the report lists oldest first).
    for r in report
        .rows
        .iter()
        .rev()
        .skip((page_no - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
    {
        body.push_str(&dialog_row(dash, r));
    }
    body.push_str(&layout::table_end(dash, 8, report.rows.is_empty()));
    body.push_str(&layout::pager(dash, "/chats", pages, page_no));
    Ok(layout::page(dash, "nav_chats", "/chats", &body))
}

/// `GET /chats`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
