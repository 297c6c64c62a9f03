//! Projects: the unit of isolation, with a name, a time zone and a currency.

use crate::ids::ProjectId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A project as the store keeps it. Keys are not here: only their hashes are
/// stored, and the API key is shown once at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Its id.
    pub id: ProjectId,
    /// Its unique name (`shop`, `demo`).
    pub name: ProjectName,
    /// The tracker key; public by design (it is in every page's HTML).
    pub public_key: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A project name: 1–64 characters of letters, digits, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectName(String);

/// Why a name, a time zone or a currency was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    /// The name is empty, too long, or has characters outside the set.
    #[error("project name must be 1-64 characters of letters, digits, '-', '_' or '.'")]
    BadName,
    /// Not an IANA time zone name.
    #[error("unknown time zone '{0}' (expected an IANA name such as Europe/Moscow)")]
    BadTimeZone(String),
    /// Not a three-letter ISO 4217 code.
    #[error("currency must be a three-letter ISO 4217 code such as RUB, got '{0}'")]
    BadCurrency(String),
}

impl ProjectName {
    /// Validates a name.
    pub fn new(name: &str) -> Result<Self, ProjectError> {
        let ok = !name.is_empty()
            && name.chars().count() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if ok {
            Ok(ProjectName(name.to_owned()))
        } else {
            Err(ProjectError::BadName)
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProjectName {
    type Error = ProjectError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        ProjectName::new(&value)
    }
}

impl From<ProjectName> for String {
    fn from(value: ProjectName) -> String {
        value.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone; days in reports are the project's local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(pub chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(chrono_tz::Europe::Moscow)
    }
}

impl FromStr for TimeZone {
    type Err = ProjectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| ProjectError::BadTimeZone(s.to_owned()))
    }
}

impl TryFrom<String> for TimeZone {
    type Error = ProjectError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> String {
        value.0.name().to_owned()
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A three-letter ISO 4217 currency code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Default for Currency {
    fn default() -> Self {
        Currency("RUB".to_owned())
    }
}

impl FromStr for Currency {
    type Err = ProjectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        if up.len() == 3 && up.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Currency(up))
        } else {
            Err(ProjectError::BadCurrency(s.to_owned()))
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = ProjectError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.0
    }
}

impl Currency {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(ProjectName::new("shop").is_ok());
        assert!(ProjectName::new("my-shop_2.ru").is_ok());
        assert!(ProjectName::new("магазин").is_ok());
        assert!(ProjectName::new("").is_err());
        assert!(ProjectName::new("a b").is_err());
        assert!(ProjectName::new(&"x".repeat(65)).is_err());
    }

    #[test]
    fn zones_and_currencies() {
        assert_eq!(TimeZone::default().to_string(), "Europe/Moscow");
        assert!("Asia/Yekaterinburg".parse::<TimeZone>().is_ok());
        assert!("Mars/Olympus".parse::<TimeZone>().is_err());
        assert_eq!(
            "usd".parse::<Currency>().map(|c| c.to_string()),
            Ok("USD".into())
        );
        assert!("RUBL".parse::<Currency>().is_err());
    }
}
