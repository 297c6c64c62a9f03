//! A day of visits replayed against a dynamic pool sized by the
//! recommendation: the shared rate stays under 1%; with half that many
//! numbers it is above 1%, both in the replay and in the sizing report.
//!
//! The day is synthetic but shaped like a shop's: visits follow a Moscow
//! daily curve (quiet at night, peaks at 11–13 and 19–22), last a few
//! seconds to 25 minutes (most are short), and a third are organic visits
//! the pool's rule (paid traffic) does not take. The visits are imported
//! through the tracker into the store, sized from there by
//! `CallService::sizing_between`, and replayed through the real
//! `NumberPools` with the script's pings every minute.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::{Rng, SeedableRng};
use serde_json::json;
use skvoz_app::calls::NumberPools;
use skvoz_app::tracking::input::HitFields;
use skvoz_app::tracking::HitInput;
use skvoz_app::App;
use skvoz_app::DynStore;
use skvoz_domain::calltracking::VisitTraits;
use skvoz_store::Scope;

/// Visits per hour of the day (Moscow), for about 9,000 visits a day.
const HOURLY: [u32; 24] = [
    60, 35, 20, 15, 15, 25, 60, 150, 330, 480, 560, 620, 640, 600, 560, 540, 520, 540, 600, 660,
    700, 640, 420, 200,
];

struct SimVisit {
    vid: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    paid: bool,
    visit_id: i64,
}

fn hit(vid: &str, url: &str, at: DateTime<Utc>) -> HitInput {
    HitInput {
        fields: HitFields {
            vid: Some(vid.to_owned()),
            url: url.to_owned(),
            ..HitFields::default()
        },
        at,
        explicit_time: true,
        ip: None,
        ua: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36".into()),
    }
}

fn day_of_visits(day: DateTime<Utc>) -> Vec<SimVisit> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20_260_301);
    let mut visits = Vec::new();
    for (hour, &n) in HOURLY.iter().enumerate() {
        for _ in 0..n {
            let start = day
                + Duration::hours(hour as i64)
                + Duration::milliseconds(rng.gen_range(0..3_600_000));
            // Mostly short visits, a long tail up to 25 minutes.
            let u: f64 = rng.gen();
            let secs = (10.0 + 1490.0 * u.powi(3)).round() as i64;
            let i = visits.len();
            // A visit ends at local midnight (a new day is a new visit).
            let end = (start + Duration::seconds(secs))
                .min(day + Duration::days(1) - Duration::seconds(1));
            visits.push(SimVisit {
                vid: format!("sim{i}"),
                start,
                end,
                paid: rng.gen_bool(0.66),
                visit_id: 0,
            });
        }
    }
    visits
}

async fn set_pool(app: &App, scope: Scope, numbers: usize) {
    let list: Vec<String> = (0..numbers).map(|i| format!("+7495100{i:04}")).collect();
    app.settings
        .put(
            scope,
            None,
            json!({"calltracking": {"pools": [{"id": "ads", "kind": "dynamic", "numbers": list, "rule": {"paid": true}}]}}),
        )
        .await
        .unwrap();
}

