//! The use cases. Each takes the caller (or a decision token, or nothing for the
//! timer), checks policy, makes one conditional write, then runs side effects (mail,
//! scheduler) whose failures are recorded and retried rather than returned.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::TimeDelta;

use crate::Timestamp;
use crate::audit::{Actor, AuditEvent, EventKind};
use crate::entry::{Caller, Entry, PermissionSet, Right};
use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::mail;
use crate::ports::{
    Change, Clock, Credential, MailError, MailPurpose, Mailer, NewRequest, OutgoingMail, Page,
    Random, RequestQuery, Scheduler, Scope, Secrets, Store, StoreError,
};
use crate::request::{AccessRequest, DEFAULT_PENDING_EXPIRY, Grant, Op, State, Status};
use crate::text::Message;
use crate::timing::{AccessDuration, Requested, TimeFrame};
use crate::token::{DecisionToken, TokenRecord};

/// A mail is tried this many times before it is given up (and recorded as failed).
pub const MAX_MAIL_ATTEMPTS: u32 = 6;

/// How long the request path has to deliver a fresh mail before the sweep may retry it,
/// so that the two never send the same mail at once.
const FIRST_DELIVERY_GRACE: TimeDelta = TimeDelta::seconds(60);

/// The most items one sweep pass handles of each kind; the next pass takes the rest.
const SWEEP_BATCH: u32 = 100;

/// The adapters a [`Service`] runs on.
#[derive(Clone)]
pub struct Ports {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Sends mail.
    pub mailer: Arc<dyn Mailer>,
    /// Ends grants on time.
    pub scheduler: Arc<dyn Scheduler>,
    /// Reads credentials.
    pub secrets: Arc<dyn Secrets>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness for ids and tokens.
    pub random: Arc<dyn Random>,
}

/// Deployment settings the use cases need.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The site's base URL, for decision links.
    pub site_url: String,
    /// How long a request may stay pending.
    pub pending_expiry: TimeDelta,
}

impl Settings {
    /// Settings for a site at `site_url` with the default pending expiry.
    pub fn new(site_url: impl Into<String>) -> Self {
        Self {
            site_url: site_url.into(),
            pending_expiry: DEFAULT_PENDING_EXPIRY,
        }
    }
}

/// A new request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRequest {
    /// The entry.
    pub entry_id: EntryId,
    /// The rights.
    pub permission_set: PermissionSetId,
    /// Who should decide.
    pub approver: Email,
    /// How long or when.
    pub requested: Requested,
    /// Why.
    pub message: Message,
}

/// An approver's decision, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve, as asked or narrower.
    Approve(Narrowing),
    /// Deny.
    Deny,
}

/// How an approval may be narrower than the request. All `None`: as asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// A shorter duration.
    pub duration: Option<AccessDuration>,
    /// A narrower time frame (for time-frame requests).
    pub window: Option<TimeFrame>,
    /// A narrower permission set.
    pub permission_set: Option<PermissionSetId>,
}

/// What the decision page shows.
#[derive(Debug, Clone)]
pub struct DecisionView {
    /// The request.
    pub request: AccessRequest,
    /// The entry, if it still exists (for the sets the approver may narrow to).
    pub entry: Option<Entry>,
    /// Whether a decision can still be made with this link.
    pub decidable: bool,
}

/// What a caller's access to one entry is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyAccess {
    /// none, pending, scheduled or active.
    pub status: Option<Status>,
    /// The request behind it.
    pub request_id: Option<RequestId>,
    /// When the grant ends (scheduled, active) or the request expires (pending).
    pub until: Option<Timestamp>,
}

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

/// Which list a report query covers, as the caller asks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportScope {
    /// The caller's requests.
    #[default]
    Mine,
    /// Requests the caller is asked to decide.
    Approvals,
    /// Every request (admins only).
    All,
}

/// A report query as the caller asks it (before scope is checked).
#[derive(Debug, Clone, Default)]
pub struct ReportParams {
    /// Whose requests.
    pub scope: ReportScope,
    /// Filters.
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
    /// Page size.
    pub limit: Option<u32>,
    /// The previous page's cursor.
    pub cursor: Option<String>,
}

