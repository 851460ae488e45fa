//! Deadlines and retries around the adapters (feature `system`): a call that never
//! answers is cut at a deadline rather than answered late, and a store call that fails
//! for a moment (throttled, unreachable, cut at its deadline) is tried again with
//! backoff, a few times, before the use case fails with [`StoreError::Unavailable`]
//! (which the HTTP layer answers with 503 and `Retry-After`).
//!
//! Only failures of the moment are retried: a conflict, a duplicate, an open request
//! or a foreign cursor is an answer, not a failure. A write cut at its deadline may
//! still have been taken by the store; every change of a request is conditional (on
//! the version it read, on no open request, on its idempotency key), so its retry is
//! then refused as a conflict: the caller may hear 409 about its own change, and no
//! change is made twice (an event appended on its own, a look or a failed mail, may
//! then be on the timeline twice). The mailer, the scheduler, the rotator and the secret store get the deadline
//! only: the outbox, the sweep and the caller retry them already.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::Timestamp;
use crate::audit::AuditEvent;
use crate::entry::{Entry, User};
use crate::ids::{Email, EntryId, RequestId};
use crate::ports::{
    BoxError, Change, CreateRequest, Credential, Mail, MailError, Mailer, OutgoingMail, Page,
    PendingRotation, RotateError, Rotator, Scheduler, Secrets, Store, StoreError, StoreQuery,
    Total,
};
use crate::request::AccessRequest;
use crate::service::Ports;
use crate::token::{TokenHash, TokenRecord};

/// How long a call may take and how often a store call is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The deadline of one call to an adapter.
    pub call_timeout: Duration,
    /// How many times a store call is tried in all.
    pub store_attempts: u32,
    /// The wait before the second try; it doubles before each later one.
    pub first_backoff: Duration,
}

impl Default for Limits {
    /// 10 s a call (a Lambda function has 30 s for the whole request); three tries of
    /// a store call, 100 ms then 200 ms apart.
    fn default() -> Self {
        Self {
            call_timeout: Duration::from_secs(10),
            store_attempts: 3,
            first_backoff: Duration::from_millis(100),
        }
    }
}

/// `ports` with every adapter call under `limits`.
pub fn bounded(ports: Ports, limits: Limits) -> Ports {
    Ports {
        store: Arc::new(BoundedStore {
            inner: ports.store,
            limits,
        }),
        mailer: Arc::new(BoundedMailer(ports.mailer, limits.call_timeout)),
        scheduler: Arc::new(BoundedScheduler(ports.scheduler, limits.call_timeout)),
        secrets: Arc::new(BoundedSecrets(ports.secrets, limits.call_timeout)),
        rotator: Arc::new(BoundedRotator(ports.rotator, limits.call_timeout)),
        clock: ports.clock,
        random: ports.random,
    }
}

/// The error of a call cut at its deadline.
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
pub struct TimedOut(pub Duration);

async fn within<T>(limit: Duration, call: impl Future<Output = T>) -> Result<T, TimedOut> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| TimedOut(limit))
}

/// A store whose calls have a deadline and are retried with backoff while they fail.
pub struct BoundedStore {
    inner: Arc<dyn Store>,
    limits: Limits,
}

impl BoundedStore {
    /// `inner` under `limits`.
    pub fn new(inner: Arc<dyn Store>, limits: Limits) -> Self {
        Self { inner, limits }
    }

