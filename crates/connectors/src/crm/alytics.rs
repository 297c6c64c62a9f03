//! The Alytics universal CRM format: a daily JSON feed of transactions
//! (conversions at one funnel goal) with their revenue and UTM tags.
//!
//! The consumer calls `GET <url>?date=YYYY-MM-DD` with HTTP Basic auth and
//! gets UTF-8 JSON for that day in Moscow time:
//!
//! ```json
//! {"data":{"transactions":[{"id":"A-1","number":"1001","revenue":1500.5,
//!   "profit":300,"count":1,"client_id":"123.456","href":"https://crm/1",
//!   "creation_date":"2026-03-01 12:30:00","client_id_date":"2026-02-28 10:00:00",
//!   "utm_source":"yandex","utm_medium":"cpc","utm_campaign":"spring",
//!   "utm_content":"ad1","utm_term":"sofa"}]}}
//! ```
//!
//! Documented defaults for a missing value: `utm_source` `(direct)`,
//! `utm_medium` `(none)`, the other tags `(not set)`, revenue and profit 0,
//! count 1; `id` is kept up to 1024 characters and a numeric id becomes a
//! string. A transaction must carry either a `client_id` or all five UTM tags.
//! Goal 1 (the first funnel stage) lives at the base URL (which ends with
//! `/`), goal 2 at `<url>1/`, goal 3 at `<url>2/`, and so on
//! ([`goal_url`]).
//!
//! skvoz speaks it both ways:
//!
//! - **serving**: [`feed_json`] renders the feed of one configured stage for
//!   the deals of the Moscow day [`moscow_day_bounds`] selects;
//! - **pulling**: [`AlyticsClient::fetch`] reads an external feed for each
//!   date of [`pull_dates`] (yesterday plus re-pulls of recent days, which
//!   catch late updates), [`parse_feed`] applies every default and
//!   [`to_deal_update`] / [`traffic_source`] hand the result to the services.
//!
//! Tolerance beyond the documented format (so real-world feeds are not
//! lost): strings are trimmed and an empty string counts as missing; money
//! may be a JSON number or a numeric string (`"1500.50"`, `"1 500,5"`);
//! `count` may be a numeric string; `creation_date` may also use a `T`
//! separator, carry an RFC 3339 offset (converted to Moscow time) or be a bare
//! date (midnight); a UTF-8 byte-order mark is skipped. A transaction that
//! cannot be read is reported in [`ParsedFeed::rejected`] without failing the
//! rest of the feed; only a body that is not `{"data":{"transactions":[…]}}`
//! fails as a whole.

use chrono::{
    DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone as _, Timelike, Utc,
};
use chrono_tz::Europe::Moscow;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use skvoz_domain::crm::{DealStatus, DealUpdate};
use skvoz_domain::traffic::source::{DIRECT_SOURCE, NONE_MEDIUM, NOT_SET};
use skvoz_domain::traffic::{SourceKind, TrafficSource};
use skvoz_domain::Money;
use std::time::Duration;

/// Longest `id` kept, in characters; longer ids are cut (documented limit).
pub const MAX_ID_CHARS: usize = 1024;
/// Wire format of `creation_date` (Moscow local time).
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";
/// Wire format of the `date` query parameter.
pub const DATE_FORMAT: &str = "%Y-%m-%d";
/// How many days before yesterday a daily pull fetches again by default.
pub const DEFAULT_REPULL_DAYS: u32 = 7;
/// Upper bound on [`pull_dates`]' `repull_days`, so a mistyped setting cannot
/// schedule thousands of requests.
pub const MAX_REPULL_DAYS: u32 = 366;
/// Default cap on a pulled feed body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Longest piece of an error response body kept in [`AlyticsError::Http`].
const ERROR_SNIPPET_CHARS: usize = 300;

const UTM_KEYS: [&str; 5] = [
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
];

