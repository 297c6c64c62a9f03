//! The demo's messenger dialogs, read back through the chat report:
//! WhatsApp and Telegram, new and repeat, attributed to visits, some with
//! the code edited away; every chat lead's deal taken over by the demo CRM.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use skvoz_app::chats::ChatReportQuery;
use skvoz_app::demo::{self, DemoOptions};
use skvoz_app::App;
use skvoz_domain::crm::LeadKind;
use skvoz_store::Scope;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_whatsapp_and_telegram_dialogs_new_and_repeat() {
    let (store, _guard) = skvoz_backends::test_store().await.unwrap();
    let app = App::new(store.clone());
    let end = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let options = DemoOptions {
        days: 60,
        seed: 7,
        visitors: 2_000,
        end,
    };
    let (created, stats) = demo::generate(&app, &options, &|_, _| {}).await.unwrap();
    let project = skvoz_domain::ProjectId(created.project_id);
    let ctx = app.contexts.by_id(project).await.unwrap();
    let started = std::time::Instant::now();
    let report = app
        .chat_report
        .report(
            &ctx,
            ChatReportQuery {
                from: end - chrono::Duration::days(70),
                to: end,
                compare_from: None,
                compare_to: None,
                granularity: Some("week".into()),
                limit: Some(10_000),
                offset: None,
                top: None,
            },
        )
        .await
        .unwrap();
    eprintln!(
        "demo_chats: {} dialogs, report in {:?}",
        report.total,
        started.elapsed()
    );
    let rows = &report.rows;
    assert_eq!(
        report.total as u64, stats.dialogs,
        "every dialog is in the report"
    );
    assert!(stats.dialogs >= 20, "{} dialogs", stats.dialogs);
    let count = |f: &dyn Fn(&skvoz_app::chats::report::ChatRow) -> bool| {
        rows.iter().filter(|r| f(r)).count()
    };
    assert!(count(&|r| r.messenger == "whatsapp") > 0);
    assert!(count(&|r| r.messenger == "telegram") > 0);
    assert!(count(&|r| r.dialog_type == "repeat") > 0, "repeat dialogs");
    assert!(count(&|r| r.dialog_type == "new") > rows.len() / 2);
    assert!(count(&|r| r.code_edited_away) > 0, "codes edited away");
    assert!(
        count(&|r| r.code_edited_away && r.visit_id.is_none()) == count(&|r| r.code_edited_away)
    );
    assert!(
        count(&|r| r.visit_id.is_some()) > rows.len() / 2,
        "mostly attributed"
    );
    assert!(count(&|r| r.page.is_some() && r.source.is_some()) > 0);
    assert!(count(&|r| !r.earlier_contacts.is_empty()) > 0);
    assert!(count(&|r| !r.tags.is_empty()) > 0);
    // New dialogs are chat leads; repeat ones are not.
    let scope = Scope::new(project);
    let from = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let leads = store
        .leads_between(scope, from, chrono::Utc::now())
        .await
        .unwrap();
    let chat_leads = leads.iter().filter(|l| l.kind == LeadKind::Chat).count();
    assert_eq!(chat_leads, count(&|r| r.dialog_type == "new"));
    assert_eq!(chat_leads, count(&|r| r.lead_id.is_some()));
    // Their deals were synced from the (demo) CRM: none left without an id.
    for lead in leads
        .iter()
        .filter(|l| l.kind == LeadKind::Chat && !l.is_duplicate)
    {
        let deal = store
            .deal(scope, lead.deal_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            deal.external_id
                .as_deref()
                .is_some_and(|e| e.starts_with("demo-chat-")),
            "{deal:?}"
        );
    }
}
