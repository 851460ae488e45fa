//! What the revoke function does with a scheduler event. Idempotent: a repeated
//! delivery finds the grant already ended and changes nothing.

use lambda_runtime::Diagnostic;
use serde::Deserialize;
use serde_json::{Value, json};
use tempaccess_core::ids::RequestId;
use tempaccess_core::service::{EndOutcome, Service};

/// The events the scheduler sends.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged, deny_unknown_fields)]
pub enum RevokeEvent {
    /// A grant's one-time schedule fired.
    End {
        /// The grant (request) id.
        grant_id: String,
    },
    /// The periodic sweep.
    Sweep {
        /// Always `true`.
        sweep: bool,
    },
}

/// Why an event was not handled.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The event is not one this function understands: retrying will not help.
    #[error("not a revoke event: {0}")]
    BadEvent(String),
    /// A dependency failed: the scheduler's retry (or the next sweep) will try again.
    #[error("{0}")]
    Unavailable(#[from] tempaccess_core::Error),
}

impl From<RevokeError> for Diagnostic {
    fn from(e: RevokeError) -> Self {
        let error_type = match e {
            RevokeError::BadEvent(_) => "Permanent.BadEvent",
            RevokeError::Unavailable(_) => "Retryable.Unavailable",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Ends one grant or runs one sweep, answering what happened.
pub async fn handle(service: &Service, payload: Value) -> Result<Value, RevokeError> {
    let event: RevokeEvent = serde_json::from_value(payload.clone())
        .map_err(|_| RevokeError::BadEvent(payload.to_string()))?;
    match event {
        RevokeEvent::End { grant_id } => {
            let id = RequestId::parse(&grant_id)
                .map_err(|_| RevokeError::BadEvent(payload.to_string()))?;
            let outcome = service.end_grant(&id).await?;
            tracing::info!(grant_id = %id, ?outcome, "grant end delivered");
            let outcome = match outcome {
                EndOutcome::Ended => "ended",
                EndOutcome::AlreadyDone => "already_done",
                EndOutcome::NotDue => "not_due",
                EndOutcome::Missing => "missing",
            };
            Ok(json!({ "grant_id": id.to_string(), "outcome": outcome }))
        }
        RevokeEvent::Sweep { sweep: true } => {
            let report = service.sweep().await?;
            tracing::info!(?report, "swept");
            Ok(json!({
                "ended": report.ended,
                "expired": report.expired,
                "mails_sent": report.mails_sent,
                "mails_failed": report.mails_failed,
            }))
        }
        RevokeEvent::Sweep { sweep: false } => Err(RevokeError::BadEvent(payload.to_string())),
    }
}
