//! Surveys and automations over the real router: the hosted page's steps
//! without JavaScript (plain form posts), its 404 / 410 / 403 / 413
//! answers, languages, the NPS / CSAT report by channel and over time,
//! group exports, invitations' validation, isolation between projects, a
//! delayed run that fires after the store is reopened, and the demo's
//! survey answers.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::{Duration, Utc};
use common::{error_code, Reply, TestServer};
use serde_json::json;
use skvoz_app::App;
use skvoz_domain::ProjectId;
use skvoz_store::{NewInvitation, Scope};

async fn page(s: &TestServer, path: &str, lang: &str) -> Reply {
    let req = Request::get(path)
        .header(header::ACCEPT_LANGUAGE, lang)
        .body(Body::empty())
        .unwrap();
    s.send(req).await
}

async fn post_form(s: &TestServer, path: &str, body: &str, origin: Option<&str>) -> Reply {
    let mut b = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "skvoz.test")
        .header(header::ACCEPT_LANGUAGE, "ru");
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    s.send(b.body(Body::from(body.to_owned())).unwrap()).await
}

/// A lead with an e-mail, returning its contact.
async fn contact(s: &TestServer, key: &str, email: &str) -> i64 {
    let r = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(key),
            Some(json!({"email": email, "name": "Client"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["contact_id"].as_i64().unwrap()
}

async fn invite(s: &TestServer, key: &str, body: serde_json::Value) -> Reply {
    s.call(
        Method::POST,
        "/api/v1/surveys/invitations",
        Some(key),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_page_works_in_steps_without_javascript() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let c = contact(&s, &key, "a@shop.test").await;
    let r = invite(&s, &key, json!({"survey": "csat", "contact_id": c})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // No public URL configured: the link is the path alone.
    assert!(r.body["url"].is_null());
    let path = r.body["path"].as_str().unwrap().to_owned();
    let token = r.body["token"].as_str().unwrap();
    assert!(token.len() >= 22, "128 bits at least: {token}");

    // Russian by default, English by Accept-Language or ?lang=.
    let ru = page(&s, &path, "ru-RU").await;
    assert_eq!(ru.status, StatusCode::OK);
    assert!(ru.text.contains("Оцените поддержку"));
    assert!(ru.text.contains("width=device-width"));
    let csp = ru.headers.get(header::CONTENT_SECURITY_POLICY).unwrap();
    assert!(csp.to_str().unwrap().contains("form-action 'self'"));
    assert_eq!(ru.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(page(&s, &path, "en-US")
        .await
        .text
        .contains("Rate our support"));
    assert!(page(&s, &format!("{path}?lang=en"), "ru")
        .await
        .text
        .contains("Rate our support"));

    // Step 1: the score; the yes/no question appears next, no error yet.
    let r = post_form(&s, &path, "_shown=score&score=2", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"q-solved\""));
    assert!(!r.text.contains("role=\"alert\""));
    // Skipping a shown required question is an error in place (422).
    let r = post_form(&s, &path, "_shown=score,solved&score=2", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("role=\"alert\""));
    // A score off the scale too.
    let r = post_form(&s, &path, "_shown=score&score=9", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // "No" brings the follow-up.
    let r = post_form(&s, &path, "_shown=score,solved&score=2&solved=no", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("id=\"q-what_went_wrong\""));
    // A post from another site is refused and stores nothing.
    let r = post_form(
        &s,
        &path,
        "_shown=score,solved,what_went_wrong&score=2&solved=no&what_went_wrong=x",
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Too big a form is refused before it is read.
    let big = format!(
        "_shown=score&score=2&what_went_wrong={}",
        "x".repeat(40_000)
    );
    let r = post_form(&s, &path, &big, Some("http://skvoz.test")).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The same site's post completes: thanks.
    let r = post_form(
        &s,
        &path,
        "_shown=score,solved,what_went_wrong&score=2&solved=no&what_went_wrong=slow",
        Some("http://skvoz.test"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"thanks\""));
    // Once: the page and the form now say 410.
    assert_eq!(page(&s, &path, "ru").await.status, StatusCode::GONE);
    let r = post_form(&s, &path, "_shown=score&score=5", None).await;
    assert_eq!(r.status, StatusCode::GONE);
    // Unknown and malformed tokens: 404.
    assert_eq!(
        page(&s, "/s/AAAAAAAAAAAAAAAAAAAAAA", "ru").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&s, "/s/bad%20token", "ru").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&s, &format!("/s/{}", "a".repeat(500)), "ru")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The answer, its event and its report.
    let rep = s
        .call(
            Method::GET,
            "/api/v1/reports/nps?granularity=week",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text);
    assert_eq!(rep.body["totals"]["csat_answers"], 1);
    assert_eq!(rep.body["totals"]["csat_mean"], 2.0);
    assert_eq!(rep.body["granularity"], "week");
    let weeks: u64 = rep.body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["answers"].as_u64().unwrap())
        .sum();
    assert_eq!(weeks, 1, "the buckets add up to the total");
}

#[tokio::test]
async fn expired_links_say_gone() {
    let s = TestServer::new().await;
    let (project, _, _) = s.project("shop").await;
    let now = Utc::now();
    let token = skvoz_app::surveys::new_token();
    s.store
        .create_invitation(
            Scope::new(ProjectId(project)),
            NewInvitation {
                token_hash: skvoz_app::surveys::token_hash(&token),
                survey_id: "nps".into(),
                kind: "nps".into(),
                contact_id: None,
                ticket_id: None,
                deal_id: None,
                channel: None,
                via: "api".into(),
                run_id: None,
                created_at: now - Duration::days(20),
                expires_at: now - Duration::days(6),
            },
        )
        .await
        .unwrap();
    let r = page(&s, &format!("/s/{token}"), "en").await;
    assert_eq!(r.status, StatusCode::GONE);
    assert!(r.text.contains("expired"));
}

#[tokio::test]
async fn reports_groups_and_invitations_stay_in_their_project() {
    let s = TestServer::new().await;
    let (_, _, a) = s.project("a").await;
    let (_, _, b) = s.project("b").await;
    for k in [&a, &b] {
        s.patch_settings(k, |doc| {
            doc["groups"] = json!([{"id": "detractors", "name": "NPS 0-6", "rule": {"survey": "nps", "score_lte": 6, "within_days": 30}}]);
        })
        .await;
    }
    let c = contact(&s, &a, "x@a.test").await;
    // Project b cannot invite a's contact.
    let r = invite(&s, &b, json!({"survey": "nps", "contact_id": c})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["field"], "contact_id");
    let r = invite(&s, &a, json!({"survey": "nope"})).await;
    assert_eq!(error_code(&r), "invalid");
    assert_eq!(r.body["error"]["field"], "survey");
    let r = invite(&s, &a, json!({"survey": "nps", "contact": 1})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = invite(&s, &a, json!({"survey": "nps", "contact_id": c})).await;
    let path = r.body["path"].as_str().unwrap().to_owned();
    let r = post_form(
        &s,
        &path,
        "_shown=score,improve&score=3&improve=price",
        None,
    )
    .await;
    assert!(r.text.contains("id=\"thanks\""), "{}", r.text);

    let ra = s
        .call(Method::GET, "/api/v1/reports/nps", Some(&a), None)
        .await;
    assert_eq!(ra.body["totals"]["nps"], -100.0, "{}", ra.text);
    assert_eq!(ra.body["by_channel"][0]["channel"], "(none)");
    let rb = s
        .call(Method::GET, "/api/v1/reports/nps", Some(&b), None)
        .await;
    assert_eq!(rb.body["totals"]["answers"], 0, "{}", rb.text);

    let ga = s
        .call(
            Method::GET,
            "/api/v1/groups/detractors/contacts",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(ga.body["count"], 1, "{}", ga.text);
    assert_eq!(ga.body["contacts"][0]["contact_id"], c);
    let csv = s
        .call(
            Method::GET,
            "/api/v1/groups/detractors/contacts?format=csv",
            Some(&a),
            None,
        )
        .await;
    assert!(csv
        .headers
        .get(header::CONTENT_TYPE)
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut lines = csv.text.lines();
    assert_eq!(
        lines.next(),
        Some("contact_id,name,email,phone,last_score,last_survey,channel")
    );
    assert_eq!(
        lines.next(),
        Some(format!("{c},Client,x@a.test,,3,nps,").as_str())
    );
    let gb = s
        .call(
            Method::GET,
            "/api/v1/groups/detractors/contacts",
            Some(&b),
            None,
        )
        .await;
    assert_eq!(gb.body["count"], 0, "{}", gb.text);
    let missing = s
        .call(Method::GET, "/api/v1/groups/nope/contacts", Some(&a), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&missing), "not_found");
    let bad = s
        .call(
            Method::GET,
            "/api/v1/reports/nps?granularity=hour",
            Some(&a),
            None,
        )
        .await;
    assert_eq!(bad.body["error"]["field"], "granularity");
    let none = s.call(Method::GET, "/api/v1/reports/nps", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn settings_sections_validate_and_mask_the_smtp_password() {
    let s = TestServer::new().await;
    let (_, _, key) = s.project("shop").await;
    let mut doc = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await
        .body;
    assert_eq!(doc["surveys"]["items"][0]["id"], "nps");
    assert_eq!(doc["surveys"]["items"][1]["id"], "csat");
    doc["smtp"] = json!({"host": "smtp.shop.test", "port": 465, "tls": "tls", "username": "u", "password": "p4ss", "from": "noreply@shop.test"});
    doc["automations"] = json!([{"id": "x", "name": "X", "trigger": {"event": "ticket.closed"},
        "actions": [{"send_survey": {"survey": "csat", "via": "email"}}], "conditions": [{"in_group": "ghost"}]}]);
    let r = s
        .call(
            Method::PUT,
            "/api/v1/settings",
            Some(&key),
            Some(doc.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["error"]["field"],
        "automations[0].conditions[0].in_group"
    );
    doc["automations"][0]["conditions"] = json!([]);
    let r = s
        .call(Method::PUT, "/api/v1/settings", Some(&key), Some(doc))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let read = s
        .call(Method::GET, "/api/v1/settings", Some(&key), None)
        .await;
    assert_eq!(read.body["smtp"]["password"], "********");
    assert_eq!(read.body["smtp"]["host"], "smtp.shop.test");
}

/// A run waiting out its delay survives a restart and fires when due.
#[tokio::test]
async fn a_delayed_run_fires_after_the_store_is_reopened() {
    let s = TestServer::new().await;
    let app = s.app.clone();
    let (project, _, key) = s.project("shop").await;
    s.patch_settings(&key, |doc| {
        doc["automations"] = json!([{"id": "welcome", "name": "Welcome", "trigger": {"event": "lead.created",
            "filters": [{"field": "kind", "op": "eq", "value": "form"}]},
            "delay_minutes": 30, "actions": [{"webhook": "crm"}, {"tag": "lead"}]}]);
    })
    .await;
    let c = contact(&s, &key, "w@shop.test").await;
    let now = Utc::now();
    assert_eq!(app.automations.tick(now).await.unwrap(), 0, "not due yet");
    let scope = Scope::new(ProjectId(project));
    let runs = s.store.automation_runs(scope, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, skvoz_store::RunStatus::Pending);
    assert!(runs[0].due_at > now + Duration::minutes(29));
    app.shutdown().await.unwrap();
    let guard = s.into_guard();
    drop(app);

    // A new process: the run is still there and fires once due.
    let store = guard.reopen().await.unwrap();
    let app = App::new(store.clone());
    assert_eq!(
        app.automations
            .tick(now + Duration::minutes(10))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.automations
            .tick(now + Duration::minutes(31))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.automations
            .tick(now + Duration::minutes(32))
            .await
            .unwrap(),
        0
    );
    let runs = store.automation_runs(scope, 10).await.unwrap();
    assert_eq!(
        runs.len(),
        1,
        "the event started one run, not one per process"
    );
    assert_eq!(runs[0].status, skvoz_store::RunStatus::Done);
    let messages = store.run_messages(scope, runs[0].id).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].destination_kind, "webhook");
    assert_eq!(messages[0].destination, "crm");
    assert_eq!(messages[0].payload["event"], "lead.created");
    // Tagged: the contact is in the group of its tag, and only of that one.
    let tagged = |tag: &str| skvoz_domain::automations::GroupRule {
        tag: Some(tag.to_owned()),
        ..Default::default()
    };
    let in_group = |tag: &str| {
        let (store, rule) = (store.clone(), tagged(tag));
        async move {
            store
                .group_members(scope, &rule, Utc::now(), Some(c), 1)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(in_group("lead").await, 1);
    assert_eq!(in_group("vip").await, 0);
}

/// Conditions are checked when a run fires: a contact surveyed within the
/// window is skipped; a removed automation cancels its runs.
#[tokio::test]
async fn conditions_are_checked_when_a_run_fires() {
    let s = TestServer::new().await;
    let (project, _, key) = s.project("shop").await;
    s.patch_settings(&key, |doc| {
        doc["surveys"]["public_url"] = json!("https://skvoz.shop.test");
        doc["automations"] = json!([
            {"id": "nps", "name": "NPS", "trigger": {"event": "lead.created"},
             "conditions": [{"no_survey_within_days": 7}, {"field": "kind", "regex": "^form$"}],
             "actions": [{"send_survey": {"survey": "nps", "via": "esputnik", "event_key": "nps_invite"}}]}
        ]);
    })
    .await;
    let scope = Scope::new(ProjectId(project));
    let c = contact(&s, &key, "e@shop.test").await;
    s.app.automations.tick(Utc::now()).await.unwrap();
    let runs = s.store.automation_runs(scope, 10).await.unwrap();
    assert_eq!(
        runs[0].status,
        skvoz_store::RunStatus::Done,
        "{:?}",
        runs[0]
    );
    let m = s.store.run_messages(scope, runs[0].id).await.unwrap();
    assert_eq!(m[0].destination_kind, "esputnik");
    assert_eq!(m[0].payload["eventTypeKey"], "nps_invite");
    assert_eq!(m[0].payload["keyValue"], "e@shop.test");
    let url = m[0].payload["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "survey_url")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("https://skvoz.shop.test/s/"), "{url}");
    // The same contact again within 7 days: skipped.
    let r = s
        .call(
            Method::POST,
            "/api/v1/leads",
            Some(&key),
            Some(json!({"email": "e@shop.test", "form": "again"})),
        )
        .await;
    assert_eq!(r.body["contact_id"], c);
    s.app.automations.tick(Utc::now()).await.unwrap();
    let runs = s.store.automation_runs(scope, 10).await.unwrap();
    assert_eq!(
        runs[0].status,
        skvoz_store::RunStatus::Skipped,
        "{:?}",
        runs[0]
    );
    assert!(runs[0].note.as_deref().unwrap().contains("7 days"));
    assert!(s
        .store
        .run_messages(scope, runs[0].id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_demo_has_survey_answers_for_the_report_and_the_page() {
    let s = TestServer::new().await;
    let options = skvoz_app::demo::DemoOptions {
        visitors: 600,
        days: 40,
        ..Default::default()
    };
    let (created, stats) = skvoz_app::demo::generate(&s.app, &options, &|_, _| {})
        .await
        .unwrap();
    assert!(stats.survey_answers > 5, "{stats:?}");
    let from = (options.end - Duration::days(45)).to_string();
    let r = s
        .call(
            Method::GET,
            &format!(
                "/api/v1/reports/nps?from={from}&to={}",
                options.end + Duration::days(3)
            ),
            Some(&created.api_key),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["totals"]["answers"], stats.survey_answers,
        "{}",
        r.text
    );
    assert!(r.body["totals"]["nps_answers"].as_u64().unwrap() > 0);
    assert!(r.body["totals"]["csat_answers"].as_u64().unwrap() > 0);
    let channels: u64 = r.body["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["answers"].as_u64().unwrap())
        .sum();
    assert_eq!(channels, stats.survey_answers, "channels add up");
    assert!(r.body["by_channel"].as_array().unwrap().len() > 1);
    // The dashboard page shows them.
    s.app
        .auth
        .create_user("admin", "survey-page-password", true)
        .await
        .unwrap();
    let login = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "login=admin&password=survey-page-password&next=/",
        ))
        .unwrap();
    let r = s.send(login).await;
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let req = Request::get(format!(
        "/surveys?from={from}&to={}&granularity=week",
        options.end
    ))
    .header(header::COOKIE, cookie)
    .header(header::ACCEPT_LANGUAGE, "en")
    .body(Body::empty())
    .unwrap();
    let r = s.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"survey-trend\""));
    assert!(r.text.contains("id=\"survey-by-channel\""));
    assert!(r.text.contains("id=\"kpi-nps\""));
}

/// The `smtp` deliverer tells the outbox what to do with a failure: no
/// server configured or none listening → retry later; a recipient the
/// server rejects for good (5xx) → dead letter.
#[tokio::test]
async fn the_smtp_deliverer_classifies_failures() {
    use skvoz_app::automations::smtp::SmtpDeliverer;
    use skvoz_app::outbox::{Deliverer, OutboxItem, Outcome};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let item = OutboxItem {
        id: 1,
        project: ProjectId(1),
        destination_kind: "smtp".into(),
        destination: "default".into(),
        idempotency_key: "automation:1:0".into(),
        payload: json!({"to": "client@mail.test", "subject": "s", "text": "t"}),
        attempts: 0,
        created_at: Utc::now(),
        event_id: None,
    };
    let out = SmtpDeliverer
        .deliver(&json!({}), std::slice::from_ref(&item))
        .await;
    assert!(matches!(out[0], Outcome::Retry { .. }), "{out:?}");
    // A port nobody listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let settings = |port: u16| json!({"smtp": {"host": "127.0.0.1", "port": port, "tls": "none", "from": "noreply@shop.test"}});
    let out = SmtpDeliverer
        .deliver(&settings(port), std::slice::from_ref(&item))
        .await;
    assert!(matches!(out[0], Outcome::Retry { .. }), "{out:?}");
    // A server that rejects the recipient with 550.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r);
        w.write_all(b"220 strict.test\r\n").await.unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let up = line.to_ascii_uppercase();
            let reply: &[u8] = if up.starts_with("EHLO") {
                b"250 strict.test\r\n"
            } else if up.starts_with("RCPT") {
                b"550 no such user\r\n"
            } else if up.starts_with("QUIT") {
                b"221 bye\r\n"
            } else {
                b"250 OK\r\n"
            };
            w.write_all(reply).await.unwrap();
        }
    });
    let out = SmtpDeliverer
        .deliver(&settings(port), std::slice::from_ref(&item))
        .await;
    assert!(
        matches!(&out[0], Outcome::Failed { error } if error.contains("550") || error.contains("no such user")),
        "{out:?}"
    );
    // A payload of the wrong shape is a dead letter too.
    let mut bad = item;
    bad.payload = json!({"to": 1});
    let out = SmtpDeliverer.deliver(&settings(port), &[bad]).await;
    assert!(matches!(out[0], Outcome::Failed { .. }), "{out:?}");
}
