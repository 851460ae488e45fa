//! What the clock does: grants end, undecided requests expire, and the sweep catches
//! whatever the scheduler missed.

use crate::error::Error;
use crate::ids::RequestId;
use crate::mail;
use crate::ports::MailPurpose;
use crate::request::{AccessRequest, Op, Refused, Status};

use super::{Service, StoreResult};

/// The most items one sweep pass handles of each kind; the next pass takes the rest.
const SWEEP_BATCH: u32 = 100;

/// How long one sweep pass keeps starting work, by the service's clock. The revoke
/// function has 60 s; a pass cut off by its timeout would resend the mail it was
/// sending, so it stops starting new items well before, and the next pass (five
/// minutes later) takes the rest.
pub const SWEEP_BUDGET: chrono::TimeDelta = chrono::TimeDelta::seconds(40);

/// What one sweep pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Grants ended.
    pub ended: usize,
    /// Pending requests expired.
    pub expired: usize,
    /// Mails delivered.
    pub mails_sent: usize,
    /// Mail attempts that failed.
    pub mails_failed: usize,
    /// Rotations retried and done (a grant this pass ended is rotated with its end).
    pub rotated: usize,
    /// Rotation retries that failed.
    pub rotations_failed: usize,
    /// Items the pass could not handle (each logged; the next pass tries again).
    pub errors: usize,
    /// Items left for the next pass because this one ran out of time ([`SWEEP_BUDGET`]).
    pub deferred: usize,
}

/// What ending one grant (a scheduler delivery) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOutcome {
    /// The grant was ended now.
    Ended,
    /// It had already ended, been revoked, or been ended by someone else concurrently.
    AlreadyDone,
    /// Its end is still in the future (an early delivery); nothing changed.
    NotDue,
    /// No such grant.
    Missing,
}

impl Service {
    /// Ends one grant at its end (the scheduler's delivery). Idempotent.
    pub async fn end_grant(&self, id: &RequestId) -> Result<EndOutcome, Error> {
        let Some(request) = self
            .ports
            .store
            .request(id)
            .await
            .context("reading the grant")?
        else {
            return Ok(EndOutcome::Missing);
        };
        self.end_one(request).await
    }

    async fn end_one(&self, request: AccessRequest) -> Result<EndOutcome, Error> {
        let now = self.now();
        let t = match request.apply(Op::End, now) {
            Ok(t) => t,
            Err(Refused::State {
                current: Status::Scheduled | Status::Active,
                ..
            }) => return Ok(EndOutcome::NotDue),
            // Ended, revoked, or never approved.
            Err(_) => return Ok(EndOutcome::AlreadyDone),
        };
        let names = self.mail_names(&t.next).await;
        let m = mail::ended(&self.mail_context(&names), &t.next);
        match self
            .commit(&request, t, vec![(MailPurpose::Notice, m)])
            .await
        {
            Ok(_) => Ok(EndOutcome::Ended),
            Err(Error::Conflict { .. }) => Ok(EndOutcome::AlreadyDone),
            Err(e) => Err(e),
        }
    }

    async fn expire_one(&self, request: AccessRequest) -> Result<bool, Error> {
        let now = self.now();
        let t = match request.apply(Op::Expire, now) {
            Ok(t) => t,
            // Decided, cancelled or expired meanwhile, or not yet due.
            Err(Refused::State { .. } | Refused::GrantOver) => return Ok(false),
        };
        let names = self.mail_names(&t.next).await;
        let m = mail::expired(&self.mail_context(&names), &t.next);
        match self
            .commit(&request, t, vec![(MailPurpose::Notice, m)])
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One pass of the periodic sweep: ends overdue grants (whatever the scheduler did),
    /// expires undecided requests, retries undelivered mail and unfinished rotations.
    ///
    /// One item that fails (a store error, an unreadable item) is logged and counted,
    /// and the pass goes on with the others: it never holds the rest back. Past
    /// [`SWEEP_BUDGET`] it starts nothing new and counts what it left.
    pub async fn sweep(&self) -> Result<SweepReport, Error> {
        let now = self.now();
        let deadline = now + SWEEP_BUDGET;
        let in_time = |report: &mut SweepReport| {
            let ok = self.now() < deadline;
            if !ok {
                report.deferred += 1;
            }
            ok
        };
        let store = &self.ports.store;
        let mut report = SweepReport::default();
        match store.overdue_grants(now, SWEEP_BATCH).await {
            Ok(grants) => {
                for grant in grants {
                    if !in_time(&mut report) {
                        continue;
                    }
                    match self.end_one(grant).await {
                        Ok(EndOutcome::Ended) => report.ended += 1,
                        Ok(_) => {}
                        Err(e) => report.failed("ending a grant", &e),
                    }
                }
            }
            Err(e) => report.failed("listing overdue grants", &e),
        }
        match store.stale_pending(now, SWEEP_BATCH).await {
            Ok(stale) => {
                for pending in stale {
                    if !in_time(&mut report) {
                        continue;
                    }
                    match self.expire_one(pending).await {
                        Ok(true) => report.expired += 1,
                        Ok(false) => {}
                        Err(e) => report.failed("expiring a request", &e),
                    }
                }
            }
            Err(e) => report.failed("listing stale requests", &e),
        }
        match store.due_mail(now, SWEEP_BATCH).await {
            Ok(due) => {
                for item in due {
                    if !in_time(&mut report) {
                        continue;
                    }
                    let (sent, failed) = self.deliver(vec![item]).await;
                    report.mails_sent += sent;
                    report.mails_failed += failed;
                }
            }
            Err(e) => report.failed("listing undelivered mail", &e),
        }
        match store.due_rotations(now, SWEEP_BATCH).await {
            Ok(due) => {
                for item in due {
                    if !in_time(&mut report) {
                        continue;
                    }
                    let (rotated, failed) = self.rotate(vec![item]).await;
                    report.rotated += rotated;
                    report.rotations_failed += failed;
                }
            }
            Err(e) => report.failed("listing unfinished rotations", &e),
        }
        if report.deferred > 0 {
            tracing::warn!(
                deferred = report.deferred,
                "sweep: out of time; the next pass takes the rest"
            );
        }
        Ok(report)
    }
}

impl SweepReport {
    fn failed(&mut self, doing: &str, e: &(dyn std::error::Error + 'static)) {
        self.errors += 1;
        tracing::error!(error = %crate::error::Chain(e), "sweep: {doing} failed; the next pass tries again");
    }
}
