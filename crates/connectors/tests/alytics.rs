//! The Alytics universal CRM format: every documented default on fixtures,
//! the serve → pull round trip, goal URLs, Moscow day bounds, pull dates,
//! the deal mapping, and the pull client against a local fake feed server.

#![allow(clippy::unwrap_used)]

use axum::extract::Query;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;
use skvoz_connectors::crm::alytics::{
    feed_json, goal_url, moscow_date, moscow_day_bounds, moscow_local, moscow_to_utc, parse_feed,
    pull_dates, to_deal_update, traffic_source, AlyticsClient, AlyticsError, AlyticsTransaction,
    ParsedFeed, DEFAULT_REPULL_DAYS, MAX_ID_CHARS, MAX_REPULL_DAYS,
};
use skvoz_domain::crm::DealStatus;
use skvoz_domain::traffic::SourceKind;
use skvoz_domain::Money;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const FULL: &[u8] = include_bytes!("../src/crm/fixtures/alytics/full.json");
const DEFAULTS: &[u8] = include_bytes!("../src/crm/fixtures/alytics/defaults.json");
const WRONG_SHAPE: &[u8] = include_bytes!("../src/crm/fixtures/alytics/wrong_shape.json");

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn defaults_feed() -> ParsedFeed {
    parse_feed(DEFAULTS).unwrap()
}

/// The accepted transaction with this id.
fn by_id<'a>(feed: &'a ParsedFeed, id: &str) -> &'a AlyticsTransaction {
    feed.transactions
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no transaction {id}; rejected: {:?}", feed.rejected))
}

fn assert_default_utms(t: &AlyticsTransaction) {
    assert_eq!(t.utm_source, "(direct)");
    assert_eq!(t.utm_medium, "(none)");
    assert_eq!(t.utm_campaign, "(not set)");
    assert_eq!(t.utm_content, "(not set)");
    assert_eq!(t.utm_term, "(not set)");
}

// ---------------------------------------------------------------- parsing

#[test]
fn defaults_fixture_accepts_and_rejects_the_documented_rows() {
    let feed = defaults_feed();
    let ids: Vec<&str> = feed
        .transactions
        .iter()
        .map(|t| t.id.as_str())
        .map(|id| if id.len() > 20 { "<long>" } else { id })
        .collect();
    assert_eq!(
        ids,
        ["12345", "<long>", "A-2", "A-3", "A-7", "A-8", "A-13", "A-14"]
    );
    let rejected: Vec<usize> = feed.rejected.iter().map(|(i, _)| *i).collect();
    assert_eq!(rejected, [4, 5, 6, 9, 10, 11, 12]);
}

#[test]
fn numeric_id_becomes_a_string_and_missing_values_get_defaults() {
    let feed = defaults_feed();
    let t = by_id(&feed, "12345");
    assert_eq!(t.revenue, Money::ZERO, "missing revenue is 0");
    assert_eq!(t.profit, None, "missing profit stays unknown");
    assert_eq!(t.count, 1, "missing count is 1");
    assert_eq!(t.number, None);
    assert_eq!(t.href, None);
    assert_eq!(t.client_id_date, None);
    assert_eq!(t.client_id.as_deref(), Some("1234567890.1700000000"));
    assert_eq!(t.creation_date, at("2026-03-01 10:15:00"));
    assert_default_utms(t);
}

#[test]
fn long_id_is_cut_to_1024_characters() {
    let feed = defaults_feed();
    let t = &feed.transactions[1];
    assert_eq!(t.id.chars().count(), MAX_ID_CHARS);
    assert!(t.id.starts_with("order-яяя"));
    assert!(t.id.ends_with('я'), "cut on a character boundary");
}

#[test]
fn money_and_count_as_strings() {
    let feed = defaults_feed();
    let t = &feed.transactions[1];
    assert_eq!(t.revenue, Money(150050), "\"1500.50\"");
    assert_eq!(t.profit, Some(Money(30000)), "\"300\"");
    assert_eq!(t.count, 2, "\"2\"");
    assert_eq!(t.utm_source, "yandex");
    assert_eq!(t.utm_medium, "cpc");
    assert_eq!(t.utm_campaign, "spring_sale");
    assert_eq!(t.utm_content, "ad-17");
    assert_eq!(t.utm_term, "диван");

    let t = by_id(&feed, "A-2");
    assert_eq!(t.revenue, Money(150050), "\"1 500,5\"");
    assert_eq!(t.profit, Some(Money(25025)), "250.25");
    assert_eq!(t.count, 3);
    assert_eq!(
        t.client_id.as_deref(),
        Some("1637492837123456789"),
        "a numeric client id keeps every digit"
    );
}

