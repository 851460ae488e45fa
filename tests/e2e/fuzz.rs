//! Property runs over arbitrary input (proptest): JSON bodies, query strings and path
//! ids against each function's router in process, on the SQLite store with the demo
//! data; and the CSV report, the mails' HTML and text parts rendered from arbitrary
//! strings. What must hold, whatever comes in:
//!
//! - the routers never answer 5xx; every 4xx is the JSON error body with a code and a
//!   message, and every 400 names the field at fault;
//! - a refused call writes nothing (the store's requests, timelines and the outbox read
//!   the same before and after it);
//! - no CSV cell starts with what a spreadsheet reads as a formula, and every cell reads
//!   back as written;
//! - the HTML part holds no markup but the product's own, the text part no line but its
//!   own outside the quoted text, and no subject a control character.
//!
//! A few hundred cases each in the suite, from a fixed seed. `cargo xtask fuzz` runs
//! the same targets long: `PROPTEST_CASES` cases a round, fresh rounds until
//! `TEMPACCESS_FUZZ_SECONDS` have passed, from `TEMPACCESS_FUZZ_SEED` (printed; the
//! same seed replays a run).

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use chrono::TimeDelta;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use tempaccess_core::Timestamp;
use tempaccess_core::entry::Caller;
use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::mail::{self, Context};
use tempaccess_core::report;
use tempaccess_core::request::{AccessRequest, Grant};
use tempaccess_core::testing::{caller, every_request, hour, pending};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{Requested, TimeFrame};
use tempaccess_http::caller::{claims_of, context_with_claims};
use tempaccess_http::{AppState, Function, router};
use tower::ServiceExt;

use crate::service::{World, world_with};

/// The seed of the suite's runs: the same cases every time.
const SUITE_SEED: u64 = 0x7e3a_9c01;

/// Cases a round: `PROPTEST_CASES`, else 256.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Runs `check` on values of `strategy`, a round of [`cases`] at a time from the seed,
/// until the time `TEMPACCESS_FUZZ_SECONDS` gives has passed (one round without it).
/// A failure is shrunk to its smallest case and reported with the seed and round.
fn fuzz<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let seed = std::env::var("TEMPACCESS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SUITE_SEED);
    let deadline = std::env::var("TEMPACCESS_FUZZ_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(|s| Instant::now() + Duration::from_secs(s));
    let started = Instant::now();
    let (mut round, mut total) = (0u64, 0u64);
    loop {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..16].copy_from_slice(&round.to_le_bytes());
        let config = Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        if let Err(e) = runner.run(&strategy, &check) {
            panic!("fuzz {name}: {e}\n(replay: TEMPACCESS_FUZZ_SEED={seed}, round {round})");
        }
        total += u64::from(cases());
        round += 1;
        if deadline.is_none_or(|d| Instant::now() >= d) {
            break;
        }
    }
    eprintln!(
        "fuzz {name}: {total} cases in {round} rounds, {:.1?}, TEMPACCESS_FUZZ_SEED={seed}",
        started.elapsed()
    );
}

// ---- input for the routers ---------------------------------------------------------

/// Field names the bodies and queries know, so that arbitrary values reach the checks
/// behind the parser and not only its "unknown field".
const FIELDS: &[&str] = &[
    "entry_id",
    "permission_set",
    "approver_id",
    "duration_seconds",
    "window",
    "start",
    "end",
    "message",
    "decision",
    "comment",
    "token",
    "reason",
];

const QUERY_KEYS: &[&str] = &[
    "scope",
    "status",
    "entry_id",
    "requester",
    "approver",
    "from",
    "to",
    "order",
    "limit",
    "cursor",
    "count",
    "upcoming",
];

