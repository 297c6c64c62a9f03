//! Replaying plans through the services real data takes: hits through the
//! history import (in batches, the next batch planned while one imports),
//! form leads through the lead path, deal steps through CRM upserts.

use super::plan::{CrmStep, PlannedVisitor, Stage};
use super::DemoStats;
use crate::context::ProjectContext;
use crate::crm::{LeadInput, Strictness};
use crate::tracking::{HitInput, HitOutcome};
use crate::{App, AppError};
use skvoz_domain::crm::DealUpdate;
use std::collections::{HashMap, HashSet};

/// Feeds planned visitors to the services and counts what they made.
pub(super) struct Replay<'a> {
    pub(super) app: &'a App,
    pub(super) ctx: &'a ProjectContext,
    pub(super) stats: DemoStats,
    /// The last `demo-<n>` deal number handed out.
    pub(super) next_deal: u64,
}

/// A batch whose hits are committed, with what the import answered.
pub(super) struct Imported {
    pub(super) batch: Vec<PlannedVisitor>,
    pub(super) outcomes: Vec<HitOutcome>,
}

impl Imported {
    /// Visitors (not crawlers) in the batch.
    pub(super) fn people(&self) -> u64 {
        self.batch.iter().filter(|v| !v.crawler).count() as u64
    }
}

/// Imports a batch's hits in one call.
async fn import(
    app: &App,
    ctx: &ProjectContext,
    batch: Vec<PlannedVisitor>,
) -> Result<Imported, AppError> {
    let inputs: Vec<HitInput> = batch
        .iter()
        .flat_map(|v| v.hits.iter().map(move |h| v.input(h)))
        .collect();
    let sent = inputs.len();
    let outcomes = if inputs.is_empty() {
        Vec::new()
    } else {
        app.tracking.import(ctx.project.id, inputs).await?
    };
    if outcomes.len() != sent {
        return Err(AppError::Internal(format!(
            "import answered {} of {sent} hits",
            outcomes.len()
        )));
    }
    Ok(Imported { batch, outcomes })
}

impl Replay<'_> {
    /// Imports `next` while replaying the CRM events of `previous`, so the
    /// store's two kinds of work overlap. Ids stay reproducible: only
    /// imports create visits, and only replays create contacts, leads and
    /// deals, each in order.
    pub(super) async fn overlapped(
        &mut self,
        next: Vec<PlannedVisitor>,
        previous: Option<Imported>,
    ) -> Result<Imported, AppError> {
        let (app, ctx) = (self.app, self.ctx);
        let (imported, replayed) = tokio::join!(import(app, ctx, next), async {
            match previous {
                Some(previous) => self.replay(previous).await,
                None => Ok(()),
            }
        });
        replayed?;
        imported
    }

    /// Counts an imported batch and replays each visitor's leads and deal
    /// updates in time order, with the visit codes the import returned.
    pub(super) async fn replay(&mut self, imported: Imported) -> Result<(), AppError> {
        let Imported { batch, outcomes } = imported;
        let mut visits = HashSet::new();
        let mut offset = 0;
        for visitor in batch {
            let own = &outcomes[offset..offset + visitor.hits.len()];
            offset += visitor.hits.len();
            if visitor.crawler {
                continue;
            }
            self.stats.visitors += 1;
            for outcome in own {
                if let Some(id) = outcome.visit_id {
                    visits.insert(id);
                    self.stats.hits += 1;
                }
            }
            self.replay_crm(&visitor, own).await?;
        }
        // Visitors never share a visit, and a visitor's hits are all in
        // one batch: counting per batch counts every visit once.
        self.stats.visits += visits.len() as u64;
        Ok(())
    }

    pub(super) async fn replay_crm(
        &mut self,
        visitor: &PlannedVisitor,
        outcomes: &[HitOutcome],
    ) -> Result<(), AppError> {
        let mut numbers: HashMap<u32, u64> = HashMap::new();
        for step in &visitor.crm {
            match step {
                CrmStep::Lead(lead) => {
                    let code = lead
                        .hit
                        .and_then(|h| outcomes.get(h))
                        .and_then(|o| o.visit_code);
                    let fields = lead.product.map(|p| {
                        let mut m = serde_json::Map::new();
                        m.insert("product".into(), p.into());
                        m
                    });
                    let recorded = self
                        .app
                        .leads
                        .create_form_lead(
                            self.ctx,
                            LeadInput {
                                visit_code: code.map(serde_json::Value::from),
                                phone: lead.phone.clone(),
                                email: lead.email.clone(),
                                name: lead.name.clone(),
                                form: Some(lead.form.to_owned()),
                                fields,
                                created_at: Some(lead.at),
                                ..LeadInput::default()
                            },
                        )
                        .await?;
                    self.stats.leads += 1;
                    if !recorded.duplicate && recorded.deal_id.is_some() {
                        self.stats.deals += 1;
                    }
                }
                CrmStep::Deal(step) => {
                    let n = *numbers.entry(step.deal).or_insert_with(|| {
                        self.next_deal += 1;
                        self.next_deal
                    });
                    let recorded = self
                        .app
                        .deals
                        .upsert(
                            self.ctx,
                            DealUpdate {
                                external_id: format!("demo-{n}"),
                                stage: Some(step.stage.name().to_owned()),
                                revenue: step.revenue,
                                profit: step.profit,
                                created_at: Some(step.created_at),
                                closed_at: step.stage.is_closed().then_some(step.at),
                                phone: step.phone.clone(),
                                email: step.email.clone(),
                                product: step.product.map(str::to_owned),
                                changed_at: Some(step.at),
                                ..DealUpdate::default()
                            },
                            Strictness::Api,
                            None,
                        )
                        .await?;
                    if recorded.created {
                        self.stats.deals += 1;
                    }
                    if step.stage == Stage::Won {
                        self.stats.won += 1;
                    }
                }
            }
        }
        Ok(())
    }
}
