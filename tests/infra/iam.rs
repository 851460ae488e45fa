//! Least privilege: each function's policy in the template grants exactly the AWS
//! actions its code calls. Every SDK call is recorded (an interceptor on the clients)
//! while each function runs the whole workflow, failures included, on the emulator.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use chrono::TimeDelta;
use serde_json::json;
use serde_yaml::Value;
use tempaccess_aws::config::Clients;
use tempaccess_aws::wiring::Services;
use tempaccess_core::service::Service;
use tempaccess_core::testing::{FlakyMailer, ManualClock};
use tempaccess_http::Function;
use tempaccess_tests::apigw::{Who, event, invoke};
use tempaccess_tests::aws_world::{system_now, unique_settings};
use tempaccess_tests::calls::intercepted_clients;
use tempaccess_tests::moto;

/// Records the IAM action of every call made through the clients it is attached to.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<BTreeSet<String>>>);

impl Recorder {
    fn actions(&self) -> BTreeSet<String> {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "iam-recorder"
    }

    // Not `read_before_execution`: a client's interceptors see that one before the
    // operation has put its name in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let meta = cfg
            .load::<Metadata>()
            .expect("every operation names itself");
        let prefix = match meta.service() {
            "DynamoDB" => "dynamodb",
            "SESv2" => "ses",
            "Scheduler" => "scheduler",
            "Secrets Manager" => "secretsmanager",
            other => panic!("a call to an unexpected service: {other}"),
        };
        let mut actions = self.0.lock().unwrap();
        match meta.name() {
            // A transaction is authorised item by item.
            "TransactWriteItems" => {
                let input = context
                    .input()
                    .downcast_ref::<TransactWriteItemsInput>()
                    .expect("the transaction's input");
                for item in input.transact_items() {
                    let action = if item.put().is_some() {
                        "PutItem"
                    } else if item.update().is_some() {
                        "UpdateItem"
                    } else if item.delete().is_some() {
                        "DeleteItem"
                    } else {
                        "ConditionCheckItem"
                    };
                    actions.insert(format!("dynamodb:{action}"));
                }
            }
            op => {
                actions.insert(format!("{prefix}:{op}"));
                // Handing the scheduler its role to assume.
                if matches!(op, "CreateSchedule" | "UpdateSchedule") {
                    actions.insert("iam:PassRole".to_owned());
                }
            }
        }
        Ok(())
    }
}

/// One function's service: its own recorded clients on the shared world, and a mailer
/// that fails when told to.
struct Job {
    recorder: Recorder,
    service: Service,
    mail_failures: Arc<FlakyMailer>,
    scheduler: Arc<dyn tempaccess_core::ports::Scheduler>,
}

impl Job {
    fn fail_next_mails(&self, n: u32) {
        self.mail_failures.fail_next(n);
    }
}

/// The AWS services a function's crate links: the features it asks of `tempaccess-aws`
/// in its `Cargo.toml`.
fn linked_services(function: &str) -> Services {
    let path = format!(
        "{}/../functions/{function}/Cargo.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let manifest = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path}"));
    let line = manifest
        .lines()
        .find(|l| l.starts_with("tempaccess-aws"))
        .unwrap_or_else(|| panic!("{path} depends on tempaccess-aws"));
    let features: BTreeSet<&str> = line
        .split_once("features = [")
        .map(|(_, rest)| rest.split(']').next().unwrap_or_default())
        .unwrap_or_default()
        .split(',')
        .map(|f| f.trim().trim_matches('"'))
        .filter(|f| !f.is_empty())
        .collect();
    for f in &features {
        assert!(
            ["ses", "scheduler", "secrets"].contains(f),
            "{path}: unknown feature {f}"
        );
    }
    Services {
        ses: features.contains("ses"),
        scheduler: features.contains("scheduler"),
        secrets: features.contains("secrets"),
    }
}

/// The services (besides DynamoDB) whose actions `actions` name.
fn services_of(actions: &BTreeSet<String>) -> Services {
    let calls = |prefix: &str| actions.iter().any(|a| a.starts_with(prefix));
    Services {
        ses: calls("ses:"),
        scheduler: calls("scheduler:"),
        secrets: calls("secretsmanager:"),
    }
}

