//! Who may call what: every route against every kind of caller, as one table — the
//! table printed in RELIABILITY.md ("Authorization matrix"), which
//! [`the_matrix_in_reliability_md_is_the_one_tested`] keeps equal to [`ROWS`].
//!
//! The callers, toward requests of alice's on entries approved by bob and dave:
//! nobody signed in; alice, the requester; erin, a user with no part in them; bob, the
//! approver they name; dave, another approver of the same entry; frank, who approves
//! another entry only; carol, an admin; someone holding bob's decision link and no
//! sign-in (the link's token where a route takes one, else sent as a bearer token); and
//! carol's sign-in token after it expired.
//!
//! A request is seen by its requester, its approver and admins. To anyone else it does
//! not exist: they get the very answer an id never issued gets (404, same body), so ids
//! cannot be probed. A party who may see it but not do this gets 403.
//!
//! `TEMPACCESS_BLESS=1 cargo test -p tempaccess-tests --test e2e authz` rewrites the
//! table in RELIABILITY.md from [`ROWS`].

use reqwest::Method;
use serde_json::{Value, json};
use tempaccess_core::token::DecisionToken;
use tempaccess_tests::app::{CAROL, Reply, TestApp, payroll_request, str_field};

/// The kinds of caller, in the order of a row's statuses.
const CALLERS: [&str; 9] = [
    "anonymous",
    "requester",
    "other user",
    "named approver",
    "other approver of the entry",
    "approver of another entry",
    "admin",
    "link holder",
    "expired session",
];
const ANON: usize = 0;
const LINK: usize = 7;
const EXPIRED: usize = 8;
/// The demo (or imported) person behind each signed-in kind of caller.
const PEOPLE: [(usize, &str); 6] = [
    (1, "alice"),
    (2, "erin"),
    (3, "bob"),
    (4, "dave"),
    (5, "frank"),
    (6, "carol"),
];

/// What a row's `{id}` stands for. Fresh ones are made for each call, so that a call
/// that changes state never affects another.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// No `{id}`: `{pending}`, `{grant}`, `{unknown}` and `{link}` name the shared
    /// fixtures.
    Shared,
    /// `{id}` is a new pending request of alice's on `matrix-vm`, approver bob.
    FreshPending,
    /// `{link}` is bob's decision link of a new pending request of alice's.
    FreshLink,
    /// `{id}` is a new active grant of alice's on `matrix-vm`, approved by bob.
    FreshGrant,
}

struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    target: Target,
    /// What `{id}` (or the link) is, for the printed table.
    what: &'static str,
    /// Expected status per kind of caller, in the order of [`CALLERS`].
    expect: [u16; 9],
}

const fn get(path: &'static str, what: &'static str, expect: [u16; 9]) -> Row {
    Row {
        method: "GET",
        path,
        body: None,
        target: Target::Shared,
        what,
        expect,
    }
}

const fn post(
    path: &'static str,
    body: &'static str,
    target: Target,
    what: &'static str,
    expect: [u16; 9],
) -> Row {
    Row {
        method: "POST",
        path,
        body: Some(body),
        target,
        what,
        expect,
    }
}

//                                  anon req other appr other-appr elsewhere admin link expired
const SIGNED_IN: [u16; 9] = [401, 200, 200, 200, 200, 200, 200, 401, 401];
const PARTIES: [u16; 9] = [401, 200, 404, 200, 404, 404, 200, 401, 401];
const ANYONE: [u16; 9] = [200; 9];

