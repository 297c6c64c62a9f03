//! The traffic model: a deterministic stream of realistic `/collect` hits.
//!
//! A pool of visitors (ids `v` + 16 hex digits, screens, languages, browser
//! user agents, some with a GA and a Yandex Metrika client id) runs sessions
//! on a fake shop `https://shop.example.ru`. The landing hit of a session
//! carries its traffic source (see [`Source`] for the mix); later hits are
//! internal page views whose referrer is the previous page. Many sessions are
//! open at once and their hits interleave, as on a real site. Everything is
//! derived from one seed, so the stream is reproducible.

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The origin of the fake site all hits are page views of.
pub const SITE: &str = "https://shop.example.ru";

/// How many sessions are open at once; their hits interleave.
const OPEN_SESSIONS: usize = 512;

/// The traffic source of a session, decided on its landing hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// No referrer, no tags.
    Direct,
    /// Referrer `https://yandex.ru/search/?text=…`.
    YandexOrganic,
    /// Referrer `https://www.google.com/` (or `.ru`).
    GoogleOrganic,
    /// Paid search: UTM tags (`utm_medium=cpc`), `yclid` or `gclid`.
    Paid,
    /// Referrer from a social network or messenger (vk.com, t.me).
    Social,
    /// Referrer from another site.
    Referral,
    /// A newsletter link (`utm_medium=email`).
    Email,
    /// Anything else: other search engines, affiliate tags.
    Other,
}

impl Source {
    /// Every source with its share of sessions, in percent (sums to 100).
    pub const MIX: [(Source, u32); 8] = [
        (Source::Direct, 35),
        (Source::YandexOrganic, 20),
        (Source::GoogleOrganic, 10),
        (Source::Paid, 12),
        (Source::Social, 8),
        (Source::Referral, 5),
        (Source::Email, 5),
        (Source::Other, 5),
    ];

    fn pick(rng: &mut StdRng) -> Source {
        let mut r = rng.gen_range(0..100u32);
        for (source, share) in Self::MIX {
            if r < share {
                return source;
            }
            r -= share;
        }
        Source::Other
    }
}

/// One browser: its `User-Agent` and whether it is a phone.
struct Browser {
    ua: &'static str,
    mobile: bool,
    weight: u32,
}

const BROWSERS: &[Browser] = &[
    Browser {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
        mobile: false,
        weight: 25,
    },
    Browser {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        mobile: false,
        weight: 12,
    },
    Browser {
        ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        mobile: false,
        weight: 5,
    },
    Browser {
        ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        mobile: false,
        weight: 5,
    },
    Browser {
        ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
        mobile: true,
        weight: 28,
    },
    Browser {
        ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        mobile: true,
        weight: 18,
    },
    Browser {
        ua: "Mozilla/5.0 (Linux; arm_64; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.1.5.96.00 SA/3 Mobile Safari/537.36",
        mobile: true,
        weight: 7,
    },
];

const DESKTOP_SCREENS: &[&str] = &["1920x1080", "1366x768", "1536x864", "2560x1440", "1440x900"];
const MOBILE_SCREENS: &[&str] = &["390x844", "412x915", "360x800", "393x873", "414x896"];

/// What kind of page a path is; landing pages are picked by kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Home,
    Category,
    Product,
    Info,
    Blog,
    Cart,
}

struct Page {
    path: &'static str,
    title: &'static str,
    kind: Kind,
}

macro_rules! page {
    ($path:literal, $title:literal, $kind:ident) => {
        Page {
            path: $path,
            title: $title,
            kind: Kind::$kind,
        }
    };
}