/// One function's job, wired with the SDK clients its crate links (`function` is its
/// folder under `functions/`): a call to a service it does not link fails, and is not
/// recorded.
async fn job(
    function: &str,
    settings: &tempaccess_aws::config::AwsSettings,
    clock: Arc<ManualClock>,
) -> Job {
    let sdk = moto::sdk_config().await;
    let recorder = Recorder::default();
    let clients = intercepted_clients(&sdk, recorder.clone());
    let mut ports =
        tempaccess_aws::wiring::ports_for(settings, &clients, clock, linked_services(function));
    let mail_failures = FlakyMailer::new(ports.mailer.clone(), 0);
    ports.mailer = mail_failures.clone();
    Job {
        scheduler: ports.scheduler.clone(),
        recorder,
        service: Service::new(ports, settings.service_settings()),
        mail_failures,
    }
}

/// The actions each function's policy in the template allows.
fn template_actions() -> BTreeMap<String, BTreeSet<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let t: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for name in [
        "RequestFunction",
        "DecideFunction",
        "CancelFunction",
        "ReportFunction",
        "RevokeFunction",
    ] {
        let mut actions = BTreeSet::new();
        for policy in t["Resources"][name]["Properties"]["Policies"]
            .as_sequence()
            .unwrap()
        {
            for statement in policy["Statement"].as_sequence().unwrap() {
                assert_eq!(statement["Effect"], "Allow");
                match &statement["Action"] {
                    Value::String(a) => {
                        actions.insert(a.clone());
                    }
                    Value::Sequence(list) => {
                        actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
                    }
                    other => panic!("unexpected Action {other:?}"),
                }
            }
        }
        out.insert(name.to_owned(), actions);
    }
    out
}

fn body(entry: &str, approver: &str, seconds: i64) -> serde_json::Value {
    json!({"entry_id": entry, "permission_set": "view-password-execute", "approver_id": approver,
           "duration_seconds": seconds, "message": "least privilege"})
}

