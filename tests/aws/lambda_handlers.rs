//! The Lambda functions' handlers fed API Gateway HTTP API (payload v2) events with
//! JWT claims, and scheduler events for revoke, on the AWS adapters in the emulator.

use chrono::TimeDelta;
use serde_json::{Value, json};
use tempaccess_core::audit::EventKind;
use tempaccess_http::Function;
use tempaccess_tests::apigw::{Who, event};
use tempaccess_tests::app::decision_tokens;
use tempaccess_tests::aws_world::AwsWorld;

async fn invoke(world: &AwsWorld, function: Function, event: String) -> (u16, Value) {
    tempaccess_tests::apigw::invoke(&world.service, function, event).await
}

fn prod_db_body(seconds: i64) -> Value {
    json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
           "approver_id": "bob@example.com", "duration_seconds": seconds, "message": "hotfix"})
}

#[tokio::test]
async fn the_http_functions_run_the_workflow_from_api_gateway_events() {
    let world = AwsWorld::new().await;

    let (status, me) = invoke(
        &world,
        Function::Report,
        event(Who::Carol, "GET", "/v1/me", None),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "carol@example.com");
    assert_eq!(
        me["roles"],
        json!(["admin"]),
        "cognito:groups arrives as the string \"[admins]\""
    );

    let (status, body) = invoke(
        &world,
        Function::Report,
        event(Who::Nobody, "GET", "/v1/me", None),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    let (status, created) = invoke(
        &world,
        Function::Request,
        event(Who::Alice, "POST", "/v1/requests", Some(prod_db_body(3600))),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();

    // A route of another function is not served here.
    let (status, _) = invoke(
        &world,
        Function::Cancel,
        event(Who::Alice, "GET", "/v1/entries", None),
    )
    .await;
    assert_eq!(status, 404);

    let (status, list) = invoke(
        &world,
        Function::Report,
        event(Who::Alice, "GET", "/v1/requests?scope=all", None),
    )
    .await;
    assert_eq!(status, 403, "only admins see every request: {list}");
    let (status, list) = invoke(
        &world,
        Function::Report,
        event(Who::Carol, "GET", "/v1/requests?scope=all", None),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["id"], json!(id));

    // The approver's mail went out through SES with the link.
    let mails = world.sent_mail().await;
    let token = mails
        .iter()
        .flat_map(|m| decision_tokens(&m.body))
        .next()
        .unwrap_or_else(|| panic!("no decision link in {mails:?}"));

    let (status, page) = invoke(
        &world,
        Function::Decide,
        event(
            Who::Nobody,
            "POST",
            "/v1/decisions/lookup",
            Some(json!({"token": token})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["decidable"], true);

    let (status, approved) = invoke(
        &world,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            &format!("/v1/requests/{id}/decision"),
            Some(json!({"decision": "approve", "duration_seconds": 1800})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "active");

    // The grant's end is scheduled in EventBridge Scheduler.
    let grant = tempaccess_core::ids::RequestId::parse(&id).expect("id");
    let schedule = world.schedule(&grant).await.expect("the end is scheduled");
    let ends_at = approved["ends_at"].as_str().expect("ends_at");
    assert_eq!(
        schedule.schedule_expression(),
        Some(tempaccess_aws::scheduler::at_expression(
            chrono::DateTime::parse_from_rfc3339(ends_at)
                .expect("time")
                .into()
        ))
        .as_deref()
    );

    let (status, secret) = invoke(
        &world,
        Function::Report,
        event(Who::Alice, "GET", "/v1/entries/prod-db/secret", None),
    )
    .await;
    assert_eq!(status, 200, "{secret}");
    assert_eq!(secret["username"], "prod_db_admin");

    let (status, ended) = invoke(
        &world,
        Function::Cancel,
        event(
            Who::Alice,
            "POST",
            &format!("/v1/requests/{id}/cancel"),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["status"], "revoked");
    assert!(
        world.schedule(&grant).await.is_none(),
        "the schedule is deleted after an early end"
    );

    let (status, _) = invoke(
        &world,
        Function::Report,
        event(Who::Alice, "GET", "/v1/entries/prod-db/secret", None),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_revoke_function_ends_grants_and_sweeps_from_scheduler_events() {
    let world = AwsWorld::new().await;
    let (_, created) = invoke(
        &world,
        Function::Request,
        event(Who::Alice, "POST", "/v1/requests", Some(prod_db_body(600))),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let (status, _) = invoke(
        &world,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            &format!("/v1/requests/{id}/decision"),
            Some(json!({"decision": "approve"})),
        ),
    )
    .await;
    assert_eq!(status, 200);

    let mut end: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-end.json")).expect("json");
    end["grant_id"] = json!(id);

    // Delivered early (clock skew): nothing changes.
    let early = tempaccess_revoke::handle(&world.service, end.clone())
        .await
        .expect("handled");
    assert_eq!(early["outcome"], "not_due");

    world.clock.advance(TimeDelta::seconds(600));
    let first = tempaccess_revoke::handle(&world.service, end.clone())
        .await
        .expect("handled");
    assert_eq!(first["outcome"], "ended");
    // The scheduler delivers at least once: a repeat does no harm.
    let again = tempaccess_revoke::handle(&world.service, end.clone())
        .await
        .expect("handled");
    assert_eq!(again["outcome"], "already_done");
    let events = world
        .store
        .events(&tempaccess_core::ids::RequestId::parse(&id).unwrap())
        .await
        .unwrap();
    let ended = events
        .iter()
        .filter(|e| e.kind == tempaccess_core::audit::EventKind::Ended)
        .count();
    assert_eq!(ended, 1, "one end recorded: {events:?}");
    let ended_mails = world
        .sent_mail()
        .await
        .iter()
        .filter(|m| m.subject.starts_with("Access ended"))
        .count();
    assert_eq!(ended_mails, 1, "one ended notice");

    let sweep: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-sweep.json")).expect("json");
    let report = tempaccess_revoke::handle(&world.service, sweep)
        .await
        .expect("swept");
    assert_eq!(report["ended"], 0, "{report}");

    for bad in [
        json!({"grant": "x"}),
        json!({"grant_id": "not-an-id"}),
        json!({"sweep": false}),
        json!([]),
    ] {
        let err = tempaccess_revoke::handle(&world.service, bad.clone())
            .await
            .expect_err("refused");
        let diagnostic: lambda_runtime::Diagnostic = err.into();
        assert_eq!(diagnostic.error_type, "Permanent.BadEvent", "{bad}");
    }
}

/// `event` with one more header.
fn with_header(event: String, name: &str, value: &str) -> String {
    let mut e: Value = serde_json::from_str(&event).expect("an event");
    e["headers"][name] = json!(value);
    e.to_string()
}

#[tokio::test]
async fn a_retried_invocation_of_every_http_function_does_no_harm() {
    let world = AwsWorld::new().await;
    // Lambda may run an event again (a retry after a timeout), even while the first
    // run is still going: each function's retry, at once with the first.
    let submit = with_header(
        event(Who::Alice, "POST", "/v1/requests", Some(prod_db_body(600))),
        "idempotency-key",
        "retried-submit",
    );
    let (first, again) = tokio::join!(
        invoke(&world, Function::Request, submit.clone()),
        invoke(&world, Function::Request, submit.clone()),
    );
    assert_eq!((first.0, again.0), (201, 201), "{first:?} {again:?}");
    assert_eq!(first.1["id"], again.1["id"], "one request");
    let id = first.1["id"].as_str().expect("an id").to_owned();
    let later = invoke(&world, Function::Request, submit).await;
    assert_eq!(later.1["id"], id.as_str(), "a later retry too");

    let decide = event(
        Who::Bob,
        "POST",
        &format!("/v1/requests/{id}/decision"),
        Some(json!({"decision": "approve"})),
    );
    let (a, b) = tokio::join!(
        invoke(&world, Function::Decide, decide.clone()),
        invoke(&world, Function::Decide, decide),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");

    let report = event(Who::Alice, "GET", &format!("/v1/requests/{id}"), None);
    let (a, b) = tokio::join!(
        invoke(&world, Function::Report, report.clone()),
        invoke(&world, Function::Report, report),
    );
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!(a.1["request"], b.1["request"], "a read changes nothing");

    let cancel = event(
        Who::Alice,
        "POST",
        &format!("/v1/requests/{id}/cancel"),
        Some(json!({})),
    );
    let (a, b) = tokio::join!(
        invoke(&world, Function::Cancel, cancel.clone()),
        invoke(&world, Function::Cancel, cancel),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");

    let events = world
        .store
        .events(&tempaccess_core::ids::RequestId::parse(&id).unwrap())
        .await
        .unwrap();
    let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count();
    assert_eq!(count(EventKind::Requested), 1, "{events:?}");
    assert_eq!(count(EventKind::Approved), 1, "{events:?}");
    assert_eq!(count(EventKind::Revoked), 1, "{events:?}");
    assert_eq!(count(EventKind::Rotated), 1, "{events:?}");
    let mails = world.sent_mail().await;
    let subjects = |prefix: &str| {
        mails
            .iter()
            .filter(|m| m.subject.starts_with(prefix))
            .count()
    };
    assert_eq!(subjects("Access request:"), 1, "the approver asked once");
    assert_eq!(subjects("Approved:"), 1, "the requester told once");
}
