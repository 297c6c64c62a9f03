//! Contacts, leads and deals in SQLite. The atomic operations run in one
//! write transaction each.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use crate::reports::bump_revision;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use skvoz_domain::crm::{
    name_to_fill, plan_contact_merge, plan_deal_upsert, plan_lead, ContactResolution, DealPlan,
    DealState, DealStatus, DealTarget, DealWriteFacts, Identity, IdentityKind, LeadDeal, LeadFacts,
    LeadKind, StageEntry, StoredDeal,
};
use skvoz_domain::Money;
use skvoz_store::{
    Contact, CrmStore, Deal, DealRecorded, DealStageChangedPayload, DealWrite, Lead,
    LeadCreatedPayload, LeadPolicy, LeadRecorded, NewLead, PullRun, Scope, StageChange,
    StoreResult,
};

const DEAL_COLUMNS: &str =
    "id, external_id, contact_id, lead_id, visit_id, status, stage, revenue, profit, product, \
     is_repeat, created_at, closed_at";

fn deal_from_row(r: &Row<'_>) -> rusqlite::Result<Deal> {
    let status: String = r.get(5)?;
    Ok(Deal {
        id: r.get(0)?,
        external_id: r.get(1)?,
        contact_id: r.get(2)?,
        lead_id: r.get(3)?,
        visit_id: r.get(4)?,
        status: DealStatus::parse(&status).unwrap_or(DealStatus::Open),
        stage: r.get(6)?,
        revenue: Money(r.get(7)?),
        profit: r.get::<_, Option<i64>>(8)?.map(Money),
        product: r.get(9)?,
        is_repeat: r.get(10)?,
        created_at: ms_to_time(r.get(11)?),
        closed_at: r.get::<_, Option<i64>>(12)?.map(ms_to_time),
    })
}

const LEAD_COLUMNS: &str =
    "id, kind, contact_id, visit_id, deal_id, is_duplicate, created_at, payload";

fn lead_from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    let kind: String = r.get(1)?;
    let payload: String = r.get(7)?;
    Ok(Lead {
        id: r.get(0)?,
        kind: LeadKind::parse(&kind).unwrap_or(LeadKind::Form),
        contact_id: r.get(2)?,
        visit_id: r.get(3)?,
        deal_id: r.get(4)?,
        is_duplicate: r.get(5)?,
        created_at: ms_to_time(r.get(6)?),
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
    })
}

