//! Survey invitations and answers, contact tags, dynamic groups
//! (`migrations/0010_surveys.sql`).

use crate::conn::{backend_err, map_unique, query_vec};
use crate::projects::ms_to_time;
use crate::SqliteStore;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use skvoz_domain::automations::GroupRule;
use skvoz_domain::surveys::{AnswerCondition, ContactCondition, GroupFilter};
use skvoz_domain::ProjectId;
use skvoz_store::{
    AnswerOutcome, GroupMember, Invitation, NewAnswer, NewInvitation, Scope, StoreResult,
    SurveyAnswer, SurveyAnsweredPayload, SurveyStore,
};

const INVITATION_COLUMNS: &str = "id, project_id, survey_id, kind, contact_id, ticket_id, deal_id, channel, via, created_at, expires_at, answered_at";

fn invitation_from_row(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: r.get(0)?,
        project: ProjectId(r.get(1)?),
        survey_id: r.get(2)?,
        kind: r.get(3)?,
        contact_id: r.get(4)?,
        ticket_id: r.get(5)?,
        deal_id: r.get(6)?,
        channel: r.get(7)?,
        via: r.get(8)?,
        created_at: ms_to_time(r.get(9)?),
        expires_at: ms_to_time(r.get(10)?),
        answered_at: r.get::<_, Option<i64>>(11)?.map(ms_to_time),
    })
}

const ANSWER_COLUMNS: &str = "id, invitation_id, survey_id, kind, score, answers, contact_id, ticket_id, deal_id, channel, answered_at";

fn answer_from_row(r: &Row<'_>) -> rusqlite::Result<SurveyAnswer> {
    let answers: String = r.get(5)?;
    Ok(SurveyAnswer {
        id: r.get(0)?,
        invitation_id: r.get(1)?,
        survey_id: r.get(2)?,
        kind: r.get(3)?,
        score: r.get(4)?,
        answers: serde_json::from_str(&answers).unwrap_or(serde_json::Value::Null),
        contact_id: r.get(6)?,
        ticket_id: r.get(7)?,
        deal_id: r.get(8)?,
        channel: r.get(9)?,
        answered_at: ms_to_time(r.get(10)?),
    })
}

/// Stores an invitation inside the caller's transaction.
pub(crate) fn insert_invitation(
    c: &Connection,
    project: i64,
    inv: &NewInvitation,
) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "INSERT INTO survey_invitations (project_id, token_hash, survey_id, kind, contact_id, ticket_id, deal_id,
            channel, via, run_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        project,
        inv.token_hash,
        inv.survey_id,
        inv.kind,
        inv.contact_id,
        inv.ticket_id,
        inv.deal_id,
        inv.channel,
        inv.via,
        inv.run_id,
        inv.created_at.timestamp_millis(),
        inv.expires_at.timestamp_millis(),
    ])?;
    Ok(c.last_insert_rowid())
}

/// Tags a contact inside the caller's transaction.
pub(crate) fn insert_tag(
    c: &Connection,
    project: i64,
    contact_id: i64,
    tag: &str,
    at: i64,
) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO contact_tags (project_id, contact_id, tag, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![project, contact_id, tag, at])?;
    Ok(())
}

