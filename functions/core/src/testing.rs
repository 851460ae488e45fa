//! Test doubles of the ports, for tests that drive the use cases (feature `testing`):
//! a clock the test moves, a mailer that keeps what it sends, adapters that fail on
//! demand, deterministic randomness; and the domain's fixtures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::TimeDelta;

use crate::Timestamp;
use crate::audit::AuditEvent;
use crate::entry::User;
use crate::entry::{ADMIN_ROLE, Caller, Entry, EntryKind, PermissionSet, Right};
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::ports::{
    BoxError, Change, Clock, CreateRequest, Credential, Mail, MailError, Mailer, OutgoingMail,
    Page, PendingRotation, Random, RotateError, Rotator, Scheduler, Scope, Secrets, Store,
    StoreError, StoreQuery, Total,
};
use crate::report::PageSize;
use crate::request::{AccessRequest, SubmitCommand};
use crate::text::Message;
use crate::timing::{AccessDuration, Requested};
use crate::token::{TokenHash, TokenRecord};

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

/// A rotator that records what it rotates, and fails the next `n` calls when told to.
#[derive(Debug, Default)]
pub struct RecordingRotator {
    rotated: Mutex<Vec<String>>,
    failures: AtomicU64,
    permanent: std::sync::atomic::AtomicBool,
}

impl RecordingRotator {
    /// A rotator that succeeds.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The secrets rotated so far, in order.
    pub fn rotated(&self) -> Vec<String> {
        self.rotated
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Fails the next `n` calls, retryably (or for good when `permanent`).
    pub fn fail_next(&self, n: u64, permanent: bool) {
        self.failures.store(n, Ordering::SeqCst);
        self.permanent.store(permanent, Ordering::SeqCst);
    }
}

#[async_trait]
impl Rotator for RecordingRotator {
    async fn rotate(&self, secret_ref: &str) -> Result<(), RotateError> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            let e: BoxError = "the rotation service is unreachable".into();
            return Err(if self.permanent.load(Ordering::SeqCst) {
                RotateError::Permanent(e)
            } else {
                RotateError::Retryable(e)
            });
        }
        self.rotated
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(secret_ref.to_owned());
        Ok(())
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
        rotates: false,
    }
}

/// A store with faults a test turns on: an index of people's open requests that lags
/// (while frozen, [`Store::open_requests_of`] answers from a snapshot, as a DynamoDB
/// index may for a moment after a write), writes to chosen requests that fail, and a
/// seeded random schedule of failures of the moment and calls that never answer; and
/// it counts the calls made to it.
/// Everything else is the inner store's.
pub struct StoreWithFaults {
    inner: Arc<dyn Store>,
    frozen: Mutex<Option<std::collections::HashMap<Email, Vec<AccessRequest>>>>,
    failing: Mutex<Vec<RequestId>>,
    failing_events: Mutex<Vec<RequestId>>,
    schedule: Mutex<Option<Schedule>>,
    dealt: Mutex<StoreFaultFigures>,
    counted: Mutex<BTreeMap<&'static str, u64>>,
}

/// A seeded schedule of store faults.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    state: u64,
    fail_percent: u64,
    hang_per_mille: u64,
}

impl Schedule {
    /// xorshift64*: the same faults for the same seed.
    fn below(&mut self, n: u64) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// What the schedule dealt: calls made, failed for the moment (throttled or
/// unreachable on a read; contention or throttling on a write), and never answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreFaultFigures {
    /// Calls while the schedule ran.
    pub calls: u64,
    /// Reads failed (throttled, unreachable).
    pub reads_failed: u64,
    /// Writes failed (contention with another transaction, throttled).
    pub writes_failed: u64,
    /// Calls that never answered.
    pub hung: u64,
}

/// What a store call is, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallKind {
    Read,
    Write,
}

