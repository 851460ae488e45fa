//! Who may call what: every route against every role, as one table.
//!
//! Roles: alice (requester of every request here), bob (the approver named on them),
//! carol (admin), dave (an approver of other entries, uninvolved here), no token, and a
//! token the server never issued.

use reqwest::Method;
use serde_json::{Value, json};
use tempaccess_tests::app::{TestApp, payroll_request, prod_db_request, str_field};

const ROLES: [&str; 6] = ["alice", "bob", "carol", "dave", "no token", "bogus token"];

/// What a row's `{id}` stands for: a new request made for each call, so that a call that
/// changes state never affects another.
#[derive(Clone, Copy)]
enum Target {
    /// No `{id}`; `{pending}`, `{grant}` and `{link}` name the shared fixtures.
    Shared,
    /// `{id}` is a new pending request of alice's, approver bob.
    FreshPending,
    /// `{id}` is a new active grant of alice's, approved by bob.
    FreshGrant,
}

struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    target: Target,
    /// Expected status per role, in the order of [`ROLES`]; `None` where the contract
    /// does not say.
    expect: [Option<u16>; 6],
}

const fn row(method: &'static str, path: &'static str, expect: [Option<u16>; 6]) -> Row {
    Row {
        method,
        path,
        body: None,
        target: Target::Shared,
        expect,
    }
}

const fn with_body(
    method: &'static str,
    path: &'static str,
    body: &'static str,
    target: Target,
    expect: [Option<u16>; 6],
) -> Row {
    Row {
        method,
        path,
        body: Some(body),
        target,
        expect,
    }
}

const OK: Option<u16> = Some(200);
const CREATED: Option<u16> = Some(201);
const UNAUTH: Option<u16> = Some(401);
const FORBID: Option<u16> = Some(403);
const NOT_FOUND: Option<u16> = Some(404);
const REJECT: Option<u16> = Some(422);
const UNSAID: Option<u16> = None;

const SIGNED_IN_ONLY: [Option<u16>; 6] = [OK, OK, OK, OK, UNAUTH, UNAUTH];
const PARTIES_ONLY: [Option<u16>; 6] = [OK, OK, OK, FORBID, UNAUTH, UNAUTH];

const ROWS: &[Row] = &[
    row("GET", "/v1/me", SIGNED_IN_ONLY),
    row("GET", "/v1/entries", SIGNED_IN_ONLY),
    // alice holds an active grant on prod-db (the shared {grant}).
    row(
        "GET",
        "/v1/entries/prod-db/secret",
        [OK, FORBID, FORBID, FORBID, UNAUTH, UNAUTH],
    ),
    row(
        "GET",
        "/v1/entries/billing-api-key/secret",
        [FORBID, FORBID, FORBID, FORBID, UNAUTH, UNAUTH],
    ),
    row(
        "GET",
        "/v1/entries/no-such-entry/secret",
        [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, UNAUTH, UNAUTH],
    ),
    row("GET", "/v1/requests?scope=mine", SIGNED_IN_ONLY),
    row("GET", "/v1/requests?scope=approvals", SIGNED_IN_ONLY),
    row(
        "GET",
        "/v1/requests?scope=all",
        [FORBID, FORBID, OK, FORBID, UNAUTH, UNAUTH],
    ),
    row("GET", "/v1/requests/{pending}", PARTIES_ONLY),
    row("GET", "/v1/requests/{grant}", PARTIES_ONLY),
    row("GET", "/v1/access", SIGNED_IN_ONLY),
    // dave is billing-api-key's only approver: naming himself is refused.
    with_body(
        "POST",
        "/v1/requests",
        r#"{"entry_id":"billing-api-key","permission_set":"view-password-execute","approver_id":"dave@example.com","duration_seconds":600,"message":"matrix"}"#,
        Target::Shared,
        [CREATED, CREATED, CREATED, REJECT, UNAUTH, UNAUTH],
    ),
    with_body(
        "POST",
        "/v1/requests/{id}/decision",
        r#"{"decision":"approve"}"#,
        Target::FreshPending,
        [FORBID, OK, FORBID, FORBID, UNAUTH, UNAUTH],
    ),
    with_body(
        "POST",
        "/v1/requests/{id}/decision",
        r#"{"decision":"deny","comment":"matrix"}"#,
        Target::FreshPending,
        [FORBID, OK, FORBID, FORBID, UNAUTH, UNAUTH],
    ),
    with_body(
        "POST",
        "/v1/requests/{id}/cancel",
        r#"{}"#,
        Target::FreshPending,
        [OK, UNSAID, UNSAID, FORBID, UNAUTH, UNAUTH],
    ),
    with_body(
        "POST",
        "/v1/requests/{id}/cancel",
        r#"{"reason":"matrix"}"#,
        Target::FreshGrant,
        [OK, OK, OK, FORBID, UNAUTH, UNAUTH],
    ),
    // Anyone holding the link sees what the mail showed (the anonymous route of a
    // deployed API carries no sign-in; locally a signed-in caller other than bob is
    // refused)…
    with_body(
        "POST",
        "/v1/decisions/lookup",
        r#"{"token":"{link}"}"#,
        Target::Shared,
        [FORBID, OK, FORBID, FORBID, OK, UNSAID],
    ),
    // …and signed in, the page is the approver's alone.
    with_body(
        "POST",
        "/v1/decisions/open",
        r#"{"token":"{link}"}"#,
        Target::Shared,
        [FORBID, OK, FORBID, FORBID, UNAUTH, UNAUTH],
    ),
    // The local mailbox: on the AWS backend mail goes to SES and the route answers 404.
    row("GET", "/v1/dev/mail", [OK, OK, OK, OK, OK, UNSAID]),
];