const PAGES: &[Page] = &[
    page!("/", "Shop Example — интернет-магазин электроники", Home),
    page!("/catalog/", "Каталог — Shop Example", Category),
    page!(
        "/catalog/smartphones/",
        "Смартфоны — купить в Shop Example",
        Category
    ),
    page!(
        "/catalog/laptops/",
        "Ноутбуки — купить в Shop Example",
        Category
    ),
    page!(
        "/catalog/tv/",
        "Телевизоры — купить в Shop Example",
        Category
    ),
    page!(
        "/catalog/headphones/",
        "Наушники — купить в Shop Example",
        Category
    ),
    page!(
        "/catalog/vacuum-cleaners/",
        "Пылесосы — Shop Example",
        Category
    ),
    page!(
        "/catalog/smart-watches/",
        "Умные часы — Shop Example",
        Category
    ),
    page!("/catalog/sale/", "Распродажа — Shop Example", Category),
    page!(
        "/product/smartphone-nova-12-128gb/",
        "Смартфон Nova 12 128 ГБ — Shop Example",
        Product
    ),
    page!(
        "/product/smartphone-orbit-s5-256gb/",
        "Смартфон Orbit S5 256 ГБ — Shop Example",
        Product
    ),
    page!(
        "/product/laptop-vector-15-i5/",
        "Ноутбук Vector 15 i5 — Shop Example",
        Product
    ),
    page!(
        "/product/laptop-gamer-x17-rtx/",
        "Игровой ноутбук Gamer X17 — Shop Example",
        Product
    ),
    page!(
        "/product/tv-vision-55-4k/",
        "Телевизор Vision 55\" 4K — Shop Example",
        Product
    ),
    page!(
        "/product/tv-vision-65-oled/",
        "Телевизор Vision 65\" OLED — Shop Example",
        Product
    ),
    page!(
        "/product/headphones-silence-pro/",
        "Наушники Silence Pro — Shop Example",
        Product
    ),
    page!(
        "/product/earbuds-air-3/",
        "Беспроводные наушники Air 3 — Shop Example",
        Product
    ),
    page!(
        "/product/robot-vacuum-clean-r7/",
        "Робот-пылесос Clean R7 — Shop Example",
        Product
    ),
    page!(
        "/product/watch-pulse-2/",
        "Умные часы Pulse 2 — Shop Example",
        Product
    ),
    page!("/cart/", "Корзина — Shop Example", Cart),
    page!("/checkout/", "Оформление заказа — Shop Example", Cart),
    page!("/checkout/success/", "Заказ оформлен — Shop Example", Cart),
    page!("/delivery/", "Доставка и оплата — Shop Example", Info),
    page!("/contacts/", "Контакты — Shop Example", Info),
    page!("/about/", "О магазине — Shop Example", Info),
    page!("/warranty/", "Гарантия и возврат — Shop Example", Info),
    page!("/credit/", "Покупка в кредит — Shop Example", Info),
    page!(
        "/promo/black-friday/",
        "Чёрная пятница — Shop Example",
        Category
    ),
    page!("/blog/", "Блог — Shop Example", Blog),
    page!(
        "/blog/how-to-choose-a-tv/",
        "Как выбрать телевизор — блог Shop Example",
        Blog
    ),
    page!(
        "/blog/best-smartphones-2024/",
        "Лучшие смартфоны 2024 года — блог Shop Example",
        Blog
    ),
    page!(
        "/blog/robot-vacuum-review/",
        "Обзор роботов-пылесосов — блог Shop Example",
        Blog
    ),
];

const QUERIES: &[&str] = &[
    "купить смартфон",
    "ноутбук недорого",
    "игровой ноутбук купить",
    "телевизор 55 дюймов",
    "робот пылесос купить",
    "наушники беспроводные",
    "shop example отзывы",
    "shop example",
    "умные часы цена",
    "доставка техники москва",
    "телевизор oled 65",
    "смартфон в кредит",
];

const CAMPAIGNS: &[&str] = &[
    "brand_search",
    "smartphones_search",
    "laptops_search",
    "tv_rsya",
    "retargeting_all",
    "black_friday_2024",
];

const SOCIAL_REFERRERS: &[&str] = &[
    "https://vk.com/",
    "https://vk.com/shop_example",
    "https://m.vk.com/",
    "https://away.vk.com/",
    "https://t.me/",
    "https://t.me/shop_example_news",
];

