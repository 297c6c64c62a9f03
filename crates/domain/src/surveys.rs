//! Satisfaction surveys: the `surveys` settings section (NPS and CSAT
//! questionnaires with follow-up questions shown on a previous answer),
//! the step logic of the hosted form, and the NPS / CSAT math.
//!
//! Everything here is pure: the survey page hands the submitted fields and
//! the questions it had shown to [`Survey::step`], which answers either the
//! complete answers or the questions to show next (with errors in place).
//!
//! Dynamic groups (a [`GroupRule`] of the settings) become a [`GroupFilter`]:
//! a typed condition tree with a pure evaluator that store backends compile
//! to their query language.

use crate::automations::GroupRule;
use crate::settings::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Longest free-text answer, in characters.
pub const MAX_TEXT_ANSWER: usize = 2_000;
/// Most questions in one survey.
pub const MAX_QUESTIONS: usize = 10;

/// The `surveys` settings section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurveySettings {
    /// skvoz's public origin as respondents reach it
    /// (`https://skvoz.example.com`): survey links are `{public_url}/s/{token}`.
    pub public_url: String,
    /// How long an invitation's link stays valid, in days.
    pub invitation_days: u32,
    /// The surveys (default: the built-in `nps` and `csat`).
    pub items: Vec<Survey>,
}

impl Default for SurveySettings {
    fn default() -> Self {
        SurveySettings {
            public_url: String::new(),
            invitation_days: 14,
            items: vec![Survey::builtin_nps(), Survey::builtin_csat()],
        }
    }
}

/// NPS (0–10, "would you recommend us") or CSAT (1–5, "how satisfied").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Net Promoter Score: 0–10.
    Nps,
    /// Customer satisfaction: 1–5.
    Csat,
}

impl SurveyKind {
    /// `nps` or `csat`.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat => "csat",
        }
    }

    /// Parses [`SurveyKind::as_str`].
    pub fn parse(s: &str) -> Option<SurveyKind> {
        match s {
            "nps" => Some(SurveyKind::Nps),
            "csat" => Some(SurveyKind::Csat),
            _ => None,
        }
    }

    /// The score scale, inclusive.
    pub fn range(self) -> (i64, i64) {
        match self {
            SurveyKind::Nps => (0, 10),
            SurveyKind::Csat => (1, 5),
        }
    }
}

/// A text in both page languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Russian.
    pub ru: String,
    /// English.
    pub en: String,
}

impl Text {
    fn new(ru: &str, en: &str) -> Text {
        Text {
            ru: ru.to_owned(),
            en: en.to_owned(),
        }
    }

    /// The text in `lang` (`en`, else Russian).
    pub fn get(&self, english: bool) -> &str {
        if english {
            &self.en
        } else {
            &self.ru
        }
    }
}

/// One survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Unique id (`nps`, `csat-support`).
    pub id: String,
    /// NPS or CSAT: the scale of its score question.
    pub kind: SurveyKind,
    /// The page title.
    pub title: Text,
    /// The questions in order; the first is the score.
    pub questions: Vec<Question>,
}

/// What a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// The survey's scale (0–10 or 1–5), as big buttons.
    Score,
    /// Yes or no (`yes` / `no`).
    YesNo,
    /// Free text.
    Text,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Unique in the survey (`score`, `solved`, `comment`): the answer's key.
    pub id: String,
    /// What it asks for.
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// The question.
    pub text: Text,
    /// An answer is needed (default: yes for score and yes/no, no for text).
    #[serde(default)]
    pub required: Option<bool>,
    /// Shown only when an earlier answer matches.
    #[serde(default)]
    pub show_if: Option<ShowIf>,
}

impl Question {
    /// Whether the question must be answered once shown.
    pub fn is_required(&self) -> bool {
        self.required.unwrap_or(self.kind != QuestionType::Text)
    }
}

/// A condition on an earlier answer: every given bound must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowIf {
    /// The earlier question's id.
    pub question: String,
    /// Its score is at most this.
    #[serde(default)]
    pub lte: Option<i64>,
    /// Its score is at least this.
    #[serde(default)]
    pub gte: Option<i64>,
    /// Its answer equals this (`no` for a yes/no question).
    #[serde(default)]
    pub eq: Option<String>,
}

