//! Configuration, layered: defaults → `skvoz.toml` (or `--config FILE`) →
//! `SKVOZ_*` environment variables → command-line flags.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use skvoz_backends::{Durability, OpenOptions, StoreUrl};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything a skvoz node reads at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Data folder: the embedded store's `skvoz.db` (unless `store` names
    /// another), report snapshots and other files kept beside the store.
    pub data: PathBuf,
    /// The store's URL (`sqlite:///var/lib/skvoz/skvoz.db`); unset: the data
    /// folder's `skvoz.db`. Shown redacted by `Debug`.
    pub store: Option<StoreUrl>,
    /// Address the server listens on.
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
    /// `full` (survives power loss) or `normal` (survives a process crash).
    pub durability: String,
    /// Log filter (`info`, `skvoz=debug,tower_http=info`); `RUST_LOG` wins.
    pub log: String,
    /// Mark session cookies `Secure` (serve behind HTTPS).
    pub secure_cookies: bool,
    /// Password of the first admin created by `serve --demo`; random and
    /// printed once when unset.
    pub admin_password: Option<SecretString>,
    /// Trust `X-Forwarded-For` for the client IP (behind a reverse proxy).
    pub trust_proxy: bool,
    /// A MaxMind-format `.mmdb` city database for regions by IP.
    pub geoip_db: Option<PathBuf>,
    /// Seconds an outbox delivery holds its message: after a crash, messages
    /// that were in flight go out again once this passed.
    pub outbox_lease_seconds: u64,
    /// Days delivered and skipped outbox messages are kept (0: forever).
    pub outbox_retention_days: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: PathBuf::from("./skvoz-data"),
            store: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 1024 * 1024,
            durability: "full".to_owned(),
            log: "info".to_owned(),
            secure_cookies: false,
            admin_password: None,
            trust_proxy: false,
            geoip_db: None,
            outbox_lease_seconds: 30,
            outbox_retention_days: 90,
        }
    }
}

/// The configuration keys, also read as `SKVOZ_<KEY>`.
const KEYS: [&str; 12] = [
    "data",
    "store",
    "listen",
    "body_limit",
    "durability",
    "log",
    "secure_cookies",
    "admin_password",
    "trust_proxy",
    "geoip_db",
    "outbox_lease_seconds",
    "outbox_retention_days",
];

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// `--store`: applied after the layers are merged rather than passed
    /// through figment, which would need the URL serialized with its
    /// password.
    #[serde(skip)]
    pub store: Option<StoreUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
}

/// The defaults as a figment layer (a serializable mirror without secrets).
#[derive(Serialize)]
struct Defaults {
    data: PathBuf,
    listen: SocketAddr,
    body_limit: usize,
    durability: String,
    log: String,
    secure_cookies: bool,
    trust_proxy: bool,
    outbox_lease_seconds: u64,
    outbox_retention_days: u64,
}

impl Config {
    /// Loads the layers. `file` is `--config`; without it `./skvoz.toml` is
    /// read when present.
    pub fn load(file: Option<&Path>, mut flags: FlagOverrides) -> anyhow::Result<Config> {
        let store_flag = flags.store.take();
        let d = Config::default();
        let mut fig = Figment::from(Serialized::defaults(Defaults {
            data: d.data,
            listen: d.listen,
            body_limit: d.body_limit,
            durability: d.durability,
            log: d.log,
            secure_cookies: d.secure_cookies,
            trust_proxy: d.trust_proxy,
            outbox_lease_seconds: d.outbox_lease_seconds,
            outbox_retention_days: d.outbox_retention_days,
        }));
        match file {
            Some(path) => {
                if !path.exists() {
                    anyhow::bail!("config file {} does not exist", path.display());
                }
                fig = fig.merge(Toml::file(path));
            }
            None => fig = fig.merge(Toml::file("skvoz.toml")),
        }
        fig = fig
            // Only the keys above: other SKVOZ_* variables (SKVOZ_CONFIG,
            // SKVOZ_NEW_PASSWORD, a test's own) are not configuration.
            .merge(Env::prefixed("SKVOZ_").only(&KEYS))
            .merge(Serialized::defaults(flags));
        let mut config: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if store_flag.is_some() {
            config.store = store_flag;
        }
        if !matches!(config.durability.as_str(), "full" | "normal") {
            anyhow::bail!("configuration: durability must be 'full' or 'normal'");
        }
        if config.body_limit < 1024 {
            anyhow::bail!("configuration: body_limit must be at least 1024 bytes");
        }
        if !(1..=3600).contains(&config.outbox_lease_seconds) {
            anyhow::bail!("configuration: outbox_lease_seconds must be between 1 and 3600");
        }
        if config.outbox_retention_days > 36_500 {
            anyhow::bail!("configuration: outbox_retention_days must be at most 36500 (0 keeps messages forever)");
        }
        Ok(config)
    }

