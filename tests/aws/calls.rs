//! The AWS calls each operation of the workflow makes, counted at the adapters on the
//! emulator. They are counts, not times: a change that adds a call fails here, and
//! BENCHMARKS.md shows them beside their targets (`cargo xtask bench` writes the table
//! from this test when `TEMPACCESS_BENCH_OUT` names a file).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use serde_json::json;
use tempaccess_core::service::NAME_TTL;
use tempaccess_http::Function;
use tempaccess_tests::apigw::{Who, event, invoke};
use tempaccess_tests::aws_world::AwsWorld;
use tempaccess_tests::calls::{CallCounter, CapacityMeter, metered_clients};
use tempaccess_tests::moto;

/// One operation: its name, the calls it made, and the target for it.
struct Row {
    operation: &'static str,
    calls: BTreeMap<String, u32>,
    /// DynamoDB read and write units.
    units: (f64, f64),
    /// The operation's time in process on the emulator (a debug build).
    elapsed: Duration,
    target: &'static str,
}

fn calls(list: &[(&str, u32)]) -> BTreeMap<String, u32> {
    list.iter().map(|(c, n)| ((*c).to_owned(), *n)).collect()
}

fn describe(calls: &BTreeMap<String, u32>) -> String {
    let total: u32 = calls.values().sum();
    let each: Vec<String> = calls.iter().map(|(c, n)| format!("{n} {c}")).collect();
    format!("{total}: {}", each.join(", "))
}

/// Each operation runs in its own function, a process of its own on AWS: the names
/// the service keeps for [`NAME_TTL`] are read again by the next one.
fn next_function(world: &AwsWorld) {
    world.clock.advance(NAME_TTL);
}

/// Public prices, us-east-1 (aws.amazon.com/<service>/pricing as published in 2025):
/// DynamoDB on-demand per million write and read request units (since 2024-11-01),
/// Lambda on arm64 per GB-second and per million requests, an HTTP API per million
/// requests, EventBridge Scheduler per million invocations, Secrets Manager per million
/// API calls, SES per thousand mails.
const PRICE_WRITE_UNITS: f64 = 0.625;
const PRICE_READ_UNITS: f64 = 0.125;
const PRICE_GB_SECOND: f64 = 0.000_013_333_4;
const PRICE_LAMBDA_REQUESTS: f64 = 0.20;
const PRICE_HTTP_API_REQUESTS: f64 = 1.00;
const PRICE_SCHEDULER_INVOCATIONS: f64 = 1.00;
const PRICE_SECRETS_CALLS: f64 = 5.00;
const PRICE_MAILS_PER_THOUSAND: f64 = 0.10;
/// The functions' memory size in `infra/template.yaml`, in GB.
const MEMORY_GB: f64 = 0.25;

/// The capacity each operation consumed, its time, and what a thousand workflows cost.
fn capacity_and_cost(rows: &[Row]) -> String {
    let mut out = String::from(
        "\n| operation | DynamoDB read units | DynamoDB write units | time in process on the emulator |\n|---|---:|---:|---:|\n",
    );
    let (mut read, mut write, mut seconds) = (0.0, 0.0, 0.0);
    for row in rows {
        out += &format!(
            "| {} | {:.1} | {:.0} | {:.0} ms |\n",
            row.operation,
            row.units.0,
            row.units.1,
            row.elapsed.as_secs_f64() * 1000.0
        );
        read += row.units.0;
        write += row.units.1;
        seconds += row.elapsed.as_secs_f64();
    }
    out += &format!(
        "| the whole workflow | {read:.1} | {write:.0} | {:.0} ms |\n",
        seconds * 1000.0
    );
    let count = |name: &str| -> f64 {
        rows.iter()
            .map(|r| r.calls.get(name).copied().unwrap_or(0))
            .sum::<u32>() as f64
    };
    let invocations = rows.len() as f64;
    // The end is the scheduler's invocation; the other operations come through the API.
    let api_requests = invocations - 1.0;
    let thousand = 1000.0 / 1_000_000.0;
    let lines = [
        ("DynamoDB writes", write * PRICE_WRITE_UNITS * thousand),
        ("DynamoDB reads", read * PRICE_READ_UNITS * thousand),
        (
            "Lambda requests",
            invocations * PRICE_LAMBDA_REQUESTS * thousand,
        ),
        (
            "Lambda duration (GB-seconds at 256 MB, the times above)",
            seconds * MEMORY_GB * PRICE_GB_SECOND * 1000.0,
        ),
        (
            "HTTP API requests",
            api_requests * PRICE_HTTP_API_REQUESTS * thousand,
        ),
        (
            "EventBridge Scheduler invocations",
            count("Scheduler.CreateSchedule") * PRICE_SCHEDULER_INVOCATIONS * thousand,
        ),
        (
            "Secrets Manager calls",
            (count("Secrets Manager.GetSecretValue") + count("Secrets Manager.RotateSecret"))
                * PRICE_SECRETS_CALLS
                * thousand,
        ),
    ];
    let total: f64 = lines.iter().map(|(_, c)| c).sum();
    out +=
        "\n| 1,000 workflows (request, approve, reveal, a report page, end) | cost |\n|---|---:|\n";
    for (what, cost) in lines {
        out += &format!("| {what} | ${cost:.5} |\n");
    }
    out += &format!("| **total, without mail** | **${total:.4}** |\n");
    let mails = count("SESv2.SendEmail");
    out += &format!(
        "| mail apart: {mails:.0} mails a workflow | ${:.2} |\n",
        mails * 1000.0 * PRICE_MAILS_PER_THOUSAND / 1000.0
    );
    out
}

