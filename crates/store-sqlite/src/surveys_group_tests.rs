//! The group query compiled from a [`GroupFilter`] selects exactly the
//! contacts the filter's pure evaluator selects, on random data and random
//! filters.

use super::group_sql;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rusqlite::{params, params_from_iter, Connection};
use skvoz_domain::surveys::{
    AnswerCondition, AnswerFacts, ContactCondition, GroupCandidate, GroupFilter,
};

const PROJECT: i64 = 1;
const OTHER_PROJECT: i64 = 2;

fn day(d: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + d * 86_400, 0).unwrap_or_default()
}

/// A contact of the generated data.
#[derive(Debug, Clone)]
struct GenContact {
    /// Merged into the contact at this index (an earlier, live one).
    merged_into: Option<usize>,
    tags: Vec<&'static str>,
    answers: Vec<GenAnswer>,
}

#[derive(Debug, Clone)]
struct GenAnswer {
    project: i64,
    survey_id: &'static str,
    kind: &'static str,
    score: i64,
    day: i64,
    channel: Option<&'static str>,
}

fn any_answer() -> impl Strategy<Value = GenAnswer> {
    (
        prop_oneof![4 => Just(PROJECT), 1 => Just(OTHER_PROJECT)],
        prop_oneof![Just("q1"), Just("q2")],
        prop_oneof![Just("nps"), Just("csat")],
        // Few values, so conditions often sit exactly on a boundary.
        0i64..4,
        0i64..6,
        proptest::option::of(prop_oneof![Just("ads"), Just("organic search")]),
    )
        .prop_map(
            |(project, survey_id, kind, score, day, channel)| GenAnswer {
                project,
                survey_id,
                kind,
                score,
                day,
                channel,
            },
        )
}

fn any_contact() -> impl Strategy<Value = (Option<usize>, Vec<&'static str>, Vec<GenAnswer>)> {
    (
        proptest::option::of(0usize..6),
        proptest::collection::vec(prop_oneof![Just("vip"), Just("churn")], 0..3),
        proptest::collection::vec(any_answer(), 0..4),
    )
}

fn any_contacts() -> impl Strategy<Value = Vec<GenContact>> {
    proptest::collection::vec(any_contact(), 1..7).prop_map(|raw| {
        let mut out: Vec<GenContact> = Vec::with_capacity(raw.len());
        for (i, (merge, mut tags, answers)) in raw.into_iter().enumerate() {
            tags.sort_unstable();
            tags.dedup();
            // Merge only into an earlier contact that is itself live, as
            // contact resolution does (the survivor is the oldest).
            let merged_into = merge.filter(|&m| m < i && out[m].merged_into.is_none());
            out.push(GenContact {
                merged_into,
                tags,
                answers,
            });
        }
        out
    })
}

fn any_answer_condition() -> impl Strategy<Value = AnswerCondition> {
    prop_oneof![
        prop_oneof![Just("q1"), Just("nps"), Just("csat"), Just("x")]
            .prop_map(|s| AnswerCondition::SurveyOrKind(s.into())),
        (0i64..4).prop_map(AnswerCondition::ScoreAtMost),
        (0i64..4).prop_map(AnswerCondition::ScoreAtLeast),
        (0i64..7).prop_map(|d| AnswerCondition::AnsweredSince(day(d))),
        prop_oneof![Just("ads"), Just("organic search")]
            .prop_map(|c| AnswerCondition::Channel(c.into())),
    ]
}

fn any_filter() -> impl Strategy<Value = GroupFilter> {
    let condition = prop_oneof![
        proptest::collection::vec(any_answer_condition(), 0..4)
            .prop_map(ContactCondition::Answered),
        prop_oneof![Just("vip"), Just("churn")].prop_map(|t| ContactCondition::Tagged(t.into())),
        (1i64..8).prop_map(ContactCondition::Is),
    ];
    proptest::collection::vec(condition, 0..3).prop_map(|conditions| GroupFilter { conditions })
}

/// Stores the data; contact ids are 1.. in order.
fn store(contacts: &[GenContact]) -> Connection {
    let mut c = Connection::open_in_memory().expect("open");
    crate::migrations::all().to_latest(&mut c).expect("migrate");
    // Only the group's tables matter here, not the projects and
    // invitations their rows would reference.
    c.pragma_update(None, "foreign_keys", "OFF")
        .expect("pragma");
    let mut invitation = 0i64;
    for (i, contact) in contacts.iter().enumerate() {
        let id = i as i64 + 1;
        c.execute(
            "INSERT INTO contacts (id, project_id, name, created_at, merged_into) VALUES (?1, ?2, NULL, 0, ?3)",
            params![id, PROJECT, contact.merged_into.map(|m| m as i64 + 1)],
        )
        .expect("contact");
        for tag in &contact.tags {
            c.execute(
                "INSERT INTO contact_tags (project_id, contact_id, tag, created_at) VALUES (?1, ?2, ?3, 0)",
                params![PROJECT, id, tag],
            )
            .expect("tag");
        }
        for a in &contact.answers {
            invitation += 1;
            c.execute(
                "INSERT INTO survey_answers (project_id, invitation_id, survey_id, kind, score, answers, contact_id,
                    channel, answered_at) VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6, ?7, ?8)",
                params![
                    a.project,
                    invitation,
                    a.survey_id,
                    a.kind,
                    a.score,
                    id,
                    a.channel,
                    day(a.day).timestamp_millis()
                ],
            )
            .expect("answer");
        }
    }
    c
}

