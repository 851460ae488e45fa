//! The mail outbox: mail is written with the state change that causes it, then
//! delivered; failures are retried with backoff and recorded.

use chrono::TimeDelta;

use crate::audit::{Actor, EventKind};
use crate::ids::{self, RequestId};
use crate::ports::{MailError, MailPurpose, OutgoingMail};

use super::Service;

/// A mail is tried this many times before it is given up (and recorded as failed).
pub const MAX_MAIL_ATTEMPTS: u32 = 6;

/// How long the request path has to deliver a fresh mail before the sweep may retry it,
/// so that the two never send the same mail at once.
const FIRST_DELIVERY_GRACE: TimeDelta = TimeDelta::seconds(60);

impl Service {
    pub(super) fn outgoing(
        &self,
        request_id: RequestId,
        purpose: MailPurpose,
        m: crate::ports::Mail,
    ) -> OutgoingMail {
        let now = self.now();
        OutgoingMail {
            id: ids::ulid(now, self.random_u128()),
            request_id,
            purpose,
            mail: m,
            attempts: 0,
            next_attempt_at: now + FIRST_DELIVERY_GRACE,
        }
    }

    /// Delivers outbox mail; records each outcome. Returns (sent, failed).
    pub(super) async fn deliver(&self, outbox: Vec<OutgoingMail>) -> (usize, usize) {
        let (mut sent, mut failed) = (0, 0);
        for item in outbox {
            let store = &self.ports.store;
            match self.ports.mailer.send(&item.mail).await {
                Ok(()) => {
                    sent += 1;
                    if let Err(e) = store.mail_delivered(&item.id).await {
                        tracing::warn!(mail_id = %item.id, error = %e, "delivered mail stays in the outbox");
                    }
                    let kind = match (item.purpose, item.attempts) {
                        (MailPurpose::DecisionRequested, 0) => Some(EventKind::Notified),
                        (_, 0) => None,
                        _ => Some(EventKind::EmailRetried),
                    };
                    if let Some(kind) = kind {
                        let to = item.mail.to.to_string();
                        self.record(item.request_id, Actor::SYSTEM, kind, to).await;
                    }
                }
                Err(e) => {
                    failed += 1;
                    let attempts = item.attempts + 1;
                    let retry = match &e {
                        MailError::Retryable(_) if attempts < MAX_MAIL_ATTEMPTS => {
                            Some(self.now() + backoff(attempts))
                        }
                        _ => None,
                    };
                    tracing::warn!(mail_id = %item.id, request_id = %item.request_id, error = %e, attempts, "mail not delivered");
                    if let Err(e) = store.mail_failed(&item.id, attempts, retry).await {
                        tracing::warn!(mail_id = %item.id, error = %e, "could not record the failed attempt");
                    }
                    let detail = match retry {
                        Some(at) => {
                            format!("{}: {e}; retrying at {}", item.mail.to, at.to_rfc3339())
                        }
                        None => format!("{}: {e}; given up", item.mail.to),
                    };
                    self.record(
                        item.request_id,
                        Actor::SYSTEM,
                        EventKind::EmailFailed,
                        detail,
                    )
                    .await;
                }
            }
        }
        (sent, failed)
    }
}

/// Waits between mail attempts: 1, 2, 4, 8, 16 minutes.
fn backoff(attempts: u32) -> TimeDelta {
    TimeDelta::minutes(1 << attempts.saturating_sub(1).min(4))
}
