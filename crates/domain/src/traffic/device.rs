//! User-Agent parsing: operating system, browser, device type and whether the
//! client is a bot.
//!
//! The browser/OS part is the `woothee` crate. On top of it a list of known
//! crawlers, link-preview fetchers, SEO tools, monitors and HTTP libraries
//! catches bots woothee reads as a browser (modern crawlers put `Chrome/…` in
//! their User-Agent) or does not know. Two deliberate choices:
//!
//! - `HeadlessChrome` is **not** a bot: skvoz's own browser tests run headless
//!   Chromium and must be counted as visits. (Scrapers that bother to run a
//!   headless browser usually change the User-Agent anyway.)
//! - An empty (or `-`) User-Agent **is** a bot: every real browser sends one.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// What sent a hit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Device {
    /// Operating system: `Windows 10`, `macOS`, `iOS`, `Android`, `Linux`,
    /// `ChromeOS`, …; [`UNKNOWN`] when not recognised.
    pub os: String,
    /// Browser: `Chrome`, `Safari`, `Firefox`, `Yandex Browser`, `Edge`, …;
    /// for a bot, the bot's name (`Googlebot`, `YandexBot`, `curl`).
    pub browser: String,
    /// Desktop, mobile, tablet, bot or other.
    pub device_type: DeviceType,
    /// Whether this is a crawler, preview fetcher, monitor or script rather
    /// than a person's browser.
    pub is_bot: bool,
}

/// The kind of device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    /// A desktop or laptop computer.
    #[default]
    Desktop,
    /// A phone.
    Mobile,
    /// A tablet.
    Tablet,
    /// A bot (see [`Device::is_bot`]).
    Bot,
    /// Consoles, TVs, unknown clients.
    Other,
}

/// The value of [`Device::os`] / [`Device::browser`] when not recognised.
pub const UNKNOWN: &str = "(unknown)";

