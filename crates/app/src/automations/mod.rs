//! The automations engine: eSputnik-style scenarios over the event log.
//!
//! ```text
//! events ─► consume (consumer `automations`, durable cursor): each event against each
//!   enabled automation's trigger (type + filters) ─► runs (due = recorded + delay),
//!   inserted in the transaction that advances the cursor
//! scheduler (every 2 s, and at start) ─► due runs ─► conditions, checked now
//!   (no survey within N days, field regex, in a dynamic group) ─► actions prepared
//!   (survey invitations with their links, outbox messages, tags)
//!   ─► store.complete_run: all of it in one transaction
//! ```
//!
//! Nothing is sent from here: messages wait in the outbox for the delivery
//! worker (`smtp`, `webhook`, `esputnik` deliverers). A run's messages have
//! the idempotency keys `automation:{run}:{action}`, so a crash between
//! preparing and committing repeats nothing. A run's actions are all or
//! nothing: when one cannot be prepared (no e-mail address for a survey
//! e-mail, say) the run fails with the reason and writes nothing.

pub mod smtp;

use crate::context::{ContextCache, ProjectContext};
use crate::surveys::{survey_url, InviteTarget, SurveyService};
use crate::{AppError, DynStore};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use skvoz_domain::automations::{
    field, field_matches, render_template, value_text, Action, Automation, Condition, SendSurvey,
    SurveyVia,
};
use skvoz_domain::crm::IdentityKind;
use skvoz_domain::surveys::Survey;
use skvoz_store::{
    run_message_key, AutomationRun, NewOutboxMessage, NewRun, RunCompletion, RunStatus, Scope,
    StoredEvent,
};
use std::sync::Arc;

/// The engine's cursor name in `event_cursors`.
pub const CONSUMER: &str = "automations";
/// Events read per pass.
const BATCH: usize = 500;
/// Events older than this when read (history imports, backfills) start no
/// runs: nobody wants a survey about a ticket closed last spring.
pub const MAX_EVENT_AGE_HOURS: i64 = 72;
/// The default eSputnik `eventTypeKey` of a survey invitation.
pub const DEFAULT_SURVEY_EVENT: &str = "skvoz_survey";

/// The automations engine.
#[derive(Clone)]
pub struct AutomationEngine {
    store: DynStore,
    contexts: Arc<ContextCache>,
    surveys: SurveyService,
}

/// A run that ends without actions (skipped, cancelled, failed): nothing
/// but its status and why.
fn stop(status: RunStatus, note: impl Into<String>, at: DateTime<Utc>) -> RunCompletion {
    RunCompletion {
        status,
        step: 0,
        note: Some(note.into()),
        invitations: Vec::new(),
        messages: Vec::new(),
        tags: Vec::new(),
        at,
    }
}

/// A contact's addresses for actions.
#[derive(Debug, Default)]
struct ContactInfo {
    id: Option<i64>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl AutomationEngine {
    /// Over a store, the context cache and the survey service.
    pub fn new(store: DynStore, contexts: Arc<ContextCache>, surveys: SurveyService) -> Self {
        AutomationEngine {
            store,
            contexts,
            surveys,
        }
    }

    /// Turns new events into runs (one pass of at most 500 events);
    /// returns how many events were read.
    pub async fn consume(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let cursor = self.store.event_cursor(CONSUMER).await?;
        let events = self.store.events_after(cursor, BATCH).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(0);
        };
        let mut runs = Vec::new();
        for e in &events {
            if now - e.at > Duration::hours(MAX_EVENT_AGE_HOURS) {
                continue;
            }
            let ctx = match self.contexts.by_id(e.project).await {
                Ok(ctx) => ctx,
                // A deleted project's events start nothing.
                Err(AppError::NotFound(_)) => continue,
                Err(err) => return Err(err),
            };
            for a in ctx.settings.automations.iter().filter(|a| a.enabled) {
                if a.trigger.matches(e.kind.as_str(), &e.data) {
                    runs.push(new_run(e, a));
                }
            }
        }
        let created = self.store.create_runs(CONSUMER, last, runs).await?;
        metrics::counter!("skvoz_automation_runs_created_total").increment(created as u64);
        Ok(events.len())
    }