/// The table.
const ROWS: &[Row] = &[
    get("/v1/me", "", SIGNED_IN),
    get("/v1/entries", "", SIGNED_IN),
    get(
        "/v1/entries/payroll-rdp/secret",
        "alice holds an active grant on it",
        [401, 200, 403, 403, 403, 403, 403, 401, 401],
    ),
    get(
        "/v1/entries/billing-api-key/secret",
        "nobody holds a grant on it",
        [401, 403, 403, 403, 403, 403, 403, 401, 401],
    ),
    get(
        "/v1/entries/no-such-entry/secret",
        "no such entry",
        [401, 404, 404, 404, 404, 404, 404, 401, 401],
    ),
    get("/v1/requests?scope=mine", "", SIGNED_IN),
    get("/v1/requests?scope=approvals", "", SIGNED_IN),
    get(
        "/v1/requests?scope=all",
        "",
        [401, 403, 403, 403, 403, 403, 200, 401, 401],
    ),
    get("/v1/requests/{pending}", "pending", PARTIES),
    get("/v1/requests/{grant}", "active grant", PARTIES),
    get(
        "/v1/requests/{unknown}",
        "an id never issued",
        [401, 404, 404, 404, 404, 404, 404, 401, 401],
    ),
    get("/v1/access", "", SIGNED_IN),
    // frank is lab-vm's only approver: naming himself is refused.
    post(
        "/v1/requests",
        r#"{"entry_id":"lab-vm","permission_set":"view-password-execute","approver_id":"frank@example.com","duration_seconds":600,"message":"matrix"}"#,
        Target::Shared,
        "for lab-vm, approver frank",
        [401, 201, 201, 201, 201, 422, 201, 401, 401],
    ),
    post(
        "/v1/requests/{id}/decision",
        r#"{"decision":"approve"}"#,
        Target::FreshPending,
        "pending; approve",
        [401, 403, 404, 200, 404, 404, 403, 401, 401],
    ),
    post(
        "/v1/requests/{id}/decision",
        r#"{"decision":"deny","comment":"matrix"}"#,
        Target::FreshPending,
        "pending; deny",
        [401, 403, 404, 200, 404, 404, 403, 401, 401],
    ),
    post(
        "/v1/requests/{unknown}/decision",
        r#"{"decision":"approve"}"#,
        Target::Shared,
        "an id never issued; approve",
        [401, 404, 404, 404, 404, 404, 404, 401, 401],
    ),
    // The requester withdraws; the approver denies instead.
    post(
        "/v1/requests/{id}/cancel",
        r#"{}"#,
        Target::FreshPending,
        "pending; no reason",
        [401, 200, 404, 403, 404, 404, 200, 401, 401],
    ),
    post(
        "/v1/requests/{id}/cancel",
        r#"{"reason":"matrix"}"#,
        Target::FreshGrant,
        "active grant; a reason",
        [401, 200, 404, 200, 404, 404, 200, 401, 401],
    ),
    post(
        "/v1/requests/{unknown}/cancel",
        r#"{"reason":"matrix"}"#,
        Target::Shared,
        "an id never issued; a reason",
        [401, 404, 404, 404, 404, 404, 404, 401, 401],
    ),
    // The decision page signed out shows what the mail showed, to whoever holds the
    // link (a guessed token finds nothing); signed in, it is bob's alone. An expired
    // sign-in is no sign-in: that caller is signed out, with the link.
    post(
        "/v1/decisions/lookup",
        r#"{"token":"{link}"}"#,
        Target::Shared,
        "bob's link (anonymous: a guessed one)",
        [404, 403, 403, 200, 403, 403, 403, 200, 200],
    ),
    post(
        "/v1/decisions/open",
        r#"{"token":"{link}"}"#,
        Target::Shared,
        "bob's link (anonymous: a guessed one)",
        [401, 403, 403, 200, 403, 403, 403, 401, 401],
    ),
    // Deciding by link takes bob signed in (unless the deployment takes links alone,
    // `--link-decisions`: see the trust suite).
    post(
        "/v1/decisions",
        r#"{"token":"{link}","decision":"approve"}"#,
        Target::FreshLink,
        "bob's link (anonymous: a guessed one)",
        [404, 403, 403, 200, 403, 403, 403, 401, 401],
    ),
    get("/v1/openapi.json", "", ANYONE),
    // The embedded default's own routes (loopback, demo data only): sign-in, mailbox
    // (the AWS backend has none: 404), test clock.
    post(
        "/v1/dev/login",
        r#"{"user":"alice"}"#,
        Target::Shared,
        "",
        ANYONE,
    ),
    get("/v1/dev/mail", "", ANYONE),
    get("/v1/dev/clock", "with --test-clock", ANYONE),
];

/// An id no request has (a well-formed ULID).
const UNKNOWN_ID: &str = "01JZZZZZZZZZZZZZZZZZZZZZZZ";

struct Fixture {
    /// Per kind of caller: the bearer token sent, if any.
    bearer: Vec<Option<String>>,
    pending: String,
    grant: String,
    link: String,
    /// A well-formed decision token never issued.
    guess: String,
}

