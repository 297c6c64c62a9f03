//! Conformance tests of surveys and automation runs: a token answers once
//! and appends `survey.answered` in the same transaction; expired tokens
//! answer nothing; groups are evaluated by query; runs are created once per
//! event with the consumer's cursor, fire when due, and complete with their
//! messages, invitations and tags; nothing crosses projects.

use super::{lead, new_project, policy};
use crate::{
    AnswerOutcome, EventKind, EventPayload, NewAnswer, NewInvitation, NewOutboxMessage, NewRun,
    RunCompletion, RunStatus, Scope, Store, SurveyAnsweredPayload,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use skvoz_domain::automations::GroupRule;
use skvoz_domain::crm::{Identity, IdentityKind};

fn invitation(hash: &str, contact: Option<i64>, now: DateTime<Utc>) -> NewInvitation {
    NewInvitation {
        token_hash: hash.to_owned(),
        survey_id: "csat".into(),
        kind: "csat".into(),
        contact_id: contact,
        ticket_id: Some(7),
        deal_id: None,
        channel: Some("organic search".into()),
        via: "email".into(),
        run_id: None,
        created_at: now,
        expires_at: now + Duration::days(14),
    }
}

fn answer(score: i64, at: DateTime<Utc>) -> NewAnswer {
    NewAnswer {
        score,
        answers: json!({"score": score, "solved": "no"}),
        at,
    }
}

/// Invitations, answers, groups and tags.
pub async fn survey_answers_consume_tokens_and_stay_scoped<S: Store>(store: &S) {
    let a = Scope::new(store.create_project(new_project("sa")).await.expect("a").id);
    let b = Scope::new(store.create_project(new_project("sb")).await.expect("b").id);
    let now = Utc::now();
    let contact = store
        .record_lead(
            a,
            lead(
                vec![Identity::new(IdentityKind::Email, "n@p.ru")],
                Some("f1"),
            ),
            policy(),
        )
        .await
        .expect("lead")
        .contact_id;
    let inv = store
        .create_invitation(a, invitation("h1", Some(contact), now))
        .await
        .expect("invite");
    // Found by its hash alone, with its project.
    let found = store
        .invitation_by_token_hash("h1")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((found.id, found.project), (inv, a.project()));
    assert!(found.answered_at.is_none());
    assert!(store
        .invitation_by_token_hash("h2")
        .await
        .expect("read")
        .is_none());
    // Another project cannot answer it.
    assert_eq!(
        store
            .answer_invitation(b, inv, answer(5, now))
            .await
            .expect("answer"),
        AnswerOutcome::Unknown
    );
    let before = store.project_events(a, 0, 100).await.expect("events").len();
    let AnswerOutcome::Recorded {
        answer_id,
        event_id,
    } = store
        .answer_invitation(a, inv, answer(2, now))
        .await
        .expect("answer")
    else {
        panic!("first answer is recorded");
    };
    // Once: the token is spent.
    assert_eq!(
        store
            .answer_invitation(a, inv, answer(5, now))
            .await
            .expect("again"),
        AnswerOutcome::AlreadyAnswered
    );
    let events = store.project_events(a, 0, 100).await.expect("events");
    assert_eq!(events.len(), before + 1);
    let e = events.last().expect("event");
    assert_eq!(
        (e.id, e.kind, e.subject_id, e.contact_id),
        (
            event_id,
            EventKind::SurveyAnswered,
            Some(answer_id),
            Some(contact)
        )
    );
    // The whole payload, typed.
    assert_eq!(
        EventPayload::of_event(e).expect("payload"),
        EventPayload::SurveyAnswered(SurveyAnsweredPayload {
            answer_id,
            answered_at: now,
            answers: json!({"score": 2, "solved": "no"}),
            channel: Some("organic search".into()),
            contact_id: Some(contact),
            deal_id: None,
            invitation_id: inv,
            kind: "csat".into(),
            score: 2,
            survey: "csat".into(),
            ticket_id: Some(7),
        })
    );
    assert!(store
        .project_events(b, 0, 100)
        .await
        .expect("events")
        .is_empty());
    // An expired link answers nothing and appends nothing.
    let mut old = invitation("h3", Some(contact), now - Duration::days(30));
    old.expires_at = now - Duration::days(1);
    let old = store.create_invitation(a, old).await.expect("invite");
    assert_eq!(
        store
            .answer_invitation(a, old, answer(5, now))
            .await
            .expect("expired"),
        AnswerOutcome::Expired
    );
    assert_eq!(
        store.project_events(a, 0, 100).await.expect("events").len(),
        before + 1
    );
    // Answers of a period, scoped.
    let answers = store
        .answers_between(a, now - Duration::hours(1), now + Duration::hours(1), 100)
        .await
        .expect("answers");
    assert_eq!(answers.len(), 1);
    assert_eq!(
        (answers[0].score, answers[0].contact_id),
        (2, Some(contact))
    );
    assert!(store
        .answers_between(b, now - Duration::hours(1), now + Duration::hours(1), 100)
        .await
        .expect("answers")
        .is_empty());
    assert_eq!(
        store
            .last_invitation_at(a, contact)
            .await
            .expect("last")
            .map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis())
    );
    assert!(store
        .last_invitation_at(b, contact)
        .await
        .expect("last")
        .is_none());
    // Groups: low scores within 30 days; tags.
    let low = GroupRule {
        survey: Some("csat".into()),
        score_lte: Some(4),
        within_days: Some(30),
        ..Default::default()
    };
    let members = store
        .group_members(a, &low, now, None, 100)
        .await
        .expect("group");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].contact_id, contact);
    assert_eq!(members[0].email.as_deref(), Some("n@p.ru"));
    assert_eq!(members[0].last_score, Some(2));
    assert_eq!(members[0].channel.as_deref(), Some("organic search"));
    assert_eq!(
        store
            .group_members(a, &low, now, Some(contact), 1)
            .await
            .expect("member")
            .len(),
        1
    );
    let high = GroupRule {
        score_gte: Some(4),
        ..Default::default()
    };
    assert!(store
        .group_members(a, &high, now, None, 100)
        .await
        .expect("group")
        .is_empty());
    // The answer is 40 days old by then.
    assert!(store
        .group_members(a, &low, now + Duration::days(40), None, 100)
        .await
        .expect("group")
        .is_empty());
    assert!(store
        .group_members(b, &low, now, None, 100)
        .await
        .expect("group")
        .is_empty());
}