impl ShowIf {
    /// Whether the answers so far show the question (an unanswered
    /// referenced question shows nothing).
    pub fn holds(&self, answers: &Answers) -> bool {
        let Some(a) = answers.get(&self.question) else {
            return false;
        };
        if let Some(eq) = &self.eq {
            if a.as_text() != *eq {
                return false;
            }
        }
        let score = a.as_score();
        if let Some(lte) = self.lte {
            if score.is_none_or(|s| s > lte) {
                return false;
            }
        }
        if let Some(gte) = self.gte {
            if score.is_none_or(|s| s < gte) {
                return false;
            }
        }
        true
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    /// A score on the survey's scale.
    Score(i64),
    /// Yes (`true`) or no.
    YesNo(bool),
    /// Free text (trimmed, not empty).
    Text(String),
}

impl AnswerValue {
    /// The answer as text (`yes`/`no` for yes/no).
    pub fn as_text(&self) -> String {
        match self {
            AnswerValue::Score(s) => s.to_string(),
            AnswerValue::YesNo(true) => "yes".to_owned(),
            AnswerValue::YesNo(false) => "no".to_owned(),
            AnswerValue::Text(t) => t.clone(),
        }
    }

    /// The score, when it is one.
    pub fn as_score(&self) -> Option<i64> {
        match self {
            AnswerValue::Score(s) => Some(*s),
            _ => None,
        }
    }

