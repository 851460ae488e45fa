//! The first invocation after init: each function's `sam build` bootstrap started
//! against the loopback Runtime API of [`crate::bench_init`], its AWS endpoint the
//! emulator (moto, with the demo data of `tempaccess aws bootstrap --demo`) behind a
//! loopback proxy that keeps connections open as AWS's endpoints do and counts them.
//! Once the function polls, the stub hands it
//! one event (an API Gateway v2 event for a route, with the claims the JWT authorizer
//! passes; for the revoke function a schedule's event and a sweep) and measures from
//! the event handed to the response posted. One process per event, so that every
//! figure is a first invocation.
//!
//! The events run in the order of the workflow, so each finds the data it needs: a
//! request is made, looked up by its link, approved, read, its password revealed, its
//! grant's end schedule delivered (early: the grant is not due, the function finds it
//! so); a second request is cancelled. The proxy tells whether the function opened its
//! connection during init (the warm-up read) or in the invocation, and how long of the
//! invocation the emulator took to answer (moto is slower than AWS's endpoints: the
//! function's own share is the rest).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::bench_init::{RuntimeApi, Seen, first_poll, median, start_with};
use crate::tools::Moto;
use crate::{Workspace, stack};

/// Rounds of the workflow.
pub const RUNS: usize = 5;

/// The table and the schedule group (as `bench_init` names them) and the sender.
const TABLE: &str = "tempaccess-bench";
const MAIL_FROM: &str = "tempaccess@example.com";

/// An API Gateway v2 event (the JWT authorizer's claims, as API Gateway passes them).
const FIXTURE: &str = include_str!("../../tests/fixtures/apigw-v2-jwt.json");

/// Who calls a route.
#[derive(Debug, Clone, Copy)]
enum Who {
    Alice,
    Bob,
    /// Nobody signed in (a decision link opened in a mail client).
    Nobody,
}

/// An API Gateway v2 event for `method path` by `who`.
fn http_event(who: Who, method: &str, path_and_query: &str, body: Option<&Value>) -> String {
    let mut e: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!(query);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    e["routeKey"] = json!(format!("{method} {path}"));
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    if let Some(body) = body {
        e["body"] = json!(body.to_string());
    }
    let claims = &mut e["requestContext"]["authorizer"]["jwt"]["claims"];
    match who {
        Who::Alice => {
            claims["email"] = json!("alice@example.com");
            claims["name"] = json!("Alice Requester");
            claims["cognito:username"] = json!("alice");
            claims["cognito:groups"] = json!("[]");
        }
        Who::Bob => {
            claims["email"] = json!("bob@example.com");
            claims["name"] = json!("Bob Approver");
            claims["cognito:username"] = json!("bob");
            claims["cognito:groups"] = json!("[]");
        }
        Who::Nobody => {
            if let Some(context) = e["requestContext"].as_object_mut() {
                context.remove("authorizer");
            }
            if let Some(headers) = e["headers"].as_object_mut() {
                headers.remove("authorization");
            }
        }
    }
    e.to_string()
}

/// A loopback HTTP proxy to the emulator that keeps its connections open as AWS's
/// endpoints do (moto's server closes each after one response) and notes when each was
/// opened: a function that warmed its connection during init reuses it.
struct Proxy {
    url: String,
    opened: Arc<Mutex<Vec<Instant>>>,
    /// Each request relayed: when it was sent on, and when its answer came back.
    calls: Arc<Mutex<Vec<(Instant, Instant)>>>,
}

