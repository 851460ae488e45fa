//! Test doubles of the ports, for tests that drive the use cases (feature `testing`):
//! a clock the test moves, a mailer that keeps what it sends, adapters that fail on
//! demand, deterministic randomness; and the domain's fixtures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::TimeDelta;

use crate::Timestamp;
use crate::entry::{ADMIN_ROLE, Caller, Entry, EntryKind, PermissionSet, Right};
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::ports::{
    BoxError, Clock, Credential, Mail, MailError, Mailer, Random, Scheduler, Scope, Secrets,
    StoreQuery,
};
use crate::report::PageSize;
use crate::request::{AccessRequest, SubmitCommand};
use crate::text::Message;
use crate::timing::{AccessDuration, Requested};

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Arc<Self> {
        Arc::new(Self(Mutex::new(start)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: TimeDelta) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A mailer that delivers into a list the test reads.
#[derive(Debug, Default)]
pub struct RecordingMailer(Mutex<Vec<Mail>>);

impl RecordingMailer {
    /// An empty one.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Everything sent, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What was sent to `to`, oldest first.
    pub fn sent_to(&self, to: &str) -> Vec<Mail> {
        self.sent()
            .into_iter()
            .filter(|m| m.to.as_str() == to)
            .collect()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

/// A mailer that fails (retryably) the next `n` sends, then hands over to the real one.
pub struct FlakyMailer {
    /// The real mailer.
    pub inner: Arc<dyn Mailer>,
    /// Sends still to fail.
    pub failures_left: AtomicU32,
}

impl FlakyMailer {
    /// `inner`, failing its next `failures` sends.
    pub fn new(inner: Arc<dyn Mailer>, failures: u32) -> Arc<Self> {
        Arc::new(Self {
            inner,
            failures_left: AtomicU32::new(failures),
        })
    }

    /// Fails the next `n` sends.
    pub fn fail_next(&self, n: u32) {
        self.failures_left.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl Mailer for FlakyMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(MailError::Retryable(
                "the mail service is unreachable".into(),
            ));
        }
        self.inner.send(mail).await
    }
}

/// A scheduler that keeps the ends it is given, for the test to read.
#[derive(Debug, Default)]
pub struct RecordingScheduler(Mutex<BTreeMap<RequestId, Timestamp>>);

impl RecordingScheduler {
    /// An empty one.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// When `grant` is scheduled to end, if it is.
    pub fn end_of(&self, grant: &RequestId) -> Option<Timestamp> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(grant)
            .copied()
    }
}

#[async_trait]
impl Scheduler for RecordingScheduler {
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(*grant, at);
        Ok(())
    }

    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(grant);
        Ok(())
    }
}

/// A scheduler whose every call fails, as when the scheduler service is down.
#[derive(Debug, Default)]
pub struct DownScheduler;

#[async_trait]
impl Scheduler for DownScheduler {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        Err("the scheduler is unreachable".into())
    }

    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        Err("the scheduler is unreachable".into())
    }
}

/// Secrets where every reference holds `user-<ref>` / `password-<ref>`.
#[derive(Debug, Default)]
pub struct NamedSecrets;

#[async_trait]
impl Secrets for NamedSecrets {
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError> {
        Ok(Credential {
            username: format!("user-{secret_ref}"),
            password: format!("password-{secret_ref}"),
        })
    }
}

/// Randomness that never repeats within a run and is the same in every run.
#[derive(Debug, Default)]
pub struct CountingRandom(AtomicU64);

impl Random for CountingRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
            let bytes = n.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

// ---- fixtures ----------------------------------------------------------------------

/// The instant fixtures are made at (2030-03-17 17:46:40 UTC).
pub fn t0() -> Timestamp {
    chrono::DateTime::from_timestamp(1_900_000_000, 0).expect("a valid instant")
}

/// A parsed address.
pub fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid address")
}

/// A demo person as a caller: `name@example.com`; carol is an admin.
pub fn caller(name: &str) -> Caller {
    Caller {
        email: email(&format!("{name}@example.com")),
        name: name.to_owned(),
        roles: if name == "carol" {
            vec![ADMIN_ROLE.to_owned()]
        } else {
            vec![]
        },
    }
}

/// A report of every request, in one page of the largest size, read at `now`.
pub fn every_request(now: Timestamp) -> StoreQuery {
    StoreQuery {
        scope: Scope::All,
        status: None,
        entry_id: None,
        requester: None,
        approver: None,
        from: None,
        to: None,
        order: crate::report::ReportOrder::Newest,
        limit: PageSize::MAX,
        cursor: None,
        now,
    }
}

/// alice's request to bob for `prod-db`, sent at [`t0`], asking for `requested`.
pub fn pending(requested: Requested) -> AccessRequest {
    let asked = SubmitCommand {
        entry_id: EntryId::parse("prod-db").expect("a valid fixture"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email("bob@example.com"),
        requested,
        message: Message::parse("deploy", "message").expect("a valid fixture"),
    };
    AccessRequest::pending(
        RequestId::new(t0(), 1),
        email("alice@example.com"),
        asked,
        "Production database".into(),
        t0(),
        t0() + TimeDelta::hours(24),
    )
}

/// An hour from approval.
pub fn hour() -> Requested {
    Requested::Duration(AccessDuration::from_seconds(3600, "d").expect("a valid fixture"))
}

/// `prod-db`: approved by bob, offering the built-in set, `execute` (execute only) and
/// `edit` (view and edit), for 8 h at most.
pub fn entry() -> Entry {
    Entry {
        id: EntryId::parse("prod-db").expect("a valid fixture"),
        name: "Production database".into(),
        kind: EntryKind::Credential,
        folder: "Databases".into(),
        approvers: vec![email("bob@example.com")],
        permission_sets: vec![
            PermissionSet::view_password_execute(),
            PermissionSet {
                id: PermissionSetId::parse("execute").expect("a valid fixture"),
                name: "Execute".into(),
                rights: vec![Right::Execute],
            },
            PermissionSet {
                id: PermissionSetId::parse("edit").expect("a valid fixture"),
                name: "Edit".into(),
                rights: vec![Right::View, Right::Edit],
            },
        ],
        duration_presets: vec![],
        max_duration: AccessDuration::from_seconds(8 * 3600, "d").expect("a valid fixture"),
        message_required: false,
        secret_ref: None,
    }
}
