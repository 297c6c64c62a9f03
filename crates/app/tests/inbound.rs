//! The inbound-webhook pipeline: what each step answers and what it keeps
//! beside the raw payload (`inbound_payloads`), through real providers over
//! a real store, with a keeper that records instead of writing.

#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use skvoz_app::context::ProjectContext;
use skvoz_app::inbound::{
    self, Bitrix24Webhook, CalltouchWebhook, Delivery, Failure, PayloadKeeper, Recorded, Rejected,
    Webhook,
};
use skvoz_app::{App, AppError};
use skvoz_backends::{test_store, TestStore};
use skvoz_store::Scope;
use std::sync::{Arc, Mutex};

const CT_CAMEL: &str =
    include_str!("../../connectors/src/telephony/fixtures/calltouch/camel_post.txt");
const CT_NO_CALLER: &str =
    include_str!("../../connectors/src/telephony/fixtures/calltouch/malformed_no_caller.txt");
const BX_DELETE: &str = include_str!("../../connectors/src/crm/fixtures/bitrix24/event_delete.txt");
const BX_UPDATE: &str = include_str!("../../connectors/src/crm/fixtures/bitrix24/event_update.txt");
const BX_NO_ID: &str =
    include_str!("../../connectors/src/crm/fixtures/bitrix24/event_missing_id.txt");
const CALLTOUCH_SECRET: &str = "calltouch-secret-0123456789";

/// A keeper that remembers (provider, body, outcome) of every payload.
#[derive(Default)]
struct Kept(Mutex<Vec<(String, String, String)>>);

impl Kept {
    fn all(&self) -> Vec<(String, String, String)> {
        self.0.lock().unwrap().clone()
    }

    fn outcomes(&self) -> Vec<String> {
        self.all().into_iter().map(|(_, _, o)| o).collect()
    }
}

impl PayloadKeeper for Kept {
    async fn keep(
        &self,
        _scope: Scope,
        provider: &str,
        body: &str,
        outcome: &str,
    ) -> Result<(), AppError> {
        self.0
            .lock()
            .unwrap()
            .push((provider.to_owned(), body.to_owned(), outcome.to_owned()));
        Ok(())
    }
}

/// An app over a fresh store with one project whose settings `patch` set.
async fn project(patch: impl FnOnce(&mut Value)) -> (TestStore, App, Arc<ProjectContext>) {
    let (store, guard) = test_store().await.unwrap();
    let app = App::new(store);
    let (project, _) = app.projects.create("hooks", None, None).await.unwrap();
    let scope = Scope::new(project.id);
    let mut doc = app.settings.get(scope).await.unwrap().doc;
    patch(&mut doc);
    app.settings.put(scope, None, doc).await.unwrap();
    let ctx = app.contexts.by_id(project.id).await.unwrap();
    (guard, app, ctx)
}

#[tokio::test]
async fn a_disabled_provider_is_not_found_and_keeps_nothing() {
    let (_dir, app, ctx) = project(|_| {}).await;
    let kept = Kept::default();
    let hook = CalltouchWebhook::new(&app.calls);
    let delivery = Delivery::new(Some(CALLTOUCH_SECRET), CT_CAMEL.as_bytes());
    let err = inbound::receive(&kept, &hook, &ctx, delivery)
        .await
        .unwrap_err();
    match err {
        AppError::NotFound(what) => assert_eq!(
            what,
            "Calltouch connector (enable it in settings.calltracking.calltouch)"
        ),
        other => panic!("expected not found, got {other:?}"),
    }
    assert!(kept.all().is_empty());
}

#[tokio::test]
async fn calltouch_keeps_rejections_and_outcomes_but_not_forgeries() {
    let (_dir, app, ctx) = project(|d| {
        d["calltracking"]["calltouch"] = json!({"enabled": true, "secret": CALLTOUCH_SECRET});
    })
    .await;
    let kept = Kept::default();
    let hook = CalltouchWebhook::new(&app.calls);

    // A wrong or missing secret: 401, nothing kept.
    for credential in [Some("calltouch-secret-wrong"), Some(""), None] {
        let delivery = Delivery::new(credential, CT_CAMEL.as_bytes());
        let err = inbound::receive(&kept, &hook, &ctx, delivery)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Unauthorized(_)), "{err:?}");
    }
    assert!(kept.all().is_empty());

    // A payload the parser refuses: kept as rejected, with the reason the
    // answer names.
    let delivery = Delivery::new(Some(CALLTOUCH_SECRET), CT_NO_CALLER.as_bytes());
    let err = inbound::receive(&kept, &hook, &ctx, delivery)
        .await
        .unwrap_err();
    let AppError::Invalid { message, .. } = err else {
        panic!("expected invalid, got {err:?}");
    };
    assert_eq!(
        kept.all(),
        vec![(
            "calltouch".to_owned(),
            CT_NO_CALLER.to_owned(),
            format!("rejected: {message}")
        )]
    );

    // A call: recorded, and kept with the outcome's JSON.
    let delivery = Delivery::new(Some(CALLTOUCH_SECRET), CT_CAMEL.as_bytes());
    let outcome = inbound::receive(&kept, &hook, &ctx, delivery)
        .await
        .unwrap();
    assert_eq!(outcome.event, "call");
    let call = outcome.call.as_ref().unwrap();
    assert!(call.call_id > 0);
    let (provider, body, stored) = kept.all().pop().unwrap();
    assert_eq!((provider.as_str(), body.as_str()), ("calltouch", CT_CAMEL));
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["event"], "call");
    assert_eq!(stored["call"]["call_id"], call.call_id);
    assert_eq!(stored, serde_json::to_value(&outcome).unwrap());
}

