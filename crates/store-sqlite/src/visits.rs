//! Visits, hits and identity links in SQLite, written in atomic batches.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use skvoz_domain::traffic::{Device, DeviceType, SourceKind, TrafficSource};
use skvoz_store::{Hit, IngestWrite, Scope, StoreResult, Visit, VisitProgress, VisitStore};

fn kind_str(k: SourceKind) -> &'static str {
    match k {
        SourceKind::Utm => "utm",
        SourceKind::PaidClick => "paid_click",
        SourceKind::Organic => "organic",
        SourceKind::Social => "social",
        SourceKind::Referral => "referral",
        SourceKind::Internal => "internal",
        SourceKind::Direct => "direct",
    }
}

fn kind_from(s: &str) -> SourceKind {
    match s {
        "utm" => SourceKind::Utm,
        "paid_click" => SourceKind::PaidClick,
        "organic" => SourceKind::Organic,
        "social" => SourceKind::Social,
        "referral" => SourceKind::Referral,
        "internal" => SourceKind::Internal,
        _ => SourceKind::Direct,
    }
}

fn device_str(d: DeviceType) -> &'static str {
    match d {
        DeviceType::Desktop => "desktop",
        DeviceType::Mobile => "mobile",
        DeviceType::Tablet => "tablet",
        DeviceType::Bot => "bot",
        DeviceType::Other => "other",
    }
}

fn device_from(s: &str) -> DeviceType {
    match s {
        "desktop" => DeviceType::Desktop,
        "mobile" => DeviceType::Mobile,
        "tablet" => DeviceType::Tablet,
        "bot" => DeviceType::Bot,
        _ => DeviceType::Other,
    }
}

pub(crate) const VISIT_COLUMNS: &str = "id, code, vid, started_at, last_at, hits, source, medium, campaign, content, term, \
     gclid, yclid, referrer_host, source_kind, channel, landing, referrer, os, browser, device_type, \
     screen, lang, tz, country, region, city, ga_cid, ym_uid";

pub(crate) fn visit_from_row(r: &Row<'_>) -> rusqlite::Result<Visit> {
    let kind: String = r.get(14)?;
    let device_type: String = r.get(20)?;
    Ok(Visit {
        id: r.get(0)?,
        code: r.get(1)?,
        vid: r.get(2)?,
        started_at: ms_to_time(r.get(3)?),
        last_at: ms_to_time(r.get(4)?),
        hits: r.get(5)?,
        source: TrafficSource {
            source: r.get(6)?,
            medium: r.get(7)?,
            campaign: r.get(8)?,
            content: r.get(9)?,
            term: r.get(10)?,
            gclid: r.get(11)?,
            yclid: r.get(12)?,
            referrer_host: r.get(13)?,
            kind: kind_from(&kind),
        },
        channel: r.get(15)?,
        landing: r.get(16)?,
        referrer: r.get(17)?,
        device: Device {
            os: r.get(18)?,
            browser: r.get(19)?,
            device_type: device_from(&device_type),
            is_bot: false,
        },
        screen: r.get(21)?,
        lang: r.get(22)?,
        tz: r.get(23)?,
        country: r.get(24)?,
        region: r.get(25)?,
        city: r.get(26)?,
        ga_cid: r.get(27)?,
        ym_uid: r.get(28)?,
    })
}

fn insert_visit(
    c: &Connection,
    project: i64,
    v: &Visit,
    p: &VisitProgress,
) -> rusqlite::Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO visits (id, project_id, code, vid, started_at, last_at, hits, source, medium, campaign, content,
            term, gclid, yclid, referrer_host, source_kind, channel, landing, referrer, os, browser, device_type,
            screen, lang, tz, country, region, city, ga_cid, ym_uid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
            ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)
         ON CONFLICT(id) DO UPDATE SET last_at = max(last_at, excluded.last_at), hits = excluded.hits,
            ga_cid = coalesce(visits.ga_cid, excluded.ga_cid), ym_uid = coalesce(visits.ym_uid, excluded.ym_uid)",
    )?;
    let s = &v.source;
    stmt.execute(params![
        v.id,
        project,
        v.code,
        v.vid,
        v.started_at.timestamp_millis(),
        p.last_at.timestamp_millis(),
        p.hits,
        s.source,
        s.medium,
        s.campaign,
        s.content,
        s.term,
        s.gclid,
        s.yclid,
        s.referrer_host,
        kind_str(s.kind),
        v.channel,
        v.landing,
        v.referrer,
        v.device.os,
        v.device.browser,
        device_str(v.device.device_type),
        v.screen,
        v.lang,
        v.tz,
        v.country,
        v.region,
        v.city,
        p.ga_cid,
        p.ym_uid,
    ])?;
    Ok(())
}

