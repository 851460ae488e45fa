//! The limits that protect the service and people's inboxes, each probed at the limit
//! (accepted) and past it (refused with a clear error: status, code, and the field where
//! there is one), as one table — the table printed in RELIABILITY.md ("Limits"), which
//! [`the_limits_in_reliability_md_are_the_ones_tested`] keeps equal to [`CASES`].
//!
//! `TEMPACCESS_BLESS=1 cargo test -p tempaccess-tests --test e2e limits` rewrites it.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use tempaccess_tests::app::{Reply, TestApp, prod_db_request, rfc3339, str_field};

/// What a case sends.
#[derive(Clone, Copy)]
enum Probe {
    /// `POST /v1/requests` as alice: prod-db, bob, with this message.
    Message(usize),
    /// `POST /v1/requests` as alice: prod-db for this many seconds (at most 8 h).
    Duration(i64),
    /// `POST /v1/requests` as alice: a time frame of an hour starting this far ahead.
    StartsIn(TimeDelta),
    /// A decision comment of this many characters on a pending request, as bob.
    Comment(usize),
    /// A revocation reason of this many characters on an active grant, as bob.
    Reason(usize),
    /// `GET /v1/requests?scope=mine&limit=N` as alice.
    Page(u32),
    /// A body of this many bytes (a JSON string) to `POST /v1/requests` as alice.
    BodyBytes(usize),
    /// The same, to the anonymous `POST /v1/decisions/lookup`.
    AnonymousBodyBytes(usize),
    /// JSON nested this deep to the anonymous `POST /v1/decisions/lookup`.
    Nesting(usize),
    /// erin's second pending request for one entry.
    SecondPendingForEntry,
    /// erin's pending request after `n` pending ones on other entries.
    PendingAfter(usize),
}

struct Case {
    limit: &'static str,
    input: &'static str,
    probe: Probe,
    status: u16,
    code: Option<&'static str>,
    field: Option<&'static str>,
}

const fn ok(limit: &'static str, input: &'static str, probe: Probe, status: u16) -> Case {
    Case {
        limit,
        input,
        probe,
        status,
        code: None,
        field: None,
    }
}

const fn refused(
    limit: &'static str,
    input: &'static str,
    probe: Probe,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
) -> Case {
    Case {
        limit,
        input,
        probe,
        status,
        code: Some(code),
        field,
    }
}

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// The table.
const CASES: &[Case] = &[
    refused(
        "body size (64 KiB)",
        "1 MiB body, signed in",
        Probe::BodyBytes(MIB),
        413,
        "payload_too_large",
        None,
    ),
    refused(
        "body size (64 KiB)",
        "64 KiB + 1 body, signed in",
        Probe::BodyBytes(64 * KIB + 1),
        413,
        "payload_too_large",
        None,
    ),
    refused(
        "body size (64 KiB)",
        "1 MiB body, anonymous route",
        Probe::AnonymousBodyBytes(MIB),
        413,
        "payload_too_large",
        None,
    ),
    refused(
        "JSON nesting",
        "`token` nested 30 000 deep (60 KB), anonymous route",
        Probe::Nesting(30_000),
        400,
        "invalid_input",
        Some("token"),
    ),
    ok(
        "message (2000 characters)",
        "2000 characters",
        Probe::Message(2000),
        201,
    ),
    refused(
        "message (2000 characters)",
        "2001 characters",
        Probe::Message(2001),
        400,
        "invalid_input",
        Some("message"),
    ),
    refused(
        "message (2000 characters)",
        "1 MiB message",
        Probe::Message(MIB),
        413,
        "payload_too_large",
        None,
    ),
    ok(
        "decision comment (2000 characters)",
        "2000 characters",
        Probe::Comment(2000),
        200,
    ),
    refused(
        "decision comment (2000 characters)",
        "2001 characters",
        Probe::Comment(2001),
        400,
        "invalid_input",
        Some("comment"),
    ),
    ok(
        "revocation reason (2000 characters)",
        "2000 characters",
        Probe::Reason(2000),
        200,
    ),
    refused(
        "revocation reason (2000 characters)",
        "2001 characters",
        Probe::Reason(2001),
        400,
        "invalid_input",
        Some("reason"),
    ),
    ok("page size (1 to 500)", "limit=500", Probe::Page(500), 200),
    refused(
        "page size (1 to 500)",
        "limit=501",
        Probe::Page(501),
        400,
        "invalid_input",
        Some("limit"),
    ),
    refused(
        "page size (1 to 500)",
        "limit=0",
        Probe::Page(0),
        400,
        "invalid_input",
        Some("limit"),
    ),
    ok(
        "duration (60 s to the entry's maximum)",
        "8 h on prod-db (its maximum)",
        Probe::Duration(8 * 3600),
        201,
    ),
    refused(
        "duration (60 s to the entry's maximum)",
        "8 h + 1 s",
        Probe::Duration(8 * 3600 + 1),
        422,
        "rejected",
        Some("duration_seconds"),
    ),
    refused(
        "duration (60 s to the entry's maximum)",
        "59 s",
        Probe::Duration(59),
        400,
        "invalid_input",
        Some("duration_seconds"),
    ),
    ok(
        "time frame start (within 90 days)",
        "starts in 90 days",
        Probe::StartsIn(TimeDelta::days(90)),
        201,
    ),
    refused(
        "time frame start (within 90 days)",
        "starts in 90 days + 1 h",
        Probe::StartsIn(TimeDelta::hours(90 * 24 + 1)),
        422,
        "rejected",
        Some("window.start"),
    ),
    refused(
        "pending per person and entry (1)",
        "a second one for the entry",
        Probe::SecondPendingForEntry,
        409,
        "conflict",
        None,
    ),
    ok(
        "pending per person (10)",
        "the 10th",
        Probe::PendingAfter(9),
        201,
    ),
    refused(
        "pending per person (10)",
        "the 11th",
        Probe::PendingAfter(10),
        429,
        "too_many_requests",
        None,
    ),
];

