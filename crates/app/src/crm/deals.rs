//! Deals: `PUT /api/v1/deals/{external_id}` and the upserts CRM connectors
//! make. Stage and status are reconciled with the project's pipeline here.

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::Utc;
use skvoz_domain::contact::{normalize_email, normalize_phone};
use skvoz_domain::crm::{DealStatus, DealUpdate, Identity, IdentityKind};
use skvoz_domain::settings::StageKind;
use skvoz_store::{DealRecorded, DealWrite};

/// Deals.
#[derive(Clone)]
pub struct DealService {
    store: DynStore,
}

/// How strictly a deal update is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// From the API: a bad phone, e-mail or stage is a 422.
    Api,
    /// From a CRM connector: bad contact details are dropped, an unknown
    /// stage keeps the status only (the CRM is the source of truth and must
    /// not be refused).
    Connector,
}

fn kind_of(status: DealStatus) -> StageKind {
    match status {
        DealStatus::Open => StageKind::Open,
        DealStatus::Won => StageKind::Won,
        DealStatus::Lost => StageKind::Lost,
    }
}

impl DealService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        DealService { store }
    }

    /// A deal by its external id with its stage history, oldest first.
    pub async fn with_history(
        &self,
        scope: skvoz_store::Scope,
        external_id: &str,
    ) -> Result<Option<(skvoz_store::Deal, Vec<skvoz_store::StageChange>)>, AppError> {
        let Some(deal) = self.store.deal_by_external_id(scope, external_id).await? else {
            return Ok(None);
        };
        let history = self.store.deal_history(scope, deal.id).await?;
        Ok(Some((deal, history)))
    }

    /// Upserts a deal by its external id.
    pub async fn upsert(
        &self,
        ctx: &ProjectContext,
        update: DealUpdate,
        strictness: Strictness,
        source_updated_at: Option<chrono::DateTime<Utc>>,
    ) -> Result<DealRecorded, AppError> {
        let strict = strictness == Strictness::Api;
        let ext = update.external_id.trim().to_owned();
        if ext.is_empty() || ext.len() > 200 {
            return Err(AppError::invalid(
                "external_id",
                "external_id must be 1-200 characters",
            ));
        }
        let settings = &ctx.settings;
        // Stage and status must agree with the pipeline.
        let mut stage = match &update.stage {
            Some(name) => match settings.stage(name) {
                Some(s) => Some(s.clone()),
                None if strict => {
                    return Err(AppError::invalid(
                        "stage",
                        format!("'{name}' is not a stage of the pipeline"),
                    ))
                }
                None => None,
            },
            None => None,
        };
        let mut status = update.status;
        let conflict = match (status, &stage) {
            (Some(st), Some(stage)) if DealStatus::from(stage.kind) != st => Some(
                format!(
                    "stage '{}' is {:?} but status is {}",
                    stage.name,
                    stage.kind,
                    st.as_str()
                )
                .to_lowercase(),
            ),
            _ => None,
        };
        if let Some(message) = conflict {
            if strict {
                return Err(AppError::invalid("status", message));
            }
            stage = None;
        }
        if status.is_none() {
            status = stage.as_ref().map(|s| DealStatus::from(s.kind));
        }
        let existing = self.store.deal_by_external_id(ctx.scope, &ext).await?;
        // A status without a stage: keep the current stage if it fits,
        // else the first stage of that kind.
        let stage_name = match (&stage, status) {
            (Some(s), _) => Some(s.name.clone()),
            (None, Some(st)) => {
                let current_fits = existing
                    .as_ref()
                    .and_then(|d| settings.stage(&d.stage))
                    .is_some_and(|s| s.kind == kind_of(st));
                if current_fits {
                    None
                } else {
                    settings.first_stage(kind_of(st)).map(|s| s.name.clone())
                }
            }
            (None, None) => None,
        };
        let region = &settings.general.default_region;
        let mut identities = Vec::new();
        if let Some(p) = update
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match normalize_phone(p, region) {
                Ok(p) => identities.push(Identity::new(IdentityKind::Phone, p)),
                Err(e) if strict => return Err(AppError::invalid("phone", e.to_string())),
                Err(_) => {}
            }
        }
        if let Some(e) = update
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            match normalize_email(e) {
                Ok(e) => identities.push(Identity::new(IdentityKind::Email, e)),
                Err(e) if strict => return Err(AppError::invalid("email", e.to_string())),
                Err(_) => {}
            }
        }
        if let Some(c) = update.crm_client_id.as_deref().filter(|c| !c.is_empty()) {
            identities.push(Identity::new(
                IdentityKind::CrmClient,
                c.chars().take(200).collect::<String>(),
            ));
        }
        if let Some(g) = update.ga_cid.as_deref().filter(|g| !g.is_empty()) {
            identities.push(Identity::new(
                IdentityKind::GaCid,
                g.chars().take(100).collect::<String>(),
            ));
        }
        // The visit the CRM kept (Roistat-style visit code), or the
        // visitor's latest visit before the deal.
        let at = update
            .changed_at
            .or(source_updated_at)
            .filter(|t| *t <= Utc::now() + chrono::Duration::minutes(5))
            .unwrap_or_else(Utc::now);
        let mut visit = None;
        if let Some(code) = update.visit_code {
            visit = self.store.visit_by_code(ctx.scope, code).await?;
        }
        if visit.is_none() {
            if let Some(vid) = update.vid.as_deref().filter(|v| !v.is_empty()) {
                visit = self
                    .store
                    .latest_visit(ctx.scope, vid, update.created_at.unwrap_or(at))
                    .await?;
            }
        }
        if let Some(v) = &visit {
            identities.push(Identity::new(IdentityKind::Vid, v.vid.clone()));
            if let Some(g) = &v.ga_cid {
                identities.push(Identity::new(IdentityKind::GaCid, g.clone()));
            }
        } else if let Some(vid) = update
            .vid
            .as_deref()
            .filter(|v| !v.is_empty() && v.len() <= 64)
        {
            identities.push(Identity::new(IdentityKind::Vid, vid));
        }
        identities.sort();
        identities.dedup();
        let default_stage = settings
            .first_stage(StageKind::Open)
            .map(|s| s.name.clone())
            .ok_or_else(|| AppError::Internal("pipeline without an open stage".into()))?;
        if let (Some(r), true) = (update.revenue, strict) {
            if r.0 < 0 {
                return Err(AppError::invalid("revenue", "revenue must not be negative"));
            }
        }
        let recorded = self
            .store
            .upsert_deal(
                ctx.scope,
                DealWrite {
                    external_id: ext,
                    status,
                    stage: stage_name,
                    default_stage,
                    revenue: update.revenue,
                    profit: update.profit,
                    product: update.product.map(|p| p.chars().take(300).collect()),
                    created_at: update.created_at,
                    closed_at: update.closed_at,
                    identities,
                    visit_id: visit.map(|v| v.id),
                    source_updated_at,
                    at,
                },
            )
            .await?;
        if recorded.created {
            metrics::counter!("skvoz_ingested_total", "kind" => "deal").increment(1);
        }
        Ok(recorded)
    }
}