const REFERRAL_REFERRERS: &[&str] = &[
    "https://habr.com/ru/articles/765432/",
    "https://otzovik.com/reviews/shop_example_ru/",
    "https://irecommend.ru/content/internet-magazin-shop-example",
    "https://www.ixbt.com/news/2024/03/12/",
    "https://www.3dnews.ru/1101234/",
    "https://techblog.example.com/best-deals/",
];

/// One request worth of traffic: the JSON body and the browser it came from.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The `/collect` JSON body.
    pub body: Bytes,
    /// The `User-Agent` header the browser sends.
    pub user_agent: &'static str,
}

/// One generated session: its source and its hits in order.
#[derive(Debug, Clone)]
pub struct Session {
    /// The traffic source of the landing hit.
    pub source: Source,
    /// The hits, landing first.
    pub hits: Vec<Hit>,
}

/// One visitor of the pool.
struct Visitor {
    vid: String,
    browser: usize,
    screen: &'static str,
    lang: &'static str,
    ga_cid: Option<String>,
    ym_uid: Option<String>,
}

/// The `/collect` body (API.md, Tracking).
#[derive(Serialize)]
struct Body<'a> {
    key: &'a str,
    vid: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    referrer: Option<&'a str>,
    title: &'a str,
    screen: &'a str,
    lang: &'a str,
    tz: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ga_cid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ym_uid: Option<&'a str>,
}

/// The deterministic hit generator (see the module docs).
pub struct TrafficModel {
    rng: StdRng,
    key: String,
    visitors: Vec<Visitor>,
    /// Open sessions: the hits each has left to send, next one last.
    open: Vec<Vec<Hit>>,
}

impl TrafficModel {
    /// A model for project `key` with `visitors` visitors (at least one),
    /// fully determined by `seed`.
    pub fn new(key: &str, visitors: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let visitors = (0..visitors.max(1))
            .map(|_| Visitor::generate(&mut rng))
            .collect();
        Self {
            rng,
            key: key.to_owned(),
            visitors,
            open: Vec::new(),
        }
    }

    /// The next hit of the interleaved stream.
    pub fn next_hit(&mut self) -> anyhow::Result<Hit> {
        let slots = OPEN_SESSIONS.min(self.visitors.len());
        if self.open.len() < slots {
            self.open.resize_with(slots, Vec::new);
        }
        let slot = self.rng.gen_range(0..slots);
        if self.open[slot].is_empty() {
            let mut hits = self.session()?.hits;
            hits.reverse();
            self.open[slot] = hits;
        }
        self.open[slot]
            .pop()
            .ok_or_else(|| anyhow::anyhow!("generated an empty session"))
    }

    /// `n` hits of the stream, for a pre-built request pool.
    pub fn pool(&mut self, n: usize) -> anyhow::Result<Vec<Hit>> {
        (0..n.max(1)).map(|_| self.next_hit()).collect()
    }

    /// A new session of a random visitor.
    pub fn session(&mut self) -> anyhow::Result<Session> {
        let rng = &mut self.rng;
        let visitor = &self.visitors[rng.gen_range(0..self.visitors.len())];
        let source = Source::pick(rng);
        let len = session_length(rng);

        let landing = landing_page(rng, source);
        let (query, referrer) = source_tags(rng, source);
        let mut url = format!("{SITE}{}{query}", PAGES[landing].path);
        let mut referrer = referrer;
        let mut page = landing;
        let mut hits = Vec::with_capacity(len);
        for i in 0..len {
            if i > 0 {
                page = next_page(rng, page);
                let next_url = format!("{SITE}{}", PAGES[page].path);
                referrer = Some(std::mem::replace(&mut url, next_url));
            }
            let body = Body {
                key: &self.key,
                vid: &visitor.vid,
                url: &url,
                referrer: referrer.as_deref(),
                title: PAGES[page].title,
                screen: visitor.screen,
                lang: visitor.lang,
                tz: "Europe/Moscow",
                ga_cid: visitor.ga_cid.as_deref(),
                ym_uid: visitor.ym_uid.as_deref(),
            };
            hits.push(Hit {
                body: Bytes::from(serde_json::to_vec(&body)?),
                user_agent: BROWSERS[visitor.browser].ua,
            });
        }
        Ok(Session { source, hits })
    }
}