/// Strings that reach edges: markup, formulas, controls, direction overrides, long,
/// dates, numbers, ids and addresses of the demo data.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[a-z0-9@.:+=<>&'\"\\-_ %\\\\/\t\n\r\u{0}\u{1b}\u{202e}\u{2066}]{0,40}",
        1 => prop::sample::select(vec![
            "", " ", "prod-db", "lab-vm", "payroll-rdp", "billing-api-key",
            "view-password-execute", "execute", "bob@example.com", "frank@example.com",
            "alice@example.com", "approve", "deny", "mine", "approvals", "all", "pending",
            "active", "newest", "oldest", "true", "false", "0", "-1", "500", "501",
            "9223372036854775807", "2030-03-01T10:00:00Z", "2030-03-01", "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z", "2030-03-01T10:00:00+14:00", "=cmd|' /C calc'!A0",
        ]).prop_map(str::to_owned),
        1 => (1usize..3000).prop_map(|n| "x".repeat(n)),
    ]
}

/// Arbitrary JSON, its keys often ones the API knows.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => text(),
    ]
}

/// A body the route would take, its fields then replaced, dropped or added to.
fn near_valid(valid: Value) -> impl Strategy<Value = Value> {
    let Value::Object(fields) = valid else {
        unreachable!("bodies are objects")
    };
    let names: Vec<String> = fields.keys().cloned().collect();
    prop::collection::vec(
        (0..4u8, prop::sample::select(names), key(), json_value()),
        1..4,
    )
    .prop_map(move |edits| {
        let mut body = fields.clone();
        for (what, field, extra, value) in edits {
            match what {
                0 => {
                    body.remove(&field);
                }
                1 => {
                    body.insert(extra, value);
                }
                _ => {
                    body.insert(field, value);
                }
            }
        }
        Value::Object(body)
    })
}

/// What a caller may send as a body.
#[derive(Debug, Clone)]
enum Sent {
    Json(Value),
    Bytes(Vec<u8>, &'static str),
}

fn body_for(valid: Value) -> impl Strategy<Value = Sent> {
    prop_oneof![
        4 => near_valid(valid).prop_map(Sent::Json),
        2 => json_value().prop_map(Sent::Json),
        1 => (
            prop::collection::vec(any::<u8>(), 0..200),
            prop::sample::select(vec!["application/json", "text/plain", "application/x-www-form-urlencoded", "application/problem+json"]),
        )
            .prop_map(|(b, t)| Sent::Bytes(b, t)),
    ]
}

/// Who calls.
#[derive(Debug, Clone, Copy)]
enum Who {
    Nobody,
    Alice,
    Bob,
    Carol,
}

fn who() -> impl Strategy<Value = Who> {
    prop::sample::select(vec![Who::Nobody, Who::Alice, Who::Bob, Who::Carol])
}

impl Who {
    fn caller(self) -> Option<Caller> {
        match self {
            Who::Nobody => None,
            Who::Alice => Some(caller("alice")),
            Who::Bob => Some(caller("bob")),
            Who::Carol => Some(caller("carol")),
        }
    }
}

/// Percent-encodes what a URI may not carry as it is; keeps `=`, `&`, `%` and `+`
/// (a stray `%` is a malformed escape the server must read).
fn uri_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~=&%+".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A path id: the real request's, or anything.
fn path_id() -> impl Strategy<Value = Option<String>> {
    prop_oneof![2 => Just(None), 1 => text().prop_map(Some)]
}

/// One call: the function, the method and path (with `{id}`), and what it carries.
#[derive(Debug, Clone)]
struct Call {
    function: Function,
    method: &'static str,
    path: &'static str,
    id: Option<String>,
    query: String,
    csv: bool,
    idempotency_key: Option<String>,
    body: Option<Sent>,
    who: Who,
}

fn post_calls() -> impl Strategy<Value = Call> {
    let submit = json!({"entry_id":"lab-vm","permission_set":"view-password-execute",
        "approver_id":"frank@example.com","duration_seconds":3600,"message":"deploy"});
    let decision = json!({"decision":"approve","comment":"ok","duration_seconds":600,
        "window":{"start":"2030-03-01T10:00:00Z","end":"2030-03-01T11:00:00Z"},
        "permission_set":"view-password-execute"});
    let cancel = json!({"reason":"done"});
    let lookup = json!({"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    let by_link = json!({"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","decision":"deny","comment":"no"});
    let routes: Vec<(Function, &'static str, Value)> = vec![
        (Function::Request, "/v1/requests", submit),
        (Function::Decide, "/v1/requests/{id}/decision", decision),
        (Function::Cancel, "/v1/requests/{id}/cancel", cancel),
        (Function::Decide, "/v1/decisions/lookup", lookup.clone()),
        (Function::Decide, "/v1/decisions/open", lookup),
        (Function::Decide, "/v1/decisions", by_link),
    ];
    prop::sample::select(routes).prop_flat_map(|(function, path, valid)| {
        (
            body_for(valid),
            who(),
            path_id(),
            prop::option::of("[ -~]{0,140}"),
        )
            .prop_map(move |(body, who, id, key)| Call {
                function,
                method: "POST",
                path,
                id,
                query: String::new(),
                csv: false,
                idempotency_key: key,
                body: Some(body),
                who,
            })
    })
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(
            (prop_oneof![4 => prop::sample::select(QUERY_KEYS).prop_map(str::to_owned), 1 => text()], text()),
            0..6,
        )
        .prop_map(|pairs| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                q.append_pair(&k, &v);
            }
            q.finish()
        }),
        1 => text().prop_map(|s| uri_text(&s)),
    ]
}

