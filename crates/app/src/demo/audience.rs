//! Who shops there: busy hours, browsers and screens, crawlers, languages,
//! time zones, names, phone codes and mail domains.

/// Local hours of the day, weighted by how busy they are.
pub(super) const HOURS: &[(u32, u32)] = &[
    (0, 20),
    (1, 10),
    (2, 6),
    (3, 4),
    (4, 3),
    (5, 4),
    (6, 8),
    (7, 18),
    (8, 30),
    (9, 45),
    (10, 55),
    (11, 60),
    (12, 60),
    (13, 60),
    (14, 58),
    (15, 55),
    (16, 53),
    (17, 52),
    (18, 55),
    (19, 62),
    (20, 68),
    (21, 66),
    (22, 50),
    (23, 35),
];

/// A browser: its User-Agent and the screens it comes with.
pub(super) struct Device {
    pub(super) ua: &'static str,
    pub(super) screens: &'static [&'static str],
}

pub(super) const DESKTOP_SCREENS: &[&str] = &[
    "1920x1080",
    "1920x1080",
    "1920x1080",
    "1366x768",
    "1536x864",
    "2560x1440",
    "1440x900",
    "1600x900",
    "1280x720",
];
pub(super) const MAC_SCREENS: &[&str] = &["1440x900", "1512x982", "1680x1050", "2560x1440"];
pub(super) const IPHONE_SCREENS: &[&str] = &["390x844", "393x852", "430x932", "375x667", "414x896"];
pub(super) const ANDROID_SCREENS: &[&str] =
    &["412x915", "360x800", "393x873", "384x854", "412x892"];
pub(super) const TABLET_SCREENS: &[&str] = &["810x1080", "820x1180", "800x1280"];

/// Real browsers of Russian shoppers: desktop 38%, phones 56%, tablets 6%.
pub(super) const DEVICES: &[(Device, u32)] = &[
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 14),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 10),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", screens: DESKTOP_SCREENS }, 3),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", screens: DESKTOP_SCREENS }, 3),
    (Device { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", screens: MAC_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: MAC_SCREENS }, 2),
    (Device { ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 1),
    (Device { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", screens: IPHONE_SCREENS }, 20),
    (Device { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 YaBrowser/24.4.3.455.10 SA/3 Mobile/15E148 Safari/604.1", screens: IPHONE_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 16),
    (Device { ua: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Linux; Android 13; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.1.5.73.00 SA/3 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 10),
    (Device { ua: "Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", screens: TABLET_SCREENS }, 4),
    (Device { ua: "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: TABLET_SCREENS }, 2),
];

/// Search engine crawlers (counted as bots, not visits).
pub(super) const CRAWLERS: &[&str] = &[
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
];

pub(super) const LANGS: &[(&str, u32)] = &[
    ("ru-RU", 78),
    ("ru", 12),
    ("en-US", 4),
    ("en-GB", 1),
    ("kk-KZ", 1),
    ("be-BY", 1),
    ("uk-UA", 1),
    ("hy-AM", 1),
    ("uz-UZ", 1),
];

pub(super) const TIME_ZONES: &[(&str, u32)] = &[
    ("Europe/Moscow", 64),
    ("Europe/Samara", 4),
    ("Asia/Yekaterinburg", 9),
    ("Asia/Novosibirsk", 5),
    ("Asia/Krasnoyarsk", 3),
    ("Europe/Kaliningrad", 2),
    ("Asia/Omsk", 2),
    ("Europe/Volgograd", 3),
    ("Asia/Vladivostok", 2),
    ("Asia/Irkutsk", 2),
    ("Asia/Almaty", 2),
    ("Europe/Minsk", 2),
];

pub(super) const MALE_NAMES: &[(&str, &str)] = &[
    ("Александр", "aleksandr"),
    ("Дмитрий", "dmitriy"),
    ("Максим", "maksim"),
    ("Сергей", "sergey"),
    ("Андрей", "andrey"),
    ("Алексей", "aleksey"),
    ("Иван", "ivan"),
    ("Михаил", "mikhail"),
    ("Артём", "artem"),
    ("Никита", "nikita"),
    ("Евгений", "evgeniy"),
    ("Владимир", "vladimir"),
    ("Павел", "pavel"),
    ("Роман", "roman"),
    ("Олег", "oleg"),
];

pub(super) const FEMALE_NAMES: &[(&str, &str)] = &[
    ("Анна", "anna"),
    ("Елена", "elena"),
    ("Мария", "mariya"),
    ("Ольга", "olga"),
    ("Наталья", "natalya"),
    ("Екатерина", "ekaterina"),
    ("Татьяна", "tatyana"),
    ("Ирина", "irina"),
    ("Светлана", "svetlana"),
    ("Юлия", "yuliya"),
    ("Анастасия", "anastasiya"),
    ("Дарья", "darya"),
    ("Марина", "marina"),
    ("Ксения", "kseniya"),
    ("Виктория", "viktoriya"),
];

/// Surnames in the male form (the female form adds "а").
pub(super) const SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Васильев", "vasilev"),
    ("Петров", "petrov"),
    ("Соколов", "sokolov"),
    ("Михайлов", "mikhaylov"),
    ("Новиков", "novikov"),
    ("Фёдоров", "fedorov"),
    ("Морозов", "morozov"),
    ("Волков", "volkov"),
    ("Алексеев", "alekseev"),
    ("Лебедев", "lebedev"),
    ("Семёнов", "semenov"),
    ("Егоров", "egorov"),
    ("Павлов", "pavlov"),
    ("Козлов", "kozlov"),
    ("Степанов", "stepanov"),
    ("Николаев", "nikolaev"),
    ("Орлов", "orlov"),
    ("Андреев", "andreev"),
    ("Макаров", "makarov"),
    ("Захаров", "zakharov"),
];

/// Mobile operator codes (the three digits after +7).
pub(super) const OPERATOR_CODES: &[&str] = &[
    "903", "905", "906", "909", "915", "916", "917", "919", "921", "925", "926", "929", "950",
    "952", "953", "962", "963", "964", "965", "977", "981", "985", "999",
];

pub(super) const MAIL_DOMAINS: &[(&str, u32)] = &[
    ("mail.ru", 35),
    ("yandex.ru", 30),
    ("gmail.com", 20),
    ("bk.ru", 5),
    ("list.ru", 4),
    ("inbox.ru", 3),
    ("rambler.ru", 3),
];
