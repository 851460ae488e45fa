//! What the server answers: entries, requests, timelines, errors.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{Actor, AuditEvent, EventKind};
use crate::entry::{Entry, EntryKind, PermissionSet, Right};
use crate::error::Error;
use crate::ids::{Email, PermissionSetId};
use crate::policy::{MyAccess, RequestRules};
use crate::request::{AccessRequest, Status};
use crate::text::Message;
use crate::timing::{AccessDuration, Requested};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use super::Window;

/// The signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    /// Their id: their email.
    pub id: String,
    /// Their verified email, lowercased.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their roles (`admin`).
    pub roles: Vec<String>,
}

/// A person who may approve an entry's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Person {
    /// Their id: their email.
    pub id: String,
    /// Their display name.
    pub name: String,
    /// Their email.
    pub email: String,
}

/// A permission set an entry offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermissionSetView {
    /// Its id.
    pub id: String,
    /// Its name, e.g. "View password/Execute rights".
    pub name: String,
    /// Its rights.
    pub rights: Vec<Right>,
}

impl From<&PermissionSet> for PermissionSetView {
    fn from(p: &PermissionSet) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.clone(),
            rights: p.rights.clone(),
        }
    }
}

impl TryFrom<&PermissionSetView> for PermissionSet {
    type Error = Error;

    /// The set a view shows, for the site to check a request as the server does.
    fn try_from(v: &PermissionSetView) -> Result<Self, Error> {
        Ok(Self {
            id: PermissionSetId::parse(&v.id)?,
            name: v.name.clone(),
            rights: v.rights.clone(),
        })
    }
}

/// The caller's access to an entry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum AccessStatus {
    /// No open request.
    None,
    /// A request waits for its approver.
    Pending,
    /// A grant starts later.
    Scheduled,
    /// A grant runs now.
    Active,
}

impl AccessStatus {
    /// Every one.
    pub const ALL: [AccessStatus; 4] = [Self::None, Self::Pending, Self::Scheduled, Self::Active];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Scheduled => "scheduled",
            Self::Active => "active",
        }
    }
}

impl From<Option<Status>> for AccessStatus {
    fn from(status: Option<Status>) -> Self {
        match status {
            Some(Status::Pending) => Self::Pending,
            Some(Status::Scheduled) => Self::Scheduled,
            Some(Status::Active) => Self::Active,
            _ => Self::None,
        }
    }
}

/// The caller's access to an entry now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MyAccessView {
    /// none, pending, scheduled or active.
    pub status: AccessStatus,
    /// The request behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When the grant ends, or the pending request expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
}

impl From<&MyAccess> for MyAccessView {
    fn from(a: &MyAccess) -> Self {
        Self {
            status: a.status.into(),
            request_id: a.request_id.map(|id| id.to_string()),
            until: a.until,
        }
    }
}

/// An entry the caller may request access to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EntryView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it protects.
    pub kind: EntryKind,
    /// Where it is filed.
    pub folder: String,
    /// Who may approve.
    pub approvers: Vec<Person>,
    /// The sets a requester may ask for.
    pub permission_sets: Vec<PermissionSetView>,
    /// Durations the form offers.
    pub duration_presets_seconds: Vec<i64>,
    /// The longest access a request may ask for.
    pub max_duration_seconds: i64,
    /// Whether a request must carry a message.
    pub message_required: bool,
    /// Whether its password is rotated when a grant that could reveal it ends; when
    /// not, a password seen during a grant keeps working after it.
    pub rotates: bool,
    /// The caller's access now.
    pub my_access: MyAccessView,
}

impl EntryView {
    /// The wire form of an entry, with approvers' names and the caller's access.
    pub fn new(e: &Entry, names: &HashMap<Email, String>, access: &MyAccess) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.name.clone(),
            kind: e.kind,
            folder: e.folder.clone(),
            approvers: e
                .approvers
                .iter()
                .map(|a| Person {
                    id: a.to_string(),
                    name: names.get(a).cloned().unwrap_or_else(|| a.to_string()),
                    email: a.to_string(),
                })
                .collect(),
            permission_sets: e.permission_sets.iter().map(Into::into).collect(),
            duration_presets_seconds: e.duration_presets.iter().map(|d| d.seconds()).collect(),
            max_duration_seconds: e.max_duration.seconds(),
            message_required: e.message_required,
            rotates: e.rotates,
            my_access: access.into(),
        }
    }
}

impl EntryView {
    /// The entry's rules for requests, for the site to check a request as the server
    /// does ([`crate::policy::submit_problems`]).
    pub fn rules(&self) -> Result<RequestRules, Error> {
        Ok(RequestRules {
            approvers: self
                .approvers
                .iter()
                .map(|a| Email::parse_field(&a.email, "approver_id"))
                .collect::<Result<_, _>>()?,
            sets: self
                .permission_sets
                .iter()
                .map(PermissionSet::try_from)
                .collect::<Result<_, _>>()?,
            max_duration: AccessDuration::from_seconds(
                self.max_duration_seconds,
                "duration_seconds",
            )?,
            message_required: self.message_required,
        })
    }
}