fn get_calls() -> impl Strategy<Value = Call> {
    let routes: Vec<(Function, &'static str)> = vec![
        (Function::Report, "/v1/requests"),
        (Function::Report, "/v1/requests"),
        (Function::Report, "/v1/access"),
        (Function::Report, "/v1/requests/{id}"),
        (Function::Report, "/v1/entries/{id}/secret"),
        (Function::Report, "/v1/me"),
        (Function::Request, "/v1/entries"),
    ];
    (
        prop::sample::select(routes),
        query(),
        any::<bool>(),
        who(),
        path_id(),
    )
        .prop_map(|((function, path), query, csv, who, id)| Call {
            function,
            method: "GET",
            path,
            id,
            query,
            csv,
            idempotency_key: None,
            body: None,
            who,
        })
}

// ---- the routers and what they must do ----------------------------------------------

/// The four routers on one world, with a pending request of alice's to bob.
struct Api {
    rt: tokio::runtime::Runtime,
    world: World,
    routers: HashMap<&'static str, Router>,
    pending: RefCell<RequestId>,
    /// How many answers of each status.
    statuses: RefCell<std::collections::BTreeMap<u16, usize>>,
}

fn name(f: Function) -> &'static str {
    match f {
        Function::Request => "request",
        Function::Decide => "decide",
        Function::Cancel => "cancel",
        Function::Report => "report",
    }
}

