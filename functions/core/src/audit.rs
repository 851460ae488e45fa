//! The append-only record of everything that happened to a request.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::ids::{Email, RequestId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    /// The request was sent.
    Requested,
    /// The approver's mail was delivered.
    Notified,
    /// The approver opened the decision page.
    Viewed,
    /// The request was approved.
    Approved,
    /// The request was denied.
    Denied,
    /// The grant began (its start time passed).
    Started,
    /// The requester revealed the credential.
    PasswordRevealed,
    /// The requester cancelled while pending.
    Cancelled,
    /// The grant was ended early.
    Revoked,
    /// The grant reached its end.
    Ended,
    /// Nobody decided in time.
    Expired,
    /// A mail could not be delivered (it is retried).
    EmailFailed,
    /// A mail was delivered on a later attempt.
    EmailRetried,
    /// The end of the grant could not be scheduled (the sweep ends it).
    ScheduleFailed,
    /// A kind this version does not know, written by a later one: timelines still read.
    #[serde(other)]
    Unknown,
}

impl EventKind {
    /// Every kind this version records.
    pub const ALL: [EventKind; 14] = [
        Self::Requested,
        Self::Notified,
        Self::Viewed,
        Self::Approved,
        Self::Denied,
        Self::Started,
        Self::PasswordRevealed,
        Self::Cancelled,
        Self::Revoked,
        Self::Ended,
        Self::Expired,
        Self::EmailFailed,
        Self::EmailRetried,
        Self::ScheduleFailed,
    ];

    /// The snake_case name used on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Notified => "notified",
            Self::Viewed => "viewed",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Started => "started",
            Self::PasswordRevealed => "password_revealed",
            Self::Cancelled => "cancelled",
            Self::Revoked => "revoked",
            Self::Ended => "ended",
            Self::Expired => "expired",
            Self::EmailFailed => "email_failed",
            Self::EmailRetried => "email_retried",
            Self::ScheduleFailed => "schedule_failed",
            Self::Unknown => "unknown",
        }
    }
}

/// Who did it: a person, or the product itself (timer, scheduler, sweep).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Actor {
    /// A signed-in person, or the holder of a decision link.
    User(Email),
    /// The product.
    System(SystemActor),
}

/// The product as an actor; serialized as `"system"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemActor {
    /// The product.
    System,
}

impl Actor {
    /// The product.
    pub const SYSTEM: Actor = Actor::System(SystemActor::System);

    /// The actor as text: an email or `system`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::User(e) => e.as_str(),
            Self::System(_) => "system",
        }
    }
}

/// One line of a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The request it belongs to.
    pub request_id: RequestId,
    /// Unique and time-ordered within the request (a ULID).
    pub id: String,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub kind: EventKind,
    /// Free detail for people (a comment, a reason, a mail address).
    pub detail: String,
}