/// A list of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EntryList {
    /// The entries, by id.
    pub items: Vec<EntryView>,
}

/// What was asked: a duration from approval, or a time frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestedView {
    /// Seconds from approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i64>,
    /// The time frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

impl RequestedView {
    /// What was asked, checked again (the site reads a request the server sent).
    pub fn parse(self) -> Result<Requested, Error> {
        super::bodies::requested(self.duration_seconds, self.window)?
            .ok_or_else(|| Error::invalid("requested", "neither a duration nor a time frame"))
    }
}

impl From<Requested> for RequestedView {
    fn from(r: Requested) -> Self {
        match r {
            Requested::Duration(d) => Self {
                duration_seconds: Some(d.seconds()),
                window: None,
            },
            Requested::Window(w) => Self {
                duration_seconds: None,
                window: Some(w.into()),
            },
        }
    }
}

/// A request and, once approved, its grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestView {
    /// Its id (a ULID).
    pub id: String,
    /// The entry.
    pub entry_id: String,
    /// The entry's name.
    pub entry_name: String,
    /// Who asked.
    pub requester: String,
    /// Who decides.
    pub approver: String,
    /// The rights asked for.
    pub permission_set: String,
    /// The rights granted (set once approved; may be narrower).
    pub granted_permission_set: Option<String>,
    /// The duration or time frame asked for.
    pub requested: RequestedView,
    /// The message to the approver.
    pub message: String,
    /// Its status now.
    pub status: Status,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// When it expires if nobody decides.
    pub expires_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The approver's message.
    pub decision_comment: Option<String>,
    /// When the grant begins.
    pub starts_at: Option<DateTime<Utc>>,
    /// When the grant ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// When it was cancelled while pending.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Who cancelled it: its requester, or an admin.
    #[serde(default)]
    pub cancelled_by: Option<String>,
    /// When it was ended early.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who ended it early.
    pub revoked_by: Option<String>,
    /// Why it was ended early or cancelled.
    pub revoke_reason: Option<String>,
    /// Display names of the people it names (requester, approver, who decided, who
    /// ended it, and in a timeline everyone who acted), by email. A person missing
    /// here is shown by their email.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl RequestView {
    /// The wire form of a request, its status read at `now`.
    pub fn new(r: &AccessRequest, now: DateTime<Utc>) -> Self {
        let text = |m: &Option<Message>| m.as_ref().map(|m| m.as_str().to_owned());
        Self {
            id: r.id.to_string(),
            entry_id: r.entry_id.to_string(),
            entry_name: r.entry_name.clone(),
            requester: r.requester.to_string(),
            approver: r.approver.to_string(),
            permission_set: r.permission_set.to_string(),
            granted_permission_set: r.granted_permission_set().map(ToString::to_string),
            requested: r.requested.into(),
            message: r.message.as_str().to_owned(),
            status: r.status(now),
            created_at: r.created_at,
            expires_at: r.expires_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by.as_ref().map(ToString::to_string),
            decision_comment: text(&r.decision_comment),
            starts_at: r.grant.as_ref().map(|g| g.starts_at),
            ends_at: r.grant.as_ref().map(|g| g.ends_at),
            cancelled_at: r.cancelled_at,
            cancelled_by: r
                .status(now)
                .eq(&Status::Cancelled)
                .then(|| r.cancelled_by.as_ref().unwrap_or(&r.requester).to_string()),
            revoked_at: r.revoked_at,
            revoked_by: r.revoked_by.as_ref().map(ToString::to_string),
            revoke_reason: text(&r.revoke_reason),
            names: BTreeMap::new(),
        }
    }

    /// The people a request names: its requester, its approver, who decided and who
    /// ended it.
    pub fn people(r: &AccessRequest) -> Vec<Email> {
        [
            Some(&r.requester),
            Some(&r.approver),
            r.decided_by.as_ref(),
            r.cancelled_by.as_ref(),
            r.revoked_by.as_ref(),
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// The view with the display names of `people` (those `names` knows).
    pub fn with_names<'a>(
        mut self,
        people: impl IntoIterator<Item = &'a Email>,
        names: &HashMap<Email, String>,
    ) -> Self {
        for p in people {
            if let Some(name) = names.get(p) {
                self.names.insert(p.to_string(), name.clone());
            }
        }
        self
    }

    /// The display name of `email` as this view knows it, else the email.
    pub fn name_of<'a>(&'a self, email: &'a str) -> &'a str {
        self.names.get(email).map_or(email, String::as_str)
    }
}

