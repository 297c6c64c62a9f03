//! Traffic source classification: a page URL and its referrer become the
//! `source` / `medium` pair (plus campaign, ad, keyword and click ids) that
//! reports show.
//!
//! The rules, in order (API.md, "Source naming"):
//!
//! 1. `utm_source` in the page URL → [`SourceKind::Utm`] with the UTM tags,
//!    trimmed and lowercased; a missing `utm_medium` becomes `(not set)`.
//! 2. An ad click id: `gclid` (also Google's `gbraid` / `wbraid`) → `google` /
//!    `cpc`; `yclid` → `yandex` / `cpc`; `msclkid` → `bing` / `cpc`, all
//!    [`SourceKind::PaidClick`]. `fbclid` is **not** a paid signal (Facebook
//!    adds it to organic shares too) and `ysclid` is Yandex's *organic* search
//!    click id, not `yclid`; both are ignored and the referrer decides.
//! 3. A search-engine referrer → the engine's short name / `organic`.
//! 4. A social-network referrer → the network's short name / `social`.
//! 5. A referrer on the page's own site (same host, or the same registrable
//!    domain: `shop.example.ru` and `www.example.ru`) → [`SourceKind::Internal`],
//!    reported as `(direct)` / `(none)`.
//! 6. Any other referrer → its host without `www.` / `referral`.
//! 7. Nothing usable → `(direct)` / `(none)`.
//!
//! Junk never panics: an unparsable URL or referrer simply carries no
//! information.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::LazyLock;
use url::Url;

/// The `source` of direct and internal traffic.
pub const DIRECT_SOURCE: &str = "(direct)";
/// The `medium` of direct and internal traffic.
pub const NONE_MEDIUM: &str = "(none)";
/// The `medium` of a UTM-tagged visit whose `utm_medium` is missing.
pub const NOT_SET: &str = "(not set)";
/// Longest tag or click id kept, in characters; longer values are cut so a
/// hostile URL cannot blow up a visit row.
pub const MAX_TAG_CHARS: usize = 512;

/// The fingerprint of a source for "did the source change" (see
/// [`TrafficSource::key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKey(pub u64);

/// Where a visit came from, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TrafficSource {
    /// Lowercased `utm_source`; `google` / `yandex` / `bing` for an ad click
    /// id; the engine's or network's short name; the referring host; or
    /// `(direct)`.
    pub source: String,
    /// Lowercased `utm_medium` (`(not set)` when missing); `cpc`; `organic`;
    /// `social`; `referral`; or `(none)`.
    pub medium: String,
    /// `utm_campaign`, trimmed and lowercased (UTM and paid-click visits only).
    pub campaign: Option<String>,
    /// `utm_content` (the ad), trimmed and lowercased.
    pub content: Option<String>,
    /// `utm_term` (the keyword), trimmed and lowercased.
    pub term: Option<String>,
    /// Google Ads click id, as it was (ids are case-sensitive).
    pub gclid: Option<String>,
    /// Yandex Direct click id, as it was.
    pub yclid: Option<String>,
    /// Host of the referrer, lowercased, without a leading `www.`;
    /// internationalized names in Unicode (`пример.рф`).
    pub referrer_host: Option<String>,
    /// Which rule produced this source.
    pub kind: SourceKind,
}

/// Which classification rule produced a [`TrafficSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// UTM tags in the landing URL.
    Utm,
    /// An ad click id (`gclid`, `yclid`, …) without UTM tags.
    PaidClick,
    /// A search engine's results page.
    Organic,
    /// A social network or messenger.
    Social,
    /// Another site.
    Referral,
    /// A page of the same site (reported as direct).
    Internal,
    /// No referrer and no tags.
    #[default]
    Direct,
}

impl TrafficSource {
    /// Whether this hit may start a new session by source change: false for
    /// direct and internal hits, which never interrupt a session.
    pub fn is_change_candidate(&self) -> bool {
        !matches!(self.kind, SourceKind::Direct | SourceKind::Internal)
    }

