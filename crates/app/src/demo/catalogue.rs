//! The shop's catalogue: categories, products with their prices, promos,
//! and the forms its pages offer.

/// A product the shop sells.
pub(super) struct Product {
    pub(super) slug: &'static str,
    pub(super) name: &'static str,
    /// Price in rubles.
    pub(super) price: i64,
}

/// A section of the catalogue.
pub(super) struct Category {
    pub(super) slug: &'static str,
    pub(super) title: &'static str,
    pub(super) products: &'static [Product],
    /// Profit as percent of revenue, lowest and highest.
    pub(super) margin: (i64, i64),
    /// A blog post about the category: (slug, title).
    pub(super) blog: (&'static str, &'static str),
}

pub(super) const fn product(slug: &'static str, name: &'static str, price: i64) -> Product {
    Product { slug, name, price }
}

/// The index of accessories in [`CATEGORIES`].
pub(super) const ACCESSORIES: usize = 3;

pub(super) const CATEGORIES: &[Category] = &[
    Category {
        slug: "smartphones",
        title: "Смартфоны",
        products: &[
            product("iphone-15-128gb", "Смартфон Apple iPhone 15 128 ГБ", 79_990),
            product(
                "iphone-15-pro-max-256gb",
                "Смартфон Apple iPhone 15 Pro Max 256 ГБ",
                139_990,
            ),
            product(
                "galaxy-s24-256gb",
                "Смартфон Samsung Galaxy S24 256 ГБ",
                74_990,
            ),
            product(
                "redmi-note-13-pro",
                "Смартфон Xiaomi Redmi Note 13 Pro 8/256 ГБ",
                27_990,
            ),
            product("poco-x6", "Смартфон POCO X6 12/256 ГБ", 24_990),
            product("honor-90", "Смартфон HONOR 90 8/256 ГБ", 32_990),
        ],
        margin: (8, 14),
        blog: ("kak-vybrat-smartfon", "Как выбрать смартфон"),
    },
    Category {
        slug: "laptops",
        title: "Ноутбуки",
        products: &[
            product(
                "macbook-air-13-m3",
                "Ноутбук Apple MacBook Air 13 M3 8/256 ГБ",
                119_990,
            ),
            product(
                "asus-vivobook-15",
                "Ноутбук ASUS VivoBook 15 X1504VA",
                54_990,
            ),
            product(
                "lenovo-ideapad-slim-3",
                "Ноутбук Lenovo IdeaPad Slim 3 15IRH8",
                62_990,
            ),
            product(
                "msi-katana-15",
                "Игровой ноутбук MSI Katana 15 B13VFK",
                109_990,
            ),
            product(
                "huawei-matebook-d16",
                "Ноутбук HUAWEI MateBook D 16",
                69_990,
            ),
        ],
        margin: (10, 16),
        blog: ("noutbuk-dlya-ucheby", "Ноутбук для учёбы: на что смотреть"),
    },
    Category {
        slug: "appliances",
        title: "Бытовая техника",
        products: &[
            product(
                "dyson-v15-detect",
                "Пылесос Dyson V15 Detect Absolute",
                74_990,
            ),
            product("roborock-s8", "Робот-пылесос Roborock S8", 59_990),
            product("lg-f2j3ws2w", "Стиральная машина LG F2J3WS2W", 36_990),
            product(
                "bosch-sms25aw01r",
                "Посудомоечная машина Bosch SMS25AW01R",
                42_990,
            ),
            product(
                "samsung-rb37a5200sa",
                "Холодильник Samsung RB37A5200SA",
                64_990,
            ),
            product(
                "delonghi-ecam22-110",
                "Кофемашина De'Longhi Magnifica S ECAM22.110",
                39_990,
            ),
            product(
                "polaris-pwk-1725cgl",
                "Электрочайник Polaris PWK 1725CGL",
                3_490,
            ),
        ],
        margin: (15, 25),
        blog: (
            "robot-pylesos-ili-vertikalnyy",
            "Робот-пылесос или вертикальный: что выбрать",
        ),
    },
    Category {
        slug: "accessories",
        title: "Аксессуары",
        products: &[
            product("airpods-pro-2", "Наушники Apple AirPods Pro 2", 22_990),
            product(
                "anker-powercore-20000",
                "Внешний аккумулятор Anker PowerCore 20000",
                4_990,
            ),
            product("jbl-flip-6", "Портативная колонка JBL Flip 6", 11_990),
            product("xiaomi-watch-s3", "Умные часы Xiaomi Watch S3", 14_990),
            product("logitech-mx-master-3s", "Мышь Logitech MX Master 3S", 9_990),
            product(
                "samsung-ep-t2510",
                "Сетевое зарядное устройство Samsung 25W",
                3_590,
            ),
        ],
        margin: (30, 45),
        blog: (
            "luchshie-besprovodnye-naushniki",
            "Лучшие беспроводные наушники",
        ),
    },
    Category {
        slug: "tv",
        title: "Телевизоры и консоли",
        products: &[
            product("lg-oled55c3rla", "Телевизор LG OLED55C3RLA 55\"", 129_990),
            product("xiaomi-tv-a2-43", "Телевизор Xiaomi Mi TV A2 43\"", 27_990),
            product(
                "yandex-station-max",
                "Умная колонка Яндекс Станция Макс",
                29_990,
            ),
            product(
                "sony-ps5-slim",
                "Игровая консоль Sony PlayStation 5 Slim",
                64_990,
            ),
        ],
        margin: (10, 18),
        blog: (
            "kakoy-televizor-vybrat",
            "Какой телевизор выбрать: OLED, QLED или LED",
        ),
    },
];

/// Which category a new visitor is after, when no campaign says.
pub(super) const CATEGORY_WEIGHTS: &[(usize, u32)] = &[(0, 30), (1, 15), (2, 25), (3, 18), (4, 12)];

pub(super) const PROMOS: &[(&str, &str)] = &[
    ("skidki-nedeli", "Скидки недели"),
    ("trade-in", "Trade-in: сдайте старый смартфон"),
    ("rassrochka", "Рассрочка 0-0-12"),
];

/// Forms on a product page.
pub(super) const PRODUCT_FORMS: &[(&str, u32)] = &[
    ("one_click_order", 40),
    ("callback", 35),
    ("consultation", 15),
    ("trade_in", 10),
];

/// Forms in the cart.
pub(super) const CART_FORMS: &[(&str, u32)] = &[("one_click_order", 70), ("callback", 30)];