    /// Fires the runs due at `now`; returns how many were completed.
    pub async fn fire_due(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        let due = self.store.due_runs(now, 200).await?;
        let mut fired = 0;
        for run in due {
            let ctx = match self.contexts.by_id(run.project).await {
                Ok(ctx) => ctx,
                Err(AppError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let completion = match self.prepare(&ctx, &run, now).await {
                Ok(c) => c,
                Err(e) => {
                    // A store hiccup: the run stays pending and is tried again.
                    tracing::warn!(run = run.id, error = %e, "preparing an automation run failed");
                    continue;
                }
            };
            let status = completion.status;
            if self
                .store
                .complete_run(Scope::new(run.project), run.id, completion)
                .await?
            {
                metrics::counter!("skvoz_automation_runs_total", "status" => status.as_str())
                    .increment(1);
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// One pass: new events into runs (until the log is read), then the due
    /// runs.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, AppError> {
        while self.consume(now).await? == BATCH {}
        self.fire_due(now).await
    }

    /// Runs [`AutomationEngine::tick`] every `every` until the process ends
    /// (due runs of before a restart fire on the first pass).
    pub fn spawn(&self, every: std::time::Duration) {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if let Err(e) = engine.tick(Utc::now()).await {
                    tracing::warn!(error = %e, "automations pass failed");
                }
            }
        });
    }

    /// A project's latest runs, newest first, each with the outbox messages
    /// it enqueued (and their delivery status) under `messages`.
    pub async fn history(&self, scope: Scope, limit: usize) -> Result<Vec<Value>, AppError> {
        let runs = self.store.automation_runs(scope, limit).await?;
        let mut out = Vec::with_capacity(runs.len());
        for run in runs {
            let messages = self.store.run_messages(scope, run.id).await?;
            let mut v =
                serde_json::to_value(&run).map_err(|e| AppError::Internal(e.to_string()))?;
            v["messages"] =
                serde_json::to_value(messages).map_err(|e| AppError::Internal(e.to_string()))?;
            out.push(v);
        }
        Ok(out)
    }

    async fn contact_info(
        &self,
        scope: Scope,
        run: &AutomationRun,
    ) -> Result<ContactInfo, AppError> {
        // The event's contact, else (a ticket linked after its close) the
        // ticket's current one.
        let mut id = run
            .contact_id
            .or_else(|| field(&run.event_data, "contact_id").and_then(Value::as_i64));
        if id.is_none() {
            if let Some(t) = field(&run.event_data, "ticket_id").and_then(Value::as_i64) {
                if run.event_kind == "ticket.closed" {
                    id = self
                        .store
                        .ticket(scope, t)
                        .await?
                        .and_then(|t| t.contact_id);
                }
            }
        }
        let Some(id) = id else {
            return Ok(ContactInfo::default());
        };
        let Some(contact) = self.store.contact(scope, id).await? else {
            return Ok(ContactInfo::default());
        };
        let get = |k: IdentityKind| {
            contact
                .identities
                .iter()
                .find(|i| i.kind == k)
                .map(|i| i.value.clone())
        };
        Ok(ContactInfo {
            id: Some(contact.id),
            email: get(IdentityKind::Email),
            phone: get(IdentityKind::Phone),
            name: contact.name.clone(),
        })
    }

    async fn prepare(
        &self,
        ctx: &ProjectContext,
        run: &AutomationRun,
        now: DateTime<Utc>,
    ) -> Result<RunCompletion, AppError> {
        let Some(automation) = ctx
            .settings
            .automations
            .iter()
            .find(|a| a.id == run.automation_id && a.enabled)
        else {
            return Ok(stop(
                RunStatus::Cancelled,
                "the automation was removed or disabled",
                now,
            ));
        };
        let contact = self.contact_info(ctx.scope, run).await?;
        if let Some(reason) = self
            .failed_condition(ctx, automation, run, &contact, now)
            .await?
        {
            return Ok(stop(RunStatus::Skipped, reason, now));
        }
        let mut c = RunCompletion {
            status: RunStatus::Done,
            step: 0,
            note: None,
            invitations: Vec::new(),
            messages: Vec::new(),
            tags: Vec::new(),
            at: now,
        };
        for (i, action) in automation.actions.iter().enumerate() {
            let key = run_message_key(run.id, i);
            let message = |kind: &str, destination: &str, payload: Value| NewOutboxMessage {
                destination_kind: kind.to_owned(),
                destination: destination.to_owned(),
                idempotency_key: key.clone(),
                payload,
                event_id: Some(run.event_id),
                not_before: None,
            };
            match action {
                Action::SendSurvey(s) => {
                    let survey = match ctx.settings.surveys.survey(&s.survey) {
                        Some(survey) => survey,
                        None => {
                            return Ok(stop(
                                RunStatus::Failed,
                                format!("survey `{}` is not in the settings", s.survey),
                                now,
                            ))
                        }
                    };
                    match self
                        .survey_message(ctx, run, s, survey, &contact, &key, now)
                        .await?
                    {
                        Ok((inv, m)) => {
                            c.invitations.push(inv);
                            c.messages.push(m);
                        }
                        Err(reason) => return Ok(stop(RunStatus::Failed, reason, now)),
                    }
                }
                Action::Webhook(endpoint) => c.messages.push(message(
                    "webhook",
                    endpoint,
                    json!({
                        "id": key,
                        "event": run.event_kind,
                        "automation": automation.id,
                        "occurred_at": run.created_at,
                        "data": run.event_data,
                    }),
                )),
                Action::EsputnikEvent(event_key) => {
                    let Some(key_value) = contact.email.clone().or(contact.phone.clone()) else {
                        return Ok(stop(
                            RunStatus::Failed,
                            "an eSputnik event needs the contact's e-mail or phone",
                            now,
                        ));
                    };
                    c.messages.push(message(
                        "esputnik",
                        "default",
                        esputnik_body(event_key, &key_value, &run.event_data, &[]),
                    ));
                }
                Action::Email(e) => c.messages.push(message(
                    "smtp",
                    "default",
                    json!({
                        "to": e.to,
                        "subject": render_template(&e.subject, &run.event_data),
                        "text": render_template(&e.text, &run.event_data),
                        "html": null,
                    }),
                )),
                Action::Tag(tag) => match contact.id {
                    Some(id) => c.tags.push((id, tag.clone())),
                    None => return Ok(stop(RunStatus::Failed, "tagging needs a contact", now)),
                },
            }
            c.step = (i + 1) as u32;
        }
        Ok(c)
    }

    /// The first condition that does not hold now, as a reason.
    async fn failed_condition(
        &self,
        ctx: &ProjectContext,
        automation: &Automation,
        run: &AutomationRun,
        contact: &ContactInfo,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, AppError> {
        for cond in &automation.conditions {
            match cond {
                Condition::NoSurveyWithin {
                    no_survey_within_days: days,
                } => {
                    if let Some(id) = contact.id {
                        let last = self.store.last_invitation_at(ctx.scope, id).await?;
                        if last.is_some_and(|t| now - t < Duration::days(i64::from(*days))) {
                            return Ok(Some(format!(
                                "the contact got a survey within {days} days"
                            )));
                        }
                    }
                }
                Condition::Field { field, regex } => {
                    if !field_matches(&run.event_data, field, regex) {
                        return Ok(Some(format!("`{field}` does not match `{regex}`")));
                    }
                }
                Condition::InGroup { in_group } => {
                    let Some(group) = ctx.settings.groups.iter().find(|g| &g.id == in_group) else {
                        return Ok(Some(format!("group `{in_group}` is not in the settings")));
                    };
                    let member = match contact.id {
                        Some(id) => self.surveys.in_group(ctx, group, id, now).await?,
                        None => false,
                    };
                    if !member {
                        return Ok(Some(format!("the contact is not in group `{in_group}`")));
                    }
                }
            }
        }
        Ok(None)
    }

    /// A survey invitation and the message that carries its link; `Err`
    /// with the reason when it cannot be sent.
    #[allow(clippy::too_many_arguments)]
    async fn survey_message(
        &self,
        ctx: &ProjectContext,
        run: &AutomationRun,
        s: &SendSurvey,
        survey: &Survey,
        contact: &ContactInfo,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(skvoz_store::NewInvitation, NewOutboxMessage), String>, AppError> {
        let target = InviteTarget {
            contact_id: contact.id,
            ticket_id: field(&run.event_data, "ticket_id").and_then(Value::as_i64),
            deal_id: field(&run.event_data, "deal_id").and_then(Value::as_i64),
        };
        let via = match s.via {
            SurveyVia::Email => "email",
            SurveyVia::Webhook => "webhook",
            SurveyVia::Esputnik => "esputnik",
        };
        let (token, inv) = self
            .surveys
            .prepare(ctx, survey, &target, via, Some(run.id), now)
            .await?;
        let Some(url) = survey_url(ctx, &token) else {
            return Ok(Err(
                "surveys.public_url is not set, so there is no link to send".into(),
            ));
        };
        let (kind, destination, payload) = match s.via {
            SurveyVia::Email => {
                let Some(to) = contact.email.clone() else {
                    return Ok(Err("the contact has no e-mail address".into()));
                };
                (
                    "smtp",
                    "default".to_owned(),
                    survey_email(survey, &to, &url),
                )
            }
            SurveyVia::Webhook => (
                "webhook",
                s.webhook.clone().unwrap_or_default(),
                json!({
                    "id": key,
                    "event": "survey.invitation",
                    "survey": survey.id,
                    "kind": survey.kind,
                    "url": url,
                    "expires_at": inv.expires_at,
                    "contact": {"id": contact.id, "name": contact.name, "email": contact.email, "phone": contact.phone},
                    "ticket_id": inv.ticket_id,
                    "deal_id": inv.deal_id,
                    "data": run.event_data,
                }),
            ),
            SurveyVia::Esputnik => {
                let Some(key_value) = contact.email.clone().or(contact.phone.clone()) else {
                    return Ok(Err(
                        "an eSputnik event needs the contact's e-mail or phone".into()
                    ));
                };
                let event_key = s.event_key.as_deref().unwrap_or(DEFAULT_SURVEY_EVENT);
                (
                    "esputnik",
                    "default".to_owned(),
                    esputnik_body(
                        event_key,
                        &key_value,
                        &run.event_data,
                        &[("survey_url", url.as_str()), ("survey", survey.id.as_str())],
                    ),
                )
            }
        };
        Ok(Ok((
            inv,
            NewOutboxMessage {
                destination_kind: kind.to_owned(),
                destination,
                idempotency_key: key.to_owned(),
                payload,
                event_id: Some(run.event_id),
                not_before: None,
            },
        )))
    }
}

fn new_run(e: &StoredEvent, a: &Automation) -> NewRun {
    NewRun {
        project: e.project,
        automation_id: a.id.clone(),
        event_id: e.id,
        event_kind: e.kind.as_str().to_owned(),
        contact_id: e.contact_id,
        event_data: e.data.clone(),
        due_at: e.recorded_at + Duration::minutes(i64::from(a.delay_minutes)),
    }
}

/// The eSputnik v2/event body: the event's scalar fields as params, then
/// `extra`.
pub fn esputnik_body(
    event_key: &str,
    key_value: &str,
    data: &Value,
    extra: &[(&str, &str)],
) -> Value {
    let mut params: Vec<Value> = Vec::new();
    if let Value::Object(m) = data {
        for (k, v) in m {
            if !(v.is_object() || v.is_array() || v.is_null()) {
                params.push(json!({"name": k, "value": value_text(v)}));
            }
        }
    }
    for (k, v) in extra {
        params.push(json!({"name": k, "value": v}));
    }
    json!({"eventTypeKey": event_key, "keyValue": key_value, "params": params})
}

/// The survey invitation e-mail (`smtp` payload): Russian, then English.
pub fn survey_email(survey: &Survey, to: &str, url: &str) -> Value {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let question_ru = survey.questions.first().map_or("", |q| q.text.ru.as_str());
    let question_en = survey.questions.first().map_or("", |q| q.text.en.as_str());
    let text = format!(
        "{question_ru}\nОтветьте по ссылке (одна минута): {url}\n\n{question_en}\nAnswer here (one minute): {url}\n"
    );
    let html = format!(
        "<p>{}</p><p><a href=\"{u}\">Ответить</a></p><hr><p>{}</p><p><a href=\"{u}\">Answer</a></p>",
        esc(question_ru),
        esc(question_en),
        u = esc(url)
    );
    json!({
        "to": to,
        "subject": format!("{} / {}", survey.title.ru, survey.title.en),
        "text": text,
        "html": html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esputnik_bodies_carry_scalar_fields_and_extras() {
        let body = esputnik_body(
            "nps_low",
            "a@b.ru",
            &json!({"score": 3, "answers": {"x": 1}, "kind": "nps", "none": null}),
            &[("survey_url", "https://x/s/t")],
        );
        assert_eq!(body["eventTypeKey"], "nps_low");
        assert_eq!(body["keyValue"], "a@b.ru");
        let names: Vec<&str> = body["params"]
            .as_array()
            .expect("params")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["kind", "score", "survey_url"]);
        assert_eq!(body["params"][1]["value"], "3");
    }

    #[test]
    fn survey_emails_carry_the_link_in_text_and_html() {
        let m = survey_email(&Survey::builtin_csat(), "c@d.ru", "https://s.example/s/abc");
        assert_eq!(m["to"], "c@d.ru");
        assert!(m["text"]
            .as_str()
            .expect("text")
            .contains("https://s.example/s/abc"));
        assert!(m["html"]
            .as_str()
            .expect("html")
            .contains("href=\"https://s.example/s/abc\""));
        assert_eq!(m["subject"], "Оцените поддержку / Rate our support");
    }
}
