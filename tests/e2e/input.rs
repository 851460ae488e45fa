//! Bad input: each case gets the documented status, code and field, and nothing is
//! written (no request, no mail, no event).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::{Value, json};
use tempaccess_tests::app::{
    BILLING_API_KEY, BOB, DAVE, OPERATOR, PAYROLL_RDP, TestApp, VIEW_PASSWORD_EXECUTE,
    prod_db_request, rfc3339, str_field,
};

enum Body {
    Json(Value),
    Raw(String),
}

struct Case {
    name: &'static str,
    /// Who submits: "alice" or "bob".
    who: &'static str,
    body: Body,
    status: u16,
    /// Expected `error.code` and `error.field`; `None` where only the status is documented.
    code: Option<&'static str>,
    field: Option<&'static str>,
}

fn valid() -> Value {
    prod_db_request(3600, "valid")
}

/// `valid()` with `changes` merged in (a `null` removes a key).
fn valid_with(changes: Value) -> Value {
    let mut body = valid();
    let map = body.as_object_mut().expect("an object");
    for (key, value) in changes.as_object().expect("an object of changes") {
        if value.is_null() {
            map.remove(key);
        } else {
            map.insert(key.clone(), value.clone());
        }
    }
    body
}

fn window(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    json!({ "start": rfc3339(start), "end": rfc3339(end) })
}

fn invalid(name: &'static str, body: Value, field: &'static str) -> Case {
    Case {
        name,
        who: "alice",
        body: Body::Json(body),
        status: 400,
        code: Some("invalid_input"),
        field: Some(field),
    }
}

fn rejected(name: &'static str, who: &'static str, body: Value, field: &'static str) -> Case {
    Case {
        name,
        who,
        body: Body::Json(body),
        status: 422,
        code: Some("rejected"),
        field: Some(field),
    }
}

