//! Where visits come from: the mix of first, return and repeat arrivals,
//! the shop's ad campaigns, referring sites, landing pages with their UTM
//! tags and click ids, and the walk through the shop's pages.

use super::catalogue::{CATEGORIES, PROMOS};
use super::random::{one, pick};
use super::visitors::encode_query;
use super::SHOP;
use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::Rng;
use std::fmt::Write as _;

/// How a visit reaches the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    YandexOrganic,
    GoogleOrganic,
    /// Yandex Direct, search.
    YandexSearchAds,
    /// Yandex Direct, the advertising network (РСЯ).
    YandexNetworkAds,
    GoogleAds,
    VkSocial,
    TelegramSocial,
    DzenSocial,
    VkAds,
    Email,
    Referral,
    Direct,
}

impl Arrival {
    /// How much likelier than organic search a visit ends in a form.
    pub(super) fn conversion(self) -> f64 {
        match self {
            Arrival::YandexOrganic | Arrival::GoogleOrganic => 1.0,
            Arrival::YandexSearchAds | Arrival::GoogleAds => 1.3,
            Arrival::YandexNetworkAds => 0.8,
            Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => 0.5,
            Arrival::VkAds => 0.6,
            Arrival::Email => 1.5,
            Arrival::Referral | Arrival::Direct => 1.2,
        }
    }

    pub(super) fn bounce_rate(self) -> f64 {
        match self {
            Arrival::YandexNetworkAds | Arrival::VkAds => 0.5,
            Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => 0.45,
            Arrival::Direct | Arrival::Email => 0.25,
            _ => 0.35,
        }
    }
}

/// Sources of first visits, in percent (organic search 30, paid search
/// 22, direct 24, social 8, paid social 6, referral 6, e-mail 4).
pub(super) const FIRST_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::YandexOrganic, 22),
    (Arrival::GoogleOrganic, 8),
    (Arrival::YandexSearchAds, 15),
    (Arrival::YandexNetworkAds, 4),
    (Arrival::GoogleAds, 3),
    (Arrival::VkSocial, 4),
    (Arrival::TelegramSocial, 3),
    (Arrival::DzenSocial, 1),
    (Arrival::VkAds, 6),
    (Arrival::Email, 4),
    (Arrival::Referral, 6),
    (Arrival::Direct, 24),
];

/// Sources of return visits: more direct, e-mail and retargeting.
pub(super) const RETURN_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::Direct, 35),
    (Arrival::YandexOrganic, 14),
    (Arrival::GoogleOrganic, 5),
    (Arrival::Email, 14),
    (Arrival::YandexNetworkAds, 10),
    (Arrival::YandexSearchAds, 6),
    (Arrival::VkAds, 5),
    (Arrival::VkSocial, 3),
    (Arrival::TelegramSocial, 4),
    (Arrival::Referral, 2),
    (Arrival::GoogleAds, 2),
];

/// Sources of a customer's visit to buy again.
pub(super) const REPEAT_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::Email, 40),
    (Arrival::Direct, 35),
    (Arrival::YandexOrganic, 15),
    (Arrival::YandexNetworkAds, 10),
];

/// An advertising campaign with its ads (`utm_content`) and keywords
/// (`utm_term`).
pub(super) struct Campaign {
    pub(super) arrival: Arrival,
    pub(super) name: &'static str,
    /// The category it advertises (`None`: the whole shop).
    pub(super) category: Option<&'static str>,
    pub(super) ads: &'static [&'static str],
    pub(super) keywords: &'static [&'static str],
    pub(super) weight: u32,
}

