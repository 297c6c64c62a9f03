//! Demo chats: WhatsApp and Telegram dialogs started from the demo's visits
//! through the real chat path ([`crate::chats::ChatService::ingest`]).
//!
//! About one visit in eighty opens a chat. WhatsApp senders mostly send the
//! prefilled text unchanged (greeting and `ID: <code>` marker, so the
//! dialog is attributed); some delete the code (counted, unattributed,
//! `code_edited_away`), some type their own text. Telegram senders arrive
//! by `/start v<code>`. Some write again days later (a repeat dialog, not
//! a new lead) or after the repeat window (a new dialog again).
//! Reproducible: every choice comes from a stream seeded by the demo's seed
//! and the visit id.

use super::audience::{FEMALE_NAMES, MALE_NAMES};
use super::random::stream;
use super::{DemoOptions, DemoStats};
use crate::crm::Strictness;
use crate::{App, AppError};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use skvoz_domain::crm::DealUpdate;
use skvoz_domain::messengers::{
    InboundMessage, Messenger, MessengerSettings, PageGreeting, TelegramBot, TelegramSettings,
    WhatsAppNumber, WhatsAppSettings,
};
use skvoz_domain::{Money, ProjectId};
use skvoz_store::{Scope, Visit};

/// Separates these streams from the visitors'.
const SALT: u64 = 0xC4A7_5000;

/// The demo shop's WhatsApp number.
pub const DEMO_WHATSAPP: &str = "+74950001122";

/// The demo shop's Telegram bot.
pub const DEMO_BOT: &str = "primer_market_bot";

/// Share of visits that open a chat.
const CHAT_SHARE: f64 = 0.0125;

const FOLLOW_UPS: &[&str] = &[
    "А доставка в Подмосковье есть?",
    "Есть в наличии?",
    "Можно оплатить картой при получении?",
    "Сколько идёт доставка?",
    "Спасибо!",
    "Пришлите, пожалуйста, фото",
    "А скидка будет?",
];

const OWN_TEXTS: &[&str] = &[
    "Добрый день! Подскажите по заказу",
    "Здравствуйте, у вас есть пункт выдачи?",
    "Хочу вернуть товар",
];

const TAGS: &[&str] = &["цена", "наличие", "доставка", "возврат"];

/// The demo project's messenger settings.
pub fn demo_messengers() -> MessengerSettings {
    MessengerSettings {
        whatsapp: WhatsAppSettings {
            numbers: vec![WhatsAppNumber {
                number: DEMO_WHATSAPP.to_owned(),
                greeting: "Здравствуйте! У меня вопрос по товару".to_owned(),
                pages: vec![
                    PageGreeting {
                        pattern: "/catalog/*".to_owned(),
                        greeting: "Здравствуйте! Подскажите, есть ли в наличии?".to_owned(),
                    },
                    PageGreeting {
                        pattern: "/cart*".to_owned(),
                        greeting: "Здравствуйте! Помогите оформить заказ".to_owned(),
                    },
                ],
            }],
            app_secret: "demo-app-secret-not-a-real-one".to_owned(),
            verify_token: "demo-verify-token".to_owned(),
            ..WhatsAppSettings::default()
        },
        telegram: TelegramSettings {
            bots: vec![TelegramBot {
                username: DEMO_BOT.to_owned(),
                secret_token: "demo-telegram-secret-token".to_owned(),
                payload_prefix: "v".to_owned(),
            }],
        },
        ..MessengerSettings::default()
    }
}

/// One sender.
struct Sender {
    messenger: Messenger,
    external_chat: String,
    phone: Option<String>,
    name: String,
    username: Option<String>,
}

fn sender(rng: &mut StdRng, seed: u64, n: u64) -> Sender {
    let female = rng.gen_bool(0.6);
    let names = if female { FEMALE_NAMES } else { MALE_NAMES };
    let (name, latin) = names[rng.gen_range(0..names.len())];
    if rng.gen_bool(0.65) {
        // Unique per sender (the multiplier is coprime to 10^7), on an
        // operator code the form leads never use.
        let local = (n % 10_000_000 * 7_919_821 + seed % 10_000_000) % 10_000_000;
        let digits = format!("7958{local:07}");
        Sender {
            messenger: Messenger::Whatsapp,
            phone: Some(format!("+{digits}")),
            external_chat: digits,
            name: name.to_owned(),
            username: None,
        }
    } else {
        Sender {
            messenger: Messenger::Telegram,
            external_chat: (5_000_000_000u64 + n * 7_919 + seed % 997).to_string(),
            phone: None,
            name: name.to_owned(),
            username: rng.gen_bool(0.7).then(|| format!("{latin}_{n}")),
        }
    }
}

