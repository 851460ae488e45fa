//! The AWS calls each operation of the workflow makes, counted at the adapters on the
//! emulator. They are counts, not times: a change that adds a call fails here, and
//! BENCHMARKS.md shows them beside their targets (`cargo xtask bench` writes the table
//! from this test when `TEMPACCESS_BENCH_OUT` names a file).

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde_json::json;
use tempaccess_http::Function;
use tempaccess_tests::apigw::{Who, event, invoke};
use tempaccess_tests::aws_world::AwsWorld;
use tempaccess_tests::calls::{CallCounter, intercepted_clients};
use tempaccess_tests::moto;

/// One operation: its name, the calls it made, and the target for it.
struct Row {
    operation: &'static str,
    calls: BTreeMap<String, u32>,
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

#[tokio::test]
async fn each_operation_makes_the_calls_counted() {
    let counter = CallCounter::default();
    let sdk = moto::sdk_config().await;
    let world = AwsWorld::on_clients(intercepted_clients(&sdk, counter.clone()), |_| {}).await;
    let service = &world.service;
    counter.take(); // the demo data

    let mut rows = Vec::new();
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
        target: "1 write + 1 mail",
    });

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
        target: "1 transaction + 1 schedule + 1 mail",
    });

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
        target: "≤ 2 reads",
    });

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
        target: "1 Query",
    });

    world.clock.advance(TimeDelta::seconds(600));
    let ended = tempaccess_revoke::handle(service, json!({"grant_id": id}))
        .await
        .unwrap();
    assert_eq!(ended["outcome"], "ended", "{ended}");
    rows.push(Row {
        operation: "end (the schedule fires)",
        calls: counter.take(),
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
                    ("DynamoDB.GetItem", 5),
                    ("DynamoDB.Query", 1),
                    ("DynamoDB.PutItem", 1),
                    ("DynamoDB.TransactWriteItems", 1),
                    ("DynamoDB.DeleteItem", 1),
                    ("SESv2.SendEmail", 1),
                ])
            ),
            (
                "approve (signed in)",
                calls(&[
                    ("DynamoDB.GetItem", 6),
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
                calls(&[("DynamoDB.GetItem", 2), ("DynamoDB.Query", 24)])
            ),
            (
                "end (the schedule fires)",
                calls(&[
                    ("DynamoDB.GetItem", 3),
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
