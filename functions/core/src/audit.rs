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
    /// The entry's credential was rotated at the grant's end.
    Rotated,
    /// The credential could not be rotated (it is retried, or given up and said so).
    RotationFailed,
    /// A kind this version does not know, written by a later one: timelines still read.
    #[serde(other)]
    Unknown,
}

impl EventKind {
    /// Every kind this version records.
    pub const ALL: [EventKind; 16] = [
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
        Self::Rotated,
        Self::RotationFailed,
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
            Self::Rotated => "rotated",
            Self::RotationFailed => "rotation_failed",
            Self::Unknown => "unknown",
        }
    }
}

/// Who did it: a signed-in person, someone holding an approver's decision link while
/// signed out, or the product itself (timer, scheduler, sweep).
///
/// On the wire and in storage an actor is one string: the person's email, `system`,
/// or `link:` and the email of the approver whose link was used.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in person.
    User(Email),
    /// Someone with this approver's decision link, not signed in: who really acted is
    /// not known, only whose link it was.
    LinkHolder(Email),
    /// The product.
    System,
}

impl Actor {
    /// The product.
    pub const SYSTEM: Actor = Actor::System;

    /// The prefix of a link holder's actor string.
    const LINK: &'static str = "link:";

    /// The actor as one string: an email, `system`, or `link:<approver>`.
    pub fn to_wire(&self) -> String {
        match self {
            Self::User(e) => e.to_string(),
            Self::LinkHolder(e) => format!("{}{e}", Self::LINK),
            Self::System => "system".to_owned(),
        }
    }

    /// Reads [`Actor::to_wire`]'s string.
    pub fn from_wire(s: &str) -> Option<Self> {
        if s == "system" {
            return Some(Self::System);
        }
        match s.strip_prefix(Self::LINK) {
            Some(email) => Email::parse(email).ok().map(Self::LinkHolder),
            None => Email::parse(s).ok().map(Self::User),
        }
    }

    /// The signed-in person, if it was one.
    pub fn person(&self) -> Option<&Email> {
        match self {
            Self::User(e) => Some(e),
            _ => None,
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_wire(&s).ok_or_else(|| serde::de::Error::custom(format!("not an actor: {s:?}")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_one_string_each_way() {
        let bob = Email::parse("bob@example.com").unwrap();
        for (actor, wire) in [
            (Actor::User(bob.clone()), "\"bob@example.com\""),
            (Actor::LinkHolder(bob.clone()), "\"link:bob@example.com\""),
            (Actor::System, "\"system\""),
        ] {
            assert_eq!(serde_json::to_string(&actor).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Actor>(wire).unwrap(), actor);
        }
        assert!(serde_json::from_str::<Actor>("\"link:nobody\"").is_err());
        assert!(serde_json::from_str::<Actor>("\"\"").is_err());
    }
}