/// Counts what the chats made.
struct Counter<'a> {
    app: &'a App,
    ctx: &'a crate::context::ProjectContext,
    stats: &'a mut DemoStats,
    seed: u64,
    end: DateTime<Utc>,
    next_deal: u64,
}

impl Counter<'_> {
    async fn send(
        &mut self,
        who: &Sender,
        id: String,
        at: DateTime<Utc>,
        text: Option<String>,
        kind: &str,
        tags: Vec<String>,
    ) -> Result<(), AppError> {
        let end = self.end;
        let start_payload = text
            .as_deref()
            .and_then(skvoz_connectors::messengers::telegram::start_payload)
            .map(str::to_owned);
        let out = self
            .app
            .chats
            .ingest(
                self.ctx,
                InboundMessage {
                    messenger: who.messenger.clone(),
                    external_chat: who.external_chat.clone(),
                    message_id: id,
                    phone: who.phone.clone(),
                    name: Some(who.name.clone()),
                    username: who.username.clone(),
                    text,
                    kind: kind.to_owned(),
                    start_payload,
                    sent_at: at,
                    to: Some(match who.messenger {
                        Messenger::Telegram => DEMO_BOT.to_owned(),
                        _ => DEMO_WHATSAPP.trim_start_matches('+').to_owned(),
                    }),
                },
                tags,
            )
            .await?;
        if out.dialog_started {
            self.stats.dialogs += 1;
            if out.lead_id.is_some() {
                self.stats.leads += 1;
                if !out.lead_duplicate && out.deal_id.is_some() {
                    self.stats.deals += 1;
                    self.sync_deal(who, at, out.visit_id, end).await?;
                }
            }
        }
        Ok(())
    }

    /// The CRM takes the deal a chat lead opened (by the contact's phone
    /// or visit) and moves it on, as the form leads' deals are.
    async fn sync_deal(
        &mut self,
        who: &Sender,
        at: DateTime<Utc>,
        visit_id: Option<i64>,
        end: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut rng = stream(self.seed, self.stats.deals, SALT + 2);
        let visit_code = match visit_id {
            Some(id) => self
                .app
                .store
                .visit(self.ctx.scope, id)
                .await?
                .map(|v| v.code),
            None => None,
        };
        if who.phone.is_none() && visit_code.is_none() {
            return Ok(());
        }
        let stage = match rng.gen_range(0..100) {
            0..=34 => "won",
            35..=64 => "lost",
            65..=79 => "qualified",
            _ => "new",
        };
        let closed = matches!(stage, "won" | "lost");
        let changed = (at + Duration::hours(rng.gen_range(1..96))).min(end - Duration::minutes(1));
        let revenue = (stage == "won").then(|| Money(rng.gen_range(300_000..6_000_000)));
        self.next_deal += 1;
        let recorded = self
            .app
            .deals
            .upsert(
                self.ctx,
                DealUpdate {
                    external_id: format!("demo-chat-{}", self.next_deal),
                    stage: Some(stage.to_owned()),
                    revenue,
                    profit: revenue.map(|r| Money(r.0 * rng.gen_range(20..35) / 100)),
                    created_at: Some(at),
                    closed_at: closed.then_some(changed),
                    phone: who.phone.clone(),
                    visit_code,
                    product: Some("Заказ из мессенджера".to_owned()),
                    changed_at: Some(changed),
                    ..DealUpdate::default()
                },
                Strictness::Api,
                None,
            )
            .await?;
        if recorded.created {
            self.stats.deals += 1;
        }
        if stage == "won" {
            self.stats.won += 1;
        }
        Ok(())
    }

    /// One dialog: the opening message and a few follow-ups.
    #[allow(clippy::too_many_arguments)]
    async fn dialog(
        &mut self,
        rng: &mut StdRng,
        who: &Sender,
        key: &str,
        at: DateTime<Utc>,
        opening: String,
        end: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let tags = if rng.gen_bool(0.3) {
            vec![TAGS[rng.gen_range(0..TAGS.len())].to_owned()]
        } else {
            Vec::new()
        };
        let kind = if opening.starts_with("/start") {
            "start"
        } else {
            "text"
        };
        self.send(who, format!("{key}.0"), at, Some(opening), kind, tags)
            .await?;
        let mut t = at;
        for k in 1..=rng.gen_range(0..4u32) {
            t += Duration::seconds(rng.gen_range(30..1800));
            if t >= end {
                break;
            }
            let (text, kind) = if who.messenger == Messenger::Whatsapp && rng.gen_bool(0.15) {
                (None, "image")
            } else {
                (
                    Some(FOLLOW_UPS[rng.gen_range(0..FOLLOW_UPS.len())].to_owned()),
                    "text",
                )
            };
            self.send(who, format!("{key}.{k}"), t, text, kind, Vec::new())
                .await?;
        }
        Ok(())
    }

    /// The chat a visit opens, and the sender's later dialogs.
    async fn chat(
        &mut self,
        seed: u64,
        n: u64,
        visit: &Visit,
        end: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let mut rng = stream(seed, n, SALT + 1);
        let who = sender(&mut rng, seed, n);
        let at = visit.last_at + Duration::seconds(rng.gen_range(20..900));
        if at >= end {
            return Ok(());
        }
        let opening = match who.messenger {
            Messenger::Telegram => format!("/start v{}", visit.code),
            _ => {
                let page = self
                    .app
                    .store
                    .hits_of_visit(self.ctx.scope, visit.id)
                    .await?
                    .last()
                    .map_or_else(|| visit.landing.clone(), |h| h.url.clone());
                let prefilled = self
                    .ctx
                    .messenger_links
                    .wa_texts(&page, visit.code)
                    .into_iter()
                    .next()
                    .map_or_else(|| format!("ID: {}", visit.code), |w| w.t);
                match rng.gen_range(0..100) {
                    // The code deleted, the greeting kept.
                    0..=11 => prefilled
                        .rsplit_once(" ID:")
                        .map_or(prefilled.clone(), |(g, _)| g.to_owned()),
                    12..=18 => OWN_TEXTS[rng.gen_range(0..OWN_TEXTS.len())].to_owned(),
                    _ => prefilled,
                }
            }
        };
        let key = format!("demo.{seed}.{n}");
        self.dialog(&mut rng, &who, &key, at, opening, end).await?;
        // Coming back: a repeat dialog within the window, or a new one
        // after it.
        let again = match rng.gen_range(0..100) {
            0..=29 => Some(Duration::days(rng.gen_range(2..25))),
            30..=37 => Some(Duration::days(rng.gen_range(35..70))),
            _ => None,
        };
        if let Some(after) = again {
            let t = at + after;
            if t < end {
                let text = FOLLOW_UPS[rng.gen_range(0..FOLLOW_UPS.len())].to_owned();
                self.dialog(&mut rng, &who, &format!("{key}.r"), t, text, end)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Configures the demo project's messengers and replays chats from its
/// visits of the whole period.
pub(super) async fn generate(
    app: &App,
    project: ProjectId,
    options: &DemoOptions,
    stats: &mut DemoStats,
) -> Result<(), AppError> {
    let scope = Scope::new(project);
    let (_, mut settings) = app.settings.typed(scope).await?;
    settings.messengers = demo_messengers();
    let doc = serde_json::to_value(&settings).map_err(|e| AppError::Internal(e.to_string()))?;
    app.settings.put(scope, None, doc).await?;
    let ctx = app.contexts.by_id(project).await?;
    let end = Utc.from_utc_datetime(&options.end.and_time(NaiveTime::MIN));
    let mut day = end - Duration::days(i64::from(options.days) + 1);
    let mut counter = Counter {
        app,
        ctx: &ctx,
        stats,
        seed: options.seed,
        end,
        next_deal: 0,
    };
    while day < end {
        let visits = app
            .store
            .visits_between(scope, day, day + Duration::days(1), 1_000_000)
            .await?;
        for visit in &visits {
            let n = u64::try_from(visit.id).unwrap_or_default();
            if stream(options.seed, n, SALT).gen_bool(CHAT_SHARE) {
                counter.chat(options.seed, n, visit, end).await?;
            }
        }
        day += Duration::days(1);
    }
    Ok(())
}