impl StoreWithFaults {
    /// A decorator of `inner`, with no fault yet.
    pub fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            frozen: Mutex::new(None),
            failing: Mutex::new(Vec::new()),
            failing_events: Mutex::new(Vec::new()),
            schedule: Mutex::new(None),
            dealt: Mutex::new(StoreFaultFigures::default()),
            counted: Mutex::new(BTreeMap::new()),
        })
    }

    /// From now on, each call fails for the moment `fail_percent` times in a hundred
    /// and never answers `hang_per_mille` times in a thousand, as `seed` deals them.
    pub fn schedule(&self, seed: u64, fail_percent: u64, hang_per_mille: u64) {
        *self.schedule.lock().unwrap_or_else(PoisonError::into_inner) = Some(Schedule {
            state: seed | 1,
            fail_percent,
            hang_per_mille,
        });
    }

    /// Ends the schedule and the failing events: the database has recovered.
    pub fn recover(&self) {
        *self.schedule.lock().unwrap_or_else(PoisonError::into_inner) = None;
        self.failing_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The calls made since the last time they were taken, by the name of the
    /// [`Store`] method; taking them starts the count again.
    pub fn take_calls(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.counted.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the schedule dealt so far.
    pub fn figures(&self) -> StoreFaultFigures {
        *self.dealt.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the schedule says of this call: go on, fail, or never answer.
    async fn scheduled(&self, name: &'static str, kind: CallKind) -> Result<(), StoreError> {
        *self
            .counted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name)
            .or_default() += 1;
        let (hang, fail) = {
            let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(s) = schedule.as_mut() else {
                return Ok(());
            };
            let hang = s.below(1000) < s.hang_per_mille;
            let fail = !hang && s.below(100) < s.fail_percent;
            (hang, fail)
        };
        {
            let mut dealt = self.dealt.lock().unwrap_or_else(PoisonError::into_inner);
            dealt.calls += 1;
            match (hang, fail, kind) {
                (true, _, _) => dealt.hung += 1,
                (_, true, CallKind::Read) => dealt.reads_failed += 1,
                (_, true, CallKind::Write) => dealt.writes_failed += 1,
                _ => {}
            }
        }
        if hang {
            std::future::pending::<()>().await;
        }
        if fail {
            return Err(StoreError::Unavailable(match kind {
                CallKind::Read => "the table is throttled (ProvisionedThroughputExceeded)".into(),
                CallKind::Write => {
                    "the transaction was cancelled by another in flight (TransactionConflict)"
                        .into()
                }
            }));
        }
        Ok(())
    }

    /// From now on, every write to request `id` fails (the database refuses it).
    pub fn fail_writes_to(&self, id: RequestId) {
        self.failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
    }

    /// From now on, every event appended to request `id`'s timeline on its own (not
    /// with a change of state) fails; [`Self::recover`] ends it.
    pub fn fail_events_of(&self, id: RequestId) {
        self.failing_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
    }

    /// From now on, `who`'s open requests are what they are now (at `now`).
    pub async fn freeze(&self, who: &Email, now: Timestamp) -> Result<(), StoreError> {
        let snapshot = self.inner.open_requests_of(who, now).await?;
        self.frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(Default::default)
            .insert(who.clone(), snapshot);
        Ok(())
    }
}

#[async_trait]
impl Store for StoreWithFaults {
    async fn put_entry(&self, entry: &Entry) -> Result<(), StoreError> {
        self.scheduled("put_entry", CallKind::Write).await?;
        self.inner.put_entry(entry).await
    }
    async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, StoreError> {
        self.scheduled("entry", CallKind::Read).await?;
        self.inner.entry(id).await
    }
    async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        self.scheduled("entries", CallKind::Read).await?;
        self.inner.entries().await
    }
    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        self.scheduled("put_user", CallKind::Write).await?;
        self.inner.put_user(user).await
    }
    async fn user(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.scheduled("user", CallKind::Read).await?;
        self.inner.user(email).await
    }
    async fn create_request(&self, new: CreateRequest) -> Result<(), StoreError> {
        self.scheduled("create_request", CallKind::Write).await?;
        self.inner.create_request(new).await
    }
    async fn apply(&self, change: Change) -> Result<(), StoreError> {
        self.scheduled("apply", CallKind::Write).await?;
        let failing = self
            .failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&change.request.id);
        if failing {
            return Err(StoreError::Unavailable(
                "the database refused the write".into(),
            ));
        }
        self.inner.apply(change).await
    }
    async fn request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        self.scheduled("request", CallKind::Read).await?;
        self.inner.request(id).await
    }
    async fn events(&self, id: &RequestId) -> Result<Vec<AuditEvent>, StoreError> {
        self.scheduled("events", CallKind::Read).await?;
        self.inner.events(id).await
    }
    async fn append_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.scheduled("append_event", CallKind::Write).await?;
        let failing = self
            .failing_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&event.request_id);
        if failing {
            return Err(StoreError::Unavailable(
                "the database refused the event".into(),
            ));
        }
        self.inner.append_event(event).await
    }
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.scheduled("token", CallKind::Read).await?;
        self.inner.token(hash).await
    }
    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.scheduled("put_token", CallKind::Write).await?;
        self.inner.put_token(token).await
    }
    async fn query(&self, query: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
        self.scheduled("query", CallKind::Read).await?;
        self.inner.query(query).await
    }
    async fn count(&self, query: &StoreQuery) -> Result<Total, StoreError> {
        self.scheduled("count", CallKind::Read).await?;
        self.inner.count(query).await
    }
    async fn open_requests_of(
        &self,
        requester: &Email,
        now: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.scheduled("open_requests_of", CallKind::Read).await?;
        let frozen = self
            .frozen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|f| f.get(requester).cloned());
        match frozen {
            Some(snapshot) => Ok(snapshot),
            None => self.inner.open_requests_of(requester, now).await,
        }
    }
    async fn grants_ending_after(
        &self,
        after: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.scheduled("grants_ending_after", CallKind::Read)
            .await?;
        self.inner.grants_ending_after(after).await
    }
    async fn overdue_grants(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.scheduled("overdue_grants", CallKind::Read).await?;
        self.inner.overdue_grants(now, limit).await
    }
    async fn stale_pending(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.scheduled("stale_pending", CallKind::Read).await?;
        self.inner.stale_pending(now, limit).await
    }
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        self.scheduled("due_mail", CallKind::Read).await?;
        self.inner.due_mail(now, limit).await
    }
    async fn mail_delivered(&self, id: &str) -> Result<(), StoreError> {
        self.scheduled("mail_delivered", CallKind::Write).await?;
        self.inner.mail_delivered(id).await
    }
    async fn mail_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.scheduled("mail_failed", CallKind::Write).await?;
        self.inner.mail_failed(id, attempts, next_attempt_at).await
    }
    async fn due_rotations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingRotation>, StoreError> {
        self.scheduled("due_rotations", CallKind::Read).await?;
        self.inner.due_rotations(now, limit).await
    }
    async fn rotation_done(&self, id: &str) -> Result<(), StoreError> {
        self.scheduled("rotation_done", CallKind::Write).await?;
        self.inner.rotation_done(id).await
    }
    async fn rotation_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.scheduled("rotation_failed", CallKind::Write).await?;
        self.inner
            .rotation_failed(id, attempts, next_attempt_at)
            .await
    }
}