impl Proxy {
    fn start(to: &str) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let opened = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let noted = Arc::clone(&opened);
        let timed = Arc::clone(&calls);
        let to = to.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if let Ok(mut list) = noted.lock() {
                    list.push(Instant::now());
                }
                let to = to.clone();
                let timed = Arc::clone(&timed);
                std::thread::spawn(move || {
                    let _ = relay(client, &to, &timed);
                });
            }
        });
        Ok(Self { url, opened, calls })
    }

    /// How long the emulator took to answer the requests sent on from `from` until `to`.
    fn emulator_time(&self, from: Instant, to: Instant) -> Duration {
        let calls = self.calls.lock().expect("the proxy's calls");
        calls
            .iter()
            .filter(|(sent, answered)| *sent >= from && *answered <= to)
            .map(|(sent, answered)| *answered - *sent)
            .sum()
    }

    /// Connections opened before `from`, and from `from` until `to`.
    fn opened_around(&self, from: Instant, to: Instant) -> (usize, usize) {
        let list = self.opened.lock().expect("the proxy's list");
        let before = list.iter().filter(|t| **t < from).count();
        let within = list.iter().filter(|t| **t >= from && **t <= to).count();
        (before, within)
    }

    fn reset(&self) {
        self.opened.lock().expect("the proxy's list").clear();
        self.calls.lock().expect("the proxy's calls").clear();
    }
}

/// Each request of `client`'s connection sent to the emulator on a connection of its
/// own, its response passed back with a length and the connection kept open.
fn relay(client: TcpStream, to: &str, calls: &Mutex<Vec<(Instant, Instant)>>) -> Result<()> {
    // Each message goes out in one write, with Nagle off: a second small write would wait
    // for the peer's delayed acknowledgement (40 ms on Linux).
    client.set_nodelay(true)?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    loop {
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if name.eq_ignore_ascii_case("connection") {
                    continue;
                }
            }
            head.push_str(&line);
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let sent = Instant::now();
        let mut server = TcpStream::connect(to)?;
        server.set_nodelay(true)?;
        let mut request = head.into_bytes();
        request.extend_from_slice(b"connection: close\r\n\r\n");
        request.extend_from_slice(&body);
        server.write_all(&request)?;
        let mut answer = Vec::new();
        server.read_to_end(&mut answer)?;
        if let Ok(mut list) = calls.lock() {
            list.push((sent, Instant::now()));
        }
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .context("an HTTP response from the emulator")?;
        let (answer_head, answer_body) = (&answer[..split], &answer[split + 4..]);
        let answer_head = String::from_utf8_lossy(answer_head);
        let mut lines = answer_head.split("\r\n");
        let status = lines.next().unwrap_or_default();
        let status = status.replacen("HTTP/1.0", "HTTP/1.1", 1);
        let mut out = format!("{status}\r\n");
        for line in lines {
            let name = line.split(':').next().unwrap_or_default();
            if !name.eq_ignore_ascii_case("content-length")
                && !name.eq_ignore_ascii_case("connection")
                && !name.eq_ignore_ascii_case("transfer-encoding")
            {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: keep-alive\r\n\r\n",
            answer_body.len()
        ));
        let mut reply = out.into_bytes();
        reply.extend_from_slice(answer_body);
        writer.write_all(&reply)?;
    }
}

/// `GET path` on the emulator, its body.
fn emulator_get(moto_url: &str, path: &str) -> Result<String> {
    let address = moto_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if !status.contains(" 200 ") {
        bail!("GET {path} on the emulator: {}", status.trim());
    }
    let mut text = String::new();
    reader.read_to_string(&mut text)?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok(body.to_owned())
}

/// The decision token of the newest mail the emulator holds for `to`.
fn newest_token(moto_url: &str, to: &str) -> Result<String> {
    let data: Value = serde_json::from_str(&emulator_get(moto_url, "/moto-api/data.json")?)?;
    let mut messages: Vec<&Value> = data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m.to_string().contains(to))
        .collect();
    messages.reverse();
    for message in messages {
        let text = message.to_string();
        if let Some((_, rest)) = text.split_once("#token=") {
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !token.is_empty() {
                return Ok(token);
            }
        }
    }
    bail!("the emulator holds no decision mail for {to}")
}