fn write_one(c: &Connection, w: &IngestWrite) -> rusqlite::Result<()> {
    match w {
        IngestWrite::Hit {
            scope,
            visit_id,
            new_visit,
            progress,
            hit,
            links,
        } => {
            let project = scope.project().0;
            match new_visit {
                Some(visit) => insert_visit(c, project, visit, progress)?,
                None => {
                    // Most hits continue a visit: a narrow update.
                    let updated = c
                        .prepare_cached(
                            "UPDATE visits SET last_at = max(last_at, ?1), hits = max(hits, ?2),
                                ga_cid = coalesce(ga_cid, ?3), ym_uid = coalesce(ym_uid, ?4)
                             WHERE id = ?5 AND project_id = ?6",
                        )?
                        .execute(params![
                            progress.last_at.timestamp_millis(),
                            progress.hits,
                            progress.ga_cid,
                            progress.ym_uid,
                            visit_id,
                            project
                        ])?;
                    if updated == 0 {
                        return Err(rusqlite::Error::QueryReturnedNoRows);
                    }
                }
            }
            c.prepare_cached("INSERT INTO hits (visit_id, at, url, title, event, props) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![hit.visit_id, hit.at.timestamp_millis(), hit.url, hit.title, hit.event, hit.props])?;
            for link in links {
                c.prepare_cached(
                    "INSERT OR IGNORE INTO visitor_links (project_id, kind, value, vid, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![project, link.kind, link.value, link.vid, hit.at.timestamp_millis()])?;
            }
        }
        IngestWrite::Bot { scope, day } => {
            c.prepare_cached(
                "INSERT INTO bot_hits (project_id, day, hits) VALUES (?1, ?2, 1)
                 ON CONFLICT(project_id, day) DO UPDATE SET hits = hits + 1",
            )?
            .execute(params![scope.project().0, day])?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// The project's visit whose `column` (`id` or `code`) equals `value`.
    async fn visit_where(
        &self,
        scope: Scope,
        column: &'static str,
        value: i64,
    ) -> StoreResult<Option<Visit>> {
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {VISIT_COLUMNS} FROM visits WHERE project_id = ?1 AND {column} = ?2"
                ),
                params![scope.project().0, value],
                visit_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }
}

fn write_all(c: &mut Connection, batch: &[IngestWrite]) -> StoreResult<()> {
    let tx = c.transaction().map_err(backend_err)?;
    for w in batch {
        write_one(&tx, w).map_err(backend_err)?;
    }
    tx.commit().map_err(backend_err)
}

#[async_trait::async_trait]
impl VisitStore for SqliteStore {
    fn write_batch_blocking(&self, batch: &[IngestWrite]) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write_blocking(|c| write_all(c, batch))
    }

    async fn reserve_visit_ids(&self, n: u32) -> StoreResult<std::ops::Range<i64>> {
        if n == 0 {
            return Err(backend_err("reserve at least one visit id"));
        }
        // One statement, so the block is handed out atomically even between
        // processes on the file. The counter never falls below the stored
        // ids: a database written before the counter existed (or visits
        // written with explicit ids) continues above them. `max(id)` of a
        // rowid table is one b-tree descent.
        self.write(move |c| {
            let end: i64 = c
                .prepare_cached(
                    "INSERT INTO id_counters (name, next)
                     VALUES ('visit_id', (SELECT coalesce(max(id), 0) + 1 FROM visits) + ?1)
                     ON CONFLICT (name) DO UPDATE SET
                         next = max(next, (SELECT coalesce(max(id), 0) + 1 FROM visits)) + ?1
                     RETURNING next",
                )
                .map_err(backend_err)?
                .query_row([i64::from(n)], |r| r.get(0))
                .map_err(backend_err)?;
            Ok(end - i64::from(n)..end)
        })
        .await
    }

    async fn visit_ids_reserved_to(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.prepare_cached("SELECT next FROM id_counters WHERE name = 'visit_id'")
                .map_err(backend_err)?
                .query_row([], |r| r.get::<_, i64>(0))
                .optional()
                .map_err(backend_err)
                .map(Option::unwrap_or_default)
        })
        .await
    }

    async fn reserve_visit_codes(&self, scope: Scope, n: u32) -> StoreResult<std::ops::Range<i64>> {
        if n == 0 {
            return Err(backend_err("reserve at least one visit code"));
        }
        // As for ids, per project; `max(code)` walks the (project_id, code)
        // index.
        self.write(move |c| {
            let end: i64 = c
                .prepare_cached(
                    "INSERT INTO visit_code_counters (project_id, next)
                     VALUES (?1, (SELECT coalesce(max(code), 0) + 1 FROM visits WHERE project_id = ?1) + ?2)
                     ON CONFLICT (project_id) DO UPDATE SET
                         next = max(next, (SELECT coalesce(max(code), 0) + 1 FROM visits
                                           WHERE project_id = ?1)) + ?2
                     RETURNING next",
                )
                .map_err(backend_err)?
                .query_row(params![scope.project().0, i64::from(n)], |r| r.get(0))
                .map_err(backend_err)?;
            Ok(end - i64::from(n)..end)
        })
        .await
    }

    async fn max_visit_id(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT coalesce(max(id), 0) FROM visits", [], |r| r.get(0))
                .map_err(backend_err)
        })
        .await
    }

    async fn max_visit_code(&self, scope: Scope) -> StoreResult<i64> {
        self.read(move |c| {
            c.query_row(
                "SELECT coalesce(max(code), 0) FROM visits WHERE project_id = ?1",
                [scope.project().0],
                |r| r.get(0),
            )
            .map_err(backend_err)
        })
        .await
    }

    async fn latest_visit(
        &self,
        scope: Scope,
        vid: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Visit>> {
        let vid = vid.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {VISIT_COLUMNS} FROM visits WHERE project_id = ?1 AND vid = ?2 AND started_at <= ?3
                 ORDER BY started_at DESC, id DESC LIMIT 1"
            ))
            .and_then(|mut s| {
                s.query_row(params![scope.project().0, vid, at.timestamp_millis()], visit_from_row)
                    .optional()
            })
            .map_err(backend_err)
        })
        .await
    }

    async fn active_visits(&self, scope: Scope, since: DateTime<Utc>) -> StoreResult<Vec<Visit>> {
        // Sessions end at local midnight, so an active one started less
        // than two days before `since`; the bound lets the index on
        // started_at do the work.
        let since_ms = since.timestamp_millis();
        let lower = since_ms - 2 * 86_400_000;
        self.read(move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {VISIT_COLUMNS} FROM visits WHERE project_id = ?1 AND started_at >= ?2 AND last_at >= ?3
                     ORDER BY vid, last_at"
                ))
                .map_err(backend_err)?;
            let rows = stmt
                .query_map(params![scope.project().0, lower, since_ms], visit_from_row)
                .map_err(backend_err)?;
            let mut latest: Vec<Visit> = Vec::new();
            for row in rows {
                let v = row.map_err(backend_err)?;
                match latest.last_mut() {
                    Some(prev) if prev.vid == v.vid => *prev = v,
                    _ => latest.push(v),
                }
            }
            Ok(latest)
        })
        .await
    }

    async fn visit_by_code(&self, scope: Scope, code: i64) -> StoreResult<Option<Visit>> {
        self.visit_where(scope, "code", code).await
    }

    async fn visit(&self, scope: Scope, id: i64) -> StoreResult<Option<Visit>> {
        self.visit_where(scope, "id", id).await
    }

    async fn visits_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Visit>> {
        self.read(move |c| {
            query_vec(c, &format!(
                    "SELECT {VISIT_COLUMNS} FROM visits WHERE project_id = ?1 AND started_at >= ?2 AND started_at < ?3
                     ORDER BY started_at, id LIMIT ?4"
                ), params![
                        scope.project().0,
                        from.timestamp_millis(),
                        to.timestamp_millis(),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    visit_from_row,)
        })
        .await
    }

    async fn hits_of_visit(&self, scope: Scope, visit_id: i64) -> StoreResult<Vec<Hit>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT h.visit_id, h.at, h.url, h.title, h.event, h.props FROM hits h
                     JOIN visits v ON v.id = h.visit_id
                     WHERE v.project_id = ?1 AND h.visit_id = ?2 ORDER BY h.at, h.id",
                params![scope.project().0, visit_id],
                |r| {
                    Ok(Hit {
                        visit_id: r.get(0)?,
                        at: ms_to_time(r.get(1)?),
                        url: r.get(2)?,
                        title: r.get(3)?,
                        event: r.get(4)?,
                        props: r.get(5)?,
                    })
                },
            )
        })
        .await
    }

    async fn vids_by_link(
        &self,
        scope: Scope,
        kind: &str,
        value: &str,
    ) -> StoreResult<Vec<String>> {
        let (kind, value) = (kind.to_owned(), value.to_owned());
        self.read(move |c| {
            query_vec(c, "SELECT vid FROM visitor_links WHERE project_id = ?1 AND kind = ?2 AND value = ?3 ORDER BY first_seen", params![scope.project().0, kind, value], |r| r.get(0))
        })
        .await
    }

    async fn bot_hits(&self, scope: Scope, from_day: &str, to_day: &str) -> StoreResult<i64> {
        let (from_day, to_day) = (from_day.to_owned(), to_day.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT coalesce(sum(hits), 0) FROM bot_hits WHERE project_id = ?1 AND day >= ?2 AND day <= ?3",
                params![scope.project().0, from_day, to_day],
                |r| r.get(0),
            )
            .map_err(backend_err)
        })
        .await
    }
}