/// Known bots that woothee misses or reads as a browser: `(pattern, name)`;
/// an empty name means "the matched text up to its first `/`" (keeps
/// `YandexMetrika` apart from `YandexBot`, names unknown `FooBot/1.0` as
/// `FooBot`). Patterns are case-insensitive. Specific entries come first:
/// of alternatives matching at the same place the earlier one wins, and a
/// bot's name comes before its contact URL.
const BOTS: &[(&str, &str)] = &[
    // Google
    (r"googlebot", "Googlebot"),
    (r"adsbot-google", "AdsBot-Google"),
    (r"mediapartners-google", "Mediapartners-Google"),
    (r"storebot-google", "Storebot-Google"),
    (r"google-inspectiontool", "Google-InspectionTool"),
    (r"googleother", "GoogleOther"),
    (r"google-read-aloud", "Google-Read-Aloud"),
    (r"google-site-verification", "Google-Site-Verification"),
    (r"google favicon", "Google Favicon"),
    (r"feedfetcher-google", "FeedFetcher-Google"),
    (r"apis-google", "APIs-Google"),
    (r"chrome-lighthouse", "Chrome-Lighthouse"),
    // Yandex: every robot says `+http://yandex.com/bots`; the names catch
    // copies without it. `YandexSearch/` (the Yandex app) and `YaBrowser`
    // are people and match none of these.
    (r"yandex\w*bot", ""),
    (
        r"yandex(?:metrika|direct\w*|images|imageresizer|video\w*|media|blogs|favicons|webmaster|pagechecker|sitelinks|market|vertis|fordomain|searchshop|ontodb\w*|verticals|tracker|antivirus|news|catalog|partner|turbo|userproxy|addurl|zakladki|calendar|adnet|rca|dialogs|spravbot)",
        "",
    ),
    (r"yandex\.com/bots", "YandexBot"),
    // Search engines and SEO tools
    (r"bingbot", "bingbot"),
    (r"bingpreview", "BingPreview"),
    (r"msnbot", "msnbot"),
    (r"adidxbot", "adidxbot"),
    (r"applebot", "Applebot"),
    (r"duckduckbot", "DuckDuckBot"),
    (r"duckduckgo-favicons-bot", "DuckDuckGo-Favicons-Bot"),
    (r"baiduspider", "Baiduspider"),
    (r"bytespider", "Bytespider"),
    (r"petalbot", "PetalBot"),
    (r"seznambot", "SeznamBot"),
    (r"mail\.ru_bot", "Mail.RU_Bot"),
    (r"coccocbot", "coccocbot"),
    (r"qwantify|qwantbot", "Qwantbot"),
    (r"ahrefs(?:bot|siteaudit)", "AhrefsBot"),
    (r"semrushbot|siteauditbot", "SemrushBot"),
    (r"mj12bot", "MJ12bot"),
    (r"dotbot", "DotBot"),
    (r"blexbot", "BLEXBot"),
    (r"serpstatbot", "SerpstatBot"),
    (r"dataforseobot", "DataForSeoBot"),
    (r"megaindex", "MegaIndex"),
    (r"rogerbot", "rogerbot"),
    (r"screaming frog", "Screaming Frog"),
    (r"linkdexbot|linkpadbot", "LinkpadBot"),
    (r"ia_archiver|archive\.org_bot", "Internet Archive"),
    (r"ccbot", "CCBot"),
    // AI crawlers
    (r"gptbot|chatgpt-user|oai-searchbot", "OpenAI"),
    (r"claudebot|claude-web|anthropic-ai", "Anthropic"),
    (r"perplexitybot", "PerplexityBot"),
    (r"amazonbot", "Amazonbot"),
    (r"meta-externalagent|meta-externalfetcher", "Meta"),
    // Link previews
    (
        r"facebookexternalhit|facebookcatalog",
        "facebookexternalhit",
    ),
    (r"twitterbot", "Twitterbot"),
    (r"linkedinbot", "LinkedInBot"),
    (r"pinterestbot", "Pinterestbot"),
    (r"telegrambot", "TelegramBot"),
    (r"^whatsapp/", "WhatsApp"),
    (r"vkshare", "vkShare"),
    (r"skypeuripreview", "SkypeUriPreview"),
    (r"slackbot|slack-imgproxy", "Slackbot"),
    (r"discordbot", "Discordbot"),
    (r"redditbot", "redditbot"),
    (r"embedly|iframely", "Embedly"),
    // Monitors
    (r"uptimerobot", "UptimeRobot"),
    (r"pingdom", "Pingdom"),
    (r"statuscake", "StatusCake"),
    (r"site24x7", "Site24x7"),
    // HTTP libraries, scripts, scanners, headless tools other than Chrome
    (r"^curl/", "curl"),
    (r"^wget/", "Wget"),
    (r"python-requests", "python-requests"),
    (r"python-urllib|python-httpx|aiohttp", "Python"),
    (r"go-http-client", "Go-http-client"),
    (r"^okhttp/", "okhttp"),
    (r"^java/|apache-httpclient", "Java"),
    (r"libwww-perl", "libwww-perl"),
    (r"node-fetch|^axios/|^undici", "Node.js"),
    (r"scrapy", "Scrapy"),
    (r"postmanruntime", "PostmanRuntime"),
    (r"^insomnia/", "Insomnia"),
    (r"^httpie/", "HTTPie"),
    (r"phantomjs", "PhantomJS"),
    (r"zgrab|masscan|nmap|nikto|sqlmap|nuclei", "Scanner"),
    // Generic: crawlers and spiders name themselves, and bots sign with a
    // contact URL (`+http://…`). `…bot/<digit>` rather than any `bot` so
    // that phone models such as `CUBOT P30` stay people.
    (r"[\w.-]*bot/\d", ""),
    (r"[\w.-]*(?:crawler|spider)[\w.-]*", ""),
    (r"\+https?://", "(crawler)"),
];

