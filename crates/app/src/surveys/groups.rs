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
/// survey and channel (through the one CSV writer, which defuses formulas:
/// names come from the public).
pub fn members_csv(members: &[GroupMember]) -> Result<String, AppError> {
    let header = [
        "contact_id",
        "name",
        "email",
        "phone",
        "last_score",
        "last_survey",
        "channel",
    ];
    let lines: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                m.contact_id.to_string(),
                m.name.clone().unwrap_or_default(),
                m.email.clone().unwrap_or_default(),
                m.phone.clone().unwrap_or_default(),
                m.last_score.map(|s| s.to_string()).unwrap_or_default(),
                m.last_survey.clone().unwrap_or_default(),
                m.channel.clone().unwrap_or_default(),
            ]
        })
        .collect();
    Ok(crate::reports::render::to_csv(&header, &lines))
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