/// What one first invocation gave.
struct Outcome {
    init: Duration,
    invocation: Duration,
    /// Of the invocation, the emulator's answers to the function's AWS calls.
    emulator: Duration,
    /// The same event again, when it can be repeated.
    second: Option<Duration>,
    /// The route's status, or the revoke function's result.
    answer: Value,
    /// Connections opened to the AWS endpoint during init, and during the invocation.
    connections: (usize, usize),
}

/// The next event handed and its response: when each happened, and the response.
fn invocation(api: &RuntimeApi) -> Result<(Instant, Instant, String)> {
    let mut handed = None;
    loop {
        match api.next_seen(Duration::from_secs(60)) {
            Some(Seen::Handed(at)) => handed = Some(at),
            Some(Seen::Responded(at, body)) => {
                let handed = handed.context("a response before the event")?;
                return Ok((handed, at, body));
            }
            Some(Seen::Polled(_)) => {}
            None => bail!("no response within 60 s"),
        }
    }
}

/// Starts `function`'s bootstrap (from `packages`), hands it `event` at its first poll,
/// and measures; with `again`, hands it the same event once more (a warm invocation).
fn first_invocation(
    packages: &Path,
    api: &RuntimeApi,
    proxy: &Proxy,
    function: &str,
    event: String,
    again: bool,
) -> Result<Outcome> {
    api.reset();
    proxy.reset();
    if again {
        api.arm(event.clone());
    }
    api.arm(event);
    let bootstrap = packages.join(function).join("bootstrap");
    let started = Instant::now();
    let mut child = start_with(&bootstrap, function, api, &proxy.url, &[])?;
    let measured = (|| {
        let polled = first_poll(api).context("no poll for an event within 60 s")?;
        let first = invocation(api)?;
        let second = if again {
            let (handed, responded, _) = invocation(api)?;
            Some(responded - handed)
        } else {
            None
        };
        anyhow::Ok((polled, first, second))
    })();
    let _ = child.kill();
    let _ = child.wait();
    let (polled, (handed, responded, body), second) =
        measured.with_context(|| format!("{function}'s first invocation"))?;
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Ok(Outcome {
        init: polled - started,
        invocation: responded - handed,
        second,
        emulator: proxy.emulator_time(handed, responded),
        answer: body,
        connections: proxy.opened_around(handed, responded),
    })
}