/// One transaction of the format: a conversion at the feed's goal.
///
/// Serializes to the wire shape (money as decimal numbers, `creation_date`
/// as `YYYY-MM-DD HH:MM:SS`, empty UTM tags as their defaults, absent
/// optional fields omitted) and deserializes with the same tolerant rules as
/// [`parse_feed`], including the "client_id or all UTM tags" check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct AlyticsTransaction {
    /// The transaction's id in the source system, at most
    /// [`MAX_ID_CHARS`] characters.
    pub id: String,
    /// The order number shown to people, when it differs from the id.
    pub number: Option<String>,
    /// Revenue (wire default 0).
    pub revenue: Money,
    /// Profit, when the source sends it. The wire default is 0, but a missing
    /// profit is kept as `None` here so reports can tell "unknown" from "0".
    pub profit: Option<Money>,
    /// Number of items (wire default 1).
    pub count: i64,
    /// The visitor's analytics client id (usually the Google Analytics
    /// `_ga` client id).
    pub client_id: Option<String>,
    /// A link to the transaction in the source system.
    pub href: Option<String>,
    /// When the transaction was created, Moscow local time, whole seconds.
    pub creation_date: NaiveDateTime,
    /// When the client id was captured, as the source wrote it.
    pub client_id_date: Option<String>,
    /// `utm_source` (default `(direct)`).
    pub utm_source: String,
    /// `utm_medium` (default `(none)`).
    pub utm_medium: String,
    /// `utm_campaign` (default `(not set)`).
    pub utm_campaign: String,
    /// `utm_content` (default `(not set)`).
    pub utm_content: String,
    /// `utm_term` (default `(not set)`).
    pub utm_term: String,
}

impl AlyticsTransaction {
    /// A transaction with every other field at its documented default:
    /// revenue 0, no profit, count 1, no client id, direct UTM tags.
    pub fn new(id: impl Into<String>, creation_date: NaiveDateTime) -> AlyticsTransaction {
        AlyticsTransaction {
            id: id.into(),
            number: None,
            revenue: Money::ZERO,
            profit: None,
            count: 1,
            client_id: None,
            href: None,
            creation_date,
            client_id_date: None,
            utm_source: DIRECT_SOURCE.to_owned(),
            utm_medium: NONE_MEDIUM.to_owned(),
            utm_campaign: NOT_SET.to_owned(),
            utm_content: NOT_SET.to_owned(),
            utm_term: NOT_SET.to_owned(),
        }
    }

    /// The transaction as consumers expect it on the wire.
    fn to_wire(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(self.id.clone()));
        insert_opt(&mut map, "number", self.number.as_deref());
        map.insert("revenue".into(), money_to_json(self.revenue));
        if let Some(profit) = self.profit {
            map.insert("profit".into(), money_to_json(profit));
        }
        map.insert("count".into(), Value::from(self.count));
        insert_opt(&mut map, "client_id", self.client_id.as_deref());
        insert_opt(&mut map, "href", self.href.as_deref());
        map.insert(
            "creation_date".into(),
            Value::String(self.creation_date.format(DATETIME_FORMAT).to_string()),
        );
        insert_opt(&mut map, "client_id_date", self.client_id_date.as_deref());
        let tags = [
            &self.utm_source,
            &self.utm_medium,
            &self.utm_campaign,
            &self.utm_content,
            &self.utm_term,
        ];
        for (key, value) in UTM_KEYS.iter().zip(tags) {
            let value = value.trim();
            let value = if value.is_empty() {
                utm_default(key)
            } else {
                value
            };
            map.insert((*key).into(), Value::String(value.to_owned()));
        }
        Value::Object(map)
    }
}

impl From<AlyticsTransaction> for Value {
    fn from(t: AlyticsTransaction) -> Value {
        t.to_wire()
    }
}

impl TryFrom<Value> for AlyticsTransaction {
    type Error = String;

    /// Reads one transaction with every documented default; the error is the
    /// reason it was rejected.
    fn try_from(value: Value) -> Result<AlyticsTransaction, String> {
        parse_transaction(&value)
    }
}

fn insert_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
        map.insert(key.into(), Value::String(v.to_owned()));
    }
}

/// The default of a missing UTM tag.
fn utm_default(key: &str) -> &'static str {
    match key {
        "utm_source" => DIRECT_SOURCE,
        "utm_medium" => NONE_MEDIUM,
        _ => NOT_SET,
    }
}

