//! amoCRM webhook parsing against fixtures of realistic payloads.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use skvoz_connectors::crm::amocrm::{parse_webhook, AmoCrmError, AmoCrmMapping, AmoEvent};
use skvoz_domain::crm::DealStatus;
use skvoz_domain::Money;

const STATUS_WON: &str = include_str!("../src/crm/fixtures/amocrm/status_won.txt");
const ADD_TWO_LEADS: &str = include_str!("../src/crm/fixtures/amocrm/add_two_leads.txt");
const UPDATE_CUSTOM_FIELDS: &str =
    include_str!("../src/crm/fixtures/amocrm/update_custom_fields.txt");
const DELETE_TWO_LEADS: &str = include_str!("../src/crm/fixtures/amocrm/delete_two_leads.txt");
const MALFORMED_MISSING_ID: &str =
    include_str!("../src/crm/fixtures/amocrm/malformed_missing_id.txt");
const MALFORMED_JSON: &str = include_str!("../src/crm/fixtures/amocrm/malformed_json.txt");

fn at(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

#[test]
fn status_change_to_won_carries_price_visit_code_and_close_time() {
    let hook = parse_webhook(STATUS_WON.as_bytes(), &AmoCrmMapping::default()).unwrap();
    assert_eq!(hook.account_subdomain.as_deref(), Some("shop"));
    assert_eq!(hook.account_id.as_deref(), Some("29145673"));
    assert_eq!(hook.deals.len(), 1);

    let deal = &hook.deals[0];
    assert_eq!(deal.event, AmoEvent::Status);
    assert_eq!(deal.status_id, Some(142));
    assert_eq!(deal.pipeline_id, Some(5839201));
    assert_eq!(deal.last_modified, Some(1700000500));

    let update = &deal.update;
    assert_eq!(update.external_id, "amocrm:24785331");
    assert_eq!(update.status, Some(DealStatus::Won));
    assert_eq!(update.stage, None);
    assert_eq!(update.revenue, Some(Money(1_500_000)));
    assert_eq!(update.visit_code, Some(12345));
    assert_eq!(update.created_at, at(1700000000));
    assert_eq!(update.closed_at, at(1700000500));
    assert_eq!(
        update.product.as_deref(),
        Some("Заказ №1042 — диван угловой")
    );
    assert_eq!(update.crm_client_id, None);
    assert_eq!(update.phone, None);
}

#[test]
fn add_with_two_leads_keeps_order_and_reads_each() {
    let hook = parse_webhook(ADD_TWO_LEADS.as_bytes(), &AmoCrmMapping::default()).unwrap();
    let ids: Vec<&str> = hook
        .deals
        .iter()
        .map(|d| d.update.external_id.as_str())
        .collect();
    assert_eq!(ids, ["amocrm:24790001", "amocrm:24790002"]);
    assert!(hook.deals.iter().all(|d| d.event == AmoEvent::Add));

    let first = &hook.deals[0].update;
    assert_eq!(first.status, Some(DealStatus::Open));
    assert_eq!(first.revenue, None, "empty price is no revenue");
    assert_eq!(first.visit_code, Some(67890));
    assert_eq!(first.crm_client_id.as_deref(), Some("amocrm:33017125"));
    assert_eq!(first.closed_at, None, "open deals have no close time");

    let second = &hook.deals[1].update;
    assert_eq!(second.revenue, Some(Money(250_050)));
    // "Roistat" holds junk ("nocookie"); the next matching field wins.
    assert_eq!(second.visit_code, Some(4242));
    assert_eq!(second.crm_client_id.as_deref(), Some("amocrm:33017126"));
    assert_eq!(second.product.as_deref(), Some("Звонок: +7 912 000-00-00"));
}

#[test]
fn update_reads_phone_and_email_custom_fields_and_lost_status() {
    let hook = parse_webhook(UPDATE_CUSTOM_FIELDS.as_bytes(), &AmoCrmMapping::default()).unwrap();
    let deal = &hook.deals[0];
    assert_eq!(deal.event, AmoEvent::Update);
    let update = &deal.update;
    assert_eq!(update.external_id, "amocrm:24785400");
    assert_eq!(update.status, Some(DealStatus::Lost));
    assert_eq!(update.closed_at, at(1700100000));
    assert_eq!(update.created_at, at(1699900000));
    assert_eq!(update.phone.as_deref(), Some("+7 (912) 345-67-89"));
    assert_eq!(update.email.as_deref(), Some("client@example.ru"));
    assert_eq!(update.revenue, None, "a junk price is ignored");
    assert_eq!(update.visit_code, None);
}

#[test]
fn delete_reports_only_the_ids() {
    let hook = parse_webhook(DELETE_TWO_LEADS.as_bytes(), &AmoCrmMapping::default()).unwrap();
    assert_eq!(hook.deals.len(), 2);
    for deal in &hook.deals {
        assert_eq!(deal.event, AmoEvent::Delete);
        assert_eq!(deal.update.status, None, "a deletion is not a status");
        assert_eq!(deal.pipeline_id, Some(5839201));
    }
    assert_eq!(hook.deals[0].update.external_id, "amocrm:24785331");
    assert_eq!(hook.deals[0].status_id, Some(142));
}

#[test]
fn an_entry_without_id_is_an_error_naming_its_path() {
    let err =
        parse_webhook(MALFORMED_MISSING_ID.as_bytes(), &AmoCrmMapping::default()).unwrap_err();
    assert_eq!(
        err,
        AmoCrmError::MissingId {
            path: "leads[status][1]".into()
        }
    );
    assert!(err.to_string().contains("leads[status][1][id]"), "{err}");
}

#[test]
fn a_non_integer_id_is_an_error_naming_its_path() {
    let err = parse_webhook(
        b"leads[update][0][id]=abc&leads[update][0][status_id]=142",
        &AmoCrmMapping::default(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AmoCrmError::BadId {
            path: "leads[update][0]".into(),
            value: "abc".into()
        }
    );
}

#[test]
fn bodies_that_are_not_amocrm_webhooks_are_rejected() {
    let mapping = AmoCrmMapping::default();
    assert_eq!(
        parse_webhook(MALFORMED_JSON.as_bytes(), &mapping),
        Err(AmoCrmError::NotFormEncoded)
    );
    assert_eq!(
        parse_webhook(b"", &mapping),
        Err(AmoCrmError::NotFormEncoded)
    );
    assert_eq!(
        parse_webhook(b"hello world", &mapping),
        Err(AmoCrmError::NotFormEncoded)
    );
    assert_eq!(
        parse_webhook(b"foo=1&bar[baz]=2", &mapping),
        Err(AmoCrmError::NothingRecognizable)
    );
    assert_eq!(
        parse_webhook(b"leads=1\xff", &mapping),
        Err(AmoCrmError::NotUtf8)
    );
    assert!(matches!(
        parse_webhook(b"leads[status][0[id]=1", &mapping),
        Err(AmoCrmError::MalformedKey { .. })
    ));
}

#[test]
fn unencoded_brackets_unknown_kinds_and_unknown_keys_are_tolerated() {
    let body = "leads[status][0][id]=123&leads[status][0][name]=Sofa&leads[status][0][status_id]=142\
        &leads[status][0][old_status_id]=100&leads[status][0][pipeline_id]=7&leads[status][0][price]=15000\
        &leads[status][0][responsible_user_id]=5&leads[status][0][date_create]=1700000000\
        &leads[status][0][last_modified]=1700000500&leads[status][0][custom_fields][0][id]=555\
        &leads[status][0][custom_fields][0][name]=roistat\
        &leads[status][0][custom_fields][0][values][0][value]=12345\
        &leads[status][0][something_new][x]=y\
        &leads[responsible][0][id]=124&contacts[add][0][id]=9&account[subdomain]=shop&account[id]=99";
    let hook = parse_webhook(body.as_bytes(), &AmoCrmMapping::default()).unwrap();
    assert_eq!(
        hook.deals.len(),
        1,
        "leads[responsible] and contacts are ignored"
    );
    let update = &hook.deals[0].update;
    assert_eq!(update.external_id, "amocrm:123");
    assert_eq!(update.revenue, Some(Money(1_500_000)));
    assert_eq!(update.visit_code, Some(12345));
    assert_eq!(hook.account_id.as_deref(), Some("99"));
}

#[test]
fn an_account_only_delivery_has_no_deals() {
    let hook = parse_webhook(
        b"account[subdomain]=shop&account[id]=99",
        &AmoCrmMapping::default(),
    )
    .unwrap();
    assert!(hook.deals.is_empty());
}

#[test]
fn the_mapping_decides_won_lost_and_stages() {
    let mapping = AmoCrmMapping {
        won_status_ids: vec![142, 5001],
        lost_status_ids: vec![143],
        stages: BTreeMap::from([
            (47233411, "Qualified".to_owned()),
            (5001, "Paid".to_owned()),
        ]),
        visit_code_fields: vec!["Visit".into()],
        ..AmoCrmMapping::default()
    };
    let body = "leads[status][0][id]=1&leads[status][0][status_id]=5001&leads[status][0][last_modified]=1700000900\
        &leads[status][1][id]=2&leads[status][1][status_id]=47233411\
        &leads[status][1][custom_fields][0][name]=VISIT&leads[status][1][custom_fields][0][values][0]=777\
        &leads[status][2][id]=3";
    let hook = parse_webhook(body.as_bytes(), &mapping).unwrap();
    let [paid, qualified, bare] = &hook.deals[..] else {
        panic!("three deals expected: {hook:?}");
    };
    assert_eq!(paid.update.status, Some(DealStatus::Won));
    assert_eq!(paid.update.stage.as_deref(), Some("Paid"));
    assert_eq!(paid.update.closed_at, at(1700000900));
    assert_eq!(qualified.update.status, Some(DealStatus::Open));
    assert_eq!(qualified.update.stage.as_deref(), Some("Qualified"));
    assert_eq!(
        qualified.update.visit_code,
        Some(777),
        "values[0] without [value]"
    );
    assert_eq!(bare.update.status, None, "no status_id, no status");
    assert_eq!(bare.update.revenue, None);
}