/// All of [`BOTS`] as one regex, one capture group per entry, so the common
/// case (a browser) costs a single literal-prefiltered scan.
static BOT_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let alternation = BOTS
        .iter()
        .map(|(pattern, _)| format!("({pattern})"))
        .collect::<Vec<_>>()
        .join("|");
    // The patterns are constants covered by tests; `None` only if one were
    // broken, and then woothee alone still decides.
    Regex::new(&format!("(?i){alternation}")).ok()
});

/// The name of a known bot in `ua`, if any.
fn known_bot(ua: &str) -> Option<String> {
    let caps = BOT_RE.as_ref()?.captures(ua)?;
    // Group i + 1 is BOTS[i]; exactly one group of an alternation matches.
    let (index, matched) = caps
        .iter()
        .skip(1)
        .enumerate()
        .find_map(|(i, m)| m.map(|m| (i, m.as_str())))?;
    let name = BOTS.get(index).map_or("", |(_, name)| *name);
    Some(if name.is_empty() {
        // `SomeBot/2` → `SomeBot`.
        matched.split('/').next().unwrap_or(matched).to_owned()
    } else {
        name.to_owned()
    })
}

fn bot(name: String) -> Device {
    Device {
        os: UNKNOWN.to_owned(),
        browser: name,
        device_type: DeviceType::Bot,
        is_bot: true,
    }
}

/// Parses a User-Agent. Bots (the supplementary list, then woothee's
/// crawlers and HTTP libraries) get [`DeviceType::Bot`]; an empty UA is a
/// bot; `HeadlessChrome` is a browser (see the module docs). iPads and
/// Android tablets (no `Mobile` token) are tablets. Never panics.
pub fn parse_user_agent(ua: &str) -> Device {
    let ua = ua.trim();
    if ua.is_empty() || ua == "-" {
        return bot("(empty)".to_owned());
    }
    if let Some(name) = known_bot(ua) {
        return bot(name);
    }
    let Some(parsed) = woothee::parser::Parser::new().parse(ua) else {
        return Device {
            os: UNKNOWN.to_owned(),
            browser: UNKNOWN.to_owned(),
            device_type: DeviceType::Other,
            is_bot: false,
        };
    };
    if parsed.category == "crawler" {
        return bot(known_or_unknown(parsed.name).to_owned());
    }
    let os = match parsed.os {
        "iPhone" | "iPad" | "iPod" | "iOS" => "iOS",
        "Mac OSX" => "macOS",
        other => known_or_unknown(other),
    };
    let device_type = match parsed.category {
        "pc" => DeviceType::Desktop,
        "smartphone" | "mobilephone" => {
            let android_tablet =
                parsed.os == "Android" && (!ua.contains("Mobile") || ua.contains("Tablet"));
            if parsed.os == "iPad" || android_tablet {
                DeviceType::Tablet
            } else {
                DeviceType::Mobile
            }
        }
        _ => DeviceType::Other,
    };
    Device {
        os: os.to_owned(),
        browser: known_or_unknown(parsed.name).to_owned(),
        device_type,
        is_bot: false,
    }
}