/// Money as a JSON decimal number: whole amounts as integers (`1500`), the
/// rest as the shortest decimal that reads back as the same `f64`
/// (`1500.5`), which is exact for amounts below 10^13 major units.
fn money_to_json(m: Money) -> Value {
    if m.0 % 100 == 0 {
        return Value::from(m.0 / 100);
    }
    Number::from_f64(m.to_decimal()).map_or(Value::Null, Value::Number)
}

/// A feed body: what [`parse_feed`] could read and what it had to reject.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    /// The transactions read, defaults applied, in feed order.
    pub transactions: Vec<AlyticsTransaction>,
    /// Transactions that could not be read: their index in the feed's
    /// `transactions` array and why.
    pub rejected: Vec<(usize, String)>,
}

/// Why a feed could not be fetched or read.
#[derive(Debug, thiserror::Error)]
pub enum AlyticsError {
    /// The feed URL is not an absolute `http(s)` URL.
    #[error("invalid feed URL: {0}")]
    InvalidUrl(String),
    /// The HTTP client could not be built (TLS backend setup).
    #[error("could not build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The source did not answer in time.
    #[error("the feed request timed out")]
    Timeout,
    /// Connecting, sending or reading failed (the error carries no URL, which
    /// may hold a token).
    #[error("the feed request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The source answered with a non-success status.
    #[error("the feed answered HTTP {status}: {snippet}")]
    Http {
        /// The status code.
        status: u16,
        /// The start of the response body, for the operator.
        snippet: String,
    },
    /// The body exceeded the client's size limit.
    #[error("the feed body exceeds {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not JSON (or not UTF-8).
    #[error("the feed body is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The body is JSON but not `{"data":{"transactions":[…]}}`.
    #[error("the feed body is not an Alytics feed: {0}")]
    WrongShape(String),
}