struct Fixture {
    alice: String,
    bob: String,
    erin: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    // Eleven entries for erin's pending requests, each with bob approving.
    let entries: Vec<Value> = (1..=11)
        .map(|i| {
            json!({
                "id": format!("cap-{i}"), "name": format!("Cap {i}"), "kind": "remote-session",
                "approvers": ["bob@example.com"], "max_duration_seconds": 3600,
            })
        })
        .collect();
    app.import(&json!({
        "users": [{ "email": "erin@example.com", "name": "Erin", "roles": [] }],
        "entries": entries,
    }))
    .await;
    Fixture {
        alice: app.login("alice").await,
        bob: app.login("bob").await,
        erin: app.login("erin").await,
    }
}

fn cap_request(i: usize) -> Value {
    json!({
        "entry_id": format!("cap-{i}"), "permission_set": "view-password-execute",
        "approver_id": "bob@example.com", "duration_seconds": 600, "message": "cap",
    })
}

/// A JSON body of exactly `bytes` bytes: a request whose message fills it.
fn body_of(bytes: usize) -> String {
    let skeleton = prod_db_request(3600, "").to_string();
    let pad = bytes.saturating_sub(skeleton.len());
    prod_db_request(3600, &"m".repeat(pad)).to_string()
}

fn window_from(start: DateTime<Utc>) -> Value {
    json!({ "start": rfc3339(start), "end": rfc3339(start + TimeDelta::hours(1)) })
}

/// Withdraws alice's or erin's pending requests, so that a case starts afresh.
async fn withdraw_all(app: &TestApp, token: &str) {
    let list = app
        .get("/v1/requests?scope=mine&status=pending&limit=500", token)
        .await
        .expect_json(200);
    for r in tempaccess_tests::app::items(&list) {
        app.cancel(token, &str_field(r, "id"), &json!({}))
            .await
            .expect(200);
    }
}