impl Api {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let world = rt.block_on(world_with(|_| {}));
        let routers = Function::ALL
            .into_iter()
            .map(|f| {
                let state = AppState {
                    service: world.service.clone(),
                };
                (name(f), router(f, state))
            })
            .collect();
        let api = Self {
            rt,
            world,
            routers,
            pending: RefCell::new(RequestId::new(chrono::Utc::now(), 0)),
            statuses: RefCell::default(),
        };
        api.new_pending();
        api
    }

    /// A fresh pending request of alice's to bob, for the calls on `{id}`.
    fn new_pending(&self) {
        let cmd = tempaccess_core::wire::NewRequestBody {
            entry_id: "prod-db".into(),
            permission_set: "view-password-execute".into(),
            approver_id: "bob@example.com".into(),
            duration_seconds: Some(3600),
            window: None,
            message: Some("fuzz".into()),
        }
        .parse()
        .expect("a request");
        let alice = caller("alice");
        let r = self.rt.block_on(async {
            // Withdraw whatever of alice's is open on the entry, then ask again.
            for open in self
                .world
                .store
                .open_requests_of(&alice.email, self.world.service.now())
                .await
                .expect("open requests")
            {
                let _ = self
                    .world
                    .service
                    .cancel(&alice, &open.id, Message::default())
                    .await;
            }
            self.world.service.submit(&alice, cmd, None).await
        });
        *self.pending.borrow_mut() = r.expect("submitted").id;
    }

    /// What the store holds: every request, its timeline, and the mail sent.
    fn state(&self) -> String {
        self.rt.block_on(async {
            let store = &self.world.store;
            let page = store
                .query(&every_request(self.world.service.now()))
                .await
                .expect("a report");
            let mut out = format!("{:?}\n", page.items);
            for r in &page.items {
                out.push_str(&format!(
                    "{:?}\n",
                    store.events(&r.id).await.expect("events")
                ));
            }
            out.push_str(&format!("{} mails", self.world.mail.sent().len()));
            out
        })
    }

    /// Makes the call; its status and body.
    fn call(&self, c: &Call) -> (u16, Vec<u8>, Option<String>) {
        let id = match &c.id {
            Some(raw) => uri_text(raw),
            None => self.pending.borrow().to_string(),
        };
        let mut uri = c.path.replace("{id}", &id);
        if !c.query.is_empty() {
            uri = format!("{uri}?{}", c.query);
        }
        let mut request = Request::builder().method(c.method).uri(&uri);
        if c.csv {
            request = request.header(header::ACCEPT, "text/csv");
        }
        if let Some(key) = &c.idempotency_key {
            request = request.header("idempotency-key", key.as_str());
        }
        let body = match &c.body {
            None => Body::empty(),
            Some(Sent::Json(v)) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            Some(Sent::Bytes(b, content_type)) => {
                request = request.header(header::CONTENT_TYPE, *content_type);
                Body::from(b.clone())
            }
        };
        let mut request = request.body(body).expect("a request");
        if let Some(who) = c.who.caller() {
            request
                .extensions_mut()
                .insert(context_with_claims(claims_of(&who)));
        }
        let router = self.routers[name(c.function)].clone();
        self.rt.block_on(async {
            let response = router.oneshot(request).await.expect("the router answers");
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            (status, bytes.to_vec(), retry_after)
        })
    }

    /// The call answers as promised, and writes nothing when refused.
    fn check(&self, c: &Call) -> Result<(), TestCaseError> {
        let before = self.state();
        let (status, body, _) = self.call(c);
        *self.statuses.borrow_mut().entry(status).or_default() += 1;
        let text = String::from_utf8_lossy(&body);
        prop_assert!(status < 500, "{status} for {c:?}: {text}");
        if status >= 400 {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| TestCaseError::fail(format!("{status} not JSON ({e}): {text}")))?;
            let error = &v["error"];
            prop_assert!(
                error["code"].as_str().is_some_and(|s| !s.is_empty()),
                "{status} without a code: {text}"
            );
            prop_assert!(
                error["message"]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "{status} without a message: {text}"
            );
            if status == 400 {
                prop_assert!(
                    error["field"].as_str().is_some_and(|s| !s.is_empty()),
                    "400 naming no field: {text} for {c:?}"
                );
            }
            prop_assert_eq!(
                &self.state(),
                &before,
                "written though refused ({}): {}",
                status,
                text
            );
        } else if c.method == "POST" {
            // A call that took: a fresh pending request for the next ones.
            self.new_pending();
        }
        Ok(())
    }
}

#[test]
fn arbitrary_bodies_never_fail_the_server_and_refusals_write_nothing() {
    let api = Api::new();
    fuzz("bodies", post_calls(), |c| api.check(&c));
    eprintln!("fuzz bodies: statuses {:?}", api.statuses.borrow());
}

#[test]
fn arbitrary_query_strings_and_ids_never_fail_the_server() {
    let api = Api::new();
    fuzz("queries", get_calls(), |c| api.check(&c));
    eprintln!("fuzz queries: statuses {:?}", api.statuses.borrow());
}

// ---- rendering -----------------------------------------------------------------------

/// Free text as the API takes it (a message, a comment, a reason).
fn message() -> impl Strategy<Value = Message> {
    text().prop_filter_map("not a message", |s| Message::parse(&s, "message").ok())
}