impl Fixture {
    async fn new(app: &TestApp) -> Fixture {
        app.import(&json!({
            "users": [
                { "email": "erin@example.com", "name": "Erin Other", "roles": [] },
                { "email": "frank@example.com", "name": "Frank Elsewhere", "roles": [] },
            ],
            "entries": [
                {
                    "id": "matrix-vm", "name": "Matrix VM", "kind": "remote-session",
                    "approvers": ["bob@example.com", "dave@example.com"],
                    "max_duration_seconds": 14400,
                },
                {
                    "id": "lab-vm", "name": "Lab VM", "kind": "remote-session",
                    "approvers": ["frank@example.com"],
                    "max_duration_seconds": 3600,
                },
            ],
        }))
        .await;
        let mut bearer = vec![None; CALLERS.len()];
        for (kind, person) in PEOPLE {
            bearer[kind] = Some(app.login(person).await);
        }
        bearer[EXPIRED] = Some(app.expired_token(CAROL));
        let (alice, bob) = (bearer[1].clone().unwrap(), bearer[3].clone().unwrap());
        let grant = active_grant(app, &alice, &bob, &payroll_request(3600, "grant")).await;
        let (created, link) = app
            .submit_and_get_link(&alice, &payroll_request(3600, "shared pending"))
            .await;
        // The link holder sends the link where a bearer token goes, too: a link is no
        // sign-in.
        bearer[LINK] = Some(link.clone());
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).expect("randomness");
        Fixture {
            bearer,
            pending: str_field(&created, "id"),
            grant,
            link,
            guess: DecisionToken::from_bytes(random).expose().to_owned(),
        }
    }

    fn alice(&self) -> &str {
        self.bearer[1].as_deref().unwrap()
    }

    fn bob(&self) -> &str {
        self.bearer[3].as_deref().unwrap()
    }

    fn carol(&self) -> &str {
        self.bearer[6].as_deref().unwrap()
    }

    /// The bearer token `caller` sends on `row`: the link holder sends none where the
    /// route takes the link in its body.
    fn bearer_for(&self, row: &Row, caller: usize) -> Option<&str> {
        if caller == LINK && row.body.is_some_and(|b| b.contains("{link}")) {
            return None;
        }
        self.bearer[caller].as_deref()
    }

    fn fill(&self, template: &str, id: Option<&str>, link: &str) -> String {
        template
            .replace("{pending}", &self.pending)
            .replace("{grant}", &self.grant)
            .replace("{unknown}", UNKNOWN_ID)
            .replace("{id}", id.unwrap_or(UNKNOWN_ID))
            .replace("{link}", link)
    }
}

fn matrix_vm_request(message: &str) -> Value {
    json!({
        "entry_id": "matrix-vm",
        "permission_set": "view-password-execute",
        "approver_id": "bob@example.com",
        "duration_seconds": 3600,
        "message": message,
    })
}

