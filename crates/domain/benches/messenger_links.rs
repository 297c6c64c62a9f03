//! The per-hit cost messenger tracking adds to `/collect`: the prefill
//! texts of every configured WhatsApp number for the page (page-pattern
//! greetings matched by wildcard) and the Telegram payloads.
//! `cargo bench -p skvoz-domain --bench messenger_links`
//! (env BENCH_ITERS, default 1,000,000).

#![allow(clippy::unwrap_used, missing_docs)]

use skvoz_domain::messengers::{MessengerLinks, MessengerSettings};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let pages: Vec<_> = (0..10)
        .map(|i| serde_json::json!({"pattern": format!("/section{i}/*"), "greeting": format!("Вопрос про раздел {i}")}))
        .collect();
    let settings: MessengerSettings = serde_json::from_value(serde_json::json!({
        "whatsapp": {
            "numbers": [
                {"number": "+74951234567", "greeting": "Здравствуйте!", "pages": pages},
                {"number": "+74957654321", "greeting": "Вопрос по заказу"}
            ],
            "app_secret": "x"
        },
        "telegram": {"bots": [{"username": "shop_bot", "secret_token": "0123456789abcdef"}]}
    }))
    .unwrap();
    settings.validate().unwrap();
    let links = MessengerLinks::new(&settings);
    let urls = [
        "https://shop.example.ru/section9/item?utm_source=yandex&utm_medium=cpc",
        "https://shop.example.ru/catalog/42",
        "https://shop.example.ru/",
    ];
    let empty = MessengerLinks::new(&MessengerSettings::default());
    for (name, links) in [
        ("2 numbers, 10 page patterns, 1 bot", &links),
        ("not configured", &empty),
    ] {
        let start = Instant::now();
        let mut bytes = 0usize;
        for i in 0..iters {
            let code = 100_000 + i as i64;
            if links.is_empty() {
                continue;
            }
            let wa = links.wa_texts(black_box(urls[i % urls.len()]), code);
            let tg = links.tg_payloads(code);
            bytes += wa.len() + tg.len();
            black_box((wa, tg));
        }
        let per = start.elapsed().as_nanos() as f64 / iters as f64;
        println!("{name}: {per:.0} ns per hit ({iters} hits, {bytes})");
    }
}
