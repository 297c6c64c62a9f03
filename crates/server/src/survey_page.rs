//! The hosted survey page `/s/{token}` as HTML: one self-contained,
//! mobile-first page (no scripts, no external assets) in Russian or
//! English.
//!
//! The form works without JavaScript in steps: the page shows the visible
//! questions in order up to the first required one still unanswered; the
//! score and yes/no answers are big submit buttons (one tap answers and
//! moves on), so a follow-up that depends on an answer appears on the next
//! step. The questions a page showed travel in `_shown`, which tells
//! `Survey::step` what is a new follow-up and what was skipped.

use crate::dashboard::format::esc;
use crate::dashboard::i18n::Lang;
use skvoz_domain::surveys::{AnswerValue, Answers, QuestionType, Survey};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The hidden field listing the questions a page showed.
pub const SHOWN_FIELD: &str = "_shown";

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f4f6f8;color:#1d2733}\
main{max-width:560px;margin:0 auto;padding:20px 16px 40px}h1{font-size:22px;margin:8px 0 20px}\
fieldset{border:0;margin:0 0 22px;padding:16px;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}\
legend{float:left;width:100%;font-weight:600;margin-bottom:12px;padding:0}\
.scale{clear:both;display:grid;gap:6px}.scale-11{grid-template-columns:repeat(6,1fr)}.scale-5{grid-template-columns:repeat(5,1fr)}.scale-2{grid-template-columns:repeat(2,1fr)}\
@media(min-width:520px){.scale-11{grid-template-columns:repeat(11,1fr)}}\
.choice{min-height:48px;border:1px solid #c5ced8;border-radius:10px;background:#fff;font-size:18px;font-weight:600;color:#1d2733;cursor:pointer}\
.choice:hover,.choice:focus{border-color:#2563eb;outline:none}.choice.selected{background:#2563eb;border-color:#2563eb;color:#fff}\
.ends{clear:both;display:flex;justify-content:space-between;font-size:13px;color:#5b6776;margin-top:6px}\
textarea{clear:both;display:block;width:100%;min-height:110px;padding:10px;border:1px solid #c5ced8;border-radius:10px;font:inherit}\
.error{color:#b42318;font-size:14px;margin:8px 0 0;clear:both}fieldset.invalid{box-shadow:0 0 0 2px #f04438}\
.send{width:100%;min-height:50px;border:0;border-radius:10px;background:#2563eb;color:#fff;font-size:18px;font-weight:600;cursor:pointer}\
.note{text-align:center;margin-top:40px}.note p{color:#5b6776}";

fn t(lang: Lang, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ru => ru,
        Lang::En => en,
    }
}

fn frame(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        lang.code(),
        esc(title)
    )
}

fn error_text(lang: Lang, code: &str) -> &'static str {
    match code {
        "required" => t(lang, "Выберите ответ", "Please choose an answer"),
        "out_of_range" => t(
            lang,
            "Такой оценки нет на шкале",
            "That score is not on the scale",
        ),
        "too_long" => t(
            lang,
            "Слишком длинный ответ (до 2000 символов)",
            "Too long (2,000 characters at most)",
        ),
        _ => t(lang, "Непонятный ответ", "We could not read that answer"),
    }
}

/// The form: the questions visible for `answers`, up to the first required
/// one still unanswered, with `errors` in place.
pub fn form(
    lang: Lang,
    survey: &Survey,
    action: &str,
    answers: &Answers,
    errors: &BTreeMap<String, &'static str>,
) -> String {
    let english = lang == Lang::En;
    let (lo, hi) = survey.kind.range();
    let mut body = format!("<h1>{}</h1>", esc(survey.title.get(english)));
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{}\" id=\"survey-form\" novalidate>",
        esc(action)
    );
    let mut shown: Vec<&str> = Vec::new();
    let mut stopped = false;
    for q in survey.visible(answers) {
        shown.push(&q.id);
        let id = esc(&q.id);
        let error = errors.get(&q.id);
        let _ = write!(
            body,
            "<fieldset id=\"q-{id}\" class=\"q q-{}{}\"><legend>{}</legend>",
            match q.kind {
                QuestionType::Score => "score",
                QuestionType::YesNo => "yes-no",
                QuestionType::Text => "text",
            },
            if error.is_some() { " invalid" } else { "" },
            esc(q.text.get(english))
        );
        let current = answers.get(&q.id);
        match q.kind {
            QuestionType::Score | QuestionType::YesNo => {
                // The current answer travels too; a tapped button comes
                // later in the form data and wins.
                if let Some(v) = current {
                    let _ = write!(
                        body,
                        "<input type=\"hidden\" name=\"{id}\" value=\"{}\">",
                        esc(&v.as_text())
                    );
                }
                let options: Vec<(String, String)> = if q.kind == QuestionType::Score {
                    (lo..=hi).map(|n| (n.to_string(), n.to_string())).collect()
                } else {
                    vec![
                        ("yes".into(), t(lang, "Да", "Yes").into()),
                        ("no".into(), t(lang, "Нет", "No").into()),
                    ]
                };
                let _ = write!(body, "<div class=\"scale scale-{}\">", options.len());
                for (value, label) in &options {
                    let selected = current.is_some_and(|c| &c.as_text() == value);
                    let _ = write!(
                        body,
                        "<button type=\"submit\" class=\"choice{}\" name=\"{id}\" value=\"{}\" aria-pressed=\"{selected}\">{}</button>",
                        if selected { " selected" } else { "" },
                        esc(value),
                        esc(label)
                    );
                }
                body.push_str("</div>");
                if q.kind == QuestionType::Score {
                    let (low, high) = if hi == 10 {
                        (
                            t(lang, "Точно нет", "Not at all likely"),
                            t(lang, "Обязательно", "Extremely likely"),
                        )
                    } else {
                        (
                            t(lang, "Очень плохо", "Very unsatisfied"),
                            t(lang, "Отлично", "Very satisfied"),
                        )
                    };
                    let _ = write!(
                        body,
                        "<div class=\"ends\"><span>{}</span><span>{}</span></div>",
                        esc(low),
                        esc(high)
                    );
                }
            }
            QuestionType::Text => {
                let text = match current {
                    Some(AnswerValue::Text(s)) => s.as_str(),
                    _ => "",
                };
                let _ = write!(
                    body,
                    "<textarea name=\"{id}\" maxlength=\"2000\" aria-label=\"{}\">{}</textarea>",
                    esc(q.text.get(english)),
                    esc(text)
                );
            }
        }
        if let Some(code) = error {
            let _ = write!(
                body,
                "<p class=\"error\" role=\"alert\">{}</p>",
                esc(error_text(lang, code))
            );
        }
        body.push_str("</fieldset>");
        if q.is_required() && current.is_none() {
            stopped = true;
            break;
        }
    }
    let _ = write!(
        body,
        "<input type=\"hidden\" name=\"{SHOWN_FIELD}\" value=\"{}\">",
        esc(&shown.join(","))
    );
    if !stopped {
        let _ = write!(
            body,
            "<button type=\"submit\" class=\"send\" id=\"send\" name=\"_send\" value=\"1\">{}</button>",
            esc(t(lang, "Отправить", "Send"))
        );
    }
    body.push_str("</form>");
    frame(lang, survey.title.get(english), &body)
}

/// The thanks page.
pub fn thanks(lang: Lang) -> String {
    frame(
        lang,
        t(lang, "Спасибо!", "Thank you!"),
        &format!(
            "<div class=\"note\" id=\"thanks\"><h1>{}</h1><p>{}</p></div>",
            esc(t(lang, "Спасибо за ответ!", "Thank you for your answer!")),
            esc(t(
                lang,
                "Мы прочитаем его и станем лучше.",
                "We will read it and get better."
            ))
        ),
    )
}

/// Why a link shows no survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// No such link.
    Unknown,
    /// Answered already.
    Used,
    /// Expired.
    Expired,
    /// The form came from another site.
    ForeignOrigin,
}

/// A page explaining why there is no survey to answer.
pub fn notice(lang: Lang, n: Notice) -> String {
    let (title, text) = match n {
        Notice::Unknown => (
            t(lang, "Опрос не найден", "Survey not found"),
            t(
                lang,
                "Проверьте ссылку из письма.",
                "Please check the link in your message.",
            ),
        ),
        Notice::Used => (
            t(lang, "Вы уже ответили", "You have already answered"),
            t(
                lang,
                "Спасибо! Ответ по этой ссылке уже получен.",
                "Thank you! We already have your answer from this link.",
            ),
        ),
        Notice::Expired => (
            t(lang, "Срок ссылки истёк", "This link has expired"),
            t(
                lang,
                "Опрос по этой ссылке закрыт.",
                "The survey behind this link is closed.",
            ),
        ),
        Notice::ForeignOrigin => (
            t(
                lang,
                "Форма отправлена с другого сайта",
                "The form was sent from another site",
            ),
            t(
                lang,
                "Откройте ссылку из письма и ответьте ещё раз.",
                "Open the link from your message and answer again.",
            ),
        ),
    };
    frame(
        lang,
        title,
        &format!(
            "<div class=\"note\" id=\"notice\"><h1>{}</h1><p>{}</p></div>",
            esc(title),
            esc(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_step_shows_only_the_score_as_buttons() {
        let s = Survey::builtin_csat();
        let html = form(Lang::Ru, &s, "/s/t", &Answers::new(), &BTreeMap::new());
        assert_eq!(html.matches("class=\"choice").count(), 5);
        assert!(!html.contains("q-solved"));
        assert!(!html.contains("id=\"send\""));
        assert!(html.contains("name=\"_shown\" value=\"score\""));
        assert!(html.contains("width=device-width"));
    }

    #[test]
    fn later_steps_keep_answers_and_show_errors_in_place() {
        let s = Survey::builtin_csat();
        let mut answers = Answers::new();
        answers.insert("score".into(), AnswerValue::Score(2));
        answers.insert("solved".into(), AnswerValue::YesNo(false));
        let mut errors = BTreeMap::new();
        errors.insert("what_went_wrong".to_owned(), "too_long");
        let html = form(Lang::En, &s, "/s/t?lang=en", &answers, &errors);
        assert!(html.contains("<input type=\"hidden\" name=\"score\" value=\"2\">"));
        assert!(html.contains("class=\"choice selected\" name=\"solved\" value=\"no\""));
        assert!(html.contains("What went wrong?"));
        assert!(html.contains("Too long"));
        assert!(html.contains("id=\"send\""));
        assert!(html.contains("name=\"_shown\" value=\"score,solved,what_went_wrong\""));
    }

    #[test]
    fn text_is_escaped() {
        let mut s = Survey::builtin_nps();
        s.title.ru = "<script>x</script>".into();
        let html = form(Lang::Ru, &s, "/s/t", &Answers::new(), &BTreeMap::new());
        assert!(!html.contains("<script>x"));
    }
}