async fn probe(app: &TestApp, fx: &Fixture, probe: Probe) -> Reply {
    match probe {
        Probe::Message(n) => {
            app.submit_request(&fx.alice, &prod_db_request(3600, &"m".repeat(n)))
                .await
        }
        Probe::Duration(s) => {
            app.submit_request(&fx.alice, &prod_db_request(s, "d"))
                .await
        }
        Probe::StartsIn(ahead) => {
            let now = app.now().await;
            let mut body = prod_db_request(3600, "w");
            body.as_object_mut().unwrap().remove("duration_seconds");
            body["window"] = window_from(now + ahead);
            app.submit_request(&fx.alice, &body).await
        }
        Probe::Comment(n) => {
            let id = app.submit_ok(&fx.alice, &prod_db_request(3600, "c")).await;
            app.decide(
                &fx.bob,
                &id,
                &json!({ "decision": "deny", "comment": "c".repeat(n) }),
            )
            .await
        }
        Probe::Reason(n) => {
            let id = app.submit_ok(&fx.alice, &prod_db_request(3600, "r")).await;
            app.decide(&fx.bob, &id, &json!({ "decision": "approve" }))
                .await
                .expect(200);
            let reply = app
                .cancel(&fx.bob, &id, &json!({ "reason": "r".repeat(n) }))
                .await;
            if !reply.status.is_success() {
                app.cancel(&fx.alice, &id, &json!({})).await.expect(200);
            }
            reply
        }
        Probe::Page(n) => {
            app.get(&format!("/v1/requests?scope=mine&limit={n}"), &fx.alice)
                .await
        }
        Probe::BodyBytes(n) => {
            app.post_raw("/v1/requests", Some(&fx.alice), body_of(n))
                .await
        }
        Probe::AnonymousBodyBytes(n) => {
            let body = format!(r#"{{"token":"{}"}}"#, "A".repeat(n));
            app.post_raw("/v1/decisions/lookup", None, body).await
        }
        Probe::Nesting(depth) => {
            let body = format!(r#"{{"token":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
            app.post_raw("/v1/decisions/lookup", None, body).await
        }
        Probe::SecondPendingForEntry => {
            app.submit_ok(&fx.erin, &cap_request(1)).await;
            app.submit_request(&fx.erin, &cap_request(1)).await
        }
        Probe::PendingAfter(n) => {
            for i in 1..=n {
                app.submit_ok(&fx.erin, &cap_request(i)).await;
            }
            app.submit_request(&fx.erin, &cap_request(n + 1)).await
        }
    }
}

#[tokio::test]
async fn each_limit_holds_at_its_edge_with_a_clear_error() {
    let mut app = TestApp::spawn().await;
    // A connection per call: a refused large body closes its connection, and a pooled
    // client may otherwise send its next call on a connection about to close.
    app.client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let fx = fixture(&app).await;
    let mut failures = Vec::new();
    for case in CASES {
        withdraw_all(&app, &fx.alice).await;
        withdraw_all(&app, &fx.erin).await;
        let reply = probe(&app, &fx, case.probe).await;
        let cell = format!("{}: {}", case.limit, case.input);
        if reply.status.as_u16() != case.status {
            let body: String = reply.body.chars().take(300).collect();
            failures.push(format!(
                "{cell}: want {}, got {}: {body}",
                case.status, reply.status
            ));
            continue;
        }
        if let Some(code) = case.code {
            if reply.error_code().as_deref() != Some(code) {
                failures.push(format!("{cell}: want code {code}: {reply}"));
            }
            if reply.error_message().is_none_or(|m| m.is_empty()) {
                failures.push(format!("{cell}: no message: {reply}"));
            }
            if reply.error_field().as_deref() != case.field {
                failures.push(format!("{cell}: want field {:?}: {reply}", case.field));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The table as RELIABILITY.md prints it.
fn markdown() -> String {
    let mut out =
        String::from("| limit | input | status | code | field |\n|---|---|---|---|---|\n");
    for c in CASES {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            c.limit,
            c.input,
            c.status,
            c.code.map(|c| format!("`{c}`")).unwrap_or_default(),
            c.field.map(|f| format!("`{f}`")).unwrap_or_default(),
        ));
    }
    out
}

#[test]
fn the_limits_in_reliability_md_are_the_ones_tested() {
    tempaccess_tests::doc::generated_section(
        "limits",
        &markdown(),
        "TEMPACCESS_BLESS=1 cargo test -p tempaccess-tests --test e2e limits",
    );
}
