//! `POST /api/v1/leads`: a lead from a site form (and the common path every
//! other lead kind — call, chat, ticket — takes).

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use skvoz_domain::contact::{normalize_email, normalize_phone};
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::settings::StageKind;
use skvoz_store::{LeadPolicy, LeadRecorded, NewLead, Visit};

/// A lead as the API receives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    /// The visit code the site passed with the form (a number, or its text).
    #[serde(default)]
    pub visit_code: Option<serde_json::Value>,
    /// The visitor id (`skvoz_vid` cookie).
    #[serde(default)]
    pub vid: Option<String>,
    /// GA client id.
    #[serde(default)]
    pub ga_cid: Option<String>,
    /// Metrika client id.
    #[serde(default)]
    pub ym_uid: Option<String>,
    /// Phone, in any common notation.
    #[serde(default)]
    pub phone: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The form's name.
    #[serde(default)]
    pub form: Option<String>,
    /// Other form fields.
    #[serde(default)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// When it was submitted (default now).
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// Identity details every lead kind may carry, already validated.
#[derive(Debug, Clone, Default)]
pub struct LeadIdentity {
    /// Visit code.
    pub visit_code: Option<i64>,
    /// Visitor id.
    pub vid: Option<String>,
    /// GA client id.
    pub ga_cid: Option<String>,
    /// Metrika client id.
    pub ym_uid: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Normalized e-mail.
    pub email: Option<String>,
    /// Other ids (Telegram user, CRM client).
    pub extra: Vec<Identity>,
}

impl LeadIdentity {
    /// Names no visit and no person.
    pub fn is_empty(&self) -> bool {
        self.visit_code.is_none()
            && self.vid.is_none()
            && self.ga_cid.is_none()
            && self.ym_uid.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.extra.is_empty()
    }
}

/// Leads.
#[derive(Clone)]
pub struct LeadService {
    store: DynStore,
}

/// Trims a text field; empty is `None`, longer than `max` bytes is a 422
/// naming `field`.
pub(crate) fn clean(
    value: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, AppError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.len() > max => Err(AppError::invalid(
            field,
            format!("{field} is longer than {max} bytes"),
        )),
        other => Ok(other),
    }
}

