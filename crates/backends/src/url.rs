//! Store URLs: which backend holds the data and where, parsed once and
//! shown without secrets.
//!
//! `sqlite:///abs/path/skvoz.db`, `sqlite://relative/skvoz.db` and a bare
//! path name an SQLite file. `postgres://` (or `postgresql://`) and
//! `clickhouse://` are recognized so their URLs are already handled with
//! care (a password never reaches a log), but this build cannot open them
//! yet.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The backends a store URL can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The embedded SQLite file (WAL mode).
    Sqlite,
    /// A PostgreSQL server (not in this build yet).
    Postgres,
    /// A ClickHouse server (not in this build yet).
    ClickHouse,
}

impl Backend {
    /// The name `/healthz` and the store report (`sqlite`, `postgres`, …).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::ClickHouse => "clickhouse",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not a store URL. The messages never repeat the URL, so
/// they can be logged even when the URL held a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Nothing was given.
    #[error("the store URL is empty; use sqlite:///path/to/skvoz.db")]
    Empty,
    /// A scheme no backend answers to.
    #[error(
        "unknown store URL scheme '{0}'; supported: sqlite:///path/to/skvoz.db \
         (postgres:// and clickhouse:// are recognized but not supported yet in this build)"
    )]
    UnknownScheme(String),
    /// `sqlite://` without a file.
    #[error(
        "a sqlite:// store URL needs the database file, e.g. sqlite:///var/lib/skvoz/skvoz.db"
    )]
    MissingPath,
    /// `sqlite://…?mode=ro` and the like: the store takes no URL options,
    /// and a silently kept `?` would end up in the file name.
    #[error("sqlite:// store URLs take no options ('?…' or '#…'); name only the database file")]
    Options,
    /// `sqlite::memory:`: the store opens one file from several connections.
    #[error("an in-memory SQLite database cannot hold the store; name a database file")]
    InMemory,
}

/// Where the store lives: what `--store`, `SKVOZ_STORE` and `store = "…"`
/// in `skvoz.toml` say, or the data folder's `skvoz.db` when none does.
///
/// `Display` and `Debug` redact a password in the user-info part
/// (`postgres://skvoz:***@db/skvoz`) and in `password`/`secret`/`token`
/// query parameters, so a URL can be logged and shown in errors.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl {
    target: Target,
}

#[derive(Clone, PartialEq, Eq)]
enum Target {
    /// The SQLite database file.
    Sqlite(PathBuf),
    /// A database server; the URL is kept whole (it may carry a password)
    /// and only ever shown redacted.
    Server { backend: Backend, url: String },
}

impl StoreUrl {
    /// An SQLite database file.
    pub fn sqlite_file(path: impl Into<PathBuf>) -> StoreUrl {
        StoreUrl {
            target: Target::Sqlite(path.into()),
        }
    }

    /// The default store of a data folder: `DIR/skvoz.db`.
    pub fn data_folder(dir: &Path) -> StoreUrl {
        StoreUrl::sqlite_file(dir.join(skvoz_store_sqlite::DEFAULT_FILE_NAME))
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        match &self.target {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Server { backend, .. } => *backend,
        }
    }

    /// The database file, for an SQLite URL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite(path) => Some(path),
            Target::Server { .. } => None,
        }
    }
}

/// Splits `scheme:rest` when `text` starts with a URL scheme. A bare path
/// has none; `C:\data\skvoz.db` has a one-letter "scheme" that is a drive,
/// so a scheme counts only when `//` follows it or it is one we know.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let known = matches!(
        scheme.to_ascii_lowercase().as_str(),
        "sqlite" | "postgres" | "postgresql" | "clickhouse"
    );
    (well_formed && (known || rest.starts_with("//"))).then_some((scheme, rest))
}

impl FromStr for StoreUrl {
    type Err = UrlError;

    fn from_str(text: &str) -> Result<StoreUrl, UrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        let Some((scheme, rest)) = split_scheme(text) else {
            return Ok(StoreUrl::sqlite_file(text));
        };
        let server = |backend| {
            Ok(StoreUrl {
                target: Target::Server {
                    backend,
                    url: text.to_owned(),
                },
            })
        };
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => {
                // `sqlite:///abs` → `/abs`; `sqlite://rel` and `sqlite:rel`
                // → `rel`. The path is taken as written (no
                // percent-decoding): it is a file name, not a web address.
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    Err(UrlError::MissingPath)
                } else if path.contains(['?', '#']) {
                    Err(UrlError::Options)
                } else if path == ":memory:" {
                    Err(UrlError::InMemory)
                } else {
                    Ok(StoreUrl::sqlite_file(path))
                }
            }
            "postgres" | "postgresql" => server(Backend::Postgres),
            "clickhouse" => server(Backend::ClickHouse),
            other => Err(UrlError::UnknownScheme(other.to_owned())),
        }
    }
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StoreUrl, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            // An absolute path gives the usual three slashes.
            Target::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Target::Server { url, .. } => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StoreUrl").field(&self.to_string()).finish()
    }
}

/// What stands for a removed secret.
const REDACTED: &str = "***";

/// Query parameters that carry secrets (libpq's `password`, `sslpassword`;
/// tokens of HTTP-speaking servers).
fn is_secret_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "pass"
        || ["password", "secret", "token"]
            .iter()
            .any(|s| key.contains(s))
}