/// A request with arbitrary text wherever people or admins write it, in every state
/// the mails and the report speak of.
fn odd_request() -> impl Strategy<Value = (AccessRequest, HashMap<Email, String>)> {
    (
        text(),
        message(),
        message(),
        message(),
        text(),
        text(),
        any::<bool>(),
        -100_000i64..100_000,
    )
        .prop_map(
            |(entry, msg, comment, reason, alice, bob, window, offset)| {
                let mut r = pending(hour());
                r.entry_name = entry;
                r.message = msg;
                if window {
                    let start = r.created_at + TimeDelta::minutes(offset);
                    r.requested = Requested::Window(
                        TimeFrame::new(start, start + TimeDelta::hours(2)).expect("a frame"),
                    );
                }
                r.decision_comment = Some(comment);
                r.revoke_reason = Some(reason);
                r.decided_by = Some(r.approver.clone());
                r.decided_at = Some(r.created_at);
                r.grant = Some(Grant {
                    starts_at: r.created_at,
                    ends_at: r.created_at + TimeDelta::hours(1),
                    permission_set: r.permission_set.clone(),
                });
                r.revoked_by = Some(r.approver.clone());
                r.revoked_at = Some(r.created_at + TimeDelta::minutes(5));
                let names =
                    HashMap::from([(r.requester.clone(), alice), (r.approver.clone(), bob)]);
                (r, names)
            },
        )
}

/// What a spreadsheet reads as the start of a formula (OWASP's list, and the
/// full-width signs some spreadsheets take for the ASCII ones).
fn starts_a_formula(cell: &str) -> bool {
    cell.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ])
}

/// Reads CSV (RFC 4180) back into rows of cells.
fn read_csv(s: &str) -> Result<Vec<Vec<String>>, String> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_start => {
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(c) => cell.push(c),
                        None => return Err("an unclosed quote".into()),
                    }
                }
                at_start = false;
                if !matches!(chars.peek(), Some(',') | Some('\r') | None) {
                    return Err(format!("text after a closing quote: {:?}", chars.peek()));
                }
            }
            '"' => return Err("a quote inside an unquoted cell".into()),
            ',' => {
                row.push(std::mem::take(&mut cell));
                at_start = true;
            }
            '\r' => {
                if chars.next() != Some('\n') {
                    return Err("a bare CR".into());
                }
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            '\n' => return Err("a bare LF outside quotes".into()),
            c => {
                cell.push(c);
                at_start = false;
            }
        }
    }
    if !row.is_empty() || !cell.is_empty() {
        return Err("no line end after the last row".into());
    }
    Ok(rows)
}

#[test]
fn the_csv_report_defuses_formulas_and_reads_back_as_written() {
    let now: Timestamp = tempaccess_core::testing::t0() + TimeDelta::minutes(10);
    fuzz(
        "csv",
        prop::collection::vec(odd_request(), 1..4),
        |requests| {
            let items: Vec<AccessRequest> = requests.into_iter().map(|(r, _)| r).collect();
            let csv = report::csv(&items, now, &[]);
            let rows = read_csv(&csv).map_err(TestCaseError::fail)?;
            prop_assert_eq!(rows.len(), items.len() + 1);
            for (r, cells) in items.iter().zip(&rows[1..]) {
                let written = report::row(r, now, &[]);
                prop_assert_eq!(cells.len(), written.len());
                for (cell, value) in cells.iter().zip(written.iter()) {
                    prop_assert!(!starts_a_formula(cell), "a formula cell: {:?}", cell);
                    let read = if starts_a_formula(value) {
                        cell.strip_prefix('\'').unwrap_or(cell)
                    } else {
                        cell.as_str()
                    };
                    prop_assert_eq!(read, value.as_str());
                }
            }
            Ok(())
        },
    );
}

/// The mails a request can cause, rendered with `names`.
fn mails(r: &AccessRequest, names: &HashMap<Email, String>) -> Vec<tempaccess_core::ports::Mail> {
    let cx = Context {
        names,
        site_url: "https://tempaccess.example.com",
    };
    vec![
        mail::with_link(
            mail::decision_requested(&cx, r, "View password, Execute", true),
            "https://tempaccess.example.com/decide#token=abc",
        ),
        mail::approved(&cx, r, "View password", "View password, Execute"),
        mail::denied(&cx, r),
        mail::cancelled(&cx, r),
        mail::revoked(&cx, r, &r.requester),
        mail::ended(&cx, r),
        mail::expired(&cx, r),
    ]
}

