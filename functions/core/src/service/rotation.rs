//! Rotation at a grant's end: a password seen during the grant stops working after it.
//!
//! The rotation is written with the transition that ends the grant (its end, an early
//! end, a revocation, the sweep's catch-up), then started at once; a failure is
//! retried by the sweep with backoff, and every outcome is on the timeline: rotated,
//! failed and retrying, or given up (the credential must then be rotated by hand).

use chrono::TimeDelta;

use crate::audit::{Actor, EventKind};
use crate::error::Chain;
use crate::ids;
use crate::ports::{PendingRotation, RotateError};
use crate::request::{AccessRequest, OpKind, Transition};

use super::Service;

/// A rotation is tried this many times before it is given up (and said so).
pub const MAX_ROTATION_ATTEMPTS: u32 = 8;

/// How long the path that ends a grant has to start its rotation before the sweep may
/// try, so that the two never rotate at once.
const FIRST_ATTEMPT_GRACE: TimeDelta = TimeDelta::seconds(60);

impl Service {
    /// The rotation `t` calls for: it ends a grant (at its end or early) that had
    /// started, whose approval asked for its credential to be rotated. A grant revoked
    /// before it started revealed nothing.
    pub(super) fn rotation_at_end(
        &self,
        before: &AccessRequest,
        t: &Transition,
    ) -> Option<PendingRotation> {
        let secret_ref = t.next.rotate_on_end.clone()?;
        if !matches!(t.op, OpKind::End | OpKind::Revoke) {
            return None;
        }
        let now = self.now();
        let started = before.grant.as_ref().is_some_and(|g| g.starts_at <= now);
        started.then(|| PendingRotation {
            id: ids::ulid(now, self.random_u128()),
            request_id: before.id,
            secret_ref,
            attempts: 0,
            next_attempt_at: now + FIRST_ATTEMPT_GRACE,
        })
    }

    /// Starts each rotation; records each outcome. Returns (rotated, failed).
    pub(super) async fn rotate(&self, rotations: Vec<PendingRotation>) -> (usize, usize) {
        let (mut rotated, mut failed) = (0, 0);
        let store = &self.ports.store;
        for item in rotations {
            match self.ports.rotator.rotate(&item.secret_ref).await {
                Ok(()) => {
                    rotated += 1;
                    // The timeline first: a process that dies between the two writes
                    // rotates again and says so twice, rather than rotating in silence.
                    // Likewise when the event cannot be written: the rotation stays due.
                    let said = self
                        .record(
                            item.request_id,
                            Actor::SYSTEM,
                            EventKind::Rotated,
                            "the password was rotated: the one seen during the grant no longer works"
                                .to_owned(),
                        )
                        .await;
                    if !said {
                        tracing::warn!(rotation_id = %item.id, "a rotation not on the timeline stays due");
                    } else if let Err(e) = store.rotation_done(&item.id).await {
                        tracing::warn!(rotation_id = %item.id, error = %e, "a done rotation stays pending");
                    }
                }
                Err(e) => {
                    failed += 1;
                    let attempts = item.attempts + 1;
                    let mut retry = match &e {
                        RotateError::Retryable(_) if attempts < MAX_ROTATION_ATTEMPTS => {
                            Some(self.now() + backoff(attempts))
                        }
                        _ => None,
                    };
                    // Given up only once the timeline says so: a rotation given up in
                    // silence would leave a seen password working with nobody told.
                    let given_up_said = retry.is_none()
                        && self
                            .record(
                                item.request_id,
                                Actor::SYSTEM,
                                EventKind::RotationFailed,
                                GIVEN_UP.to_owned(),
                            )
                            .await;
                    if retry.is_none() && !given_up_said {
                        retry = Some(self.now() + backoff(attempts));
                    }
                    // Given up is an error: a password someone saw still works.
                    if retry.is_some() {
                        tracing::warn!(rotation_id = %item.id, request_id = %item.request_id, error = %Chain(&e), attempts, "credential not rotated; retrying");
                    } else {
                        tracing::error!(rotation_id = %item.id, request_id = %item.request_id, error = %Chain(&e), attempts, "credential not rotated; given up: rotate it by hand");
                    }
                    if let Err(e) = store.rotation_failed(&item.id, attempts, retry).await {
                        tracing::warn!(rotation_id = %item.id, error = %e, "could not record the failed rotation");
                    }
                    if let Some(at) = retry {
                        self.record(
                            item.request_id,
                            Actor::SYSTEM,
                            EventKind::RotationFailed,
                            format!(
                                "the password could not be rotated yet; retrying at {}",
                                at.format("%Y-%m-%d %H:%M UTC")
                            ),
                        )
                        .await;
                    }
                }
            }
        }
        (rotated, failed)
    }
}

/// What the timeline says of a rotation given up.
const GIVEN_UP: &str = "the password could not be rotated and is given up: rotate it by hand, \
                        the one seen during the grant still works";

/// Waits between rotation attempts: 1, 2, 4, … 32 minutes.
fn backoff(attempts: u32) -> TimeDelta {
    TimeDelta::minutes(1 << attempts.saturating_sub(1).min(5))
}
