//! Cost files: CSV spend exports in skvoz's own columns
//! (`date,source,medium,campaign,ad,keyword,cost,clicks,impressions`) or
//! Yandex Metrika's expense-upload names
//! (`Date,UTMSource,UTMMedium,UTMCampaign,UTMTerm,UTMContent,Expenses,Clicks`).
//!
//! Tolerant in what it reads — columns in any order and any case, a UTF-8
//! BOM, `,` `;` or tab as the separator (Russian spreadsheets write `;` with
//! decimal commas), days as `YYYY-MM-DD` or `DD.MM.YYYY`, a range in one
//! cell (`2026-11-01..2026-11-07`) or in `date_from`/`date_to` columns —
//! and strict in what it accepts: every bad cell is reported with its line
//! and column.

use chrono::NaiveDate;
use skvoz_domain::cost::{CostKey, CostLine};
use skvoz_domain::Money;

/// Why a cost file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostFileError {
    /// The header lacks a required column or names one twice.
    #[error("header: {0}")]
    Header(String),
    /// A bad row.
    #[error("line {line}, column {column}: {message}")]
    Row {
        /// 1-based line number in the file.
        line: u64,
        /// The column's name as the file spells it.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// Not readable as CSV.
    #[error("not a CSV file: {0}")]
    Format(String),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Date,
    DateFrom,
    DateTo,
    Source,
    Medium,
    Campaign,
    Ad,
    Keyword,
    Cost,
    Clicks,
    Impressions,
}

fn column(name: &str) -> Option<Col> {
    let n: String = name
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .collect();
    Some(match n.as_str() {
        "date" | "day" | "дата" => Col::Date,
        "datefrom" | "from" => Col::DateFrom,
        "dateto" | "to" => Col::DateTo,
        "source" | "utmsource" => Col::Source,
        "medium" | "utmmedium" => Col::Medium,
        "campaign" | "utmcampaign" => Col::Campaign,
        "ad" | "content" | "utmcontent" => Col::Ad,
        "keyword" | "term" | "utmterm" => Col::Keyword,
        "cost" | "expenses" | "spend" | "amount" | "расход" => Col::Cost,
        "clicks" | "клики" => Col::Clicks,
        "impressions" | "shows" | "показы" => Col::Impressions,
        _ => return None,
    })
}

/// Parses a day as `YYYY-MM-DD` or `DD.MM.YYYY`.
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%d.%m.%Y"))
        .ok()
}

/// Parses a day or a range `FROM..TO` (also `FROM/TO`).
pub fn parse_days(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let t = text.trim();
    for sep in ["..", "/", " - "] {
        if let Some((a, b)) = t.split_once(sep) {
            return Some((parse_day(a)?, parse_day(b)?));
        }
    }
    let d = parse_day(t)?;
    Some((d, d))
}

fn delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let count = |c: u8| first.iter().filter(|b| **b == c).count();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|c| count(*c))
        .unwrap_or(b',')
}