/// The largest page a report returns.
pub const MAX_PAGE: u32 = 500;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// The temporary-access use cases over a set of [`Ports`].
#[derive(Clone)]
pub struct Service {
    ports: Ports,
    settings: Settings,
}

fn store_err(context: &str) -> impl FnOnce(StoreError) -> Error + '_ {
    move |e| Error::unavailable(context.to_owned(), e)
}

impl Service {
    /// A service over `ports`.
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self { ports, settings }
    }

    /// The time now, from the clock port.
    pub fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    /// The store (for admin commands and tests that read it directly).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.ports.store
    }

    fn random_u128(&self) -> u128 {
        let mut b = [0u8; 16];
        self.ports.random.fill(&mut b);
        u128::from_le_bytes(b)
    }

    fn event(
        &self,
        request_id: RequestId,
        actor: Actor,
        kind: EventKind,
        detail: String,
    ) -> AuditEvent {
        let at = self.now();
        AuditEvent {
            request_id,
            id: RequestId::new(at, self.random_u128()).to_string(),
            at,
            actor,
            kind,
            detail,
        }
    }

    fn outgoing(
        &self,
        request_id: RequestId,
        purpose: MailPurpose,
        m: crate::ports::Mail,
    ) -> OutgoingMail {
        let now = self.now();
        OutgoingMail {
            id: RequestId::new(now, self.random_u128()).to_string(),
            request_id,
            purpose,
            mail: m,
            attempts: 0,
            next_attempt_at: now + FIRST_DELIVERY_GRACE,
        }
    }

    async fn entry_or_rejected(&self, id: &EntryId) -> Result<Entry, Error> {
        self.ports
            .store
            .entry(id)
            .await
            .map_err(store_err("reading the entry"))?
            .ok_or_else(|| Error::rejected("entry_id", format!("there is no entry {id}")))
    }

    async fn request_or_404(&self, id: &RequestId) -> Result<AccessRequest, Error> {
        self.ports
            .store
            .request(id)
            .await
            .map_err(store_err("reading the request"))?
            .ok_or(Error::NotFound {
                what: "request",
                field: None,
            })
    }

    /// Every entry, for the caller, with their access to each now.
    pub async fn entries_for(&self, caller: &Caller) -> Result<Vec<(Entry, MyAccess)>, Error> {
        let now = self.now();
        let store = &self.ports.store;
        let entries = store
            .entries()
            .await
            .map_err(store_err("listing entries"))?;
        let open = store
            .open_requests_of(&caller.email, now)
            .await
            .map_err(store_err("reading the caller's requests"))?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let access = my_access(&open, &e.id, now);
                (e, access)
            })
            .collect())
    }

    /// Display names of the given people (their email when unknown).
    pub async fn names(&self, people: &[Email]) -> Result<HashMap<Email, String>, Error> {
        let mut names = HashMap::new();
        for p in people {
            if names.contains_key(p) {
                continue;
            }
            let user = self
                .ports
                .store
                .user(p)
                .await
                .map_err(store_err("reading a user"))?;
            names.insert(p.clone(), user.map_or_else(|| p.to_string(), |u| u.name));
        }
        Ok(names)
    }

    /// Sends a request: checks it against the entry's policy, writes it with its
    /// event, decision token and the approver's mail, then delivers the mail.
    /// A repeat with the same idempotency key returns the first request.
    pub async fn submit(
        &self,
        caller: &Caller,
        cmd: SubmitRequest,
        idempotency_key: Option<String>,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let entry = self.entry_or_rejected(&cmd.entry_id).await?;
        let set = entry.permission_set(&cmd.permission_set).ok_or_else(|| {
            Error::rejected(
                "permission_set",
                "this entry does not offer that permission set",
            )
        })?;
        if cmd.approver == caller.email {
            return Err(Error::rejected(
                "approver_id",
                "you cannot approve your own request: choose another approver",
            ));
        }
        if !entry.is_approver(&cmd.approver) {
            return Err(Error::rejected(
                "approver_id",
                "that person is not an approver of this entry",
            ));
        }
        let length_field = match cmd.requested {
            Requested::Duration(_) => "duration_seconds",
            Requested::Window(w) => {
                if w.end() <= now {
                    return Err(Error::invalid("window.end", "must be in the future"));
                }
                "window.end"
            }
        };
        entry.check_length(&cmd.requested, length_field)?;
        if entry.message_required && cmd.message.is_empty() {
            return Err(Error::rejected(
                "message",
                "this entry requires a message to the approver",
            ));
        }

        let mut expires_at = now + self.settings.pending_expiry;
        if let Requested::Window(w) = cmd.requested {
            expires_at = expires_at.min(w.end());
        }
        let request = AccessRequest {
            id: RequestId::new(now, self.random_u128()),
            entry_id: entry.id.clone(),
            entry_name: entry.name.clone(),
            requester: caller.email.clone(),
            approver: cmd.approver,
            permission_set: cmd.permission_set,
            requested: cmd.requested,
            message: cmd.message,
            state: State::Pending,
            version: 0,
            created_at: now,
            expires_at,
            decided_at: None,
            decided_by: None,
            decision_comment: None,
            grant: None,
            cancelled_at: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            ended_at: None,
        };
        let mut secret = [0u8; 32];
        self.ports.random.fill(&mut secret);
        let token = DecisionToken::from_bytes(secret);
        let notice =
            mail::decision_requested(&request, &set.name, token.link(&self.settings.site_url));
        let outbox = vec![self.outgoing(request.id, MailPurpose::DecisionRequested, notice)];
        let new = NewRequest {
            event: self.event(
                request.id,
                Actor::User(caller.email.clone()),
                EventKind::Requested,
                mail::describe_requested(&request.requested),
            ),
            token: TokenRecord {
                hash: token.hash(),
                request_id: request.id,
                approver: request.approver.clone(),
                expires_at,
            },
            outbox: outbox.clone(),
            idempotency_key,
            request: request.clone(),
        };
        match self.ports.store.create_request(new).await {
            Ok(()) => {}
            Err(StoreError::Duplicate { existing }) => return self.request_or_404(&existing).await,
            Err(e) => return Err(Error::unavailable("writing the request", e)),
        }
        tracing::info!(request_id = %request.id, entry_id = %request.entry_id, "request sent");
        self.deliver(outbox).await;
        Ok(request)
    }

    /// What a decision link shows. Changes no state; records that the approver looked.
    pub async fn lookup_decision(&self, token: &DecisionToken) -> Result<DecisionView, Error> {
        let (record, request) = self.resolve_token(token).await?;
        let now = self.now();
        let decidable = request.status(now) == Status::Pending;
        if decidable {
            let viewed = self.event(
                request.id,
                Actor::User(record.approver),
                EventKind::Viewed,
                String::new(),
            );
            if let Err(e) = self.ports.store.append_event(&viewed).await {
                tracing::warn!(request_id = %request.id, error = %e, "could not record the view");
            }
        }
        let entry = self
            .ports
            .store
            .entry(&request.entry_id)
            .await
            .map_err(store_err("reading the entry"))?;
        Ok(DecisionView {
            request,
            entry,
            decidable,
        })
    }

    async fn resolve_token(
        &self,
        token: &DecisionToken,
    ) -> Result<(TokenRecord, AccessRequest), Error> {
        let unknown = || Error::NotFound {
            what: "decision link",
            field: Some("token".to_owned()),
        };
        let record = self
            .ports
            .store
            .token(&token.hash())
            .await
            .map_err(store_err("reading the decision token"))?
            .ok_or_else(unknown)?;
        let request = self
            .request_or_404(&record.request_id)
            .await
            .map_err(|_| unknown())?;
        Ok((record, request))
    }

    /// Decides with a decision link: the token is the approver's authority.
    pub async fn decide_by_token(
        &self,
        token: &DecisionToken,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let (record, request) = self.resolve_token(token).await?;
        self.decide_as(&record.approver, request, decision, comment)
            .await
    }

    /// Decides as the signed-in approver of the request.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: &RequestId,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let request = self.request_or_404(id).await?;
        if caller.email == request.requester {
            return Err(Error::forbidden("you cannot decide your own request"));
        }
        if caller.email != request.approver {
            return Err(Error::forbidden(
                "only the approver named in the request may decide it",
            ));
        }
        self.decide_as(&caller.email, request, decision, comment)
            .await
    }

    async fn decide_as(
        &self,
        approver: &Email,
        request: AccessRequest,
        decision: Decision,
        comment: Message,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let (op, outcome_mail) = match decision {
            Decision::Deny => (
                Op::Deny {
                    by: approver.clone(),
                    comment,
                },
                None,
            ),
            Decision::Approve(narrowing) => {
                if request.status(now) != Status::Pending {
                    // Say "already decided" before judging the narrowing.
                    return Err(request.conflict(now, "approve"));
                }
                let entry = self
                    .ports
                    .store
                    .entry(&request.entry_id)
                    .await
                    .map_err(store_err("reading the entry"))?;
                let grant = grant_for(&request, entry.as_ref(), &narrowing, now)?;
                let rights = entry
                    .as_ref()
                    .and_then(|e| e.permission_set(&grant.permission_set))
                    .map_or_else(|| grant.permission_set.to_string(), |s| s.name.clone());
                (
                    Op::Approve {
                        by: approver.clone(),
                        grant,
                        comment,
                    },
                    Some(rights),
                )
            }
        };
        let t = request.apply(op, now)?;
        let mail = match &outcome_mail {
            Some(rights) => mail::approved(&t.next, rights),
            None => mail::denied(&t.next),
        };
        let next = self
            .commit(&request, t, vec![(MailPurpose::Notice, mail)])
            .await?;
        if let Some(grant) = &next.grant
            && let Err(e) = self
                .ports
                .scheduler
                .schedule_end(&next.id, grant.ends_at)
                .await
        {
            tracing::warn!(request_id = %next.id, error = %e, "could not schedule the end; the sweep will end it");
            let ev = self.event(
                next.id,
                Actor::SYSTEM,
                EventKind::ScheduleFailed,
                e.to_string(),
            );
            let _ = self.ports.store.append_event(&ev).await;
        }
        Ok(next)
    }

    /// Writes a transition with its mails, then delivers them. A lost race becomes a
    /// 409 naming the state the winner left.
    async fn commit(
        &self,
        before: &AccessRequest,
        t: crate::request::Transition,
        mails: Vec<(MailPurpose, crate::ports::Mail)>,
    ) -> Result<AccessRequest, Error> {
        let outbox: Vec<_> = mails
            .into_iter()
            .map(|(purpose, m)| self.outgoing(before.id, purpose, m))
            .collect();
        let change = Change {
            event: self.event(before.id, t.actor, t.kind, t.detail),
            expected_version: before.version,
            outbox: outbox.clone(),
            request: t.next.clone(),
        };
        match self.ports.store.apply(change).await {
            Ok(()) => {}
            Err(StoreError::Conflict { current }) => {
                // Read the clock again: the winner may have written after `now`.
                return Err(current.conflict(self.now(), verb(t.kind)));
            }
            Err(e) => return Err(Error::unavailable("writing the change", e)),
        }
        tracing::info!(request_id = %before.id, event = t.kind.as_str(), "request changed");
        self.deliver(outbox).await;
        Ok(t.next)
    }

    /// Cancels a pending request or ends an approved grant early.
    /// The requester cancels or ends their own; the approver or an admin revokes with a reason.
    pub async fn cancel(
        &self,
        caller: &Caller,
        id: &RequestId,
        reason: Message,
    ) -> Result<AccessRequest, Error> {
        let now = self.now();
        let request = self.request_or_404(id).await?;
        let is_requester = caller.email == request.requester;
        let is_approver = caller.email == request.approver;
        let is_admin = caller.is_admin();
        if !(is_requester || is_approver || is_admin) {
            return Err(Error::forbidden(
                "only the requester, the approver or an admin may do this",
            ));
        }
        let by = caller.email.clone();
        let (op, notify) = match request.status(now) {
            Status::Pending if is_requester || is_admin => {
                (Op::Cancel { by, reason }, vec![request.approver.clone()])
            }
            Status::Pending => {
                return Err(Error::forbidden(
                    "deny the request instead of cancelling it",
                ));
            }
            Status::Scheduled | Status::Active => {
                if !is_requester && reason.is_empty() {
                    return Err(Error::invalid("reason", "say why the access is revoked"));
                }
                let notify = if is_requester {
                    vec![]
                } else {
                    vec![request.requester.clone()]
                };
                (Op::Revoke { by, reason }, notify)
            }
            _ => return Err(request.conflict(now, "cancel")),
        };
        let t = request.apply(op, now)?;
        let mails = notify
            .iter()
            .map(|to| {
                let m = if t.kind == EventKind::Cancelled {
                    mail::cancelled(&t.next)
                } else {
                    mail::revoked(&t.next, to)
                };
                (MailPurpose::Notice, m)
            })
            .collect();
        let next = self.commit(&request, t, mails).await?;
        if next.state == State::Revoked
            && let Err(e) = self.ports.scheduler.cancel_end(&next.id).await
        {
            // Harmless: a late delivery finds the grant already revoked.
            tracing::warn!(request_id = %next.id, error = %e, "could not delete the end schedule");
        }
        Ok(next)
    }

    /// Ends one grant at its end (the scheduler's delivery). Idempotent.
    pub async fn end_grant(&self, id: &RequestId) -> Result<EndOutcome, Error> {
        let Some(request) = self
            .ports
            .store
            .request(id)
            .await
            .map_err(store_err("reading the grant"))?
        else {
            return Ok(EndOutcome::Missing);
        };
        self.end_one(request).await
    }

    async fn end_one(&self, request: AccessRequest) -> Result<EndOutcome, Error> {
        let now = self.now();
        if request.state != State::Approved {
            return Ok(EndOutcome::AlreadyDone);
        }
        if request.status(now) != Status::Ended {
            return Ok(EndOutcome::NotDue);
        }
        let t = request.apply(Op::End, now)?;
        let m = mail::ended(&t.next);
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
        let Ok(t) = request.apply(Op::Expire, now) else {
            return Ok(false);
        };
        let m = mail::expired(&t.next);
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
    /// expires undecided requests and retries undelivered mail.
    pub async fn sweep(&self) -> Result<SweepReport, Error> {
        let now = self.now();
        let store = &self.ports.store;
        let mut report = SweepReport::default();
        for grant in store
            .overdue_grants(now, SWEEP_BATCH)
            .await
            .map_err(store_err("listing overdue grants"))?
        {
            if self.end_one(grant).await? == EndOutcome::Ended {
                report.ended += 1;
            }
        }
        for pending in store
            .stale_pending(now, SWEEP_BATCH)
            .await
            .map_err(store_err("listing stale requests"))?
        {
            if self.expire_one(pending).await? {
                report.expired += 1;
            }
        }
        let due = store
            .due_mail(now, SWEEP_BATCH)
            .await
            .map_err(store_err("listing undelivered mail"))?;
        let (sent, failed) = self.deliver(due).await;
        report.mails_sent = sent;
        report.mails_failed = failed;
        Ok(report)
    }

    /// Delivers outbox mail; records each outcome. Returns (sent, failed).
    async fn deliver(&self, outbox: Vec<OutgoingMail>) -> (usize, usize) {
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
                        let ev = self.event(
                            item.request_id,
                            Actor::SYSTEM,
                            kind,
                            item.mail.to.to_string(),
                        );
                        let _ = store.append_event(&ev).await;
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
                    let ev = self.event(
                        item.request_id,
                        Actor::SYSTEM,
                        EventKind::EmailFailed,
                        detail,
                    );
                    let _ = store.append_event(&ev).await;
                }
            }
        }
        (sent, failed)
    }

    /// Reveals an entry's credential to a caller holding an active grant with the
    /// view-password right on it. Every reveal is recorded first.
    pub async fn reveal_secret(
        &self,
        caller: &Caller,
        entry_id: &EntryId,
    ) -> Result<Credential, Error> {
        let now = self.now();
        let entry = self
            .ports
            .store
            .entry(entry_id)
            .await
            .map_err(store_err("reading the entry"))?
            .ok_or(Error::NotFound {
                what: "entry",
                field: None,
            })?;
        let open = self
            .ports
            .store
            .open_requests_of(&caller.email, now)
            .await
            .map_err(store_err("reading the caller's grants"))?;
        let grant = open
            .into_iter()
            .filter(|r| &r.entry_id == entry_id && r.is_active(now))
            .find(|r| {
                r.granted_permission_set()
                    .and_then(|id| set_named(&entry, id))
                    .is_some_and(|s| s.allows(Right::ViewPassword))
            })
            .ok_or_else(|| {
                Error::forbidden(
                    "you have no active grant with the view-password right on this entry",
                )
            })?;
        let secret_ref = entry.secret_ref.as_deref().ok_or(Error::NotFound {
            what: "credential",
            field: None,
        })?;
        let revealed = self.event(
            grant.id,
            Actor::User(caller.email.clone()),
            EventKind::PasswordRevealed,
            String::new(),
        );
        self.ports
            .store
            .append_event(&revealed)
            .await
            .map_err(store_err("recording the reveal"))?;
        self.ports
            .secrets
            .credential(secret_ref)
            .await
            .map_err(|e| Error::unavailable("reading the credential", e))
    }

    /// A page of the requests report, in the scope the caller may see.
    pub async fn requests(
        &self,
        caller: &Caller,
        params: ReportParams,
    ) -> Result<Page<AccessRequest>, Error> {
        let scope = match params.scope {
            ReportScope::Mine => Scope::RequestedBy(caller.email.clone()),
            ReportScope::Approvals => Scope::ApprovedBy(caller.email.clone()),
            ReportScope::All if caller.is_admin() => Scope::All,
            ReportScope::All => return Err(Error::forbidden("only admins may see every request")),
        };
        let limit = params.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        if let (Some(from), Some(to)) = (params.from, params.to)
            && to <= from
        {
            return Err(Error::invalid("to", "must be after from"));
        }
        let query = RequestQuery {
            scope,
            status: params.status,
            entry_id: params.entry_id,
            requester: params.requester,
            approver: params.approver,
            from: params.from,
            to: params.to,
            limit,
            cursor: params.cursor,
            now: self.now(),
        };
        self.ports.store.query(&query).await.map_err(|e| match e {
            StoreError::BadCursor => Error::invalid("cursor", "not a cursor from this report"),
            e => Error::unavailable("querying requests", e),
        })
    }

    /// One request and its timeline, for its requester, its approver or an admin.
    pub async fn request_detail(
        &self,
        caller: &Caller,
        id: &RequestId,
    ) -> Result<(AccessRequest, Vec<AuditEvent>), Error> {
        let request = self.request_or_404(id).await?;
        if !(caller.email == request.requester
            || caller.email == request.approver
            || caller.is_admin())
        {
            return Err(Error::forbidden(
                "only the requester, the approver or an admin may see this request",
            ));
        }
        let mut events = self
            .ports
            .store
            .events(id)
            .await
            .map_err(store_err("reading the timeline"))?;
        if let Some(started) = self.started_event(&request) {
            events.push(started);
            events.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        }
        Ok((request, events))
    }

    /// A grant's start is a moment on the clock, not a write: the timeline shows it
    /// once it has passed (and the grant had not been ended before it).
    fn started_event(&self, r: &AccessRequest) -> Option<AuditEvent> {
        let g = r.grant.as_ref()?;
        let now = self.now();
        let cut = r.revoked_at.unwrap_or(now);
        (g.starts_at <= now && g.starts_at <= cut).then(|| AuditEvent {
            request_id: r.id,
            // Sorts after every stored event at the same instant (ULIDs are 0-9A-Z), so
            // a grant that starts at approval reads "approved" then "started".
            id: "~started".to_owned(),
            at: g.starts_at,
            actor: Actor::SYSTEM,
            kind: EventKind::Started,
            detail: String::new(),
        })
    }

    /// Grants active now: every one for admins, the caller's own otherwise.
    pub async fn access_now(&self, caller: &Caller) -> Result<Vec<AccessRequest>, Error> {
        let now = self.now();
        let grants = self
            .ports
            .store
            .grants_ending_after(now)
            .await
            .map_err(store_err("listing grants"))?;
        Ok(grants
            .into_iter()
            .filter(|g| g.is_active(now))
            .filter(|g| caller.is_admin() || g.requester == caller.email)
            .collect())
    }
}

