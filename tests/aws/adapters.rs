//! The SES, EventBridge Scheduler and Secrets Manager adapters and the configuration,
//! over the wire against the emulator (`TEMPACCESS_MOTO_URL`).

use std::collections::HashMap;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode, ScheduleState};
use chrono::{DateTime, Utc};
use serde_json::Value;
use tempaccess_aws::config::{AwsSettings, Clients, ConfigError, vars};
use tempaccess_aws::scheduler::{
    EventBridgeScheduler, ScheduleTarget, at_expression, ensure_group, schedule_name,
};
use tempaccess_aws::secrets::{SecretError, SecretsManagerSecrets, put_credential};
use tempaccess_aws::ses::{SesMailer, ensure_identity};
use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::ports::{Credential, Mail, MailError, Mailer, Scheduler, Secrets};
use tempaccess_tests::moto::{sdk_config, sent_messages, unique};

async fn clients() -> Clients {
    Clients::new(&sdk_config().await)
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a timestamp")
}

fn mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: Email::parse(to).expect("an address"),
        subject: subject.to_owned(),
        text: "Plain part: Ünïcödé ✓".to_owned(),
        html: "<p>HTML part: &lt;b&gt; Ünïcödé ✓</p>".to_owned(),
    }
}

/// The messages the emulator recorded with this subject.
async fn sent_with_subject(subject: &str) -> Vec<Value> {
    sent_messages(None)
        .await
        .iter()
        .filter(|m| m["subject"] == subject)
        .cloned()
        .collect()
}

// ---------------------------------------------------------------- SES

#[tokio::test]
async fn ses_sends_one_message_from_the_verified_sender() {
    let ses = clients().await.ses;
    let from = format!("{}@example.com", unique("sender"));
    ensure_identity(&ses, &from).await.expect("create identity");
    ensure_identity(&ses, &from)
        .await
        .expect("an existing identity is fine");
    let to = format!("{}@example.org", unique("rcpt"));
    let subject = unique("Access request");

    SesMailer::new(ses, from.clone(), None)
        .send(&mail(&to, &subject))
        .await
        .expect("sent");

    let sent = sent_with_subject(&subject).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let message = &sent[0];
    assert_eq!(message["source"], from.as_str());
    assert_eq!(
        message["destinations"]["ToAddresses"],
        serde_json::json!([to])
    );
    // Both parts are sent; the emulator keeps only the HTML one.
    assert_eq!(message["body"], "<p>HTML part: &lt;b&gt; Ünïcödé ✓</p>");
}

#[tokio::test]
async fn ses_sends_with_a_configuration_set() {
    let ses = clients().await.ses;
    let from = format!("{}@example.com", unique("sender"));
    ensure_identity(&ses, &from).await.expect("create identity");
    let set = unique("events");
    ses.create_configuration_set()
        .configuration_set_name(&set)
        .send()
        .await
        .expect("create configuration set");
    let subject = unique("Notice");

    SesMailer::new(ses, from, Some(set))
        .send(&mail("carol@example.com", &subject))
        .await
        .expect("sent");

    assert_eq!(sent_with_subject(&subject).await.len(), 1);
}

#[tokio::test]
async fn ses_unverified_sender_is_a_permanent_failure() {
    let ses = clients().await.ses;
    let from = format!("{}@example.com", unique("unverified"));
    let subject = unique("Never sent");

    let err = SesMailer::new(ses, from, None)
        .send(&mail("alice@example.com", &subject))
        .await
        .expect_err("an unverified sender is rejected");

    let MailError::Permanent(source) = err else {
        panic!("expected a permanent failure, got {err:?}");
    };
    assert!(source.to_string().contains("MessageRejected"), "{source}");
    // The SDK error is kept as the source, not flattened to text.
    let sdk = std::error::Error::source(source.as_ref()).expect("the SDK error");
    assert!(
        sdk.downcast_ref::<aws_sdk_sesv2::error::SdkError<
            aws_sdk_sesv2::operation::send_email::SendEmailError,
            aws_sdk_sesv2::config::http::HttpResponse,
        >>()
        .is_some(),
        "{sdk:?}"
    );
    assert!(sent_with_subject(&subject).await.is_empty());
}