    /// The store to open: `store` when set, else `DATA/skvoz.db`.
    pub fn store_url(&self) -> StoreUrl {
        self.store
            .clone()
            .unwrap_or_else(|| StoreUrl::data_folder(&self.data))
    }

    /// How to open the store (`durability` was checked by [`Config::load`]).
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            durability: match self.durability.as_str() {
                "normal" => Durability::Normal,
                _ => Durability::Full,
            },
        }
    }
}

/// The commented example printed by `skvoz config example`.
pub const EXAMPLE: &str = r#"# skvoz.toml — every key is optional; shown with its default.
# Layers: defaults < this file < SKVOZ_* environment < command-line flags.
# Each key can be set from the environment as SKVOZ_<KEY>, e.g. SKVOZ_LISTEN.

# Data folder: the embedded SQLite store (skvoz.db in WAL mode) unless
# `store` names another, plus report snapshots kept beside it.
data = "./skvoz-data"

# The store as a URL; unset: skvoz.db in the data folder. SQLite takes
# sqlite:///absolute/path.db, sqlite://relative/path.db or a plain path.
# postgres:// and clickhouse:// are recognized but not in this build yet.
# A password in the URL is never logged. Env: SKVOZ_STORE; flag: --store.
# store = "sqlite:///var/lib/skvoz/skvoz.db"

# Address and port of the HTTP server (dashboard, tracker, API, webhooks).
listen = "127.0.0.1:8080"

# Largest accepted request body, in bytes (413 above it).
body_limit = 1048576

# Commit durability: "full" survives power loss; "normal" survives a crash
# of the skvoz process but not of the machine, and is faster.
durability = "full"

# Log filter; RUST_LOG overrides it.
log = "info"

# Set to true when skvoz is served over HTTPS, so session cookies get Secure.
secure_cookies = false

# Behind a reverse proxy (nginx, Caddy), take the visitor's IP from
# X-Forwarded-For. Leave false when skvoz faces the internet directly.
trust_proxy = false

# A MaxMind-format city database (GeoLite2-City.mmdb, dbip-city-lite.mmdb)
# for visit regions. Nothing is downloaded; without it visits have no region.
# geoip_db = "/var/lib/skvoz/GeoLite2-City.mmdb"

# Seconds an outbound delivery holds its message. After a crash, messages
# that were being delivered go out again once this passed (receivers drop
# the repeat by its idempotency key). Keep it above your slowest receiver.
outbox_lease_seconds = 30

# Days delivered and skipped outbound messages are kept (pruned hourly);
# pending and dead ones are kept whatever their age. 0 keeps everything.
outbox_retention_days = 90

