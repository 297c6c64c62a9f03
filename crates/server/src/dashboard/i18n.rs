//! Every label of the dashboard in Russian and English. The language comes
//! from the `lang` query parameter, the language cookie, `Accept-Language`,
//! else Russian.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// `ru` / `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The ISO code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The language's own name (for the switcher).
    pub fn name(self) -> &'static str {
        match self {
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }

    /// The preferred of Russian and English in an `Accept-Language`
    /// header (by q-value; Russian when neither is named).
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(20) {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(lang) = Lang::parse(primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map_or(Lang::Ru, |(_, l)| l)
    }
}

/// (key, Russian, English).
pub const LABELS: &[(&str, &str, &str)] = &[
    // Navigation and frame.
    ("nav_overview", "Обзор", "Overview"),
    ("nav_channels", "Каналы", "Channels"),
    ("nav_dynamics", "Динамика", "Dynamics"),
    ("nav_funnel", "Воронка", "Funnel"),
    ("nav_leads", "Заявки", "Leads"),
    ("nav_settings", "Настройки", "Settings"),
    ("project", "Проект", "Project"),
    ("open", "Открыть", "Open"),
    ("logout", "Выйти", "Log out"),
    ("error", "Ошибка", "Error"),
    ("not_found", "Не найдено", "Not found"),
    ("internal_error", "Внутренняя ошибка; подробности в журнале сервера", "Internal error; details are in the server log"),
    ("no_projects", "проектов пока нет — создайте проект в настройках", "no projects yet — create one in the settings"),
    ("admin_only", "это может делать только администратор", "only an administrator can do this"),
    // Login.
    ("login_title", "Вход", "Log in"),
    ("login_subtitle", "Сквозная аналитика", "End-to-end marketing analytics"),
    ("login", "Логин", "Login"),
    ("password", "Пароль", "Password"),
    ("sign_in", "Войти", "Log in"),
    ("wrong_login", "Неверный логин или пароль", "Wrong login or password"),
    ("foreign_origin", "Форма отправлена с другого сайта", "The form was sent from another site"),
    ("required", "Заполните это поле", "This field is required"),
    ("too_long", "Слишком длинное значение", "The value is too long"),
    // Period form.
    ("from", "С", "From"),
    ("to", "По", "To"),
    ("compare_previous", "Сравнить с прошлым периодом", "Compare with the previous period"),
    ("apply", "Показать", "Apply"),
    ("bad_date", "дата должна быть в виде ГГГГ-ММ-ДД", "a date must be YYYY-MM-DD"),
    ("from_after_to", "начало периода позже конца", "the period starts after it ends"),
    ("period_too_long", "период слишком длинный", "the period is too long"),
    ("unknown_value", "неизвестное значение", "unknown value"),
    // Metrics.
    ("visits", "Визиты", "Visits"),
    ("visitors", "Посетители", "Visitors"),
    ("leads", "Заявки", "Leads"),
    ("deals", "Сделки", "Deals"),
    ("sales", "Продажи", "Sales"),
    ("revenue", "Выручка", "Revenue"),
    ("profit", "Прибыль", "Profit"),
    ("cost", "Расходы", "Cost"),
    ("cpl", "Цена заявки", "Cost per lead"),
    ("cpo", "Цена продажи", "Cost per sale"),
    ("roi", "ROI", "ROI"),
    ("conversion_lead", "Конверсия в заявку", "Lead conversion"),
    ("conversion_sale", "Конверсия в продажу", "Sale conversion"),
    ("avg_check", "Средний чек", "Average check"),
    // Overview.
    ("previous_period", "Прошлый период", "Previous period"),
    ("this_period", "Этот период", "This period"),
    ("visits_by_channel", "Визиты по каналам", "Visits by channel"),
    ("revenue_by_channel", "Выручка по каналам", "Revenue by channel"),
    ("open_channel_report", "Отчёт по каналам", "The channel report"),
    // Channel report.
    ("model", "Модель атрибуции", "Attribution model"),
    ("compare_models", "Сравнить модели", "Compare models"),
    ("date_mode", "Дата", "Date"),
    ("date_conversion", "по дате конверсии", "by conversion date"),
    ("date_session", "по дате визита", "by session date"),
    ("first_click", "Первый клик", "First click"),
    ("last_click", "Последний клик", "Last click"),
    ("last_non_direct", "Последний непрямой", "Last non-direct"),
    ("last_paid", "Последний платный", "Last paid"),
    ("linear", "Линейная", "Linear"),
    ("time_decay", "С учётом давности", "Time decay"),
    ("position_based", "По позиции", "Position based"),
    ("markov", "Марковская", "Markov"),
    ("channel", "Канал", "Channel"),
    ("source", "Источник", "Source"),
    ("campaign", "Кампания", "Campaign"),
    ("ad", "Объявление", "Ad"),
    ("keyword", "Ключевое слово", "Keyword"),
    ("all_channels", "Все каналы", "All channels"),
    ("total", "Итого", "Total"),
    ("no_data", "Нет данных за период", "No data for the period"),
    ("export_csv", "Скачать CSV", "Download CSV"),
    // Dynamics.
    ("metric", "Показатель", "Metric"),
    ("granularity", "Шаг", "Step"),
    ("day", "День", "Day"),
    ("week", "Неделя", "Week"),
    ("month", "Месяц", "Month"),
    ("quarter", "Квартал", "Quarter"),
    ("split", "Разбивка", "Split"),
    ("in_total", "Всего", "In total"),
    ("by_channel", "По каналам", "By channel"),
    ("period", "Период", "Period"),
    // Funnel.
    ("stage", "Этап", "Stage"),
    ("share_of_first", "От первого этапа", "Of the first stage"),
    ("conversion_from_previous", "От предыдущего", "From the previous"),
    // Leads and contacts.
    ("time", "Время", "Time"),
    ("kind", "Тип", "Kind"),
    ("contact", "Клиент", "Contact"),
    ("deal", "Сделка", "Deal"),
    ("no_visit", "без визита", "no visit"),
    ("duplicate", "повторная", "repeated"),
    ("form", "Форма", "Form"),
    ("call", "Звонок", "Call"),
    ("chat", "Чат", "Chat"),
    ("ticket", "Тикет", "Ticket"),
    ("email", "E-mail", "E-mail"),
    ("phone", "Телефон", "Phone"),
    ("status_open", "открыта", "open"),
    ("status_won", "выиграна", "won"),
    ("status_lost", "проиграна", "lost"),
    ("visit", "Визит", "Visit"),
    ("hits", "просмотров", "page views"),
    ("deal_created", "Сделка", "Deal"),
    ("repeat_sale", "повторная продажа", "repeat sale"),
    ("journey", "Путь клиента", "Customer journey"),
    ("ltv", "Ценность (LTV)", "Lifetime value"),
    ("first_touch", "Первое касание", "First touch"),
    // Settings.
    ("projects", "Проекты", "Projects"),
    ("name", "Название", "Name"),
    ("public_key", "Ключ счётчика", "Tracker key"),
    ("created", "Создан", "Created"),
    ("new_project", "Новый проект", "New project"),
    ("timezone", "Часовой пояс", "Time zone"),
    ("currency", "Валюта", "Currency"),
    ("create", "Создать", "Create"),
    ("name_taken", "Проект с таким названием уже есть", "A project with this name exists"),
    ("project_created", "Проект создан:", "Project created:"),
    ("copy", "Копировать", "Copy"),
    ("shown_once", "Ключ показан один раз — сохраните его сейчас.", "The key is shown once — save it now."),
    ("tracker_snippet", "Счётчик для сайта", "The site tracker"),
    ("tracker_hint", "Вставьте этот код на каждую страницу сайта перед </head>.", "Put this code on every page of the site, before </head>."),
    ("api_key", "API-ключ", "API key"),
    ("api_key_hint", "Ключ хранится в виде хеша и виден только при создании. Новый ключ сразу отменяет старый.", "The key is stored hashed and shown only when made. A new key revokes the old one at once."),
    ("rotate_key", "Выпустить новый ключ", "Issue a new key"),
    ("rotate_confirm", "Старый ключ перестанет работать. Продолжить?", "The old key stops working. Continue?"),
    ("key_rotated", "Новый API-ключ выпущен.", "A new API key was issued."),
    ("integrations", "Интеграции: адреса для вебхуков", "Integrations: webhook URLs"),
    ("enabled", "включено", "enabled"),
    ("disabled", "выключено", "disabled"),
    ("hint_amocrm", "amoCRM → Настройки → Интеграции → Web hooks: добавление, изменение и смена статуса сделки", "amoCRM → Settings → Integrations → Web hooks: deal added, changed, status changed"),
    ("hint_bitrix24", "Битрикс24 → Исходящий вебхук: ONCRMDEALADD, ONCRMDEALUPDATE", "Bitrix24 → Outbound webhook: ONCRMDEALADD, ONCRMDEALUPDATE"),
    ("hint_alytics", "Alytics → Интеграция с CRM (универсальный формат), Basic-авторизация", "Alytics → CRM integration (universal format), Basic auth"),
    ("channel_rules", "Правила каналов", "Channel rules"),
    ("channel_rules_hint", "Первое подходящее правило задаёт канал визита. Меняются в документе настроек ниже.", "The first matching rule names a visit's channel. Edit them in the settings document below."),
    ("conditions", "Условия", "Conditions"),
    ("fallback", "если ни одно правило не подошло", "when no rule matches"),
    ("settings_document", "Документ настроек", "Settings document"),
    ("settings_document_hint", "Все настройки проекта одним JSON-документом; проверяется целиком при сохранении. Секреты скрыты — оставьте маску, чтобы не менять их.", "The project's whole configuration as one JSON document, validated as a whole on save. Secrets are masked — keep the mask to leave them unchanged."),
    ("save", "Сохранить", "Save"),
    ("settings_saved", "Настройки сохранены.", "Settings saved."),
    ("bad_json", "Это не JSON", "This is not JSON"),
    ("nav_surveys", "Опросы", "Surveys"),
    ("survey_answers", "ответов", "answers"),
    ("csat_mean", "Средняя оценка CSAT", "CSAT mean"),
    ("promoters", "Промоутеры", "Promoters"),
    ("detractors", "Критики", "Detractors"),
    ("promoters_share", "Промоутеры, %", "Promoters, %"),
    ("detractors_share", "Критики, %", "Detractors, %"),
    ("csat_share", "CSAT (4–5), %", "CSAT (4–5), %"),
    ("survey_over_time", "По периодам", "Over time"),
];

