//! Conformance test of a contact's dialogs: found through the contact and
//! the contacts merged into it, in time order, and only in their project.

use super::{chat_message, lead, new_project, policy};
use crate::{DialogPolicy, Scope, Store};
use chrono::{Duration, Utc};
use skvoz_domain::crm::{Identity, IdentityKind};

/// A contact's dialogs follow merges and stay in their project.
pub async fn dialogs_of_contacts_follow_merges_and_scope<S: Store>(store: &S) {
    let a = Scope::new(
        store
            .create_project(new_project("dca"))
            .await
            .expect("create")
            .id,
    );
    let b = Scope::new(
        store
            .create_project(new_project("dcb"))
            .await
            .expect("create")
            .id,
    );
    let dp = DialogPolicy {
        gap: Duration::hours(24),
        repeat_window: Duration::days(30),
    };
    let phone = Identity::new(IdentityKind::Phone, "+79990001122");
    let email = Identity::new(IdentityKind::Email, "d@c.ru");
    let by_phone = store
        .record_lead(a, lead(vec![phone.clone()], None), policy())
        .await
        .expect("lead");
    let by_email = store
        .record_lead(a, lead(vec![email.clone()], None), policy())
        .await
        .expect("lead");
    let t0 = Utc::now() - Duration::days(5);
    // The later dialog belongs to the phone contact, the earlier one to
    // the e-mail contact; a third is nobody's.
    let later = store
        .record_chat_message(
            a,
            chat_message("x1", "7001", t0 + Duration::days(2), None),
            dp,
        )
        .await
        .expect("record");
    let earlier = store
        .record_chat_message(a, chat_message("x2", "7002", t0, None), dp)
        .await
        .expect("record");
    store
        .record_chat_message(a, chat_message("x3", "7003", t0, None), dp)
        .await
        .expect("record");
    store
        .link_dialog(a, later.dialog_id, Some(by_phone.contact_id), None)
        .await
        .expect("link");
    store
        .link_dialog(a, earlier.dialog_id, Some(by_email.contact_id), None)
        .await
        .expect("link");
    let only = store
        .dialogs_of_contacts(a, vec![by_phone.contact_id], 100)
        .await
        .expect("dialogs");
    assert_eq!(
        only.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![later.dialog_id]
    );
    // Merge: one lead with both identities.
    let both = store
        .record_lead(a, lead(vec![phone, email], None), policy())
        .await
        .expect("lead");
    let contact = store
        .contact(a, both.contact_id)
        .await
        .expect("contact")
        .expect("exists");
    let mut ids = vec![contact.id];
    ids.extend(&contact.merged_from);
    let all = store
        .dialogs_of_contacts(a, ids.clone(), 100)
        .await
        .expect("dialogs");
    assert_eq!(
        all.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![earlier.dialog_id, later.dialog_id],
        "both contacts' dialogs, oldest first"
    );
    assert_eq!(
        store
            .dialogs_of_contacts(a, ids.clone(), 1)
            .await
            .expect("dialogs")
            .len(),
        1
    );
    assert!(store
        .dialogs_of_contacts(b, ids, 100)
        .await
        .expect("dialogs")
        .is_empty());
}
