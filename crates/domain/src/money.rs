//! Money as integer minor units (kopecks, cents), never floating point.
//!
//! JSON carries money as a decimal number in the project currency
//! (`1500.50`); [`Money::from_decimal`] and [`Money::to_decimal`] convert at
//! the edge.

use serde::{Deserialize, Serialize};

/// An amount in minor units of the project currency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Converts a decimal amount (as it arrives in JSON) to minor units,
    /// rounding half away from zero. Rejects NaN, infinities and amounts
    /// beyond ±10^15 major units.
    pub fn from_decimal(value: f64) -> Option<Money> {
        if !value.is_finite() || value.abs() > 1e15 {
            return None;
        }
        Some(Money((value * 100.0).round() as i64))
    }

    /// The amount as a decimal number of major units.
    pub fn to_decimal(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Parses a decimal string such as `1500.50`, `1500,5` or `1 500`.
    pub fn parse(text: &str) -> Option<Money> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .map(|c| if c == ',' { '.' } else { c })
            .collect();
        if cleaned.is_empty() {
            return None;
        }
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || whole.len() > 15
        {
            return None;
        }
        let whole_v: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut frac_digits: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
        // Round half away from zero at the third fractional digit.
        let round_up = frac_digits.get(2).is_some_and(|d| *d >= 5);
        frac_digits.resize(2, 0);
        let mut minor = whole_v * 100 + i64::from(frac_digits[0]) * 10 + i64::from(frac_digits[1]);
        if round_up {
            minor += 1;
        }
        Some(Money(if negative { -minor } else { minor }))
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        Money(iter.map(|m| m.0).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimal_strings() {
        let cases = [
            ("1500.50", Some(150050)),
            ("1500,5", Some(150050)),
            ("1 500", Some(150000)),
            ("0.005", Some(1)),
            ("-12.345", Some(-1235)),
            (".5", Some(50)),
            ("", None),
            ("abc", None),
            ("1.2.3", None),
        ];
        for (input, expected) in cases {
            assert_eq!(Money::parse(input).map(|m| m.0), expected, "{input}");
        }
    }

    #[test]
    fn converts_floats() {
        assert_eq!(Money::from_decimal(1500.5), Some(Money(150050)));
        assert_eq!(Money::from_decimal(0.1 + 0.2), Some(Money(30)));
        assert_eq!(Money::from_decimal(f64::NAN), None);
        assert_eq!(Money(150050).to_decimal(), 1500.5);
    }
}
