//! `/calls`: the calls of the period — totals as `GET /api/v1/calls` counts
//! them, calls per day (answered against missed), every number pool with
//! its status and, for dynamic pools, the sizing advice of
//! `GET /api/v1/callpools/{id}/sizing`, and the list itself (caller masked,
//! tracking number, duration, flags, the visit's source, the contact, the
//! recording) in pages.

use super::charts::{self, Series};
use super::format::{self, esc};
use super::layout;
use super::{finish, Dash, PageError};
use crate::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use skvoz_app::calls::service::{CallRow, PoolStatus};
use skvoz_domain::calltracking::PoolKind;
use skvoz_store::Call;
use std::collections::BTreeMap;

/// Calls per page.
pub const PAGE_SIZE: usize = 50;
/// The most calls one page reads (the API's own ceiling).
pub const MAX_CALLS: usize = 10_000;
/// Days of traffic a pool's sizing replays.
pub const SIZING_DAYS: u32 = 7;

fn percent(lang: super::i18n::Lang, share: f64) -> String {
    format::metric(lang, "roi", Some(share * 100.0), "")
}

/// Calls per local day of the period: (days, answered, missed).
fn per_day(
    dash: &Dash,
    calls: &[Call],
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> (Vec<String>, Vec<Option<f64>>, Vec<Option<f64>>) {
    let Some(ctx) = &dash.ctx else {
        return Default::default();
    };
    let mut counts: BTreeMap<chrono::NaiveDate, (f64, f64)> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        counts.insert(day, (0.0, 0.0));
        day += Duration::days(1);
    }
    for call in calls {
        let local = call.call.started_at.with_timezone(&ctx.tz).date_naive();
        if let Some(c) = counts.get_mut(&local) {
            if !call.call.answered {
                c.1 += 1.0;
            } else {
                c.0 += 1.0;
            }
        }
    }
    let labels = counts
        .keys()
        .map(|d| d.format("%d.%m").to_string())
        .collect();
    let answered = counts.values().map(|c| Some(c.0)).collect();
    let missed = counts.values().map(|c| Some(c.1)).collect();
    (labels, answered, missed)
}

/// The pools: numbers, busy now, shared rate, and the sizing advice.
async fn pools_section(
    state: &AppState,
    dash: &Dash,
    pools: &[PoolStatus],
) -> Result<String, PageError> {
    let ctx = dash.project()?;
    let lang = dash.lang;
    let mut out = format!(
        "<section class=\"card\" id=\"pools\"><h2>{}</h2>",
        esc(dash.t("number_pools"))
    );
    if pools.is_empty() {
        out.push_str(&format!(
            "<p class=\"muted\">{}</p></section>",
            esc(dash.t("no_pools"))
        ));
        return Ok(out);
    }
    out.push_str(&layout::table_start(
        "pools-table",
        &[
            (dash.t("pool"), false),
            (dash.t("kind"), false),
            (dash.t("numbers"), true),
            (dash.t("busy_now"), true),
            (dash.t("visits_7d"), true),
            (dash.t("shared_rate"), true),
            (dash.t("sizing_advice"), false),
        ],
    ));
    for p in pools {
        // `advice` is HTML, built from escaped parts.
        let (kind, advice) = match p.kind {
            PoolKind::Static => (
                dash.t("pool_static"),
                esc(&format!(
                    "{} {}",
                    dash.t("static_source"),
                    p.source.as_deref().unwrap_or("—")
                )),
            ),
            PoolKind::Dynamic => {
                let s = state.app.calls.sizing(ctx, &p.id, SIZING_DAYS).await?;
                let verdict = match s.recommended.cmp(&s.numbers) {
                    std::cmp::Ordering::Greater => {
                        format!("{} {}", dash.t("sizing_add"), s.recommended - s.numbers)
                    }
                    std::cmp::Ordering::Less => {
                        format!("{} {}", dash.t("sizing_spare"), s.numbers - s.recommended)
                    }
                    std::cmp::Ordering::Equal => dash.t("sizing_ok").to_owned(),
                };
                let verdict = esc(&verdict);
                (
                    dash.t("pool_dynamic"),
                    format!(
                        "<b data-recommended=\"{rec}\">{}: {rec}</b> / {}: {} · {verdict}<br><small class=\"muted\">{}: {} · {}: {} · {}: {}</small>",
                        esc(dash.t("recommended")),
                        esc(dash.t("current")),
                        s.numbers,
                        esc(dash.t("peak_concurrent")),
                        s.peak_concurrent,
                        esc(dash.t("predicted_shared")),
                        esc(&percent(lang, s.predicted_shared_rate)),
                        esc(dash.t("visits_served")),
                        s.visits,
                        rec = s.recommended,
                    ),
                )
            }
        };
        out.push_str(&format!(
            "<tr id=\"pool-{id}\"><th scope=\"row\">{id}</th><td>{}</td><td class=\"num\" title=\"{}\">{}</td><td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{advice}</td></tr>",
            esc(kind),
            esc(&p.numbers.join(", ")),
            p.numbers.len(),
            p.busy_now,
            p.numbers.len(),
            p.visits_7d,
            esc(&percent(lang, p.shared_rate_7d)),
            id = esc(&p.id),
        ));
    }
    out.push_str(&layout::table_end(dash, 7, false));
    out.push_str(&format!(
        "<p class=\"muted\">{}</p></section>",
        esc(dash.t("sizing_hint"))
    ));
    Ok(out)
}