fn yes() -> bool {
    true
}

/// A page of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestList {
    /// The requests, newest first.
    pub items: Vec<RequestView>,
    /// Pass as `cursor` for the next page; absent on the last. A page may hold fewer
    /// items than asked (none, even) and still have a next one: on DynamoDB a page reads
    /// a bounded number of requests, and stops there when the filters match few.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// How many requests the pages before this one listed (0 on the first), so that
    /// this page holds numbers `offset + 1` to `offset + items.len()`.
    #[serde(default)]
    pub offset: u64,
    /// How many requests the filters select over every page, when `count=true`
    /// asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// With `total`: `true` when every request was counted, `false` when counting
    /// stopped at its read budget and `total` is a lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_exact: Option<bool>,
}

/// One line of a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventView {
    /// When.
    pub at: DateTime<Utc>,
    /// Who: an email or `system`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub actor: Actor,
    /// What happened.
    pub kind: EventKind,
    /// Detail for people.
    pub detail: String,
}

impl From<&AuditEvent> for EventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            at: e.at,
            actor: e.actor.clone(),
            kind: e.kind,
            detail: e.detail.clone(),
        }
    }
}

/// A request with its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestDetail {
    /// The request.
    pub request: RequestView,
    /// Everything that happened to it, oldest first.
    pub events: Vec<EventView>,
}

/// What the decision page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DecisionPage {
    /// The request.
    pub request: RequestView,
    /// Whether this link can still decide.
    pub decidable: bool,
    /// The sets the approver may narrow to (the entry's).
    pub permission_sets: Vec<PermissionSetView>,
    /// Whether deciding needs the approver signed in: true unless the deployment takes
    /// decisions by the link alone.
    #[serde(default = "yes")]
    pub sign_in_required: bool,
}

/// An entry's credential, while granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SecretView {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What kind of error an answer is; each goes with one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum ErrorCode {
    /// 400: malformed input, naming the field.
    InvalidInput,
    /// 422: well-formed input that policy refuses, naming the field.
    Rejected,
    /// 401: no valid sign-in.
    Unauthenticated,
    /// 403: the caller may not do this.
    Forbidden,
    /// 404: nothing there.
    NotFound,
    /// 409: the request is no longer in the state the call needs.
    Conflict,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: a body that is not JSON (send `Content-Type: application/json`).
    UnsupportedMediaType,
    /// 421: a request for another host (the embedded default answers only its own).
    Misdirected,
    /// 429: a limit that protects the service or a person's inbox.
    TooManyRequests,
    /// 500: something failed on the server's side.
    Internal,
    /// 503: a service it depends on (the database, above all) failed for now, after
    /// retries; nothing was changed. Try again after `Retry-After` seconds.
    Unavailable,
    /// A code this version does not know (a later server's, or an answer that is not
    /// the API's own): read, never sent.
    #[serde(other, skip_serializing)]
    Unknown,
}

impl ErrorCode {
    /// Every code the API sends.
    pub const ALL: [ErrorCode; 12] = [
        Self::InvalidInput,
        Self::Rejected,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::Misdirected,
        Self::TooManyRequests,
        Self::Internal,
        Self::Unavailable,
    ];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Rejected => "rejected",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Misdirected => "misdirected",
            Self::TooManyRequests => "too_many_requests",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::Unknown => "unknown",
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// What kind of error.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// The input field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For conflicts: the request's status now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Status>,
    /// For conflicts: who decided, cancelled or revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// For a second request while one is pending: the pending one's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenView {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// A message in the embedded default's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MailView {
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{email, entry, hour, pending, t0};