#[tokio::test]
async fn ses_unreachable_endpoint_is_a_retryable_failure() {
    // Nothing listens on port 1: the connection is refused before any response.
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(tempaccess_aws::config::https_client())
        .endpoint_url("http://127.0.0.1:1")
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&sdk),
        "tempaccess@example.com".to_owned(),
        None,
    );

    let err = mailer
        .send(&mail("alice@example.com", "Unreachable"))
        .await
        .expect_err("nothing to send to");

    assert!(matches!(err, MailError::Retryable(_)), "{err:?}");
}

// ---------------------------------------------------------------- Scheduler

const REVOKE_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:tempaccess-revoke";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/tempaccess-scheduler";
const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:tempaccess-scheduler-dlq";

struct Schedules {
    client: aws_sdk_scheduler::Client,
    group: String,
    scheduler: EventBridgeScheduler,
}

impl Schedules {
    /// A scheduler on a schedule group of its own.
    async fn new() -> Self {
        let client = clients().await.scheduler;
        let group = unique("grp");
        ensure_group(&client, &group).await.expect("create group");
        let scheduler = EventBridgeScheduler::new(
            client.clone(),
            ScheduleTarget {
                group: group.clone(),
                revoke_function_arn: REVOKE_ARN.to_owned(),
                role_arn: ROLE_ARN.to_owned(),
                dead_letter_arn: Some(DLQ_ARN.to_owned()),
                max_retry_attempts: 20,
                max_event_age_seconds: 3600,
            },
        );
        Self {
            client,
            group,
            scheduler,
        }
    }

    async fn get(
        &self,
        grant: &RequestId,
    ) -> Result<
        aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput,
        aws_sdk_scheduler::error::SdkError<
            aws_sdk_scheduler::operation::get_schedule::GetScheduleError,
            aws_sdk_scheduler::config::http::HttpResponse,
        >,
    > {
        self.client
            .get_schedule()
            .group_name(&self.group)
            .name(schedule_name(grant))
            .send()
            .await
    }

    async fn names(&self) -> Vec<String> {
        let listed = self
            .client
            .list_schedules()
            .group_name(&self.group)
            .send()
            .await
            .expect("list schedules");
        listed
            .schedules()
            .iter()
            .filter_map(|s| s.name().map(str::to_owned))
            .collect()
    }
}

fn grant_id(n: u128) -> RequestId {
    RequestId::new(at("2030-06-01T09:00:00Z"), n)
}

#[tokio::test]
async fn schedule_end_creates_a_one_time_schedule_that_invokes_revoke() {
    let s = Schedules::new().await;
    let grant = grant_id(1);

    s.scheduler
        .schedule_end(&grant, at("2031-05-06T07:08:09.250Z"))
        .await
        .expect("scheduled");

    let schedule = s.get(&grant).await.expect("the schedule exists");
    assert_eq!(schedule.name(), Some(schedule_name(&grant).as_str()));
    assert_eq!(schedule.group_name(), Some(s.group.as_str()));
    // Rounded up: never before the end.
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2031-05-06T07:08:10)")
    );
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    assert_eq!(schedule.state(), Some(&ScheduleState::Enabled));
    let target = schedule.target().expect("a target");
    assert_eq!(target.arn(), REVOKE_ARN);
    assert_eq!(target.role_arn(), ROLE_ARN);
    let input: Value = serde_json::from_str(target.input().expect("an input")).expect("JSON");
    assert_eq!(input, serde_json::json!({ "grant_id": grant.to_string() }));
    let retry = target.retry_policy().expect("a retry policy");
    assert_eq!(retry.maximum_retry_attempts(), Some(20));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(3600));
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(DLQ_ARN)
    );
}

