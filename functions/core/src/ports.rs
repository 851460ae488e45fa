//! The ports: what the domain needs from the outside world, shaped by use.

use async_trait::async_trait;
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::audit::AuditEvent;
use crate::entry::{Entry, User};
use crate::ids::{Email, EntryId, RequestId};
use crate::report::{PageSize, ReportOrder};
use crate::request::{AccessRequest, Status};
use crate::token::{TokenHash, TokenRecord};

/// A failure of a store, mailer, scheduler or secret store, with its cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request is not in the state (version) the write expected; here it is now.
    #[error("the request changed concurrently (now {})", current.state.as_str())]
    Conflict {
        /// The request as stored now.
        current: Box<AccessRequest>,
    },
    /// The requester's idempotency key is still held by the request it made.
    #[error("idempotency key already used")]
    Duplicate {
        /// The request created with that key.
        existing: RequestId,
    },
    /// The requester already has a pending request for this entry.
    #[error("a pending request for this entry exists")]
    OpenRequest {
        /// That request.
        existing: RequestId,
    },
    /// The page cursor was not made for this query (see [`crate::report::Cursor`]).
    #[error("not a cursor from this report")]
    BadCursor,
    /// The database failed.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] BoxError),
}

/// A mail waiting to be delivered (the outbox), written with the state change that
/// caused it so that no notification is lost when the mailer fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// Unique id (a ULID).
    pub id: String,
    /// The request it is about.
    pub request_id: RequestId,
    /// Why it is sent (the approver's notice is recorded as `notified`).
    pub purpose: MailPurpose,
    /// The message.
    pub mail: Mail,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try next.
    pub next_attempt_at: Timestamp,
}

/// A credential to rotate (the outbox of rotations), written with the grant's end so
/// that no rotation is lost when the rotator fails: retried by the sweep until done or
/// given up, each outcome on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRotation {
    /// Unique id (a ULID).
    pub id: String,
    /// The grant whose end calls for it.
    pub request_id: RequestId,
    /// The credential's secret.
    pub secret_ref: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try next.
    pub next_attempt_at: Timestamp,
}

/// Why a mail is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailPurpose {
    /// Ask the approver to decide.
    DecisionRequested,
    /// Tell someone what happened.
    Notice,
}

/// One message.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient.
    pub to: Email,
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part (every user string escaped).
    pub html: String,
}

impl std::fmt::Debug for Mail {
    // Bodies may hold a decision link: keep them out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A new request and everything written with it, atomically.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The request (version 0, pending).
    pub request: AccessRequest,
    /// Its `requested` event.
    pub event: AuditEvent,
    /// The approver's decision token.
    pub token: TokenRecord,
    /// The approver's mail.
    pub outbox: Vec<OutgoingMail>,
    /// The requester's `Idempotency-Key`, if sent.
    pub idempotency: Option<IdempotencyKey>,
    /// Hold the requester's one pending place for the entry: written only while no
    /// other pending request of theirs for it is unexpired. The use cases always ask
    /// it; the store holds it in the same atomic write, so that two sent at once
    /// cannot both pass.
    pub one_pending_per_entry: bool,
}

/// How long an idempotency key holds after the request it made: a repeat within it
/// returns that request, a request after it is new.
pub const IDEMPOTENCY_WINDOW: TimeDelta = TimeDelta::hours(24);

/// A requester's `Idempotency-Key` and when it is free again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key as the client sent it.
    pub key: String,
    /// From this instant the key makes a new request.
    pub free_after: Timestamp,
}

impl IdempotencyKey {
    /// `key`, used by a request created at `at`.
    pub fn used_at(key: String, at: Timestamp) -> Self {
        Self {
            key,
            free_after: at + IDEMPOTENCY_WINDOW,
        }
    }
}

/// A transition and everything written with it, atomically, if the stored version is
/// still `expected_version`.
#[derive(Debug, Clone)]
pub struct Change {
    /// The request after the transition.
    pub request: AccessRequest,
    /// The version the transition started from.
    pub expected_version: u64,
    /// The event recording it.
    pub event: AuditEvent,
    /// Mails it causes.
    pub outbox: Vec<OutgoingMail>,
    /// Rotations it causes (a grant's end).
    pub rotations: Vec<PendingRotation>,
}

/// Whose requests a query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Requests this person made.
    RequestedBy(Email),
    /// Requests this person is asked to decide.
    ApprovedBy(Email),
    /// Every request (admins).
    All,
}

/// A report query. Results are in `order` of creation (ties by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreQuery {
    /// Whose requests.
    pub scope: Scope,
    /// Only this status (read against `now`).
    pub status: Option<Status>,
    /// Only this entry.
    pub entry_id: Option<EntryId>,
    /// Only this requester.
    pub requester: Option<Email>,
    /// Only this approver.
    pub approver: Option<Email>,
    /// Created at or after.
    pub from: Option<Timestamp>,
    /// Created before.
    pub to: Option<Timestamp>,
    /// Newest or oldest first.
    pub order: ReportOrder,
    /// At most this many items.
    pub limit: PageSize,
    /// Where the previous page stopped (opaque to callers; the store checks it).
    pub cursor: Option<String>,
    /// The time statuses are read against.
    pub now: Timestamp,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// How many requests a report selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// All of them were counted.
    Exact(u64),
    /// Counting stopped at the store's read budget after this many: there are more.
    AtLeast(u64),
}

impl Total {
    /// The number counted.
    pub fn counted(self) -> u64 {
        match self {
            Self::Exact(n) | Self::AtLeast(n) => n,
        }
    }
}

