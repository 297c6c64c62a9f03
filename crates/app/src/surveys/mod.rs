//! Surveys: invitations with one-time links, the hosted page's steps, the
//! answers, dynamic groups and the NPS / CSAT report.
//!
//! ```text
//! automation action / POST /api/v1/surveys/invitations
//!   ─► invitation: random 128-bit token (only its SHA-256 is stored), expiry,
//!      contact / ticket / deal, the acquisition channel fixed now
//! GET /s/{token} ─► page: hash → invitation (any project: the token is the key)
//!   ─► used: 410, expired: 410, unknown: 404
//! POST /s/{token} ─► Survey::step (follow-ups on the previous answer)
//!   ─► more questions / errors in place ─► or store.answer_invitation: the token
//!      is spent, the answer stored and `survey.answered` appended in one transaction
//! ```

pub mod groups;
pub mod report;

use crate::context::{ContextCache, ProjectContext};
use crate::{AppError, DynStore};
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use skvoz_domain::surveys::{answers_json, Answers, FormStep, Survey};
use skvoz_store::{AnswerOutcome, Invitation, NewAnswer, NewInvitation, Scope};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Longest token the page accepts (a real one is 22 characters).
pub const MAX_TOKEN_LEN: usize = 64;

/// A fresh invitation token: 128 random bits, base64url without padding.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token (the hash every skvoz key and token
/// is stored as).
pub use crate::keys::hash_token as token_hash;

/// The public link of a token, when `surveys.public_url` is set.
pub fn survey_url(ctx: &ProjectContext, token: &str) -> Option<String> {
    let base = ctx.settings.surveys.public_url.trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/s/{token}"))
}

/// What an invitation is about.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InviteTarget {
    /// The contact asked.
    pub contact_id: Option<i64>,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// The deal it is about.
    pub deal_id: Option<i64>,
}

/// A made invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invited {
    /// The invitation's id.
    pub invitation_id: i64,
    /// The one-time token (shown once; only its hash is stored).
    pub token: String,
    /// `{public_url}/s/{token}` when the public URL is set.
    pub url: Option<String>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// An open invitation as the page shows it.
#[derive(Clone)]
pub struct OpenSurvey {
    /// The project's context.
    pub ctx: Arc<ProjectContext>,
    /// The invitation.
    pub invitation: Invitation,
    /// Its survey.
    pub survey: Survey,
}

/// Why the page cannot show a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// No such token (404).
    Unknown,
    /// Answered already (410).
    Used,
    /// Expired, or its survey was removed (410).
    Expired,
}

/// What a form submission led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    /// Stored; the thanks page.
    Thanks,
    /// Show the form again with these answers and errors.
    More {
        /// Valid answers so far.
        answers: Answers,
        /// Errors by question id.
        errors: BTreeMap<String, &'static str>,
    },
    /// The link cannot take an answer.
    Closed(Closed),
}

/// Surveys.
#[derive(Clone)]
pub struct SurveyService {
    store: DynStore,
    contexts: Arc<ContextCache>,
}

impl SurveyService {
    /// Over a store and the context cache.
    pub fn new(store: DynStore, contexts: Arc<ContextCache>) -> Self {
        SurveyService { store, contexts }
    }

    /// The acquisition channel of an invitation: the deal's visit, else the
    /// contact's first visit.
    pub async fn channel_of(
        &self,
        scope: Scope,
        target: &InviteTarget,
    ) -> Result<Option<String>, AppError> {
        if let Some(deal) = target.deal_id {
            if let Some(visit) = self.store.deal(scope, deal).await?.and_then(|d| d.visit_id) {
                if let Some(v) = self.store.visit(scope, visit).await? {
                    return Ok(Some(v.channel));
                }
            }
        }
        if let Some(contact) = target.contact_id {
            let visits = self.store.contact_visits(scope, contact).await?;
            return Ok(visits.first.map(|v| v.channel));
        }
        Ok(None)
    }