    /// A compact key of the fields [`TrafficSource::same_source_as`]
    /// compares, so a session can remember its source in 8 bytes. Not
    /// persisted: stable only within one build of skvoz.
    pub fn key(&self) -> SourceKey {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            &self.source,
            &self.medium,
            &self.campaign,
            &self.content,
            &self.term,
        )
            .hash(&mut h);
        SourceKey(h.finish())
    }

    /// Whether two hits have the same source for sessionization: equal
    /// `(source, medium, campaign, content, term)`. Click ids and the referrer
    /// are deliberately not compared, so re-landing from the same campaign
    /// (a new `gclid` for the same ad) keeps the session.
    pub fn same_source_as(&self, other: &TrafficSource) -> bool {
        self.source == other.source
            && self.medium == other.medium
            && self.campaign == other.campaign
            && self.content == other.content
            && self.term == other.term
    }

    /// Whether this is paid traffic: an ad click id, or a paid medium (`cpc`,
    /// `ppc`, `cpm`, `cpv`, `cpa`, `cpi`, `display`, `banner`, `retargeting`,
    /// `remarketing`, or anything containing `paid` such as `paid_social`),
    /// compared case-insensitively.
    pub fn is_paid(&self) -> bool {
        if self.kind == SourceKind::PaidClick {
            return true;
        }
        let m = self.medium.trim();
        const PAID: [&str; 10] = [
            "cpc",
            "ppc",
            "cpm",
            "cpv",
            "cpa",
            "cpi",
            "display",
            "banner",
            "retargeting",
            "remarketing",
        ];
        PAID.iter().any(|p| m.eq_ignore_ascii_case(p))
            || (contains_ignore_ascii_case(m, "paid") && !contains_ignore_ascii_case(m, "unpaid"))
    }

    /// Whether this is direct traffic (source `(direct)`); internal hits are
    /// direct too.
    pub fn is_direct(&self) -> bool {
        self.source == DIRECT_SOURCE
    }

    fn direct(kind: SourceKind, referrer_host: Option<String>) -> TrafficSource {
        TrafficSource {
            source: DIRECT_SOURCE.to_owned(),
            medium: NONE_MEDIUM.to_owned(),
            referrer_host,
            kind,
            ..TrafficSource::default()
        }
    }

    fn named(name: &str, medium: &str, kind: SourceKind, referrer_host: Option<String>) -> Self {
        TrafficSource {
            source: name.to_owned(),
            medium: medium.to_owned(),
            referrer_host,
            kind,
            ..TrafficSource::default()
        }
    }
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Classifies a page view. `url` is the full page URL as the browser had it
/// (a bare path with a query string works too); `referrer` is
/// `document.referrer`, which may be empty or missing. See the module docs
/// for the rules. Never panics.
pub fn classify(url: &str, referrer: Option<&str>) -> TrafficSource {
    let tags = LandingTags::from_url(url);
    let ref_host = referrer.and_then(referrer_host_ascii);
    let referrer_host = ref_host.as_deref().map(display_host);

    if let Some(source) = tags.utm_source {
        return TrafficSource {
            source,
            medium: tags.utm_medium.unwrap_or_else(|| NOT_SET.to_owned()),
            campaign: tags.utm_campaign,
            content: tags.utm_content,
            term: tags.utm_term,
            gclid: tags.gclid,
            yclid: tags.yclid,
            referrer_host,
            kind: SourceKind::Utm,
        };
    }
    let paid_by = if tags.gclid.is_some() || tags.google_braid {
        Some("google")
    } else if tags.yclid.is_some() {
        Some("yandex")
    } else if tags.msclkid {
        Some("bing")
    } else {
        None
    };
    if let Some(engine) = paid_by {
        // Hand-added UTM tags without utm_source still describe the ad.
        return TrafficSource {
            source: engine.to_owned(),
            medium: "cpc".to_owned(),
            campaign: tags.utm_campaign,
            content: tags.utm_content,
            term: tags.utm_term,
            gclid: tags.gclid,
            yclid: tags.yclid,
            referrer_host,
            kind: SourceKind::PaidClick,
        };
    }

    let Some(host) = ref_host else {
        return TrafficSource::direct(SourceKind::Direct, None);
    };
    match known_host(&host) {
        Some(Known::Search(name)) => {
            return TrafficSource::named(name, "organic", SourceKind::Organic, referrer_host)
        }
        Some(Known::Social(name)) => {
            return TrafficSource::named(name, "social", SourceKind::Social, referrer_host)
        }
        None => {}
    }
    if let Some(page) = host_ascii(url, false) {
        if page == host || registrable_domain(&page) == registrable_domain(&host) {
            return TrafficSource::direct(SourceKind::Internal, referrer_host);
        }
    }
    TrafficSource {
        source: referrer_host.clone().unwrap_or(host),
        medium: "referral".to_owned(),
        referrer_host,
        kind: SourceKind::Referral,
        ..TrafficSource::default()
    }
}