struct Fixture {
    tokens: Vec<String>,
    pending: String,
    grant: String,
    link: String,
}

impl Fixture {
    async fn new(app: &TestApp) -> Fixture {
        let mut tokens = Vec::new();
        for name in &ROLES[..4] {
            tokens.push(app.login(name).await);
        }
        // On payroll-rdp: prod-db is left free for the fresh requests of each row (a
        // requester has one pending request per entry).
        let (created, link) = app
            .submit_and_get_link(&tokens[0], &payroll_request(3600, "shared pending"))
            .await;
        let pending = str_field(&created, "id");
        let grant = active_grant(app, &tokens[0], &tokens[1]).await;
        Fixture {
            tokens,
            pending,
            grant,
            link,
        }
    }

    fn token(&self, role: usize) -> Option<&str> {
        match role {
            0..=3 => Some(&self.tokens[role]),
            4 => None,
            _ => Some("bogus-token-the-server-never-issued"),
        }
    }

    fn fill(&self, template: &str, id: Option<&str>) -> String {
        let mut s = template
            .replace("{pending}", &self.pending)
            .replace("{grant}", &self.grant)
            .replace("{link}", &self.link);
        if let Some(id) = id {
            s = s.replace("{id}", id);
        }
        s
    }
}

async fn active_grant(app: &TestApp, alice: &str, bob: &str) -> String {
    let id = app.submit_ok(alice, &prod_db_request(3600, "grant")).await;
    app.decide(bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn every_route_against_every_role() {
    let app = TestApp::spawn().await;
    let fx = Fixture::new(&app).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut last_fresh: Option<String> = None;

    for row in ROWS {
        for (role, want) in row.expect.iter().enumerate() {
            let Some(mut want) = *want else { continue };
            if row.path == "/v1/dev/mail" && app.is_aws() {
                want = 404;
            }
            // A requester has one pending request per entry: a fresh one the last row
            // left pending is withdrawn before the next is sent.
            if !matches!(row.target, Target::Shared)
                && let Some(last) = last_fresh.take()
                && app.status_of(&fx.tokens[0], &last).await == "pending"
            {
                app.cancel(&fx.tokens[0], &last, &json!({}))
                    .await
                    .expect(200);
            }
            let (id, before) = match row.target {
                Target::Shared => (None, None),
                Target::FreshPending => {
                    let fresh = app
                        .submit_ok(&fx.tokens[0], &prod_db_request(3600, "fresh"))
                        .await;
                    last_fresh = Some(fresh.clone());
                    (Some(fresh), Some("pending"))
                }
                Target::FreshGrant => (
                    Some(active_grant(&app, &fx.tokens[0], &fx.tokens[1]).await),
                    Some("active"),
                ),
            };
            let path = fx.fill(row.path, id.as_deref());
            let body: Option<Value> = row.body.map(|b| {
                serde_json::from_str(&fx.fill(b, id.as_deref())).expect("a JSON body in the table")
            });
            let method = Method::from_bytes(row.method.as_bytes()).expect("a method");
            let reply = app.call(method, &path, fx.token(role), body.as_ref()).await;
            checked += 1;

            let cell = format!("{} {} as {}", row.method, row.path, ROLES[role]);
            if reply.status.as_u16() != want {
                let body: String = reply.body.chars().take(200).collect();
                failures.push(format!("{cell}: want {want}, got {}: {body}", reply.status));
                continue;
            }
            if reply.header("cache-control") != Some("no-store") {
                failures.push(format!(
                    "{cell}: Cache-Control is {:?}",
                    reply.header("cache-control")
                ));
            }
            let code = match want {
                401 => Some("unauthenticated"),
                403 => Some("forbidden"),
                404 => Some("not_found"),
                422 => Some("rejected"),
                _ => None,
            };
            if let Some(code) = code {
                // 404's code is not part of the contract; only check that there is one.
                let got = reply.error_code();
                let ok = if want == 404 {
                    got.is_some()
                } else {
                    got.as_deref() == Some(code)
                };
                if !ok {
                    failures.push(format!(
                        "{cell}: want error code {code}, got {:?}",
                        reply.error_code()
                    ));
                }
            }
            // A refused call changes nothing.
            if let (Some(id), Some(before)) = (&id, before)
                && !reply.status.is_success()
            {
                let now = app.status_of(&fx.tokens[2], id).await;
                if now != before {
                    failures.push(format!(
                        "{cell}: refused, yet the request went {before} → {now}"
                    ));
                }
            }
        }
    }

    assert!(checked > 80, "the table was walked: {checked} calls");
    assert!(
        failures.is_empty(),
        "{} of {checked} calls did not match the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