impl AlyticsError {
    /// Whether trying again later may help: timeouts, transport failures,
    /// HTTP 429 and 5xx. Bad credentials, bad URLs and malformed feeds need a
    /// person.
    pub fn is_retryable(&self) -> bool {
        match self {
            AlyticsError::Timeout | AlyticsError::Transport(_) => true,
            AlyticsError::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Serializes a feed body exactly as consumers expect:
/// `{"data":{"transactions":[…]}}` with money as decimal numbers,
/// `creation_date` as `YYYY-MM-DD HH:MM:SS`, empty UTM tags as their
/// documented defaults and absent optional fields (including profit) left
/// out. Every transaction carries all five UTM tags, so every one satisfies
/// the "client_id or all UTM tags" rule.
pub fn feed_json(transactions: &[AlyticsTransaction]) -> Value {
    let rows = transactions
        .iter()
        .map(AlyticsTransaction::to_wire)
        .collect();
    let mut data = Map::new();
    data.insert("transactions".into(), Value::Array(rows));
    let mut root = Map::new();
    root.insert("data".into(), Value::Object(data));
    Value::Object(root)
}

/// Parses a feed body, tolerantly applying every documented default (see the
/// module docs): numeric ids become strings and ids are cut to
/// [`MAX_ID_CHARS`]; revenue and profit may be numbers or numeric strings; a
/// missing revenue is 0, a missing profit `None` (the wire default is 0);
/// a missing count is 1; missing or empty UTM tags get their defaults.
///
/// A transaction without an `id` or a readable `creation_date`, with an
/// unreadable value, or with neither a `client_id` nor all five UTM tags
/// present (non-empty) in the input is listed in [`ParsedFeed::rejected`]
/// and the rest of the feed is kept. A body that is not JSON, or not
/// `{"data":{"transactions":[…]}}`, is an error.
pub fn parse_feed(body: &[u8]) -> Result<ParsedFeed, AlyticsError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let root: Value = serde_json::from_slice(body).map_err(AlyticsError::InvalidJson)?;
    let Value::Object(mut root) = root else {
        return Err(wrong_shape("the body is not a JSON object"));
    };
    let data = match root.remove("data") {
        Some(Value::Object(data)) => data,
        Some(_) => return Err(wrong_shape("`data` is not an object")),
        None => return Err(wrong_shape("no `data` object")),
    };
    let rows = match data.get("transactions") {
        Some(Value::Array(rows)) => rows,
        Some(_) => return Err(wrong_shape("`data.transactions` is not an array")),
        None => return Err(wrong_shape("no `data.transactions` array")),
    };
    let mut feed = ParsedFeed::default();
    for (index, row) in rows.iter().enumerate() {
        match parse_transaction(row) {
            Ok(t) => feed.transactions.push(t),
            Err(reason) => feed.rejected.push((index, reason)),
        }
    }
    Ok(feed)
}

fn wrong_shape(reason: &str) -> AlyticsError {
    AlyticsError::WrongShape(format!(
        "{reason}; expected {{\"data\":{{\"transactions\":[…]}}}}"
    ))
}

fn parse_transaction(row: &Value) -> Result<AlyticsTransaction, String> {
    let Value::Object(obj) = row else {
        return Err("the transaction is not a JSON object".to_owned());
    };
    let id = text(obj, "id")?.ok_or("no `id`")?;
    let id = cut_chars(id, MAX_ID_CHARS);
    let creation_date = match obj.get("creation_date") {
        None | Some(Value::Null) => return Err("no `creation_date`".to_owned()),
        Some(Value::String(s)) => parse_creation_date(s).ok_or_else(|| {
            // Quote a bounded piece: the reason ends up in logs and the UI.
            let shown = cut_chars(s.clone(), 64);
            format!("`creation_date` {shown:?} is not a \"YYYY-MM-DD HH:MM:SS\" date")
        })?,
        Some(_) => return Err("`creation_date` is not a string".to_owned()),
    };
    let client_id = text(obj, "client_id")?;
    let mut tags: [Option<String>; 5] = Default::default();
    for (slot, key) in tags.iter_mut().zip(UTM_KEYS) {
        *slot = text(obj, key)?;
    }
    if client_id.is_none() && tags.iter().any(Option::is_none) {
        return Err("neither `client_id` nor all five utm_* tags".to_owned());
    }
    let [utm_source, utm_medium, utm_campaign, utm_content, utm_term] =
        tags.map(|t| t.unwrap_or_default());
    let with_default = |value: String, key: &str| {
        if value.is_empty() {
            utm_default(key).to_owned()
        } else {
            value
        }
    };
    Ok(AlyticsTransaction {
        id,
        number: text(obj, "number")?,
        revenue: money(obj, "revenue")?.unwrap_or(Money::ZERO),
        profit: money(obj, "profit")?,
        count: count(obj)?.unwrap_or(1),
        client_id,
        href: text(obj, "href")?,
        creation_date,
        client_id_date: text(obj, "client_id_date")?,
        utm_source: with_default(utm_source, "utm_source"),
        utm_medium: with_default(utm_medium, "utm_medium"),
        utm_campaign: with_default(utm_campaign, "utm_campaign"),
        utm_content: with_default(utm_content, "utm_content"),
        utm_term: with_default(utm_term, "utm_term"),
    })
}

/// A text field: a string (trimmed) or a number (its JSON text); missing,
/// null and empty are `None`; anything else rejects the transaction.
fn text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_owned()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("`{key}` is not a string or a number")),
    }
}

/// A money field: a JSON number or a numeric string; missing, null and empty
/// are `None`.
fn money(obj: &Map<String, Value>, key: &str) -> Result<Option<Money>, String> {
    let parsed = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => Money::parse(s),
        Some(Value::Number(n)) => money_from_number(n),
        Some(_) => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| format!("`{key}` is not an amount of money"))
}

