//! Planning tests: the same seed gives the same visitors, plans are
//! ordered and consistent, and the traffic mix is what the tables say.

use super::leads::Person;
use super::plan::CrmStep;
use super::traffic::{landing, Arrival};
use super::visitors::{encode_query, Planner};
use super::{DemoOptions, SITE};
use chrono::{Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::SeedableRng;
use skvoz_domain::contact::normalize_phone;
use skvoz_domain::traffic::classify;

fn planner(seed: u64) -> Planner {
    let options = DemoOptions {
        days: 60,
        seed,
        visitors: 100,
        end: NaiveDate::from_ymd_opt(2025, 3, 1).expect("a date"),
    };
    Planner::new(&options, chrono_tz::Europe::Moscow)
}

#[test]
fn a_visitor_is_the_same_for_the_same_seed_and_index() {
    let (a, b, c) = (planner(7), planner(7), planner(8));
    assert_eq!(a.visitor(12), b.visitor(12));
    assert_ne!(a.visitor(12), c.visitor(12));
    assert_ne!(a.visitor(12), a.visitor(13));
}

#[test]
fn hits_are_ordered_within_the_window_and_leads_point_at_form_events() {
    let p = planner(1);
    let start = p.at(0, 0) - Duration::days(1);
    let mut leads = 0;
    for i in 0..3000 {
        let v = p.visitor(i);
        assert!(!v.hits.is_empty());
        assert!(v.hits.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(v.hits.iter().all(|h| h.at >= start && h.at < p.end));
        assert!(v.crm.windows(2).all(|w| w[0].at() <= w[1].at()));
        for step in &v.crm {
            if let CrmStep::Lead(lead) = step {
                leads += 1;
                if let Some(h) = lead.hit {
                    assert!(v.hits[h].form.is_some(), "{lead:?}");
                    assert!(v.hits[h].at < lead.at);
                }
            }
        }
    }
    assert!(leads > 50, "{leads} leads");
}

#[test]
fn every_phone_notation_normalizes_to_the_crm_number() {
    let mut rng = StdRng::seed_from_u64(3);
    for i in 0..200 {
        let person = Person::new(&mut rng, 42, i);
        let crm = format!("+7{}", person.phone);
        assert_eq!(normalize_phone(&crm, "RU").as_deref(), Ok(crm.as_str()));
        for _ in 0..5 {
            let typed = person.phone_text(&mut rng);
            assert_eq!(
                normalize_phone(&typed, "RU").as_deref(),
                Ok(crm.as_str()),
                "{typed}"
            );
        }
    }
}

#[test]
fn paid_landings_carry_campaign_ad_and_keyword() {
    let mut rng = StdRng::seed_from_u64(5);
    let date = NaiveDate::from_ymd_opt(2025, 2, 20).expect("a date");
    for _ in 0..50 {
        let mut interest = 0;
        let (page, query, referrer) = landing(
            &mut rng,
            Arrival::YandexSearchAds,
            &mut interest,
            true,
            date,
        );
        let url = format!("{SITE}{}{query}", page.path());
        let s = classify(&url, referrer.as_deref());
        assert_eq!((s.source.as_str(), s.medium.as_str()), ("yandex", "cpc"));
        assert!(
            s.campaign.is_some() && s.content.is_some() && s.term.is_some(),
            "{url}"
        );
        assert!(s.yclid.is_some());
    }
    let mut interest = 0;
    let (page, query, _) = landing(&mut rng, Arrival::Email, &mut interest, false, date);
    let s = classify(&format!("{SITE}{}{query}", page.path()), None);
    assert_eq!(s.medium, "email");
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(
        encode_query("купить ноутбук"),
        "%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%BD%D0%BE%D1%83%D1%82%D0%B1%D1%83%D0%BA"
    );
    assert_eq!(encode_query("a-b_c.d"), "a-b_c.d");
}