/// Where requests, grants, events, tokens, entries, users and the outbox live.
/// Every state change is one atomic write conditional on the expected version.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates or replaces an entry.
    async fn put_entry(&self, entry: &Entry) -> Result<(), StoreError>;
    /// One entry.
    async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, StoreError>;
    /// Every entry, by id.
    async fn entries(&self) -> Result<Vec<Entry>, StoreError>;
    /// Creates or replaces a user.
    async fn put_user(&self, user: &User) -> Result<(), StoreError>;
    /// One user.
    async fn user(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// The users of `emails` that exist, in any order: a store reads them at once
    /// where it can (the names a page or a mail shows).
    async fn users(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        let mut users = Vec::new();
        for email in emails {
            users.extend(self.user(email).await?);
        }
        Ok(users)
    }

    /// Writes a new request with its event, token and mail. With an idempotency key
    /// the same requester used for a request whose key is not free yet (its
    /// `free_after` is after the new request's creation), writes nothing and returns
    /// `Duplicate`; a free key is taken over by the new request. Else, with
    /// `one_pending_per_entry`, while the same requester has a pending request for the
    /// same entry that has not expired (its `expires_at` is after the new request's
    /// creation), writes nothing and returns `OpenRequest`: one pending request per
    /// requester and entry, even when two are sent at once.
    async fn create_request(&self, new: CreateRequest) -> Result<(), StoreError>;
    /// Writes a transition if the request is still at `expected_version`, else
    /// `Conflict` with the current request. Nothing is written on failure.
    async fn apply(&self, change: Change) -> Result<(), StoreError>;
    /// One request.
    async fn request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError>;
    /// A request's events, oldest first.
    async fn events(&self, id: &RequestId) -> Result<Vec<AuditEvent>, StoreError>;
    /// Appends an event that changes no state (viewed, revealed, mail failed).
    async fn append_event(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// What a decision token stands for.
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// Keeps another token for a request (a decision mail sent again carries a new
    /// link); the request's other tokens stay valid.
    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// A page of a report, its cursor made and read by [`crate::report::Cursor`].
    async fn query(&self, query: &StoreQuery) -> Result<Page<AccessRequest>, StoreError>;
    /// How many requests a report selects: every page of `query`, whatever its page
    /// size, order and cursor; a store may stop at a read budget and say "at least".
    async fn count(&self, query: &StoreQuery) -> Result<Total, StoreError>;
    /// This person's pending requests and approved grants not yet past their end.
    async fn open_requests_of(
        &self,
        requester: &Email,
        now: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError>;
    /// Approved grants whose end is after `after` (running or scheduled), by end.
    async fn grants_ending_after(&self, after: Timestamp)
    -> Result<Vec<AccessRequest>, StoreError>;
    /// Approved grants whose end is at or before `now` (to be ended), by end.
    async fn overdue_grants(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError>;
    /// Pending requests whose expiry is at or before `now`.
    async fn stale_pending(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError>;
    /// Mails whose next attempt is at or before `now`.
    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<OutgoingMail>, StoreError>;
    /// Removes a delivered mail from the outbox.
    async fn mail_delivered(&self, id: &str) -> Result<(), StoreError>;
    /// Removes a delivered mail from the outbox and records `event` of its delivery:
    /// in one call where the store can. Both are tried; the first failure is returned.
    async fn mail_sent(&self, id: &str, event: Option<&AuditEvent>) -> Result<(), StoreError> {
        let delivered = self.mail_delivered(id).await;
        let recorded = match event {
            Some(event) => self.append_event(event).await,
            None => Ok(()),
        };
        delivered.and(recorded)
    }
    /// Records a failed attempt: retried at `next_attempt_at`, or dropped when `None`.
    async fn mail_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError>;
    /// Rotations whose next attempt is at or before `now`.
    async fn due_rotations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingRotation>, StoreError>;
    /// Removes a done rotation.
    async fn rotation_done(&self, id: &str) -> Result<(), StoreError>;
    /// Records a failed attempt: retried at `next_attempt_at`, or given up (kept, out of
    /// the due ones) when `None`.
    async fn rotation_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError>;
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Try again later (throttling, a network failure).
    #[error("mail failed, retryable: {0}")]
    Retryable(#[source] BoxError),
    /// Trying again will not help (rejected address, unverified sender).
    #[error("mail rejected: {0}")]
    Permanent(#[source] BoxError),
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Ends grants on time. Idempotent by a name derived from the grant id.
#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Arranges for the grant to be ended at `at`.
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError>;
    /// Forgets the grant's end (it was ended early). Missing is fine.
    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError>;
}

/// Why a credential was not rotated.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// Try again later (throttling, a rotation still in progress, a network failure).
    #[error("rotation failed, retryable: {0}")]
    Retryable(#[source] BoxError),
    /// Trying again will not help (no such secret, no rotation set up for it).
    #[error("rotation refused: {0}")]
    Permanent(#[source] BoxError),
}

/// Rotates credentials: after a grant that could reveal one, a new password replaces
/// the one the holder saw. Starting a rotation is enough; its owner's process
/// finishes it.
#[async_trait]
pub trait Rotator: Send + Sync {
    /// Starts rotating the credential kept under `secret_ref`.
    async fn rotate(&self, secret_ref: &str) -> Result<(), RotateError>;
}

/// A stored username and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Reads entries' credentials.
#[async_trait]
pub trait Secrets: Send + Sync {
    /// The credential kept under `secret_ref`.
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError>;
}

/// The time. Nothing in the product reads the system time directly.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Randomness for ids and decision tokens.
pub trait Random: Send + Sync {
    /// Fills `buf` with cryptographically secure random bytes.
    fn fill(&self, buf: &mut [u8]);
}