/// The verb for a transition's event, for conflict messages.
fn verb(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Approved => "approve",
        EventKind::Denied => "deny",
        EventKind::Cancelled => "cancel",
        EventKind::Revoked => "revoke",
        EventKind::Ended => "end",
        EventKind::Expired => "expire",
        _ => "change",
    }
}

/// The permission set with this id: the entry's, or the built-in one.
fn set_named(entry: &Entry, id: &PermissionSetId) -> Option<PermissionSet> {
    entry.permission_set(id).cloned().or_else(|| {
        (id == &PermissionSetId::view_password_execute()).then(PermissionSet::view_password_execute)
    })
}

/// The caller's access to one entry from their open requests: active beats scheduled
/// beats pending.
fn my_access(open: &[AccessRequest], entry: &EntryId, now: Timestamp) -> MyAccess {
    let rank = |s: Status| match s {
        Status::Active => 3,
        Status::Scheduled => 2,
        Status::Pending => 1,
        _ => 0,
    };
    open.iter()
        .filter(|r| &r.entry_id == entry)
        .map(|r| (r, r.status(now)))
        .filter(|(_, s)| rank(*s) > 0)
        .max_by_key(|(r, s)| (rank(*s), r.grant.as_ref().map(|g| g.ends_at)))
        .map_or(
            MyAccess {
                status: None,
                request_id: None,
                until: None,
            },
            |(r, s)| MyAccess {
                status: Some(s),
                request_id: Some(r.id),
                until: Some(match (&r.grant, s) {
                    (Some(g), _) => g.ends_at,
                    (None, _) => r.expires_at,
                }),
            },
        )
}

