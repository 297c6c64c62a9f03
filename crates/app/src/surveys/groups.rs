//! Dynamic groups: contacts matching a rule of the `groups` section
//! ("rated below 5 in the last 30 days"), evaluated by query whenever they
//! are asked for — as an automation condition or an export (JSON, CSV).

use super::SurveyService;
use crate::context::ProjectContext;
use crate::AppError;
use chrono::{DateTime, Utc};
use skvoz_domain::automations::Group;
use skvoz_store::GroupMember;

/// The most contacts one export lists.
pub const MAX_MEMBERS: usize = 100_000;

impl SurveyService {
    /// A group of the project's settings.
    pub fn group<'a>(&self, ctx: &'a ProjectContext, id: &str) -> Result<&'a Group, AppError> {
        ctx.settings
            .groups
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| AppError::NotFound(format!("group `{id}`")))
    }

    /// The group's contacts at `now`, by id.
    pub async fn group_members(
        &self,
        ctx: &ProjectContext,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<GroupMember>, AppError> {
        let group = self.group(ctx, id)?;
        Ok(self
            .store
            .group_members(ctx.scope, &group.rule, now, None, MAX_MEMBERS)
            .await?)
    }

    /// Whether a contact is in the group at `now`.
    pub async fn in_group(
        &self,
        ctx: &ProjectContext,
        group: &Group,
        contact_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        Ok(!self
            .store
            .group_members(ctx.scope, &group.rule, now, Some(contact_id), 1)
            .await?
            .is_empty())
    }
}

/// The members as CSV: contact id, name, e-mail, phone, last score, its
/// survey and channel.
pub fn members_csv(members: &[GroupMember]) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(e.to_string());
    w.write_record([
        "contact_id",
        "name",
        "email",
        "phone",
        "last_score",
        "last_survey",
        "channel",
    ])
    .map_err(io)?;
    for m in members {
        w.write_record([
            m.contact_id.to_string(),
            csv_safe(m.name.as_deref().unwrap_or("")),
            csv_safe(m.email.as_deref().unwrap_or("")),
            csv_safe(m.phone.as_deref().unwrap_or("")),
            m.last_score.map(|s| s.to_string()).unwrap_or_default(),
            csv_safe(m.last_survey.as_deref().unwrap_or("")),
            csv_safe(m.channel.as_deref().unwrap_or("")),
        ])
        .map_err(io)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
}

/// A cell a spreadsheet will not run as a formula (a leading `=`, `+`,
/// `-`, `@` gets a quote; E.164 phones keep their plus), since names come
/// from the public.
fn csv_safe(s: &str) -> String {
    let phone = s.len() > 1 && s.starts_with('+') && s[1..].chars().all(|c| c.is_ascii_digit());
    if !phone && s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_the_documented_columns_and_defuses_formulas() {
        let m = GroupMember {
            contact_id: 3,
            name: Some("=HYPERLINK(\"x\")".into()),
            email: Some("a@b.ru".into()),
            phone: Some("+79990001122".into()),
            last_score: Some(2),
            last_survey: Some("csat".into()),
            channel: Some("organic search".into()),
        };
        let csv = members_csv(&[m]).expect("csv");
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("contact_id,name,email,phone,last_score,last_survey,channel")
        );
        let row = lines.next().expect("row");
        assert!(row.starts_with("3,\"'=HYPERLINK"), "{row}");
        // Phones keep their plus.
        assert!(row.contains(",+79990001122,2,csat,organic search"), "{row}");
    }
}