/// The label `key` in `lang`; the key itself when there is none (a test
/// checks that every key the pages use exists).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match LABELS.iter().find(|(k, _, _)| *k == key) {
        Some((_, ru, en)) => match lang {
            Lang::Ru => ru,
            Lang::En => en,
        },
        None => "?",
    }
}

/// The label `key` when it is one, else `text` as it is (a service's own
/// message).
pub fn t_or(lang: Lang, text: &str) -> String {
    if LABELS.iter().any(|(k, _, _)| *k == text) {
        t(lang, text).to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        let mut seen = HashSet::new();
        for (k, ru, en) in LABELS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!ru.is_empty() && !en.is_empty(), "empty label {k}");
        }
    }

    /// Every `t("…")` in the page sources names a label, so no page shows
    /// a raw key or `?`.
    #[test]
    fn every_key_the_pages_use_exists() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("layout.rs"),
            include_str!("login.rs"),
            include_str!("overview.rs"),
            include_str!("channels.rs"),
            include_str!("dynamics.rs"),
            include_str!("funnel.rs"),
            include_str!("leads.rs"),
            include_str!("contacts.rs"),
            include_str!("settings.rs"),
            include_str!("surveys.rs"),
        ];
        let mut missing = Vec::new();
        for src in sources {
            // Calls of `t("…")` or `.t("…")`, not `get("…")`.
            let starts = src.match_indices("t(\"").filter(|(i, _)| {
                *i == 0
                    || !src.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && src.as_bytes()[i - 1] != b'_'
            });
            for (i, _) in starts {
                let part = &src[i + 3..];
                let key: String = part.chars().take_while(|c| *c != '"').collect();
                if key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                    && !LABELS.iter().any(|(k, _, _)| *k == key)
                {
                    missing.push(key);
                }
            }
        }
        assert!(missing.is_empty(), "labels missing: {missing:?}");
        // Keys chosen at run time.
        let dynamic = crate::dashboard::layout::NAV
            .iter()
            .map(|(_, k)| *k)
            .chain(crate::dashboard::overview::KPIS.iter().copied())
            .chain(crate::dashboard::dynamics::METRICS.iter().copied())
            .chain(crate::dashboard::dynamics::GRANULARITIES.iter().copied())
            .chain(crate::dashboard::channels::LEVELS.iter().copied())
            .chain(
                skvoz_domain::attribution::ModelKind::ALL
                    .iter()
                    .map(|m| m.as_str()),
            )
            .chain([
                "form",
                "call",
                "chat",
                "ticket",
                "email",
                "status_open",
                "status_won",
                "status_lost",
                "visit",
                "deal",
                "stage",
            ]);
        for k in dynamic {
            assert!(
                LABELS.iter().any(|(key, _, _)| *key == k),
                "label missing: {k}"
            );
        }
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Lang::Ru
        );
        assert_eq!(
            Lang::from_accept_language("de-DE,en;q=0.5,ru;q=0.7"),
            Lang::Ru
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::Ru);
        assert_eq!(Lang::from_accept_language(""), Lang::Ru);
    }
}