/// `billing_set` is a permission set that billing-api-key offers.
fn cases(now: DateTime<Utc>, billing_set: &str) -> Vec<Case> {
    let hour = Duration::hours(1);
    vec![
        Case {
            name: "malformed JSON",
            who: "alice",
            body: Body::Raw(r#"{"entry_id": "prod-db","#.into()),
            status: 400,
            code: Some("invalid_input"),
            field: Some("body"),
        },
        invalid(
            "unknown field",
            valid_with(json!({ "colour": "red" })),
            "colour",
        ),
        invalid(
            "message over 2000 characters",
            valid_with(json!({ "message": "m".repeat(2001) })),
            "message",
        ),
        invalid(
            "duration under a minute",
            valid_with(json!({ "duration_seconds": 59 })),
            "duration_seconds",
        ),
        invalid(
            "zero duration",
            valid_with(json!({ "duration_seconds": 0 })),
            "duration_seconds",
        ),
        invalid(
            "both a duration and a window",
            valid_with(json!({ "window": window(now + hour, now + hour * 2) })),
            "duration_seconds",
        ),
        invalid(
            "neither a duration nor a window",
            valid_with(json!({ "duration_seconds": null })),
            "duration_seconds",
        ),
        invalid(
            "window ending at its start",
            valid_with(
                json!({ "duration_seconds": null, "window": window(now + hour, now + hour) }),
            ),
            "window.end",
        ),
        invalid(
            "window ending before its start",
            valid_with(
                json!({ "duration_seconds": null, "window": window(now + hour * 2, now + hour) }),
            ),
            "window.end",
        ),
        invalid(
            "window in the past",
            valid_with(
                json!({ "duration_seconds": null, "window": window(now - hour * 2, now - hour) }),
            ),
            "window.end",
        ),
        rejected(
            "unknown entry",
            "alice",
            valid_with(json!({ "entry_id": "no-such-entry" })),
            "entry_id",
        ),
        rejected(
            "approver not an approver of the entry",
            "alice",
            valid_with(json!({ "approver_id": DAVE })),
            "approver_id",
        ),
        rejected(
            "unknown approver",
            "alice",
            valid_with(json!({ "approver_id": "mallory@example.com" })),
            "approver_id",
        ),
        rejected(
            "requester as their own approver",
            "bob",
            valid(),
            "approver_id",
        ),
        rejected(
            "permission set the entry does not offer",
            "alice",
            valid_with(json!({ "permission_set": OPERATOR })),
            "permission_set",
        ),
        rejected(
            "unknown permission set",
            "alice",
            valid_with(json!({ "permission_set": "root" })),
            "permission_set",
        ),
        rejected(
            "duration over the entry's maximum",
            "alice",
            valid_with(json!({ "duration_seconds": 28_801 })),
            "duration_seconds",
        ),
        rejected(
            "duration over another entry's maximum",
            "alice",
            json!({
                "entry_id": BILLING_API_KEY,
                "permission_set": billing_set,
                "approver_id": DAVE,
                "duration_seconds": 3601,
                "message": "over",
            }),
            "duration_seconds",
        ),
        rejected(
            "window longer than the entry's maximum",
            "alice",
            valid_with(json!({
                "duration_seconds": null,
                "window": window(now + hour, now + hour + Duration::seconds(28_801)),
            })),
            "window.end",
        ),
        rejected(
            "empty message where one is required",
            "alice",
            json!({
                "entry_id": PAYROLL_RDP,
                "permission_set": VIEW_PASSWORD_EXECUTE,
                "approver_id": BOB,
                "duration_seconds": 3600,
                "message": "",
            }),
            "message",
        ),
        Case {
            name: "body over 64 KiB",
            who: "alice",
            body: Body::Json(valid_with(json!({ "message": "m".repeat(70 * 1024) }))),
            status: 413,
            code: None,
            field: None,
        },
    ]
}

/// What the server has written that a refused call must not change.
#[derive(Debug, PartialEq)]
struct Written {
    requests: Vec<String>,
    mails: usize,
}

async fn written(app: &TestApp, admin: &str) -> Written {
    Written {
        requests: app.request_ids(admin, "all").await,
        mails: app.mailbox().await.len(),
    }
}

#[tokio::test]
async fn bad_requests_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let now = app.now().await.trunc_subsecs(0);
    let before = written(&app, &carol).await;
    assert!(before.requests.is_empty(), "{before:?}");

    let mut failures = Vec::new();
    let billing = app.entry(&alice, BILLING_API_KEY).await;
    let all = cases(now, &str_field(&billing["permission_sets"][0], "id"));
    for case in &all {
        let token = if case.who == "bob" { &bob } else { &alice };
        let reply = match &case.body {
            Body::Json(body) => app.submit_request(token, body).await,
            Body::Raw(body) => {
                app.post_raw("/v1/requests", Some(token), body.clone())
                    .await
            }
        };
        let mut problems = Vec::new();
        if reply.status.as_u16() != case.status {
            problems.push(format!("status {} (want {})", reply.status, case.status));
        }
        if case.code.is_some() && reply.error_code().as_deref() != case.code {
            problems.push(format!(
                "code {:?} (want {:?})",
                reply.error_code(),
                case.code
            ));
        }
        if case.field.is_some() && reply.error_field().as_deref() != case.field {
            problems.push(format!(
                "field {:?} (want {:?})",
                reply.error_field(),
                case.field
            ));
        }
        let after = written(&app, &carol).await;
        if after != before {
            problems.push(format!("wrote something: {before:?} → {after:?}"));
        }
        if !problems.is_empty() {
            let body = reply.body.chars().take(300).collect::<String>();
            failures.push(format!(
                "{}: {} — reply {}: {body}",
                case.name,
                problems.join(", "),
                reply.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn limits_themselves_are_accepted() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let now = app.now().await.trunc_subsecs(0);
    let start = now + Duration::hours(1);
    for body in [
        valid_with(json!({ "duration_seconds": 60 })),
        valid_with(json!({ "duration_seconds": 28_800 })),
        valid_with(json!({ "message": "m".repeat(2000) })),
        valid_with(json!({ "message": "" })),
        valid_with(json!({
            "duration_seconds": null,
            "window": window(start, start + Duration::seconds(28_800)),
        })),
    ] {
        let created = app.submit_request(&alice, &body).await.expect_json(201);
        // Withdrawn, so the next may be sent: one pending request per entry.
        app.cancel(&alice, &str_field(&created, "id"), &json!({}))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn bad_decisions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "decide me"))
        .await;
    let id = str_field(&created, "id");
    // The lookup records a "viewed" event; do it before taking the snapshot.
    app.lookup(&link).await.expect(200);
    let events_before = app.event_kinds(&alice, &id).await;
    let mails_before = app.mailbox().await.len();

    let unknown = app.lookup(&"A".repeat(43)).await.expect(404);
    assert_eq!(unknown.error_field().as_deref(), Some("token"), "{unknown}");
    app.post_raw("/v1/decisions", None, r#"{"token": "#)
        .await
        .expect_error(400, "invalid_input", Some("body"));
    app.decide_by_link(
        Some(&bob),
        &link,
        &json!({ "decision": "approve", "colour": "red" }),
    )
    .await
    .expect_error(400, "invalid_input", Some("colour"));
    app.decide_by_link(
        Some(&bob),
        &link,
        &json!({ "decision": "approve", "duration_seconds": 3601 }),
    )
    .await
    .expect_error(422, "rejected", Some("duration_seconds"));
    app.decide(
        &bob,
        &id,
        &json!({ "decision": "approve", "duration_seconds": 7200 }),
    )
    .await
    .expect_error(422, "rejected", Some("duration_seconds"));
    app.decide(
        &bob,
        &id,
        &json!({ "decision": "approve", "duration_seconds": 59 }),
    )
    .await
    .expect_error(400, "invalid_input", Some("duration_seconds"));

    assert_eq!(app.status_of(&alice, &id).await, "pending");
    assert_eq!(app.event_kinds(&alice, &id).await, events_before);
    assert_eq!(app.mailbox().await.len(), mails_before);
    let looked = app.lookup(&link).await.expect_json(200);
    assert_eq!(looked["decidable"], true, "the link still works: {looked}");
}

#[tokio::test]
async fn unauthenticated_and_unknown_ids() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    app.get_anon("/v1/me")
        .await
        .expect_error(401, "unauthenticated", None);
    app.post_anon("/v1/dev/login", &json!({ "user": "mallory" }))
        .await
        .expect(404);
    app.get("/v1/requests/01ARZ3NDEKTSV4RRFFQ69G5FAV", &alice)
        .await
        .expect(404);
    app.secret(&alice, "no-such-entry").await.expect(404);
    app.get("/v1/requests?scope=all", &alice)
        .await
        .expect_error(403, "forbidden", None);
}
