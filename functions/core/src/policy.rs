//! Who may do what, and what an entry allows: pure functions of the caller, the
//! request or entry, and the time. The use cases ask them before they ask the state
//! machine ([`AccessRequest::apply`]) whether the request's state allows the change.

use crate::Timestamp;
use crate::entry::{Caller, Entry, PermissionSet, Right, describe_seconds};
use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::ports::Scope;
use crate::request::{AccessRequest, Grant, Op, OpKind, Status, SubmitRequest};
use crate::service::ReportScope;
use crate::text::Message;
use crate::timing::{AccessDuration, Requested, TimeFrame};

/// Checks a new request against the entry's policy at `now`: the set is offered, the
/// approver is another person who approves the entry, the time fits, the message is
/// there when required.
pub fn check_submit(
    entry: &Entry,
    caller: &Email,
    cmd: &SubmitRequest,
    now: Timestamp,
) -> Result<(), Error> {
    if entry.permission_set(&cmd.permission_set).is_none() {
        return Err(Error::rejected(
            "permission_set",
            "this entry does not offer that permission set",
        ));
    }
    if &cmd.approver == caller {
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
    if cmd.requested.length() > entry.max_duration.delta() {
        return Err(Error::rejected(
            length_field,
            format!(
                "this entry allows at most {}",
                describe_seconds(entry.max_duration.seconds())
            ),
        ));
    }
    if entry.message_required && cmd.message.is_empty() {
        return Err(Error::rejected(
            "message",
            "this entry requires a message to the approver",
        ));
    }
    Ok(())
}

/// Checks that `caller` may decide `request`: its named approver, never its requester.
pub fn may_decide(caller: &Caller, request: &AccessRequest) -> Result<(), Error> {
    if caller.email == request.requester {
        return Err(Error::forbidden("you cannot decide your own request"));
    }
    if caller.email != request.approver {
        return Err(Error::forbidden(
            "only the approver named in the request may decide it",
        ));
    }
    Ok(())
}

/// Checks that `caller` may see `request` and its timeline: its requester, its
/// approver or an admin.
pub fn may_view(caller: &Caller, request: &AccessRequest) -> Result<(), Error> {
    if caller.email == request.requester || caller.email == request.approver || caller.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden(
            "only the requester, the approver or an admin may see this request",
        ))
    }
}

/// Whether `caller` sees `grant` among the grants active now: admins see every one,
/// others their own.
pub fn may_see_grant(caller: &Caller, grant: &AccessRequest) -> bool {
    caller.is_admin() || grant.requester == caller.email
}

/// The requests a report in `scope` may cover for `caller`.
pub fn report_scope(caller: &Caller, scope: ReportScope) -> Result<Scope, Error> {
    match scope {
        ReportScope::Mine => Ok(Scope::RequestedBy(caller.email.clone())),
        ReportScope::Approvals => Ok(Scope::ApprovedBy(caller.email.clone())),
        ReportScope::All if caller.is_admin() => Ok(Scope::All),
        ReportScope::All => Err(Error::forbidden("only admins may see every request")),
    }
}

/// What a cancel call by `caller` does to `request` at `now`, and who is told: the
/// requester (or an admin) cancels a pending request, the requester ends their own
/// grant, the approver or an admin revokes one with a reason.
pub fn cancel_op(
    caller: &Caller,
    request: &AccessRequest,
    now: Timestamp,
    reason: Message,
) -> Result<(Op, Vec<Email>), Error> {
    let is_requester = caller.email == request.requester;
    let is_approver = caller.email == request.approver;
    let is_admin = caller.is_admin();
    if !(is_requester || is_approver || is_admin) {
        return Err(Error::forbidden(
            "only the requester, the approver or an admin may do this",
        ));
    }
    let by = caller.email.clone();
    match request.status(now) {
        Status::Pending if is_requester || is_admin => {
            Ok((Op::Cancel { by, reason }, vec![request.approver.clone()]))
        }
        Status::Pending => Err(Error::forbidden(
            "deny the request instead of cancelling it",
        )),
        Status::Scheduled | Status::Active => {
            if !is_requester && reason.is_empty() {
                return Err(Error::invalid("reason", "say why the access is revoked"));
            }
            let notify = if is_requester {
                vec![]
            } else {
                vec![request.requester.clone()]
            };
            Ok((Op::Revoke { by, reason }, notify))
        }
        _ => Err(request.refusal(OpKind::Cancel, now).into()),
    }
}

/// The grant among `open` (the caller's open requests) that lets them see `entry`'s
/// password at `now`: active, on this entry, with the view-password right.
pub fn password_grant<'a>(
    entry: &Entry,
    open: &'a [AccessRequest],
    now: Timestamp,
) -> Result<&'a AccessRequest, Error> {
    open.iter()
        .filter(|r| r.entry_id == entry.id && r.is_active(now))
        .find(|r| {
            r.granted_permission_set()
                .and_then(|id| set_named(entry, id))
                .is_some_and(|s| s.allows(Right::ViewPassword))
        })
        .ok_or_else(|| {
            Error::forbidden("you have no active grant with the view-password right on this entry")
        })
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

/// The caller's access to one entry from their open requests: active beats scheduled
/// beats pending.
pub fn my_access(open: &[AccessRequest], entry: &EntryId, now: Timestamp) -> MyAccess {
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

/// The permission set with this id: the entry's, or the built-in one.
fn set_named(entry: &Entry, id: &PermissionSetId) -> Option<PermissionSet> {
    entry.permission_set(id).cloned().or_else(|| {
        (id == &PermissionSetId::view_password_execute()).then(PermissionSet::view_password_execute)
    })
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

#[cfg(test)]
mod tests;