/// The tags of a landing URL that classification looks at.
#[derive(Default)]
struct LandingTags {
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_content: Option<String>,
    utm_term: Option<String>,
    gclid: Option<String>,
    yclid: Option<String>,
    google_braid: bool,
    msclkid: bool,
}

impl LandingTags {
    fn from_url(url: &str) -> LandingTags {
        let mut tags = LandingTags::default();
        // The query is read by hand rather than through `Url::parse` so that a
        // path-only or slightly broken URL still yields its tags, and so that
        // tags after a hash route (`/#/page?utm_source=…`) are seen too.
        let Some((_, rest)) = url.split_once('?') else {
            return tags;
        };
        let query = rest.split_once('#').map_or(rest, |(q, _)| q);
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let key = key.as_ref();
            let (slot, lowercase) = if key.eq_ignore_ascii_case("utm_source") {
                (&mut tags.utm_source, true)
            } else if key.eq_ignore_ascii_case("utm_medium") {
                (&mut tags.utm_medium, true)
            } else if key.eq_ignore_ascii_case("utm_campaign") {
                (&mut tags.utm_campaign, true)
            } else if key.eq_ignore_ascii_case("utm_content") {
                (&mut tags.utm_content, true)
            } else if key.eq_ignore_ascii_case("utm_term") {
                (&mut tags.utm_term, true)
            } else if key.eq_ignore_ascii_case("gclid") {
                (&mut tags.gclid, false)
            } else if key.eq_ignore_ascii_case("yclid") {
                (&mut tags.yclid, false)
            } else {
                if key.eq_ignore_ascii_case("gbraid") || key.eq_ignore_ascii_case("wbraid") {
                    tags.google_braid |= !value.trim().is_empty();
                } else if key.eq_ignore_ascii_case("msclkid") {
                    tags.msclkid |= !value.trim().is_empty();
                }
                continue;
            };
            if slot.is_none() {
                *slot = clean_tag(&value, lowercase);
            }
        }
        tags
    }
}

/// Trims, cuts to [`MAX_TAG_CHARS`] and optionally lowercases; empty → `None`.
fn clean_tag(value: &str, lowercase: bool) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let v = match v.char_indices().nth(MAX_TAG_CHARS) {
        Some((cut, _)) => v[..cut].trim_end(),
        None => v,
    };
    Some(if lowercase {
        v.to_lowercase()
    } else {
        v.to_owned()
    })
}

/// The referrer's host, ASCII (punycode) lowercased, without `www.`, or
/// `None` when the referrer is empty, unparsable or not a web/app address.
fn referrer_host_ascii(referrer: &str) -> Option<String> {
    host_ascii(referrer, true)
}

/// The host of an absolute `http(s)` URL (and `android-app://package` when
/// `allow_app`), normalized. A scheme-less `host/path` is read as `http://`.
fn host_ascii(address: &str, allow_app: bool) -> Option<String> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    let parsed = match Url::parse(address) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase)
            if !address.starts_with('/')
                && address.contains('.')
                && !address.contains(char::is_whitespace) =>
        {
            Url::parse(&format!("http://{address}")).ok()?
        }
        Err(_) => return None,
    };
    match parsed.scheme() {
        "http" | "https" => {}
        "android-app" if allow_app => {}
        _ => return None,
    }
    let host = parsed.host_str()?.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    if host.is_empty() {
        None
    } else {
        Some(host.to_ascii_lowercase())
    }
}

/// A punycode host in Unicode for people (`xn--e1afmkfd.xn--p1ai` →
/// `пример.рф`); other hosts unchanged.
fn display_host(ascii: &str) -> String {
    if ascii.contains("xn--") {
        let (unicode, result) = idna::domain_to_unicode(ascii);
        if result.is_ok() {
            return unicode;
        }
    }
    ascii.to_owned()
}

/// A referrer host skvoz knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// A search engine: short name.
    Search(&'static str),
    /// A social network or messenger: short name.
    Social(&'static str),
}

/// Whether a table entry also covers subdomains of its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Only this exact host (`go.mail.ru`, not `e.mail.ru`).
    Exact,
    /// This host and every subdomain (`vk.com`, `m.vk.com`, `away.vk.com`).
    WithSubdomains,
}