fn answer_tx(
    tx: &rusqlite::Transaction<'_>,
    project: i64,
    invitation_id: i64,
    answer: &NewAnswer,
) -> rusqlite::Result<AnswerOutcome> {
    let at = answer.at.timestamp_millis();
    let Some(inv) = tx
        .query_row(
            &format!(
                "SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE id = ?1 AND project_id = ?2"
            ),
            params![invitation_id, project],
            invitation_from_row,
        )
        .optional()?
    else {
        return Ok(AnswerOutcome::Unknown);
    };
    if inv.answered_at.is_some() {
        return Ok(AnswerOutcome::AlreadyAnswered);
    }
    if inv.expires_at.timestamp_millis() <= at {
        return Ok(AnswerOutcome::Expired);
    }
    // The token is spent here; a concurrent answer finds it spent.
    let spent = tx.execute(
        "UPDATE survey_invitations SET answered_at = ?1 WHERE id = ?2 AND answered_at IS NULL",
        params![at, invitation_id],
    )?;
    if spent != 1 {
        return Ok(AnswerOutcome::AlreadyAnswered);
    }
    tx.execute(
        "INSERT INTO survey_answers (project_id, invitation_id, survey_id, kind, score, answers, contact_id,
            ticket_id, deal_id, channel, answered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            project,
            invitation_id,
            inv.survey_id,
            inv.kind,
            answer.score,
            answer.answers.to_string(),
            inv.contact_id,
            inv.ticket_id,
            inv.deal_id,
            inv.channel,
            at
        ],
    )?;
    let answer_id = tx.last_insert_rowid();
    let event_id = crate::events::emit_payload(
        tx,
        project,
        SurveyAnsweredPayload::answered(answer_id, &inv, answer).into(),
    )?;
    Ok(AnswerOutcome::Recorded {
        answer_id,
        event_id,
    })
}

/// SQL parameters numbered as they are added (`?1` is always the project).
struct SqlParams(Vec<Value>);

impl SqlParams {
    /// Adds a parameter; answers its placeholder.
    fn push(&mut self, v: Value) -> String {
        self.0.push(v);
        format!("?{}", self.0.len())
    }
}

/// The SQL of one answer condition on the answer row `a`.
fn answer_condition_sql(c: &AnswerCondition, p: &mut SqlParams) -> String {
    match c {
        AnswerCondition::SurveyOrKind(s) => {
            let s = p.push(Value::Text(s.clone()));
            format!("(a.survey_id = {s} OR a.kind = {s})")
        }
        AnswerCondition::ScoreAtMost(n) => format!("a.score <= {}", p.push(Value::Integer(*n))),
        AnswerCondition::ScoreAtLeast(n) => format!("a.score >= {}", p.push(Value::Integer(*n))),
        AnswerCondition::AnsweredSince(t) => format!(
            "a.answered_at >= {}",
            p.push(Value::Integer(t.timestamp_millis()))
        ),
        AnswerCondition::Channel(ch) => format!("a.channel = {}", p.push(Value::Text(ch.clone()))),
    }
}

/// The SQL of one contact condition on the contact row `c`.
fn contact_condition_sql(c: &ContactCondition, p: &mut SqlParams) -> String {
    match c {
        ContactCondition::Answered(all) => {
            // Answers of a contact merged into `c` count as `c`'s.
            let mut a = vec![
                "a.project_id = ?1".to_owned(),
                "COALESCE(ac.merged_into, a.contact_id) = c.id".to_owned(),
            ];
            a.extend(all.iter().map(|cond| answer_condition_sql(cond, p)));
            format!(
                "EXISTS (SELECT 1 FROM survey_answers a LEFT JOIN contacts ac ON ac.id = a.contact_id WHERE {})",
                a.join(" AND ")
            )
        }
        ContactCondition::Tagged(tag) => format!(
            "EXISTS (SELECT 1 FROM contact_tags t WHERE t.project_id = ?1 AND t.contact_id = c.id AND t.tag = {})",
            p.push(Value::Text(tag.clone()))
        ),
        ContactCondition::Is(id) => format!("c.id = {}", p.push(Value::Integer(*id))),
    }
}

