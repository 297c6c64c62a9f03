//! Messenger chats through the HTTP API: the `/collect` prefill for the
//! configured numbers and bots, the WhatsApp handshake and signed
//! deliveries (fixtures: text, media, statuses, several entries), Telegram
//! `/start` payloads, the generic `POST /api/v1/chats`, new and repeat
//! dialogs, codes edited away, redelivery, the chat report whose widgets
//! reconcile with its rows, and project isolation.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{error_code, TestServer};
use serde_json::{json, Value};
use skvoz_connectors::messengers::whatsapp::sign;

const APP_SECRET: &str = "meta-app-secret-0123456789";
const TG_SECRET: &str = "tg-secret-token-0123456789";

const WA_TEXT: &str =
    include_str!("../../connectors/src/messengers/fixtures/whatsapp/text_message.json");
const WA_IMAGE: &str =
    include_str!("../../connectors/src/messengers/fixtures/whatsapp/image_message.json");
const WA_STATUS: &str =
    include_str!("../../connectors/src/messengers/fixtures/whatsapp/status_update.json");
const WA_SEVERAL: &str =
    include_str!("../../connectors/src/messengers/fixtures/whatsapp/several_entries.json");
const TG_START: &str =
    include_str!("../../connectors/src/messengers/fixtures/telegram/start_payload.json");
const TG_TEXT: &str =
    include_str!("../../connectors/src/messengers/fixtures/telegram/text_message.json");
const TG_EDITED: &str =
    include_str!("../../connectors/src/messengers/fixtures/telegram/edited_message.json");

/// Moves the fixtures' 2023 timestamps (`17000xxxxx`) to `base` seconds.
fn at(fixture: &str, base: i64) -> String {
    let mut out = fixture.to_owned();
    for offset in (0..=3000).rev() {
        let from = (1_700_000_000 + offset).to_string();
        if out.contains(&from) {
            out = out.replace(&from, &(base + offset).to_string());
        }
    }
    out
}

fn messengers_config() -> Value {
    json!({
        "whatsapp": {
            "numbers": [
                {"number": "+74951234567", "greeting": "Здравствуйте! Хочу записаться",
                 "pages": [{"pattern": "/kids*", "greeting": "Сколько стоит детская фотосессия?"}]},
                {"number": "+74957654321", "greeting": "Вопрос по заказу"}
            ],
            "app_secret": APP_SECRET,
            "verify_token": "verify-me"
        },
        "telegram": {"bots": [{"username": "photo_studio_bot", "secret_token": TG_SECRET, "payload_prefix": "v"}]},
        "repeat_window_days": 30,
        "dialog_gap_hours": 24
    })
}

async fn configure(s: &TestServer, key: &str, messengers: Value) {
    s.patch_settings(key, |doc| doc["messengers"] = messengers)
        .await;
}

async fn collect(s: &TestServer, pk: &str, vid: &str, url: &str) -> Value {
    s.collect(json!({"key": pk, "vid": vid, "url": url, "screen": "1920x1080"}))
        .await
}

