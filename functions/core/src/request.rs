//! The request state machine.
//!
//! ```text
//! pending ──approve──▶ approved ──(clock)──▶ scheduled/active ──end──▶ ended
//!    │  └─deny──▶ denied                          └─cancel/revoke──▶ revoked
//!    ├─cancel──▶ cancelled
//!    └─(no decision by pending expiry)──▶ expired
//! ```
//!
//! Every transition is a pure function from the current request, an [`Op`] and the time
//! to the next request (version + 1) and the one audit event recording it. Stores write
//! both at once, conditional on the version the transition started from.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::audit::{Actor, EventKind};
use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::text::Message;
use crate::timing::Requested;

/// A pending request that nobody decides expires after this long by default.
pub const DEFAULT_PENDING_EXPIRY: TimeDelta = TimeDelta::hours(24);

/// The stored state. `scheduled` and `active` are not stored: they are an approved
/// grant seen at a time (see [`AccessRequest::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for the approver.
    Pending,
    /// Approved: a grant from `starts_at` to `ends_at`.
    Approved,
    /// Denied by the approver.
    Denied,
    /// Cancelled by the requester while pending.
    Cancelled,
    /// Never decided.
    Expired,
    /// Ended before its end.
    Revoked,
    /// Reached its end.
    Ended,
}

impl State {
    /// Whether no transition leaves this state.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Approved)
    }

    /// The snake_case name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Ended => "ended",
        }
    }

    /// Every stored state.
    pub const ALL: [State; 7] = [
        Self::Pending,
        Self::Approved,
        Self::Denied,
        Self::Cancelled,
        Self::Expired,
        Self::Revoked,
        Self::Ended,
    ];

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// What people see: the stored state read against the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    /// Waiting for the approver.
    Pending,
    /// Approved, starting in the future.
    Scheduled,
    /// Approved and running now.
    Active,
    /// Reached its end.
    Ended,
    /// Denied.
    Denied,
    /// Cancelled while pending.
    Cancelled,
    /// Ended early.
    Revoked,
    /// Never decided.
    Expired,
}

impl Status {
    /// Every status, in the order reports list them.
    pub const ALL: [Status; 8] = [
        Self::Pending,
        Self::Scheduled,
        Self::Active,
        Self::Ended,
        Self::Denied,
        Self::Cancelled,
        Self::Revoked,
        Self::Expired,
    ];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scheduled => "scheduled",
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// The stored states a request with this status can be in (which of them it is
    /// read from also depends on the clock: see [`AccessRequest::status`]).
    pub fn stored_states(self) -> &'static [State] {
        match self {
            Self::Pending => &[State::Pending],
            Self::Expired => &[State::Pending, State::Expired],
            Self::Scheduled | Self::Active => &[State::Approved],
            Self::Ended => &[State::Approved, State::Ended],
            Self::Denied => &[State::Denied],
            Self::Cancelled => &[State::Cancelled],
            Self::Revoked => &[State::Revoked],
        }
    }

    /// Parses the wire name, naming `field` on error.
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::invalid(field, format!("unknown status {s:?}")))
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a requester asks for, parsed: a new request before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitCommand {
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

/// What an approval grants: the time it runs and the rights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// When access begins.
    pub starts_at: Timestamp,
    /// When access ends.
    pub ends_at: Timestamp,
    /// The rights granted (the requested set, or a narrower one).
    pub permission_set: PermissionSetId,
}

/// A request for temporary access, and the grant it becomes once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// Its id (also the grant's).
    pub id: RequestId,
    /// The entry asked for.
    pub entry_id: EntryId,
    /// The entry's name when the request was made.
    pub entry_name: String,
    /// Who asks.
    pub requester: Email,
    /// Who is asked to decide.
    pub approver: Email,
    /// The rights asked for.
    pub permission_set: PermissionSetId,
    /// The duration or time frame asked for.
    pub requested: Requested,
    /// The message to the approver.
    pub message: Message,
    /// The stored state.
    pub state: State,
    /// Bumped by every transition; writes are conditional on it.
    pub version: u64,
    /// When it was sent.
    pub created_at: Timestamp,
    /// When it expires if nobody decides.
    pub expires_at: Timestamp,
    /// When it was approved or denied.
    pub decided_at: Option<Timestamp>,
    /// Who approved or denied it.
    pub decided_by: Option<Email>,
    /// The approver's message to the requester.
    pub decision_comment: Option<Message>,
    /// What was granted, once approved.
    pub grant: Option<Grant>,
    /// When it was cancelled while pending.
    pub cancelled_at: Option<Timestamp>,
    /// Who cancelled it: its requester, or an admin.
    #[serde(default)]
    pub cancelled_by: Option<Email>,
    /// When it was ended early.
    pub revoked_at: Option<Timestamp>,
    /// Who ended it early.
    pub revoked_by: Option<Email>,
    /// Why it was ended early, or why it was cancelled.
    pub revoke_reason: Option<Message>,
    /// When the product recorded its end (at or after `grant.ends_at`).
    pub ended_at: Option<Timestamp>,
    /// The credential (its secret) to rotate when the grant ends, set at approval when
    /// the grant could reveal it and the entry rotates it: a password seen during the
    /// grant stops working after it.
    #[serde(default)]
    pub rotate_on_end: Option<String>,
}

