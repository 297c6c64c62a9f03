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
    ("nav_calls", "Звонки", "Calls"),
    ("nav_chats", "Чаты", "Chats"),
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
    ("markov_path", "Марковская по пути", "Markov per path"),
    ("shapley", "Шепли", "Shapley"),
    // One line per model under the model switcher (`model_help_` + name).
    ("model_help_first_click", "Вся ценность — первому визиту пути.", "All credit to the journey's first visit."),
    ("model_help_last_click", "Вся ценность — последнему визиту перед конверсией.", "All credit to the last visit before the conversion."),
    ("model_help_last_non_direct", "Вся ценность — последнему непрямому визиту (если таких нет — последнему).", "All credit to the last visit that was not direct (else the last one)."),
    ("model_help_last_paid", "Вся ценность — последнему платному визиту (если нет — последнему непрямому).", "All credit to the last paid visit (else the last non-direct one)."),
    ("model_help_linear", "Поровну всем визитам пути.", "Equal credit to every visit of the journey."),
    ("model_help_time_decay", "Больше ценности визитам ближе к конверсии (период полураспада — в настройках).", "More credit to visits closer to the conversion (half-life in the settings)."),
    ("model_help_position_based", "Первому и последнему визиту по 40 % (по умолчанию), остальное — поровну средним.", "40 % each to the first and last visit (by default), the rest shared by those between."),
    ("model_help_markov", "Все конверсии периода делятся по эффекту удаления канала в цепи Маркова (как в ChannelAttribution).", "The period's conversions split by each channel's removal effect in a Markov chain (as ChannelAttribution does)."),
    ("model_help_markov_path", "Каждая конверсия делится между каналами своего пути по их эффекту удаления (вариант skvoz).", "Each conversion split among its own journey's channels by their removal effects (a skvoz variant)."),
    ("model_help_shapley", "Конверсии каждого набора каналов делятся по вектору Шепли конверсии наборов (Dalessandro и др.).", "Each set of channels' conversions split by Shapley values of the sets' conversion rates (Dalessandro et al.)."),
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
    // Calls.
    ("calls", "Звонки", "Calls"),
    ("target_calls", "Целевые", "Target"),
    ("unique_calls", "Уникальные", "Unique"),
    ("missed_calls", "Пропущенные", "Missed"),
    ("shared_visit_rate", "Визиты с общим номером", "Visits sharing a number"),
    ("truncated", "Показаны не все записи, только первые", "Not everything is shown, only the first"),
    ("calls_per_day", "Звонки по дням", "Calls per day"),
    ("answered", "отвечен", "answered"),
    ("missed", "пропущен", "missed"),
    ("target", "целевой", "target"),
    ("unique", "уникальный", "unique"),
    ("caller", "Кто звонил", "Caller"),
    ("hidden_number", "скрытый номер", "hidden number"),
    ("tracking_number", "Номер", "Tracking number"),
    ("duration", "Длительность", "Duration"),
    ("status", "Статус", "Status"),
    ("flags", "Признаки", "Flags"),
    ("recording", "Запись", "Recording"),
    ("attribution_dynamic", "динамический номер", "dynamic number"),
    ("attribution_static", "статический номер", "static number"),
    ("attribution_unidentified", "источник не определён", "source unidentified"),
    ("attribution_repeat", "повторный звонок", "repeat caller"),
    ("number_pools", "Пулы номеров", "Number pools"),
    ("no_pools", "Пулов номеров нет: добавьте их в разделе calltracking документа настроек", "No number pools: add them under calltracking in the settings document"),
    ("pool", "Пул", "Pool"),
    ("numbers", "Номера", "Numbers"),
    ("busy_now", "Заняты сейчас", "Busy now"),
    ("visits_7d", "Визитов за 7 дней", "Visits, 7 days"),
    ("shared_rate", "Доля общих", "Shared rate"),
    ("sizing_advice", "Сколько номеров нужно", "Sizing advice"),
    ("pool_dynamic", "динамический", "dynamic"),
    ("pool_static", "статический", "static"),
    ("static_source", "источник:", "source:"),
    ("recommended", "нужно", "recommended"),
    ("current", "сейчас", "now"),
    ("sizing_add", "добавьте номеров:", "add numbers:"),
    ("sizing_spare", "лишних номеров:", "spare numbers:"),
    ("sizing_ok", "номеров достаточно", "the pool fits"),
    ("peak_concurrent", "пик одновременных визитов", "peak concurrent visits"),
    ("predicted_shared", "доля общих при текущем размере", "shared at the current size"),
    ("visits_served", "визитов", "visits"),
    ("sizing_hint", "Расчёт по визитам последних 7 дней: сколько номеров нужно, чтобы не больше 1 % визитов делили номер с другим визитом.", "From the visits of the last 7 days: how many numbers keep visits sharing a number at 1 % or less."),
    // Chats.
    ("dialogs", "Диалоги", "Dialogs"),
    ("dialog_new", "Новые", "New"),
    ("dialog_repeat", "Повторные", "Repeat"),
    ("leads_from_chats", "Заявки из чатов", "Leads from chats"),
    ("attributed_share", "С известным визитом", "With a known visit"),
    ("dialogs_over_time", "Диалоги по времени", "Dialogs over time"),
    ("by_messenger", "По мессенджерам", "By messenger"),
    ("top_pages", "Страницы, с которых пишут", "Pages chats start from"),
    ("first_response_note", "Время первого ответа не считается: мессенджеры присылают skvoz только входящие сообщения клиентов, ответы операторов остаются в их системе.", "First-response time is not measured: the messengers send skvoz only the customers' incoming messages; operators' replies stay in their system."),
    ("messenger", "Мессенджер", "Messenger"),
    ("page", "Страница", "Page"),
    ("lead", "Заявка", "Lead"),
    ("yes", "да", "yes"),
    ("messages", "Сообщения", "Messages"),
    ("messages_lower", "сообщ.", "messages"),
    // Contact timeline.
    ("tickets", "Тикеты", "Tickets"),
    ("rating", "оценка", "rating"),
    ("ticket_resolved", "Тикет решён", "Ticket resolved"),
    ("ticket_closed", "Тикет закрыт", "Ticket closed"),
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
    ("hint_zadarma", "Zadarma → Настройки → Интеграции и API → Уведомления АТС: этот адрес; подпись проверяется по секрету API", "Zadarma → Settings → Integrations and API → PBX notifications: this URL; signed with the API secret"),
    ("hint_calltouch", "Calltouch → Интеграции → Вебхуки: этот адрес с секретом, GET или POST", "Calltouch → Integrations → Webhooks: this URL with its secret, GET or POST"),
    ("hint_whatsapp", "Meta → WhatsApp → Configuration → Webhook: этот адрес и verify token из настроек; подпись X-Hub-Signature-256", "Meta → WhatsApp → Configuration → Webhook: this URL and the verify token from the settings; signed X-Hub-Signature-256"),
    ("hint_telegram", "Telegram setWebhook: этот адрес и secret_token бота из настроек", "Telegram setWebhook: this URL and the bot's secret_token from the settings"),
    ("hint_helpdeskeddy", "HelpDeskEddy → Автоматизация → Триггеры → Вебхук: этот адрес с секретом", "HelpDeskEddy → Automation → Triggers → Webhook: this URL with its secret"),
    ("edit_in_document", "Меняются в документе настроек ниже; он проверяется целиком при сохранении.", "Edit them in the settings document below; it is validated as a whole on save."),
    ("serves", "Какие визиты / источник", "Which visits / source"),
    ("hold_minutes", "Удержание, мин", "Hold, min"),
    ("paid_traffic", "весь платный трафик", "all paid traffic"),
    ("messenger_numbers", "Номера мессенджеров и боты", "Messenger numbers and bots"),
    ("account", "Номер или бот", "Number or bot"),
    ("details", "Подробности", "Details"),
    ("no_secret_token", "без secret_token", "no secret_token"),
    ("secret_token_set", "secret_token задан", "secret_token set"),
    ("no_messengers", "Номеров WhatsApp и ботов Telegram нет: добавьте их в разделе messengers документа настроек", "No WhatsApp numbers or Telegram bots: add them under messengers in the settings document"),
    ("channel_rules", "Правила каналов", "Channel rules"),
    ("channel_rules_hint", "Первое подходящее правило задаёт канал визита. Меняются в документе настроек ниже.", "The first matching rule names a visit's channel. Edit them in the settings document below."),
    ("conditions", "Условия", "Conditions"),
    ("fallback", "если ни одно правило не подошло", "when no rule matches"),
    ("settings_document", "Документ настроек", "Settings document"),
    ("settings_document_hint", "Все настройки проекта одним JSON-документом; проверяется целиком при сохранении. Секреты скрыты — оставьте маску, чтобы не менять их.", "The project's whole configuration as one JSON document, validated as a whole on save. Secrets are masked — keep the mask to leave them unchanged."),
    ("save", "Сохранить", "Save"),
    ("settings_saved", "Настройки сохранены.", "Settings saved."),
    ("bad_json", "Это не JSON", "This is not JSON"),
    // The outbox page.
    ("nav_outbox", "Отправка", "Outbox"),
    ("outbox_pending", "В очереди", "Pending"),
    ("outbox_delivered", "Доставлено", "Delivered"),
    ("outbox_skipped", "Пропущено", "Skipped"),
    ("outbox_dead", "Не доставлено", "Dead"),
    ("outbox_destination", "Получатель", "Destination"),
    ("outbox_status", "Статус", "Status"),
    ("outbox_attempts", "Попыток", "Attempts"),
    ("outbox_note", "Ошибка или причина", "Error or reason"),
    ("outbox_retry", "Повторить", "Retry"),
    ("outbox_retry_all", "Повторить все", "Retry all"),
    ("outbox_dead_letters", "Недоставленные сообщения", "Dead letters"),
    ("outbox_dead_hint", "Получатель отказал или не отвечал после всех попыток. Исправьте причину и отправьте снова.", "The receiver refused them or stayed down through every attempt. Fix the cause and send them again."),
    ("outbox_recent", "Последние сообщения", "Latest messages"),
    ("outbox_empty", "Сообщений нет", "No messages"),
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
            include_str!("calls.rs"),
            include_str!("chats.rs"),
            include_str!("outbox.rs"),
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
                "dialog_new",
                "dialog_repeat",
                "ticket_resolved",
                "ticket_closed",
            ]);
        // The calls page names how a call found its visit.
        for a in ["dynamic", "static", "unidentified", "repeat"] {
            let parsed = skvoz_domain::calltracking::CallAttribution::parse(a);
            assert_eq!(parsed.map(|p| p.as_str()), Some(a));
            let key = format!("attribution_{a}");
            assert!(
                LABELS.iter().any(|(k, _, _)| *k == key),
                "label missing: {key}"
            );
        }
        // The model switcher's names and help lines.
        for m in skvoz_domain::attribution::ModelKind::ALL {
            for key in [m.as_str().to_owned(), format!("model_help_{}", m.as_str())] {
                assert!(
                    LABELS.iter().any(|(k, _, _)| *k == key),
                    "label missing: {key}"
                );
            }
        }
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