#[tokio::test]
async fn bitrix24_keeps_skipped_events_and_failed_fetches_with_their_notes() {
    // A portal that refuses connections: the address of a closed listener.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let portal = format!("http://{}/rest/1/code/", closed.local_addr().unwrap());
    drop(closed);
    let (_dir, app, ctx) = project(|d| {
        d["crm"]["bitrix24"]["enabled"] = json!(true);
        d["crm"]["bitrix24"]["rest_webhook_secret"] = json!(portal);
        d["crm"]["bitrix24"]["application_token"] = json!("abc123");
    })
    .await;
    let kept = Kept::default();
    let hook = Bitrix24Webhook::new(&app.deals);
    let receive = |body: &'static str| {
        let (kept, hook, ctx) = (&kept, &hook, &ctx);
        async move { inbound::receive(kept, hook, ctx, Delivery::new(None, body.as_bytes())).await }
    };

    // The token is inside the event: a malformed event is a 422 and a
    // forged token a 401, and neither is kept.
    let err = receive(BX_NO_ID.trim()).await.unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
    let forged = BX_UPDATE.trim().replace("abc123", "forged");
    let err = inbound::receive(&kept, &hook, &ctx, Delivery::new(None, forged.as_bytes()))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Unauthorized(_)), "{err:?}");
    assert!(kept.all().is_empty());

    // A deletion has nothing to record: answered as skipped, kept as
    // "skipped".
    let outcome = receive(BX_DELETE.trim()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&outcome).unwrap(),
        json!({"deals": 1, "created": 0, "changed": 0, "skipped": 1})
    );
    assert_eq!(kept.outcomes(), vec!["skipped".to_owned()]);

    // The portal does not answer: 503, kept as a failed fetch.
    let err = receive(BX_UPDATE.trim()).await.unwrap_err();
    assert!(matches!(err, AppError::Unavailable(_)), "{err:?}");
    let outcomes = kept.outcomes();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes[1].starts_with("fetch failed: "), "{outcomes:?}");
}

/// A provider whose steps each do what the test says.
struct Scripted {
    enabled: bool,
    authentic: bool,
    parses: bool,
    record: fn() -> Result<Recorded<Value>, Failure>,
}

impl Webhook for Scripted {
    const PROVIDER: &'static str = "scripted";
    type Verified = ();
    type Parsed = ();
    type Outcome = Value;

    fn check_enabled(&self, _ctx: &ProjectContext) -> Result<(), AppError> {
        if self.enabled {
            Ok(())
        } else {
            Err(AppError::NotFound("scripted".into()))
        }
    }

    fn authenticate(&self, _ctx: &ProjectContext, _d: &Delivery<'_>) -> Result<(), AppError> {
        if self.authentic {
            Ok(())
        } else {
            Err(AppError::Unauthorized("forged".into()))
        }
    }

    fn parse(&self, _ctx: &ProjectContext, _v: (), _body: &[u8]) -> Result<(), Rejected> {
        if self.parses {
            Ok(())
        } else {
            Err(Rejected::invalid("no id"))
        }
    }

    async fn record(&self, _ctx: &ProjectContext, _parsed: ()) -> Result<Recorded<Value>, Failure> {
        (self.record)()
    }
}

#[tokio::test]
async fn each_step_answers_and_keeps_what_the_pipeline_promises() {
    let (_dir, _app, ctx) = project(|_| {}).await;
    let ok = || Ok(Recorded::new(json!({"n": 1})));
    let hook = |enabled, authentic, parses, record| Scripted {
        enabled,
        authentic,
        parses,
        record,
    };
    let run = |hook: Scripted| {
        let ctx = ctx.clone();
        async move {
            let kept = Kept::default();
            let result =
                inbound::receive(&kept, &hook, &ctx, Delivery::new(None, b"raw body")).await;
            (result, kept.all())
        }
    };

    // Disabled wins over bad credentials; neither keeps anything.
    let (r, kept) = run(hook(false, false, true, ok)).await;
    assert!(matches!(r, Err(AppError::NotFound(_))) && kept.is_empty());
    let (r, kept) = run(hook(true, false, true, ok)).await;
    assert!(matches!(r, Err(AppError::Unauthorized(_))) && kept.is_empty());

    // Refused by the parser: a 422 naming no field, kept as rejected.
    let (r, kept) = run(hook(true, true, false, ok)).await;
    match r {
        Err(AppError::Invalid { field, message }) => {
            assert_eq!((field, message.as_str()), (None, "no id"));
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    let rejected = (
        "scripted".into(),
        "raw body".into(),
        "rejected: no id".into(),
    );
    assert_eq!(kept, vec![rejected]);

    // Recorded: the outcome answered and kept as JSON, or kept with a note.
    let (r, kept) = run(hook(true, true, true, ok)).await;
    assert_eq!(r.unwrap(), json!({"n": 1}));
    assert_eq!(kept[0].2, r#"{"n":1}"#);
    let noted = || Ok(Recorded::noted(json!({"n": 0}), "skipped"));
    let (r, kept) = run(hook(true, true, true, noted)).await;
    assert_eq!(r.unwrap(), json!({"n": 0}));
    assert_eq!(kept[0].2, "skipped");

    // A failure keeps the payload only when the provider gives a note.
    let retried = || Err(Failure::from(AppError::Conflict("busy".into())));
    let (r, kept) = run(hook(true, true, true, retried)).await;
    assert!(matches!(r, Err(AppError::Conflict(_))) && kept.is_empty());
    let noted_failure = || {
        Err(Failure::kept(
            AppError::Unavailable("portal down".into()),
            "fetch failed: portal down",
        ))
    };
    let (r, kept) = run(hook(true, true, true, noted_failure)).await;
    assert!(matches!(r, Err(AppError::Unavailable(_))));
    assert_eq!(kept[0].2, "fetch failed: portal down");
}