# Password of the first admin that `serve --demo` creates on an empty store.
# Unset: a random one is generated and printed once. A secret: never logged.
# admin_password = "change-me-please"
"#;

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error.
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn layers_apply_in_order_and_secrets_stay_hidden() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "skvoz.toml",
                "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\nadmin_password = \"hunter2hunter2\"",
            )?;
            jail.set_env("SKVOZ_LOG", "warn");
            jail.set_env("SKVOZ_NEW_PASSWORD", "not configuration");
            let c = Config::load(None, FlagOverrides::default()).expect("load");
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.log, "warn");
            assert_eq!(c.data, PathBuf::from("./skvoz-data"));
            let pw = c.admin_password.as_ref().expect("password");
            assert_eq!(pw.expose_secret(), "hunter2hunter2");
            assert!(
                !format!("{c:?}").contains("hunter2"),
                "Debug leaks the secret"
            );
            let flags = FlagOverrides {
                listen: Some("127.0.0.1:7000".parse().expect("addr")),
                ..FlagOverrides::default()
            };
            let c = Config::load(None, flags).expect("load");
            assert_eq!(c.listen.port(), 7000);
            Ok(())
        });
    }

    #[test]
    fn example_parses() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("example.toml", EXAMPLE)?;
            let c = Config::load(Some(Path::new("example.toml")), FlagOverrides::default())
                .expect("load");
            assert_eq!(c.body_limit, 1024 * 1024);
            assert_eq!(c.outbox_retention_days, 90);
            assert!(c.store.is_none(), "the store line is commented out");
            assert!(EXAMPLE.contains("# store = \"sqlite:///var/lib/skvoz/skvoz.db\""));
            Ok(())
        });
    }

    #[test]
    fn outbox_retention_comes_from_the_environment_and_is_bounded() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SKVOZ_OUTBOX_RETENTION_DAYS", "0");
            let c = Config::load(None, FlagOverrides::default()).expect("load");
            assert_eq!(c.outbox_retention_days, 0, "0 keeps everything");
            jail.set_env("SKVOZ_OUTBOX_RETENTION_DAYS", "40000");
            let e = Config::load(None, FlagOverrides::default()).expect_err("too long");
            assert!(e.to_string().contains("outbox_retention_days"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn the_store_defaults_to_the_data_folder_and_layers_like_the_rest() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, FlagOverrides::default()).expect("load");
            assert_eq!(
                c.store_url().to_string(),
                "sqlite://./skvoz-data/skvoz.db",
                "no store: the data folder's skvoz.db, as before"
            );
            assert_eq!(c.open_options().durability, Durability::Full);

            jail.create_file(
                "skvoz.toml",
                "data = \"/srv/data\"\nstore = \"postgres://skvoz:hunter2@db/skvoz\"\ndurability = \"normal\"",
            )?;
            let c = Config::load(None, FlagOverrides::default()).expect("load");
            assert_eq!(c.store_url().backend(), skvoz_backends::Backend::Postgres);
            assert_eq!(c.data, PathBuf::from("/srv/data"), "the data folder stays");
            assert_eq!(c.open_options().durability, Durability::Normal);
            let debug = format!("{c:?}");
            assert!(
                !debug.contains("hunter2"),
                "Debug leaks the store password: {debug}"
            );
            assert!(debug.contains("postgres://skvoz:***@db/skvoz"), "{debug}");

            jail.set_env("SKVOZ_STORE", "sqlite:///from/env.db");
            let c = Config::load(None, FlagOverrides::default()).expect("load");
            assert_eq!(c.store_url().to_string(), "sqlite:///from/env.db");

            let flags = FlagOverrides {
                store: Some("sqlite:///from/flag.db".parse().expect("url")),
                ..FlagOverrides::default()
            };
            let c = Config::load(None, flags).expect("load");
            assert_eq!(c.store_url().to_string(), "sqlite:///from/flag.db");

            jail.set_env("SKVOZ_STORE", "mysql://root:hunter2@db/skvoz");
            let e = Config::load(None, FlagOverrides::default()).expect_err("unknown scheme");
            assert!(e.to_string().contains("unknown store URL scheme"), "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
            Ok(())
        });
    }
}