    /// As JSON: a number for scores, `"yes"`/`"no"`, or the text.
    pub fn to_json(&self) -> Value {
        match self {
            AnswerValue::Score(s) => Value::from(*s),
            other => Value::String(other.as_text()),
        }
    }
}

/// Answers by question id.
pub type Answers = BTreeMap<String, AnswerValue>;

/// Answers as the JSON object stored and sent with `survey.answered`.
pub fn answers_json(answers: &Answers) -> Value {
    Value::Object(
        answers
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

/// What one submission of the survey form leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum FormStep {
    /// Everything needed is answered: store these.
    Complete(Answers),
    /// Show the form again with these answers, the questions visible now
    /// (new follow-ups included) and errors by question id.
    More {
        /// Valid answers so far.
        answers: Answers,
        /// Question id → error code (`required`, `out_of_range`,
        /// `too_long`, `invalid`).
        errors: BTreeMap<String, &'static str>,
    },
}

fn text_ok(t: &Text) -> bool {
    let ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= 500;
    ok(&t.ru) && ok(&t.en)
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Survey {
    /// The built-in NPS survey: the score, then what to improve (0–6) or
    /// what was liked (9–10).
    pub fn builtin_nps() -> Survey {
        Survey {
            id: "nps".to_owned(),
            kind: SurveyKind::Nps,
            title: Text::new("Оцените нас", "Rate us"),
            questions: vec![
                Question {
                    id: "score".to_owned(),
                    kind: QuestionType::Score,
                    text: Text::new(
                        "Насколько вероятно, что вы порекомендуете нас другу или коллеге?",
                        "How likely are you to recommend us to a friend or colleague?",
                    ),
                    required: None,
                    show_if: None,
                },
                Question {
                    id: "improve".to_owned(),
                    kind: QuestionType::Text,
                    text: Text::new("Что нам стоит улучшить?", "What should we improve?"),
                    required: None,
                    show_if: Some(ShowIf {
                        question: "score".to_owned(),
                        lte: Some(6),
                        gte: None,
                        eq: None,
                    }),
                },
                Question {
                    id: "liked".to_owned(),
                    kind: QuestionType::Text,
                    text: Text::new(
                        "Что вам понравилось больше всего?",
                        "What did you like most?",
                    ),
                    required: None,
                    show_if: Some(ShowIf {
                        question: "score".to_owned(),
                        lte: None,
                        gte: Some(9),
                        eq: None,
                    }),
                },
            ],
        }
    }

    /// The built-in CSAT survey: the score, "was your problem solved?",
    /// and "what went wrong?" when it was not.
    pub fn builtin_csat() -> Survey {
        Survey {
            id: "csat".to_owned(),
            kind: SurveyKind::Csat,
            title: Text::new("Оцените поддержку", "Rate our support"),
            questions: vec![
                Question {
                    id: "score".to_owned(),
                    kind: QuestionType::Score,
                    text: Text::new(
                        "Насколько вы довольны обслуживанием?",
                        "How satisfied are you with our service?",
                    ),
                    required: None,
                    show_if: None,
                },
                Question {
                    id: "solved".to_owned(),
                    kind: QuestionType::YesNo,
                    text: Text::new("Ваш вопрос решён?", "Was your problem solved?"),
                    required: None,
                    show_if: None,
                },
                Question {
                    id: "what_went_wrong".to_owned(),
                    kind: QuestionType::Text,
                    text: Text::new("Что пошло не так?", "What went wrong?"),
                    required: None,
                    show_if: Some(ShowIf {
                        question: "solved".to_owned(),
                        lte: None,
                        gte: None,
                        eq: Some("no".to_owned()),
                    }),
                },
            ],
        }
    }

    /// The id of the score question (the first question, by validation).
    pub fn score_question(&self) -> &str {
        self.questions.first().map_or("score", |q| q.id.as_str())
    }

    /// Checks one survey; `path` is its JSON path.
    pub fn validate(&self, path: &str) -> Result<(), FieldError> {
        let err = |f: String, m: &str| {
            Err(FieldError {
                field: f,
                message: m.to_owned(),
            })
        };
        if !id_ok(&self.id) {
            return err(
                format!("{path}.id"),
                "must be 1-40 characters of [A-Za-z0-9_-]",
            );
        }
        if !text_ok(&self.title) {
            return err(
                format!("{path}.title"),
                "ru and en must be 1-500 characters",
            );
        }
        if self.questions.is_empty() || self.questions.len() > MAX_QUESTIONS {
            return err(format!("{path}.questions"), "must hold 1-10 questions");
        }
        let mut seen: HashSet<&str> = HashSet::new();
        let mut kinds: BTreeMap<&str, QuestionType> = BTreeMap::new();
        for (i, q) in self.questions.iter().enumerate() {
            let qp = format!("{path}.questions[{i}]");
            if !id_ok(&q.id) || !seen.insert(q.id.as_str()) {
                return err(
                    format!("{qp}.id"),
                    "ids must be unique, 1-40 characters of [A-Za-z0-9_-]",
                );
            }
            if !text_ok(&q.text) {
                return err(format!("{qp}.text"), "ru and en must be 1-500 characters");
            }
            if (i == 0) != (q.kind == QuestionType::Score) {
                return err(
                    format!("{qp}.type"),
                    "the first question, and only it, is the score",
                );
            }
            if i == 0 && q.show_if.is_some() {
                return err(format!("{qp}.show_if"), "the score is always shown");
            }
            if let Some(s) = &q.show_if {
                let Some(kind) = kinds.get(s.question.as_str()) else {
                    return err(
                        format!("{qp}.show_if.question"),
                        "must name an earlier question",
                    );
                };
                if (s.lte.is_some() || s.gte.is_some()) && *kind != QuestionType::Score {
                    return err(
                        format!("{qp}.show_if"),
                        "lte and gte apply to the score only",
                    );
                }
                if *kind == QuestionType::YesNo
                    && !matches!(s.eq.as_deref(), Some("yes") | Some("no"))
                {
                    return err(
                        format!("{qp}.show_if.eq"),
                        "a yes/no answer is `yes` or `no`",
                    );
                }
                if s.lte.is_none() && s.gte.is_none() && s.eq.is_none() {
                    return err(format!("{qp}.show_if"), "needs lte, gte or eq");
                }
            }
            kinds.insert(q.id.as_str(), q.kind);
        }
        Ok(())
    }

    /// The questions the answers so far show, in order.
    pub fn visible(&self, answers: &Answers) -> Vec<&Question> {
        self.questions
            .iter()
            .filter(|q| q.show_if.as_ref().is_none_or(|s| s.holds(answers)))
            .collect()
    }

    /// One submission of the form: `fields` are the posted values by
    /// question id, `shown` the questions the page had shown. Questions are
    /// read in order, so a follow-up sees the answers before it; answers
    /// to questions no longer shown are dropped. Complete when nothing
    /// shown has an error and no new follow-up appeared.
    pub fn step(&self, fields: &BTreeMap<String, String>, shown: &[String]) -> FormStep {
        let (lo, hi) = self.kind.range();
        let mut answers = Answers::new();
        let mut errors: BTreeMap<String, &'static str> = BTreeMap::new();
        let mut new_question = false;
        for q in &self.questions {
            if !q.show_if.as_ref().is_none_or(|s| s.holds(&answers)) {
                continue;
            }
            let was_shown = shown.iter().any(|s| s == &q.id);
            let raw = fields.get(&q.id).map(|s| s.trim()).unwrap_or("");
            if raw.is_empty() {
                if !was_shown {
                    new_question = true;
                } else if q.is_required() {
                    errors.insert(q.id.clone(), "required");
                }
                continue;
            }
            let value = match q.kind {
                QuestionType::Score => match raw.parse::<i64>() {
                    Ok(s) if (lo..=hi).contains(&s) => Ok(AnswerValue::Score(s)),
                    Ok(_) => Err("out_of_range"),
                    Err(_) => Err("invalid"),
                },
                QuestionType::YesNo => match raw {
                    "yes" => Ok(AnswerValue::YesNo(true)),
                    "no" => Ok(AnswerValue::YesNo(false)),
                    _ => Err("invalid"),
                },
                QuestionType::Text => {
                    if raw.chars().count() > MAX_TEXT_ANSWER {
                        Err("too_long")
                    } else {
                        Ok(AnswerValue::Text(raw.to_owned()))
                    }
                }
            };
            match value {
                Ok(v) => {
                    answers.insert(q.id.clone(), v);
                    if !was_shown {
                        new_question = true;
                    }
                }
                Err(code) => {
                    errors.insert(q.id.clone(), code);
                }
            }
        }
        if errors.is_empty() && !new_question {
            FormStep::Complete(answers)
        } else {
            FormStep::More { answers, errors }
        }
    }
}

impl SurveySettings {
    /// The survey with this id.
    pub fn survey(&self, id: &str) -> Option<&Survey> {
        self.items.iter().find(|s| s.id == id)
    }

    /// Checks the section.
    pub fn validate(&self) -> Result<(), FieldError> {
        let err = |f: &str, m: &str| {
            Err(FieldError {
                field: format!("surveys.{f}"),
                message: m.to_owned(),
            })
        };
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return err("public_url", "must be an http(s) URL (or empty)");
        }
        if self.public_url.len() > 200 {
            return err("public_url", "at most 200 characters");
        }
        if !(1..=365).contains(&self.invitation_days) {
            return err("invitation_days", "must be between 1 and 365");
        }
        if self.items.len() > 50 {
            return err("items", "at most 50 surveys");
        }
        let mut ids = HashSet::new();
        for (i, s) in self.items.iter().enumerate() {
            s.validate(&format!("surveys.items[{i}]"))?;
            if !ids.insert(s.id.as_str()) {
                return err(&format!("items[{i}].id"), "duplicate survey id");
            }
        }
        Ok(())
    }
}

/// NPS counts: promoters 9–10, passives 7–8, detractors 0–6.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NpsTotals {
    /// Answers.
    pub answers: u64,
    /// Scores 9–10.
    pub promoters: u64,
    /// Scores 7–8.
    pub passives: u64,
    /// Scores 0–6.
    pub detractors: u64,
}

impl NpsTotals {
    /// Counts one score.
    pub fn add(&mut self, score: i64) {
        self.answers += 1;
        match score {
            9.. => self.promoters += 1,
            7..=8 => self.passives += 1,
            _ => self.detractors += 1,
        }
    }

