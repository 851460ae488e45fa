//! What clients send: new requests, decisions, cancellations, sign-in. Each rejects
//! unknown fields, and `parse` turns it into the domain's checked types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId};
use crate::policy::Narrowing;
use crate::request::SubmitCommand;
use crate::service::Decision;
use crate::text::Message;
use crate::timing::{AccessDuration, Requested, TimeFrame};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A custom time frame on the wire, UTC, RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// When access begins.
    pub start: DateTime<Utc>,
    /// When access ends.
    pub end: DateTime<Utc>,
}

impl Window {
    /// The checked frame; errors name `window.end`.
    pub fn parse(self) -> Result<TimeFrame, Error> {
        TimeFrame::new(self.start, self.end).map_err(|e| e.within("window"))
    }
}

impl From<TimeFrame> for Window {
    fn from(f: TimeFrame) -> Self {
        Self {
            start: f.start(),
            end: f.end(),
        }
    }
}

/// `POST /v1/requests`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    /// The entry.
    pub entry_id: String,
    /// The rights (`view-password-execute` or a set the entry offers).
    pub permission_set: String,
    /// The approver's email.
    pub approver_id: String,
    /// Seconds from approval (or give `window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// A custom time frame (or give `duration_seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Why, for the approver (the entry may require it).
    #[serde(default)]
    pub message: Option<String>,
}

/// A duration or a time frame, from the two fields that may carry one.
pub(super) fn requested(
    duration: Option<i64>,
    window: Option<Window>,
) -> Result<Option<Requested>, Error> {
    match (duration, window) {
        (Some(_), Some(_)) => Err(Error::invalid(
            "duration_seconds",
            "give a duration or a time frame, not both",
        )),
        (Some(s), None) => Ok(Some(Requested::Duration(AccessDuration::from_seconds(
            s,
            "duration_seconds",
        )?))),
        (None, Some(w)) => Ok(Some(Requested::Window(w.parse()?))),
        (None, None) => Ok(None),
    }
}

impl NewRequestBody {
    /// The checked request; errors name the field.
    pub fn parse(self) -> Result<SubmitCommand, Error> {
        let entry_id = EntryId::parse(&self.entry_id)?;
        let permission_set = PermissionSetId::parse(&self.permission_set)?;
        let approver = Email::parse_field(&self.approver_id, "approver_id")?;
        let requested = requested(self.duration_seconds, self.window)?
            .ok_or_else(|| Error::invalid("duration_seconds", "give a duration or a time frame"))?;
        let message = Message::parse(self.message.as_deref().unwrap_or(""), "message")?;
        Ok(SubmitCommand {
            entry_id,
            permission_set,
            approver,
            requested,
            message,
        })
    }
}

/// approve or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Approve, as asked or narrower.
    Approve,
    /// Deny.
    Deny,
}

/// `POST /v1/requests/{id}/decision`: a signed-in approver decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// approve or deny.
    pub decision: DecisionKind,
    /// A message to the requester.
    #[serde(default)]
    pub comment: Option<String>,
    /// Approve for a shorter duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// Approve for a narrower time frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Approve a narrower permission set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set: Option<String>,
}

impl DecisionBody {
    /// The checked decision and comment; errors name the field.
    pub fn parse(self) -> Result<(Decision, Message), Error> {
        parse_decision(
            self.decision,
            self.comment,
            self.duration_seconds,
            self.window,
            self.permission_set,
        )
    }
}

fn parse_decision(
    kind: DecisionKind,
    comment: Option<String>,
    duration: Option<i64>,
    window: Option<Window>,
    permission_set: Option<String>,
) -> Result<(Decision, Message), Error> {
    let comment = Message::parse(comment.as_deref().unwrap_or(""), "comment")?;
    let narrowed = requested(duration, window)?;
    let permission_set = permission_set
        .as_deref()
        .map(PermissionSetId::parse)
        .transpose()?;
    let decision = match kind {
        DecisionKind::Deny => {
            if narrowed.is_some() || permission_set.is_some() {
                return Err(Error::invalid(
                    "decision",
                    "a denial takes no duration, time frame or permission set",
                ));
            }
            Decision::Deny
        }
        DecisionKind::Approve => Decision::Approve(Narrowing {
            duration: match narrowed {
                Some(Requested::Duration(d)) => Some(d),
                _ => None,
            },
            window: match narrowed {
                Some(Requested::Window(w)) => Some(w),
                _ => None,
            },
            permission_set,
        }),
    };
    Ok((decision, comment))
}

/// `POST /v1/decisions`: decide with the token from a mailed link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenDecisionBody {
    /// The token from the link's fragment.
    pub token: String,
    /// approve or deny.
    pub decision: DecisionKind,
    /// A message to the requester.
    #[serde(default)]
    pub comment: Option<String>,
    /// Approve for a shorter duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// Approve for a narrower time frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Approve a narrower permission set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set: Option<String>,
}

impl TokenDecisionBody {
    /// The checked token, decision and comment; errors name the field.
    pub fn parse(self) -> Result<(crate::token::DecisionToken, Decision, Message), Error> {
        let token = crate::token::DecisionToken::parse(&self.token)?;
        let (d, c) = parse_decision(
            self.decision,
            self.comment,
            self.duration_seconds,
            self.window,
            self.permission_set,
        )?;
        Ok((token, d, c))
    }
}

/// `POST /v1/decisions/lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// The token from the link's fragment.
    pub token: String,
}

/// `POST /v1/requests/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why (required when an approver or admin revokes).
    #[serde(default)]
    pub reason: Option<String>,
}

impl CancelBody {
    /// The checked reason.
    pub fn parse(self) -> Result<Message, Error> {
        Message::parse(self.reason.as_deref().unwrap_or(""), "reason")
    }
}

/// `POST /v1/dev/login` (embedded default only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// A demo user's name (`alice`) or email.
    pub user: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<NewRequestBody, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn new_requests_name_the_field_at_fault() {
        let ok = r#"{"entry_id":"prod-db","permission_set":"view-password-execute","approver_id":"Bob@Example.com","duration_seconds":3600,"message":"deploy"}"#;
        let parsed = body(ok).unwrap().parse().unwrap();
        assert_eq!(parsed.approver.as_str(), "bob@example.com");

        let cases = [
            (r#""duration_seconds":30"#, "duration_seconds"),
            (
                r#""window":{"start":"2030-01-01T10:00:00Z","end":"2030-01-01T09:00:00Z"}"#,
                "window.end",
            ),
            (
                r#""duration_seconds":60,"window":{"start":"2030-01-01T10:00:00Z","end":"2030-01-01T11:00:00Z"}"#,
                "duration_seconds",
            ),
            (r#""message":"x""#, "duration_seconds"),
        ];
        for (extra, field) in cases {
            let json = format!(
                r#"{{"entry_id":"prod-db","permission_set":"view-password-execute","approver_id":"bob@example.com",{extra}}}"#
            );
            let err = body(&json).unwrap().parse().unwrap_err();
            assert_eq!(err.field(), Some(field), "{extra}");
        }
        assert!(body(r#"{"entry_id":"a","permission_set":"b","approver_id":"c@d.e","duration_seconds":60,"sneaky":1}"#).is_err());
    }

    #[test]
    fn denials_take_no_narrowing() {
        let b = DecisionBody {
            decision: DecisionKind::Deny,
            comment: None,
            duration_seconds: Some(60),
            window: None,
            permission_set: None,
        };
        assert_eq!(b.parse().unwrap_err().field(), Some("decision"));
    }
}
