//! Report facts and costs in SQLite.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use skvoz_domain::cost::{CostKey, DailyCost};
use skvoz_domain::crm::{DealStatus, LeadKind};
use skvoz_domain::Money;
use skvoz_store::{
    CostsReplaced, DealFact, LeadFact, ReportStore, Scope, StageFact, StoreResult, VisitRow,
};
use std::collections::BTreeSet;

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Moves a project's report revision on inside the caller's transaction:
/// call it in every write that changes leads, deals, contacts, calls or
/// costs, before the commit, so the revision and the facts commit together
/// and every connection (every process on the file) sees both or neither.
pub(crate) fn bump_revision(tx: &Connection, project: i64) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO report_revisions (project_id, revision) VALUES (?1, 1)
         ON CONFLICT (project_id) DO UPDATE SET revision = revision + 1",
    )?
    .execute([project])?;
    Ok(())
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn report_revision(&self, scope: Scope) -> StoreResult<u64> {
        // Read on every report refresh, from a reader connection: a row by
        // primary key. No in-process cache: it could not see another
        // process's bump without this read anyway.
        self.read(move |c| {
            let revision: Option<i64> = c
                .prepare_cached("SELECT revision FROM report_revisions WHERE project_id = ?1")
                .map_err(backend_err)?
                .query_row([scope.project().0], |r| r.get(0))
                .optional()
                .map_err(backend_err)?;
            Ok(u64::try_from(revision.unwrap_or(0)).unwrap_or(0))
        })
        .await
    }

    fn scan_visits_blocking(
        &self,
        scope: Scope,
        after_id: i64,
        sink: &mut dyn FnMut(VisitRow<'_>),
    ) -> StoreResult<u64> {
        self.read_blocking(|c| {
            let mut stmt = c
                .prepare_cached(
                    // `+project_id`: walk the table in rowid order from the
                    // watermark; through the (project_id, started_at) index
                    // SQLite would fetch every row at random and sort them.
                    "SELECT id, vid, started_at, channel, source, medium, campaign, content, term
                     FROM visits WHERE id > ?2 AND +project_id = ?1 ORDER BY id",
                )
                .map_err(backend_err)?;
            let mut rows = stmt
                .query(params![scope.project().0, after_id])
                .map_err(backend_err)?;
            let mut n = 0u64;
            while let Some(r) = rows.next().map_err(backend_err)? {
                let s = |i: usize| {
                    r.get_ref(i)
                        .ok()
                        .and_then(|v| v.as_str_or_null().ok().flatten())
                };
                let (Some(vid), Some(channel), Some(source), Some(medium)) =
                    (s(1), s(3), s(4), s(5))
                else {
                    // NOT NULL columns: a row without them is corrupt.
                    return Err(backend_err("a visit row without its required columns"));
                };
                sink(VisitRow {
                    id: r.get(0).map_err(backend_err)?,
                    vid,
                    started_at_ms: r.get(2).map_err(backend_err)?,
                    channel,
                    source,
                    medium,
                    campaign: s(6),
                    content: s(7),
                    term: s(8),
                });
                n += 1;
            }
            Ok(n)
        })
    }

    async fn report_leads(&self, scope: Scope) -> StoreResult<Vec<LeadFact>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT id, kind, contact_id, visit_id, created_at FROM leads WHERE project_id = ?1
                 ORDER BY id",
                params![scope.project().0],
                |r| {
                    let kind: String = r.get(1)?;
                    Ok(LeadFact {
                        id: r.get(0)?,
                        kind: LeadKind::parse(&kind).unwrap_or(LeadKind::Form),
                        contact_id: r.get(2)?,
                        visit_id: r.get(3)?,
                        created_at: ms_to_time(r.get(4)?),
                    })
                },
            )
        })
        .await
    }

    async fn report_deals(&self, scope: Scope) -> StoreResult<Vec<DealFact>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT id, contact_id, lead_id, visit_id, status, stage, revenue, profit,
                        created_at, closed_at
                 FROM deals WHERE project_id = ?1 ORDER BY id",
                params![scope.project().0],
                |r| {
                    let status: String = r.get(4)?;
                    Ok(DealFact {
                        id: r.get(0)?,
                        contact_id: r.get(1)?,
                        lead_id: r.get(2)?,
                        visit_id: r.get(3)?,
                        status: DealStatus::parse(&status).unwrap_or(DealStatus::Open),
                        stage: r.get(5)?,
                        revenue: Money(r.get(6)?),
                        profit: r.get::<_, Option<i64>>(7)?.map(Money),
                        created_at: ms_to_time(r.get(8)?),
                        closed_at: r.get::<_, Option<i64>>(9)?.map(ms_to_time),
                    })
                },
            )
        })
        .await
    }

    async fn report_stage_history(&self, scope: Scope) -> StoreResult<Vec<StageFact>> {
        self.read(move |c| {
            query_vec(
                c,
                // No ORDER BY: reports only take each deal's furthest
                // stage, and sorting 200 k rows is a good part of a cold
                // report.
                "SELECT h.deal_id, h.stage, h.at FROM deal_stage_history h
                 JOIN deals d ON d.id = h.deal_id
                 WHERE d.project_id = ?1",
                params![scope.project().0],
                |r| {
                    Ok(StageFact {
                        deal_id: r.get(0)?,
                        stage: r.get(1)?,
                        at: ms_to_time(r.get(2)?),
                    })
                },
            )
        })
        .await
    }

    async fn report_contact_vids(&self, scope: Scope) -> StoreResult<Vec<(i64, String)>> {
        self.read(move |c| {
            query_vec(
                c,
                // Both halves walk the identities' primary key; the links
                // are found by theirs. No visit is read.
                "SELECT contact_id, value FROM contact_identities
                  WHERE project_id = ?1 AND kind = 'vid'
                 UNION ALL
                 SELECT ci.contact_id, l.vid FROM contact_identities ci
                   CROSS JOIN visitor_links l
                     ON l.project_id = ci.project_id AND l.kind = ci.kind AND l.value = ci.value
                  WHERE ci.project_id = ?1 AND ci.kind IN ('ga_cid', 'ym_uid')",
                params![scope.project().0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
    }

    async fn replace_costs(
        &self,
        scope: Scope,
        rows: Vec<DailyCost>,
    ) -> StoreResult<CostsReplaced> {
        let project = scope.project().0;
        let out = self
            .write(move |c| {
                let tx = c.transaction().map_err(backend_err)?;
                let mut out = CostsReplaced::default();
                {
                    let days: BTreeSet<(NaiveDate, &str)> = rows
                        .iter()
                        .map(|r| (r.day, r.key.source.as_str()))
                        .collect();
                    let mut del = tx
                        .prepare_cached(
                            "DELETE FROM costs WHERE project_id = ?1 AND day = ?2 AND source = ?3",
                        )
                        .map_err(backend_err)?;
                    for (day, source) in days {
                        out.removed += del
                            .execute(params![project, day_text(day), source])
                            .map_err(backend_err)? as u64;
                    }
                    let mut ins = tx
                        .prepare_cached(
                            "INSERT INTO costs (project_id, day, source, medium, campaign, ad,
                                                keyword, cost, clicks, impressions)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                             ON CONFLICT DO UPDATE SET cost = cost + excluded.cost,
                                 clicks = clicks + excluded.clicks,
                                 impressions = impressions + excluded.impressions",
                        )
                        .map_err(backend_err)?;
                    for r in &rows {
                        let k = &r.key;
                        ins.execute(params![
                            project,
                            day_text(r.day),
                            k.source,
                            k.medium,
                            k.campaign,
                            k.ad,
                            k.keyword,
                            r.cost.0,
                            r.clicks,
                            r.impressions
                        ])
                        .map_err(backend_err)?;
                        out.rows += 1;
                    }
                }
                bump_revision(&tx, project).map_err(backend_err)?;
                tx.commit().map_err(backend_err)?;
                Ok(out)
            })
            .await?;
        Ok(out)
    }

    async fn costs_between(
        &self,
        scope: Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<DailyCost>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT day, source, medium, campaign, ad, keyword, cost, clicks, impressions
                 FROM costs WHERE project_id = ?1 AND day >= ?2 AND day <= ?3
                 ORDER BY day, source, medium, campaign, ad, keyword",
                params![scope.project().0, day_text(from), day_text(to)],
                |r| {
                    let day: String = r.get(0)?;
                    Ok(DailyCost {
                        day: day.parse().unwrap_or_default(),
                        key: CostKey {
                            source: r.get(1)?,
                            medium: r.get(2)?,
                            campaign: r.get(3)?,
                            ad: r.get(4)?,
                            keyword: r.get(5)?,
                        },
                        cost: Money(r.get(6)?),
                        clicks: r.get(7)?,
                        impressions: r.get(8)?,
                    })
                },
            )
        })
        .await
    }
}