    /// An invitation ready to store (the caller stores it, alone or with a
    /// run's other writes), with its token.
    pub async fn prepare(
        &self,
        ctx: &ProjectContext,
        survey: &Survey,
        target: &InviteTarget,
        via: &str,
        run_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(String, NewInvitation), AppError> {
        let token = new_token();
        let channel = self.channel_of(ctx.scope, target).await?;
        let inv = NewInvitation {
            token_hash: token_hash(&token),
            survey_id: survey.id.clone(),
            kind: survey.kind.as_str().to_owned(),
            contact_id: target.contact_id,
            ticket_id: target.ticket_id,
            deal_id: target.deal_id,
            channel,
            via: via.to_owned(),
            run_id,
            created_at: now,
            expires_at: now + Duration::days(i64::from(ctx.settings.surveys.invitation_days)),
        };
        Ok((token, inv))
    }

    /// Makes an invitation now (the API; the demo).
    pub async fn invite(
        &self,
        ctx: &ProjectContext,
        survey_id: &str,
        target: InviteTarget,
        via: &str,
        now: DateTime<Utc>,
    ) -> Result<Invited, AppError> {
        let survey = ctx.settings.surveys.survey(survey_id).ok_or_else(|| {
            AppError::invalid("survey", "no such survey in settings.surveys.items")
        })?;
        if let Some(c) = target.contact_id {
            if self.store.contact(ctx.scope, c).await?.is_none() {
                return Err(AppError::invalid("contact_id", "no such contact"));
            }
        }
        if let Some(t) = target.ticket_id {
            if self.store.ticket(ctx.scope, t).await?.is_none() {
                return Err(AppError::invalid("ticket_id", "no such ticket"));
            }
        }
        if let Some(d) = target.deal_id {
            if self.store.deal(ctx.scope, d).await?.is_none() {
                return Err(AppError::invalid("deal_id", "no such deal"));
            }
        }
        let (token, inv) = self.prepare(ctx, survey, &target, via, None, now).await?;
        let expires_at = inv.expires_at;
        let invitation_id = self.store.create_invitation(ctx.scope, inv).await?;
        Ok(Invited {
            invitation_id,
            url: survey_url(ctx, &token),
            token,
            expires_at,
        })
    }

    /// The open invitation of a token, or why there is none.
    pub async fn open(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<OpenSurvey, Closed>, AppError> {
        if token.is_empty()
            || token.len() > MAX_TOKEN_LEN
            || !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Ok(Err(Closed::Unknown));
        }
        let Some(invitation) = self
            .store
            .invitation_by_token_hash(&token_hash(token))
            .await?
        else {
            return Ok(Err(Closed::Unknown));
        };
        if invitation.answered_at.is_some() {
            return Ok(Err(Closed::Used));
        }
        if invitation.expires_at <= now {
            return Ok(Err(Closed::Expired));
        }
        let ctx = match self.contexts.by_id(invitation.project).await {
            Ok(ctx) => ctx,
            // Its project was deleted.
            Err(AppError::NotFound(_)) => return Ok(Err(Closed::Unknown)),
            Err(e) => return Err(e),
        };
        let Some(survey) = ctx.settings.surveys.survey(&invitation.survey_id).cloned() else {
            return Ok(Err(Closed::Expired));
        };
        Ok(Ok(OpenSurvey {
            ctx,
            invitation,
            survey,
        }))
    }

    /// One submission of the page's form.
    pub async fn submit(
        &self,
        open: &OpenSurvey,
        fields: &BTreeMap<String, String>,
        shown: &[String],
        now: DateTime<Utc>,
    ) -> Result<Submitted, AppError> {
        match open.survey.step(fields, shown) {
            FormStep::More { answers, errors } => Ok(Submitted::More { answers, errors }),
            FormStep::Complete(answers) => {
                let score = answers
                    .get(open.survey.score_question())
                    .and_then(|a| a.as_score())
                    .ok_or_else(|| AppError::Internal("a complete answer has a score".into()))?;
                let outcome = self
                    .store
                    .answer_invitation(
                        open.ctx.scope,
                        open.invitation.id,
                        NewAnswer {
                            score,
                            answers: answers_json(&answers),
                            at: now,
                        },
                    )
                    .await?;
                Ok(match outcome {
                    AnswerOutcome::Recorded { .. } => {
                        metrics::counter!("skvoz_survey_answers_total", "kind" => open.survey.kind.as_str()).increment(1);
                        Submitted::Thanks
                    }
                    AnswerOutcome::AlreadyAnswered => Submitted::Closed(Closed::Used),
                    AnswerOutcome::Expired => Submitted::Closed(Closed::Expired),
                    AnswerOutcome::Unknown => Submitted::Closed(Closed::Unknown),
                })
            }
        }
    }
}
