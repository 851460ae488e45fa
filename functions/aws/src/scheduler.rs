//! The Scheduler on EventBridge Scheduler: one one-time schedule per grant, named
//! after it, that invokes the revoke function at the grant's end and then deletes itself.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::config::http::HttpResponse;
use aws_sdk_scheduler::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, ScheduleState, Target,
};
use chrono::{TimeDelta, Timelike};
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{BoxError, Scheduler};

use crate::config::AwsSettings;
use crate::sdk_error::sdk_reason;

/// Delivery attempts after the first failed one, before the dead-letter queue.
pub const DEFAULT_MAX_RETRY_ATTEMPTS: u32 = 20;
/// How long a delivery is retried. The revoke sweep ends overdue grants anyway.
pub const DEFAULT_MAX_EVENT_AGE_SECONDS: u32 = 3600;

/// What the schedules invoke, and how deliveries are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleTarget {
    /// The schedule group.
    pub group: String,
    /// The revoke function.
    pub revoke_function_arn: String,
    /// The role the scheduler assumes to invoke it.
    pub role_arn: String,
    /// Where deliveries go when every retry failed.
    pub dead_letter_arn: Option<String>,
    /// Retries of a failed delivery (EventBridge allows 0 to 185).
    pub max_retry_attempts: u32,
    /// How long a delivery is retried (EventBridge allows 60 to 86400 seconds).
    pub max_event_age_seconds: u32,
}

impl ScheduleTarget {
    /// The target the settings describe, with the default retry policy.
    pub fn from_settings(settings: &AwsSettings) -> Self {
        Self {
            group: settings.schedule_group.clone(),
            revoke_function_arn: settings.revoke_function_arn.clone(),
            role_arn: settings.scheduler_role_arn.clone(),
            dead_letter_arn: settings.dead_letter_arn.clone(),
            max_retry_attempts: DEFAULT_MAX_RETRY_ATTEMPTS,
            max_event_age_seconds: DEFAULT_MAX_EVENT_AGE_SECONDS,
        }
    }

    /// The whole schedule for `grant` ending at `at`.
    fn definition(&self, grant: &RequestId, at: Timestamp) -> Result<Definition, BuildError> {
        let retries = self.max_retry_attempts.min(185);
        let age = self.max_event_age_seconds.clamp(60, 86_400);
        let retry = RetryPolicy::builder()
            // Both fit in an i32 after the clamps above.
            .maximum_retry_attempts(retries as i32)
            .maximum_event_age_in_seconds(age as i32)
            .build();
        let target = Target::builder()
            .arn(&self.revoke_function_arn)
            .role_arn(&self.role_arn)
            .input(target_input(grant))
            .retry_policy(retry)
            .set_dead_letter_config(
                self.dead_letter_arn
                    .as_ref()
                    .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()?;
        Ok(Definition {
            name: schedule_name(grant),
            expression: at_expression(at),
            window,
            target,
        })
    }
}

/// One grant's end schedule.
struct Definition {
    name: String,
    expression: String,
    window: FlexibleTimeWindow,
    target: Target,
}

impl Definition {
    /// Whether the stored schedule already fires the same target at the same time.
    fn matches(&self, existing: &GetScheduleOutput) -> bool {
        let stored = existing.target();
        existing.schedule_expression() == Some(self.expression.as_str())
            && existing.schedule_expression_timezone() == Some(UTC)
            && stored.map(Target::arn) == Some(self.target.arn())
            && stored.map(Target::role_arn) == Some(self.target.role_arn())
            && stored.and_then(Target::input) == self.target.input()
    }
}

/// The schedule that ends `grant`: one per grant, so scheduling twice is harmless.
pub fn schedule_name(grant: &RequestId) -> String {
    format!("tempaccess-end-{grant}")
}

/// A one-time schedule expression for `at` in UTC, rounded up to the next whole
/// second: the schedule may fire late, never before the grant's end.
pub fn at_expression(at: Timestamp) -> String {
    let whole = at.with_nanosecond(0).unwrap_or(at);
    let at = if whole < at {
        // Checked: at the end of time the whole second is the latest there is.
        whole
            .checked_add_signed(TimeDelta::seconds(1))
            .unwrap_or(whole)
    } else {
        whole
    };
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

/// What the revoke function receives.
pub fn target_input(grant: &RequestId) -> String {
    serde_json::json!({ "grant_id": grant.to_string() }).to_string()
}

/// Schedules grants' ends in one schedule group.
#[derive(Debug, Clone)]
pub struct EventBridgeScheduler {
    client: Client,
    target: ScheduleTarget,
}

impl EventBridgeScheduler {
    /// A scheduler whose schedules invoke `target`.
    pub fn new(client: Client, target: ScheduleTarget) -> Self {
        Self { client, target }
    }

    async fn create(&self, schedule: &Definition) -> Result<(), CallError> {
        self.client
            .create_schedule()
            .group_name(&self.target.group)
            .name(&schedule.name)
            .schedule_expression(&schedule.expression)
            .schedule_expression_timezone(UTC)
            .flexible_time_window(schedule.window.clone())
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .target(schedule.target.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CallError::new("CreateSchedule", &schedule.name, e))
    }

    async fn get(&self, name: &str) -> Result<GetScheduleOutput, CallError> {
        self.client
            .get_schedule()
            .group_name(&self.target.group)
            .name(name)
            .send()
            .await
            .map_err(|e| CallError::new("GetSchedule", name, e))
    }

    // UpdateSchedule replaces the whole definition, so every field is sent again.
    async fn update(&self, schedule: &Definition) -> Result<(), CallError> {
        self.client
            .update_schedule()
            .group_name(&self.target.group)
            .name(&schedule.name)
            .schedule_expression(&schedule.expression)
            .schedule_expression_timezone(UTC)
            .flexible_time_window(schedule.window.clone())
            .action_after_completion(ActionAfterCompletion::Delete)
            .state(ScheduleState::Enabled)
            .target(schedule.target.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| CallError::new("UpdateSchedule", &schedule.name, e))
    }

    /// Creates the schedule, or brings an existing one of the same name in line.
    async fn put(&self, schedule: &Definition) -> Result<(), CallError> {
        match self.create(schedule).await {
            Err(e) if e.is(CONFLICT) => {}
            other => return other,
        }
        // Scheduled before: a retry of the same end, or the end moved.
        match self.get(&schedule.name).await {
            Ok(existing) if schedule.matches(&existing) => Ok(()),
            Ok(_) => match self.update(schedule).await {
                // It fired and deleted itself meanwhile.
                Err(e) if e.is(NOT_FOUND) => self.create(schedule).await,
                other => other,
            },
            Err(e) if e.is(NOT_FOUND) => self.create(schedule).await,
            Err(e) => Err(e),
        }
    }
}

const UTC: &str = "UTC";
const CONFLICT: &str = "ConflictException";
const NOT_FOUND: &str = "ResourceNotFoundException";

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    #[tracing::instrument(skip_all, fields(grant = %grant, %at))]
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError> {
        let schedule = self.target.definition(grant, at)?;
        self.put(&schedule).await?;
        tracing::debug!(schedule = %schedule.name, expression = %schedule.expression, "grant end scheduled");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(grant = %grant))]
    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError> {
        let name = schedule_name(grant);
        let deleted = self
            .client
            .delete_schedule()
            .group_name(&self.target.group)
            .name(&name)
            .send()
            .await
            .map_err(|e| CallError::new("DeleteSchedule", &name, e));
        match deleted {
            Err(e) if e.is(NOT_FOUND) => Ok(()),
            other => Ok(other.map(|_| ())?),
        }
    }
}