/// The product's own markup: every `<` in a mail's HTML opens one of these.
const TAGS: &[&str] = &[
    "!doctype html",
    "html",
    "body",
    "p",
    "table",
    "tr",
    "th",
    "td",
    "a",
    "blockquote",
    "strong",
    "br",
];

fn html_is_the_products_own(html: &str) -> Result<(), String> {
    for (i, _) in html.match_indices('<') {
        let rest = &html[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let known = TAGS.iter().any(|t| {
            rest.strip_prefix(t)
                .is_some_and(|after| after.starts_with(['>', ' ']))
        });
        if !known {
            return Err(format!(
                "markup not of the product's: {:?}",
                &html[i..(i + 40).min(html.len())]
            ));
        }
    }
    for (i, _) in html.match_indices('&') {
        let rest = &html[i..];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
            .iter()
            .any(|e| rest.starts_with(e))
        {
            return Err(format!(
                "a bare &: {:?}",
                &html[i..(i + 20).min(html.len())]
            ));
        }
    }
    Ok(())
}

/// How many lines a person's text takes when quoted (none when empty): a line ends at
/// a line feed, a carriage return (alone or before a line feed) or a Unicode line or
/// paragraph separator, as some mail readers break there.
fn quoted_lines(s: &str) -> usize {
    if s.is_empty() {
        return 0;
    }
    s.replace("\r\n", "\n")
        .split(['\n', '\r', '\u{2028}', '\u{2029}'])
        .count()
}

/// The text each of [`mails`] quotes.
fn quoted(r: &AccessRequest) -> [&str; 7] {
    let comment = r.decision_comment.as_ref().map_or("", Message::as_str);
    let reason = r.revoke_reason.as_ref().map_or("", Message::as_str);
    [r.message.as_str(), comment, comment, reason, reason, "", ""]
}

#[test]
fn mails_escape_their_html_and_keep_their_lines_and_headers() {
    fuzz("mail", odd_request(), |(r, names)| {
        // The same mails with plain text everywhere, for the product's own lines.
        // (Empty stays empty: an empty row or quote is left out.)
        let plain_text = |m: &Message| {
            Message::parse(if m.is_empty() { "" } else { "m" }, "message").expect("a message")
        };
        let mut plain = r.clone();
        if !plain.entry_name.is_empty() {
            plain.entry_name = "Entry".into();
        }
        plain.message = plain_text(&r.message);
        plain.decision_comment = r.decision_comment.as_ref().map(plain_text);
        plain.revoke_reason = r.revoke_reason.as_ref().map(plain_text);
        let plain_names: HashMap<Email, String> = names
            .keys()
            .map(|k| (k.clone(), "Name".to_owned()))
            .collect();
        let quotes = quoted(&r).map(quoted_lines);
        let plain_quotes = quoted(&plain).map(quoted_lines);
        for (i, (m, p)) in mails(&r, &names)
            .iter()
            .zip(mails(&plain, &plain_names))
            .enumerate()
        {
            html_is_the_products_own(&m.html).map_err(TestCaseError::fail)?;
            prop_assert!(
                !m.subject.chars().any(char::is_control),
                "a control character in the subject {:?}",
                m.subject
            );
            // Lines break at line feeds only; every line but the quoted text's is the
            // product's own: as many as with plain text.
            prop_assert!(
                !m.text.contains(['\r', '\u{2028}', '\u{2029}']),
                "a line break but a line feed in:\n{}",
                m.text
            );
            let own = m.text.split('\n').count() - quotes[i];
            prop_assert_eq!(
                own,
                p.text.split('\n').count() - plain_quotes[i],
                "lines not the product's in:\n{}",
                m.text
            );
        }
        Ok(())
    });
}