#[tokio::test]
async fn schedule_end_again_with_the_same_end_keeps_one_schedule() {
    let s = Schedules::new().await;
    let grant = grant_id(2);
    let end = at("2031-01-01T12:00:00Z");

    s.scheduler.schedule_end(&grant, end).await.expect("first");
    s.scheduler
        .schedule_end(&grant, end)
        .await
        .expect("a repeat is fine");

    assert_eq!(s.names().await, vec![schedule_name(&grant)]);
    assert_eq!(
        s.get(&grant).await.expect("exists").schedule_expression(),
        Some("at(2031-01-01T12:00:00)")
    );
}

#[tokio::test]
async fn schedule_end_with_a_new_end_moves_the_schedule() {
    let s = Schedules::new().await;
    let grant = grant_id(3);

    s.scheduler
        .schedule_end(&grant, at("2031-01-01T12:00:00Z"))
        .await
        .expect("first");
    s.scheduler
        .schedule_end(&grant, at("2031-01-01T10:30:00Z"))
        .await
        .expect("moved");

    assert_eq!(s.names().await, vec![schedule_name(&grant)]);
    let schedule = s.get(&grant).await.expect("exists");
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2031-01-01T10:30:00)")
    );
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(schedule.target().map(|t| t.arn()), Some(REVOKE_ARN));
}

#[tokio::test]
async fn cancel_end_deletes_the_schedule_and_missing_is_fine() {
    let s = Schedules::new().await;
    let grant = grant_id(4);
    let other = grant_id(5);
    s.scheduler
        .schedule_end(&grant, at("2031-01-01T12:00:00Z"))
        .await
        .expect("scheduled");
    s.scheduler
        .schedule_end(&other, at("2031-01-02T12:00:00Z"))
        .await
        .expect("scheduled");

    s.scheduler.cancel_end(&grant).await.expect("cancelled");
    let gone = s.get(&grant).await.expect_err("deleted");
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{gone:?}"
    );
    s.scheduler
        .cancel_end(&grant)
        .await
        .expect("cancelling twice is fine");
    s.scheduler
        .cancel_end(&grant_id(6))
        .await
        .expect("cancelling what was never scheduled is fine");

    assert_eq!(s.names().await, vec![schedule_name(&other)]);
}

#[tokio::test]
async fn ensure_group_again_keeps_the_schedules() {
    let s = Schedules::new().await;
    let grant = grant_id(7);
    s.scheduler
        .schedule_end(&grant, at("2031-01-01T12:00:00Z"))
        .await
        .expect("scheduled");

    ensure_group(&s.client, &s.group)
        .await
        .expect("an existing group is fine");

    assert!(s.get(&grant).await.is_ok(), "the schedule survived");
}

#[test]
fn at_expression_never_fires_before_the_end() {
    assert_eq!(
        at_expression(at("2031-05-06T07:08:09Z")),
        "at(2031-05-06T07:08:09)"
    );
    assert_eq!(
        at_expression(at("2031-05-06T07:08:09.000001Z")),
        "at(2031-05-06T07:08:10)"
    );
    assert_eq!(
        at_expression(at("2031-05-06T09:08:09.5+02:00")),
        "at(2031-05-06T07:08:10)"
    );
}

// ---------------------------------------------------------------- Secrets Manager

fn credential(password: &str) -> Credential {
    Credential {
        username: "svc-reporting".to_owned(),
        password: password.to_owned(),
    }
}

