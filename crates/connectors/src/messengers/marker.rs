//! Finding the visit code in a message's text.
//!
//! The site script prefills `<greeting> <marker>` where the marker is the
//! project's template (`ID: {code}` by default). People usually send it
//! unchanged, sometimes edit it, and sometimes delete it. The scan is
//! tolerant: the template's label in any case, with any spacing and `:`,
//! `#`, `№` or `=` before the digits (`ID: 123`, `id 123`, `ID#123`), and a
//! bare `#123` as a fallback. A label seen without digits means the code was
//! edited away.

/// What the scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerScan {
    /// The visit code.
    pub code: Option<i64>,
    /// The marker's label was present (with or without a code).
    pub label_seen: bool,
}

/// The longest visit code read (more digits are not a code).
const MAX_DIGITS: usize = 15;

/// The label of a marker template: the text before `{code}`, without
/// surrounding spaces and punctuation (`ID: {code}` → `id`).
pub fn marker_label(template: &str) -> String {
    let before = template.split("{code}").next().unwrap_or("");
    before
        .trim()
        .trim_end_matches([':', '#', '№', '=', '-', ' '])
        .trim()
        .to_lowercase()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads digits after a label at `rest`, skipping separators.
fn digits_after(rest: &str) -> Option<i64> {
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || ":#№=-".contains(c));
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = rest[digits.len()..].chars().next();
    if digits.is_empty() || digits.len() > MAX_DIGITS || after.is_some_and(is_word) {
        return None;
    }
    digits.parse().ok().filter(|v| *v > 0)
}

/// Scans a message text for the visit code of a marker `template`.
pub fn scan(text: &str, template: &str) -> MarkerScan {
    let label = marker_label(template);
    let lower = text.to_lowercase();
    let mut out = MarkerScan {
        code: None,
        label_seen: false,
    };
    if !label.is_empty() && lower.len() == text.len() {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(&label) {
            let start = from + pos;
            let end = start + label.len();
            from = end;
            let before_ok = !lower[..start].chars().next_back().is_some_and(is_word);
            let after_ok = !label.chars().next_back().is_some_and(is_word)
                || !lower[end..].chars().next().is_some_and(is_word);
            if !(before_ok && after_ok) {
                continue;
            }
            out.label_seen = true;
            if let Some(code) = digits_after(&text[end..]) {
                out.code = Some(code);
            }
        }
    } else if !label.is_empty() {
        // Lower-casing changed byte offsets (rare scripts); compare
        // case-sensitively on the original text instead.
        if let Some(pos) = text.find(template.split("{code}").next().unwrap_or("").trim()) {
            out.label_seen = true;
            out.code = digits_after(&text[pos + label.len()..]);
        }
    }
    if out.code.is_none() {
        // Fallback: `#12345` anywhere.
        for (i, _) in text.match_indices('#') {
            let before_ok = !text[..i].chars().next_back().is_some_and(is_word);
            if before_ok {
                if let Some(code) = digits_after(&text[i + 1..]) {
                    out.code = Some(code);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "ID: {code}";

    #[test]
    fn reads_the_documented_and_tolerated_forms() {
        for (text, code) in [
            ("Сколько стоит детская фотосессия? ID: 12345", Some(12345)),
            ("Здравствуйте! id 77", Some(77)),
            ("ID#5", Some(5)),
            ("hello\nID:  42\n", Some(42)),
            ("привет #314", Some(314)),
            ("video 123", None),
            ("ID: 12a", None),
            ("", None),
            ("ID: 1234567890123456789", None),
        ] {
            assert_eq!(scan(text, T).code, code, "{text:?}");
        }
    }

    #[test]
    fn a_label_without_digits_is_a_code_edited_away() {
        let s = scan("Сколько стоит фотосессия? ID:", T);
        assert_eq!(
            s,
            MarkerScan {
                code: None,
                label_seen: true
            }
        );
        let s = scan("Сколько стоит фотосессия?", T);
        assert!(!s.label_seen);
    }

    #[test]
    fn custom_templates() {
        assert_eq!(marker_label("Номер заявки № {code}"), "номер заявки");
        assert_eq!(
            scan("Номер заявки № 9", "Номер заявки № {code}").code,
            Some(9)
        );
        assert_eq!(scan("[ref 55]", "[ref {code}]").code, Some(55));
    }
}