/// Follows `merged_into` to the surviving contact.
pub(crate) fn root_contact(c: &Connection, id: i64) -> rusqlite::Result<i64> {
    let mut current = id;
    for _ in 0..64 {
        let next: Option<i64> = c
            .prepare_cached("SELECT merged_into FROM contacts WHERE id = ?1")?
            .query_row([current], |r| r.get(0))
            .optional()?
            .flatten();
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    Ok(current)
}

/// Finds (creating or merging as needed) the one contact of a set of
/// identities and attaches them all to it. Returns (contact, merged ids).
/// The decision is [`plan_contact_merge`]'s; this applies it.
fn resolve_contact(
    tx: &Transaction<'_>,
    project: i64,
    identities: &[Identity],
    name: Option<&str>,
    at: i64,
) -> rusqlite::Result<Option<(i64, Vec<i64>)>> {
    let mut owners: Vec<Option<i64>> = Vec::with_capacity(identities.len());
    for id in identities {
        let owner: Option<i64> = tx
            .prepare_cached("SELECT contact_id FROM contact_identities WHERE project_id = ?1 AND kind = ?2 AND value = ?3")?
            .query_row(params![project, id.kind.as_str(), id.value], |r| r.get(0))
            .optional()?;
        owners.push(owner.map(|o| root_contact(tx, o)).transpose()?);
    }
    let (winner, merged, existed) = match plan_contact_merge(&owners) {
        ContactResolution::Anonymous => return Ok(None),
        // The losers keep their leads and deals (moved) and their rows
        // (marked merged).
        ContactResolution::Use { winner, losers } => {
            for &loser in &losers {
                tx.execute(
                    "UPDATE contact_identities SET contact_id = ?1 WHERE contact_id = ?2",
                    params![winner, loser],
                )?;
                tx.execute(
                    "UPDATE leads SET contact_id = ?1 WHERE contact_id = ?2",
                    params![winner, loser],
                )?;
                tx.execute(
                    "UPDATE deals SET contact_id = ?1 WHERE contact_id = ?2",
                    params![winner, loser],
                )?;
                tx.execute(
                    "UPDATE contacts SET merged_into = ?1 WHERE id = ?2",
                    params![winner, loser],
                )?;
            }
            (winner, losers, true)
        }
        ContactResolution::Create => {
            tx.execute(
                "INSERT INTO contacts (project_id, name, created_at) VALUES (?1, ?2, ?3)",
                params![project, name, at],
            )?;
            (tx.last_insert_rowid(), Vec::new(), false)
        }
    };
    for id in identities {
        tx.prepare_cached(
            "INSERT INTO contact_identities (project_id, kind, value, contact_id, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(project_id, kind, value) DO UPDATE SET contact_id = excluded.contact_id",
        )?
        .execute(params![project, id.kind.as_str(), id.value, winner, at])?;
    }
    if existed && name.is_some() {
        let stored: Option<String> = tx
            .prepare_cached("SELECT name FROM contacts WHERE id = ?1")?
            .query_row([winner], |r| r.get(0))?;
        if let Some(name) = name_to_fill(stored.as_deref(), name) {
            tx.execute(
                "UPDATE contacts SET name = ?1 WHERE id = ?2",
                params![name, winner],
            )?;
        }
    }
    Ok(Some((winner, merged)))
}

fn has_won_deal(tx: &Connection, contact: i64, before: i64) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT EXISTS(SELECT 1 FROM deals WHERE contact_id = ?1 AND status = 'won' AND created_at <= ?2)")?
        .query_row(params![contact, before], |r| r.get(0))
}

fn add_history(
    tx: &Connection,
    deal: i64,
    stage: &str,
    status: DealStatus,
    at: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO deal_stage_history (deal_id, stage, status, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![deal, stage, status.as_str(), at])?;
    Ok(())
}

/// Appends a stage-history row a plan asked for.
fn add_stage_entry(tx: &Connection, deal: i64, entry: &StageEntry) -> rusqlite::Result<()> {
    add_history(
        tx,
        deal,
        &entry.stage,
        entry.status,
        entry.at.timestamp_millis(),
    )
}

/// The newest stage-history row id (before a change: its events are the rows
/// after it).
fn history_mark(tx: &Connection) -> rusqlite::Result<i64> {
    tx.query_row(
        "SELECT coalesce(max(id), 0) FROM deal_stage_history",
        [],
        |r| r.get(0),
    )
}

/// Appends a `deal.stage_changed` event for every stage a deal entered in
/// this transaction (history rows after `mark`), with the deal as it now is.
fn emit_stage_events(
    tx: &Connection,
    project: i64,
    deal_id: i64,
    mark: i64,
) -> rusqlite::Result<()> {
    let deal = tx.query_row(
        &format!("SELECT {DEAL_COLUMNS} FROM deals WHERE id = ?1"),
        [deal_id],
        deal_from_row,
    )?;
    let mut stmt = tx.prepare_cached(
        "SELECT stage, status, at FROM deal_stage_history WHERE deal_id = ?1 AND id > ?2 ORDER BY id",
    )?;
    let entered = stmt
        .query_map(params![deal_id, mark], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (stage, status, at) in entered {
        let status = DealStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("unknown deal status `{status}`").into(),
            )
        })?;
        let entered = DealStageChangedPayload::entered(&deal, stage, status, ms_to_time(at));
        crate::events::emit_payload(tx, project, entered.into())?;
    }
    Ok(())
}