#[test]
fn empty_strings_and_nulls_count_as_missing() {
    let feed = defaults_feed();
    for id in ["A-3", "A-13"] {
        let t = by_id(&feed, id);
        assert_eq!(t.number, None, "{id}");
        assert_eq!(t.revenue, Money::ZERO, "{id}");
        assert_eq!(t.profit, None, "{id}");
        assert_eq!(t.count, 1, "{id}");
        assert_eq!(t.href, None, "{id}");
        assert_eq!(t.client_id_date, None, "{id}");
        assert_default_utms(t);
    }
    assert_eq!(
        by_id(&feed, "A-3").client_id.as_deref(),
        Some("GA1-cid"),
        "trimmed"
    );
}

#[test]
fn utm_tags_only_is_enough_and_explicit_not_set_is_kept() {
    let feed = defaults_feed();
    let t = by_id(&feed, "A-7");
    assert_eq!(t.client_id, None);
    assert_eq!(t.revenue, Money(99000));
    assert_eq!(
        [
            &t.utm_source,
            &t.utm_medium,
            &t.utm_campaign,
            &t.utm_content,
            &t.utm_term
        ],
        ["vk", "cpm", "brand", "(not set)", "(not set)"]
    );
}

#[test]
fn creation_date_formats() {
    let feed = defaults_feed();
    assert_eq!(
        by_id(&feed, "A-8").creation_date,
        at("2026-03-01 16:30:45"),
        "a T separator is read too"
    );
    assert_eq!(
        by_id(&feed, "A-14").creation_date,
        at("2026-03-01 23:59:59")
    );
}

#[test]
fn every_optional_field_is_read() {
    let feed = defaults_feed();
    let t = by_id(&feed, "A-14");
    assert_eq!(t.number.as_deref(), Some("1001"), "numeric number → string");
    assert_eq!(t.revenue, Money(250000));
    assert_eq!(t.profit, Some(Money::ZERO), "an explicit 0 profit is kept");
    assert_eq!(t.href.as_deref(), Some("https://crm.example.ru/deals/14"));
    assert_eq!(t.client_id_date.as_deref(), Some("2026-02-27 09:00:00"));
}

#[test]
fn rejections_say_why() {
    let feed = defaults_feed();
    let reason = |index: usize| {
        feed.rejected
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{index} was not rejected"))
    };
    for index in [4, 5, 6] {
        assert!(
            reason(index).contains("neither `client_id` nor all five utm_* tags"),
            "{index}: {}",
            reason(index)
        );
    }
    assert!(reason(9).contains("creation_date"), "{}", reason(9));
    assert!(reason(10).contains("id"), "{}", reason(10));
    assert!(reason(11).contains("not a JSON object"), "{}", reason(11));
    assert!(reason(12).contains("revenue"), "{}", reason(12));
}

#[test]
fn full_fixture() {
    let feed = parse_feed(FULL).unwrap();
    assert!(feed.rejected.is_empty(), "{:?}", feed.rejected);
    assert_eq!(feed.transactions.len(), 3);
    let t = &feed.transactions[0];
    assert_eq!(
        *t,
        AlyticsTransaction {
            id: "10001".into(),
            number: Some("SO-10001".into()),
            revenue: Money(1_599_050),
            profit: Some(Money(420_000)),
            count: 2,
            client_id: Some("1712345678.1709280000".into()),
            href: Some("https://crm.example.ru/orders/10001".into()),
            creation_date: at("2026-03-01 09:12:44"),
            client_id_date: Some("2026-02-25 18:03:10".into()),
            utm_source: "yandex".into(),
            utm_medium: "cpc".into(),
            utm_campaign: "sofas_spring".into(),
            utm_content: "16253847".into(),
            utm_term: "купить диван".into(),
        }
    );
    assert_eq!(feed.transactions[2].revenue, Money(120_099));
    assert_eq!(feed.transactions[2].profit, Some(Money(19_999)));
}