async fn whatsapp(s: &TestServer, pk: &str, body: &str, secret: &str) -> common::Reply {
    let req = Request::post(format!("/hooks/{pk}/whatsapp"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Hub-Signature-256", sign(body.as_bytes(), secret))
        .body(Body::from(body.to_owned()))
        .unwrap();
    s.send(req).await
}

async fn telegram(s: &TestServer, pk: &str, body: &str, secret: Option<&str>) -> common::Reply {
    let mut b = Request::post(format!("/hooks/{pk}/telegram"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(secret) = secret {
        b = b.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    s.send(b.body(Body::from(body.to_owned())).unwrap()).await
}

fn today() -> String {
    // The project's default zone is Moscow; a window around now covers it.
    (Utc::now() + Duration::hours(3))
        .format("%Y-%m-%d")
        .to_string()
}

async fn report(s: &TestServer, key: &str, query: &str) -> common::Reply {
    s.call(
        Method::GET,
        &format!("/api/v1/reports/chats?{query}"),
        Some(key),
        None,
    )
    .await
}

#[tokio::test]
async fn collect_prefills_the_configured_numbers_and_bots_only() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    let plain = collect(&s, &pk, "v0", "https://photo.ru/").await;
    assert_eq!(plain["wa_text"], Value::Null);
    assert!(
        plain.get("wa").is_none() && plain.get("tg").is_none(),
        "{plain}"
    );

    configure(&s, &key, messengers_config()).await;
    let kids = collect(
        &s,
        &pk,
        "v1",
        "https://photo.ru/kids/portraits?utm_source=vk",
    )
    .await;
    let code = kids["visit_code"].as_i64().unwrap();
    assert_eq!(
        kids["wa_text"],
        format!("Сколько стоит детская фотосессия? ID: {code}")
    );
    assert_eq!(kids["wa"][0]["n"], "74951234567");
    assert_eq!(kids["wa"][1]["n"], "74957654321");
    assert_eq!(kids["wa"][1]["t"], format!("Вопрос по заказу ID: {code}"));
    assert_eq!(kids["tg"][0]["b"], "photo_studio_bot");
    assert_eq!(kids["tg"][0]["p"], format!("v{code}"));
    let home = collect(&s, &pk, "v1", "https://photo.ru/contacts").await;
    assert_eq!(
        home["wa_text"],
        format!("Здравствуйте! Хочу записаться ID: {code}")
    );

    // Secrets come back masked.
    let doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    let m = &doc["messengers"];
    assert_eq!(m["whatsapp"]["app_secret"], "********");
    assert_eq!(m["whatsapp"]["verify_token"], "********");
    assert_eq!(m["telegram"]["bots"][0]["secret_token"], "********");
    assert_eq!(m["whatsapp"]["numbers"][0]["number"], "+74951234567");
}

#[tokio::test]
async fn bad_messenger_settings_name_the_field() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("studio").await;
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    doc["messengers"] =
        json!({"whatsapp": {"numbers": [{"number": "8 495 123"}], "app_secret": "x"}});
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.body["error"]["field"],
        "messengers.whatsapp.numbers[0].number"
    );
}

#[tokio::test]
async fn whatsapp_handshake_answers_the_challenge_only_for_the_token() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let ok = s
        .call(
            Method::GET,
            &format!("/hooks/{pk}/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"),
            None,
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.text, "1158201444");
    let bad = s
        .call(
            Method::GET,
            &format!(
                "/hooks/{pk}/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
            ),
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&bad), "forbidden");
}

