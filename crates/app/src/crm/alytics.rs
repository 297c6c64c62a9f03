//! The Alytics universal CRM format both ways: serving the deals that
//! reached a configured stage on a Moscow-time day (with the UTM tags and
//! client id of the visit they are attributed to), and pulling other
//! systems' feeds into deals (yesterday plus re-pulls of recent days).

use super::deals::{DealService, Strictness};
use super::webhooks::secrets_match;
use crate::context::{ContextCache, ProjectContext};
use crate::{AppError, DynStore};
use chrono::{NaiveDate, Utc};
use skvoz_connectors::crm::alytics::{self, AlyticsClient, AlyticsTransaction};
use skvoz_domain::crm::{DealStatus, IdentityKind};
use skvoz_domain::settings::StageKind;
use skvoz_store::PullRun;
use std::sync::Arc;
use std::time::Duration;

/// The Alytics use cases.
#[derive(Clone)]
pub struct AlyticsService {
    store: DynStore,
    contexts: Arc<ContextCache>,
    deals: DealService,
}

/// What one pull of one source and day did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PullReport {
    /// The runs, one per source and day.
    pub runs: Vec<PullRun>,
}

fn or_default(value: Option<&str>, default: &str) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or(default)
        .to_owned()
}

impl AlyticsService {
    /// Over a store.
    pub fn new(store: DynStore, contexts: Arc<ContextCache>) -> Self {
        AlyticsService {
            deals: DealService::new(store.clone()),
            store,
            contexts,
        }
    }

    /// Finds the project whose export credentials these are. Exports are
    /// addressed by credentials alone (`/export/alytics/{n}/`), as the
    /// consumer expects one URL per goal.
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Arc<ProjectContext>, AppError> {
        for project in self.store.list_projects().await? {
            let ctx = self.contexts.by_id(project.id).await?;
            let cfg = &ctx.settings.crm.alytics_export;
            if !cfg.stages.is_empty()
                && cfg.login == login
                && secrets_match(password, &cfg.password)
            {
                return Ok(ctx);
            }
        }
        Err(AppError::Unauthorized(
            "wrong export login or password".into(),
        ))
    }

    /// The transactions of goal `n` for a Moscow-time day.
    pub async fn export(
        &self,
        ctx: &ProjectContext,
        goal: usize,
        date: NaiveDate,
    ) -> Result<serde_json::Value, AppError> {
        let stage = ctx
            .settings
            .crm
            .alytics_export
            .stages
            .get(goal)
            .ok_or_else(|| AppError::NotFound(format!("goal {goal}")))?;
        let (from, to) = alytics::moscow_day_bounds(date);
        let mut transactions = Vec::new();
        for (deal, entered) in self
            .store
            .deals_entering_stage(ctx.scope, stage, from, to)
            .await?
        {
            let visit = match deal.visit_id {
                Some(id) => self.store.visit(ctx.scope, id).await?,
                None => None,
            };
            let mut client_id = visit.as_ref().and_then(|v| v.ga_cid.clone());
            if client_id.is_none() {
                if let Some(c) = deal.contact_id {
                    client_id = self
                        .store
                        .contact(ctx.scope, c)
                        .await?
                        .and_then(|c| {
                            c.identities
                                .into_iter()
                                .find(|i| i.kind == IdentityKind::GaCid)
                        })
                        .map(|i| i.value);
                }
            }
            let mut t = AlyticsTransaction::new(
                deal.external_id
                    .clone()
                    .unwrap_or_else(|| format!("skvoz-{}", deal.id)),
                alytics::moscow_local(entered),
            );
            t.number = deal.product.clone();
            t.revenue = deal.revenue;
            t.profit = deal.profit;
            t.client_id = client_id;
            if let Some(v) = &visit {
                let s = &v.source;
                t.utm_source = or_default(Some(&s.source), "(direct)");
                t.utm_medium = or_default(Some(&s.medium), "(none)");
                t.utm_campaign = or_default(s.campaign.as_deref(), "(not set)");
                t.utm_content = or_default(s.content.as_deref(), "(not set)");
                t.utm_term = or_default(s.term.as_deref(), "(not set)");
            }
            transactions.push(t);
        }
        Ok(alytics::feed_json(&transactions))
    }