/// Creates the schedule group (bootstrap). Already existing is fine; an existing group
/// is not created again (an emulator would replace it, schedules and all).
pub async fn ensure_group(client: &Client, name: &str) -> anyhow::Result<()> {
    match client.get_schedule_group().name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) => {}
        Err(e) => return Err(CallError::new("GetScheduleGroup", name, e).into()),
    }
    match client.create_schedule_group().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conflict_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(CallError::new("CreateScheduleGroup", name, e).into()),
    }
}

/// A scheduler call that failed: which call, on which schedule, and the SDK error as
/// the source.
#[derive(Debug, thiserror::Error)]
#[error("EventBridge Scheduler {call} {name} failed: {reason}")]
pub struct CallError {
    call: &'static str,
    name: String,
    code: Option<String>,
    reason: String,
    #[source]
    source: BoxError,
}

impl CallError {
    fn new<E>(call: &'static str, name: &str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Self {
            call,
            name: name.to_owned(),
            code: err.code().map(str::to_owned),
            reason: sdk_reason(&err),
            source: Box::new(err),
        }
    }

    /// Whether the service answered with this error code.
    fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn at_expression_is_utc_to_the_second() {
        assert_eq!(
            at_expression(at("2030-01-02T03:04:05Z")),
            "at(2030-01-02T03:04:05)"
        );
        assert_eq!(
            at_expression(at("2030-01-02T05:04:05+02:00")),
            "at(2030-01-02T03:04:05)"
        );
    }

    #[test]
    fn at_expression_rounds_sub_seconds_up() {
        assert_eq!(
            at_expression(at("2030-01-02T03:04:05.001Z")),
            "at(2030-01-02T03:04:06)"
        );
        assert_eq!(
            at_expression(at("2030-12-31T23:59:59.999999999Z")),
            "at(2031-01-01T00:00:00)"
        );
        let one_nano = chrono::Utc.timestamp_opt(1_900_000_000, 1).unwrap();
        assert_eq!(at_expression(one_nano), "at(2030-03-17T17:46:41)");
    }

    #[test]
    fn names_and_input_come_from_the_grant_id() {
        let grant = RequestId::parse("01HZY3T8Q6M2N4P5R7S9V0W1XA").unwrap();
        assert_eq!(
            schedule_name(&grant),
            "tempaccess-end-01HZY3T8Q6M2N4P5R7S9V0W1XA"
        );
        assert!(schedule_name(&grant).len() <= 64);
        assert_eq!(
            target_input(&grant),
            r#"{"grant_id":"01HZY3T8Q6M2N4P5R7S9V0W1XA"}"#
        );
    }
}