/// Runs: once per automation and event, with the cursor; due by time;
/// completed once with what their actions write; scoped.
pub async fn automation_runs_fire_once_and_stay_scoped<S: Store>(store: &S) {
    let a = Scope::new(store.create_project(new_project("ra")).await.expect("a").id);
    let b = Scope::new(store.create_project(new_project("rb")).await.expect("b").id);
    let now = Utc::now();
    let run = |event_id: i64, due: DateTime<Utc>| NewRun {
        project: a.project(),
        automation_id: "csat".into(),
        event_id,
        event_kind: "ticket.closed".into(),
        contact_id: Some(1),
        event_data: json!({"ticket_id": 1}),
        due_at: due,
    };
    assert_eq!(
        store
            .create_runs(
                "automations-test",
                5,
                vec![run(5, now - Duration::minutes(1))]
            )
            .await
            .expect("runs"),
        1
    );
    assert_eq!(
        store
            .event_cursor("automations-test")
            .await
            .expect("cursor"),
        5
    );
    // A replay of the same event creates nothing new.
    assert_eq!(
        store
            .create_runs(
                "automations-test",
                6,
                vec![run(5, now), run(6, now + Duration::hours(1))]
            )
            .await
            .expect("runs"),
        1
    );
    assert_eq!(
        store
            .event_cursor("automations-test")
            .await
            .expect("cursor"),
        6
    );
    let due = store.due_runs(now, 100).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].event_id, due[0].status), (5, RunStatus::Pending));
    assert_eq!(
        store
            .due_runs(now + Duration::hours(2), 100)
            .await
            .expect("due")
            .len(),
        2
    );
    let completion = RunCompletion {
        status: RunStatus::Done,
        step: 2,
        note: None,
        invitations: vec![invitation("run-h", Some(1), now)],
        messages: vec![NewOutboxMessage {
            destination_kind: "smtp".into(),
            destination: "default".into(),
            idempotency_key: crate::run_message_key(due[0].id, 0),
            payload: json!({"to": "a@b.ru"}),
            event_id: Some(5),
            not_before: None,
        }],
        tags: vec![(1, "surveyed".into())],
        at: now,
    };
    // Another project cannot complete it.
    assert!(!store
        .complete_run(b, due[0].id, completion.clone())
        .await
        .expect("complete"));
    assert!(store
        .complete_run(a, due[0].id, completion.clone())
        .await
        .expect("complete"));
    // Once.
    assert!(!store
        .complete_run(a, due[0].id, completion)
        .await
        .expect("complete"));
    let messages = store.run_messages(a, due[0].id).await.expect("messages");
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].destination_kind, "smtp");
    assert_eq!(messages[0].status, "pending");
    assert!(store
        .run_messages(b, due[0].id)
        .await
        .expect("messages")
        .is_empty());
    assert!(store
        .invitation_by_token_hash("run-h")
        .await
        .expect("inv")
        .is_some());
    let runs = store.automation_runs(a, 10).await.expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].status, RunStatus::Done);
    assert_eq!(runs[1].step, 2);
    assert!(store.automation_runs(b, 10).await.expect("runs").is_empty());
    assert!(store.due_runs(now, 100).await.expect("due").is_empty());
}