/// An HTTP response's status and JSON body, from the function's answer.
fn http_answer(answer: &Value) -> (u64, Value) {
    let status = answer["statusCode"].as_u64().unwrap_or(0);
    let body = answer["body"]
        .as_str()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

/// One measured event: which function, what, and the figures over the rounds.
struct Case {
    function: &'static str,
    what: String,
    invocations: Vec<Duration>,
    seconds: Vec<Duration>,
    emulator: Vec<Duration>,
    inits: Vec<Duration>,
    answers: Vec<String>,
    connections: Vec<(usize, usize)>,
}

/// The workflow's events, once, each a first invocation; appends to `cases` (by
/// position across rounds).
fn round(
    packages: &Path,
    api: &RuntimeApi,
    proxy: &Proxy,
    moto_url: &str,
    cases: &mut Vec<Case>,
) -> Result<()> {
    let mut index = 0;
    // Every event but those that change what they act on (a second request, approval or
    // cancel would be refused) is handed twice: the second is a warm invocation.
    let mut measure = |function: &'static str, what: &str, event: String| -> Result<Value> {
        let again = !(what.starts_with("`POST /v1/requests") || what.ends_with("/cancel`"));
        let outcome = first_invocation(packages, api, proxy, function, event, again)?;
        let answer = if function == "RevokeFunction" {
            outcome
                .answer
                .get("outcome")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    if outcome.answer.get("errorType").is_some() {
                        format!("error {}", outcome.answer["errorType"])
                    } else {
                        "done".to_owned()
                    }
                })
        } else {
            http_answer(&outcome.answer).0.to_string()
        };
        if cases.len() <= index {
            cases.push(Case {
                function,
                what: what.to_owned(),
                invocations: Vec::new(),
                seconds: Vec::new(),
                emulator: Vec::new(),
                inits: Vec::new(),
                answers: Vec::new(),
                connections: Vec::new(),
            });
        }
        let case = &mut cases[index];
        case.invocations.push(outcome.invocation);
        case.seconds.extend(outcome.second);
        case.emulator.push(outcome.emulator);
        case.inits.push(outcome.init);
        case.answers.push(answer);
        case.connections.push(outcome.connections);
        index += 1;
        Ok(outcome.answer)
    };
    let request = |entry: &str, approver: &str| {
        json!({"entry_id": entry, "permission_set": "view-password-execute",
               "approver_id": approver, "duration_seconds": 900,
               "message": "first invocation"})
    };

    measure(
        "RequestFunction",
        "`GET /v1/entries`",
        http_event(Who::Alice, "GET", "/v1/entries", None),
    )?;
    let made = measure(
        "RequestFunction",
        "`POST /v1/requests`",
        http_event(
            Who::Alice,
            "POST",
            "/v1/requests",
            Some(&request("prod-db", "bob@example.com")),
        ),
    )?;
    let (status, body) = http_answer(&made);
    let Some(id) = body["id"].as_str().map(str::to_owned) else {
        bail!("the request was not made ({status}): {made}");
    };
    let token = newest_token(moto_url, "bob@example.com")?;
    measure(
        "ReportFunction",
        "`GET /v1/me`",
        http_event(Who::Alice, "GET", "/v1/me", None),
    )?;
    measure(
        "ReportFunction",
        "`GET /v1/requests?scope=mine`",
        http_event(Who::Alice, "GET", "/v1/requests?scope=mine", None),
    )?;
    measure(
        "ReportFunction",
        "`GET /v1/requests/{id}`",
        http_event(Who::Alice, "GET", &format!("/v1/requests/{id}"), None),
    )?;
    measure(
        "DecideFunction",
        "`POST /v1/decisions/lookup` (signed out)",
        http_event(
            Who::Nobody,
            "POST",
            "/v1/decisions/lookup",
            Some(&json!({"token": token})),
        ),
    )?;
    measure(
        "DecideFunction",
        "`POST /v1/decisions/open`",
        http_event(
            Who::Bob,
            "POST",
            "/v1/decisions/open",
            Some(&json!({"token": token})),
        ),
    )?;
    measure(
        "DecideFunction",
        "`POST /v1/requests/{id}/decision` (approve)",
        http_event(
            Who::Bob,
            "POST",
            &format!("/v1/requests/{id}/decision"),
            Some(&json!({"decision": "approve", "comment": "go"})),
        ),
    )?;
    measure(
        "ReportFunction",
        "`GET /v1/access`",
        http_event(Who::Alice, "GET", "/v1/access", None),
    )?;
    measure(
        "ReportFunction",
        "`GET /v1/entries/{id}/secret`",
        http_event(Who::Alice, "GET", "/v1/entries/prod-db/secret", None),
    )?;
    measure(
        "ReportFunction",
        "`GET /v1/openapi.json`",
        http_event(Who::Alice, "GET", "/v1/openapi.json", None),
    )?;
    let second = measure(
        "RequestFunction",
        "`POST /v1/requests` (a second request, to cancel)",
        http_event(
            Who::Alice,
            "POST",
            "/v1/requests",
            Some(&request("billing-api-key", "dave@example.com")),
        ),
    )?;
    let (status, body) = http_answer(&second);
    let Some(second_id) = body["id"].as_str().map(str::to_owned) else {
        bail!("the second request was not made ({status}): {second}");
    };
    let second_token = newest_token(moto_url, "dave@example.com")?;
    measure(
        "DecideFunction",
        "`POST /v1/decisions` (by link, signed out)",
        http_event(
            Who::Nobody,
            "POST",
            "/v1/decisions",
            Some(&json!({"token": second_token, "decision": "approve"})),
        ),
    )?;
    measure(
        "CancelFunction",
        "`POST /v1/requests/{id}/cancel`",
        http_event(
            Who::Alice,
            "POST",
            &format!("/v1/requests/{second_id}/cancel"),
            None,
        ),
    )?;
    measure(
        "RevokeFunction",
        "the grant's end schedule (early)",
        json!({"grant_id": id}).to_string(),
    )?;
    measure(
        "RevokeFunction",
        "the sweep",
        json!({"sweep": true}).to_string(),
    )?;
    Ok(())
}

