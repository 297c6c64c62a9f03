//! Survey answers of the demo data set, so the NPS report and the
//! `/surveys` page have something to show: part of the closed tickets got a
//! CSAT invitation an hour after closing (the score follows the help desk's
//! rating when there is one), part of the won deals an NPS invitation three
//! days after the sale, and about 60 % of them answered — promoters more often
//! from e-mail and organic search, detractors from paid social.
//!
//! Answers go through the same store call as the hosted page (the token is
//! spent and `survey.answered` appended); they are days old, so the
//! automations engine starts no runs for them. Reproducible from the seed.

use super::random::stream;
use super::DemoOptions;
use crate::context::ProjectContext;
use crate::surveys::InviteTarget;
use crate::{App, AppError};
use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::json;
use skvoz_domain::surveys::Survey;
use skvoz_store::{AnswerOutcome, NewAnswer};

/// Separates the survey streams from the other streams.
const SALT: u64 = 104_729;

/// How a channel's customers rate: the chance of a low score.
fn unhappy(channel: Option<&str>) -> f64 {
    match channel {
        Some("paid social") => 0.45,
        Some("messengers") | Some("social") => 0.3,
        Some("paid search") | Some("referral") => 0.2,
        Some("email") | Some("organic search") => 0.08,
        _ => 0.15,
    }
}

fn nps_score(rng: &mut StdRng, channel: Option<&str>) -> i64 {
    if rng.gen_bool(unhappy(channel)) {
        rng.gen_range(0..=6)
    } else if rng.gen_bool(0.35) {
        rng.gen_range(7..=8)
    } else {
        rng.gen_range(9..=10)
    }
}

fn csat_score(rng: &mut StdRng, channel: Option<&str>, rating: Option<u8>) -> i64 {
    match rating {
        Some(r) => i64::from(r.clamp(1, 5)),
        None if rng.gen_bool(unhappy(channel)) => rng.gen_range(1..=3),
        None => rng.gen_range(4..=5),
    }
}

/// Invites and answers one survey at `sent`; `false` when its answer would
/// be in the future.
#[allow(clippy::too_many_arguments)]
async fn answer(
    app: &App,
    ctx: &ProjectContext,
    rng: &mut StdRng,
    survey: &Survey,
    target: InviteTarget,
    sent: DateTime<Utc>,
    now: DateTime<Utc>,
    score: impl FnOnce(&mut StdRng, Option<&str>) -> i64,
) -> Result<bool, AppError> {
    let answered_at = sent + Duration::minutes(rng.gen_range(10..48 * 60));
    if answered_at >= now {
        return Ok(false);
    }
    let (_, inv) = app
        .surveys
        .prepare(ctx, survey, &target, "demo", None, sent)
        .await?;
    let channel = inv.channel.clone();
    let id = app.store.create_invitation(ctx.scope, inv).await?;
    if !rng.gen_bool(0.6) {
        return Ok(false);
    }
    let score = score(rng, channel.as_deref());
    let mut answers = json!({});
    answers[survey.score_question()] = json!(score);
    if survey.kind == skvoz_domain::surveys::SurveyKind::Csat {
        let solved = score >= 4 || rng.gen_bool(0.3);
        answers["solved"] = json!(if solved { "yes" } else { "no" });
        if !solved {
            answers["what_went_wrong"] = json!("Долго отвечали");
        }
    } else if score <= 6 {
        answers["improve"] = json!("Быстрее доставка");
    }
    let outcome = app
        .store
        .answer_invitation(
            ctx.scope,
            id,
            NewAnswer {
                score,
                answers,
                at: answered_at,
            },
        )
        .await?;
    Ok(matches!(outcome, AnswerOutcome::Recorded { .. }))
}

/// Survey invitations and answers for part of the demo's closed tickets
/// and won deals; returns the number of answers.
pub(super) async fn generate(
    app: &App,
    ctx: &ProjectContext,
    options: &DemoOptions,
    from: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<u64, AppError> {
    // The settings as they are now (the demo's other parts changed them).
    let ctx = &*app.contexts.by_id(ctx.project.id).await?;
    let surveys = &ctx.settings.surveys;
    let (Some(csat), Some(nps)) = (surveys.survey("csat"), surveys.survey("nps")) else {
        return Ok(0);
    };
    let now = Utc::now().min(end + Duration::days(3));
    let mut answered = 0;
    for t in app.store.tickets_between(ctx.scope, from, end).await? {
        let (Some(contact), Some(done)) = (t.contact_id, t.closed_at.or(t.resolved_at)) else {
            continue;
        };
        let mut rng = stream(options.seed, t.id as u64, SALT);
        if !rng.gen_bool(0.8) {
            continue;
        }
        let target = InviteTarget {
            contact_id: Some(contact),
            ticket_id: Some(t.id),
            deal_id: None,
        };
        let sent = done + Duration::hours(1);
        let rating = t.rating;
        if answer(app, ctx, &mut rng, csat, target, sent, now, |r, ch| {
            csat_score(r, ch, rating)
        })
        .await?
        {
            answered += 1;
        }
    }
    let won = ctx
        .settings
        .first_stage(skvoz_domain::settings::StageKind::Won)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| "won".to_owned());
    for (deal, at) in app
        .store
        .deals_entering_stage(ctx.scope, &won, from, end)
        .await?
    {
        let mut rng = stream(options.seed, deal.id as u64, SALT + 1);
        if !rng.gen_bool(0.7) {
            continue;
        }
        let target = InviteTarget {
            contact_id: deal.contact_id,
            ticket_id: None,
            deal_id: Some(deal.id),
        };
        if answer(
            app,
            ctx,
            &mut rng,
            nps,
            target,
            at + Duration::days(3),
            now,
            nps_score,
        )
        .await?
        {
            answered += 1;
        }
    }
    Ok(answered)
}
