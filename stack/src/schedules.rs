//! The schedule firer: EventBridge Scheduler's delivery, over the schedules the
//! emulator holds (it stores them but never fires them).
//!
//! Every second it lists the schedules (reading each new or changed one once) and
//! fires those due:
//! - `at(yyyy-mm-ddThh:mm:ss)` in the schedule's time zone (UTC unless it names
//!   `UTC`/`Etc/UTC`; others are reported and skipped), once, when the system clock
//!   reaches it; then, with `ActionAfterCompletion: DELETE`, the schedule is deleted;
//! - `rate(n minute[s]|hour[s]|day[s])`, every period from its creation; `--rate-speed`
//!   divides the period (a test clock for the sweep: it runs often, which is harmless
//!   because the sweep is idempotent);
//! - state `DISABLED` schedules never fire.
//!
//! A delivery invokes the target function asynchronously with the target's `Input`
//! (Lambda then retries a failing function twice and uses the function's dead-letter
//! queue, see [`crate::lambda`]). A target the stack does not run is a failed delivery:
//! it goes to the target's dead-letter queue after its retry policy, as EventBridge
//! Scheduler sends it.
//!
//! Left out: `cron()` expressions, flexible time windows (fired at the start of the
//! window), start and end dates, KMS keys, targets other than Lambda functions. `at()`
//! schedules fire by the system clock, which the functions read too: a grant ends when
//! it is due, not sooner.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::emulator::{Emulator, ServiceError};
use crate::lambda::{FunctionError, FunctionHost, send_to_queue};

/// When a schedule fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// Once, at this instant.
    At(DateTime<Utc>),
    /// Every period.
    Rate(Duration),
}

/// Parses `at(...)` and `rate(...)` in `timezone`.
pub fn parse_expression(expression: &str, timezone: Option<&str>) -> Result<Expression> {
    let e = expression.trim();
    if let Some(at) = e.strip_prefix("at(").and_then(|r| r.strip_suffix(')')) {
        if !matches!(timezone, None | Some("UTC" | "Etc/UTC" | "")) {
            bail!("the firer reads at() in UTC only, not {timezone:?}");
        }
        let t = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S")
            .with_context(|| format!("not an at() time: {at}"))?;
        return Ok(Expression::At(t.and_utc()));
    }
    if let Some(rate) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (n, unit) = rate
            .trim()
            .split_once(' ')
            .with_context(|| format!("not a rate: {rate}"))?;
        let n: u64 = n.parse().with_context(|| format!("not a rate: {rate}"))?;
        let seconds = match unit.trim() {
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3600,
            "day" | "days" => 86_400,
            other => bail!("not a rate unit: {other}"),
        };
        if n == 0 {
            bail!("a rate of zero");
        }
        return Ok(Expression::Rate(Duration::from_secs(n * seconds)));
    }
    bail!("the firer does not fire {e}")
}

/// One fired delivery, for the stack's journal.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    /// When (RFC 3339).
    pub at: String,
    /// `group/name`.
    pub schedule: String,
    /// The target's ARN.
    pub target: String,
    /// The input delivered.
    pub input: Value,
}

struct Known {
    modified: String,
    definition: Value,
    expression: Option<Expression>,
    created: DateTime<Utc>,
    next_rate: Option<DateTime<Utc>>,
}

