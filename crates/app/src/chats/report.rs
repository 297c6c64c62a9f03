//! `GET /api/v1/reports/chats`: one row per dialog (its visit's source,
//! medium, campaign, ad, keyword, page of first contact, region, OS,
//! screen, new or repeat, tags, the contact's name, phone and earlier
//! contacts) and the widgets computed from those same rows
//! ([`skvoz_domain::chat_report`]): new vs repeat, top pages, channels,
//! messengers, and the dynamics by day / week / month / quarter in the
//! project's time zone, with an optional second period to compare.

use crate::context::ProjectContext;
use crate::{AppError, DynStore};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use skvoz_domain::chat_report::{
    channels, dynamics, new_repeat, top_pages, Bucket, Count, DialogFacts, Granularity, NewRepeat,
};
use skvoz_store::{ChatReportRow, EarlierContact};

/// The most dialogs one report reads.
pub const MAX_DIALOGS: usize = 100_000;
/// The longest period, in days.
pub const MAX_DAYS: i64 = 1_100;

/// Query parameters.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatReportQuery {
    /// First day (project time zone).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
    /// First day of the period to compare with.
    #[serde(default)]
    pub compare_from: Option<NaiveDate>,
    /// Its last day.
    #[serde(default)]
    pub compare_to: Option<NaiveDate>,
    /// `day` (default), `week`, `month`, `quarter`.
    #[serde(default)]
    pub granularity: Option<String>,
    /// Rows per page (default 500, at most 10,000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<usize>,
    /// Pages in the top-pages widget (default 10, at most 100).
    #[serde(default)]
    pub top: Option<usize>,
}

/// One dialog in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRow {
    /// The dialog.
    pub dialog_id: i64,
    /// `whatsapp`, `telegram`, …
    pub messenger: String,
    /// Local date and time of its first message (`YYYY-MM-DD HH:MM`).
    pub date: String,
    /// Its first message (UTC).
    pub started_at: DateTime<Utc>,
    /// `new` or `repeat`.
    pub dialog_type: &'static str,
    /// The visit's source (`null` when unattributed).
    pub source: Option<String>,
    /// Medium.
    pub medium: Option<String>,
    /// Campaign.
    pub campaign: Option<String>,
    /// Ad (`utm_content`).
    pub ad: Option<String>,
    /// Keyword (`utm_term`).
    pub keyword: Option<String>,
    /// Channel group.
    pub channel: Option<String>,
    /// Page of first contact.
    pub page: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Screen resolution.
    pub screen: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The contact.
    pub contact_id: Option<i64>,
    /// Its name.
    pub contact_name: Option<String>,
    /// Its phone.
    pub contact_phone: Option<String>,
    /// Its earlier leads and dialogs, newest first.
    pub earlier_contacts: Vec<EarlierContact>,
    /// The visit.
    pub visit_id: Option<i64>,
    /// The code the first message carried.
    pub visit_code: Option<i64>,
    /// The first message was the prefilled text with the code removed.
    pub code_edited_away: bool,
    /// The lead the dialog became.
    pub lead_id: Option<i64>,
    /// Messages so far.
    pub messages: i64,
}

/// The widgets of one period.
#[derive(Debug, Clone, Serialize)]
pub struct ChatWidgets {
    /// New against repeat.
    pub new_repeat: NewRepeat,
    /// Pages of first contact, most dialogs first.
    pub top_pages: Vec<Count>,
    /// Channel groups of the dialogs' visits.
    pub channels: Vec<Count>,
    /// Messengers.
    pub messengers: Vec<Count>,
    /// Dialogs per bucket.
    pub dynamics: Vec<Bucket>,
    /// Dialogs that became leads.
    pub leads: u64,
    /// Dialogs linked to a visit of the site (the rest are unattributed).
    pub attributed: u64,
}

/// A period's widgets.
#[derive(Debug, Clone, Serialize)]
pub struct ChatPeriod {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// Its widgets.
    pub widgets: ChatWidgets,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ChatReport {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// The project's time zone (days are its days).
    pub timezone: String,
    /// Bucket size of the dynamics.
    pub granularity: Granularity,
    /// Dialogs in the period (all pages of rows).
    pub total: usize,
    /// More than [`MAX_DIALOGS`] dialogs: only the first were read.
    pub truncated: bool,
    /// This page of rows.
    pub rows: Vec<ChatRow>,
    /// Widgets over all dialogs of the period.
    pub widgets: ChatWidgets,
    /// The comparison period, when asked for.
    pub compare: Option<ChatPeriod>,
}

/// The chat report.
#[derive(Clone)]
pub struct ChatReportService {
    store: DynStore,
}

/// The UTC instant of a local midnight (the earliest, across a DST gap).
pub(crate) fn local_midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // No midnight that day (a gap at 00:00): take the UTC reading.
        None => Utc.from_utc_datetime(&local),
    }
}

fn facts(r: &ChatReportRow) -> DialogFacts {
    DialogFacts {
        started_at: r.dialog.started_at,
        is_new: r.dialog.is_new,
        page: r.dialog.page.clone(),
        channel: r.visit.as_ref().map(|v| v.channel.clone()),
    }
}