/// The live contacts as the evaluator sees them: a merged contact's
/// answers count as its survivor's.
fn candidates(contacts: &[GenContact]) -> Vec<GroupCandidate> {
    let mut out: Vec<GroupCandidate> = contacts
        .iter()
        .enumerate()
        .map(|(i, c)| GroupCandidate {
            id: i as i64 + 1,
            answers: Vec::new(),
            tags: c.tags.iter().map(|t| (*t).to_owned()).collect(),
        })
        .collect();
    for (i, c) in contacts.iter().enumerate() {
        let owner = c.merged_into.unwrap_or(i);
        for a in c.answers.iter().filter(|a| a.project == PROJECT) {
            out[owner].answers.push(AnswerFacts {
                survey_id: a.survey_id.into(),
                kind: a.kind.into(),
                score: a.score,
                answered_at: day(a.day),
                channel: a.channel.map(str::to_owned),
            });
        }
    }
    out.into_iter()
        .zip(contacts)
        .filter(|(_, c)| c.merged_into.is_none())
        .map(|(candidate, _)| candidate)
        .collect()
}

fn selected_by_sql(c: &Connection, filter: &GroupFilter) -> Vec<i64> {
    let (sql, params) = group_sql(PROJECT, filter, 1_000);
    let mut stmt = c.prepare(&sql).expect("prepare");
    let rows = stmt
        .query_map(params_from_iter(params), |r| r.get::<_, i64>(0))
        .expect("query");
    rows.collect::<Result<Vec<_>, _>>().expect("rows")
}

#[test]
fn a_hand_made_group() {
    let contacts = vec![
        GenContact {
            merged_into: None,
            tags: vec!["vip"],
            answers: vec![],
        },
        // Merged into the first: its low CSAT is the first's.
        GenContact {
            merged_into: Some(0),
            tags: vec![],
            answers: vec![GenAnswer {
                project: PROJECT,
                survey_id: "q2",
                kind: "csat",
                score: 2,
                day: 30,
                channel: Some("ads"),
            }],
        },
        GenContact {
            merged_into: None,
            tags: vec![],
            answers: vec![GenAnswer {
                project: PROJECT,
                survey_id: "q2",
                kind: "csat",
                score: 5,
                day: 30,
                channel: None,
            }],
        },
    ];
    let c = store(&contacts);
    let low = GroupFilter {
        conditions: vec![ContactCondition::Answered(vec![
            AnswerCondition::SurveyOrKind("csat".into()),
            AnswerCondition::ScoreAtMost(4),
            AnswerCondition::AnsweredSince(day(30)),
        ])],
    };
    assert_eq!(selected_by_sql(&c, &low), vec![1]);
    // Score bounds are inclusive.
    let at_most_two = GroupFilter {
        conditions: vec![ContactCondition::Answered(vec![
            AnswerCondition::ScoreAtMost(2),
        ])],
    };
    assert_eq!(selected_by_sql(&c, &at_most_two), vec![1]);
    let at_least_five = GroupFilter {
        conditions: vec![ContactCondition::Answered(vec![
            AnswerCondition::ScoreAtLeast(5),
        ])],
    };
    assert_eq!(selected_by_sql(&c, &at_least_five), vec![3]);
    let any_answer = GroupFilter {
        conditions: vec![ContactCondition::Answered(vec![])],
    };
    assert_eq!(selected_by_sql(&c, &any_answer), vec![1, 3]);
    let vip_or_nobody = GroupFilter {
        conditions: vec![
            ContactCondition::Tagged("vip".into()),
            ContactCondition::Is(3),
        ],
    };
    assert!(selected_by_sql(&c, &vip_or_nobody).is_empty());
    assert_eq!(selected_by_sql(&c, &GroupFilter::default()), vec![1, 3]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sql_selects_what_the_evaluator_selects(contacts in any_contacts(), filter in any_filter()) {
        let c = store(&contacts);
        let expected: Vec<i64> = candidates(&contacts)
            .iter()
            .filter(|candidate| filter.matches(candidate))
            .map(|candidate| candidate.id)
            .collect();
        prop_assert_eq!(selected_by_sql(&c, &filter), expected);
    }
}