pub(super) const CAMPAIGNS: &[Campaign] = &[
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_smartfony",
        category: Some("smartphones"),
        ads: &["iphone15_rassrochka", "galaxy_s24_skidka", "redmi_note13"],
        keywords: &[
            "купить смартфон",
            "iphone 15 купить",
            "samsung galaxy s24 цена",
            "смартфон в рассрочку",
            "redmi note 13 pro",
        ],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_noutbuki",
        category: Some("laptops"),
        ads: &["macbook_air_m3", "igrovye_noutbuki"],
        keywords: &[
            "купить ноутбук",
            "игровой ноутбук",
            "macbook air m3",
            "ноутбук для учебы",
        ],
        weight: 15,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_bytovaya_tehnika",
        category: Some("appliances"),
        ads: &["dyson_v15", "robot_pylesos", "besplatnaya_dostavka"],
        keywords: &[
            "робот пылесос купить",
            "dyson v15 detect",
            "стиральная машина lg",
            "посудомоечная машина bosch",
            "кофемашина delonghi",
        ],
        weight: 25,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_televizory",
        category: Some("tv"),
        ads: &["oled_skidka", "ps5_v_nalichii"],
        keywords: &[
            "телевизор oled 55",
            "купить телевизор",
            "playstation 5 slim купить",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_aksessuary",
        category: Some("accessories"),
        ads: &["airpods_pro", "powerbank"],
        keywords: &[
            "airpods pro 2 купить",
            "повербанк 20000",
            "умные часы xiaomi",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_brend",
        category: None,
        ads: &["brend"],
        keywords: &[
            "пример маркет",
            "primer market",
            "магазин электроники пример",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_retargeting",
        category: None,
        ads: &["banner_korzina", "banner_skidka_20"],
        keywords: &[],
        weight: 40,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_smartfony",
        category: Some("smartphones"),
        ads: &["banner_iphone15", "banner_redmi"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_tehnika",
        category: Some("appliances"),
        ads: &["banner_dyson", "banner_roborock"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::GoogleAds,
        name: "google_search_electronics",
        category: None,
        ads: &["rsa_1", "rsa_2"],
        keywords: &[
            "интернет магазин электроники",
            "купить airpods pro",
            "playstation 5 купить",
        ],
        weight: 60,
    },
    Campaign {
        arrival: Arrival::GoogleAds,
        name: "google_pmax",
        category: None,
        ads: &["pmax_all_products"],
        keywords: &[],
        weight: 40,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_lookalike_pokupateli",
        category: None,
        ads: &["post_carousel", "video_obzor"],
        keywords: &[],
        weight: 45,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_retargeting_korzina",
        category: None,
        ads: &["post_skidka_korzina"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_televizory",
        category: Some("tv"),
        ads: &["post_oled_sale"],
        keywords: &[],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_smartfony",
        category: Some("smartphones"),
        ads: &["post_iphone_trade_in"],
        keywords: &[],
        weight: 15,
    },
];

/// Sites that link to the shop (referrer URLs).
pub(super) const REFERRERS: &[(&str, u32)] = &[
    ("https://market.yandex.ru/catalog--elektronika/54440", 30),
    (
        "https://otzovik.com/reviews/internet-magazin_primer_market/",
        20,
    ),
    (
        "https://irecommend.ru/content/internet-magazin-primer-market",
        15,
    ),
    ("https://www.ixbt.com/news/", 20),
    ("https://4pda.to/forum/index.php?showtopic=1084620", 15),
];

/// A campaign of `arrival`: the first visit's campaign sets the visitor's
/// interest; later ones follow it when they can.
pub(super) fn campaign(
    rng: &mut StdRng,
    arrival: Arrival,
    interest: &mut usize,
    first: bool,
) -> &'static Campaign {
    let fits = |c: &Campaign| {
        c.arrival == arrival
            && (first
                || c.category
                    .is_none_or(|slug| CATEGORIES[*interest].slug == slug))
    };
    let table: Vec<(&'static Campaign, u32)> = CAMPAIGNS
        .iter()
        .filter(|c| fits(c))
        .map(|c| (c, c.weight))
        .collect();
    let chosen = if table.is_empty() {
        &CAMPAIGNS[0]
    } else {
        *pick(rng, &table)
    };
    if first {
        if let Some(slug) = chosen.category {
            if let Some(c) = CATEGORIES.iter().position(|c| c.slug == slug) {
                *interest = c;
            }
        }
    }
    chosen
}

/// The landing page, its query (UTM tags, click ids) and the referrer.
pub(super) fn landing(
    rng: &mut StdRng,
    arrival: Arrival,
    interest: &mut usize,
    first: bool,
    date: NaiveDate,
) -> (Page, String, Option<String>) {
    let products = CATEGORIES[*interest].products.len();
    let content_page = |rng: &mut StdRng, interest: usize| match rng.gen_range(0..10) {
        0..=4 => Page::Product(interest, rng.gen_range(0..products)),
        5..=7 => Page::Catalog(interest),
        _ => Page::Blog(interest),
    };
    match arrival {
        Arrival::YandexOrganic => {
            let page = content_page(rng, *interest);
            // Yandex tags organic clicks with ysclid (not an ad click id).
            let query = if rng.gen_bool(0.6) {
                format!(
                    "?ysclid={:x}{}",
                    rng.gen_range(0x10_0000u32..0xff_ffff),
                    rng.gen_range(100_000_000u32..999_999_999)
                )
            } else {
                String::new()
            };
            let referrer = if rng.gen_bool(0.8) {
                "https://yandex.ru/"
            } else {
                "https://ya.ru/"
            };
            (page, query, Some(referrer.to_owned()))
        }
        Arrival::GoogleOrganic => {
            let referrer = if rng.gen_bool(0.7) {
                "https://www.google.com/"
            } else {
                "https://www.google.ru/"
            };
            (
                content_page(rng, *interest),
                String::new(),
                Some(referrer.to_owned()),
            )
        }
        Arrival::YandexSearchAds
        | Arrival::YandexNetworkAds
        | Arrival::GoogleAds
        | Arrival::VkAds => {
            let c = campaign(rng, arrival, interest, first);
            let page = match c.category {
                Some(_) if rng.gen_bool(0.6) => Page::Product(
                    *interest,
                    rng.gen_range(0..CATEGORIES[*interest].products.len()),
                ),
                Some(_) => Page::Catalog(*interest),
                None if rng.gen_bool(0.5) => Page::Home,
                None => Page::Promo(rng.gen_range(0..PROMOS.len())),
            };
            let (source, referrer) = match arrival {
                Arrival::GoogleAds => ("google", Some("https://www.google.com/")),
                Arrival::VkAds => ("vk", Some("https://vk.com/")),
                Arrival::YandexSearchAds => ("yandex", Some("https://yandex.ru/")),
                _ => ("yandex", None),
            };
            let mut query = format!(
                "?utm_source={source}&utm_medium=cpc&utm_campaign={}&utm_content={}",
                c.name,
                one(rng, c.ads)
            );
            if !c.keywords.is_empty() {
                let keyword = *one(rng, c.keywords);
                let _ = write!(query, "&utm_term={}", encode_query(keyword));
            }
            match arrival {
                Arrival::GoogleAds => {
                    let id: String = (0..40)
                        .map(|_| {
                            *one(
                                rng,
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                            ) as char
                        })
                        .collect();
                    let _ = write!(query, "&gclid={id}");
                }
                Arrival::YandexSearchAds | Arrival::YandexNetworkAds => {
                    let _ = write!(
                        query,
                        "&yclid={}",
                        rng.gen_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
                    );
                }
                _ => {}
            }
            (page, query, referrer.map(str::to_owned))
        }
        Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => {
            let referrer = match arrival {
                Arrival::VkSocial => *one(
                    rng,
                    &[
                        "https://vk.com/",
                        "https://m.vk.com/",
                        "https://away.vk.com/",
                    ],
                ),
                Arrival::TelegramSocial => "https://t.me/",
                _ => "https://dzen.ru/",
            };
            let page = if rng.gen_bool(0.3) {
                Page::Promo(rng.gen_range(0..PROMOS.len()))
            } else {
                content_page(rng, *interest)
            };
            (page, String::new(), Some(referrer.to_owned()))
        }
        Arrival::Email => {
            // A weekly digest (sent on Thursdays) or a trigger e-mail.
            let campaign = match rng.gen_range(0..10) {
                0..=6 => {
                    let back = (date.weekday().num_days_from_monday() + 7 - 3) % 7;
                    (date - Duration::days(i64::from(back)))
                        .format("digest_%Y_%m_%d")
                        .to_string()
                }
                7..=8 => "abandoned_cart".to_owned(),
                _ => "price_drop".to_owned(),
            };
            let page = match campaign.as_str() {
                "abandoned_cart" => Page::Cart,
                "price_drop" => Page::Product(*interest, rng.gen_range(0..products)),
                _ if rng.gen_bool(0.5) => Page::Promo(rng.gen_range(0..PROMOS.len())),
                _ => content_page(rng, *interest),
            };
            let query = format!(
                "?utm_source=unisender&utm_medium=email&utm_campaign={campaign}&utm_content={}",
                one(rng, &["header_banner", "product_card", "footer_link"])
            );
            (page, query, None)
        }
        Arrival::Referral => {
            let referrer = *pick(rng, REFERRERS);
            (
                content_page(rng, *interest),
                String::new(),
                Some(referrer.to_owned()),
            )
        }
        Arrival::Direct => {
            let page = match rng.gen_range(0..10) {
                0..=5 => Page::Home,
                6..=8 => Page::Product(*interest, rng.gen_range(0..products)),
                _ => Page::Cart,
            };
            (page, String::new(), None)
        }
    }
}

/// A page of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Page {
    Home,
    Catalog(usize),
    Product(usize, usize),
    Blog(usize),
    Promo(usize),
    Cart,
    Checkout,
    Delivery,
    Contacts,
}

impl Page {
    pub(super) fn path(self) -> String {
        match self {
            Page::Home => "/".to_owned(),
            Page::Catalog(c) => format!("/catalog/{}/", CATEGORIES[c].slug),
            Page::Product(c, p) => format!("/product/{}/", CATEGORIES[c].products[p].slug),
            Page::Blog(c) => format!("/blog/{}/", CATEGORIES[c].blog.0),
            Page::Promo(p) => format!("/promo/{}/", PROMOS[p].0),
            Page::Cart => "/cart/".to_owned(),
            Page::Checkout => "/checkout/".to_owned(),
            Page::Delivery => "/delivery/".to_owned(),
            Page::Contacts => "/contacts/".to_owned(),
        }
    }

    pub(super) fn title(self) -> String {
        match self {
            Page::Home => format!("{SHOP} — интернет-магазин электроники и техники"),
            Page::Catalog(c) => format!(
                "{} — купить в интернет-магазине {SHOP}",
                CATEGORIES[c].title
            ),
            Page::Product(c, p) => {
                let product = &CATEGORIES[c].products[p];
                format!(
                    "{} — купить по цене {} ₽ в {SHOP}",
                    product.name, product.price
                )
            }
            Page::Blog(c) => format!("{} — блог {SHOP}", CATEGORIES[c].blog.1),
            Page::Promo(p) => format!("{} — {SHOP}", PROMOS[p].1),
            Page::Cart => format!("Корзина — {SHOP}"),
            Page::Checkout => format!("Оформление заказа — {SHOP}"),
            Page::Delivery => format!("Доставка и оплата — {SHOP}"),
            Page::Contacts => format!("Контакты — {SHOP}"),
        }
    }
}

/// The next page of a walk through the shop.
pub(super) fn next_page(rng: &mut StdRng, from: Page, interest: usize) -> Page {
    let products = CATEGORIES[interest].products.len();
    let roll = rng.gen_range(0..100);
    let other = rng.gen_range(0..CATEGORIES.len());
    match from {
        Page::Home | Page::Promo(_) | Page::Blog(_) => match roll {
            0..=44 => Page::Catalog(interest),
            45..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=84 => Page::Catalog(other),
            _ => Page::Promo(rng.gen_range(0..PROMOS.len())),
        },
        Page::Catalog(_) => match roll {
            0..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=79 => Page::Catalog(other),
            80..=89 => Page::Cart,
            90..=94 => Page::Delivery,
            _ => Page::Home,
        },
        Page::Product(..) => match roll {
            0..=34 => Page::Product(interest, rng.gen_range(0..products)),
            35..=54 => Page::Catalog(interest),
            55..=79 => Page::Cart,
            80..=89 => Page::Delivery,
            90..=94 => Page::Contacts,
            _ => Page::Home,
        },
        Page::Cart => match roll {
            0..=39 => Page::Checkout,
            40..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=89 => Page::Delivery,
            _ => Page::Home,
        },
        Page::Checkout | Page::Delivery | Page::Contacts => match roll {
            0..=49 => Page::Catalog(interest),
            50..=79 => Page::Product(interest, rng.gen_range(0..products)),
            _ => Page::Home,
        },
    }
}