impl Visitor {
    fn generate(rng: &mut StdRng) -> Self {
        let vid = format!("v{:016x}", rng.gen::<u64>());
        let total: u32 = BROWSERS.iter().map(|b| b.weight).sum();
        let mut r = rng.gen_range(0..total);
        let mut browser = 0;
        for (i, b) in BROWSERS.iter().enumerate() {
            if r < b.weight {
                browser = i;
                break;
            }
            r -= b.weight;
        }
        let screens = if BROWSERS[browser].mobile {
            MOBILE_SCREENS
        } else {
            DESKTOP_SCREENS
        };
        let screen = screens[rng.gen_range(0..screens.len())];
        let lang = if rng.gen_bool(0.85) { "ru-RU" } else { "en-US" };
        // `_ga` is "GA1.1.<random>.<first visit ts>"; the tracker sends the
        // client id part.
        let ga_cid = rng.gen_bool(0.6).then(|| {
            format!(
                "{}.{}",
                rng.gen_range(100_000_000..2_147_483_647u32),
                rng.gen_range(1_690_000_000..1_720_000_000u32)
            )
        });
        let ym_uid = rng.gen_bool(0.45).then(|| {
            format!(
                "{}{:09}",
                rng.gen_range(1_690_000_000..1_720_000_000u32),
                rng.gen_range(0..1_000_000_000u32)
            )
        });
        Self {
            vid,
            browser,
            screen,
            lang,
            ga_cid,
            ym_uid,
        }
    }
}

/// Pages per session: ~40% bounce, a long thin tail up to 12.
fn session_length(rng: &mut StdRng) -> usize {
    const WEIGHTS: [(usize, u32); 8] = [
        (1, 40),
        (2, 18),
        (3, 14),
        (4, 10),
        (5, 7),
        (6, 5),
        (8, 4),
        (12, 2),
    ];
    let mut r = rng.gen_range(0..100u32);
    for (len, w) in WEIGHTS {
        if r < w {
            return len;
        }
        r -= w;
    }
    1
}

fn random_of_kind(rng: &mut StdRng, kinds: &[Kind]) -> usize {
    let candidates: Vec<usize> = PAGES
        .iter()
        .enumerate()
        .filter(|(_, p)| kinds.contains(&p.kind))
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        0
    } else {
        candidates[rng.gen_range(0..candidates.len())]
    }
}

fn landing_page(rng: &mut StdRng, source: Source) -> usize {
    use Kind::*;
    let kinds: &[Kind] = match source {
        Source::Direct if rng.gen_bool(0.5) => &[Home],
        Source::Direct => &[Home, Category, Product, Info, Cart],
        Source::YandexOrganic | Source::GoogleOrganic | Source::Other => {
            &[Home, Category, Product, Blog]
        }
        Source::Paid => &[Category, Product],
        Source::Social | Source::Referral => &[Product, Blog, Category],
        Source::Email => &[Category, Product],
    };
    random_of_kind(rng, kinds)
}

fn next_page(rng: &mut StdRng, current: usize) -> usize {
    use Kind::*;
    let kinds: &[Kind] = match PAGES[current].kind {
        Product if rng.gen_bool(0.3) => &[Cart],
        Cart if rng.gen_bool(0.4) => &[Cart],
        Home | Blog => &[Category, Product],
        _ => &[Home, Category, Product, Product, Info],
    };
    let mut next = random_of_kind(rng, kinds);
    if next == current {
        next = random_of_kind(rng, &[Category, Product]);
    }
    next
}