/// The emulator with the demo data, as the functions' environment names it.
fn emulator(ws: &Workspace) -> Result<Moto> {
    let moto = Moto::start()?;
    let mut build = ws.cargo();
    build.args(["build", "--workspace", "--bin", "tempaccess"]);
    crate::run(build)?;
    let mut bootstrap = std::process::Command::new(ws.bin("tempaccess"));
    bootstrap
        .args(["aws", "bootstrap", "--demo"])
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("TEMPACCESS_TABLE", TABLE)
        .env("TEMPACCESS_SCHEDULE_GROUP", TABLE)
        .env("TEMPACCESS_MAIL_FROM", MAIL_FROM)
        .stdout(std::process::Stdio::null());
    crate::run(bootstrap)?;
    Ok(moto)
}

/// The section's tables, one for each directory of `packages` (laid out as `sam
/// build`'s, `<function>/bootstrap`): each event's first invocation, its init beside
/// it, and where the connection to AWS was opened. The rounds alternate between the
/// directories, so that the machine's noise falls on each.
pub fn tables(ws: &Workspace, runs: usize, packages: &[&Path]) -> Result<Vec<String>> {
    if std::env::consts::ARCH != "aarch64" {
        stack::ensure_qemu()?;
    }
    let moto = emulator(ws)?;
    let proxy = Proxy::start(moto.url.trim_start_matches("http://"))?;
    let api = RuntimeApi::start()?;
    let mut cases: Vec<Vec<Case>> = packages.iter().map(|_| Vec::new()).collect();
    for run in 0..runs {
        for (dir, cases) in packages.iter().zip(&mut cases) {
            round(dir, &api, &proxy, &moto.url, cases)?;
        }
        println!("first invocation: round {} of {runs}", run + 1);
    }
    let under = if std::env::consts::ARCH == "aarch64" {
        String::new()
    } else {
        " (under qemu-aarch64)".to_owned()
    };
    Ok(cases
        .into_iter()
        .map(|cases| {
            let mut table = format!(
                "| function | event | answer | init, exec → first poll | first invocation, event → response{under} | of which the emulator's answers | the same event again | connections to AWS opened in init / in the first invocation |\n\
                 |---|---|---|---:|---:|---:|---:|---|\n"
            );
            for case in cases {
                let mut answers = case.answers.clone();
                answers.dedup();
                let mut connections = case.connections.clone();
                connections.sort();
                connections.dedup();
                let connections: Vec<String> = connections
                    .iter()
                    .map(|(init, invocation)| format!("{init} / {invocation}"))
                    .collect();
                table += &format!(
                    "| {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} |\n",
                    case.function,
                    case.what,
                    answers.join(", "),
                    median(case.inits).as_secs_f64() * 1000.0,
                    median(case.invocations).as_secs_f64() * 1000.0,
                    median(case.emulator).as_secs_f64() * 1000.0,
                    if case.seconds.is_empty() {
                        "–".to_owned()
                    } else {
                        format!("{:.1} ms", median(case.seconds).as_secs_f64() * 1000.0)
                    },
                    connections.join(", ")
                );
            }
            table
        })
        .collect())
}