#[tokio::test]
async fn each_operation_makes_the_calls_counted() {
    let counter = CallCounter::default();
    let capacity = CapacityMeter::default();
    let sdk = moto::sdk_config().await;
    let world = AwsWorld::on_clients(
        metered_clients(&sdk, counter.clone(), capacity.clone()),
        |_| {},
    )
    .await;
    let service = &world.service;
    capacity
        .know(&world.clients.dynamodb, &world.settings.table_name)
        .await
        .unwrap();
    counter.take(); // the demo data, and the meter's look at it

    let mut rows = Vec::new();
    let started = Instant::now();
    let body = json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
                      "approver_id": "bob@example.com", "duration_seconds": 600,
                      "message": "hotfix"});
    let (status, created) = invoke(
        service,
        Function::Request,
        event(Who::Alice, "POST", "/v1/requests", Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    rows.push(Row {
        operation: "request (submit)",
        calls: counter.take(),
        units: capacity.take(),
        elapsed: started.elapsed(),
        target: "1 write + 1 mail",
    });
    next_function(&world);
    let started = Instant::now();

    let (status, approved) = invoke(
        service,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            &format!("/v1/requests/{id}/decision"),
            Some(json!({"decision": "approve"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    rows.push(Row {
        operation: "approve (signed in)",
        calls: counter.take(),
        units: capacity.take(),
        elapsed: started.elapsed(),
        target: "1 transaction + 1 schedule + 1 mail",
    });
    next_function(&world);
    let started = Instant::now();

    let (status, secret) = invoke(
        service,
        Function::Report,
        event(Who::Alice, "GET", "/v1/entries/prod-db/secret", None),
    )
    .await;
    assert_eq!(status, 200, "{secret}");
    rows.push(Row {
        operation: "reveal (the password during the grant)",
        calls: counter.take(),
        units: capacity.take(),
        elapsed: started.elapsed(),
        target: "≤ 2 reads",
    });
    next_function(&world);
    let started = Instant::now();

    let (status, page) = invoke(
        service,
        Function::Report,
        event(Who::Carol, "GET", "/v1/requests?scope=all", None),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    rows.push(Row {
        operation: "a report page (admin, every request)",
        calls: counter.take(),
        units: capacity.take(),
        elapsed: started.elapsed(),
        target: "1 Query",
    });
    next_function(&world);

    world.clock.advance(TimeDelta::seconds(600));
    let started = Instant::now();
    let ended = tempaccess_revoke::handle(service, json!({"grant_id": id}))
        .await
        .unwrap();
    assert_eq!(ended["outcome"], "ended", "{ended}");
    rows.push(Row {
        operation: "end (the schedule fires)",
        calls: counter.take(),
        units: capacity.take(),
        elapsed: started.elapsed(),
        target: "1 write + 1 mail (+ 1 rotation)",
    });

    if let Ok(path) = std::env::var("TEMPACCESS_BENCH_OUT") {
        let mut table = String::from("| operation | AWS calls | target |\n|---|---|---|\n");
        for row in &rows {
            table += &format!(
                "| {} | {} | {} |\n",
                row.operation,
                describe(&row.calls),
                row.target
            );
        }
        table += &capacity_and_cost(&rows);
        std::fs::write(&path, table).unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    let counted: Vec<(&str, BTreeMap<String, u32>)> =
        rows.into_iter().map(|r| (r.operation, r.calls)).collect();
    assert_eq!(
        counted,
        [
            (
                "request (submit)",
                calls(&[
                    ("DynamoDB.GetItem", 1),
                    ("DynamoDB.Query", 1),
                    ("DynamoDB.BatchGetItem", 1),
                    ("DynamoDB.TransactWriteItems", 1),
                    ("DynamoDB.BatchWriteItem", 1),
                    ("SESv2.SendEmail", 1),
                ])
            ),
            (
                "approve (signed in)",
                calls(&[
                    ("DynamoDB.GetItem", 2),
                    ("DynamoDB.BatchGetItem", 1),
                    ("DynamoDB.TransactWriteItems", 1),
                    ("DynamoDB.DeleteItem", 1),
                    ("Scheduler.CreateSchedule", 1),
                    ("SESv2.SendEmail", 1),
                ])
            ),
            (
                "reveal (the password during the grant)",
                calls(&[
                    ("DynamoDB.GetItem", 2),
                    ("DynamoDB.Query", 1),
                    ("DynamoDB.PutItem", 1),
                    ("Secrets Manager.GetSecretValue", 1),
                ])
            ),
            (
                "a report page (admin, every request)",
                calls(&[("DynamoDB.Query", 1), ("DynamoDB.BatchGetItem", 1)])
            ),
            (
                "end (the schedule fires)",
                calls(&[
                    ("DynamoDB.GetItem", 1),
                    ("DynamoDB.BatchGetItem", 1),
                    ("DynamoDB.TransactWriteItems", 1),
                    ("DynamoDB.DeleteItem", 2),
                    ("DynamoDB.PutItem", 1),
                    ("SESv2.SendEmail", 1),
                    ("Secrets Manager.RotateSecret", 1),
                ])
            ),
        ]
    );
}