/// The landing URL's query string and the landing referrer for `source`.
fn source_tags(rng: &mut StdRng, source: Source) -> (String, Option<String>) {
    let query = QUERIES[rng.gen_range(0..QUERIES.len())];
    let campaign = CAMPAIGNS[rng.gen_range(0..CAMPAIGNS.len())];
    match source {
        Source::Direct => (String::new(), None),
        Source::YandexOrganic => (
            String::new(),
            Some(format!(
                "https://yandex.ru/search/?text={}&lr=213",
                encode(query)
            )),
        ),
        Source::GoogleOrganic => {
            let host = if rng.gen_bool(0.7) {
                "www.google.com"
            } else {
                "www.google.ru"
            };
            (String::new(), Some(format!("https://{host}/")))
        }
        Source::Paid => {
            let utm = |source: &str, rng: &mut StdRng| {
                format!(
                    "utm_source={source}&utm_medium=cpc&utm_campaign={campaign}&utm_content=ad{}&utm_term={}",
                    rng.gen_range(10_000..99_999u32),
                    encode(query)
                )
            };
            let r = rng.gen_range(0..100u32);
            let q = if r < 40 {
                utm("yandex", rng)
            } else if r < 55 {
                let tags = utm("yandex", rng);
                format!("{tags}&yclid={}", yclid(rng))
            } else if r < 70 {
                let tags = utm("google", rng);
                format!("{tags}&gclid={}", gclid(rng))
            } else if r < 85 {
                format!("yclid={}", yclid(rng))
            } else {
                format!("gclid={}", gclid(rng))
            };
            // Ads open from a search results page or an ad network page.
            let referrer = if q.contains("google") || q.starts_with("gclid") {
                "https://www.google.com/"
            } else {
                "https://yandex.ru/"
            };
            (format!("?{q}"), Some(referrer.to_owned()))
        }
        Source::Social => (
            String::new(),
            Some(SOCIAL_REFERRERS[rng.gen_range(0..SOCIAL_REFERRERS.len())].to_owned()),
        ),
        Source::Referral => (
            String::new(),
            Some(REFERRAL_REFERRERS[rng.gen_range(0..REFERRAL_REFERRERS.len())].to_owned()),
        ),
        Source::Email => {
            let list = if rng.gen_bool(0.5) {
                "newsletter"
            } else {
                "unisender"
            };
            (
                format!(
                    "?utm_source={list}&utm_medium=email&utm_campaign=weekly_{:02}&utm_content=button",
                    rng.gen_range(1..53u32)
                ),
                None,
            )
        }
        Source::Other => match rng.gen_range(0..4u32) {
            0 => (
                String::new(),
                Some(format!("https://www.bing.com/search?q={}", encode(query))),
            ),
            1 => (
                String::new(),
                Some(format!("https://go.mail.ru/search?q={}", encode(query))),
            ),
            2 => (String::new(), Some("https://duckduckgo.com/".to_owned())),
            _ => (
                format!("?utm_source=admitad&utm_medium=affiliate&utm_campaign={campaign}"),
                Some("https://cashback.example.net/shops/shop-example".to_owned()),
            ),
        },
    }
}

fn yclid(rng: &mut StdRng) -> String {
    format!(
        "{}",
        rng.gen_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
    )
}