/// Integers are exact (up to 15 digits, like [`Money::parse`]); a
/// fractional number goes through its shortest
/// decimal text (`1.005` → `"1.005"` → 1.01) so rounding follows the digits
/// the source wrote, not the binary float.
fn money_from_number(n: &Number) -> Option<Money> {
    if let Some(i) = n.as_i64() {
        // The same bound as `Money::parse`: at most 15 whole digits.
        return (i.unsigned_abs() < 1_000_000_000_000_000).then(|| Money(i * 100));
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    // `Display` for f64 never uses exponent notation, so `Money::parse`
    // reads it; amounts beyond its 15 whole digits are refused there.
    Money::parse(&f.to_string())
}

/// `count`: an integer, an integral float or a numeric string; missing, null
/// and empty are `None`.
fn count(obj: &Map<String, Value>) -> Result<Option<i64>, String> {
    let from_f64 =
        |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64);
    let parsed = match obj.get("count") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().and_then(from_f64))
        }
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().and_then(from_f64)),
        Some(_) => None,
    };
    parsed
        .map(Some)
        .ok_or_else(|| "`count` is not a whole number".to_owned())
}

/// `YYYY-MM-DD HH:MM:SS` (documented), also with a `T` separator or
/// fractional seconds, an RFC 3339 timestamp (converted to Moscow time), or a
/// bare date (midnight). Fractions of a second are dropped.
fn parse_creation_date(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let parsed = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|dt| moscow_local(dt.with_timezone(&Utc)))
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s, DATE_FORMAT)
                .ok()
                .map(|d| d.and_time(NaiveTime::MIN))
        })?;
    parsed.with_nanosecond(0)
}

/// The first `max` characters of `s` (never splitting a character).
fn cut_chars(mut s: String, max: usize) -> String {
    if let Some((byte, _)) = s.char_indices().nth(max) {
        s.truncate(byte);
    }
    s
}

/// The URL of goal `n` of a feed: `n = 0` is the base URL itself (the first
/// goal), `n > 0` is `base + "{n}/"` (the second goal at `<url>1/`, …). The
/// base must end with `/`; one is added when it does not.
pub fn goal_url(base: &str, n: usize) -> String {
    let mut url = base.to_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    if n > 0 {
        url.push_str(&format!("{n}/"));
    }
    url
}

/// A Moscow local time as a UTC instant (Europe/Moscow, UTC+3 since 2014).
/// A local time that never existed (a historical DST gap) is read as UTC+3.
pub fn moscow_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match Moscow.from_local_datetime(&local).earliest() {
        Some(dt) => dt.with_timezone(&Utc),
        None => local
            .checked_sub_signed(TimeDelta::hours(3))
            .unwrap_or(local)
            .and_utc(),
    }
}

/// A UTC instant as Moscow local time, as `creation_date` carries it.
pub fn moscow_local(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&Moscow).naive_local()
}

/// The Moscow date of a UTC instant: "today" for [`pull_dates`], or the
/// `?date=` a served deal belongs to.
pub fn moscow_date(instant: DateTime<Utc>) -> NaiveDate {
    moscow_local(instant).date()
}

/// The Moscow day `[start, end)` of `date` in UTC, for selecting the deals
/// served for `?date=` (2026-03-01 → 2026-02-28T21:00:00Z ..
/// 2026-03-01T21:00:00Z).
pub fn moscow_day_bounds(date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = moscow_to_utc(date.and_time(NaiveTime::MIN));
    let end = match date.succ_opt() {
        Some(next) => moscow_to_utc(next.and_time(NaiveTime::MIN)),
        None => DateTime::<Utc>::MAX_UTC,
    };
    (start, end)
}

/// The dates a daily pull covers on `today` (a Moscow date): yesterday plus
/// re-pulls of the `repull_days` days before it (default
/// [`DEFAULT_REPULL_DAYS`], capped at [`MAX_REPULL_DAYS`]), oldest first.
pub fn pull_dates(today: NaiveDate, repull_days: u32) -> Vec<NaiveDate> {
    let span = u64::from(repull_days.min(MAX_REPULL_DAYS)) + 1;
    (1..=span)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .collect()
}

