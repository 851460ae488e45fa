//! Real built function binaries driven through the Lambda Runtime API: a small stub of
//! the API hands each binary one event and collects its answer, as Lambda would.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tempaccess_tests::app::built_binary;
use tempaccess_tests::aws_world::AwsWorld;
use tempaccess_tests::moto;
use tokio::sync::mpsc;

/// One invocation's outcome as the runtime reported it.
#[derive(Debug)]
enum Reply {
    Response(Value),
    Error(Value),
}

#[derive(Clone)]
struct Stub {
    event: Arc<Mutex<Option<Value>>>,
    replies: mpsc::UnboundedSender<Reply>,
}

async fn next(State(stub): State<Stub>) -> impl IntoResponse {
    let event = stub.event.lock().unwrap().take();
    match event {
        Some(event) => {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", "req-1".parse().unwrap());
            headers.insert(
                "lambda-runtime-deadline-ms",
                "4102444800000".parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:tempaccess"
                    .parse()
                    .unwrap(),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".parse().unwrap(),
            );
            (headers, event.to_string()).into_response()
        }
        // One event per test: later polls wait until the process is stopped.
        None => std::future::pending().await,
    }
}

async fn response(State(stub): State<Stub>, Path(_id): Path<String>, body: String) -> &'static str {
    let _ = stub.replies.send(Reply::Response(
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    ));
    "{}"
}

async fn error(State(stub): State<Stub>, body: String) -> &'static str {
    let _ = stub.replies.send(Reply::Error(
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    ));
    "{}"
}

/// Runs `binary` under the stub with `event`, against `world`; returns its reply and
/// what it logged.
async fn invoke(binary: &str, world: &AwsWorld, event: Value) -> (Reply, String) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let stub = Stub {
        event: Arc::new(Mutex::new(Some(event))),
        replies: tx,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(stub);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let s = &world.settings;
    let mut child = tokio::process::Command::new(built_binary(binary))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", binary)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_ENDPOINT_URL", moto::url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("TEMPACCESS_TABLE", &s.table_name)
        .env("TEMPACCESS_MAIL_FROM", &s.mail_from)
        .env("TEMPACCESS_SCHEDULE_GROUP", &s.schedule_group)
        .env("TEMPACCESS_SCHEDULER_ROLE_ARN", &s.scheduler_role_arn)
        .env("TEMPACCESS_REVOKE_FUNCTION_ARN", &s.revoke_function_arn)
        .env("TEMPACCESS_SITE_URL", &s.site_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the function binary");
    let reply = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the function answers within a minute")
        .expect("a reply");
    child.kill().await.ok();
    let output = child.wait_with_output().await.expect("output");
    let logs = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (reply, logs)
}

#[tokio::test]
async fn the_report_binary_answers_an_api_gateway_event() {
    let world = AwsWorld::new().await;
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/apigw-v2-jwt.json")).unwrap();
    event["rawPath"] = json!("/v1/requests");
    event["rawQueryString"] = json!("scope=all");
    event["requestContext"]["http"]["path"] = json!("/v1/requests");
    let (reply, logs) = invoke("tempaccess-report", &world, event).await;
    let Reply::Response(response) = reply else {
        panic!("the function failed: {reply:?}\n{logs}");
    };
    assert_eq!(response["statusCode"], 200, "{response}\n{logs}");
    let body: Value = serde_json::from_str(response["body"].as_str().expect("a body")).unwrap();
    assert_eq!(body["items"], json!([]), "{body}");
    let headers = &response["headers"];
    assert_eq!(headers["cache-control"], "no-store", "{response}");
    // Logs are JSON lines for CloudWatch.
    let line = logs
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON log line in:\n{logs}"));
    serde_json::from_str::<Value>(line).expect("a JSON log line");
}

#[tokio::test]
async fn the_revoke_binary_sweeps_from_a_scheduler_event() {
    let world = AwsWorld::new().await;
    let (reply, logs) = invoke("tempaccess-revoke", &world, json!({"sweep": true})).await;
    let Reply::Response(report) = reply else {
        panic!("the function failed: {reply:?}\n{logs}");
    };
    assert_eq!(
        report,
        json!({"ended": 0, "expired": 0, "mails_sent": 0, "mails_failed": 0})
    );

    let (reply, logs) = invoke("tempaccess-revoke", &world, json!({"unexpected": 1})).await;
    let Reply::Error(error) = reply else {
        panic!("a bad event must fail: {reply:?}\n{logs}");
    };
    assert_eq!(error["errorType"], "Permanent.BadEvent", "{error}");
}