    /// NPS = % promoters − % detractors, −100…100, to 0.1; `None` without
    /// answers.
    pub fn nps(&self) -> Option<f64> {
        (self.answers > 0).then(|| {
            let v = (self.promoters as f64 - self.detractors as f64) * 100.0 / self.answers as f64;
            (v * 10.0).round() / 10.0
        })
    }
}

/// CSAT counts: satisfied means 4–5.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CsatTotals {
    /// Answers.
    pub answers: u64,
    /// Scores 4–5.
    pub satisfied: u64,
    /// Sum of scores (for the mean).
    pub sum: u64,
}

impl CsatTotals {
    /// Counts one score (1–5).
    pub fn add(&mut self, score: i64) {
        self.answers += 1;
        if score >= 4 {
            self.satisfied += 1;
        }
        self.sum += score.clamp(0, 5) as u64;
    }

    /// The share of 4–5 in percent, to 0.1.
    pub fn share(&self) -> Option<f64> {
        (self.answers > 0)
            .then(|| (self.satisfied as f64 * 1000.0 / self.answers as f64).round() / 10.0)
    }

    /// The mean score, to 0.01.
    pub fn mean(&self) -> Option<f64> {
        (self.answers > 0).then(|| (self.sum as f64 * 100.0 / self.answers as f64).round() / 100.0)
    }
}

