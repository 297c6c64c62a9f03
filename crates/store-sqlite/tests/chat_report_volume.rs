//! How long the chat report's row query takes over many dialogs, each with
//! its contact's phone and earlier contacts: 20,000 messages from 5,000
//! senders (each with a lead) over 90 days. Ignored by default (it is a measurement):
//! `cargo test -p skvoz-store-sqlite --test chat_report_volume -- --ignored --nocapture`.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use serde_json::json;
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::ProjectName;
use skvoz_store::{
    ChatStore, CrmStore, DialogPolicy, LeadPolicy, NewChatMessage, NewLead, NewProject,
    ProjectStore, Scope,
};
use skvoz_store_sqlite::{Durability, SqliteOptions, SqliteStore};
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored"]
async fn chat_report_rows_over_20000_dialogs() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SqliteOptions::new(dir.path());
    opts.durability = Durability::Normal;
    let store = SqliteStore::open(&opts).unwrap();
    let p = store
        .create_project(NewProject {
            name: ProjectName::new("volume").unwrap(),
            public_key: "pk".into(),
            api_key_hash: "h".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let scope = Scope::new(p.id);
    let policy = DialogPolicy {
        gap: Duration::hours(24),
        repeat_window: Duration::days(30),
    };
    let start = Utc::now() - Duration::days(90);
    let written = Instant::now();
    for i in 0..20_000i64 {
        let phone = format!("+7958{:07}", i % 5_000);
        let sent_at = start + Duration::minutes(i * 6);
        let rec = store
            .record_chat_message(
                scope,
                NewChatMessage {
                    messenger: if i % 3 == 0 { "telegram" } else { "whatsapp" }.into(),
                    external_chat: format!("7958{:07}", i % 5_000),
                    message_id: format!("m{i}"),
                    sent_at,
                    kind: "text".into(),
                    text: Some("Здравствуйте! ID: 1".into()),
                    name: Some("Анна".into()),
                    phone: None,
                    username: None,
                    visit_code: None,
                    visit_id: None,
                    page: Some(format!("https://shop.ru/p{}", i % 40)),
                    code_edited_away: false,
                    tags: vec![],
                },
                policy,
            )
            .await
            .unwrap();
        if rec.first_message && rec.contact_id.is_none() {
            let lead = store
                .record_lead(
                    scope,
                    NewLead {
                        kind: LeadKind::Chat,
                        source_id: Some(format!("m{i}")),
                        created_at: sent_at,
                        visit_id: None,
                        identities: vec![Identity::new(IdentityKind::Phone, phone)],
                        name: None,
                        payload: json!({}),
                    },
                    LeadPolicy {
                        dedup: true,
                        first_stage: "new".into(),
                    },
                )
                .await
                .unwrap();
            store
                .link_dialog(
                    scope,
                    rec.dialog_id,
                    Some(lead.contact_id),
                    Some(lead.lead_id),
                )
                .await
                .unwrap();
        }
    }
    let write = written.elapsed();
    let read = Instant::now();
    let rows = store
        .chat_report_rows(scope, start - Duration::days(1), Utc::now(), 100_001)
        .await
        .unwrap();
    let took = read.elapsed();
    assert!(rows.len() >= 5_000);
    assert!(rows.iter().filter(|r| !r.earlier.is_empty()).count() > 1_000);
    assert!(rows.iter().all(|r| r.contact_phone.is_some()));
    eprintln!(
        "chat_report_volume: {} messages written in {write:?}; {} dialogs read in {took:?}",
        20_000,
        rows.len()
    );
}
