//! Who may do what, and what an entry allows: pure functions of the caller, the
//! request or entry, and the time. The use cases ask them before they ask the state
//! machine ([`AccessRequest::apply`]) whether the request's state allows the change.

use chrono::TimeDelta;

use crate::Timestamp;
use crate::audit::Actor;
use crate::entry::{Caller, Entry, PermissionSet, Right, describe_seconds};
use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId, RequestId};
use crate::ports::Scope;
use crate::request::{AccessRequest, Grant, Op, OpKind, Status, SubmitCommand};
use crate::service::ReportScope;
use crate::text::Message;
use crate::timing::{AccessDuration, Requested, TimeFrame};

/// How far ahead a custom time frame may start: a request is for work that is
/// planned, not a standing reservation.
pub const MAX_START_AHEAD: TimeDelta = TimeDelta::days(90);

/// How many pending requests one person may have at once, over all entries: each
/// mails an approver, so this bounds what one person can put in others' inboxes.
pub const MAX_PENDING_PER_REQUESTER: usize = 10;

/// What an entry allows a request to ask. The server reads it from the [`Entry`], the
/// site from the entry's view ([`crate::wire::EntryView::rules`]), so both check a
/// request with the same code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRules {
    /// Who may approve.
    pub approvers: Vec<Email>,
    /// The sets a requester may ask for.
    pub sets: Vec<PermissionSet>,
    /// The longest access a request may ask for.
    pub max_duration: AccessDuration,
    /// Whether a request must carry a message.
    pub message_required: bool,
}

impl From<&Entry> for RequestRules {
    fn from(e: &Entry) -> Self {
        Self {
            approvers: e.approvers.clone(),
            sets: e.permission_sets.clone(),
            max_duration: e.max_duration,
            message_required: e.message_required,
        }
    }
}

/// Every way a new request breaks the entry's rules at `now`, the field each names,
/// in the order the server reports the first: the set must be offered, the approver
/// another person who approves the entry, a time frame still to come, the length
/// within the maximum, the message there when required.
pub fn submit_problems(
    rules: &RequestRules,
    caller: &Email,
    cmd: &SubmitCommand,
    now: Timestamp,
) -> Vec<Error> {
    let mut problems = Vec::new();
    if !rules.sets.iter().any(|s| s.id == cmd.permission_set) {
        problems.push(Error::rejected(
            "permission_set",
            "this entry does not offer that permission set",
        ));
    }
    if &cmd.approver == caller {
        problems.push(Error::rejected(
            "approver_id",
            "you cannot approve your own request: choose another approver",
        ));
    } else if !rules.approvers.contains(&cmd.approver) {
        problems.push(Error::rejected(
            "approver_id",
            "that person is not an approver of this entry",
        ));
    }
    let length_field = match cmd.requested {
        Requested::Duration(_) => "duration_seconds",
        Requested::Window(_) => "window.end",
    };
    match cmd.requested {
        Requested::Window(w) if w.end() <= now => {
            problems.push(Error::invalid("window.end", "must be in the future"));
        }
        Requested::Window(w) if w.start() > now + MAX_START_AHEAD => {
            problems.push(Error::rejected(
                "window.start",
                format!(
                    "must be within {} days from now",
                    MAX_START_AHEAD.num_days()
                ),
            ));
        }
        requested if requested.length() > rules.max_duration.delta() => {
            problems.push(Error::rejected(
                length_field,
                format!(
                    "this entry allows at most {}",
                    describe_seconds(rules.max_duration.seconds())
                ),
            ));
        }
        _ => {}
    }
    if rules.message_required && cmd.message.is_empty() {
        problems.push(Error::rejected(
            "message",
            "this entry requires a message to the approver",
        ));
    }
    problems
}