fn record_lead_tx(
    tx: &Transaction<'_>,
    project: i64,
    lead: &NewLead,
    policy: &LeadPolicy,
) -> rusqlite::Result<LeadRecorded> {
    let at = lead.created_at.timestamp_millis();
    if let Some(source_id) = &lead.source_id {
        let existing: Option<(i64, Option<i64>, Option<i64>, bool)> = tx
            .query_row(
                "SELECT id, contact_id, deal_id, is_duplicate FROM leads WHERE project_id = ?1 AND kind = ?2 AND source_id = ?3",
                params![project, lead.kind.as_str(), source_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((lead_id, contact, deal_id, duplicate)) = existing {
            let contact_id = match contact {
                Some(c) => root_contact(tx, c)?,
                None => 0,
            };
            return Ok(LeadRecorded {
                lead_id,
                contact_id,
                deal_id,
                duplicate,
                repeat_sale: false,
                merged: Vec::new(),
                replayed: true,
            });
        }
    }
    let mark = history_mark(tx)?;
    let resolved = resolve_contact(tx, project, &lead.identities, lead.name.as_deref(), at)?;
    let (contact_id, merged) = resolved.unwrap_or((0, Vec::new()));
    let contact = (contact_id != 0).then_some(contact_id);

    let open_deal: Option<i64> = match contact {
        Some(c) => tx
            .query_row(
                "SELECT id FROM deals WHERE contact_id = ?1 AND status = 'open' ORDER BY created_at DESC, id DESC LIMIT 1",
                [c],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    let has_won = match contact {
        Some(c) => has_won_deal(tx, c, at)?,
        None => false,
    };
    let plan = plan_lead(&LeadFacts {
        kind: lead.kind,
        dedup: policy.dedup,
        open_deal,
        has_won_deal: has_won,
        first_stage: policy.first_stage.clone(),
        at: lead.created_at,
    });
    tx.execute(
        "INSERT INTO leads (project_id, kind, source_id, contact_id, visit_id, deal_id, is_duplicate, created_at, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, ?6, ?7)",
        params![project, lead.kind.as_str(), lead.source_id, contact, lead.visit_id, at, lead.payload.to_string()],
    )?;
    let lead_id = tx.last_insert_rowid();
    let duplicate = plan.duplicate;
    let deal_id = match &plan.deal {
        LeadDeal::None => None,
        LeadDeal::Join(deal) => Some(*deal),
        LeadDeal::Open(open) => {
            tx.execute(
                "INSERT INTO deals (project_id, external_id, contact_id, lead_id, visit_id, status, stage, revenue,
                    is_repeat, created_at, updated_at)
                 VALUES (?1, NULL, ?2, ?3, ?4, 'open', ?5, 0, ?6, ?7, ?7)",
                params![project, contact, lead_id, lead.visit_id, open.stage, open.is_repeat, at],
            )?;
            let deal = tx.last_insert_rowid();
            add_stage_entry(tx, deal, &open.history)?;
            Some(deal)
        }
    };
    tx.execute(
        "UPDATE leads SET deal_id = ?1, is_duplicate = ?2 WHERE id = ?3",
        params![deal_id, duplicate, lead_id],
    )?;
    crate::events::emit_payload(
        tx,
        project,
        LeadCreatedPayload::recorded(lead, lead_id, contact, deal_id, duplicate).into(),
    )?;
    if let (Some(deal), false) = (deal_id, duplicate) {
        emit_stage_events(tx, project, deal, mark)?;
    }
    Ok(LeadRecorded {
        lead_id,
        contact_id,
        deal_id,
        duplicate,
        repeat_sale: plan.repeat_sale,
        merged,
        replayed: false,
    })
}

/// The fields of a stored deal the upsert rules read.
fn deal_state(deal: &Deal) -> DealState {
    DealState {
        id: deal.id,
        contact_id: deal.contact_id,
        visit_id: deal.visit_id,
        status: deal.status,
        stage: deal.stage.clone(),
        revenue: deal.revenue,
        profit: deal.profit,
        product: deal.product.clone(),
        closed_at: deal.closed_at,
    }
}

fn upsert_deal_tx(
    tx: &Transaction<'_>,
    project: i64,
    w: &DealWrite,
) -> rusqlite::Result<DealRecorded> {
    let at = w.at.timestamp_millis();
    let existing: Option<StoredDeal> = tx
        .query_row(
            &format!("SELECT {DEAL_COLUMNS}, source_updated_at FROM deals WHERE project_id = ?1 AND external_id = ?2"),
            params![project, w.external_id],
            |r| {
                Ok(StoredDeal {
                    state: deal_state(&deal_from_row(r)?),
                    source_updated_at: r.get::<_, Option<i64>>(13)?.map(ms_to_time),
                })
            },
        )
        .optional()?;
    let mark = history_mark(tx)?;
    let resolved = resolve_contact(tx, project, &w.identities, None, at)?;
    let contact = resolved.as_ref().map(|(c, _)| *c);

    // The contact's open deal a lead opened, for a deal seen the first time.
    let open_internal: Option<DealState> = match (&existing, contact) {
        (None, Some(c)) => tx
            .query_row(
                &format!(
                    "SELECT {DEAL_COLUMNS} FROM deals WHERE contact_id = ?1 AND external_id IS NULL AND status = 'open'
                     ORDER BY created_at DESC LIMIT 1"
                ),
                [c],
                deal_from_row,
            )
            .optional()?
            .map(|d| deal_state(&d)),
        _ => None,
    };
    let facts = DealWriteFacts {
        status: w.status,
        stage: w.stage.clone(),
        default_stage: w.default_stage.clone(),
        revenue: w.revenue,
        profit: w.profit,
        product: w.product.clone(),
        created_at: w.created_at,
        closed_at: w.closed_at,
        visit_id: w.visit_id,
        source_updated_at: w.source_updated_at,
        at: w.at,
    };
    // Whether a new deal is a repeat sale: asked only when one is created.
    let repeat = match (&existing, &open_internal, contact) {
        (None, None, Some(c)) => has_won_deal(tx, c, facts.created_at_or_now().timestamp_millis())?,
        _ => false,
    };
    let plan = plan_deal_upsert(
        existing.as_ref(),
        open_internal.as_ref(),
        contact,
        &facts,
        repeat,
    );
    let changes = match plan {
        DealPlan::Ignore {
            deal_id,
            contact_id,
        } => {
            return Ok(DealRecorded {
                deal_id,
                created: false,
                adopted: false,
                changed: false,
                stage_changed: false,
                contact_id,
            })
        }
        DealPlan::Apply(changes) => *changes,
    };

    let deal_id = match &changes.target {
        DealTarget::Existing(id) => *id,
        DealTarget::Adopt(id) => {
            tx.execute(
                "UPDATE deals SET external_id = ?1 WHERE id = ?2",
                params![w.external_id, id],
            )?;
            *id
        }
        DealTarget::Create(new) => {
            tx.execute(
                "INSERT INTO deals (project_id, external_id, contact_id, visit_id, status, stage, revenue, is_repeat,
                    created_at, closed_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?10)",
                params![
                    project,
                    w.external_id,
                    new.contact_id,
                    new.visit_id,
                    new.status.as_str(),
                    new.stage,
                    new.is_repeat,
                    new.created_at.timestamp_millis(),
                    new.closed_at.map(|t| t.timestamp_millis()),
                    at
                ],
            )?;
            let id = tx.last_insert_rowid();
            for entry in &new.history {
                add_stage_entry(tx, id, entry)?;
            }
            id
        }
    };
    if let Some(u) = &changes.update {
        tx.execute(
            "UPDATE deals SET status = ?1, stage = ?2, revenue = ?3, profit = ?4, product = ?5, contact_id = ?6,
                visit_id = ?7, closed_at = ?8, updated_at = ?9 WHERE id = ?10",
            params![
                u.status.as_str(),
                u.stage,
                u.revenue.0,
                u.profit.map(|p| p.0),
                u.product,
                u.contact_id,
                u.visit_id,
                u.closed_at.map(|t| t.timestamp_millis()),
                u.updated_at.timestamp_millis(),
                deal_id
            ],
        )?;
    }
    if let Some(src) = changes.source_updated_at {
        tx.execute(
            "UPDATE deals SET source_updated_at = max(coalesce(source_updated_at, 0), ?1) WHERE id = ?2",
            params![src.timestamp_millis(), deal_id],
        )?;
    }
    if let Some(entry) = &changes.stage_entry {
        add_stage_entry(tx, deal_id, entry)?;
    }
    let (created, stage_changed) = (changes.created(), changes.stage_changed);
    if stage_changed || created {
        emit_stage_events(tx, project, deal_id, mark)?;
    }
    Ok(DealRecorded {
        deal_id,
        created,
        adopted: changes.adopted(),
        changed: changes.changed,
        stage_changed,
        contact_id: changes.contact_id,
    })
}

#[async_trait::async_trait]
impl CrmStore for SqliteStore {
    async fn record_lead(
        &self,
        scope: Scope,
        lead: NewLead,
        policy: LeadPolicy,
    ) -> StoreResult<LeadRecorded> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let out =
                record_lead_tx(&tx, scope.project().0, &lead, &policy).map_err(backend_err)?;
            if !out.replayed {
                bump_revision(&tx, scope.project().0).map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(out)
        })
        .await
    }

    async fn upsert_deal(&self, scope: Scope, deal: DealWrite) -> StoreResult<DealRecorded> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let out = upsert_deal_tx(&tx, scope.project().0, &deal).map_err(backend_err)?;
            if out.changed || out.created {
                bump_revision(&tx, scope.project().0).map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(out)
        })
        .await
    }

    async fn deal(&self, scope: Scope, id: i64) -> StoreResult<Option<Deal>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {DEAL_COLUMNS} FROM deals WHERE project_id = ?1 AND id = ?2"),
                params![scope.project().0, id],
                deal_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn deal_by_external_id(
        &self,
        scope: Scope,
        external_id: &str,
    ) -> StoreResult<Option<Deal>> {
        let external_id = external_id.to_owned();
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {DEAL_COLUMNS} FROM deals WHERE project_id = ?1 AND external_id = ?2"
                ),
                params![scope.project().0, external_id],
                deal_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn contact(&self, scope: Scope, id: i64) -> StoreResult<Option<Contact>> {
        self.read(move |c| {
            let project = scope.project().0;
            let exists: Option<i64> = c
                .query_row("SELECT id FROM contacts WHERE project_id = ?1 AND id = ?2", params![project, id], |r| r.get(0))
                .optional()
                .map_err(backend_err)?;
            let Some(id) = exists else { return Ok(None) };
            let root = root_contact(c, id).map_err(backend_err)?;
            let (name, created_at): (Option<String>, i64) = c
                .query_row("SELECT name, created_at FROM contacts WHERE id = ?1", [root], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(backend_err)?;
            let mut stmt = c
                .prepare("SELECT kind, value FROM contact_identities WHERE contact_id = ?1 ORDER BY kind, value")
                .map_err(backend_err)?;
            let identities = stmt
                .query_map([root], |r| {
                    let kind: String = r.get(0)?;
                    Ok((kind, r.get::<_, String>(1)?))
                })
                .map_err(backend_err)?
                .filter_map(|r| r.ok())
                .filter_map(|(k, v)| IdentityKind::parse(&k).map(|k| Identity::new(k, v)))
                .collect();
            let mut stmt = c
                .prepare("SELECT id FROM contacts WHERE merged_into = ?1 ORDER BY id")
                .map_err(backend_err)?;
            let merged_from = stmt
                .query_map([root], |r| r.get(0))
                .map_err(backend_err)?
                .collect::<Result<Vec<i64>, _>>()
                .map_err(backend_err)?;
            Ok(Some(Contact {
                id: root,
                name,
                identities,
                merged_from,
                created_at: ms_to_time(created_at),
            }))
        })
        .await
    }

    async fn contact_by_identity(
        &self,
        scope: Scope,
        identity: &Identity,
    ) -> StoreResult<Option<i64>> {
        let identity = identity.clone();
        self.read(move |c| {
            let owner: Option<i64> = c
                .query_row(
                    "SELECT contact_id FROM contact_identities WHERE project_id = ?1 AND kind = ?2 AND value = ?3",
                    params![scope.project().0, identity.kind.as_str(), identity.value],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend_err)?;
            owner.map(|o| root_contact(c, o)).transpose().map_err(backend_err)
        })
        .await
    }

    // `+project_id` (here and in `deals_of_contact`): the contact's index
    // drives the query, not the project's index by time, which SQLite would
    // otherwise pick for the ORDER BY and walk the project's whole history.
    async fn leads_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Lead>> {
        self.read(move |c| {
            query_vec(c, &format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE +project_id = ?1 AND contact_id = ?2 ORDER BY created_at, id"
                ), params![scope.project().0, contact_id], lead_from_row)
        })
        .await
    }

    async fn deals_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Deal>> {
        self.read(move |c| {
            query_vec(c, &format!(
                    "SELECT {DEAL_COLUMNS} FROM deals WHERE +project_id = ?1 AND contact_id = ?2 ORDER BY created_at, id"
                ), params![scope.project().0, contact_id], deal_from_row)
        })
        .await
    }

    async fn deal_history(&self, scope: Scope, deal_id: i64) -> StoreResult<Vec<StageChange>> {
        self.read(move |c| {
            query_vec(c, "SELECT h.stage, h.status, h.at FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id
                     WHERE d.project_id = ?1 AND h.deal_id = ?2 ORDER BY h.at, h.id", params![scope.project().0, deal_id], |r| {
                    let status: String = r.get(1)?;
                    Ok(StageChange {
                        stage: r.get(0)?,
                        status: DealStatus::parse(&status).unwrap_or(DealStatus::Open),
                        at: ms_to_time(r.get(2)?),
                    })
                })
        })
        .await
    }

    async fn deals_entering_stage(
        &self,
        scope: Scope,
        stage: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(Deal, DateTime<Utc>)>> {
        let stage = stage.to_owned();
        self.read(move |c| {
            let cols = DEAL_COLUMNS
                .split(", ")
                .map(|col| format!("d.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            query_vec(c, &format!(
                    "SELECT {cols}, min(h.at) FROM deal_stage_history h JOIN deals d ON d.id = h.deal_id
                     WHERE d.project_id = ?1 AND h.stage = ?2 COLLATE NOCASE
                     GROUP BY d.id HAVING min(h.at) >= ?3 AND min(h.at) < ?4 ORDER BY min(h.at), d.id"
                ), params![scope.project().0, stage, from.timestamp_millis(), to.timestamp_millis()],
                    |r| Ok((deal_from_row(r)?, ms_to_time(r.get(13)?))),)
        })
        .await
    }

    async fn leads_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Lead>> {
        self.read(move |c| {
            query_vec(c, &format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE project_id = ?1 AND created_at >= ?2 AND created_at < ?3
                     ORDER BY created_at, id"
                ), params![scope.project().0, from.timestamp_millis(), to.timestamp_millis()],
                    lead_from_row,)
        })
        .await
    }

    async fn keep_payload(
        &self,
        scope: Scope,
        provider: &str,
        body: &str,
        outcome: &str,
    ) -> StoreResult<()> {
        let (provider, body, outcome) = (provider.to_owned(), body.to_owned(), outcome.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO inbound_payloads (project_id, provider, received_at, body, outcome) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![scope.project().0, provider, Utc::now().timestamp_millis(), body, outcome],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn record_pull(&self, scope: Scope, run: PullRun) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "INSERT INTO pull_runs (project_id, source, day, attempted_at, ok, transactions, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(project_id, source, day) DO UPDATE SET attempted_at = excluded.attempted_at,
                    ok = excluded.ok, transactions = excluded.transactions, error = excluded.error",
                params![
                    scope.project().0,
                    run.source,
                    run.day,
                    run.attempted_at.timestamp_millis(),
                    run.ok,
                    run.transactions,
                    run.error
                ],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn pull_runs(&self, scope: Scope, limit: usize) -> StoreResult<Vec<PullRun>> {
        self.read(move |c| {
            query_vec(c, "SELECT source, day, attempted_at, ok, transactions, error FROM pull_runs WHERE project_id = ?1
                     ORDER BY attempted_at DESC LIMIT ?2", params![scope.project().0, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                    Ok(PullRun {
                        source: r.get(0)?,
                        day: r.get(1)?,
                        attempted_at: ms_to_time(r.get(2)?),
                        ok: r.get(3)?,
                        transactions: r.get(4)?,
                        error: r.get(5)?,
                    })
                })
        })
        .await
    }
}