/// Maps a pulled transaction to a deal update:
///
/// - `external_id` = `alytics:{source_name}:{id}` (so one source name per
///   feed URL: the same id at two goals is two deals unless the caller gives
///   both goals the same source name);
/// - `status` = won: a transaction in a goal's feed is a conversion at that
///   goal (the caller may set `stage` to the goal's stage);
/// - `revenue`, `profit` as read (profit `None` when the feed had none);
/// - `created_at` = `creation_date` read as Moscow time;
/// - `product` = `number` (the order number, the only product-like field);
/// - `ga_cid` = `client_id`: in Alytics feeds the client id is the Google
///   Analytics client id; it is passed raw, the services normalize it.
///
/// `closed_at` is left unset. The UTM tags do not fit a deal: read them with
/// [`traffic_source`].
pub fn to_deal_update(source_name: &str, t: &AlyticsTransaction) -> DealUpdate {
    DealUpdate {
        external_id: format!("alytics:{source_name}:{}", t.id),
        status: Some(DealStatus::Won),
        revenue: Some(t.revenue),
        profit: t.profit,
        created_at: Some(moscow_to_utc(t.creation_date)),
        product: t.number.clone(),
        ga_cid: t.client_id.clone(),
        ..DealUpdate::default()
    }
}

/// The UTM tags of a transaction as a traffic source, normalized like visit
/// tags (trimmed, lowercased): `(direct)` sources are [`SourceKind::Direct`],
/// the rest [`SourceKind::Utm`]; `(not set)` and empty campaign, content and
/// term become `None`.
pub fn traffic_source(t: &AlyticsTransaction) -> TrafficSource {
    let tag = |value: &str, default: &str| {
        let value = value.trim().to_lowercase();
        if value.is_empty() {
            default.to_owned()
        } else {
            value
        }
    };
    let optional = |value: &str| {
        let value = value.trim().to_lowercase();
        (!value.is_empty() && value != NOT_SET).then_some(value)
    };
    let source = tag(&t.utm_source, DIRECT_SOURCE);
    let kind = if source == DIRECT_SOURCE {
        SourceKind::Direct
    } else {
        SourceKind::Utm
    };
    TrafficSource {
        source,
        medium: tag(&t.utm_medium, NONE_MEDIUM),
        campaign: optional(&t.utm_campaign),
        content: optional(&t.utm_content),
        term: optional(&t.utm_term),
        kind,
        ..TrafficSource::default()
    }
}

/// Pulls Alytics-format feeds over HTTP: `GET {url}?date=YYYY-MM-DD` with
/// Basic auth, a total timeout and a body size limit, read with
/// [`parse_feed`].
#[derive(Debug, Clone)]
pub struct AlyticsClient {
    http: reqwest::Client,
    max_body_bytes: usize,
}

impl AlyticsClient {
    /// A client whose requests (connect, send and read the body) must finish
    /// within `timeout`, with a [`DEFAULT_MAX_BODY_BYTES`] body limit.
    pub fn new(timeout: Duration) -> Result<AlyticsClient, AlyticsError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("skvoz/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(AlyticsError::Client)?;
        Ok(AlyticsClient {
            http,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        })
    }

    /// The same client with another body size limit, in bytes.
    pub fn with_max_body_bytes(mut self, max_body_bytes: usize) -> AlyticsClient {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Fetches and parses the feed of `date` (a Moscow date) at `url` (a
    /// goal URL, see [`goal_url`]; an existing query string is kept).
    pub async fn fetch(
        &self,
        url: &str,
        login: &str,
        password: &str,
        date: NaiveDate,
    ) -> Result<ParsedFeed, AlyticsError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| AlyticsError::InvalidUrl(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AlyticsError::InvalidUrl(format!(
                "scheme {:?} is not http or https",
                parsed.scheme()
            )));
        }
        let mut response = self
            .http
            .get(parsed)
            .query(&[("date", date.format(DATE_FORMAT).to_string())])
            .basic_auth(login, Some(password))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if !status.is_success() {
            let snippet = read_snippet(&mut response).await;
            return Err(AlyticsError::Http {
                status: status.as_u16(),
                snippet,
            });
        }
        let body = read_limited(&mut response, self.max_body_bytes).await?;
        parse_feed(&body)
    }
}

fn transport_error(e: reqwest::Error) -> AlyticsError {
    if e.is_timeout() {
        AlyticsError::Timeout
    } else {
        // The URL may carry a token; keep it out of logs.
        AlyticsError::Transport(e.without_url())
    }
}