/// NPS and CSAT of a set of answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyTotals {
    /// NPS answers.
    pub nps: NpsTotals,
    /// CSAT answers.
    pub csat: CsatTotals,
}

impl SurveyTotals {
    /// Counts one answer.
    pub fn add(&mut self, kind: SurveyKind, score: i64) {
        match kind {
            SurveyKind::Nps => self.nps.add(score),
            SurveyKind::Csat => self.csat.add(score),
        }
    }

    /// The JSON the NPS report shows for one row.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "nps": self.nps.nps(),
            "nps_answers": self.nps.answers,
            "promoters": self.nps.promoters,
            "passives": self.nps.passives,
            "detractors": self.nps.detractors,
            "csat": self.csat.share(),
            "csat_mean": self.csat.mean(),
            "csat_answers": self.csat.answers,
            "answers": self.nps.answers + self.csat.answers,
        })
    }
}

/// A condition on one survey answer of a group's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerCondition {
    /// The answer is to this survey id, or to a survey of this kind
    /// (`nps`, `csat`).
    SurveyOrKind(String),
    /// The score is at most this.
    ScoreAtMost(i64),
    /// The score is at least this.
    ScoreAtLeast(i64),
    /// The answer came at or after this time.
    AnsweredSince(DateTime<Utc>),
    /// The answer's acquisition channel is this.
    Channel(String),
}

/// A condition on a group's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactCondition {
    /// Some answer of the contact meets every one of these (answers of
    /// contacts merged into it count as its own).
    Answered(Vec<AnswerCondition>),
    /// The contact has this tag.
    Tagged(String),
    /// The contact is this one.
    Is(i64),
}

/// A dynamic group as a backend-neutral filter: the project's live
/// contacts meeting every condition. [`GroupFilter::matches`] is its
/// meaning; each store compiles it to its own query language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupFilter {
    /// All must hold.
    pub conditions: Vec<ContactCondition>,
}

/// One survey answer as a group filter reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFacts {
    /// The survey's id.
    pub survey_id: String,
    /// The survey's kind.
    pub kind: String,
    /// The score.
    pub score: i64,
    /// When it was answered.
    pub answered_at: DateTime<Utc>,
    /// The acquisition channel, when known.
    pub channel: Option<String>,
}

/// A contact as a group filter reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupCandidate {
    /// The (surviving) contact's id.
    pub id: i64,
    /// Its answers and those of contacts merged into it.
    pub answers: Vec<AnswerFacts>,
    /// Its tags.
    pub tags: Vec<String>,
}

impl AnswerCondition {
    /// Whether an answer meets the condition.
    pub fn matches(&self, answer: &AnswerFacts) -> bool {
        match self {
            AnswerCondition::SurveyOrKind(s) => answer.survey_id == *s || answer.kind == *s,
            AnswerCondition::ScoreAtMost(n) => answer.score <= *n,
            AnswerCondition::ScoreAtLeast(n) => answer.score >= *n,
            AnswerCondition::AnsweredSince(t) => answer.answered_at >= *t,
            AnswerCondition::Channel(c) => answer.channel.as_deref() == Some(c.as_str()),
        }
    }
}

impl ContactCondition {
    /// Whether a contact meets the condition.
    pub fn matches(&self, contact: &GroupCandidate) -> bool {
        match self {
            ContactCondition::Answered(all) => contact
                .answers
                .iter()
                .any(|a| all.iter().all(|c| c.matches(a))),
            ContactCondition::Tagged(tag) => contact.tags.iter().any(|t| t == tag),
            ContactCondition::Is(id) => contact.id == *id,
        }
    }
}

