//! `GET /api/v1/reports/nps`: NPS (% promoters − % detractors) and CSAT
//! (share of 4–5 and the mean) of a period's answers, in total, by
//! acquisition channel and over time (day, week, month, quarter in the
//! project's time zone). Every row is computed from the same answers, so
//! the channels' and the buckets' answer counts add up to the total.

use super::SurveyService;
use crate::chats::report::local_midnight;
use crate::context::ProjectContext;
use crate::AppError;
use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};
use skvoz_domain::chat_report::Granularity;
use skvoz_domain::surveys::{SurveyKind, SurveyTotals};
use std::collections::BTreeMap;

/// The longest period, in days.
pub const MAX_DAYS: i64 = 1_100;
/// The most answers one report reads.
pub const MAX_ANSWERS: usize = 500_000;
/// The channel of answers with no known visit.
pub const NO_CHANNEL: &str = "(none)";

/// What the report is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct NpsQuery {
    /// First day (project time zone).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// `day` (default), `week`, `month`, `quarter`.
    pub granularity: Option<String>,
    /// Only this survey (id or kind).
    pub survey: Option<String>,
}

fn row(totals: &SurveyTotals, extra: Value) -> Value {
    let mut v = totals.to_json();
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        for (k, x) in e {
            m.insert(k, x);
        }
    }
    v
}

impl SurveyService {
    /// The NPS and CSAT report of a period.
    pub async fn nps_report(&self, ctx: &ProjectContext, q: &NpsQuery) -> Result<Value, AppError> {
        if q.from > q.to {
            return Err(AppError::invalid("from", "from must not be after to"));
        }
        if (q.to - q.from).num_days() >= MAX_DAYS {
            return Err(AppError::invalid("to", "the period is at most 1100 days"));
        }
        let g = match q.granularity.as_deref() {
            None | Some("") => Granularity::Day,
            Some(s) => Granularity::parse(s).ok_or_else(|| {
                AppError::invalid("granularity", "granularity is day, week, month or quarter")
            })?,
        };
        let start = local_midnight(ctx.tz, q.from);
        let end = local_midnight(ctx.tz, q.to + Duration::days(1));
        let answers = self
            .store
            .answers_between(ctx.scope, start, end, MAX_ANSWERS + 1)
            .await?;
        let truncated = answers.len() > MAX_ANSWERS;
        // Every bucket of the period, empty ones too: (first day, last day).
        let mut buckets: BTreeMap<NaiveDate, (NaiveDate, SurveyTotals)> = BTreeMap::new();
        let mut day = q.from;
        while day <= q.to {
            buckets
                .entry(g.bucket(day))
                .or_insert((day, SurveyTotals::default()))
                .0 = day;
            day += Duration::days(1);
        }
        let mut total = SurveyTotals::default();
        let mut channels: BTreeMap<String, SurveyTotals> = BTreeMap::new();
        for a in answers.iter().take(MAX_ANSWERS) {
            if let Some(s) = &q.survey {
                if &a.survey_id != s && &a.kind != s {
                    continue;
                }
            }
            let Some(kind) = SurveyKind::parse(&a.kind) else {
                continue;
            };
            total.add(kind, a.score);
            channels
                .entry(a.channel.clone().unwrap_or_else(|| NO_CHANNEL.to_owned()))
                .or_default()
                .add(kind, a.score);
            let local = a.answered_at.with_timezone(&ctx.tz).date_naive();
            if let Some(b) = buckets.get_mut(&g.bucket(local)) {
                b.1.add(kind, a.score);
            }
        }
        let mut by_channel: Vec<(String, SurveyTotals)> = channels.into_iter().collect();
        by_channel.sort_by(|a, b| {
            let n = |t: &SurveyTotals| t.nps.answers + t.csat.answers;
            n(&b.1).cmp(&n(&a.1)).then_with(|| a.0.cmp(&b.0))
        });
        Ok(json!({
            "from": q.from,
            "to": q.to,
            "timezone": ctx.tz.name(),
            "granularity": g,
            "survey": q.survey,
            "truncated": truncated,
            "totals": total.to_json(),
            "by_channel": by_channel
                .iter()
                .map(|(channel, t)| row(t, json!({"channel": channel})))
                .collect::<Vec<_>>(),
            "points": buckets
                .iter()
                .map(|(first, (last, t))| row(t, json!({"period": first, "from": (*first).max(q.from), "to": last})))
                .collect::<Vec<_>>(),
        }))
    }
}