/// Checks a new request against the entry's rules at `now`: the first of
/// [`submit_problems`], if any.
pub fn check_submit(
    rules: &RequestRules,
    caller: &Email,
    cmd: &SubmitCommand,
    now: Timestamp,
) -> Result<(), Error> {
    match submit_problems(rules, caller, cmd, now).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Checks a new request on `entry` against the requester's `open` requests at `now`:
/// at most [`MAX_PENDING_PER_REQUESTER`] pending at once. The other limit, one pending
/// request per entry, the store holds with the write itself (so two sent at once
/// cannot both pass); this one counts the other entries' only, so that a retried
/// request (an idempotency key) still finds its first.
pub fn check_pending_limits(
    open: &[AccessRequest],
    entry: &EntryId,
    now: Timestamp,
) -> Result<(), Error> {
    let others = open
        .iter()
        .filter(|r| &r.entry_id != entry && r.status(now) == Status::Pending)
        .count();
    if others >= MAX_PENDING_PER_REQUESTER {
        return Err(Error::TooMany(format!(
            "you have {others} requests waiting for a decision, the most one person may \
             have; cancel one or wait for the decisions"
        )));
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

/// Who decides with a decision link made for `approver` on `request`: the signed-in
/// `visitor`, who must be that approver (never the requester); or, when no one is
/// signed in, the link's holder, only where the deployment takes decisions by link
/// alone (`link_decisions`). The actor the timeline records.
pub fn link_decider(
    visitor: Option<&Caller>,
    approver: &Email,
    request: &AccessRequest,
    link_decisions: bool,
) -> Result<Actor, Error> {
    match visitor {
        Some(caller) if caller.email == request.requester => {
            Err(Error::forbidden("you cannot decide your own request"))
        }
        Some(caller) if &caller.email != approver => Err(Error::forbidden(format!(
            "this link is for {approver}, and you are signed in as {}: only {approver} may \
             decide this request",
            caller.email
        ))),
        Some(caller) => Ok(Actor::User(caller.email.clone())),
        None if link_decisions => Ok(Actor::LinkHolder(approver.clone())),
        None => Err(Error::SignInRequired(format!(
            "sign in as {approver} to decide: the link shows the request, and the decision \
             is made signed in"
        ))),
    }
}

/// Checks that `approver` still approves `entry` when deciding: removing an approver
/// from an entry (or the entry itself) takes away their pending decisions at once.
pub fn still_approves(entry: Option<&Entry>, approver: &Email) -> Result<(), Error> {
    match entry {
        None => Err(Error::forbidden(
            "the entry no longer exists: nobody can decide this request",
        )),
        Some(e) if !e.is_approver(approver) => Err(Error::forbidden(format!(
            "{approver} no longer approves requests for {}",
            e.name
        ))),
        Some(_) => Ok(()),
    }
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

/// The roles a person holds toward one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Roles {
    /// They asked for it.
    pub requester: bool,
    /// They are named to decide it.
    pub approver: bool,
    /// They are an admin.
    pub admin: bool,
}

impl Roles {
    /// The roles of `caller` toward `request`.
    pub fn of(caller: &Caller, request: &AccessRequest) -> Self {
        Self {
            requester: caller.email == request.requester,
            approver: caller.email == request.approver,
            admin: caller.is_admin(),
        }
    }
}

/// What a cancel call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Withdraw a pending request (the requester, or an admin).
    Cancel,
    /// End one's own grant early.
    EndOwn,
    /// End someone's grant early, with a reason (the approver or an admin).
    Revoke,
}

/// What a person with `roles` may do with a cancel call to a request whose status is
/// `status`; `Ok(None)` when the status allows none of it (the state machine says why).
pub fn ending(roles: Roles, status: Status) -> Result<Option<Ending>, Error> {
    if !(roles.requester || roles.approver || roles.admin) {
        return Err(Error::forbidden(
            "only the requester, the approver or an admin may do this",
        ));
    }
    match status {
        Status::Pending if roles.requester || roles.admin => Ok(Some(Ending::Cancel)),
        Status::Pending => Err(Error::forbidden(
            "deny the request instead of cancelling it",
        )),
        Status::Scheduled | Status::Active if roles.requester => Ok(Some(Ending::EndOwn)),
        Status::Scheduled | Status::Active => Ok(Some(Ending::Revoke)),
        _ => Ok(None),
    }
}

/// What a cancel call by `caller` does to `request` at `now` ([`ending`]), and who is
/// told: the approver of a cancellation; of a grant ended early, the requester and the
/// approver who granted it, except whoever ended it.
pub fn cancel_op(
    caller: &Caller,
    request: &AccessRequest,
    now: Timestamp,
    reason: Message,
) -> Result<(Op, Vec<Email>), Error> {
    let by = caller.email.clone();
    match ending(Roles::of(caller, request), request.status(now))? {
        Some(Ending::Cancel) => Ok((Op::Cancel { by, reason }, vec![request.approver.clone()])),
        Some(Ending::Revoke) if reason.is_empty() => {
            Err(Error::invalid("reason", "say why the access is revoked"))
        }
        Some(Ending::EndOwn | Ending::Revoke) => {
            let told = [&request.requester, &request.approver]
                .into_iter()
                .filter(|who| **who != by)
                .cloned()
                .collect();
            Ok((Op::Revoke { by, reason }, told))
        }
        None => Err(request.refusal(OpKind::Cancel, now).into()),
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
                .and_then(|id| set_named(&entry.permission_sets, id))
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

/// The permission set with this id among `sets`, or the built-in one.
fn set_named(sets: &[PermissionSet], id: &PermissionSetId) -> Option<PermissionSet> {
    sets.iter().find(|s| &s.id == id).cloned().or_else(|| {
        (id == &PermissionSetId::view_password_execute()).then(PermissionSet::view_password_execute)
    })
}

/// The grant an approval makes at `now` of a request that asked for `requested` with
/// `asked_set`: as asked, or narrower, never wider. `sets` are the entry's (`None`
/// once the entry is gone).
pub fn grant_for(
    requested: Requested,
    asked_set: &PermissionSetId,
    sets: Option<&[PermissionSet]>,
    narrowing: &Narrowing,
    now: Timestamp,
) -> Result<Grant, Error> {
    let permission_set = match &narrowing.permission_set {
        None => asked_set.clone(),
        Some(id) if id == asked_set => id.clone(),
        Some(id) => {
            let sets = sets.ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "the entry no longer exists; approve as asked",
                )
            })?;
            let narrower = sets.iter().find(|s| &s.id == id).ok_or_else(|| {
                Error::rejected(
                    "permission_set",
                    "this entry does not offer that permission set",
                )
            })?;
            let asked = set_named(sets, asked_set).ok_or_else(|| {
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
    let (starts_at, ends_at) = match (requested, narrowing.duration, narrowing.window) {
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
