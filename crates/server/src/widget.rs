//! The operator card as HTML: one compact, self-contained page (no
//! scripts, no external assets) that fits a help desk's side-panel iframe,
//! in Russian or English.

use chrono::{DateTime, Utc};
use skvoz_app::tickets::card::ContactCard;
use skvoz_domain::support::PriorityHint;
use std::fmt::Write as _;

/// The card's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Russian (default).
    Ru,
    /// English.
    En,
}

impl Lang {
    /// `en` is English; anything else Russian.
    pub fn parse(s: Option<&str>) -> Lang {
        match s {
            Some(l) if l.eq_ignore_ascii_case("en") => Lang::En,
            _ => Lang::Ru,
        }
    }

    fn t(self, ru: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

fn money(v: f64, currency: &str) -> String {
    // Thousands separated by a thin space, no kopecks on the card.
    let whole = v.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    format!(
        "{}{out} {}",
        if whole < 0 { "-" } else { "" },
        escape(currency)
    )
}

const STYLE: &str = "body{font:13px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:10px;color:#1d2330;background:#fff}\
h1{font-size:15px;margin:0 0 2px}.sub{color:#667;font-size:12px;margin-bottom:8px;word-break:break-all}\
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:11px;font-weight:600;vertical-align:middle;margin-left:6px}\
.vip{background:#ffe08a;color:#5a4300}.high{background:#ffd2cc;color:#7a1a0c}.normal{background:#e6ebf2;color:#445}\
table{border-collapse:collapse;width:100%}td{padding:3px 0;border-bottom:1px solid #eef0f4;vertical-align:top}\
td:first-child{color:#667;width:45%}.big{font-size:16px;font-weight:700}.none{color:#667;padding:16px 0}";

/// Renders the card (or a "not found" note for `who`).
pub fn render(card: Option<&ContactCard>, who: &str, lang: Lang) -> String {
    let mut h = String::with_capacity(4096);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        lang.t("ru", "en"),
        lang.t("Карточка клиента", "Customer card"),
    );
    let Some(c) = card else {
        let _ = write!(
            h,
            "<div class=\"none\" id=\"card\" data-found=\"false\">{} <b>{}</b></div></body></html>",
            lang.t("Клиент не найден:", "No customer found for"),
            escape(who)
        );
        return h;
    };
    let (badge, label) = match c.priority {
        PriorityHint::Vip => ("vip", lang.t("VIP", "VIP")),
        PriorityHint::High => ("high", lang.t("Высокий приоритет", "High priority")),
        PriorityHint::Normal => ("normal", lang.t("Обычный", "Normal")),
    };
    let name = c
        .name
        .clone()
        .unwrap_or_else(|| lang.t("Без имени", "No name").to_owned());
    let _ = write!(
        h,
        "<div id=\"card\" data-found=\"true\" data-contact=\"{}\"><h1>{}<span class=\"badge {badge}\" id=\"priority\">{label}</span></h1>\
         <div class=\"sub\">{}</div><table>",
        c.contact_id,
        escape(&name),
        escape(&c.phones.iter().chain(c.emails.iter()).cloned().collect::<Vec<_>>().join(" · ")),
    );
    let mut row = |k: &str, id: &str, v: String| {
        let _ = write!(h, "<tr><td>{k}</td><td id=\"{id}\">{v}</td></tr>");
    };
    row(
        lang.t("LTV (выручка)", "LTV (revenue)"),
        "ltv",
        format!("<span class=\"big\">{}</span>", money(c.ltv, &c.currency)),
    );
    let (source, channel) = match &c.acquisition {
        Some(a) => (
            escape(&format!(
                "{} / {}{}",
                a.source,
                a.medium,
                a.campaign
                    .as_deref()
                    .map(|x| format!(" / {x}"))
                    .unwrap_or_default()
            )),
            escape(&a.channel),
        ),
        None => ("—".into(), "—".into()),
    };
    row(lang.t("Источник", "Source"), "source", source);
    row(lang.t("Канал", "Channel"), "channel", channel);
    row(
        lang.t("Первый визит", "First visit"),
        "first-visit",
        date(c.first_visit_at),
    );
    row(
        lang.t("Последний визит", "Last visit"),
        "last-visit",
        date(c.last_visit_at),
    );
    row(lang.t("Визиты", "Visits"), "visits", c.visits.to_string());
    row(
        lang.t("Звонки · чаты · заявки", "Calls · chats · forms"),
        "leads",
        format!("{} · {} · {}", c.leads.calls, c.leads.chats, c.leads.forms),
    );
    row(
        lang.t("Сделки (открыто · выиграно)", "Deals (open · won)"),
        "deals",
        format!("{} ({} · {})", c.deals, c.open_deals, c.won_deals),
    );
    row(
        lang.t("В открытых сделках", "In open deals"),
        "open-value",
        money(c.open_value, &c.currency),
    );
    row(
        lang.t("Обращения (открыто)", "Tickets (open)"),
        "tickets",
        format!(
            "{} ({}){}",
            c.tickets,
            c.open_tickets,
            c.avg_rating
                .map(|r| format!(" · ★ {r:.1}"))
                .unwrap_or_default()
        ),
    );
    h.push_str("</table></div></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
        assert_eq!(money(1234567.4, "RUB"), "1\u{2009}234\u{2009}567 RUB");
        assert_eq!(money(999.0, "RUB"), "999 RUB");
        let html = render(None, "<script>", Lang::En);
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    }
}