#[tokio::test]
async fn secrets_round_trip_by_name_and_arn() {
    let client = clients().await.secrets;
    let name = unique("tempaccess/entry");
    let tags = [("tempaccess:entry", "db-reporting")];

    let arn = put_credential(&client, &name, &credential("first"), &tags)
        .await
        .expect("created");
    let secrets = SecretsManagerSecrets::new(client.clone());
    assert_eq!(
        secrets.credential(&arn).await.expect("by ARN"),
        credential("first")
    );
    assert_eq!(
        secrets.credential(&name).await.expect("by name"),
        credential("first")
    );

    let again = put_credential(&client, &name, &credential("second"), &tags)
        .await
        .expect("a new value");
    assert_eq!(again, arn);
    assert_eq!(
        secrets.credential(&name).await.expect("read"),
        credential("second")
    );

    let described = client
        .describe_secret()
        .secret_id(&arn)
        .send()
        .await
        .expect("describe");
    let tags: HashMap<_, _> = described
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags.get("tempaccess:entry"), Some(&"db-reporting"));
}

#[tokio::test]
async fn a_rotation_is_asked_of_secrets_manager_and_a_missing_secret_is_given_up() {
    use tempaccess_core::ports::{RotateError, Rotator};
    let client = clients().await.secrets;
    let name = unique("tempaccess/rotate");
    put_credential(
        &client,
        &name,
        &credential("seen"),
        &[("tempaccess:entry", "db")],
    )
    .await
    .expect("created");
    let before = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("describe");
    assert!(before.last_rotated_date().is_none());

    let rotator = SecretsManagerSecrets::new(client.clone());
    rotator.rotate(&name).await.expect("rotated");
    let after = client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("describe");
    assert!(
        after.last_rotated_date().is_some(),
        "RotateSecret was called"
    );

    let missing = unique("tempaccess/no-such-secret");
    match rotator.rotate(&missing).await {
        Err(RotateError::Permanent(e)) => assert!(e.to_string().contains(&missing), "{e}"),
        other => panic!("a missing secret is given up at once, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_secret_is_an_error_naming_it() {
    let secrets = SecretsManagerSecrets::new(clients().await.secrets);
    let name = unique("tempaccess/missing");

    let err = secrets.credential(&name).await.expect_err("missing");

    assert!(err.to_string().contains(&name), "{err}");
    assert!(
        matches!(
            err.downcast_ref::<SecretError>(),
            Some(SecretError::NotFound { .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_malformed_secret_is_an_error_that_does_not_quote_it() {
    let client = clients().await.secrets;
    let secrets = SecretsManagerSecrets::new(client.clone());
    for (n, text) in [
        "hunter2",
        r#"{"username":"svc","password":{"hunter2":1}}"#,
        r#"{"user":"svc","password":"hunter2"}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let name = unique(&format!("tempaccess/malformed{n}"));
        client
            .create_secret()
            .name(&name)
            .secret_string(text)
            .send()
            .await
            .expect("create");

        let err = secrets.credential(&name).await.expect_err("malformed");

        assert!(
            matches!(
                err.downcast_ref::<SecretError>(),
                Some(SecretError::Malformed { .. })
            ),
            "{err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(shown.contains(&name), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

// ---------------------------------------------------------------- Configuration

#[test]
fn settings_name_the_missing_variable() {
    let env: HashMap<&str, &str> = HashMap::from([
        (vars::TABLE, "tempaccess"),
        (vars::MAIL_FROM, "access@example.com"),
        (vars::SCHEDULE_GROUP, "tempaccess"),
        (
            vars::SCHEDULER_ROLE_ARN,
            "arn:aws:iam::123456789012:role/scheduler",
        ),
        (
            vars::REVOKE_FUNCTION_ARN,
            "arn:aws:lambda:us-east-1:123456789012:function:revoke",
        ),
    ]);
    let lookup = |var: &str| env.get(var).map(|v| (*v).to_owned());

    let err = AwsSettings::from_lookup(lookup).expect_err("no site URL");

    assert_eq!(err, ConfigError::Missing("TEMPACCESS_SITE_URL"));
    assert_eq!(err.to_string(), "TEMPACCESS_SITE_URL is not set");
}