/// Parses a whole cost file into lines (not yet spread over days).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<CostLine>, CostFileError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(bytes))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| CostFileError::Format(e.to_string()))?
        .clone();
    let mut cols: Vec<(usize, Col)> = Vec::new();
    for (i, name) in header.iter().enumerate() {
        if let Some(c) = column(name) {
            if cols.iter().any(|(_, x)| *x == c) {
                return Err(CostFileError::Header(format!(
                    "column '{name}' is named twice"
                )));
            }
            cols.push((i, c));
        }
    }
    let has = |c: Col| cols.iter().any(|(_, x)| *x == c);
    let dated = has(Col::Date) || (has(Col::DateFrom) && has(Col::DateTo));
    if !dated {
        return Err(CostFileError::Header(
            "a 'date' column (or 'date_from' and 'date_to') is required".into(),
        ));
    }
    for (c, name) in [(Col::Source, "source"), (Col::Cost, "cost")] {
        if !has(c) {
            return Err(CostFileError::Header(format!(
                "a '{name}' column is required"
            )));
        }
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| CostFileError::Format(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cell = |c: Col| -> Option<(&str, &str)> {
            cols.iter()
                .find(|(_, x)| *x == c)
                .map(|(i, _)| (record.get(*i).unwrap_or("").trim(), &header[*i]))
        };
        let bad = |c: Col, message: &str| CostFileError::Row {
            line,
            column: cell(c).map_or_else(String::new, |(_, n)| n.to_owned()),
            message: message.to_owned(),
        };
        let (from, to) = match cell(Col::Date).filter(|(v, _)| !v.is_empty()) {
            Some((v, _)) => parse_days(v)
                .ok_or_else(|| bad(Col::Date, "not a date (YYYY-MM-DD, DD.MM.YYYY or FROM..TO)"))?,
            None => {
                let from = cell(Col::DateFrom)
                    .and_then(|(v, _)| parse_day(v))
                    .ok_or_else(|| bad(Col::DateFrom, "not a date"))?;
                let to = cell(Col::DateTo)
                    .and_then(|(v, _)| parse_day(v))
                    .ok_or_else(|| bad(Col::DateTo, "not a date"))?;
                (from, to)
            }
        };
        let text = |c: Col| cell(c).map(|(v, _)| v).filter(|v| !v.is_empty());
        let source = text(Col::Source).ok_or_else(|| bad(Col::Source, "source is empty"))?;
        let cost = text(Col::Cost)
            .and_then(Money::parse)
            .ok_or_else(|| bad(Col::Cost, "not an amount"))?;
        let count = |c: Col| -> Result<i64, CostFileError> {
            match text(c) {
                None => Ok(0),
                Some(v) => v
                    .replace([' ', '\u{a0}'], "")
                    .parse::<i64>()
                    .map_err(|_| bad(c, "not a whole number")),
            }
        };
        let l = CostLine {
            from,
            to,
            key: CostKey::normalized(
                source,
                text(Col::Medium),
                text(Col::Campaign),
                text(Col::Ad),
                text(Col::Keyword),
            ),
            cost,
            clicks: count(Col::Clicks)?,
            impressions: count(Col::Impressions)?,
        };
        l.validate().map_err(|e| bad(Col::Cost, &e.to_string()))?;
        out.push(l);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skvoz_columns_with_optional_ones_missing() {
        let csv = "date,source,cost\n2026-11-01,Yandex,1500.50\n2026-11-02,google,99\n";
        let lines = parse_csv(csv.as_bytes()).expect("parse");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].key.source, "yandex");
        assert_eq!(lines[0].key.medium, "cpc");
        assert_eq!(lines[0].cost, Money(150_050));
    }

    #[test]
    fn metrika_expense_upload_names() {
        let csv = "Date,UTMSource,UTMMedium,UTMCampaign,UTMTerm,UTMContent,Expenses,Clicks\n\
                   2026-11-01,yandex,cpc,Brand,купить смартфон,ad1,1200.00,40\n";
        let l = &parse_csv(csv.as_bytes()).expect("parse")[0];
        assert_eq!(l.key.campaign, "brand");
        assert_eq!(l.key.keyword, "купить смартфон");
        assert_eq!(l.key.ad, "ad1");
        assert_eq!(l.clicks, 40);
        assert_eq!(l.cost, Money(120_000));
    }

    #[test]
    fn semicolons_decimal_commas_bom_ranges() {
        let csv = "\u{feff}Дата;Source;Campaign;Cost;Clicks\n01.11.2026..07.11.2026;vk;Retarget;\"7 000,70\";70\n";
        let l = &parse_csv(csv.as_bytes()).expect("parse")[0];
        assert_eq!(l.from, NaiveDate::from_ymd_opt(2026, 11, 1).expect("d"));
        assert_eq!(l.to, NaiveDate::from_ymd_opt(2026, 11, 7).expect("d"));
        assert_eq!(l.cost, Money(700_070));
        let csv = "date_from,date_to,source,cost\n2026-11-01,2026-11-03,yandex,300\n";
        let l = &parse_csv(csv.as_bytes()).expect("parse")[0];
        assert_eq!(l.spread().len(), 3);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        assert!(matches!(
            parse_csv(b"source,cost\nyandex,1\n"),
            Err(CostFileError::Header(_))
        ));
        assert!(matches!(
            parse_csv(b"date,cost\n2026-11-01,1\n"),
            Err(CostFileError::Header(_))
        ));
        let e = parse_csv(b"date,source,cost\n2026-11-01,yandex,1\n2026-13-01,yandex,1\n")
            .expect_err("bad date");
        assert_eq!(
            e,
            CostFileError::Row {
                line: 3,
                column: "date".into(),
                message: "not a date (YYYY-MM-DD, DD.MM.YYYY or FROM..TO)".into()
            }
        );
        let e = parse_csv(b"date,source,cost\n2026-11-01,yandex,abc\n").expect_err("bad cost");
        assert!(e.to_string().contains("line 2, column cost"), "{e}");
        let e = parse_csv(b"date,source,cost\n2026-11-01,yandex,-5\n").expect_err("negative");
        assert!(e.to_string().contains("negative"), "{e}");
        let e =
            parse_csv(b"date,source,cost,clicks\n2026-11-01,yandex,5,many\n").expect_err("clicks");
        assert!(e.to_string().contains("column clicks"), "{e}");
    }

    #[test]
    fn blank_lines_are_skipped() {
        let lines = parse_csv(b"date,source,cost\n\n2026-11-01,yandex,1\n,,\n").expect("parse");
        assert_eq!(lines.len(), 1);
    }
}