/// Replays the day through the real pool (new visit, then a ping every
/// minute until the visit's last activity); returns (shared, reserved).
async fn replay(
    app: &App,
    store: &DynStore,
    project: skvoz_domain::ProjectId,
    visits: &[SimVisit],
) -> (usize, usize) {
    let ctx = app.contexts.by_id(project).await.unwrap();
    let pools = NumberPools::new(store.clone());
    enum Ev {
        Start(usize),
        Ping(usize),
    }
    let mut events: Vec<(DateTime<Utc>, u8, Ev)> = Vec::new();
    for (i, v) in visits.iter().enumerate() {
        events.push((v.start, 0, Ev::Start(i)));
        let mut t = v.start + Duration::minutes(1);
        while t < v.end {
            events.push((t, 1, Ev::Ping(i)));
            t += Duration::minutes(1);
        }
        if v.end > v.start {
            events.push((v.end, 1, Ev::Ping(i)));
        }
    }
    events.sort_by_key(|(t, k, _)| (*t, *k));
    let (mut shared, mut reserved) = (0, 0);
    let traits = VisitTraits {
        source: "yandex",
        medium: "cpc",
        campaign: None,
        channel: "paid search",
    };
    let organic = VisitTraits {
        source: "google",
        medium: "organic",
        campaign: None,
        channel: "organic search",
    };
    let mut holders: std::collections::HashMap<String, Vec<i64>> = Default::default();
    for (at, _, ev) in events {
        match ev {
            Ev::Start(i) => {
                let v = &visits[i];
                let t = if v.paid { traits } else { organic };
                if let Some(number) = pools.on_hit(&ctx, v.visit_id, &v.vid, Some(t), at) {
                    reserved += 1;
                    let active = holders.entry(number).or_default();
                    // Holders whose hold ended are gone.
                    active.retain(|&j| {
                        let w = visits.iter().find(|w| w.visit_id == j).unwrap();
                        w.end + Duration::minutes(3) > at
                    });
                    if !active.is_empty() {
                        shared += 1;
                    }
                    active.push(v.visit_id);
                }
            }
            Ev::Ping(i) => {
                let v = &visits[i];
                pools.ping(&ctx, v.visit_id, &v.vid, at);
            }
        }
    }
    (shared, reserved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_sized_by_the_recommendation_shares_under_one_percent() {
    let (store, _guard) = skvoz_backends::test_store().await.unwrap();
    let app = App::new(store.clone());
    let (project, _) = app.projects.create("sim", None, None).await.unwrap();
    let scope = Scope::new(project.id);
    let day = (Utc::now() - Duration::days(3))
        .duration_trunc(Duration::days(1))
        .unwrap()
        - Duration::hours(3); // midnight in Moscow
    let mut visits = day_of_visits(day);
    visits.sort_by_key(|v| v.start);

    // The day goes into the store through the tracker, like a history import.
    let mut inputs = Vec::new();
    for v in &visits {
        let url = if v.paid {
            "https://shop.ru/?utm_source=yandex&utm_medium=cpc"
        } else {
            "https://shop.ru/"
        };
        let referrer = (!v.paid).then(|| "https://www.google.com/".to_owned());
        let mut first = hit(&v.vid, url, v.start);
        first.fields.referrer = referrer;
        inputs.push(first);
        inputs.push(hit(&v.vid, "https://shop.ru/catalog", v.end));
    }
    let mut outcomes = Vec::new();
    for chunk in inputs.chunks(10_000) {
        outcomes.extend(
            app.tracking
                .import(project.id, chunk.to_vec())
                .await
                .unwrap(),
        );
    }
    for (i, v) in visits.iter_mut().enumerate() {
        v.visit_id = outcomes[2 * i].visit_id.unwrap();
        assert_eq!(
            outcomes[2 * i + 1].visit_id,
            Some(v.visit_id),
            "one visit each"
        );
    }
    let paid = visits.iter().filter(|v| v.paid).count();

    set_pool(&app, scope, 10).await;
    let ctx = app.contexts.by_id(project.id).await.unwrap();
    let sizing = app
        .calls
        .sizing_between(&ctx, "ads", day, day + Duration::days(1), 1)
        .await
        .unwrap();
    assert_eq!(sizing.visits, paid, "the rule takes the paid visits only");
    let n = sizing.recommended;
    println!(
        "{} visits, {} paid; peak concurrent {}; recommended {} numbers; predicted shared rate with 10: {:.3}",
        visits.len(),
        paid,
        sizing.peak_concurrent,
        n,
        sizing.predicted_shared_rate
    );
    assert!(n > 10 && n <= sizing.peak_concurrent, "{sizing:?}");

    set_pool(&app, scope, n).await;
    let (shared, reserved) = replay(&app, &store, project.id, &visits).await;
    let rate = shared as f64 / reserved as f64;
    println!(
        "{n} numbers: {shared} of {reserved} visits shared ({:.2}%)",
        rate * 100.0
    );
    assert_eq!(reserved, paid);
    assert!(
        rate <= 0.01,
        "shared rate {rate} with the recommended {n} numbers"
    );

    let half = n / 2;
    set_pool(&app, scope, half).await;
    let (shared, reserved) = replay(&app, &store, project.id, &visits).await;
    let rate_half = shared as f64 / reserved as f64;
    println!(
        "{half} numbers: {shared} of {reserved} visits shared ({:.2}%)",
        rate_half * 100.0
    );
    assert!(
        rate_half > 0.01,
        "half the numbers must share more than 1%: {rate_half}"
    );
    let ctx = app.contexts.by_id(project.id).await.unwrap();
    let report = app
        .calls
        .sizing_between(&ctx, "ads", day, day + Duration::days(1), 1)
        .await
        .unwrap();
    assert_eq!(report.numbers, half);
    assert_eq!(report.recommended, n);
    assert!(
        report.predicted_shared_rate > 0.01,
        "the report says the half-size pool is too small: {report:?}"
    );
}