/// Runs the firer until the process ends.
pub async fn run(
    emulator: Emulator,
    functions: BTreeMap<String, Arc<FunctionHost>>,
    rate_speed: u32,
    deliveries: Arc<std::sync::Mutex<Vec<Delivery>>>,
) {
    let by_arn: HashMap<String, Arc<FunctionHost>> = functions
        .values()
        .map(|f| (f.spec.arn.clone(), f.clone()))
        .collect();
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut fired: HashSet<String> = HashSet::new();
    let mut reported: HashSet<String> = HashSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let listed = match emulator
            .rest("scheduler", Method::GET, "/schedules", None)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                if reported.insert("list".into()) {
                    println!("[scheduler] listing schedules failed: {e:#}");
                }
                continue;
            }
        };
        let now = Utc::now();
        let mut seen = HashSet::new();
        for s in listed["Schedules"].as_array().into_iter().flatten() {
            let group = s["GroupName"].as_str().unwrap_or("default").to_owned();
            let name = s["Name"].as_str().unwrap_or_default().to_owned();
            let key = format!("{group}/{name}");
            seen.insert(key.clone());
            let modified = s["LastModificationDate"].to_string();
            if known.get(&key).is_none_or(|k| k.modified != modified) {
                let path = format!("/schedules/{name}?groupName={group}");
                let Ok(definition) = emulator.rest("scheduler", Method::GET, &path, None).await
                else {
                    continue;
                };
                let expression = parse_expression(
                    definition["ScheduleExpression"]
                        .as_str()
                        .unwrap_or_default(),
                    definition["ScheduleExpressionTimezone"].as_str(),
                );
                if let Err(e) = &expression
                    && reported.insert(key.clone())
                {
                    println!("[scheduler] {key} will not fire: {e:#}");
                }
                let created = definition["CreationDate"]
                    .as_f64()
                    .and_then(|secs| DateTime::from_timestamp_millis((secs * 1000.0) as i64))
                    .unwrap_or(now);
                known.insert(
                    key.clone(),
                    Known {
                        modified,
                        definition,
                        expression: expression.ok(),
                        created,
                        next_rate: None,
                    },
                );
                fired.remove(&key);
            }
            let k = known.get_mut(&key).expect("inserted");
            if k.definition["State"].as_str() == Some("DISABLED") {
                continue;
            }
            let due = match &k.expression {
                Some(Expression::At(at)) => *at <= now && !fired.contains(&key),
                Some(Expression::Rate(period)) => {
                    let step = chrono::Duration::from_std(*period / rate_speed.max(1))
                        .unwrap_or(chrono::Duration::seconds(60));
                    let next = *k.next_rate.get_or_insert(k.created.max(now - step) + step);
                    if next <= now {
                        k.next_rate = Some(now + step);
                        true
                    } else {
                        false
                    }
                }
                None => false,
            };
            if !due {
                continue;
            }
            if matches!(k.expression, Some(Expression::At(_))) {
                fired.insert(key.clone());
            }
            let definition = k.definition.clone();
            deliver(&emulator, &by_arn, &key, &definition, &deliveries).await;
            if matches!(k.expression, Some(Expression::At(_)))
                && definition["ActionAfterCompletion"].as_str() == Some("DELETE")
            {
                let path = format!("/schedules/{name}?groupName={group}");
                if let Err(e) = emulator
                    .rest("scheduler", Method::DELETE, &path, None)
                    .await
                    && !ServiceError::is(&e, "ResourceNotFoundException")
                {
                    println!("[scheduler] deleting {key} after it fired failed: {e:#}");
                }
            }
        }
        known.retain(|k, _| seen.contains(k));
        fired.retain(|k| seen.contains(k));
    }
}

async fn deliver(
    emulator: &Emulator,
    by_arn: &HashMap<String, Arc<FunctionHost>>,
    key: &str,
    definition: &Value,
    deliveries: &std::sync::Mutex<Vec<Delivery>>,
) {
    let target = &definition["Target"];
    let arn = target["Arn"].as_str().unwrap_or_default().to_owned();
    let input: Value = target["Input"]
        .as_str()
        .map(|s| serde_json::from_str(s).unwrap_or(Value::String(s.to_owned())))
        .unwrap_or(json!({}));
    deliveries.lock().expect("deliveries").push(Delivery {
        at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        schedule: key.to_owned(),
        target: arn.clone(),
        input: input.clone(),
    });
    match by_arn.get(&arn) {
        Some(function) => {
            println!("[scheduler] {key} fired: {} {input}", function.spec.logical);
            function.invoke_async(input, format!("schedule {key}"));
        }
        None => {
            println!(
                "[scheduler] {key} fired at {arn}, which the stack does not run: a failed delivery"
            );
            if let Some(dlq) = target["DeadLetterConfig"]["Arn"].as_str() {
                let error = FunctionError {
                    error_type: "ResourceNotFoundException".into(),
                    error_message: format!("Function not found: {arn}"),
                };
                let _ = send_to_queue(emulator, dlq, &input, &error).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_parse_as_the_scheduler_writes_them() {
        assert_eq!(
            parse_expression("at(2026-11-26T12:00:01)", Some("UTC")).unwrap(),
            Expression::At("2026-11-26T12:00:01Z".parse().unwrap())
        );
        assert_eq!(
            parse_expression("rate(5 minutes)", None).unwrap(),
            Expression::Rate(Duration::from_secs(300))
        );
        assert_eq!(
            parse_expression("rate(1 hour)", None).unwrap(),
            Expression::Rate(Duration::from_secs(3600))
        );
        assert!(parse_expression("cron(0 12 * * ? *)", None).is_err());
        assert!(parse_expression("at(2026-11-26T12:00:01)", Some("Europe/Berlin")).is_err());
        assert!(parse_expression("rate(0 minutes)", None).is_err());
    }
}