/// A state change asked of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Approve with this grant.
    Approve {
        /// The approver.
        by: Email,
        /// What is granted.
        grant: Grant,
        /// Their message to the requester.
        comment: Message,
    },
    /// Deny.
    Deny {
        /// The approver.
        by: Email,
        /// Their message to the requester.
        comment: Message,
    },
    /// Withdraw a pending request.
    Cancel {
        /// The requester (or an admin).
        by: Email,
        /// Why, if given.
        reason: Message,
    },
    /// End an approved grant early.
    Revoke {
        /// The requester, the approver or an admin.
        by: Email,
        /// Why.
        reason: Message,
    },
    /// Record that an approved grant reached its end.
    End,
    /// Record that a pending request was never decided.
    Expire,
}

impl Op {
    /// What it is, without its data.
    pub fn kind(&self) -> OpKind {
        match self {
            Self::Approve { .. } => OpKind::Approve,
            Self::Deny { .. } => OpKind::Deny,
            Self::Cancel { .. } => OpKind::Cancel,
            Self::Revoke { .. } => OpKind::Revoke,
            Self::End => OpKind::End,
            Self::Expire => OpKind::Expire,
        }
    }
}

/// An [`Op`] without its data: what the state machine is asked whether it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Approve.
    Approve,
    /// Deny.
    Deny,
    /// Withdraw a pending request.
    Cancel,
    /// End an approved grant early.
    Revoke,
    /// Record a grant's end.
    End,
    /// Record that nobody decided.
    Expire,
}

impl OpKind {
    /// The verb, for messages ("cannot approve: …").
    pub fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Cancel => "cancel",
            Self::Revoke => "revoke",
            Self::End => "end",
            Self::Expire => "expire",
        }
    }
}

/// The result of a transition: the next request and the event recording it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The request after the change, with its version bumped.
    pub next: AccessRequest,
    /// What was done.
    pub op: OpKind,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub kind: EventKind,
    /// Detail for the timeline.
    pub detail: String,
}

