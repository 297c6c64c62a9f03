//! Ad spend of the demo: daily costs per campaign, ad and keyword of every
//! paid source, priced per click the way the Russian ad systems charge —
//! Yandex Direct search dearer than its network, brand queries cheap,
//! Google in between, VK Ads for reach — derived from the paid visits the
//! demo actually recorded (plus the clicks that never became a tracked
//! visit), so cost, clicks and visits agree and ROI differs meaningfully
//! between channels, campaigns and models.

use crate::context::ProjectContext;
use crate::{App, AppError};
use chrono::NaiveDate;
use rand::Rng;
use skvoz_domain::cost::{CostKey, CostLine};
use skvoz_domain::Money;
use std::collections::BTreeMap;

/// Media whose visits are bought.
const PAID: &[&str] = &["cpc", "cpm", "cpa", "paid_social"];

/// `(price per click in kopecks: low, high; click-through rate: low, high)`
/// for a source and campaign.
fn pricing(source: &str, campaign: &str) -> (i64, i64, f64, f64) {
    match source {
        "yandex" if campaign.contains("brend") => (1_200, 2_500, 0.10, 0.18),
        "yandex" if campaign.starts_with("rsya") => (2_500, 5_500, 0.004, 0.012),
        "yandex" => (9_000, 16_000, 0.04, 0.09),
        "google" if campaign.contains("pmax") => (4_000, 8_000, 0.01, 0.03),
        "google" => (7_000, 12_000, 0.03, 0.07),
        "vk" => (6_000, 11_000, 0.005, 0.015),
        _ => (3_000, 6_000, 0.01, 0.03),
    }
}

/// Generates and imports the demo's costs from its paid visits; returns the
/// number of daily rows.
pub(super) async fn generate(app: &App, ctx: &ProjectContext, seed: u64) -> Result<u64, AppError> {
    let store = app.store.clone();
    let scope = ctx.scope;
    let tz = ctx.tz;
    // (day, key) → paid visits.
    let visits = tokio::task::spawn_blocking(move || {
        let mut by_key: BTreeMap<(NaiveDate, CostKey), i64> = BTreeMap::new();
        store.scan_visits_blocking(scope, 0, &mut |v| {
            if !PAID.contains(&v.medium) {
                return;
            }
            let day = chrono::DateTime::from_timestamp_millis(v.started_at_ms)
                .unwrap_or_default()
                .with_timezone(&tz)
                .date_naive();
            let key = CostKey::normalized(v.source, Some(v.medium), v.campaign, v.content, v.term);
            *by_key.entry((day, key)).or_default() += 1;
        })?;
        Ok::<_, AppError>(by_key)
    })
    .await
    .map_err(|e| AppError::Internal(format!("demo costs: {e}")))??;
    let mut lines = Vec::with_capacity(visits.len());
    for (i, ((day, key), n)) in visits.into_iter().enumerate() {
        let mut rng = super::random::stream(seed, i as u64, 3);
        let (lo, hi, ctr_lo, ctr_hi) = pricing(&key.source, &key.campaign);
        // Some clicks never load the page or block the tracker (10–25 %,
        // rounded at random so single-visit days get their share too).
        let lost = n as f64 * rng.gen_range(0.10..0.25);
        let clicks = n + lost.floor() as i64 + i64::from(rng.gen_bool(lost.fract()));
        let cpc = rng.gen_range(lo..=hi);
        let ctr = rng.gen_range(ctr_lo..ctr_hi);
        lines.push(CostLine {
            from: day,
            to: day,
            key,
            cost: Money(clicks * cpc),
            clicks,
            impressions: (clicks as f64 / ctr).round() as i64,
        });
    }
    let done = app.costs.import_lines(ctx, lines, &|_, _| {}).await?;
    Ok(done.rows)
}