/// Known referrer hosts (without `www.`). Android apps send
/// `android-app://<package>`, so package names are listed too. Google,
/// Yandex and Pinterest under any country TLD are handled in [`known_host`].
static KNOWN_HOSTS: LazyLock<HashMap<&'static str, (Known, Scope)>> = LazyLock::new(|| {
    use Known::{Search, Social};
    use Scope::{Exact, WithSubdomains as Sub};
    let entries: &[(&str, Known, Scope)] = &[
        // Search engines. Yandex and Google services on subdomains
        // (mail.yandex.ru, market.yandex.ru, docs.google.com) are not search.
        ("ya.ru", Search("yandex"), Exact),
        ("ru.yandex.searchplugin", Search("yandex"), Exact),
        (
            "com.google.android.googlequicksearchbox",
            Search("google"),
            Exact,
        ),
        ("bing.com", Search("bing"), Sub),
        ("go.mail.ru", Search("mail.ru"), Exact),
        ("duckduckgo.com", Search("duckduckgo"), Sub),
        ("search.yahoo.com", Search("yahoo"), Sub),
        ("search.yahoo.co.jp", Search("yahoo"), Sub),
        ("nova.rambler.ru", Search("rambler"), Exact),
        ("search.rambler.ru", Search("rambler"), Exact),
        ("baidu.com", Search("baidu"), Exact),
        ("m.baidu.com", Search("baidu"), Exact),
        ("ecosia.org", Search("ecosia"), Exact),
        ("search.brave.com", Search("brave"), Exact),
        ("startpage.com", Search("startpage"), Sub),
        ("qwant.com", Search("qwant"), Sub),
        ("search.seznam.cz", Search("seznam"), Exact),
        ("search.naver.com", Search("naver"), Sub),
        ("sogou.com", Search("sogou"), Sub),
        ("ask.com", Search("ask"), Sub),
        ("search.aol.com", Search("aol"), Exact),
        // Social networks and messengers.
        ("vk.com", Social("vk"), Sub),
        ("vk.ru", Social("vk"), Sub),
        ("vk.me", Social("vk"), Sub),
        ("vkontakte.ru", Social("vk"), Sub),
        ("vkvideo.ru", Social("vk"), Sub),
        ("com.vkontakte.android", Social("vk"), Exact),
        ("ok.ru", Social("ok"), Sub),
        ("odnoklassniki.ru", Social("ok"), Sub),
        ("ru.ok.android", Social("ok"), Exact),
        ("t.me", Social("telegram"), Sub),
        ("telegram.me", Social("telegram"), Sub),
        ("telegram.org", Social("telegram"), Sub),
        ("org.telegram.messenger", Social("telegram"), Exact),
        ("facebook.com", Social("facebook"), Sub),
        ("fb.com", Social("facebook"), Sub),
        ("fb.me", Social("facebook"), Sub),
        ("com.facebook.katana", Social("facebook"), Exact),
        ("instagram.com", Social("instagram"), Sub),
        ("com.instagram.android", Social("instagram"), Exact),
        ("youtube.com", Social("youtube"), Sub),
        ("youtu.be", Social("youtube"), Sub),
        ("com.google.android.youtube", Social("youtube"), Exact),
        ("twitter.com", Social("twitter"), Sub),
        ("x.com", Social("twitter"), Sub),
        ("t.co", Social("twitter"), Sub),
        ("linkedin.com", Social("linkedin"), Sub),
        ("lnkd.in", Social("linkedin"), Sub),
        ("pinterest.com", Social("pinterest"), Sub),
        ("pin.it", Social("pinterest"), Sub),
        ("tiktok.com", Social("tiktok"), Sub),
        ("dzen.ru", Social("dzen"), Sub),
        ("zen.yandex.ru", Social("dzen"), Sub),
        ("zen.yandex.com", Social("dzen"), Sub),
        ("reddit.com", Social("reddit"), Sub),
        ("rutube.ru", Social("rutube"), Sub),
        ("livejournal.com", Social("livejournal"), Sub),
        ("pikabu.ru", Social("pikabu"), Sub),
        ("tenchat.ru", Social("tenchat"), Sub),
        ("threads.net", Social("threads"), Sub),
        ("threads.com", Social("threads"), Sub),
        ("discord.com", Social("discord"), Sub),
        ("whatsapp.com", Social("whatsapp"), Sub),
        ("wa.me", Social("whatsapp"), Sub),
        ("com.whatsapp", Social("whatsapp"), Exact),
        ("com.viber.voip", Social("viber"), Exact),
    ];
    entries
        .iter()
        .map(|&(host, known, scope)| (host, (known, scope)))
        .collect()
});