impl GroupFilter {
    /// The filter of a group rule evaluated at `now` (its "within N days"
    /// counts back from then), narrowed to one contact with `only`.
    pub fn from_rule(rule: &GroupRule, now: DateTime<Utc>, only: Option<i64>) -> GroupFilter {
        let mut conditions = Vec::new();
        if rule.has_survey_criteria() {
            let mut answer = Vec::new();
            if let Some(survey) = &rule.survey {
                answer.push(AnswerCondition::SurveyOrKind(survey.clone()));
            }
            if let Some(n) = rule.score_lte {
                answer.push(AnswerCondition::ScoreAtMost(n));
            }
            if let Some(n) = rule.score_gte {
                answer.push(AnswerCondition::ScoreAtLeast(n));
            }
            if let Some(days) = rule.within_days {
                let since = now - Duration::days(i64::from(days));
                // Answer times are kept to the millisecond.
                let since =
                    DateTime::from_timestamp_millis(since.timestamp_millis()).unwrap_or(since);
                answer.push(AnswerCondition::AnsweredSince(since));
            }
            if let Some(channel) = &rule.channel {
                answer.push(AnswerCondition::Channel(channel.clone()));
            }
            conditions.push(ContactCondition::Answered(answer));
        }
        if let Some(tag) = &rule.tag {
            conditions.push(ContactCondition::Tagged(tag.clone()));
        }
        if let Some(id) = only {
            conditions.push(ContactCondition::Is(id));
        }
        GroupFilter { conditions }
    }

