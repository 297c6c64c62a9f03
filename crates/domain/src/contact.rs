//! Contact identities: phone numbers to E.164 (with the maintained
//! `phonenumber` crate, Google's libphonenumber metadata) and e-mails
//! trimmed and lower-cased. Junk is refused with a reason, never guessed
//! into a wrong number.

use phonenumber::country::Id as Country;
use std::str::FromStr;

/// Why a phone or e-mail was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not a phone number that exists in the numbering plan.
    #[error("'{0}' is not a valid phone number")]
    BadPhone(String),
    /// Not an e-mail address.
    #[error("'{0}' is not a valid e-mail address")]
    BadEmail(String),
}

/// Normalizes a phone number to E.164 (`+79991234567`).
///
/// Russian habits are handled first, since the libphonenumber parser does
/// not know them: a leading trunk `8` before ten digits (`8 (999) 123-45-67`)
/// and a bare ten-digit national number (`9991234567`) are Russian numbers
/// when the default region is RU or KZ. Anything else is parsed with the
/// project's `default_region` (two-letter ISO code) and must be a valid
/// number there.
pub fn normalize_phone(raw: &str, default_region: &str) -> Result<String, IdentityError> {
    let bad = || IdentityError::BadPhone(raw.chars().take(64).collect());
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.len() > 64 {
        return Err(bad());
    }
    // Only phone-ish characters are allowed; letters mean junk or an
    // extension we do not keep ("ext", "доб").
    if !trimmed.chars().all(|c| {
        c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | ' ' | '.' | '\u{a0}' | '/')
    }) {
        return Err(bad());
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let has_plus = trimmed.starts_with('+');
    let region = Country::from_str(&default_region.to_ascii_uppercase()).unwrap_or(Country::RU);
    let ru_like = matches!(region, Country::RU | Country::KZ);
    let candidate = if !has_plus && ru_like && digits.len() == 11 && digits.starts_with('8') {
        format!("+7{}", &digits[1..])
    } else if !has_plus && ru_like && digits.len() == 11 && digits.starts_with('7') {
        format!("+{digits}")
    } else if !has_plus && ru_like && digits.len() == 10 {
        format!("+7{digits}")
    } else if has_plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else {
        trimmed.to_owned()
    };
    // +7 (Russia and Kazakhstan share it): the crate's parser strips a
    // leading 8 of the national number as a trunk prefix, which breaks
    // 8-800 toll-free numbers; +7 numbers are checked against the Russian
    // and Kazakh ranges here instead (3xx, 4xx, 8xx, 9xx; 6xx, 7xx).
    if let Some(national) = candidate.strip_prefix("+7") {
        let ok = national.len() == 10
            && national.bytes().all(|b| b.is_ascii_digit())
            && matches!(
                national.as_bytes().first(),
                Some(b'3' | b'4' | b'6' | b'7' | b'8' | b'9')
            );
        return if ok { Ok(candidate) } else { Err(bad()) };
    }
    let number = phonenumber::parse(Some(region), &candidate).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(bad());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Trims and lower-cases an e-mail and checks its shape (`local@domain.tld`).
pub fn normalize_email(raw: &str) -> Result<String, IdentityError> {
    let email = raw.trim().to_lowercase();
    let bad = || IdentityError::BadEmail(raw.chars().take(64).collect());
    if email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
        return Err(bad());
    }
    Ok(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_table() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("8 (999) 123-45-67", "RU", Some("+79991234567")),
            ("+7 999 1234567", "RU", Some("+79991234567")),
            ("9991234567", "RU", Some("+79991234567")),
            ("89991234567", "RU", Some("+79991234567")),
            ("79991234567", "RU", Some("+79991234567")),
            ("+7(999)123-45-67", "RU", Some("+79991234567")),
            ("  +7 999 123 45 67  ", "RU", Some("+79991234567")),
            ("8-999-123-45-67", "RU", Some("+79991234567")),
            ("8.999.123.45.67", "RU", Some("+79991234567")),
            ("+7 495 123-45-67", "RU", Some("+74951234567")),
            ("8 (495) 123-45-67", "RU", Some("+74951234567")),
            ("8 800 200-23-45", "RU", Some("+78002002345")),
            ("+7 727 258 12 34", "KZ", Some("+77272581234")),
            ("+375 29 123-45-67", "RU", Some("+375291234567")),
            ("+380 44 123 4567", "RU", Some("+380441234567")),
            ("+44 20 7946 0958", "RU", Some("+442079460958")),
            ("020 7946 0958", "GB", Some("+442079460958")),
            ("(202) 555-0143", "US", Some("+12025550143")),
            ("(201) 555-0123", "US", Some("+12015550123")),
            ("+1 201 555 0123", "RU", Some("+12015550123")),
            ("0049 30 901820", "RU", Some("+4930901820")),
            ("030 901820", "DE", Some("+4930901820")),
            ("+998 90 123 45 67", "RU", Some("+998901234567")),
            // Junk: refused, not guessed.
            ("", "RU", None),
            ("   ", "RU", None),
            ("abc", "RU", None),
            ("123", "RU", None),
            ("+7 999 123", "RU", None),
            ("8 (999) 123-45-67 доб. 12", "RU", None),
            ("phone: 89991234567", "RU", None),
            ("+7 000 000 00 00", "RU", None),
            ("99999999999999999999", "RU", None),
            ("++79991234567", "RU", Some("+79991234567")),
            ("+0 123 456 789", "RU", None),
        ];
        assert!(cases.len() >= 30);
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(raw, region, expected)| {
                let got = normalize_phone(raw, region).ok();
                (got.as_deref() != *expected)
                    .then(|| format!("{raw:?} in {region}: got {got:?}, want {expected:?}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn emails_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("  Ivan.Petrov@Mail.RU ", Some("ivan.petrov@mail.ru")),
            ("a+tag@example.com", Some("a+tag@example.com")),
            ("user@sub.domain.ru", Some("user@sub.domain.ru")),
            ("", None),
            ("no-at-sign", None),
            ("a@b", None),
            ("a @b.ru", None),
            ("@b.ru", None),
            ("a@.ru", None),
            ("a@b..ru", None),
            ("a@@b.ru", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_email(raw).ok().as_deref(), *expected, "{raw:?}");
        }
    }
}