/// The search engine or social network of a normalized (ASCII, no `www.`)
/// referrer host.
fn known_host(host: &str) -> Option<Known> {
    // Longest suffix first, so zen.yandex.ru (dzen) wins over yandex.ru.
    let mut suffix = host;
    loop {
        if let Some(&(known, scope)) = KNOWN_HOSTS.get(suffix) {
            if scope == Scope::WithSubdomains || suffix.len() == host.len() {
                return Some(known);
            }
        }
        match suffix.split_once('.') {
            Some((_, rest)) if !rest.is_empty() => suffix = rest,
            _ => break,
        }
    }
    // Brands that run one search/network under many country domains:
    // google.com.tr, yandex.kz, pinterest.de. Exact host only, so
    // mail.yandex.ru stays a referral.
    for (brand, known) in [
        ("google.", Known::Search("google")),
        ("yandex.", Known::Search("yandex")),
        ("pinterest.", Known::Social("pinterest")),
    ] {
        if host.strip_prefix(brand).is_some_and(is_tld_like) {
            return Some(known);
        }
    }
    None
}

/// `ru`, `com`, `com.tr`, `co.uk`: one or two labels of 2–3 ASCII letters.
fn is_tld_like(s: &str) -> bool {
    let mut labels = 0;
    for label in s.split('.') {
        labels += 1;
        if labels > 2 || !(2..=3).contains(&label.len()) {
            return false;
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase()) {
            return false;
        }
    }
    labels >= 1
}

/// The registrable domain of a host (`shop.example.co.uk` →
/// `example.co.uk`), good enough to tell "same site" apart.
///
/// This is a heuristic, not the Public Suffix List: the list is large, and
/// for telling a site's own subdomains apart from other sites a short list of
/// common two-level suffixes (`co.uk`, `com.ru`, `msk.ru`, `github.io`, …)
/// does the job without compiling the whole list into every build.
fn registrable_domain(host: &str) -> &str {
    if host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return host; // an IP address
    }
    let mut dots = host.rmatch_indices('.').map(|(i, _)| i);
    let (Some(last), Some(second)) = (dots.next(), dots.next()) else {
        return host; // `localhost`, `example.ru`
    };
    let two_labels = &host[second + 1..];
    if !is_two_level_suffix(two_labels, &host[second + 1..last]) {
        return two_labels;
    }
    match dots.next() {
        Some(third) => &host[third + 1..],
        None => host,
    }
}

