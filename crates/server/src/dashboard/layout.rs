//! The frame of every page: head, navigation, project selector, language
//! switcher, and the shared period form of the report pages.

use super::format::{esc, url_encode};
use super::i18n::Lang;
use super::Dash;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The navigation: (path, label key); a new page adds its entry here.
pub const NAV: &[(&str, &str)] = &[
    ("/", "nav_overview"),
    ("/reports/channels", "nav_channels"),
    ("/reports/dynamics", "nav_dynamics"),
    ("/reports/funnel", "nav_funnel"),
    ("/leads", "nav_leads"),
    ("/calls", "nav_calls"),
    ("/chats", "nav_chats"),
    ("/outbox", "nav_outbox"),
    ("/surveys", "nav_surveys"),
    ("/settings", "nav_settings"),
];

/// The current URL (path and query), for "come back here" links.
pub fn current_url(dash: &Dash) -> String {
    let qs: Vec<String> = dash
        .query
        .iter()
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if qs.is_empty() {
        dash.path.clone()
    } else {
        format!("{}?{}", dash.path, qs.join("&"))
    }
}

/// The document head and the opening of the body, without navigation
/// (the login page uses it too).
pub fn head(lang: Lang, title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title} · skvoz</title>\
<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">\
<script defer src=\"/assets/dashboard.js\"></script></head><body>",
        code = lang.code(),
        title = esc(title)
    )
}

/// A whole page: frame around `body`, with `active` highlighted in the
/// navigation.
pub fn page(dash: &Dash, title_key: &str, active: &str, body: &str) -> Response {
    let mut out = head(dash.lang, dash.t(title_key));
    out.push_str("<header class=\"top\"><a class=\"brand\" href=\"");
    out.push_str(&esc(&dash.link("/", &[])));
    out.push_str("\">skvoz</a><nav id=\"nav\">");
    for (path, key) in NAV {
        let class = if *path == active {
            " class=\"active\" aria-current=\"page\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<a href=\"{}\"{class}>{}</a>",
            esc(&dash.link(path, &[])),
            esc(dash.t(key))
        ));
    }
    out.push_str("</nav><div class=\"tools\">");
    if !dash.projects.is_empty() {
        out.push_str(&format!(
            "<form method=\"get\" action=\"/project\" class=\"project\"><input type=\"hidden\" name=\"back\" value=\"{}\">\
<label><span class=\"sr\">{}</span><select name=\"id\" id=\"project-select\" data-autosubmit>",
            esc(&dash.path),
            esc(dash.t("project"))
        ));
        let current = dash.ctx.as_ref().map(|c| c.project.id);
        for p in &dash.projects {
            let sel = if Some(p.id) == current {
                " selected"
            } else {
                ""
            };
            out.push_str(&format!(
                "<option value=\"{}\"{sel}>{}</option>",
                p.id.0,
                esc(&p.name.to_string())
            ));
        }
        out.push_str(&format!(
            "</select></label><noscript><button>{}</button></noscript></form>",
            esc(dash.t("open"))
        ));
    }
    let back = current_url(dash);
    let other = match dash.lang {
        Lang::Ru => Lang::En,
        Lang::En => Lang::Ru,
    };
    out.push_str(&format!(
        "<a id=\"lang-switch\" class=\"lang\" href=\"/lang?set={}&amp;back={}\" hreflang=\"{}\">{}</a>",
        other.code(),
        esc(&url_encode(&back)),
        other.code(),
        other.name()
    ));
    out.push_str(&format!(
        "<form method=\"post\" action=\"/logout\" class=\"logout\"><button title=\"{}\">{} ⎋</button></form>",
        esc(dash.t("logout")),
        esc(&dash.user.login)
    ));
    out.push_str("</div></header><main>");
    out.push_str(&format!("<h1>{}</h1>", esc(dash.t(title_key))));
    out.push_str(body);
    out.push_str("</main></body></html>");
    html(out)
}