    /// Whether a live contact belongs to the group.
    pub fn matches(&self, contact: &GroupCandidate) -> bool {
        self.conditions.iter().all(|c| c.matches(contact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn shown(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn nps_is_promoters_minus_detractors() {
        let mut t = NpsTotals::default();
        assert_eq!(t.nps(), None);
        for s in [10, 9, 9, 8, 7, 6, 0, 3, 10, 10] {
            t.add(s);
        }
        // 5 promoters, 2 passives, 3 detractors of 10 → 20.
        assert_eq!((t.promoters, t.passives, t.detractors), (5, 2, 3));
        assert_eq!(t.nps(), Some(20.0));
        let mut all_bad = NpsTotals::default();
        all_bad.add(6);
        assert_eq!(all_bad.nps(), Some(-100.0));
        let mut third = NpsTotals::default();
        for s in [10, 8, 8] {
            third.add(s);
        }
        assert_eq!(third.nps(), Some(33.3));
    }

    #[test]
    fn csat_is_the_share_of_four_and_five_and_the_mean() {
        let mut t = CsatTotals::default();
        assert_eq!((t.share(), t.mean()), (None, None));
        for s in [5, 4, 3, 1] {
            t.add(s);
        }
        assert_eq!(t.share(), Some(50.0));
        assert_eq!(t.mean(), Some(3.25));
    }

    #[test]
    fn builtin_surveys_are_valid_and_defaults_hold_them() {
        let s = SurveySettings::default();
        s.validate().expect("valid");
        assert_eq!(s.survey("nps").map(|s| s.kind), Some(SurveyKind::Nps));
        assert_eq!(s.survey("csat").map(|s| s.kind), Some(SurveyKind::Csat));
    }

    #[test]
    fn csat_follow_up_appears_only_when_not_solved() {
        let s = Survey::builtin_csat();
        // First page: score and solved shown; "no" reveals a new question.
        let step = s.step(
            &fields(&[("score", "2"), ("solved", "no")]),
            &shown(&["score", "solved"]),
        );
        let FormStep::More { answers, errors } = step else {
            panic!("a follow-up must be asked: {step:?}");
        };
        assert!(errors.is_empty());
        assert_eq!(s.visible(&answers).len(), 3);
        // Second page: the follow-up is optional text.
        let step = s.step(
            &fields(&[
                ("score", "2"),
                ("solved", "no"),
                ("what_went_wrong", "slow"),
            ]),
            &shown(&["score", "solved", "what_went_wrong"]),
        );
        let FormStep::Complete(a) = step else {
            panic!("complete: {step:?}");
        };
        assert_eq!(a["what_went_wrong"], AnswerValue::Text("slow".into()));
        // Solved: done at once, and a stray follow-up field is dropped.
        let step = s.step(
            &fields(&[("score", "5"), ("solved", "yes"), ("what_went_wrong", "x")]),
            &shown(&["score", "solved"]),
        );
        let FormStep::Complete(a) = step else {
            panic!("complete: {step:?}");
        };
        assert_eq!(a.len(), 2);
        assert_eq!(a["solved"], AnswerValue::YesNo(true));
    }

    #[test]
    fn nps_follow_up_depends_on_the_score() {
        let s = Survey::builtin_nps();
        let more = s.step(&fields(&[("score", "3")]), &shown(&["score"]));
        let FormStep::More { answers, .. } = more else {
            panic!("asks what to improve");
        };
        let ids: Vec<&str> = s.visible(&answers).iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, ["score", "improve"]);
        // 7–8: no follow-up.
        assert!(matches!(
            s.step(&fields(&[("score", "8")]), &shown(&["score"])),
            FormStep::Complete(_)
        ));
        // An empty optional follow-up completes on the second page.
        assert!(matches!(
            s.step(&fields(&[("score", "3")]), &shown(&["score", "improve"])),
            FormStep::Complete(_)
        ));
    }

    #[test]
    fn bad_answers_come_back_with_errors() {
        let s = Survey::builtin_csat();
        let cases = [
            (
                vec![("score", "6"), ("solved", "yes")],
                "score",
                "out_of_range",
            ),
            (vec![("score", "x"), ("solved", "yes")], "score", "invalid"),
            (vec![("score", "4")], "solved", "required"),
            (
                vec![("score", "4"), ("solved", "maybe")],
                "solved",
                "invalid",
            ),
        ];
        for (f, q, code) in cases {
            let step = s.step(&fields(&f), &shown(&["score", "solved"]));
            let FormStep::More { errors, .. } = step else {
                panic!("{f:?} must fail");
            };
            assert_eq!(errors.get(q), Some(&code), "{f:?}");
        }
        let long = "я".repeat(MAX_TEXT_ANSWER + 1);
        let step = s.step(
            &fields(&[("score", "1"), ("solved", "no"), ("what_went_wrong", &long)]),
            &shown(&["score", "solved", "what_went_wrong"]),
        );
        assert!(
            matches!(step, FormStep::More { ref errors, .. } if errors.get("what_went_wrong") == Some(&"too_long"))
        );
    }

    #[test]
    fn validation_names_the_path() {
        let mut s = SurveySettings::default();
        s.items[1].questions[2].show_if = Some(ShowIf {
            question: "later".into(),
            lte: None,
            gte: None,
            eq: Some("no".into()),
        });
        let e = s.validate().expect_err("unknown question");
        assert_eq!(e.field, "surveys.items[1].questions[2].show_if.question");
        let mut s = SurveySettings::default();
        s.items[1].questions.swap(0, 1);
        let e = s.validate().expect_err("score first");
        assert_eq!(e.field, "surveys.items[1].questions[0].type");
        let mut s = SurveySettings::default();
        s.items.push(Survey::builtin_nps());
        assert_eq!(s.validate().expect_err("dup").field, "surveys.items[2].id");
    }
}

#[cfg(test)]
mod group_filter_tests {
    use super::*;
    use proptest::prelude::*;

    fn t(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + days * 86_400, 0).unwrap_or_default()
    }

    fn answer(
        survey: &str,
        kind: &str,
        score: i64,
        day: i64,
        channel: Option<&str>,
    ) -> AnswerFacts {
        AnswerFacts {
            survey_id: survey.into(),
            kind: kind.into(),
            score,
            answered_at: t(day),
            channel: channel.map(str::to_owned),
        }
    }

    #[test]
    fn a_rule_becomes_conditions() {
        let rule = GroupRule {
            survey: Some("csat".into()),
            score_lte: Some(4),
            within_days: Some(30),
            tag: Some("vip".into()),
            ..Default::default()
        };
        assert_eq!(
            GroupFilter::from_rule(&rule, t(40), Some(7)),
            GroupFilter {
                conditions: vec![
                    ContactCondition::Answered(vec![
                        AnswerCondition::SurveyOrKind("csat".into()),
                        AnswerCondition::ScoreAtMost(4),
                        AnswerCondition::AnsweredSince(t(10)),
                    ]),
                    ContactCondition::Tagged("vip".into()),
                    ContactCondition::Is(7),
                ]
            }
        );
        assert_eq!(
            GroupFilter::from_rule(&GroupRule::default(), t(0), None),
            GroupFilter::default()
        );
    }

    #[test]
    fn one_answer_must_meet_every_answer_condition() {
        let filter = GroupFilter::from_rule(
            &GroupRule {
                survey: Some("nps".into()),
                score_gte: Some(9),
                channel: Some("organic search".into()),
                ..Default::default()
            },
            t(0),
            None,
        );
        let split = GroupCandidate {
            id: 1,
            // A promoter from ads and a detractor from search: no single
            // answer meets all three.
            answers: vec![
                answer("q1", "nps", 10, 0, Some("ads")),
                answer("q1", "nps", 3, 0, Some("organic search")),
            ],
            tags: vec![],
        };
        assert!(!filter.matches(&split));
        let one = GroupCandidate {
            answers: vec![answer("q1", "nps", 9, 0, Some("organic search"))],
            ..split
        };
        assert!(filter.matches(&one));
    }

    #[test]
    fn survey_matches_id_or_kind_and_time_is_inclusive() {
        let a = answer("after-sale", "csat", 5, 10, None);
        assert!(AnswerCondition::SurveyOrKind("after-sale".into()).matches(&a));
        assert!(AnswerCondition::SurveyOrKind("csat".into()).matches(&a));
        assert!(!AnswerCondition::SurveyOrKind("nps".into()).matches(&a));
        assert!(AnswerCondition::AnsweredSince(t(10)).matches(&a));
        assert!(!AnswerCondition::AnsweredSince(t(11)).matches(&a));
        // No channel known: a channel condition fails.
        assert!(!AnswerCondition::Channel("ads".into()).matches(&a));
    }

    #[test]
    fn tags_and_contact() {
        let c = GroupCandidate {
            id: 3,
            answers: vec![],
            tags: vec!["vip".into()],
        };
        assert!(ContactCondition::Tagged("vip".into()).matches(&c));
        assert!(!ContactCondition::Tagged("churn".into()).matches(&c));
        assert!(ContactCondition::Is(3).matches(&c));
        assert!(!ContactCondition::Is(4).matches(&c));
        // An answer condition without answers fails; an empty filter holds.
        assert!(!ContactCondition::Answered(vec![]).matches(&c));
        assert!(GroupFilter::default().matches(&c));
    }

    prop_compose! {
        fn any_rule()(
            survey in proptest::option::of(prop_oneof![Just("nps".to_owned()), Just("q1".to_owned())]),
            lte in proptest::option::of(0i64..11),
            gte in proptest::option::of(0i64..11),
            within in proptest::option::of(0u32..60),
            tag in proptest::option::of(Just("vip".to_owned())),
            channel in proptest::option::of(Just("ads".to_owned())),
        ) -> GroupRule {
            GroupRule { survey, score_lte: lte, score_gte: gte, within_days: within, tag, channel }
        }
    }

    prop_compose! {
        fn any_candidate()(
            id in 1i64..5,
            answers in proptest::collection::vec(
                (prop_oneof![Just("q1"), Just("q2")], prop_oneof![Just("nps"), Just("csat")], 0i64..11, 0i64..90,
                 proptest::option::of(prop_oneof![Just("ads"), Just("organic search")])),
                0..4),
            vip in any::<bool>(),
        ) -> GroupCandidate {
            GroupCandidate {
                id,
                answers: answers.into_iter().map(|(s, k, score, day, ch)| answer(s, k, score, day, ch)).collect(),
                tags: if vip { vec!["vip".into()] } else { vec![] },
            }
        }
    }

    proptest! {
        #[test]
        fn a_filter_means_what_its_rule_says(rule in any_rule(), c in any_candidate(), only in proptest::option::of(1i64..5)) {
            let now = t(90);
            let filter = GroupFilter::from_rule(&rule, now, only);
            let since = rule.within_days.map(|d| now - Duration::days(i64::from(d)));
            // The rule read directly, criterion by criterion.
            let answered = c.answers.iter().any(|a| {
                rule.survey.as_ref().is_none_or(|s| a.survey_id == *s || a.kind == *s)
                    && rule.score_lte.is_none_or(|n| a.score <= n)
                    && rule.score_gte.is_none_or(|n| a.score >= n)
                    && since.is_none_or(|s| a.answered_at >= s)
                    && rule.channel.as_ref().is_none_or(|ch| a.channel.as_ref() == Some(ch))
            });
            let expected = (!rule.has_survey_criteria() || answered)
                && rule.tag.as_ref().is_none_or(|tag| c.tags.contains(tag))
                && only.is_none_or(|id| id == c.id);
            prop_assert_eq!(filter.matches(&c), expected);
        }

        #[test]
        fn more_conditions_never_add_members(rule in any_rule(), c in any_candidate(), extra in 1i64..5) {
            let filter = GroupFilter::from_rule(&rule, t(90), None);
            let narrowed = GroupFilter::from_rule(&rule, t(90), Some(extra));
            prop_assert!(!narrowed.matches(&c) || filter.matches(&c));
        }
    }
}