fn call_row(dash: &Dash, r: &CallRow) -> String {
    let Some(ctx) = &dash.ctx else {
        return String::new();
    };
    let c = &r.call.call;
    let caller = c
        .caller
        .as_deref()
        .map_or_else(|| dash.t("hidden_number").to_owned(), format::mask_phone);
    let number = c.number.clone().unwrap_or_else(|| c.called.clone());
    let status = if r.missed {
        format!("<span class=\"bad\">{}</span>", esc(dash.t("missed")))
    } else {
        esc(dash.t("answered"))
    };
    let mut flags = Vec::new();
    if c.is_target {
        flags.push(dash.t("target"));
    }
    if c.is_unique {
        flags.push(dash.t("unique"));
    }
    let source = match (&r.source, &r.medium) {
        (Some(s), Some(m)) => {
            let mut t = format!("{s} / {m}");
            if let Some(camp) = &r.campaign {
                t.push_str(&format!(" / {camp}"));
            }
            format!(
                "{}<br><small class=\"muted\">{}</small>",
                esc(&t),
                esc(r.channel.as_deref().unwrap_or(""))
            )
        }
        _ => format!(
            "<span class=\"muted\">{}</span>",
            esc(dash.t(&format!("attribution_{}", c.attribution.as_str())))
        ),
    };
    let contact = c.contact_id.map_or_else(
        || "—".to_owned(),
        |id| {
            format!(
                "<a href=\"{}\">#{id}</a>",
                esc(&dash.link(&format!("/contacts/{id}"), &[]))
            )
        },
    );
    let recording = c
        .recording_url
        .as_deref()
        .and_then(format::web_url)
        .map_or_else(|| "—".to_owned(), |u| recording_link(dash, u));
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{status}</td><td>{}</td><td>{source}</td><td>{contact}</td><td>{recording}</td></tr>",
        esc(&c.started_at.with_timezone(&ctx.tz).format("%Y-%m-%d %H:%M").to_string()),
        esc(&caller),
        esc(&number),
        esc(&format::duration(c.duration)),
        esc(&flags.join(", ")),
    )
}

/// A recording: a player that loads nothing until asked, and the link.
pub fn recording_link(dash: &Dash, url: &str) -> String {
    format!(
        "<audio controls preload=\"none\" src=\"{u}\"></audio> <a class=\"recording\" href=\"{u}\" target=\"_blank\" rel=\"noopener noreferrer\">{}</a>",
        esc(dash.t("recording")),
        u = esc(url)
    )
}

async fn render(state: &AppState, dash: &Dash) -> Result<Response, PageError> {
    let ctx = dash.project()?;
    let (from, to, start, end) = dash.period_bounds()?;
    let lang = dash.lang;
    let calls = &state.app.calls;
    // Every call of the period is counted; only the shown page needs
    // the visits' sources.
    let (all, pools) = tokio::try_join!(calls.calls(ctx, start, end, MAX_CALLS), calls.pools(ctx))?;
    let totals = calls.totals(ctx, &all, start, end).await?;
    let mut body = layout::period_form(dash, (&from.to_string(), &to.to_string()), false, "", &[]);
    let count = |v: usize| format::number(lang, v as f64, 0);
    body.push_str(&layout::figures(&[
        ("calls-total", dash.t("calls"), count(totals.calls)),
        ("calls-target", dash.t("target_calls"), count(totals.target)),
        ("calls-unique", dash.t("unique_calls"), count(totals.unique)),
        ("calls-missed", dash.t("missed_calls"), count(totals.missed)),
        (
            "calls-shared",
            dash.t("shared_visit_rate"),
            percent(lang, totals.shared_visit_rate),
        ),
    ]));
    if all.len() >= MAX_CALLS {
        body.push_str(&format!(
            "<p class=\"warning\">{} {MAX_CALLS}</p>",
            esc(dash.t("truncated"))
        ));
    }
    let (labels, answered, missed) = per_day(dash, &all, from, to);
    let axis = |v: f64| format::metric(lang, "visits", Some(v), "");
    body.push_str(&format!(
        "<section class=\"card\"><h2>{}</h2>{}</section>",
        esc(dash.t("calls_per_day")),
        charts::trend(
            "calls-chart",
            dash.t("calls_per_day"),
            &labels,
            &[
                Series {
                    name: dash.t("answered"),
                    values: answered,
                    dashed: false,
                },
                Series {
                    name: dash.t("missed"),
                    values: missed,
                    dashed: false,
                },
            ],
            &axis,
        )
    ));
    body.push_str(&pools_section(state, dash, &pools).await?);

    let pages = all.len().div_ceil(PAGE_SIZE).max(1);
    let page_no = dash.page_no(pages);
    let empty = all.is_empty();
    let shown: Vec<_> = all
        .into_iter()
        .skip((page_no - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    let rows = calls.with_sources(ctx, shown).await?;
    body.push_str(&layout::table_start(
        "calls-table",
        &[
            (dash.t("time"), false),
            (dash.t("caller"), false),
            (dash.t("tracking_number"), false),
            (dash.t("duration"), true),
            (dash.t("status"), false),
            (dash.t("flags"), false),
            (dash.t("source"), false),
            (dash.t("contact"), false),
            (dash.t("recording"), false),
        ],
    ));
    for r in &rows {
        body.push_str(&call_row(dash, r));
    }
    body.push_str(&layout::table_end(dash, 9, empty));
    body.push_str(&layout::pager(dash, "/calls", pages, page_no));
    Ok(layout::page(dash, "nav_calls", "/calls", &body))
}

/// `GET /calls`.
pub async fn page(State(state): State<AppState>, dash: Dash) -> Response {
    let r = render(&state, &dash).await;
    finish(&dash, r)
}