#[tokio::test]
async fn whatsapp_message_links_the_visit_makes_a_chat_lead_and_redelivery_changes_nothing() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let v = collect(
        &s,
        &pk,
        "anna",
        "https://photo.ru/kids/?utm_source=yandex&utm_medium=cpc&utm_campaign=kids&utm_content=ad7&utm_term=photo",
    )
    .await;
    let code = v["visit_code"].as_i64().unwrap();
    let now = Utc::now().timestamp() - 600;
    let body = at(&WA_TEXT.replace("__CODE__", &code.to_string()), now);

    // A bad signature: 401 and nothing stored.
    let bad = whatsapp(&s, &pk, &body, "wrong-secret").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "{}", bad.text);
    assert_eq!(error_code(&bad), "unauthorized");
    let unsigned = s
        .send(
            Request::post(format!("/hooks/{pk}/whatsapp"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    let empty = report(&s, &key, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(empty.body["total"], 0, "{}", empty.text);

    let r = whatsapp(&s, &pk, &body, APP_SECRET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["messages"], 1);
    assert_eq!(r.body["dialogs_started"], 1);
    assert_eq!(r.body["leads"], 1);

    let again = whatsapp(&s, &pk, &body, APP_SECRET).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["duplicates"], 1);
    assert_eq!(again.body["dialogs_started"], 0);
    assert_eq!(again.body["leads"], 0);

    let rep = report(&s, &key, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    assert_eq!(rep.body["total"], 1, "{}", rep.text);
    let row = &rep.body["rows"][0];
    assert_eq!(row["messenger"], "whatsapp");
    assert_eq!(row["dialog_type"], "new");
    assert_eq!(row["source"], "yandex");
    assert_eq!(row["medium"], "cpc");
    assert_eq!(row["campaign"], "kids");
    assert_eq!(row["ad"], "ad7");
    assert_eq!(row["keyword"], "photo");
    assert_eq!(row["channel"], "paid search");
    assert_eq!(row["page"], "https://photo.ru/kids/");
    assert_eq!(row["screen"], "1920x1080");
    assert_eq!(row["os"], "Windows 10");
    assert_eq!(row["visit_id"], v["visit_id"]);
    assert_eq!(row["contact_name"], "Анна Петрова");
    assert_eq!(row["contact_phone"], "+79161234567");
    assert_eq!(row["messages"], 1);

    // The lead: kind chat, linked to the visit, contact by phone.
    let contact = row["contact_id"].as_i64().unwrap();
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(c.status, StatusCode::OK);
    let leads = c.body["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 1, "{}", c.text);
    assert_eq!(leads[0]["kind"], "chat");
    assert_eq!(leads[0]["visit_id"], v["visit_id"]);
    assert_eq!(c.body["deals"].as_array().unwrap().len(), 1);
    let ids = c.body["contact"]["identities"].to_string();
    assert!(
        ids.contains("+79161234567") && ids.contains("anna"),
        "{ids}"
    );
}

#[tokio::test]
async fn statuses_media_several_entries_and_codes_edited_away() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let now = Utc::now().timestamp() - 3000;

    let st = whatsapp(&s, &pk, &at(WA_STATUS, now), APP_SECRET).await;
    assert_eq!(st.status, StatusCode::OK, "{}", st.text);
    assert_eq!(
        (st.body["messages"].as_i64(), st.body["statuses"].as_i64()),
        (Some(0), Some(2))
    );

    let img = whatsapp(&s, &pk, &at(WA_IMAGE, now), APP_SECRET).await;
    assert_eq!(img.status, StatusCode::OK, "{}", img.text);
    assert_eq!(img.body["messages"], 2);
    assert_eq!(img.body["dialogs_started"], 1, "two messages, one dialog");

    let several = whatsapp(&s, &pk, &at(WA_SEVERAL, now), APP_SECRET).await;
    assert_eq!(several.status, StatusCode::OK, "{}", several.text);
    assert_eq!(several.body["messages"], 2);
    assert_eq!(several.body["statuses"], 1);
    assert_eq!(several.body["skipped"], 1);
    assert_eq!(several.body["dialogs_started"], 2);
    assert_eq!(several.body["leads"], 2);

    let rep = report(&s, &key, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(rep.body["total"], 3, "{}", rep.text);
    let rows = rep.body["rows"].as_array().unwrap();
    let maria = rows.iter().find(|r| r["contact_name"] == "Мария").unwrap();
    assert_eq!(maria["code_edited_away"], true, "{maria}");
    assert_eq!(maria["visit_id"], Value::Null);
    assert_eq!(maria["source"], Value::Null);
    let pavel = rows.iter().find(|r| r["contact_name"] == "Pavel").unwrap();
    assert_eq!(pavel["code_edited_away"], false);
    let oleg = rows.iter().find(|r| r["contact_name"] == "Олег").unwrap();
    assert_eq!(oleg["messages"], 2);
    // Unattributed dialogs are counted under one name in the widgets.
    assert_eq!(rep.body["widgets"]["channels"][0]["name"], "(unattributed)");
    assert_eq!(rep.body["widgets"]["channels"][0]["dialogs"], 3);
}

#[tokio::test]
async fn repeat_dialogs_are_counted_but_are_not_new_leads() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let first = Utc::now() - Duration::days(5);
    let r = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(
                json!({"id": "m-1", "channel": "whatsapp", "from": "8 (916) 123-45-67",
                "text": "Здравствуйте", "sent_at": first.to_rfc3339()}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["is_new"], true);
    let lead = r.body["lead_id"].as_i64().unwrap();
    let contact = r.body["contact_id"].as_i64().unwrap();

    // Within the gap: the same dialog.
    let same = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(json!({"id": "m-2", "channel": "whatsapp", "from": "+79161234567",
                "text": "Есть время завтра?", "sent_at": (first + Duration::hours(2)).to_rfc3339()})),
        )
        .await;
    assert_eq!(same.body["dialog_id"], r.body["dialog_id"]);
    assert_eq!(same.body["dialog_started"], false);

    // Three days later: a repeat dialog, same contact, no new lead.
    let later = Utc::now() - Duration::days(2);
    let rep = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(
                json!({"id": "m-3", "channel": "whatsapp", "from": "+79161234567",
                "text": "Снова я", "sent_at": later.to_rfc3339(), "tags": ["vip"]}),
            ),
        )
        .await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    assert_eq!(rep.body["dialog_started"], true);
    assert_eq!(rep.body["is_new"], false);
    assert_eq!(rep.body["lead_id"], Value::Null);
    assert_eq!(rep.body["contact_id"], contact);

    let from = (first - Duration::days(1)).format("%Y-%m-%d");
    let report = report(&s, &key, &format!("from={from}&to={}", today())).await;
    assert_eq!(report.body["total"], 2, "{}", report.text);
    let nr = &report.body["widgets"]["new_repeat"];
    assert_eq!(
        (nr["new"].as_i64(), nr["repeat"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(nr["new_share"], 50.0);
    // One dialog became a lead; neither named a visit.
    assert_eq!(report.body["widgets"]["leads"], 1);
    assert_eq!(report.body["widgets"]["attributed"], 0);
    // Both dialogs, the repeat one too, are on the contact's timeline.
    let t = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}/timeline"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    let chats: Vec<&Value> = t.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "chat")
        .collect();
    assert_eq!(chats.len(), 2, "{}", t.text);
    assert_eq!(chats[0]["data"]["messages"], 2);
    assert_eq!(chats[1]["data"]["is_new"], false);
    assert_eq!(chats[0]["title"], "whatsapp");
    let repeat_row = &report.body["rows"][1];
    assert_eq!(repeat_row["dialog_type"], "repeat");
    assert_eq!(repeat_row["tags"], json!(["vip"]));
    assert_eq!(repeat_row["earlier_contacts"][0]["kind"], "chat");
    assert_eq!(report.body["rows"][0]["lead_id"], lead);

    // The generic shape is validated.
    for (body, field) in [
        (
            json!({"id": "x", "channel": "icq!", "from": "1", "sent_at": later.to_rfc3339()}),
            "channel",
        ),
        (
            json!({"id": "x", "channel": "whatsapp", "from": "nope", "sent_at": later.to_rfc3339()}),
            "from",
        ),
        (
            json!({"id": "x", "channel": "telegram", "from": "abc", "sent_at": later.to_rfc3339()}),
            "from",
        ),
        (
            json!({"id": "", "channel": "whatsapp", "from": "+79161234567", "sent_at": later.to_rfc3339()}),
            "id",
        ),
        (
            json!({"id": "x", "channel": "whatsapp", "from": "+79161234567", "sent_at": (Utc::now() + Duration::days(1)).to_rfc3339()}),
            "sent_at",
        ),
    ] {
        let r = s
            .call(
                Method::POST,
                "/api/v1/chats",
                Some(&key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {}",
            r.text
        );
        assert_eq!(r.body["error"]["field"], field, "{body}");
    }
    let r = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(json!({"id": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
}

#[tokio::test]
async fn telegram_start_payload_links_the_visit() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let v = collect(
        &s,
        &pk,
        "irina",
        "https://photo.ru/studio?utm_source=vk&utm_medium=social",
    )
    .await;
    let code = v["visit_code"].as_i64().unwrap();
    let now = Utc::now().timestamp() - 300;
    let start = at(&TG_START.replace("__CODE__", &code.to_string()), now);

    let wrong = telegram(&s, &pk, &start, Some("not-the-secret-token")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = telegram(&s, &pk, &start, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);

    let r = telegram(&s, &pk, &start, Some(TG_SECRET)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["dialogs_started"].as_i64(), r.body["leads"].as_i64()),
        (Some(1), Some(1))
    );
    let text = telegram(&s, &pk, &at(TG_TEXT, now), Some(TG_SECRET)).await;
    assert_eq!(text.body["dialogs_started"], 0, "{}", text.text);
    let edited = telegram(&s, &pk, &at(TG_EDITED, now), Some(TG_SECRET)).await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(edited.body["skipped"], 1);
    let junk = telegram(&s, &pk, "{\"nope\":1}", Some(TG_SECRET)).await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);

    let rep = report(&s, &key, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(rep.body["total"], 1, "{}", rep.text);
    let row = &rep.body["rows"][0];
    assert_eq!(row["messenger"], "telegram");
    assert_eq!(row["visit_id"], v["visit_id"]);
    assert_eq!(row["source"], "vk");
    assert_eq!(row["channel"], "social");
    assert_eq!(row["page"], "https://photo.ru/studio");
    assert_eq!(row["messages"], 2);
    assert_eq!(row["contact_name"], "Ирина Смирнова");
    let d = s
        .call(
            Method::GET,
            &format!("/api/v1/chats/{}", row["dialog_id"]),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.body["messages"].as_array().unwrap().len(), 2);
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{}", row["contact_id"]),
            Some(&key),
            None,
        )
        .await;
    assert!(
        c.text.contains("\"telegram\"") && c.text.contains("5012345678"),
        "{}",
        c.text
    );
}

#[tokio::test]
async fn report_widgets_reconcile_with_rows_and_compare_periods() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let pages = ["/kids/a", "/kids/b", "/wedding", "/"];
    let mut codes = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let src = [
            "utm_source=yandex&utm_medium=cpc",
            "utm_source=vk&utm_medium=social",
            "",
            "utm_source=google&utm_medium=organic",
        ][i];
        let v = collect(
            &s,
            &pk,
            &format!("p{i}"),
            &format!("https://photo.ru{p}?{src}"),
        )
        .await;
        codes.push(v["visit_code"].as_i64().unwrap());
    }
    let now = Utc::now();
    let mut n = 0;
    for day in 0..40i64 {
        for k in 0..(day % 3) {
            n += 1;
            let sent = now - Duration::days(day) - Duration::minutes(10 + k);
            // Every third chat repeats a sender; some carry no code.
            let from = format!("+7916{:07}", n % 7);
            let code = codes[(n % 5).min(3) as usize];
            let text = if n % 5 == 4 {
                "Привет".to_owned()
            } else {
                format!("Вопрос ID: {code}")
            };
            let r = s
                .call(
                    Method::POST,
                    "/api/v1/chats",
                    Some(&key),
                    Some(json!({"id": format!("r{n}"), "channel": if n % 2 == 0 {"whatsapp"} else {"telegram"},
                        "from": if n % 2 == 0 { from } else { format!("{}", 1000 + n % 7) },
                        "text": text, "sent_at": sent.to_rfc3339(),
                        "visit_code": if n % 2 == 1 && n % 5 != 4 { json!(code) } else { Value::Null }})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }
    let to = today();
    let from = (now + Duration::hours(3) - Duration::days(45))
        .format("%Y-%m-%d")
        .to_string();
    for g in ["day", "week", "month", "quarter"] {
        let r = report(
            &s,
            &key,
            &format!("from={from}&to={to}&granularity={g}&limit=10000&top=100"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let rows = r.body["rows"].as_array().unwrap();
        let w = &r.body["widgets"];
        let total = r.body["total"].as_u64().unwrap();
        assert_eq!(rows.len() as u64, total);
        assert!(total > 20, "{total}");
        let new = rows.iter().filter(|r| r["dialog_type"] == "new").count() as u64;
        assert_eq!(w["new_repeat"]["dialogs"].as_u64(), Some(total));
        assert_eq!(w["new_repeat"]["new"].as_u64(), Some(new));
        assert_eq!(w["new_repeat"]["repeat"].as_u64(), Some(total - new));
        let sum = |name: &str| -> u64 {
            w[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["dialogs"].as_u64().unwrap())
                .sum()
        };
        assert_eq!(sum("channels"), total);
        assert_eq!(sum("messengers"), total);
        assert_eq!(sum("top_pages"), total);
        let dyn_total: u64 = w["dynamics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["dialogs"].as_u64().unwrap())
            .sum();
        assert_eq!(dyn_total, total, "{g}");
        // Each channel's count is the number of rows with that channel.
        for c in w["channels"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let rows_with = rows
                .iter()
                .filter(|r| r["channel"].as_str().unwrap_or("(unattributed)") == name)
                .count() as u64;
            assert_eq!(c["dialogs"].as_u64(), Some(rows_with), "{name}");
        }
        for p in w["top_pages"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let rows_with = rows
                .iter()
                .filter(|r| r["page"].as_str().unwrap_or("(unattributed)") == name)
                .count() as u64;
            assert_eq!(p["dialogs"].as_u64(), Some(rows_with), "{name}");
        }
    }
    // Two halves compared: together they are the whole.
    let mid = (now + Duration::hours(3) - Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    let mid_next = (now + Duration::hours(3) - Duration::days(19))
        .format("%Y-%m-%d")
        .to_string();
    let whole = report(&s, &key, &format!("from={from}&to={to}")).await.body["total"]
        .as_u64()
        .unwrap();
    let r = report(
        &s,
        &key,
        &format!("from={mid_next}&to={to}&compare_from={from}&compare_to={mid}&granularity=week"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let a = r.body["widgets"]["new_repeat"]["dialogs"].as_u64().unwrap();
    let b = r.body["compare"]["widgets"]["new_repeat"]["dialogs"]
        .as_u64()
        .unwrap();
    assert_eq!(a + b, whole);
    assert_eq!(r.body["total"].as_u64(), Some(a));
    // Paging.
    let page = report(&s, &key, &format!("from={from}&to={to}&limit=5&offset=5")).await;
    assert_eq!(page.body["rows"].as_array().unwrap().len(), 5);
    assert_eq!(page.body["total"].as_u64(), Some(whole));

    // Bad parameters name the field.
    for (q, field) in [
        ("to=2024-01-01".to_owned(), "from"),
        (format!("from={to}&to=2020-01-01"), "to"),
        (
            format!("from={from}&to={to}&granularity=year"),
            "granularity",
        ),
        (
            format!("from={from}&to={to}&compare_from={from}"),
            "compare_to",
        ),
        (format!("from={from}&to={to}&limit=0"), "limit"),
        ("from=2020-01-01&to=2026-01-01".to_owned(), "to"),
        ("from=yesterday&to=2026-01-01".to_owned(), "from"),
    ] {
        let r = report(&s, &key, &q).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["field"], field, "{q}");
    }
    let anon = s
        .call(
            Method::GET,
            &format!("/api/v1/reports/chats?from={from}&to={to}"),
            None,
            None,
        )
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn projects_never_see_each_others_chats() {
    let s = TestServer::new().await;
    let (_, pk_a, key_a) = s.project("alpha").await;
    let (_, pk_b, key_b) = s.project("beta").await;
    configure(&s, &key_a, messengers_config()).await;
    let v = collect(
        &s,
        &pk_a,
        "va",
        "https://a.ru/?utm_source=yandex&utm_medium=cpc",
    )
    .await;
    let code = v["visit_code"].as_i64().unwrap();
    let now = Utc::now().timestamp() - 100;
    let body = at(&WA_TEXT.replace("__CODE__", &code.to_string()), now);
    let r = whatsapp(&s, &pk_a, &body, APP_SECRET).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rep = report(&s, &key_a, &format!("from={}&to={}", today(), today())).await;
    let dialog = rep.body["rows"][0]["dialog_id"].as_i64().unwrap();

    // B's key: no dialog, an empty report.
    let d = s
        .call(
            Method::GET,
            &format!("/api/v1/chats/{dialog}"),
            Some(&key_b),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::NOT_FOUND);
    let rb = report(&s, &key_b, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(rb.body["total"], 0);
    // B has no WhatsApp configured: A's signed delivery to B's URL is refused.
    let to_b = whatsapp(&s, &pk_b, &body, APP_SECRET).await;
    assert_eq!(to_b.status, StatusCode::NOT_FOUND, "{}", to_b.text);
    // Nor A's Telegram secret, nor A's verify token, on B's URLs.
    let tg_b = telegram(&s, &pk_b, &at(TG_TEXT, now), Some(TG_SECRET)).await;
    assert_eq!(tg_b.status, StatusCode::NOT_FOUND, "{}", tg_b.text);
    let verify_b = s
        .call(
            Method::GET,
            &format!("/hooks/{pk_b}/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1"),
            None,
            None,
        )
        .await;
    assert_eq!(verify_b.status, StatusCode::FORBIDDEN);
    // B quoting A's visit code and A's message id: its own, unattributed dialog.
    let own = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key_b),
            Some(
                json!({"id": "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "channel": "whatsapp", "from": "+79161234567",
                "text": format!("ID: {code}"), "sent_at": Utc::now().to_rfc3339()}),
            ),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.body["duplicate"], false);
    assert_eq!(own.body["visit_id"], Value::Null);
    assert_ne!(own.body["contact_id"], rep.body["rows"][0]["contact_id"]);
    // A still has exactly its one dialog.
    let ra = report(&s, &key_a, &format!("from={}&to={}", today(), today())).await;
    assert_eq!(ra.body["total"], 1);
}

#[tokio::test]
async fn a_dialog_follows_its_contact_into_a_merge() {
    let s = TestServer::new().await;
    let (_, pk, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let form = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(&key),
            Some(json!({"vid": "x-older", "phone": "+79031112233", "name": "Ольга"})),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let older = form.body["contact_id"].as_i64().unwrap();
    let v = collect(
        &s,
        &pk,
        "y-chat",
        "https://photo.ru/?utm_source=vk&utm_medium=social",
    )
    .await;
    let chat = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(json!({"id": "777:1", "channel": "telegram", "from": "777",
                "text": format!("/start v{}", v["visit_code"]), "sent_at": Utc::now().to_rfc3339()})),
        )
        .await;
    assert_eq!(chat.status, StatusCode::OK, "{}", chat.text);
    assert_eq!(chat.body["visit_id"], v["visit_id"]);
    assert_ne!(chat.body["contact_id"], older);
    // A lead naming the chat's visitor and the form's phone: one person.
    let merge = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(&key),
            Some(json!({"vid": "y-chat", "phone": "+79031112233"})),
        )
        .await;
    assert_eq!(merge.body["contact_id"], older, "{}", merge.text);
    let rep = report(&s, &key, &format!("from={}&to={}", today(), today())).await;
    let row = &rep.body["rows"][0];
    assert_eq!(row["contact_id"], older, "{row}");
    assert_eq!(row["contact_phone"], "+79031112233");
    assert_eq!(row["earlier_contacts"][0]["kind"], "form", "{row}");
}

/// Regression guard: a crash between storing a dialog's first message and
/// making its lead must not leave the dialog without a lead forever — the
/// sender's redelivery finishes the job.
#[tokio::test]
async fn a_redelivered_first_message_finishes_an_interrupted_lead() {
    let s = TestServer::new().await;
    let (project, _, key) = s.project("studio").await;
    configure(&s, &key, messengers_config()).await;
    let scope = skvoz_store::Scope::new(skvoz_domain::ProjectId(project));
    let sent_at = Utc::now() - Duration::minutes(3);
    // The message stored, the process gone before the lead.
    let rec = s
        .store
        .record_chat_message(
            scope,
            skvoz_store::NewChatMessage {
                messenger: "whatsapp".into(),
                external_chat: "79161234567".into(),
                message_id: "wamid.crash".into(),
                sent_at,
                kind: "text".into(),
                text: Some("Здравствуйте".into()),
                name: None,
                phone: Some("+79161234567".into()),
                username: None,
                visit_code: None,
                visit_id: None,
                page: None,
                code_edited_away: false,
                tags: vec![],
            },
            skvoz_store::DialogPolicy {
                gap: Duration::hours(24),
                repeat_window: Duration::days(30),
            },
        )
        .await
        .unwrap();
    assert_eq!(rec.lead_id, None);
    let r = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(
                json!({"id": "wamid.crash", "channel": "whatsapp", "from": "+79161234567",
                "text": "Здравствуйте", "sent_at": sent_at.to_rfc3339()}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["duplicate"], true);
    assert_eq!(r.body["dialog_id"], rec.dialog_id);
    let lead = r.body["lead_id"].as_i64().expect("the lead is made now");
    // And only once.
    let again = s
        .call(
            Method::POST,
            "/api/v1/chats",
            Some(&key),
            Some(
                json!({"id": "wamid.crash", "channel": "whatsapp", "from": "+79161234567",
                "text": "Здравствуйте", "sent_at": sent_at.to_rfc3339()}),
            ),
        )
        .await;
    assert_eq!(again.body["lead_id"], lead);
    let contact = r.body["contact_id"].as_i64().unwrap();
    let c = s
        .call(
            Method::GET,
            &format!("/api/v1/contacts/{contact}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(c.body["leads"].as_array().unwrap().len(), 1, "{}", c.text);
}