/// `url` with the password of its user info and secret query parameters
/// replaced by `***`.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    // The user info ends at the last `@`, even past a `/` or `?`: a
    // password with an unescaped `/` must not leak, and hiding a little too
    // much of an odd URL is the safe mistake.
    let host_start = match url[authority_start..].rfind('@') {
        Some(at) => {
            let at = authority_start + at;
            let user_info = &url[authority_start..at];
            match user_info.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(REDACTED);
                }
                None => out.push_str(user_info),
            }
            at
        }
        None => authority_start,
    };
    let authority_end = url[host_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| host_start + i);
    out.push_str(&url[host_start..authority_end]);
    let rest = &url[authority_end..];
    let Some(question) = rest.find('?') else {
        out.push_str(rest);
        return out;
    };
    out.push_str(&rest[..=question]);
    let after = &rest[question + 1..];
    let (query, fragment) = match after.find('#') {
        Some(hash) => after.split_at(hash),
        None => (after, ""),
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_parameter(key) => format!("{key}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect();
    out.push_str(&pairs.join("&"));
    out.push_str(fragment);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StoreUrl, UrlError> {
        text.parse()
    }

    #[test]
    fn sqlite_urls_and_bare_paths_name_a_file() {
        let cases = [
            (
                "sqlite:///var/lib/skvoz/skvoz.db",
                "/var/lib/skvoz/skvoz.db",
            ),
            (
                "SQLite:///var/lib/skvoz/skvoz.db",
                "/var/lib/skvoz/skvoz.db",
            ),
            ("sqlite://data/skvoz.db", "data/skvoz.db"),
            ("sqlite:skvoz.db", "skvoz.db"),
            ("/srv/skvoz.db", "/srv/skvoz.db"),
            ("./skvoz-data/skvoz.db", "./skvoz-data/skvoz.db"),
            ("  data/with space.db ", "data/with space.db"),
            ("C:\\skvoz\\skvoz.db", "C:\\skvoz\\skvoz.db"),
            ("my:odd.db", "my:odd.db"),
        ];
        for (text, path) in cases {
            let url = parse(text).unwrap();
            assert_eq!(url.backend(), Backend::Sqlite, "{text}");
            assert_eq!(url.sqlite_path(), Some(Path::new(path)), "{text}");
        }
    }

    #[test]
    fn a_sqlite_url_shows_as_it_parses() {
        for text in ["sqlite:///var/lib/skvoz/skvoz.db", "sqlite://data/skvoz.db"] {
            let url = parse(text).unwrap();
            assert_eq!(url.to_string(), text);
            assert_eq!(parse(&url.to_string()).unwrap(), url);
        }
        assert_eq!(
            StoreUrl::data_folder(Path::new("/srv/data")).to_string(),
            "sqlite:///srv/data/skvoz.db"
        );
    }

    #[test]
    fn bad_sqlite_urls_are_refused_with_the_reason() {
        assert_eq!(parse(""), Err(UrlError::Empty));
        assert_eq!(parse("   "), Err(UrlError::Empty));
        assert_eq!(parse("sqlite://"), Err(UrlError::MissingPath));
        assert_eq!(parse("sqlite:"), Err(UrlError::MissingPath));
        assert_eq!(parse("sqlite:///x.db?mode=ro"), Err(UrlError::Options));
        assert_eq!(parse("sqlite::memory:"), Err(UrlError::InMemory));
    }

    #[test]
    fn an_unknown_scheme_names_the_supported_ones() {
        let e = parse("mysql://root:hunter2@db/skvoz").unwrap_err();
        assert_eq!(e, UrlError::UnknownScheme("mysql".into()));
        let message = e.to_string();
        for needle in ["'mysql'", "sqlite://", "postgres://", "clickhouse://"] {
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn server_urls_are_recognized_and_shown_without_secrets() {
        let url = parse("postgres://skvoz:hunter2@db.internal:5432/skvoz?sslmode=require").unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert_eq!(url.sqlite_path(), None);
        assert_eq!(
            url.to_string(),
            "postgres://skvoz:***@db.internal:5432/skvoz?sslmode=require"
        );
        assert_eq!(
            format!("{url:?}"),
            "StoreUrl(\"postgres://skvoz:***@db.internal:5432/skvoz?sslmode=require\")"
        );
        let url = parse("postgresql://db/skvoz?user=a&password=hunter2&sslpassword=x2#f").unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        assert_eq!(
            url.to_string(),
            "postgresql://db/skvoz?user=a&password=***&sslpassword=***#f"
        );
        let url = parse("clickhouse://default:p%40ss:w@ch:8123/skvoz").unwrap();
        assert_eq!(url.backend(), Backend::ClickHouse);
        assert_eq!(url.to_string(), "clickhouse://default:***@ch:8123/skvoz");
        // An unescaped `/` in the password does not end the user info.
        assert_eq!(
            parse("postgres://skvoz:hun/ter2@db/skvoz")
                .unwrap()
                .to_string(),
            "postgres://skvoz:***@db/skvoz"
        );
        // A user without a password stays as it is.
        assert_eq!(
            parse("postgres://skvoz@db/skvoz").unwrap().to_string(),
            "postgres://skvoz@db/skvoz"
        );
    }

    #[test]
    fn deserializes_from_a_string_without_leaking_on_error() {
        let url: StoreUrl = serde_json::from_str("\"sqlite:///srv/skvoz.db\"").unwrap();
        assert_eq!(url.sqlite_path(), Some(Path::new("/srv/skvoz.db")));
        let e = serde_json::from_str::<StoreUrl>("\"mysql://u:hunter2@h/db\"").unwrap_err();
        assert!(e.to_string().contains("unknown store URL scheme"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
