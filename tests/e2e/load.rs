//! Load: concurrent requesters and approvers doing whole workflows (submit, decide or
//! withdraw, read the timeline) against the real server on loopback for a fixed time.
//! No error but the expected conflicts; afterwards every request is accounted for, by
//! status, against what the server lists. Prints the latency of each call (p50, p99)
//! and the workflows per second, for RELIABILITY.md: a figure, not an assertion.
//!
//! The suite's run lasts 3 s; `TEMPACCESS_LOAD_SECONDS=60` is the long one (`cargo xtask
//! soak`). With `TEMPACCESS_E2E_BACKEND=aws` the same load runs on the AWS adapters on
//! the emulator, for the relative figure.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Client, Method};
use serde_json::{Value, json};
use tempaccess_tests::app::{TestApp, items, str_field};

const REQUESTERS: usize = 8;

/// What one worker saw.
#[derive(Default)]
struct Tally {
    /// Latencies per kind of call, in microseconds.
    latencies: BTreeMap<&'static str, Vec<u64>>,
    /// Final status per request this worker made, as the replies said.
    statuses: BTreeMap<String, String>,
    workflows: usize,
    /// Replies other than the expected ones.
    unexpected: Vec<String>,
    conflicts: usize,
}

struct Caller {
    client: Client,
    base: String,
}

impl Caller {
    async fn call(
        &self,
        tally: &mut Tally,
        kind: &'static str,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut builder = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let started = Instant::now();
        let response = builder.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        tally
            .latencies
            .entry(kind)
            .or_default()
            .push(started.elapsed().as_micros() as u64);
        (status, body)
    }
}

async fn worker(
    caller: Arc<Caller>,
    me: String,
    approvers: BTreeMap<&'static str, String>,
    until: Instant,
    seed: u64,
) -> Tally {
    let mut tally = Tally::default();
    let entries = [
        ("prod-db", "bob"),
        ("payroll-rdp", "dave"),
        ("billing-api-key", "dave"),
    ];
    let mut n = seed as usize;
    while Instant::now() < until {
        let (entry, approver) = entries[n % entries.len()];
        n += 1;
        let body = json!({
            "entry_id": entry, "permission_set": "view-password-execute",
            "approver_id": format!("{approver}@example.com"), "duration_seconds": 3600,
            "message": "load",
        });
        let (status, created) = caller
            .call(
                &mut tally,
                "submit",
                Method::POST,
                "/v1/requests",
                &me,
                Some(body),
            )
            .await;
        if status != 201 {
            tally.unexpected.push(format!("submit: {status} {created}"));
            continue;
        }
        let id = str_field(&created, "id");
        let token = &approvers[approver];
        let (path, who, body, kind, want) = match n % 3 {
            0 => (
                format!("/v1/requests/{id}/decision"),
                token.as_str(),
                json!({ "decision": "approve" }),
                "decide",
                "active",
            ),
            1 => (
                format!("/v1/requests/{id}/decision"),
                token.as_str(),
                json!({ "decision": "deny", "comment": "load" }),
                "decide",
                "denied",
            ),
            _ => (
                format!("/v1/requests/{id}/cancel"),
                me.as_str(),
                json!({}),
                "cancel",
                "cancelled",
            ),
        };
        let (status, reply) = caller
            .call(&mut tally, kind, Method::POST, &path, who, Some(body))
            .await;
        match status {
            200 => {
                tally.statuses.insert(id.clone(), want.to_owned());
            }
            409 => tally.conflicts += 1,
            _ => tally.unexpected.push(format!("{kind}: {status} {reply}")),
        }
        let (status, detail) = caller
            .call(
                &mut tally,
                "timeline",
                Method::GET,
                &format!("/v1/requests/{id}"),
                &me,
                None,
            )
            .await;
        if status != 200 {
            tally
                .unexpected
                .push(format!("timeline: {status} {detail}"));
        }
        // An active grant is ended by its requester every other time, so that the
        // load also ends grants (and rotates passwords).
        if want == "active" && n.is_multiple_of(2) {
            let (status, reply) = caller
                .call(
                    &mut tally,
                    "end early",
                    Method::POST,
                    &format!("/v1/requests/{id}/cancel"),
                    &me,
                    Some(json!({})),
                )
                .await;
            match status {
                200 => {
                    tally.statuses.insert(id.clone(), "revoked".to_owned());
                }
                _ => tally
                    .unexpected
                    .push(format!("end early: {status} {reply}")),
            }
        }
        tally.workflows += 1;
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at] as f64 / 1000.0
}