fn widgets(
    rows: &[ChatReportRow],
    tz: Tz,
    g: Granularity,
    from: NaiveDate,
    to: NaiveDate,
    top: usize,
) -> ChatWidgets {
    let f: Vec<DialogFacts> = rows.iter().map(facts).collect();
    let mut by_messenger: std::collections::BTreeMap<&str, u64> = Default::default();
    for r in rows {
        *by_messenger.entry(r.dialog.messenger.as_str()).or_default() += 1;
    }
    let mut messengers: Vec<Count> = by_messenger
        .into_iter()
        .map(|(name, dialogs)| Count {
            name: name.to_owned(),
            dialogs,
        })
        .collect();
    messengers.sort_by(|a, b| b.dialogs.cmp(&a.dialogs).then_with(|| a.name.cmp(&b.name)));
    ChatWidgets {
        new_repeat: new_repeat(&f),
        top_pages: top_pages(&f, top),
        channels: channels(&f),
        messengers,
        dynamics: dynamics(&f, tz, g, from, to),
        leads: rows.iter().filter(|r| r.dialog.lead_id.is_some()).count() as u64,
        attributed: rows.iter().filter(|r| r.dialog.visit_id.is_some()).count() as u64,
    }
}

fn row(r: ChatReportRow, tz: Tz) -> ChatRow {
    let d = r.dialog;
    let v = r.visit;
    ChatRow {
        dialog_id: d.id,
        messenger: d.messenger,
        date: d
            .started_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        started_at: d.started_at,
        dialog_type: if d.is_new { "new" } else { "repeat" },
        source: v.as_ref().map(|v| v.source.clone()),
        medium: v.as_ref().map(|v| v.medium.clone()),
        campaign: v.as_ref().and_then(|v| v.campaign.clone()),
        ad: v.as_ref().and_then(|v| v.ad.clone()),
        keyword: v.as_ref().and_then(|v| v.keyword.clone()),
        channel: v.as_ref().map(|v| v.channel.clone()),
        page: d.page,
        region: v.as_ref().and_then(|v| v.region.clone()),
        city: v.as_ref().and_then(|v| v.city.clone()),
        os: v.as_ref().map(|v| v.os.clone()),
        screen: v.as_ref().and_then(|v| v.screen.clone()),
        tags: d.tags,
        contact_id: d.contact_id,
        contact_name: r.contact_name,
        contact_phone: r.contact_phone,
        earlier_contacts: r.earlier,
        visit_id: d.visit_id,
        visit_code: d.visit_code,
        code_edited_away: d.code_edited_away,
        lead_id: d.lead_id,
        messages: d.messages,
    }
}

fn check_period(from: NaiveDate, to: NaiveDate, field: &str) -> Result<(), AppError> {
    if to < from {
        return Err(AppError::invalid(field, "the period ends before it starts"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::invalid(
            field,
            format!("a period is at most {MAX_DAYS} days"),
        ));
    }
    Ok(())
}

impl ChatReportService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        ChatReportService { store }
    }

    async fn rows(
        &self,
        ctx: &ProjectContext,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<ChatReportRow>, bool), AppError> {
        let start = local_midnight(ctx.tz, from);
        let end = local_midnight(ctx.tz, to + chrono::Duration::days(1));
        let mut rows = self
            .store
            .chat_report_rows(ctx.scope, start, end, MAX_DIALOGS + 1)
            .await?;
        let truncated = rows.len() > MAX_DIALOGS;
        rows.truncate(MAX_DIALOGS);
        Ok((rows, truncated))
    }

    /// Builds the report.
    pub async fn report(
        &self,
        ctx: &ProjectContext,
        q: ChatReportQuery,
    ) -> Result<ChatReport, AppError> {
        check_period(q.from, q.to, "to")?;
        let g = match q.granularity.as_deref() {
            None | Some("") => Granularity::Day,
            Some(s) => Granularity::parse(s).ok_or_else(|| {
                AppError::invalid(
                    "granularity",
                    "granularity must be day, week, month or quarter",
                )
            })?,
        };
        let limit = q.limit.unwrap_or(500);
        if !(1..=10_000).contains(&limit) {
            return Err(AppError::invalid("limit", "limit must be 1-10000"));
        }
        let top = q.top.unwrap_or(10);
        if !(1..=100).contains(&top) {
            return Err(AppError::invalid("top", "top must be 1-100"));
        }
        let compare = match (q.compare_from, q.compare_to) {
            (Some(f), Some(t)) => {
                check_period(f, t, "compare_to")?;
                Some((f, t))
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(AppError::invalid("compare_to", "compare_to is missing"))
            }
            (None, Some(_)) => {
                return Err(AppError::invalid("compare_from", "compare_from is missing"))
            }
        };
        let tz = ctx.tz;
        let (rows, truncated) = self.rows(ctx, q.from, q.to).await?;
        let main = widgets(&rows, tz, g, q.from, q.to, top);
        let compare = match compare {
            Some((f, t)) => {
                let (other, _) = self.rows(ctx, f, t).await?;
                Some(ChatPeriod {
                    from: f,
                    to: t,
                    widgets: widgets(&other, tz, g, f, t, top),
                })
            }
            None => None,
        };
        let total = rows.len();
        let offset = q.offset.unwrap_or(0);
        Ok(ChatReport {
            from: q.from,
            to: q.to,
            timezone: tz.name().to_owned(),
            granularity: g,
            total,
            truncated,
            rows: rows
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|r| row(r, tz))
                .collect(),
            widgets: main,
            compare,
        })
    }
}