    /// Pulls every enabled source of a project for the days a daily run
    /// covers (or one `date`), turning transactions into deals. Errors are
    /// recorded per source and day and shown by [`AlyticsService::status`].
    pub async fn pull(
        &self,
        ctx: &ProjectContext,
        date: Option<NaiveDate>,
    ) -> Result<PullReport, AppError> {
        let client = AlyticsClient::new(Duration::from_secs(30))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let today = alytics::moscow_date(Utc::now());
        let won = ctx
            .settings
            .first_stage(StageKind::Won)
            .map(|s| s.name.clone())
            .ok_or_else(|| AppError::Internal("pipeline without a won stage".into()))?;
        let mut runs = Vec::new();
        for src in ctx.settings.crm.alytics_pull.iter().filter(|s| s.enabled) {
            let days = match date {
                Some(d) => vec![d],
                None => alytics::pull_dates(today, src.repull_days),
            };
            for day in days {
                let result = client.fetch(&src.url, &src.login, &src.password, day).await;
                let run = match result {
                    Ok(feed) => {
                        let mut applied = 0i64;
                        let mut failed = Vec::new();
                        for t in &feed.transactions {
                            let mut update = alytics::to_deal_update(&src.name, t);
                            update.stage = Some(src.stage.clone().unwrap_or_else(|| won.clone()));
                            let kind = update
                                .stage
                                .as_deref()
                                .and_then(|s| ctx.settings.stage(s))
                                .map(|s| s.kind);
                            update.status = kind.map(DealStatus::from);
                            if update.closed_at.is_none() && update.status != Some(DealStatus::Open)
                            {
                                update.closed_at = update.created_at;
                            }
                            match self
                                .deals
                                .upsert(ctx, update, Strictness::Connector, None)
                                .await
                            {
                                Ok(_) => applied += 1,
                                Err(e) => failed.push(format!("{}: {e}", t.id)),
                            }
                        }
                        let rejected = feed.rejected.len();
                        let error = (!failed.is_empty() || rejected > 0).then(|| {
                            format!(
                                "{rejected} transactions rejected by the format; {} not applied {}",
                                failed.len(),
                                failed.join("; ")
                            )
                        });
                        PullRun {
                            source: src.name.clone(),
                            day: day.format("%Y-%m-%d").to_string(),
                            attempted_at: Utc::now(),
                            ok: failed.is_empty(),
                            transactions: applied,
                            error,
                        }
                    }
                    Err(e) => PullRun {
                        source: src.name.clone(),
                        day: day.format("%Y-%m-%d").to_string(),
                        attempted_at: Utc::now(),
                        ok: false,
                        transactions: 0,
                        error: Some(e.to_string()),
                    },
                };
                if !run.ok {
                    tracing::warn!(source = %run.source, day = %run.day, error = ?run.error, "alytics pull failed");
                }
                self.store.record_pull(ctx.scope, run.clone()).await?;
                runs.push(run);
            }
        }
        Ok(PullReport { runs })
    }

    /// The latest pull attempts.
    pub async fn status(&self, ctx: &ProjectContext) -> Result<Vec<PullRun>, AppError> {
        Ok(self.store.pull_runs(ctx.scope, 200).await?)
    }

    /// Pulls every project with sources: what the daily scheduler runs.
    pub async fn pull_all(&self) -> Result<(), AppError> {
        for project in self.store.list_projects().await? {
            let ctx = self.contexts.by_id(project.id).await?;
            if ctx.settings.crm.alytics_pull.iter().any(|s| s.enabled) {
                if let Err(e) = self.pull(&ctx, None).await {
                    tracing::warn!(project = %project.id, error = %e, "alytics pull run failed");
                }
            }
        }
        Ok(())
    }
}