#[test]
fn wrong_shapes_fail_the_whole_feed() {
    let shape = |body: &[u8]| match parse_feed(body) {
        Err(AlyticsError::WrongShape(reason)) => reason,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
    };
    assert!(shape(WRONG_SHAPE).contains("no `data` object"));
    assert!(shape(b"[]").contains("not a JSON object"));
    assert!(shape(br#"{"data":[]}"#).contains("`data` is not an object"));
    assert!(shape(br#"{"data":{}}"#).contains("no `data.transactions` array"));
    assert!(shape(br#"{"data":{"transactions":{}}}"#).contains("not an array"));
    assert!(shape(br#"{"data":{"transactions":null}}"#).contains("not an array"));

    for body in [
        &b""[..],
        b"<html>502 Bad Gateway</html>",
        b"{\"data\":",
        b"\xff\xfe{}",
    ] {
        assert!(
            matches!(parse_feed(body), Err(AlyticsError::InvalidJson(_))),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn empty_feed_and_byte_order_mark() {
    assert_eq!(
        parse_feed(br#"{"data":{"transactions":[]}}"#).unwrap(),
        ParsedFeed::default()
    );
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(FULL);
    assert_eq!(parse_feed(&with_bom).unwrap(), parse_feed(FULL).unwrap());
}

// ---------------------------------------------------------------- serving

#[test]
fn feed_json_is_the_wire_shape() {
    let mut t = AlyticsTransaction::new("D-1", at("2026-03-01 08:05:09"));
    t.revenue = Money(150050);
    t.utm_source = "yandex".into();
    t.utm_medium = String::new(); // unknown → "(none)"
    t.number = Some(String::new()); // empty → left out
    let mut whole = AlyticsTransaction::new(77.to_string(), at("2026-03-01 23:59:59"));
    whole.revenue = Money(200000);
    whole.profit = Some(Money(5));
    whole.count = 4;
    whole.client_id = Some("111.222".into());
    assert_eq!(
        feed_json(&[t, whole]),
        json!({"data": {"transactions": [
            {
                "id": "D-1",
                "revenue": 1500.5,
                "count": 1,
                "creation_date": "2026-03-01 08:05:09",
                "utm_source": "yandex",
                "utm_medium": "(none)",
                "utm_campaign": "(not set)",
                "utm_content": "(not set)",
                "utm_term": "(not set)"
            },
            {
                "id": "77",
                "revenue": 2000,
                "profit": 0.05,
                "count": 4,
                "client_id": "111.222",
                "creation_date": "2026-03-01 23:59:59",
                "utm_source": "(direct)",
                "utm_medium": "(none)",
                "utm_campaign": "(not set)",
                "utm_content": "(not set)",
                "utm_term": "(not set)"
            }
        ]}})
    );
    let text = feed_json(&[]).to_string();
    assert_eq!(text, r#"{"data":{"transactions":[]}}"#);
}

#[test]
fn feed_json_round_trips_through_parse_feed() {
    for fixture in [FULL, DEFAULTS] {
        let parsed = parse_feed(fixture).unwrap();
        let body = serde_json::to_vec(&feed_json(&parsed.transactions)).unwrap();
        let again = parse_feed(&body).unwrap();
        assert!(again.rejected.is_empty(), "{:?}", again.rejected);
        assert_eq!(again.transactions, parsed.transactions);
    }

    // Hand-built transactions, money at awkward amounts.
    let built: Vec<AlyticsTransaction> = [0, 1, 5, 99, 101, 100_000, 123_456_789, -2_550]
        .into_iter()
        .enumerate()
        .map(|(i, minor)| {
            let mut t = AlyticsTransaction::new(format!("T-{i}"), at("2026-03-01 00:00:00"));
            t.revenue = Money(minor);
            t.profit = (i % 2 == 0).then_some(Money(minor / 3));
            t
        })
        .collect();
    let body = serde_json::to_vec(&feed_json(&built)).unwrap();
    assert_eq!(parse_feed(&body).unwrap().transactions, built);
}

#[test]
fn serde_uses_the_wire_shape_and_the_tolerant_rules() {
    let feed = parse_feed(FULL).unwrap();
    let t = &feed.transactions[0];
    let value = serde_json::to_value(t).unwrap();
    assert_eq!(
        value,
        feed_json(std::slice::from_ref(t))["data"]["transactions"][0]
    );
    let back: AlyticsTransaction = serde_json::from_value(value).unwrap();
    assert_eq!(&back, t);

    let tolerant: AlyticsTransaction =
        serde_json::from_str(r#"{"id":5,"client_id":"c","creation_date":"2026-03-01 10:00:00"}"#)
            .unwrap();
    assert_eq!(tolerant.id, "5");
    assert_eq!(tolerant.count, 1);
    let err = serde_json::from_str::<AlyticsTransaction>(
        r#"{"id":5,"creation_date":"2026-03-01 10:00:00"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("client_id"), "{err}");
}

#[test]
fn goal_urls() {
    let base = "https://crm.example.ru/alytics/";
    assert_eq!(goal_url(base, 0), "https://crm.example.ru/alytics/");
    assert_eq!(goal_url(base, 1), "https://crm.example.ru/alytics/1/");
    assert_eq!(goal_url(base, 2), "https://crm.example.ru/alytics/2/");
    assert_eq!(goal_url(base, 12), "https://crm.example.ru/alytics/12/");
    assert_eq!(
        goal_url("https://crm.example.ru/alytics", 1),
        "https://crm.example.ru/alytics/1/",
        "a missing trailing slash is added"
    );
}

#[test]
fn moscow_day_is_utc_plus_three() {
    assert_eq!(
        moscow_day_bounds(date(2026, 3, 1)),
        (utc("2026-02-28T21:00:00Z"), utc("2026-03-01T21:00:00Z"))
    );
    assert_eq!(
        moscow_day_bounds(date(2025, 12, 31)),
        (utc("2025-12-30T21:00:00Z"), utc("2025-12-31T21:00:00Z"))
    );
    // Before 2011 Moscow kept summer time (UTC+4 in July 2010).
    assert_eq!(
        moscow_day_bounds(date(2010, 7, 1)).0,
        utc("2010-06-30T20:00:00Z")
    );

    assert_eq!(
        moscow_to_utc(at("2026-03-01 02:30:00")),
        utc("2026-02-28T23:30:00Z")
    );
    assert_eq!(
        moscow_local(utc("2026-02-28T23:30:00Z")),
        at("2026-03-01 02:30:00")
    );
    assert_eq!(moscow_date(utc("2026-02-28T20:59:59Z")), date(2026, 2, 28));
    assert_eq!(moscow_date(utc("2026-02-28T21:00:00Z")), date(2026, 3, 1));
}

#[test]
fn pull_dates_are_yesterday_and_the_days_before_oldest_first() {
    let today = date(2026, 3, 2);
    assert_eq!(
        pull_dates(today, DEFAULT_REPULL_DAYS),
        [
            date(2026, 2, 22),
            date(2026, 2, 23),
            date(2026, 2, 24),
            date(2026, 2, 25),
            date(2026, 2, 26),
            date(2026, 2, 27),
            date(2026, 2, 28),
            date(2026, 3, 1),
        ]
    );
    assert_eq!(pull_dates(today, 0), [date(2026, 3, 1)]);
    assert_eq!(
        pull_dates(date(2026, 1, 1), 1),
        [date(2025, 12, 30), date(2025, 12, 31)]
    );
    assert_eq!(
        pull_dates(today, u32::MAX).len(),
        MAX_REPULL_DAYS as usize + 1
    );
}

// ---------------------------------------------------------------- mapping

#[test]
fn transaction_becomes_a_won_deal() {
    let feed = parse_feed(FULL).unwrap();
    let deal = to_deal_update("shop", &feed.transactions[0]);
    assert_eq!(deal.external_id, "alytics:shop:10001");
    assert_eq!(deal.status, Some(DealStatus::Won));
    assert_eq!(deal.revenue, Some(Money(1_599_050)));
    assert_eq!(deal.profit, Some(Money(420_000)));
    assert_eq!(deal.created_at, Some(utc("2026-03-01T06:12:44Z")));
    assert_eq!(deal.product.as_deref(), Some("SO-10001"));
    assert_eq!(deal.ga_cid.as_deref(), Some("1712345678.1709280000"));
    assert_eq!(deal.closed_at, None);
    assert_eq!(deal.stage, None);
    assert_eq!(deal.crm_client_id, None);

    let no_profit = to_deal_update("shop", &feed.transactions[1]);
    assert_eq!(no_profit.profit, None);
    let no_cid = to_deal_update("shop", &feed.transactions[2]);
    assert_eq!(no_cid.ga_cid, None);
    assert_eq!(no_cid.product, None);
}

#[test]
fn utm_tags_become_a_traffic_source() {
    let feed = parse_feed(FULL).unwrap();
    let paid = traffic_source(&feed.transactions[0]);
    assert_eq!(paid.kind, SourceKind::Utm);
    assert_eq!(
        (paid.source.as_str(), paid.medium.as_str()),
        ("yandex", "cpc")
    );
    assert_eq!(paid.campaign.as_deref(), Some("sofas_spring"));
    assert_eq!(paid.content.as_deref(), Some("16253847"));
    assert_eq!(paid.term.as_deref(), Some("купить диван"));

    let direct = traffic_source(&feed.transactions[1]);
    assert_eq!(direct.kind, SourceKind::Direct);
    assert!(direct.is_direct());
    assert_eq!(direct.medium, "(none)");
    assert_eq!(
        (direct.campaign, direct.content, direct.term),
        (None, None, None)
    );

    let mut shouting = AlyticsTransaction::new("x", at("2026-03-01 00:00:00"));
    shouting.utm_source = " Google ".into();
    shouting.utm_medium = "CPC".into();
    let s = traffic_source(&shouting);
    assert_eq!((s.source.as_str(), s.medium.as_str()), ("google", "cpc"));
    assert!(s.is_paid());
}

// ---------------------------------------------------------------- pulling

const LOGIN: &str = "skvoz";
const PASSWORD: &str = "p@ss:word";
const DAY: &str = "2026-03-01";

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{LOGIN}:{PASSWORD}"))
    );
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == expected.as_bytes())
}

fn json_body(body: &'static [u8]) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A feed that checks Basic auth (401 otherwise) and the `date` parameter
/// (400 unless `YYYY-MM-DD`): `body` for [`DAY`], an empty feed for any other
/// day.
fn feed_route(body: &'static [u8]) -> axum::routing::MethodRouter {
    get(
        move |headers: HeaderMap, Query(query): Query<HashMap<String, String>>| async move {
            if !authorized(&headers) {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Basic realm=\"feed\"")],
                    "unauthorized",
                )
                    .into_response();
            }
            let Some(day) = query.get("date") else {
                return (StatusCode::BAD_REQUEST, "no date").into_response();
            };
            if NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
                return (StatusCode::BAD_REQUEST, "bad date").into_response();
            }
            if day == DAY {
                json_body(body)
            } else {
                json_body(br#"{"data":{"transactions":[]}}"#)
            }
        },
    )
}

async fn fake_feed_server() -> SocketAddr {
    let big: &'static [u8] = Box::leak(
        feed_json(
            &(0..2000)
                .map(|i| AlyticsTransaction::new(format!("big-{i}"), at("2026-03-01 12:00:00")))
                .collect::<Vec<_>>(),
        )
        .to_string()
        .into_bytes()
        .into_boxed_slice(),
    );
    let router = Router::new()
        .route("/feed/", feed_route(FULL))
        .route("/feed/1/", feed_route(DEFAULTS))
        .route(
            "/private/",
            get(
                |Query(query): Query<HashMap<String, String>>, headers: HeaderMap| async move {
                    if query.get("token").map(String::as_str) != Some("abc") {
                        return (StatusCode::FORBIDDEN, "bad token").into_response();
                    }
                    if !authorized(&headers) || query.get("date").map(String::as_str) != Some(DAY) {
                        return (StatusCode::BAD_REQUEST, "no auth or date").into_response();
                    }
                    json_body(FULL)
                },
            ),
        )
        .route("/shape/", feed_route(WRONG_SHAPE))
        .route(
            "/html/",
            feed_route(b"<html><body>Maintenance</body></html>"),
        )
        .route("/big/", feed_route(big))
        .route(
            "/broken/",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error:\n   database is locked",
                )
            }),
        )
        .route(
            "/slow/",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                json_body(FULL)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn client() -> AlyticsClient {
    AlyticsClient::new(Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn fetches_a_day_with_basic_auth() {
    let addr = fake_feed_server().await;
    let base = format!("http://{addr}/feed/");
    let feed = client()
        .fetch(&base, LOGIN, PASSWORD, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(feed, parse_feed(FULL).unwrap());

    // The date parameter is the requested day: another day is empty.
    let other = client()
        .fetch(&base, LOGIN, PASSWORD, date(2026, 2, 28))
        .await
        .unwrap();
    assert_eq!(other, ParsedFeed::default());
}

#[tokio::test]
async fn fetches_the_second_goal_and_keeps_rejections() {
    let addr = fake_feed_server().await;
    let url = goal_url(&format!("http://{addr}/feed/"), 1);
    let feed = client()
        .fetch(&url, LOGIN, PASSWORD, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(feed, parse_feed(DEFAULTS).unwrap());
    assert_eq!(feed.rejected.len(), 7);
}

#[tokio::test]
async fn keeps_an_existing_query_string() {
    let addr = fake_feed_server().await;
    let feed = client()
        .fetch(
            &format!("http://{addr}/private/?token=abc"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap();
    assert_eq!(feed.transactions.len(), 3);

    let err = client()
        .fetch(
            &format!("http://{addr}/private/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AlyticsError::Http { status: 403, .. }),
        "{err:?}"
    );
}

/// A raw HTTP/1.1 server answering every request with a chunked body (no
/// `Content-Length`) of `chunks` chunks of `chunk_size` bytes, so the
/// streaming size check is what stops it.
async fn chunked_server(chunks: usize, chunk_size: usize) -> SocketAddr {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                            Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{chunk_size:x}\r\n{}\r\n", " ".repeat(chunk_size));
                for _ in 0..chunks {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_refused() {
    let addr = chunked_server(64, 4096).await;
    let err = client()
        .with_max_body_bytes(100_000)
        .fetch(
            &format!("http://{addr}/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, AlyticsError::TooLarge { limit: 100_000 }),
        "{err:?}"
    );
    // Under the limit the same stream is read to the end (and is not JSON).
    let err = client()
        .with_max_body_bytes(300_000)
        .fetch(
            &format!("http://{addr}/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AlyticsError::InvalidJson(_)), "{err:?}");
}

#[tokio::test]
async fn wrong_credentials_are_http_401() {
    let addr = fake_feed_server().await;
    let err = client()
        .fetch(
            &format!("http://{addr}/feed/"),
            LOGIN,
            "wrong",
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    match &err {
        AlyticsError::Http { status, snippet } => {
            assert_eq!(*status, 401);
            assert_eq!(snippet, "unauthorized");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn server_error_is_http_500_with_a_snippet() {
    let addr = fake_feed_server().await;
    let err = client()
        .fetch(
            &format!("http://{addr}/broken/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    match &err {
        AlyticsError::Http { status, snippet } => {
            assert_eq!(*status, 500);
            assert_eq!(snippet, "Internal error: database is locked");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert!(err.to_string().contains("HTTP 500"), "{err}");
}

#[tokio::test]
async fn wrong_shape_and_non_json_bodies() {
    let addr = fake_feed_server().await;
    let err = client()
        .fetch(
            &format!("http://{addr}/shape/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AlyticsError::WrongShape(_)), "{err:?}");

    let err = client()
        .fetch(
            &format!("http://{addr}/html/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AlyticsError::InvalidJson(_)), "{err:?}");
}

#[tokio::test]
async fn slow_source_times_out() {
    let addr = fake_feed_server().await;
    let client = AlyticsClient::new(Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let err = client
        .fetch(
            &format!("http://{addr}/slow/"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AlyticsError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let addr = fake_feed_server().await;
    let url = format!("http://{addr}/big/");
    let err = client()
        .with_max_body_bytes(64 * 1024)
        .fetch(&url, LOGIN, PASSWORD, date(2026, 3, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AlyticsError::TooLarge { limit: 65536 }),
        "{err:?}"
    );
    // The default limit takes it.
    let feed = client()
        .fetch(&url, LOGIN, PASSWORD, date(2026, 3, 1))
        .await
        .unwrap();
    assert_eq!(feed.transactions.len(), 2000);
}

#[tokio::test]
async fn bad_urls_and_unreachable_hosts() {
    for url in ["not a url", "/feed/", "ftp://example.ru/feed/"] {
        let err = client()
            .fetch(url, LOGIN, PASSWORD, date(2026, 3, 1))
            .await
            .unwrap_err();
        assert!(matches!(err, AlyticsError::InvalidUrl(_)), "{url}: {err:?}");
    }

    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = client()
        .fetch(
            &format!("http://{addr}/feed/?token=secret"),
            LOGIN,
            PASSWORD,
            date(2026, 3, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AlyticsError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(
        !format!("{err} {err:?}").contains("secret"),
        "the URL's token stays out of the error: {err:?}"
    );
}
