//! WhatsApp Cloud API and Telegram Bot API fixtures through the parsers,
//! and the visit-code marker on the texts they carry.

#![allow(clippy::unwrap_used)]

use skvoz_connectors::messengers::marker::scan;
use skvoz_connectors::messengers::{telegram, whatsapp};
use skvoz_domain::messengers::Messenger;

const WA_TEXT: &str = include_str!("../src/messengers/fixtures/whatsapp/text_message.json");
const WA_IMAGE: &str = include_str!("../src/messengers/fixtures/whatsapp/image_message.json");
const WA_STATUS: &str = include_str!("../src/messengers/fixtures/whatsapp/status_update.json");
const WA_SEVERAL: &str = include_str!("../src/messengers/fixtures/whatsapp/several_entries.json");
const TG_START: &str = include_str!("../src/messengers/fixtures/telegram/start_payload.json");
const TG_TEXT: &str = include_str!("../src/messengers/fixtures/telegram/text_message.json");
const TG_PHOTO: &str = include_str!("../src/messengers/fixtures/telegram/photo_message.json");
const TG_EDITED: &str = include_str!("../src/messengers/fixtures/telegram/edited_message.json");

#[test]
fn whatsapp_text_message_with_its_marker() {
    let body = WA_TEXT.replace("__CODE__", "4521");
    let d = whatsapp::parse_webhook(body.as_bytes()).unwrap();
    assert_eq!((d.messages.len(), d.statuses, d.skipped), (1, 0, 0));
    let m = &d.messages[0];
    assert_eq!(m.messenger, Messenger::Whatsapp);
    assert_eq!(m.external_chat, "79161234567");
    assert_eq!(m.phone.as_deref(), Some("+79161234567"));
    assert_eq!(m.name.as_deref(), Some("Анна Петрова"));
    assert_eq!(m.kind, "text");
    assert_eq!(m.to.as_deref(), Some("74951234567"));
    assert_eq!(m.sent_at.timestamp(), 1_700_000_000);
    assert!(m.message_id.starts_with("wamid."));
    let s = scan(m.text.as_deref().unwrap(), "ID: {code}");
    assert_eq!(s.code, Some(4521));
}

#[test]
fn whatsapp_media_messages() {
    let d = whatsapp::parse_webhook(WA_IMAGE.as_bytes()).unwrap();
    assert_eq!(d.messages.len(), 2);
    assert_eq!(d.messages[0].kind, "image");
    assert_eq!(d.messages[0].text.as_deref(), Some("Вот такой фон хочу"));
    assert_eq!(d.messages[1].kind, "audio");
    assert_eq!(d.messages[1].text, None);
    assert_eq!(d.messages[1].name.as_deref(), Some("Олег"));
}

#[test]
fn whatsapp_statuses_are_not_messages() {
    let d = whatsapp::parse_webhook(WA_STATUS.as_bytes()).unwrap();
    assert!(d.messages.is_empty());
    assert_eq!(d.statuses, 2);
}

#[test]
fn whatsapp_several_entries_and_a_code_edited_away() {
    let d = whatsapp::parse_webhook(WA_SEVERAL.as_bytes()).unwrap();
    assert_eq!((d.messages.len(), d.statuses, d.skipped), (2, 1, 1));
    let edited = scan(d.messages[0].text.as_deref().unwrap(), "ID: {code}");
    assert_eq!((edited.code, edited.label_seen), (None, true));
    let plain = scan(d.messages[1].text.as_deref().unwrap(), "ID: {code}");
    assert_eq!((plain.code, plain.label_seen), (None, false));
    assert_eq!(d.messages[1].name.as_deref(), Some("Pavel"));
}

#[test]
fn whatsapp_rejects_other_objects_and_junk() {
    assert!(whatsapp::parse_webhook(b"not json").is_err());
    assert!(whatsapp::parse_webhook(br#"{"object":"page","entry":[]}"#).is_err());
    assert!(whatsapp::parse_webhook(br#"{"object":"whatsapp_business_account"}"#).is_err());
}

#[test]
fn whatsapp_signature_over_the_raw_fixture() {
    let sig = whatsapp::sign(WA_TEXT.as_bytes(), "app-secret");
    assert!(whatsapp::signature_valid(
        WA_TEXT.as_bytes(),
        Some(&sig),
        "app-secret"
    ));
    let tampered = WA_TEXT.replace("Анна", "Анн");
    assert!(!whatsapp::signature_valid(
        tampered.as_bytes(),
        Some(&sig),
        "app-secret"
    ));
}

#[test]
fn telegram_start_payload_carries_the_code() {
    let body = TG_START.replace("__CODE__", "987");
    let m = telegram::parse_update(body.as_bytes(), "shop_bot")
        .unwrap()
        .unwrap();
    assert_eq!(m.messenger, Messenger::Telegram);
    assert_eq!(m.external_chat, "5012345678");
    assert_eq!(m.message_id, "5012345678:17");
    assert_eq!(m.kind, "start");
    assert_eq!(m.start_payload.as_deref(), Some("v987"));
    assert_eq!(telegram::code_in_payload("v987", "v"), Some(987));
    assert_eq!(m.name.as_deref(), Some("Ирина Смирнова"));
    assert_eq!(m.username.as_deref(), Some("irina_sm"));
    assert_eq!(m.phone, None);
}

#[test]
fn telegram_text_photo_and_edits() {
    let t = telegram::parse_update(TG_TEXT.as_bytes(), "shop_bot")
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.kind.as_str(), t.start_payload.as_deref()),
        ("text", None)
    );
    let p = telegram::parse_update(TG_PHOTO.as_bytes(), "shop_bot")
        .unwrap()
        .unwrap();
    assert_eq!(p.kind, "photo");
    assert_eq!(p.text.as_deref(), Some("как на этом фото"));
    assert_eq!(
        telegram::parse_update(TG_EDITED.as_bytes(), "shop_bot").unwrap(),
        None
    );
    assert!(telegram::parse_update(b"{}", "shop_bot").is_err());
    assert!(telegram::parse_update(b"[", "shop_bot").is_err());
}