#[tokio::test]
async fn whole_workflows_under_load_are_all_accounted_for() {
    let seconds = std::env::var("TEMPACCESS_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3u64);
    let app = TestApp::spawn().await;
    let users: Vec<Value> = (1..=REQUESTERS)
        .map(|i| json!({ "email": format!("load{i}@example.com"), "name": format!("Load {i}"), "roles": [] }))
        .collect();
    app.import(&json!({ "users": users, "entries": [] })).await;
    let mut approvers = BTreeMap::new();
    for who in ["bob", "dave"] {
        approvers.insert(who, app.login(who).await);
    }
    let mut requesters = Vec::new();
    for i in 1..=REQUESTERS {
        requesters.push(app.login(&format!("load{i}")).await);
    }
    let caller = Arc::new(Caller {
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client"),
        base: app.base_url.clone(),
    });

    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (i, me) in requesters.into_iter().enumerate() {
        tasks.push(tokio::spawn(worker(
            caller.clone(),
            me,
            approvers.clone(),
            until,
            i as u64,
        )));
    }
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.expect("a worker");
        for (kind, mut l) in t.latencies {
            all.latencies.entry(kind).or_default().append(&mut l);
        }
        all.statuses.extend(t.statuses);
        all.workflows += t.workflows;
        all.unexpected.extend(t.unexpected);
        all.conflicts += t.conflicts;
    }
    let elapsed = started.elapsed();
    assert!(
        all.unexpected.is_empty(),
        "{} unexpected replies: {:?}",
        all.unexpected.len(),
        &all.unexpected[..all.unexpected.len().min(10)]
    );
    assert!(all.workflows > 0, "the load ran");

    // Count in == count out, by status, against what the server lists.
    let carol = app.login("carol").await;
    let mut server: BTreeMap<String, usize> = BTreeMap::new();
    let mut listed = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/requests?scope=all&limit=500&cursor={c}"),
            None => "/v1/requests?scope=all&limit=500".to_owned(),
        };
        let page = app.get(&path, &carol).await.expect_json(200);
        for r in items(&page) {
            let id = str_field(r, "id");
            if all.statuses.contains_key(&id) {
                listed += 1;
            }
            *server.entry(str_field(r, "status")).or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut client: BTreeMap<String, usize> = BTreeMap::new();
    for status in all.statuses.values() {
        *client.entry(status.clone()).or_default() += 1;
    }
    assert_eq!(listed, all.statuses.len(), "every request is listed");
    assert_eq!(server, client, "the server's statuses are the replies'");

    let mut line = format!(
        "load ({}): {} requesters for {seconds} s: {} workflows in {:.1} s = {:.1} workflows/s, \
         {} conflicts;",
        if app.is_aws() {
            "aws on the emulator"
        } else {
            "sqlite"
        },
        REQUESTERS,
        all.workflows,
        elapsed.as_secs_f64(),
        all.workflows as f64 / elapsed.as_secs_f64(),
        all.conflicts,
    );
    for (kind, latencies) in &mut all.latencies {
        latencies.sort_unstable();
        line.push_str(&format!(
            " {kind} p50 {:.1} ms p99 {:.1} ms (n={});",
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
            latencies.len()
        ));
    }
    eprintln!("{line}");
}