impl AccessRequest {
    /// A new request of `requester`, pending from `created_at` until `expires_at`.
    pub fn pending(
        id: RequestId,
        requester: Email,
        asked: SubmitCommand,
        entry_name: String,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            id,
            entry_id: asked.entry_id,
            entry_name,
            requester,
            approver: asked.approver,
            permission_set: asked.permission_set,
            requested: asked.requested,
            message: asked.message,
            state: State::Pending,
            version: 0,
            created_at,
            expires_at,
            decided_at: None,
            decided_by: None,
            decision_comment: None,
            grant: None,
            cancelled_at: None,
            cancelled_by: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            ended_at: None,
            rotate_on_end: None,
        }
    }

    /// Whether `requester` asked for exactly this with `cmd` (a retry of the same
    /// request, not another one under the same idempotency key).
    pub fn asked_the_same(&self, requester: &Email, cmd: &SubmitCommand) -> bool {
        &self.requester == requester
            && self.entry_id == cmd.entry_id
            && self.permission_set == cmd.permission_set
            && self.approver == cmd.approver
            && self.requested == cmd.requested
            && self.message == cmd.message
    }

    /// The request with what people wrote taken out (message, comment, reason): what
    /// an old decision link may still show, which is who decided and when.
    pub fn decided_only(mut self) -> Self {
        self.message = Message::default();
        self.decision_comment = None;
        self.revoke_reason = None;
        self
    }

    /// What people see at `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        match self.state {
            State::Pending if now >= self.expires_at => Status::Expired,
            State::Pending => Status::Pending,
            State::Approved => match &self.grant {
                Some(g) if now >= g.ends_at => Status::Ended,
                Some(g) if now < g.starts_at => Status::Scheduled,
                _ => Status::Active,
            },
            State::Denied => Status::Denied,
            State::Cancelled => Status::Cancelled,
            State::Expired => Status::Expired,
            State::Revoked => Status::Revoked,
            State::Ended => Status::Ended,
        }
    }

    /// Whether the grant is honoured at `now`: approved, started and not yet ended.
    /// This is the access check; it never trusts that a revocation already ran.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.status(now) == Status::Active
    }

    /// The rights granted, once approved.
    pub fn granted_permission_set(&self) -> Option<&PermissionSetId> {
        self.grant.as_ref().map(|g| &g.permission_set)
    }

    /// Why `doing` cannot happen at `now`: the status now and who brought it there.
    pub fn refusal(&self, doing: OpKind, now: Timestamp) -> Refused {
        let current = self.status(now);
        let by = match current {
            Status::Denied | Status::Scheduled | Status::Active | Status::Ended => {
                self.decided_by.clone()
            }
            Status::Revoked => self.revoked_by.clone(),
            // Requests cancelled before `cancelled_by` was kept were cancelled by their
            // requester: only admins, since, cancel others' requests.
            Status::Cancelled => self
                .cancelled_by
                .clone()
                .or_else(|| Some(self.requester.clone())),
            _ => None,
        };
        Refused::State { doing, current, by }
    }

    /// Whether the state at `at` lets `doing` happen; else why not. [`Self::apply`]
    /// asks this first, and a use case may ask it before building the operation.
    pub fn allows(&self, doing: OpKind, at: Timestamp) -> Result<(), Refused> {
        let status = self.status(at);
        let allowed = match doing {
            OpKind::Approve | OpKind::Deny | OpKind::Cancel => status == Status::Pending,
            OpKind::Revoke => matches!(status, Status::Scheduled | Status::Active),
            OpKind::End => self.state == State::Approved && status == Status::Ended,
            OpKind::Expire => self.state == State::Pending && status == Status::Expired,
        };
        if allowed {
            Ok(())
        } else {
            Err(self.refusal(doing, at))
        }
    }

    /// Applies `op` at `at`, or says why it cannot happen in the current state.
    /// Who may ask for `op` is policy, not the state machine's.
    pub fn apply(&self, op: Op, at: Timestamp) -> Result<Transition, Refused> {
        let kind = op.kind();
        self.allows(kind, at)?;
        let mut next = self.clone();
        next.version += 1;
        let (actor, event, detail) = match op {
            Op::Approve { by, grant, comment } => {
                if grant.ends_at <= at || grant.ends_at <= grant.starts_at {
                    return Err(Refused::GrantOver);
                }
                next.state = State::Approved;
                next.decided_at = Some(at);
                next.decided_by = Some(by.clone());
                next.decision_comment = Some(comment.clone());
                next.grant = Some(grant);
                (
                    Actor::User(by),
                    EventKind::Approved,
                    comment.as_str().to_owned(),
                )
            }
            Op::Deny { by, comment } => {
                next.state = State::Denied;
                next.decided_at = Some(at);
                next.decided_by = Some(by.clone());
                next.decision_comment = Some(comment.clone());
                (
                    Actor::User(by),
                    EventKind::Denied,
                    comment.as_str().to_owned(),
                )
            }
            Op::Cancel { by, reason } => {
                next.state = State::Cancelled;
                next.cancelled_at = Some(at);
                next.cancelled_by = Some(by.clone());
                next.revoke_reason = Some(reason.clone());
                (
                    Actor::User(by),
                    EventKind::Cancelled,
                    reason.as_str().to_owned(),
                )
            }
            Op::Revoke { by, reason } => {
                next.state = State::Revoked;
                next.revoked_at = Some(at);
                next.revoked_by = Some(by.clone());
                next.revoke_reason = Some(reason.clone());
                next.ended_at = Some(at);
                (
                    Actor::User(by),
                    EventKind::Revoked,
                    reason.as_str().to_owned(),
                )
            }
            Op::End => {
                next.state = State::Ended;
                next.ended_at = Some(at);
                (Actor::SYSTEM, EventKind::Ended, String::new())
            }
            Op::Expire => {
                next.state = State::Expired;
                (Actor::SYSTEM, EventKind::Expired, String::new())
            }
        };
        Ok(Transition {
            next,
            op: kind,
            actor,
            kind: event,
            detail,
        })
    }
}

/// Why the state machine refused an operation. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The request's status does not allow it.
    State {
        /// What was asked.
        doing: OpKind,
        /// The status now.
        current: Status,
        /// Who brought it there (decided, cancelled or revoked it), if anyone.
        by: Option<Email>,
    },
    /// An approval whose grant would already be over.
    GrantOver,
}

impl From<Refused> for Error {
    /// A 409 naming the current status and who set it, or a 422 for a grant already
    /// over.
    fn from(refused: Refused) -> Self {
        let (doing, current, by) = match refused {
            Refused::State { doing, current, by } => (doing.verb(), current, by),
            Refused::GrantOver => {
                return Error::rejected("window.end", "the grant would already be over");
            }
        };
        let message = match (&by, current) {
            (Some(by), Status::Scheduled | Status::Active | Status::Ended) => {
                format!("cannot {doing}: the request was already approved by {by}")
            }
            (Some(by), Status::Denied) => {
                format!("cannot {doing}: the request was already denied by {by}")
            }
            (Some(by), _) => format!("cannot {doing}: the request is {current} (by {by})"),
            (None, _) => format!("cannot {doing}: the request is {current}"),
        };
        Error::Conflict {
            current,
            decided_by: by,
            message,
        }
    }
}

#[cfg(test)]
mod tests;