#[tokio::test]
async fn each_function_is_granted_exactly_what_it_calls() {
    let settings = unique_settings();
    let sdk = moto::sdk_config().await;
    tempaccess_cli::aws::bootstrap_with(&settings, &Clients::new(&sdk), true)
        .await
        .expect("bootstrap");
    let clock = ManualClock::new(system_now());
    let request = job("request", &settings, clock.clone()).await;
    let decide = job("decide", &settings, clock.clone()).await;
    let cancel = job("cancel", &settings, clock.clone()).await;
    let report = job("report", &settings, clock.clone()).await;
    let revoke = job("revoke", &settings, clock.clone()).await;

    // request: entries, submits (one repeated with its key), a mail that fails. A
    // requester has one pending request per entry: each is for another entry.
    invoke(
        &request.service,
        Function::Request,
        event(Who::Alice, "GET", "/v1/entries", None),
    )
    .await;
    let mut keyed = serde_json::from_str::<serde_json::Value>(&event(
        Who::Alice,
        "POST",
        "/v1/requests",
        Some(body("prod-db", "bob@example.com", 600)),
    ))
    .unwrap();
    keyed["headers"]["idempotency-key"] = json!("iam-test-key");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, created) =
            invoke(&request.service, Function::Request, keyed.to_string()).await;
        assert!(status == 201 || status == 200, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids[0], ids[1], "a repeat returns the first");
    ids.pop();
    for (entry, approver, failing) in [
        ("payroll-rdp", "bob@example.com", false),
        ("billing-api-key", "dave@example.com", true),
    ] {
        if failing {
            request.fail_next_mails(1);
        }
        let (status, created) = invoke(
            &request.service,
            Function::Request,
            event(
                Who::Alice,
                "POST",
                "/v1/requests",
                Some(body(entry, approver, 600)),
            ),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    // decide: look a link up signed out and signed in, approve with it signed in, lose
    // a race, a failing mail.
    let token = moto::sent_messages(Some(&settings.mail_from))
        .await
        .iter()
        .flat_map(|m| tempaccess_tests::app::decision_tokens(m["body"].as_str().unwrap_or("")))
        .next()
        .expect("a decision link");
    invoke(
        &decide.service,
        Function::Decide,
        event(
            Who::Nobody,
            "POST",
            "/v1/decisions/lookup",
            Some(json!({"token": token})),
        ),
    )
    .await;
    let (status, page) = invoke(
        &decide.service,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            "/v1/decisions/open",
            Some(json!({"token": token})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let (status, approved) = invoke(
        &decide.service,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            "/v1/decisions",
            Some(json!({"token": token, "decision": "approve"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
    let granted = approved["id"].as_str().unwrap().to_owned();
    invoke(
        &decide.service,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            "/v1/decisions",
            Some(json!({"token": token, "decision": "deny"})),
        ),
    )
    .await;
    // A retried approval schedules the same end again (idempotent), or a moved one.
    let grant_id = tempaccess_core::ids::RequestId::parse(&granted).unwrap();
    let ends_at = chrono::DateTime::parse_from_rfc3339(approved["ends_at"].as_str().unwrap())
        .unwrap()
        .to_utc();
    decide
        .scheduler
        .schedule_end(&grant_id, ends_at)
        .await
        .unwrap();
    decide
        .scheduler
        .schedule_end(&grant_id, ends_at + TimeDelta::minutes(1))
        .await
        .unwrap();
    decide
        .scheduler
        .schedule_end(&grant_id, ends_at)
        .await
        .unwrap();
    decide.fail_next_mails(1);
    let (status, _) = invoke(
        &decide.service,
        Function::Decide,
        event(
            Who::Bob,
            "POST",
            &format!("/v1/requests/{}/decision", ids[1]),
            Some(json!({"decision": "approve"})),
        ),
    )
    .await;
    assert_eq!(status, 200);

    // cancel: withdraw a pending request, end a grant early, a failing mail.
    cancel.fail_next_mails(1);
    invoke(
        &cancel.service,
        Function::Cancel,
        event(
            Who::Alice,
            "POST",
            &format!("/v1/requests/{}/cancel", ids[2]),
            None,
        ),
    )
    .await;
    let (status, _) = invoke(
        &cancel.service,
        Function::Cancel,
        event(
            Who::Carol,
            "POST",
            &format!("/v1/requests/{}/cancel", ids[1]),
            Some(json!({"reason": "done"})),
        ),
    )
    .await;
    assert_eq!(status, 200);

    // report: every read, and a revealed password.
    for path in [
        "/v1/me",
        "/v1/entries/prod-db/secret",
        "/v1/requests",
        "/v1/requests?scope=approvals",
        "/v1/requests?scope=all",
        "/v1/access",
        &format!("/v1/requests/{granted}"),
    ] {
        let who = if path.contains("secret") {
            Who::Alice
        } else {
            Who::Carol
        };
        let (status, reply) = invoke(
            &report.service,
            Function::Report,
            event(who, "GET", path, None),
        )
        .await;
        assert_eq!(status, 200, "{path}: {reply}");
    }

    // revoke: a grant's end (twice), the sweep expiring, ending and retrying mail,
    // with a retry that fails again.
    clock.advance(TimeDelta::seconds(600));
    let end = json!({"grant_id": granted});
    tempaccess_revoke::handle(&revoke.service, end.clone())
        .await
        .unwrap();
    tempaccess_revoke::handle(&revoke.service, end)
        .await
        .unwrap();
    clock.advance(TimeDelta::hours(25));
    revoke.fail_next_mails(1);
    tempaccess_revoke::handle(&revoke.service, json!({"sweep": true}))
        .await
        .unwrap();
    clock.advance(TimeDelta::hours(1));
    tempaccess_revoke::handle(&revoke.service, json!({"sweep": true}))
        .await
        .unwrap();

    let template = template_actions();
    let mut wrong = Vec::new();
    for (name, crate_dir, job) in [
        ("RequestFunction", "request", &request),
        ("DecideFunction", "decide", &decide),
        ("CancelFunction", "cancel", &cancel),
        ("ReportFunction", "report", &report),
        ("RevokeFunction", "revoke", &revoke),
    ] {
        let called = job.recorder.actions();
        let granted = &template[name];
        // A function links no client it does not call (a client it needs but does not
        // link makes its calls fail, and its grants show unused below).
        let linked = linked_services(crate_dir);
        if linked != services_of(&called) {
            wrong.push(format!(
                "{name}: links {linked:?} but calls {:?}",
                services_of(&called)
            ));
        }
        let missing: Vec<_> = called.difference(granted).collect();
        let unused: Vec<_> = granted.difference(&called).collect();
        if !missing.is_empty() || !unused.is_empty() {
            wrong.push(format!(
                "{name}: calls but is not granted {missing:?}; granted but never calls {unused:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