async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, AlyticsError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(AlyticsError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(AlyticsError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error body, best effort: a failure to read it yields what
/// was read so far.
async fn read_snippet(response: &mut reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_SNIPPET_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    cut_chars(text, ERROR_SNIPPET_CHARS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn num(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn money_numbers_follow_the_written_digits() {
        assert_eq!(money_from_number(&num("1500")), Some(Money(150000)));
        assert_eq!(money_from_number(&num("1500.5")), Some(Money(150050)));
        // 1.005 * 100.0 is 100.49999… in binary; the digits say 1.01.
        assert_eq!(money_from_number(&num("1.005")), Some(Money(101)));
        assert_eq!(money_from_number(&num("-0.015")), Some(Money(-2)));
        assert_eq!(money_from_number(&num("1e20")), None);
        assert_eq!(money_from_number(&num("92233720368547758")), None);
        assert_eq!(money_from_number(&num("1000000000000000")), None);
        assert_eq!(
            money_from_number(&num("999999999999999")),
            Some(Money(99_999_999_999_999_900))
        );
    }

    #[test]
    fn money_round_trips_through_json() {
        for minor in [
            0,
            1,
            5,
            10,
            99,
            150050,
            -150050,
            123_456_789_012,
            99_999_999_999_999,
        ] {
            let m = Money(minor);
            let Value::Number(n) = money_to_json(m) else {
                panic!("{minor} did not become a number");
            };
            assert_eq!(money_from_number(&n), Some(m), "{minor}");
        }
        assert_eq!(money_to_json(Money(150000)).to_string(), "1500");
        assert_eq!(money_to_json(Money(150050)).to_string(), "1500.5");
    }

    #[test]
    fn cut_chars_counts_characters_not_bytes() {
        assert_eq!(cut_chars("абвгд".to_owned(), 3), "абв");
        assert_eq!(cut_chars("abc".to_owned(), 3), "abc");
        assert_eq!(cut_chars(String::new(), 0), "");
    }

    #[test]
    fn creation_date_variants() {
        let expected = NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(12, 30, 5)
            .unwrap();
        for input in [
            "2026-03-01 12:30:05",
            " 2026-03-01 12:30:05 ",
            "2026-03-01T12:30:05",
            "2026-03-01 12:30:05.999",
            "2026-03-01T09:30:05Z",
            "2026-03-01T12:30:05+03:00",
        ] {
            assert_eq!(parse_creation_date(input), Some(expected), "{input}");
        }
        assert_eq!(
            parse_creation_date("2026-03-01"),
            NaiveDate::from_ymd_opt(2026, 3, 1).map(|d| d.and_time(NaiveTime::MIN))
        );
        for bad in [
            "",
            "01.03.2026 12:30:05",
            "2026-02-30 10:00:00",
            "yesterday",
        ] {
            assert_eq!(parse_creation_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn count_accepts_whole_numbers_only() {
        let obj = |v: Value| {
            let mut m = Map::new();
            m.insert("count".into(), v);
            m
        };
        assert_eq!(count(&Map::new()), Ok(None));
        assert_eq!(count(&obj(Value::from(3))), Ok(Some(3)));
        assert_eq!(count(&obj(Value::from(3.0))), Ok(Some(3)));
        assert_eq!(count(&obj(Value::from(" 4 "))), Ok(Some(4)));
        assert_eq!(count(&obj(Value::from(""))), Ok(None));
        assert!(count(&obj(Value::from(2.5))).is_err());
        assert!(count(&obj(Value::from("two"))).is_err());
        assert!(count(&obj(Value::Bool(true))).is_err());
    }

    #[test]
    fn retryable_errors() {
        assert!(AlyticsError::Timeout.is_retryable());
        let http = |status| AlyticsError::Http {
            status,
            snippet: String::new(),
        };
        assert!(http(503).is_retryable());
        assert!(http(429).is_retryable());
        assert!(!http(401).is_retryable());
        assert!(!AlyticsError::WrongShape(String::new()).is_retryable());
    }
}