/// Whether `suffix` (`co.uk`, with `sld` = `co`) is a public suffix under
/// which each name is a separate site.
fn is_two_level_suffix(suffix: &str, sld: &str) -> bool {
    const SHARED: [&str; 26] = [
        "github.io",
        "gitlab.io",
        "blogspot.com",
        "appspot.com",
        "herokuapp.com",
        "netlify.app",
        "vercel.app",
        "pages.dev",
        "workers.dev",
        "web.app",
        "firebaseapp.com",
        "tilda.ws",
        "wixsite.com",
        "myshopify.com",
        "azurewebsites.net",
        "cloudfront.net",
        "narod.ru",
        "ucoz.ru",
        "ru.com",
        "kiev.ua",
        "kharkov.ua",
        "in.ua",
        "nsk.ru",
        "nov.ru",
        "ekb.ru",
        "tatarstan.ru",
    ];
    if SHARED.contains(&suffix) {
        return true;
    }
    let tld = &suffix[sld.len() + 1..];
    tld.len() == 2
        && matches!(
            sld,
            "co" | "com"
                | "net"
                | "org"
                | "gov"
                | "edu"
                | "ac"
                | "or"
                | "ne"
                | "go"
                | "gob"
                | "mil"
                | "nom"
                | "ltd"
                | "plc"
                | "sch"
                | "pp"
                | "msk"
                | "spb"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (page url, referrer, source, medium, kind)
    const CASES: &[(&str, &str, &str, &str, SourceKind)] = &[
        // UTM tags win over everything, values lowercased.
        (
            "https://shop.ru/?utm_source=Yandex&utm_medium=CPC&utm_campaign=Brand",
            "https://www.google.com/",
            "yandex",
            "cpc",
            SourceKind::Utm,
        ),
        (
            "https://shop.ru/?utm_source=vk&utm_medium=social",
            "https://shop.ru/catalog",
            "vk",
            "social",
            SourceKind::Utm,
        ),
        (
            "https://shop.ru/?utm_source=newsletter",
            "",
            "newsletter",
            "(not set)",
            SourceKind::Utm,
        ),
        (
            "https://shop.ru/?utm_source=google&utm_medium=cpc&gclid=abc",
            "",
            "google",
            "cpc",
            SourceKind::Utm,
        ),
        (
            "/landing?utm_source=mailru&utm_medium=email",
            "",
            "mailru",
            "email",
            SourceKind::Utm,
        ),
        (
            "https://shop.ru/#/promo?utm_source=tg&utm_medium=messenger",
            "",
            "tg",
            "messenger",
            SourceKind::Utm,
        ),
        (
            "https://shop.ru/?UTM_SOURCE=Direct%20Mail&utm_medium=offline+flyer",
            "",
            "direct mail",
            "offline flyer",
            SourceKind::Utm,
        ),
        // An empty utm_source is no tag at all.
        (
            "https://shop.ru/?utm_source=&utm_medium=cpc",
            "",
            "(direct)",
            "(none)",
            SourceKind::Direct,
        ),
        // Ad click ids.
        (
            "https://shop.ru/?gclid=Cj0KCQ",
            "https://www.google.com/",
            "google",
            "cpc",
            SourceKind::PaidClick,
        ),
        (
            "https://shop.ru/?yclid=123456789",
            "https://yandex.ru/",
            "yandex",
            "cpc",
            SourceKind::PaidClick,
        ),
        (
            "https://shop.ru/?gbraid=0AAAA",
            "",
            "google",
            "cpc",
            SourceKind::PaidClick,
        ),
        (
            "https://shop.ru/?msclkid=f00",
            "https://www.bing.com/",
            "bing",
            "cpc",
            SourceKind::PaidClick,
        ),
        // fbclid and ysclid are not paid: the referrer decides.
        (
            "https://shop.ru/?fbclid=IwAR0",
            "https://l.facebook.com/",
            "facebook",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/?ysclid=lx1",
            "https://yandex.ru/",
            "yandex",
            "organic",
            SourceKind::Organic,
        ),
        // Search engines.
        (
            "https://shop.ru/",
            "https://yandex.ru/search/?text=shop",
            "yandex",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://ya.ru/",
            "yandex",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://yandex.com.tr/",
            "yandex",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.yandex.kz/",
            "yandex",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.google.com/",
            "google",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.google.co.uk/",
            "google",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://google.ru/url?q=x",
            "google",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "android-app://com.google.android.googlequicksearchbox/",
            "google",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.bing.com/search?q=shop",
            "bing",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://go.mail.ru/search?q=shop",
            "mail.ru",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://duckduckgo.com/",
            "duckduckgo",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://uk.search.yahoo.com/",
            "yahoo",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://nova.rambler.ru/search?query=x",
            "rambler",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.baidu.com/",
            "baidu",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://www.ecosia.org/",
            "ecosia",
            "organic",
            SourceKind::Organic,
        ),
        (
            "https://shop.ru/",
            "https://search.brave.com/",
            "brave",
            "organic",
            SourceKind::Organic,
        ),
        // Yandex and Google services that are not search.
        (
            "https://shop.ru/",
            "https://mail.yandex.ru/",
            "mail.yandex.ru",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://shop.ru/",
            "https://market.yandex.ru/product/1",
            "market.yandex.ru",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://shop.ru/",
            "https://mail.google.com/",
            "mail.google.com",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://shop.ru/",
            "https://e.mail.ru/inbox",
            "e.mail.ru",
            "referral",
            SourceKind::Referral,
        ),
        // Social networks.
        (
            "https://shop.ru/",
            "https://vk.com/wall-1_2",
            "vk",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://m.vk.com/",
            "vk",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://away.vk.com/away.php",
            "vk",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://ok.ru/",
            "ok",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://t.me/channel/12",
            "telegram",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://web.telegram.org/k/",
            "telegram",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "android-app://org.telegram.messenger/",
            "telegram",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://m.facebook.com/",
            "facebook",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://l.instagram.com/",
            "instagram",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://www.youtube.com/",
            "youtube",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://t.co/abc",
            "twitter",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://x.com/",
            "twitter",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://www.linkedin.com/",
            "linkedin",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://ru.pinterest.com/",
            "pinterest",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://www.tiktok.com/",
            "tiktok",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://dzen.ru/a/xyz",
            "dzen",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://zen.yandex.ru/media/x",
            "dzen",
            "social",
            SourceKind::Social,
        ),
        (
            "https://shop.ru/",
            "https://web.whatsapp.com/",
            "whatsapp",
            "social",
            SourceKind::Social,
        ),
        // Internal: same host, www vs bare, subdomains of one site.
        (
            "https://shop.ru/cart",
            "https://shop.ru/catalog",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        (
            "https://www.shop.ru/cart",
            "https://shop.ru/",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        (
            "https://shop.example.ru/",
            "https://www.example.ru/",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        (
            "https://shop.example.co.uk/",
            "https://blog.example.co.uk/",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        (
            "https://a.example.msk.ru/",
            "https://example.msk.ru/",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        (
            "http://127.0.0.1:8080/page",
            "http://127.0.0.1:8080/",
            "(direct)",
            "(none)",
            SourceKind::Internal,
        ),
        // Other sites.
        (
            "https://shop.ru/",
            "https://www.partner.com/reviews",
            "partner.com",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://example.co.uk/",
            "https://other.co.uk/",
            "other.co.uk",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://alice.github.io/",
            "https://bob.github.io/",
            "bob.github.io",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://a.msk.ru/",
            "https://b.msk.ru/",
            "b.msk.ru",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://shop.ru/",
            "https://xn--e1afmkfd.xn--p1ai/",
            "пример.рф",
            "referral",
            SourceKind::Referral,
        ),
        (
            "https://shop.ru/",
            "partner.org/page",
            "partner.org",
            "referral",
            SourceKind::Referral,
        ),
        // Direct and junk.
        (
            "https://shop.ru/",
            "",
            "(direct)",
            "(none)",
            SourceKind::Direct,
        ),
        (
            "https://shop.ru/",
            "about:blank",
            "(direct)",
            "(none)",
            SourceKind::Direct,
        ),
        (
            "not a url at all",
            "::::",
            "(direct)",
            "(none)",
            SourceKind::Direct,
        ),
        (
            "https://shop.ru/?utm_source=%ZZ%",
            "",
            "%zz%",
            "(not set)",
            SourceKind::Utm,
        ),
        ("", "http://", "(direct)", "(none)", SourceKind::Direct),
        (
            "https://shop.ru/?&&=&utm_source",
            "chrome-extension://abc/",
            "(direct)",
            "(none)",
            SourceKind::Direct,
        ),
        // Junk page URL with a real referrer: no page host, so a referral.
        (
            "%%%",
            "https://partner.com/",
            "partner.com",
            "referral",
            SourceKind::Referral,
        ),
    ];

    #[test]
    fn classification_table() {
        for &(url, referrer, source, medium, kind) in CASES {
            let got = classify(url, Some(referrer));
            assert_eq!(
                (got.source.as_str(), got.medium.as_str(), got.kind),
                (source, medium, kind),
                "classify({url:?}, {referrer:?}) = {got:?}"
            );
        }
    }

    #[test]
    fn utm_keeps_all_tags_lowercased_and_trimmed() {
        let s = classify(
            "https://shop.ru/?utm_source=Google&utm_medium=cpc&utm_campaign=%20Spring%20Sale%20&utm_content=Ad1&utm_term=%D0%9A%D1%83%D0%BF%D0%B8%D1%82%D1%8C&gclid=AbC",
            Some("https://www.google.com/"),
        );
        assert_eq!(s.campaign.as_deref(), Some("spring sale"));
        assert_eq!(s.content.as_deref(), Some("ad1"));
        assert_eq!(s.term.as_deref(), Some("купить"));
        assert_eq!(s.gclid.as_deref(), Some("AbC"), "click ids keep their case");
        assert_eq!(s.referrer_host.as_deref(), Some("google.com"));
    }

    #[test]
    fn paid_click_keeps_click_id_and_partial_utm() {
        let s = classify("https://shop.ru/?yclid=42&utm_campaign=Brand", None);
        assert_eq!(s.yclid.as_deref(), Some("42"));
        assert_eq!(s.campaign.as_deref(), Some("brand"));
        assert!(s.is_paid());
        let g = classify("https://shop.ru/?gclid=x&yclid=y", None);
        assert_eq!(g.source, "google", "gclid is checked before yclid");
    }

    #[test]
    fn first_value_wins_and_values_are_capped() {
        let s = classify("https://s.ru/?utm_source=a&utm_source=b", None);
        assert_eq!(s.source, "a");
        let long = "x".repeat(MAX_TAG_CHARS * 3);
        let s = classify(&format!("https://s.ru/?utm_source={long}"), None);
        assert_eq!(s.source.chars().count(), MAX_TAG_CHARS);
        let cyr = "я".repeat(MAX_TAG_CHARS + 5);
        let s = classify(&format!("https://s.ru/?utm_source={cyr}"), None);
        assert_eq!(s.source.chars().count(), MAX_TAG_CHARS);
    }

    #[test]
    fn referrer_host_is_recorded_except_for_direct() {
        assert_eq!(classify("https://s.ru/", None).referrer_host, None);
        assert_eq!(classify("https://s.ru/", Some("")).referrer_host, None);
        let internal = classify("https://s.ru/a", Some("https://www.s.ru/b"));
        assert_eq!(internal.referrer_host.as_deref(), Some("s.ru"));
        let social = classify("https://s.ru/", Some("https://M.VK.COM/"));
        assert_eq!(social.referrer_host.as_deref(), Some("m.vk.com"));
    }

    #[test]
    fn predicates() {
        let direct = classify("https://s.ru/", None);
        let internal = classify("https://s.ru/", Some("https://s.ru/x"));
        let organic = classify("https://s.ru/", Some("https://ya.ru/"));
        let utm = classify("https://s.ru/?utm_source=vk&utm_medium=Paid_Social", None);
        assert!(direct.is_direct() && internal.is_direct());
        assert!(!organic.is_direct());
        assert!(!direct.is_change_candidate() && !internal.is_change_candidate());
        assert!(organic.is_change_candidate() && utm.is_change_candidate());
        assert!(utm.is_paid());
        assert!(!organic.is_paid() && !direct.is_paid());
        let unpaid = TrafficSource {
            medium: "UNPAID".into(),
            ..TrafficSource::default()
        };
        assert!(!unpaid.is_paid());
        let cpm = TrafficSource {
            medium: "CPM".into(),
            ..TrafficSource::default()
        };
        assert!(cpm.is_paid());
    }

    #[test]
    fn same_source_compares_tags_not_click_ids() {
        let a = classify("https://s.ru/?gclid=1", None);
        let b = classify("https://s.ru/other?gclid=2", Some("https://google.com/"));
        assert!(a.same_source_as(&b));
        let c = classify("https://s.ru/?utm_source=vk&utm_campaign=a", None);
        let d = classify("https://s.ru/?utm_source=vk&utm_campaign=b", None);
        assert!(!c.same_source_as(&d));
    }

    #[test]
    fn registrable_domains() {
        for (host, want) in [
            ("shop.example.ru", "example.ru"),
            ("example.ru", "example.ru"),
            ("localhost", "localhost"),
            ("a.b.example.com.ru", "example.com.ru"),
            ("co.uk", "co.uk"),
            ("x.co.uk", "x.co.uk"),
            ("10.0.0.1", "10.0.0.1"),
            ("[::1]", "[::1]"),
            ("alice.github.io", "alice.github.io"),
        ] {
            assert_eq!(registrable_domain(host), want, "{host}");
        }
    }

    #[test]
    fn serde_shape() {
        let s = classify("https://s.ru/", Some("https://ya.ru/"));
        let v = serde_json::to_value(&s).expect("serialize");
        assert_eq!(v["kind"], "organic");
        let back: TrafficSource = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, s);
    }

    proptest! {
        #[test]
        fn classify_never_panics(url in ".{0,200}", referrer in proptest::option::of(".{0,200}")) {
            let s = classify(&url, referrer.as_deref());
            prop_assert!(!s.source.is_empty());
            prop_assert!(!s.medium.is_empty());
        }

        #[test]
        fn classify_never_panics_on_url_like_input(
            host in "[a-zA-Z0-9.\\-]{0,30}",
            query in "[a-zA-Z0-9_=&%+.\\-#?]{0,60}",
            rhost in "[a-zA-Z0-9.\\-]{0,30}",
        ) {
            let s = classify(&format!("https://{host}/p?{query}"), Some(&format!("https://{rhost}/")));
            prop_assert!(!s.source.is_empty());
        }

        #[test]
        fn utm_source_always_wins(src in "[a-z][a-z0-9]{0,15}", referrer in ".{0,80}") {
            let s = classify(&format!("https://s.ru/?gclid=1&utm_source={src}"), Some(&referrer));
            prop_assert_eq!(s.kind, SourceKind::Utm);
            prop_assert_eq!(s.source, src);
        }

        #[test]
        fn same_site_is_internal(sub in "[a-z]{1,10}", path in "[a-z/]{0,20}") {
            let s = classify(
                &format!("https://{sub}.example.ru/{path}"),
                Some(&format!("https://www.example.ru/{path}")),
            );
            prop_assert_eq!(s.kind, SourceKind::Internal);
            prop_assert!(s.is_direct());
        }
    }
}