    /// The JSON of the views, byte for byte, so that typing their fields changes
    /// nothing a client reads.
    #[test]
    fn views_keep_their_json() {
        use crate::request::{Grant, Op};

        let approved = pending(hour())
            .apply(
                Op::Approve {
                    by: email("bob@example.com"),
                    grant: Grant {
                        starts_at: t0(),
                        ends_at: t0() + chrono::TimeDelta::hours(1),
                        permission_set: PermissionSetId::view_password_execute(),
                    },
                    comment: Message::parse("go", "comment").unwrap(),
                },
                t0(),
            )
            .unwrap()
            .next;
        let request = serde_json::to_string(&RequestView::new(&approved, t0())).unwrap();
        assert_eq!(
            request,
            r#"{"id":"01Q9GD6E000000000000000001","entry_id":"prod-db","entry_name":"Production database","requester":"alice@example.com","approver":"bob@example.com","permission_set":"view-password-execute","granted_permission_set":"view-password-execute","requested":{"duration_seconds":3600},"message":"deploy","status":"active","created_at":"2030-03-17T17:46:40Z","expires_at":"2030-03-18T17:46:40Z","decided_at":"2030-03-17T17:46:40Z","decided_by":"bob@example.com","decision_comment":"go","starts_at":"2030-03-17T17:46:40Z","ends_at":"2030-03-17T18:46:40Z","cancelled_at":null,"cancelled_by":null,"revoked_at":null,"revoked_by":null,"revoke_reason":null}"#
        );

        let event = |actor: Actor, kind: EventKind| {
            serde_json::to_string(&EventView::from(&AuditEvent {
                request_id: approved.id,
                id: "e".into(),
                at: t0(),
                actor,
                kind,
                detail: "d".into(),
            }))
            .unwrap()
        };
        assert_eq!(
            event(
                Actor::User(email("bob@example.com")),
                EventKind::PasswordRevealed
            ),
            r#"{"at":"2030-03-17T17:46:40Z","actor":"bob@example.com","kind":"password_revealed","detail":"d"}"#
        );
        assert_eq!(
            event(Actor::SYSTEM, EventKind::EmailFailed),
            r#"{"at":"2030-03-17T17:46:40Z","actor":"system","kind":"email_failed","detail":"d"}"#
        );

        let remote = crate::entry::Entry {
            kind: EntryKind::RemoteSession,
            ..entry()
        };
        let access = crate::policy::my_access(std::slice::from_ref(&approved), &remote.id, t0());
        let names = std::collections::HashMap::new();
        let view = serde_json::to_string(&EntryView::new(&remote, &names, &access)).unwrap();
        assert_eq!(
            view,
            r#"{"id":"prod-db","name":"Production database","kind":"remote-session","folder":"Databases","approvers":[{"id":"bob@example.com","name":"bob@example.com","email":"bob@example.com"}],"permission_sets":[{"id":"view-password-execute","name":"View password/Execute rights","rights":["view","view_password","execute"]},{"id":"execute","name":"Execute","rights":["execute"]},{"id":"edit","name":"Edit","rights":["view","edit"]}],"duration_presets_seconds":[],"max_duration_seconds":28800,"message_required":false,"rotates":false,"my_access":{"status":"active","request_id":"01Q9GD6E000000000000000001","until":"2030-03-17T18:46:40Z"}}"#
        );
        let none = crate::policy::my_access(&[], &remote.id, t0());
        assert_eq!(
            serde_json::to_string(&MyAccessView::from(&none)).unwrap(),
            r#"{"status":"none"}"#
        );
    }

    /// The site reads an entry's rules from its view as the server reads them from the
    /// entry, and what was asked from a request's view.
    #[test]
    fn views_carry_the_rules_they_show() {
        let e = entry();
        let view = EntryView::new(
            &e,
            &std::collections::HashMap::new(),
            &crate::policy::my_access(&[], &e.id, t0()),
        );
        assert_eq!(view.rules().unwrap(), RequestRules::from(&e));
        let r = pending(hour());
        assert_eq!(
            RequestView::new(&r, t0()).requested.parse().unwrap(),
            r.requested
        );
        let neither = RequestedView {
            duration_seconds: None,
            window: None,
        };
        assert_eq!(neither.parse().unwrap_err().field(), Some("requested"));
    }

    /// Each closed set's names in code (storage filters, CSV, labels) are its names on
    /// the wire, both ways.
    #[test]
    fn names_in_code_are_the_names_on_the_wire() {
        fn check<T>(all: &[T], name: impl Fn(&T) -> &'static str)
        where
            T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            for x in all {
                assert_eq!(serde_json::to_value(x).unwrap(), name(x), "{x:?}");
                let back: T = serde_json::from_value(name(x).into()).unwrap();
                assert_eq!(&back, x);
            }
        }
        check(&crate::request::State::ALL, |s| s.as_str());
        check(&Status::ALL, |s| s.as_str());
        check(&EventKind::ALL, |k| k.as_str());
        check(&Right::ALL, |r| r.as_str());
        check(&EntryKind::ALL, |k| k.as_str());
        check(&AccessStatus::ALL, |s| s.as_str());
        check(&ErrorCode::ALL, |c| c.as_str());
        check(&crate::service::ReportScope::ALL, |s| s.as_str());
        check(&crate::report::ReportOrder::ALL, |o| o.as_str());
    }

    /// A site older than the server still reads a timeline or an error whose kind it
    /// does not know.
    #[test]
    fn unknown_event_kinds_and_error_codes_still_read() {
        let kind: EventKind = serde_json::from_str(r#""key_escrowed""#).unwrap();
        assert_eq!(kind, EventKind::Unknown);
        let detail: ErrorDetail =
            serde_json::from_str(r#"{"code":"teapot","message":"short and stout"}"#).unwrap();
        assert_eq!(detail.code, ErrorCode::Unknown);
    }
}