/// Reads a visit code given as a number or as text with digits.
pub fn parse_visit_code(value: &serde_json::Value) -> Result<Option<i64>, AppError> {
    let bad = || AppError::invalid("visit_code", "visit_code must be a positive number");
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n.as_i64().filter(|v| *v > 0).map(Some).ok_or_else(bad),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(Some)
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

impl LeadInput {
    /// Validates and normalizes; a phone or e-mail that is junk is a 422
    /// naming the field, never a wrong number.
    pub fn identity(&self, default_region: &str) -> Result<LeadIdentity, AppError> {
        let phone = match clean(self.phone.clone(), "phone", 64)? {
            Some(p) => Some(
                normalize_phone(&p, default_region)
                    .map_err(|e| AppError::invalid("phone", e.to_string()))?,
            ),
            None => None,
        };
        let email = match clean(self.email.clone(), "email", 254)? {
            Some(e) => {
                Some(normalize_email(&e).map_err(|e| AppError::invalid("email", e.to_string()))?)
            }
            None => None,
        };
        Ok(LeadIdentity {
            visit_code: match &self.visit_code {
                Some(v) => parse_visit_code(v)?,
                None => None,
            },
            vid: clean(self.vid.clone(), "vid", 64)?,
            ga_cid: clean(self.ga_cid.clone(), "ga_cid", 100)?,
            ym_uid: clean(self.ym_uid.clone(), "ym_uid", 64)?,
            phone,
            email,
            extra: Vec::new(),
        })
    }
}

impl LeadService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        LeadService { store }
    }

    /// Leads created within `[from, to)`.
    pub async fn between(
        &self,
        scope: skvoz_store::Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<skvoz_store::Lead>, AppError> {
        Ok(self.store.leads_between(scope, from, to).await?)
    }

    /// The visit a lead came from and the deal it opened or joined, each
    /// when it has one.
    pub async fn visit_and_deal(
        &self,
        scope: skvoz_store::Scope,
        lead: &skvoz_store::Lead,
    ) -> Result<(Option<Visit>, Option<skvoz_store::Deal>), AppError> {
        let visit = match lead.visit_id {
            Some(id) => self.store.visit(scope, id).await?,
            None => None,
        };
        let deal = match lead.deal_id {
            Some(id) => self.store.deal(scope, id).await?,
            None => None,
        };
        Ok((visit, deal))
    }

    /// The visit a lead belongs to: by visit code, else by visitor id, else
    /// by GA / Metrika client id — the latest visit before the lead.
    pub async fn find_visit(
        &self,
        ctx: &ProjectContext,
        who: &LeadIdentity,
        at: DateTime<Utc>,
    ) -> Result<Option<Visit>, AppError> {
        let store = &self.store;
        if let Some(code) = who.visit_code {
            if let Some(v) = store.visit_by_code(ctx.scope, code).await? {
                return Ok(Some(v));
            }
        }
        if let Some(vid) = &who.vid {
            if let Some(v) = store.latest_visit(ctx.scope, vid, at).await? {
                return Ok(Some(v));
            }
        }
        for (kind, value) in [("ga_cid", &who.ga_cid), ("ym_uid", &who.ym_uid)] {
            let Some(value) = value else { continue };
            let mut best: Option<Visit> = None;
            for vid in store.vids_by_link(ctx.scope, kind, value).await? {
                if let Some(v) = store.latest_visit(ctx.scope, &vid, at).await? {
                    if best.as_ref().is_none_or(|b| v.started_at > b.started_at) {
                        best = Some(v);
                    }
                }
            }
            if best.is_some() {
                return Ok(best);
            }
        }
        Ok(None)
    }

    /// Records a lead of any kind through the common path: visit, contact
    /// (merging when it proves two are one person), deduplication.
    #[allow(clippy::too_many_arguments)]
    pub async fn record(
        &self,
        ctx: &ProjectContext,
        kind: LeadKind,
        source_id: Option<String>,
        who: LeadIdentity,
        name: Option<String>,
        at: DateTime<Utc>,
        payload: serde_json::Value,
    ) -> Result<(LeadRecorded, Option<Visit>), AppError> {
        let visit = self.find_visit(ctx, &who, at).await?;
        let mut identities: Vec<Identity> = Vec::new();
        let mut push = |kind: IdentityKind, value: &Option<String>| {
            if let Some(v) = value {
                let id = Identity::new(kind, v.clone());
                if !identities.contains(&id) {
                    identities.push(id);
                }
            }
        };
        push(IdentityKind::Phone, &who.phone);
        push(IdentityKind::Email, &who.email);
        push(IdentityKind::Vid, &who.vid);
        push(IdentityKind::GaCid, &who.ga_cid);
        push(IdentityKind::YmUid, &who.ym_uid);
        if let Some(v) = &visit {
            push(IdentityKind::Vid, &Some(v.vid.clone()));
            push(IdentityKind::GaCid, &v.ga_cid);
            push(IdentityKind::YmUid, &v.ym_uid);
        }
        for extra in who.extra {
            if !identities.contains(&extra) {
                identities.push(extra);
            }
        }
        let first_stage = ctx
            .settings
            .first_stage(StageKind::Open)
            .map(|s| s.name.clone())
            .ok_or_else(|| AppError::Internal("pipeline without an open stage".into()))?;
        let recorded = self
            .store
            .record_lead(
                ctx.scope,
                NewLead {
                    kind,
                    source_id,
                    created_at: at,
                    visit_id: visit.as_ref().map(|v| v.id),
                    identities,
                    name,
                    payload,
                },
                LeadPolicy {
                    dedup: ctx.settings.leads.dedup,
                    first_stage,
                },
            )
            .await?;
        if !recorded.replayed {
            metrics::counter!("skvoz_ingested_total", "kind" => format!("lead_{}", kind.as_str()))
                .increment(1);
        }
        Ok((recorded, visit))
    }

    /// `POST /api/v1/leads`.
    pub async fn create_form_lead(
        &self,
        ctx: &ProjectContext,
        input: LeadInput,
    ) -> Result<LeadRecorded, AppError> {
        let who = input.identity(&ctx.settings.general.default_region)?;
        // `{}`, `[]` and `[null]` parse as an empty lead: a lead tied to no
        // visit and no person is noise in every report, so it is refused.
        if who.is_empty() {
            return Err(AppError::invalid(
                "phone",
                "a lead needs a visit or a person: give visit_code, vid, ga_cid, ym_uid, phone or email",
            ));
        }
        let name = clean(input.name.clone(), "name", 200)?;
        let form = clean(input.form.clone(), "form", 200)?;
        if let Some(fields) = &input.fields {
            if serde_json::to_string(fields)
                .map(|s| s.len())
                .unwrap_or(usize::MAX)
                > 16 * 1024
            {
                return Err(AppError::invalid("fields", "fields are larger than 16 KiB"));
            }
        }
        let at = input.created_at.unwrap_or_else(Utc::now);
        if at > Utc::now() + chrono::Duration::minutes(5) {
            return Err(AppError::invalid(
                "created_at",
                "created_at is in the future",
            ));
        }
        let payload = serde_json::json!({
            "form": form, "name": name, "phone": input.phone, "email": input.email,
            "visit_code": input.visit_code, "vid": input.vid, "fields": input.fields,
        });
        let (recorded, _) = self
            .record(ctx, LeadKind::Form, None, who, name, at, payload)
            .await?;
        Ok(recorded)
    }
}