fn known_or_unknown(value: &str) -> &str {
    if value.is_empty() || value == woothee::woothee::VALUE_UNKNOWN {
        UNKNOWN
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (user agent, os, browser, device type)
    const CASES: &[(&str, &str, &str, DeviceType)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Windows 10",
            "Chrome",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "iOS",
            "Safari",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
            "iOS",
            "Safari",
            DeviceType::Tablet,
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
            "Android",
            "Chrome",
            DeviceType::Mobile,
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "Android",
            "Chrome",
            DeviceType::Tablet,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
            "Windows 10",
            "Yandex Browser",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Linux",
            "Firefox",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "macOS",
            "Safari",
            DeviceType::Desktop,
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
            "Windows 10",
            "Edge",
            DeviceType::Desktop,
        ),
        // Our own browser tests: headless Chromium is a browser.
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
            "Linux",
            "Chrome",
            DeviceType::Desktop,
        ),
        // A phone whose model contains "bot" is a person.
        (
            "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "Android",
            "Chrome",
            DeviceType::Mobile,
        ),
        // The Yandex app is a person too.
        (
            "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.5993.118 YaApp_Android/23.112.1 YaSearchBrowser/23.112.1 BroPP/1.0 SA/3 Mobile Safari/537.36",
            "Android",
            "Chrome",
            DeviceType::Mobile,
        ),
    ];

    /// (user agent, bot name)
    const BOT_CASES: &[(&str, &str)] = &[
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
        ),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
        ),
        (
            "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            "YandexBot",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.4 Mobile/15E148 Safari/604.1 (compatible; YandexMobileBot/3.0; +http://yandex.com/bots)",
            "YandexMobileBot",
        ),
        (
            "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)",
            "YandexMetrika",
        ),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            "bingbot",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
            "Applebot",
        ),
        (
            "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            "AhrefsBot",
        ),
        (
            "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
            "SemrushBot",
        ),
        (
            "Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
            "MJ12bot",
        ),
        (
            "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
            "DotBot",
        ),
        (
            "Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)",
            "PetalBot",
        ),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "facebookexternalhit",
        ),
        ("TelegramBot (like TwitterBot)", "TelegramBot"),
        ("WhatsApp/2.23.20.0 A", "WhatsApp"),
        ("curl/8.5.0", "curl"),
        ("Wget/1.21.4", "Wget"),
        ("python-requests/2.31.0", "python-requests"),
        ("Go-http-client/1.1", "Go-http-client"),
        ("", "(empty)"),
        ("-", "(empty)"),
        (
            "Mozilla/5.0 (compatible; SomeNewBot/1.0; +https://example.com/bot)",
            "SomeNewBot",
        ),
        ("Mozilla/5.0 (compatible; FooCrawler)", "FooCrawler"),
        (
            "Mozilla/5.0 (compatible; Pinger; +https://example.com/about)",
            "(crawler)",
        ),
    ];

    #[test]
    fn browsers() {
        for &(ua, os, browser, device_type) in CASES {
            let d = parse_user_agent(ua);
            assert_eq!(
                (d.os.as_str(), d.browser.as_str(), d.device_type, d.is_bot),
                (os, browser, device_type, false),
                "{ua}"
            );
        }
    }

    #[test]
    fn bots() {
        for &(ua, name) in BOT_CASES {
            let d = parse_user_agent(ua);
            assert!(d.is_bot, "{ua} -> {d:?}");
            assert_eq!(d.device_type, DeviceType::Bot, "{ua}");
            assert_eq!(d.browser, name, "{ua}");
        }
    }

    #[test]
    fn bot_regex_compiles() {
        assert!(BOT_RE.is_some());
        for (pattern, _) in BOTS {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn woothee_crawlers_are_bots() {
        // Not on our list; woothee knows it.
        let d = parse_user_agent(
            "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        );
        assert!(d.is_bot, "{d:?}");
    }

    #[test]
    fn unknown_clients_are_other_not_bots() {
        let d = parse_user_agent("SomethingWeird 1.0");
        assert!(!d.is_bot, "{d:?}");
        assert_eq!(d.device_type, DeviceType::Other);
    }

    #[test]
    fn serde_shape() {
        let d = parse_user_agent("curl/8.0");
        let v = serde_json::to_value(&d).expect("serialize");
        assert_eq!(v["device_type"], "bot");
        assert_eq!(v["is_bot"], true);
    }

    proptest! {
        #[test]
        fn never_panics(ua in ".{0,300}") {
            let d = parse_user_agent(&ua);
            prop_assert_eq!(d.is_bot, d.device_type == DeviceType::Bot);
            prop_assert!(!d.browser.is_empty());
        }

        #[test]
        fn never_panics_on_ua_like_input(ua in "[A-Za-z0-9/ ;().,_+:-]{0,200}") {
            let _ = parse_user_agent(&ua);
        }
    }
}