/// An HTML response that is never cached (pages show live data and
/// one-time secrets).
pub fn html(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The period form of report pages: from, to, the previous-period switch
/// (where the page compares), plus `extra` controls, keeping the query
/// parameters named in `keep` as hidden fields.
pub fn period_form(
    dash: &Dash,
    (from, to): (&str, &str),
    compare: bool,
    extra: &str,
    keep: &[&str],
) -> String {
    let mut out = format!(
        "<form method=\"get\" class=\"controls\" id=\"period-form\">{}",
        dash.ctx.as_ref().map_or(String::new(), |c| format!(
            "<input type=\"hidden\" name=\"project\" value=\"{}\">",
            c.project.id.0
        ))
    );
    for (k, v) in &dash.query {
        if keep.contains(&k.as_str()) {
            out.push_str(&format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            ));
        }
    }
    let checked = if dash.compare() { " checked" } else { "" };
    let compare = if compare {
        format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"compare\" value=\"1\" id=\"compare\"{checked} data-autosubmit>{}</label>",
            esc(dash.t("compare_previous"))
        )
    } else {
        String::new()
    };
    out.push_str(&format!(
        "<label>{}<input type=\"date\" name=\"from\" value=\"{}\"></label>\
<label>{}<input type=\"date\" name=\"to\" value=\"{}\"></label>\
{compare}{extra}<button>{}</button></form>",
        esc(dash.t("from")),
        esc(from),
        esc(dash.t("to")),
        esc(to),
        esc(dash.t("apply")),
    ));
    out
}

/// A `<select>` of `(value, label)` options with `current` selected.
pub fn select(name: &str, id: &str, options: &[(String, String)], current: &str) -> String {
    let mut out = format!(
        "<select name=\"{}\" id=\"{}\" data-autosubmit>",
        esc(name),
        esc(id)
    );
    for (v, label) in options {
        let sel = if v == current { " selected" } else { "" };
        out.push_str(&format!(
            "<option value=\"{}\"{sel}>{}</option>",
            esc(v),
            esc(label)
        ));
    }
    out.push_str("</select>");
    out
}

/// Page links `1 … pages` of a paged list at `path`, the current one bold;
/// empty when there is one page.
pub fn pager(dash: &Dash, path: &str, pages: usize, current: usize) -> String {
    if pages <= 1 {
        return String::new();
    }
    let mut out = String::from("<nav class=\"pages\">");
    for p in 1..=pages {
        if p == current {
            out.push_str(&format!("<b>{p}</b> "));
        } else {
            let n = p.to_string();
            let mut keep = dash.keep(&["page"]);
            keep.push(("page", &n));
            out.push_str(&format!(
                "<a href=\"{}\">{p}</a> ",
                esc(&dash.link(path, &keep))
            ));
        }
    }
    out.push_str("</nav>");
    out
}

/// A row of figure cards: (element id, label, value as written).
pub fn figures(items: &[(&str, &str, String)]) -> String {
    let mut out = String::from("<section class=\"kpis\">");
    for (id, label, value) in items {
        out.push_str(&format!(
            "<div class=\"kpi\"><div class=\"name\">{}</div><div class=\"value\" id=\"{}\">{}</div></div>",
            esc(label),
            esc(id),
            esc(value)
        ));
    }
    out.push_str("</section>");
    out
}

/// The opening of a report table that scrolls inside its own box (so a
/// 375 px screen never scrolls sideways), with its header row: (label,
/// right-aligned number column).
pub fn table_start(id: &str, columns: &[(&str, bool)]) -> String {
    let mut out = format!(
        "<div class=\"table-wrap\"><table class=\"report\" id=\"{}\"><thead><tr>",
        esc(id)
    );
    for (label, num) in columns {
        let class = if *num { " class=\"num\"" } else { "" };
        out.push_str(&format!("<th{class}>{}</th>", esc(label)));
    }
    out.push_str("</tr></thead><tbody>");
    out
}

/// The end of a [`table_start`] table of `columns` columns, with a "no
/// data" row when it has no rows.
pub fn table_end(dash: &Dash, columns: usize, empty: bool) -> String {
    let mut out = String::new();
    if empty {
        out.push_str(&format!(
            "<tr><td colspan=\"{columns}\" class=\"muted\">{}</td></tr>",
            esc(dash.t("no_data"))
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}