    async fn call<T, F, Fut>(&self, what: &'static str, call: F) -> Result<T, StoreError>
    where
        F: Fn() -> Fut + Send + Sync,
        Fut: Future<Output = Result<T, StoreError>> + Send,
        T: Send,
    {
        let mut wait = self.limits.first_backoff;
        let mut attempt = 1;
        loop {
            let error = match within(self.limits.call_timeout, call()).await {
                Ok(Err(StoreError::Unavailable(e))) => e,
                Ok(answer) => return answer,
                Err(timed_out) => Box::new(timed_out) as BoxError,
            };
            if attempt >= self.limits.store_attempts {
                tracing::error!(call = what, attempts = attempt, error = %crate::error::Chain(&*error), "store call given up");
                return Err(StoreError::Unavailable(error));
            }
            tracing::warn!(call = what, attempt, error = %crate::error::Chain(&*error), "store call failed; trying again");
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }
}

#[async_trait]
impl Store for BoundedStore {
    async fn put_entry(&self, entry: &Entry) -> Result<(), StoreError> {
        self.call("put_entry", || self.inner.put_entry(entry)).await
    }
    async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, StoreError> {
        self.call("entry", || self.inner.entry(id)).await
    }
    async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        self.call("entries", || self.inner.entries()).await
    }
    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        self.call("put_user", || self.inner.put_user(user)).await
    }
    async fn user(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.call("user", || self.inner.user(email)).await
    }
    async fn users(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        self.call("users", || self.inner.users(emails)).await
    }
    async fn create_request(&self, new: CreateRequest) -> Result<(), StoreError> {
        self.call("create_request", || self.inner.create_request(new.clone()))
            .await
    }
    async fn apply(&self, change: Change) -> Result<(), StoreError> {
        self.call("apply", || self.inner.apply(change.clone()))
            .await
    }
    async fn request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        self.call("request", || self.inner.request(id)).await
    }
    async fn events(&self, id: &RequestId) -> Result<Vec<AuditEvent>, StoreError> {
        self.call("events", || self.inner.events(id)).await
    }
    async fn append_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.call("append_event", || self.inner.append_event(event))
            .await
    }
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.call("token", || self.inner.token(hash)).await
    }
    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.call("put_token", || self.inner.put_token(token)).await
    }
    async fn query(&self, query: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
        self.call("query", || self.inner.query(query)).await
    }
    async fn count(&self, query: &StoreQuery) -> Result<Total, StoreError> {
        self.call("count", || self.inner.count(query)).await
    }
    async fn open_requests_of(
        &self,
        requester: &Email,
        now: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.call("open_requests_of", || {
            self.inner.open_requests_of(requester, now)
        })
        .await
    }
    async fn grants_ending_after(
        &self,
        after: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.call("grants_ending_after", || {
            self.inner.grants_ending_after(after)
        })
        .await
    }
    async fn overdue_grants(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.call("overdue_grants", || self.inner.overdue_grants(now, limit))
            .await
    }
    async fn stale_pending(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.call("stale_pending", || self.inner.stale_pending(now, limit))
            .await
    }
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        self.call("due_mail", || self.inner.due_mail(now, limit))
            .await
    }
    async fn mail_delivered(&self, id: &str) -> Result<(), StoreError> {
        self.call("mail_delivered", || self.inner.mail_delivered(id))
            .await
    }
    async fn mail_sent(&self, id: &str, event: Option<&AuditEvent>) -> Result<(), StoreError> {
        self.call("mail_sent", || self.inner.mail_sent(id, event))
            .await
    }
    async fn mail_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.call("mail_failed", || {
            self.inner.mail_failed(id, attempts, next_attempt_at)
        })
        .await
    }
    async fn due_rotations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingRotation>, StoreError> {
        self.call("due_rotations", || self.inner.due_rotations(now, limit))
            .await
    }
    async fn rotation_done(&self, id: &str) -> Result<(), StoreError> {
        self.call("rotation_done", || self.inner.rotation_done(id))
            .await
    }
    async fn rotation_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.call("rotation_failed", || {
            self.inner.rotation_failed(id, attempts, next_attempt_at)
        })
        .await
    }
}

/// A mailer whose sends have a deadline; one cut is a retryable failure (the outbox
/// tries it again).
struct BoundedMailer(Arc<dyn Mailer>, Duration);

#[async_trait]
impl Mailer for BoundedMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        within(self.1, self.0.send(mail))
            .await
            .unwrap_or_else(|e| Err(MailError::Retryable(Box::new(e))))
    }
}

/// A scheduler whose calls have a deadline (a grant not scheduled is ended by the
/// sweep).
struct BoundedScheduler(Arc<dyn Scheduler>, Duration);

#[async_trait]
impl Scheduler for BoundedScheduler {
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError> {
        within(self.1, self.0.schedule_end(grant, at))
            .await
            .unwrap_or_else(|e| Err(Box::new(e)))
    }
    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError> {
        within(self.1, self.0.cancel_end(grant))
            .await
            .unwrap_or_else(|e| Err(Box::new(e)))
    }
}

struct BoundedSecrets(Arc<dyn Secrets>, Duration);

#[async_trait]
impl Secrets for BoundedSecrets {
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError> {
        within(self.1, self.0.credential(secret_ref))
            .await
            .unwrap_or_else(|e| Err(Box::new(e)))
    }
}

/// A rotator whose calls have a deadline; one cut is retried by the sweep.
struct BoundedRotator(Arc<dyn Rotator>, Duration);

#[async_trait]
impl Rotator for BoundedRotator {
    async fn rotate(&self, secret_ref: &str) -> Result<(), RotateError> {
        within(self.1, self.0.rotate(secret_ref))
            .await
            .unwrap_or_else(|e| Err(RotateError::Retryable(Box::new(e))))
    }
}
