//! Call tracking in the demo: a dynamic pool for paid traffic and two
//! static numbers (a newspaper ad, a partner site), the demo's paid visits
//! replayed through the real reservations, and calls in the proportions a
//! shop sees — most to the number a visit held (some missed, some too
//! short to be target calls), repeat callers days later, calls to the
//! static numbers, and unidentified calls to a dynamic number nobody held
//! or to the shop's main number.
//!
//! Calls enter through [`CallService::record`](crate::calls::CallService::record),
//! so attribution, target/unique rules and call leads run as in production.

use crate::calls::NumberPools;
use crate::context::ProjectContext;
use crate::{App, AppError};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use skvoz_domain::calltracking::{InboundCall, VisitTraits};

/// The shop's own number, shown to visitors without a tracking number.
pub const MAIN_NUMBER: &str = "+74957770000";

/// What the demo's call tracking produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Visits that got a tracking number.
    pub reserved: u64,
    /// Calls recorded.
    pub calls: u64,
    /// Offline visits made for calls to static numbers.
    pub offline_visits: u64,
    /// Call leads.
    pub leads: u64,
    /// Deals call leads opened.
    pub deals: u64,
}

fn pool_numbers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("+7495777{:04}", 100 + i)).collect()
}

/// Configures the demo project's pools and generates its calls over
/// `[from, to)`.
pub async fn generate(
    app: &App,
    project: &ProjectContext,
    seed: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CallStats, AppError> {
    let scope = project.scope;
    let mut doc = app.settings.get(scope).await?.doc;
    doc["calltracking"] = serde_json::json!({
        "pools": [
            {"id": "ads", "kind": "dynamic", "numbers": pool_numbers(8), "rule": {"paid": true}},
            {"id": "print", "kind": "static", "numbers": ["+74957770201"], "source": "gazeta", "medium": "offline", "campaign": "spring-catalog"},
            {"id": "partner", "kind": "static", "numbers": ["+74957770301"], "source": "partner-site.ru", "medium": "referral"}
        ],
        "site_numbers": [MAIN_NUMBER],
        "selectors": [".skvoz-phone"]
    });
    app.settings.put(scope, None, doc).await?;
    let ctx = app.contexts.by_id(project.project.id).await?;
    let mut rng = StdRng::seed_from_u64(seed ^ 0xca11_ca11);
    let mut stats = CallStats::default();

    // The paid visits, replayed through the real reservations in time order.
    let pools = NumberPools::new(app.store.clone());
    let visits = app.store.visit_spans(scope, from, to, 2_000_000).await?;
    let mut held: Vec<(i64, String, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for v in &visits {
        let traits = VisitTraits {
            source: &v.source,
            medium: &v.medium,
            campaign: v.campaign.as_deref(),
            channel: &v.channel,
        };
        let vid = format!("visit-{}", v.id);
        if let Some(mut number) = pools.on_hit(&ctx, v.id, &vid, Some(traits), v.started_at) {
            // The script pings every minute while the page is open.
            let mut t = v.started_at;
            while t < v.last_at {
                t = (t + Duration::minutes(1)).min(v.last_at);
                if let Some(n) = pools.on_hit(&ctx, v.id, &vid, None, t) {
                    number = n;
                }
            }
            stats.reserved += 1;
            held.push((v.id, number, v.started_at, v.last_at));
        }
    }
    pools.flush().await?;

    let mut callers: Vec<String> = Vec::new();
    let mut next_id = 0u64;
    let mut call = |rng: &mut StdRng, caller: String, called: &str, at: DateTime<Utc>| {
        next_id += 1;
        let roll: f64 = rng.gen();
        // About 18% missed, 15% answered but short, the rest real talks.
        let (answered, duration) = if roll < 0.18 {
            (false, 0)
        } else if roll < 0.33 {
            (true, rng.gen_range(3..30))
        } else {
            (true, rng.gen_range(30..600))
        };
        InboundCall {
            provider: "generic",
            source_id: format!("demo-call-{next_id}"),
            caller,
            called: called.to_owned(),
            started_at: at,
            duration,
            answered,
            recording_url: answered
                .then(|| format!("https://pbx.example.ru/rec/demo-call-{next_id}.mp3")),
        }
    };
    let mut planned: Vec<InboundCall> = Vec::new();
    let new_caller = |rng: &mut StdRng| format!("+79{:09}", rng.gen_range(0..1_000_000_000u64));
    // One paid visit in 20 calls the number it holds, during the visit or
    // within the hold time after it.
    for (_, number, start, last) in &held {
        if rng.gen_bool(1.0 / 20.0) {
            let span = (*last - *start).num_seconds().max(0) + 150;
            let at = *start + Duration::seconds(rng.gen_range(0..=span));
            let caller = new_caller(&mut rng);
            callers.push(caller.clone());
            planned.push(call(&mut rng, caller, number, at));
        }
    }
    let days = (to - from).num_days().max(1);
    for day in 0..days {
        let noon = from + Duration::days(day) + Duration::hours(9);
        // Static numbers: the newspaper most days, the partner now and then.
        for (number, p) in [("+74957770201", 0.2), ("+74957770301", 0.08)] {
            if rng.gen_bool(p) {
                let at = noon + Duration::minutes(rng.gen_range(0..600));
                let caller = new_caller(&mut rng);
                planned.push(call(&mut rng, caller, number, at));
            }
        }
        // Unidentified: the main number, or a pool number at night.
        if rng.gen_bool(0.15) {
            let at = noon + Duration::minutes(rng.gen_range(0..600));
            let caller = new_caller(&mut rng);
            planned.push(call(&mut rng, caller, MAIN_NUMBER, at));
        }
        if rng.gen_bool(0.05) {
            let at = noon - Duration::hours(7) + Duration::minutes(rng.gen_range(0..60));
            let number = pool_numbers(8)[rng.gen_range(0..8)].clone();
            let caller = new_caller(&mut rng);
            planned.push(call(&mut rng, caller, &number, at));
        }
    }
    // Repeat callers: one in five calls again one to twenty days later.
    let mut again = Vec::new();
    for c in planned.iter().filter(|c| callers.contains(&c.caller)) {
        if rng.gen_bool(0.2) {
            let at = c.started_at
                + Duration::days(rng.gen_range(1..20))
                + Duration::minutes(rng.gen_range(0..600));
            if at < to {
                again.push((c.caller.clone(), c.called.clone(), at));
            }
        }
    }
    let repeats: Vec<InboundCall> = again
        .into_iter()
        .map(|(caller, called, at)| call(&mut rng, caller, &called, at))
        .collect();
    planned.extend(repeats);
    planned.sort_by_key(|c| c.started_at);
    for c in planned {
        let r = app.calls.record(&ctx, c).await?;
        stats.calls += 1;
        stats.offline_visits +=
            u64::from(r.attribution == skvoz_domain::calltracking::CallAttribution::Static);
        stats.leads += u64::from(r.lead_id.is_some());
        stats.deals += u64::from(r.deal_id.is_some() && !r.duplicate);
    }
    Ok(stats)
}