/// Waits between mail attempts: 1, 2, 4, 8, 16 minutes.
fn backoff(attempts: u32) -> TimeDelta {
    TimeDelta::minutes(1 << attempts.saturating_sub(1).min(4))
}

/// The grant an approval makes at `now`: as asked, or narrower, never wider.
pub fn grant_for(
    request: &AccessRequest,
    entry: Option<&Entry>,
    narrowing: &Narrowing,
    now: Timestamp,
) -> Result<Grant, Error> {
    let permission_set = match &narrowing.permission_set {
        None => request.permission_set.clone(),
        Some(id) if id == &request.permission_set => id.clone(),
        Some(id) => {
            let entry = entry.ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "the entry no longer exists; approve as asked",
                )
            })?;
            let narrower = entry.permission_set(id).ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "this entry does not offer that permission set",
                )
            })?;
            let asked = set_named(entry, &request.permission_set).ok_or_else(|| {
                Error::rejected("permission_set", "the requested set no longer exists")
            })?;
            if !narrower.is_within(&asked) {
                return Err(Error::rejected(
                    "permission_set",
                    "must not give more rights than requested",
                ));
            }
            id.clone()
        }
    };
    let (starts_at, ends_at) = match (request.requested, narrowing.duration, narrowing.window) {
        (_, Some(_), Some(_)) => {
            return Err(Error::invalid(
                "duration_seconds",
                "give a duration or a time frame, not both",
            ));
        }
        (Requested::Duration(asked), shorter, None) => {
            let d = shorter.unwrap_or(asked);
            if d > asked {
                return Err(Error::rejected(
                    "duration_seconds",
                    "must not be longer than requested",
                ));
            }
            (now, now + d.delta())
        }
        (Requested::Duration(_), None, Some(_)) => {
            return Err(Error::rejected(
                "window",
                "this request asked for a duration; approve a shorter duration instead",
            ));
        }
        (Requested::Window(asked), shorter, window) => {
            let frame = window.unwrap_or(asked);
            if !asked.contains(&frame) {
                return Err(Error::rejected(
                    "window",
                    "must lie within the requested time frame",
                ));
            }
            let start = frame.start().max(now);
            let end = match shorter {
                Some(d) if d.delta() > asked.duration() => {
                    return Err(Error::rejected(
                        "duration_seconds",
                        "must not be longer than requested",
                    ));
                }
                Some(d) => (start + d.delta()).min(frame.end()),
                None => frame.end(),
            };
            if end <= now {
                return Err(Error::rejected(
                    "window.end",
                    "the time frame is already over",
                ));
            }
            (start, end)
        }
    };
    Ok(Grant {
        starts_at,
        ends_at,
        permission_set,
    })
}