/// The group query compiled from its filter: the project's live contacts
/// (merged ones count as their survivor) meeting every condition, with
/// their e-mail, phone and latest answer, at most `limit`. Returns the SQL
/// and its parameters.
fn group_sql(project: i64, filter: &GroupFilter, limit: i64) -> (String, Vec<Value>) {
    let mut p = SqlParams(vec![Value::Integer(project)]);
    let mut conds = vec![
        "c.project_id = ?1".to_owned(),
        "c.merged_into IS NULL".to_owned(),
    ];
    conds.extend(
        filter
            .conditions
            .iter()
            .map(|cond| contact_condition_sql(cond, &mut p)),
    );
    let limit = p.push(Value::Integer(limit));
    let sql = format!(
        "SELECT c.id, c.name,
            (SELECT value FROM contact_identities WHERE contact_id = c.id AND kind = 'email' ORDER BY first_seen LIMIT 1),
            (SELECT value FROM contact_identities WHERE contact_id = c.id AND kind = 'phone' ORDER BY first_seen LIMIT 1),
            last.score, last.survey_id, last.channel
         FROM contacts c
         LEFT JOIN survey_answers last ON last.id = (
            SELECT a2.id FROM survey_answers a2 LEFT JOIN contacts ac2 ON ac2.id = a2.contact_id
            WHERE a2.project_id = ?1 AND COALESCE(ac2.merged_into, a2.contact_id) = c.id
            ORDER BY a2.answered_at DESC, a2.id DESC LIMIT 1)
         WHERE {} ORDER BY c.id LIMIT {limit}",
        conds.join(" AND ")
    );
    (sql, p.0)
}

#[async_trait::async_trait]
impl SurveyStore for SqliteStore {
    async fn create_invitation(&self, scope: Scope, inv: NewInvitation) -> StoreResult<i64> {
        self.write(move |c| {
            insert_invitation(c, scope.project().0, &inv).map_err(|e| map_unique(e, "invitation"))
        })
        .await
    }

    async fn invitation_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        let hash = token_hash.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE token_hash = ?1"
            ))
            .map_err(backend_err)?
            .query_row([hash], invitation_from_row)
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn answer_invitation(
        &self,
        scope: Scope,
        invitation_id: i64,
        answer: NewAnswer,
    ) -> StoreResult<AnswerOutcome> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let outcome =
                answer_tx(&tx, scope.project().0, invitation_id, &answer).map_err(backend_err)?;
            if matches!(outcome, AnswerOutcome::Recorded { .. }) {
                tx.commit().map_err(backend_err)?;
            }
            Ok(outcome)
        })
        .await
    }

    async fn answers_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<SurveyAnswer>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {ANSWER_COLUMNS} FROM survey_answers WHERE project_id = ?1 AND answered_at >= ?2
                     AND answered_at < ?3 ORDER BY answered_at, id LIMIT ?4"
                ),
                params![
                    scope.project().0,
                    from.timestamp_millis(),
                    to.timestamp_millis(),
                    limit
                ],
                answer_from_row,
            )
        })
        .await
    }

    async fn last_invitation_at(
        &self,
        scope: Scope,
        contact_id: i64,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.read(move |c| {
            let at: Option<i64> = c
                .prepare_cached(
                    "SELECT max(created_at) FROM survey_invitations WHERE project_id = ?1 AND contact_id = ?2",
                )
                .map_err(backend_err)?
                .query_row(params![scope.project().0, contact_id], |r| r.get(0))
                .map_err(backend_err)?;
            Ok(at.map(ms_to_time))
        })
        .await
    }

    async fn group_members(
        &self,
        scope: Scope,
        rule: &GroupRule,
        now: DateTime<Utc>,
        only: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<GroupMember>> {
        let filter = GroupFilter::from_rule(rule, now, only);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let (sql, params) = group_sql(scope.project().0, &filter, limit);
            query_vec(c, &sql, params_from_iter(params), |r| {
                Ok(GroupMember {
                    contact_id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    phone: r.get(3)?,
                    last_score: r.get(4)?,
                    last_survey: r.get(5)?,
                    channel: r.get(6)?,
                })
            })
        })
        .await
    }
}

#[cfg(test)]
#[path = "surveys_group_tests.rs"]
mod group_tests;