async fn active_grant(app: &TestApp, alice: &str, bob: &str, body: &Value) -> String {
    let id = app.submit_ok(alice, body).await;
    app.decide(bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn every_route_against_every_kind_of_caller() {
    let app = TestApp::spawn().await;
    let fx = Fixture::new(&app).await;
    let mut failures = Vec::new();
    let mut observed = Vec::new();
    let mut checked = 0;
    let mut last_fresh: Option<String> = None;

    for row in ROWS {
        let mut seen = [0u16; 9];
        for (caller, &want) in row.expect.iter().enumerate() {
            let want = if row.path == "/v1/dev/mail" && app.is_aws() {
                404
            } else {
                want
            };
            // One pending request per person and entry: a fresh one the last call left
            // pending is withdrawn before the next is made.
            if row.target != Target::Shared
                && let Some(last) = last_fresh.take()
                && app.status_of(fx.alice(), &last).await == "pending"
            {
                app.cancel(fx.alice(), &last, &json!({})).await.expect(200);
            }
            let (id, link, before) = match row.target {
                Target::Shared => (None, fx.link.clone(), None),
                Target::FreshPending => {
                    let id = app.submit_ok(fx.alice(), &matrix_vm_request("fresh")).await;
                    last_fresh = Some(id.clone());
                    (Some(id), fx.link.clone(), Some("pending"))
                }
                Target::FreshLink => {
                    let (created, link) = app
                        .submit_and_get_link(fx.alice(), &matrix_vm_request("fresh link"))
                        .await;
                    let id = str_field(&created, "id");
                    last_fresh = Some(id.clone());
                    (Some(id), link, Some("pending"))
                }
                Target::FreshGrant => {
                    let id =
                        active_grant(&app, fx.alice(), fx.bob(), &matrix_vm_request("fresh")).await;
                    (Some(id), fx.link.clone(), Some("active"))
                }
            };
            let link = if caller == ANON { &fx.guess } else { &link };
            let bearer = fx.bearer_for(row, caller);
            let reply = call(&app, row, &fx, id.as_deref(), link, bearer).await;
            checked += 1;
            seen[caller] = reply.status.as_u16();

            let cell = format!(
                "{} {} ({}) as {}",
                row.method, row.path, row.what, CALLERS[caller]
            );
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
            if let Some(code) = code
                && reply.error_code().as_deref() != Some(code)
            {
                failures.push(format!(
                    "{cell}: want error code {code}, got {:?}",
                    reply.error_code()
                ));
            }
            // A request someone may not see answers as an id never issued does.
            if want == 404
                && (id.is_some() || row.path.contains("{pending}") || row.path.contains("{grant}"))
            {
                let unknown = call_unknown(&app, row, &fx, link, bearer).await;
                if (unknown.status, &unknown.body) != (reply.status, &reply.body) {
                    failures.push(format!(
                        "{cell}: tells an existing request from none: {} vs {unknown}",
                        reply.body
                    ));
                }
            }
            // A refused call changes nothing.
            if let (Some(id), Some(before)) = (&id, before)
                && !reply.status.is_success()
            {
                let now = app.status_of(fx.carol(), id).await;
                if now != before {
                    failures.push(format!(
                        "{cell}: refused, yet the request went {before} → {now}"
                    ));
                }
            }
        }
        observed.push(format!(
            "{} {} ({}): {seen:?}",
            row.method, row.path, row.what
        ));
    }

    assert!(
        checked >= ROWS.len() * CALLERS.len(),
        "the table was walked: {checked} calls"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} calls did not match the table:\n{}\n\nobserved:\n{}",
        failures.len(),
        failures.join("\n"),
        observed.join("\n")
    );
}

async fn call(
    app: &TestApp,
    row: &Row,
    fx: &Fixture,
    id: Option<&str>,
    link: &str,
    bearer: Option<&str>,
) -> Reply {
    call_on(app, row, row.path, fx, id, link, bearer).await
}

/// `row`'s call with `path` for its path.
async fn call_on(
    app: &TestApp,
    row: &Row,
    path: &str,
    fx: &Fixture,
    id: Option<&str>,
    link: &str,
    bearer: Option<&str>,
) -> Reply {
    let path = fx.fill(path, id, link);
    let body: Option<Value> = row
        .body
        .map(|b| serde_json::from_str(&fx.fill(b, id, link)).expect("a JSON body in the table"));
    let method = Method::from_bytes(row.method.as_bytes()).expect("a method");
    app.call(method, &path, bearer, body.as_ref()).await
}

/// The same call on an id never issued.
async fn call_unknown(
    app: &TestApp,
    row: &Row,
    fx: &Fixture,
    link: &str,
    bearer: Option<&str>,
) -> Reply {
    let path = row
        .path
        .replace("{pending}", "{unknown}")
        .replace("{grant}", "{unknown}");
    call_on(app, row, &path, fx, None, link, bearer).await
}

/// The table as RELIABILITY.md prints it.
fn markdown() -> String {
    let mut out = String::from("| route | on | ");
    out.push_str(&CALLERS.join(" | "));
    out.push_str(" |\n|---|---|");
    out.push_str(&"---|".repeat(CALLERS.len()));
    out.push('\n');
    for row in ROWS {
        let what = match (row.target, row.what) {
            (Target::FreshLink, w) => format!("{w}, fresh"),
            (Target::FreshPending | Target::FreshGrant, w) => format!("{w} (`{{id}}`, fresh)"),
            (Target::Shared, w) => w.to_owned(),
        };
        let path = row
            .path
            .replace("{pending}", "{id}")
            .replace("{grant}", "{id}")
            .replace("{unknown}", "{id}");
        out.push_str(&format!("| `{} {path}` | {what} |", row.method));
        for status in row.expect {
            out.push_str(&format!(" {status} |"));
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_matrix_in_reliability_md_is_the_one_tested() {
    tempaccess_tests::doc::generated_section(
        "authz-matrix",
        &markdown(),
        "TEMPACCESS_BLESS=1 cargo test -p tempaccess-tests --test e2e authz",
    );
}
