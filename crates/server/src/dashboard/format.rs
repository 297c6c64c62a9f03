//! Text for pages: HTML escaping, URL encoding, and numbers, money and
//! percentages written the way each language writes them.

use super::i18n::Lang;
use serde_json::Value;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query-string component (RFC 3986 unreserved kept).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How a metric is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A count (fractional under shared-credit models).
    Count,
    /// Money in the project currency.
    Money,
    /// A percentage.
    Percent,
}

/// The kind of a report metric.
pub fn kind_of(metric: &str) -> Kind {
    match metric {
        "revenue" | "profit" | "cost" | "cpc" | "cpl" | "cpo" | "avg_check" | "service_cost" => {
            Kind::Money
        }
        "roi" | "romi" | "conversion_lead" | "conversion_sale" => Kind::Percent,
        _ => Kind::Count,
    }
}

/// `1234567.891` → `1 234 567,89` (ru) / `1,234,567.89` (en) with
/// `decimals` digits after the point.
pub fn number(lang: Lang, v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match lang {
        Lang::Ru => ('\u{a0}', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "−"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{point}{frac}")
    }
}

/// The currency sign of an ISO code.
pub fn currency_sign(code: &str) -> &str {
    match code {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        "KZT" => "₸",
        "BYN" => "Br",
        other => other,
    }
}

/// A metric value for a table cell; `—` for none.
pub fn metric(lang: Lang, name: &str, v: Option<f64>, currency: &str) -> String {
    let Some(v) = v else {
        return "—".to_owned();
    };
    match kind_of(name) {
        Kind::Money => format!("{}\u{a0}{}", number(lang, v, 0), currency_sign(currency)),
        Kind::Percent => format!("{}\u{a0}%", number(lang, v, 1)),
        Kind::Count => {
            if v.fract().abs() < 1e-9 {
                number(lang, v, 0)
            } else {
                number(lang, v, 1)
            }
        }
    }
}

/// A change in percent, signed: `+12,3 %`.
pub fn change(lang: Lang, v: Option<f64>) -> String {
    match v {
        None => "—".to_owned(),
        Some(v) if v > 0.0 => format!("+{}\u{a0}%", number(lang, v, 1)),
        Some(v) => format!("{}\u{a0}%", number(lang, v, 1)),
    }
}

/// A JSON number as `f64`.
pub fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// A JSON value as text (strings unquoted).
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Talk time as `m:ss` (`h:mm:ss` from an hour).
pub fn duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A phone number with its middle hidden (`+7999•••••67`): enough to tell
/// callers apart on a screen others may see, not to dial them.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
    if digits < 7 {
        return "•".repeat(chars.len().max(1));
    }
    // Keep the country and operator code (up to the 4th digit) and the
    // last two digits.
    let mut seen = 0;
    chars
        .iter()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= 4 || seen > digits - 2 {
                    *c
                } else {
                    '•'
                }
            } else {
                *c
            }
        })
        .collect()
}

/// `url` when it is an absolute `http(s)` URL fit for a link (a provider's
/// recording link is outside input: no `javascript:` or other schemes).
pub fn web_url(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && u.len() <= 2048
        && !u.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_phones_and_links() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(75), "1:15");
        assert_eq!(duration(3725), "1:02:05");
        assert_eq!(mask_phone("+79991234567"), "+7999•••••67");
        assert_eq!(mask_phone("123"), "•••");
        assert_eq!(
            web_url(" https://rec.example/a.mp3 "),
            Some("https://rec.example/a.mp3")
        );
        assert_eq!(
            web_url("HTTP://rec.example/a"),
            Some("HTTP://rec.example/a")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("https://a.example/x y"), None);
        assert_eq!(web_url("//a.example/x"), None);
    }

    #[test]
    fn numbers_in_both_languages() {
        assert_eq!(number(Lang::En, 1234567.891, 2), "1,234,567.89");
        assert_eq!(number(Lang::Ru, 1234567.891, 2), "1\u{a0}234\u{a0}567,89");
        assert_eq!(number(Lang::En, -1500.0, 0), "−1,500");
        assert_eq!(number(Lang::En, -0.001, 0), "0");
        assert_eq!(number(Lang::En, 999.0, 0), "999");
        assert_eq!(
            metric(Lang::En, "revenue", Some(1500.7), "RUB"),
            "1,501\u{a0}₽"
        );
        assert_eq!(metric(Lang::Ru, "roi", Some(12.34), "RUB"), "12,3\u{a0}%");
        assert_eq!(metric(Lang::En, "leads", Some(2.5), "RUB"), "2.5");
        assert_eq!(metric(Lang::En, "leads", None, "RUB"), "—");
        assert_eq!(change(Lang::En, Some(5.0)), "+5.0\u{a0}%");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(url_encode("a b/ц"), "a%20b%2F%D1%86");
    }
}