fn gclid(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let tail: String = (0..60)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("Cj0KCQiA{tail}")
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn parse(hit: &Hit) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&hit.body)?)
    }

    fn field<'a>(v: &'a Value, name: &str) -> &'a str {
        v.get(name).and_then(Value::as_str).unwrap_or("")
    }

    /// What a report would call the landing hit, from the body alone.
    fn classify(v: &Value) -> Source {
        let url = field(v, "url");
        let referrer = field(v, "referrer");
        if url.contains("utm_medium=cpc") || url.contains("yclid=") || url.contains("gclid=") {
            Source::Paid
        } else if url.contains("utm_medium=email") {
            Source::Email
        } else if url.contains("utm_") {
            Source::Other
        } else if referrer.is_empty() {
            Source::Direct
        } else if referrer.starts_with("https://yandex.ru/search/?text=") {
            Source::YandexOrganic
        } else if referrer.starts_with("https://www.google.") {
            Source::GoogleOrganic
        } else if referrer.contains("vk.com/") || referrer.starts_with("https://t.me/") {
            Source::Social
        } else if REFERRAL_REFERRERS.contains(&referrer) {
            Source::Referral
        } else {
            Source::Other
        }
    }

    #[test]
    fn mix_holds_over_10k_sessions() -> anyhow::Result<()> {
        let mut model = TrafficModel::new("pk_test", 100_000, 7);
        let n = 10_000;
        let mut counts: BTreeMap<Source, u32> = BTreeMap::new();
        for _ in 0..n {
            let session = model.session()?;
            let landing = parse(&session.hits[0])?;
            assert_eq!(classify(&landing), session.source, "{landing}");
            *counts.entry(session.source).or_default() += 1;
        }
        for (source, share) in Source::MIX {
            let got = f64::from(counts.get(&source).copied().unwrap_or(0)) * 100.0 / f64::from(n);
            assert!(
                (got - f64::from(share)).abs() < 2.0,
                "{source:?}: {got:.1}% instead of ~{share}%"
            );
        }
        Ok(())
    }

    #[test]
    fn later_hits_are_internal() -> anyhow::Result<()> {
        let mut model = TrafficModel::new("pk_test", 1_000, 3);
        for _ in 0..2_000 {
            let session = model.session()?;
            let bodies = session
                .hits
                .iter()
                .map(parse)
                .collect::<anyhow::Result<Vec<_>>>()?;
            for pair in bodies.windows(2) {
                assert_eq!(field(&pair[1], "referrer"), field(&pair[0], "url"));
                assert!(field(&pair[1], "url").starts_with(SITE));
                assert!(!field(&pair[1], "url").contains('?'));
                assert_eq!(field(&pair[1], "vid"), field(&pair[0], "vid"));
            }
            for b in &bodies {
                assert_eq!(field(b, "key"), "pk_test");
                assert_eq!(field(b, "tz"), "Europe/Moscow");
                let vid = field(b, "vid");
                assert!(vid.len() == 17 && vid.starts_with('v'), "{vid}");
                assert!(!field(b, "title").is_empty());
            }
        }
        Ok(())
    }

    #[test]
    fn deterministic_for_a_seed() -> anyhow::Result<()> {
        let a = TrafficModel::new("k", 500, 42).pool(2_000)?;
        let b = TrafficModel::new("k", 500, 42).pool(2_000)?;
        let c = TrafficModel::new("k", 500, 43).pool(2_000)?;
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.body == y.body && x.user_agent == y.user_agent));
        assert!(a.iter().zip(&c).any(|(x, y)| x.body != y.body));
        Ok(())
    }

    #[test]
    fn visitor_ids_and_client_ids() -> anyhow::Result<()> {
        let hits = TrafficModel::new("k", 2_000, 1).pool(5_000)?;
        let mut with_ga = 0;
        for hit in &hits {
            let v = parse(hit)?;
            let vid = field(&v, "vid");
            assert!(vid[1..].chars().all(|c| c.is_ascii_hexdigit()));
            if let Some(ga) = v.get("ga_cid").and_then(Value::as_str) {
                with_ga += 1;
                let parts: Vec<&str> = ga.split('.').collect();
                assert_eq!(parts.len(), 2, "{ga}");
                assert!(parts.iter().all(|p| p.parse::<u64>().is_ok()));
            }
            if let Some(ym) = v.get("ym_uid").and_then(Value::as_str) {
                assert_eq!(ym.len(), 19);
            }
            assert!(hyper::header::HeaderValue::from_str(hit.user_agent).is_ok());
        }
        assert!(with_ga > 1_000 && with_ga < 4_500, "{with_ga}");
        Ok(())
    }

    #[test]
    fn encode_is_percent_encoding() {
        assert_eq!(encode("a b"), "a%20b");
        assert_eq!(encode("ё"), "%D1%91");
    }
}
