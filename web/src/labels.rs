//! Words for people: statuses, timeline events, entry kinds, rights.

use tempaccess_core::audit::{Actor, EventKind};
use tempaccess_core::entry::{EntryKind, PermissionSet};
use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::PermissionSetView;

/// A request's status.
pub fn status(s: Status) -> &'static str {
    match s {
        Status::Pending => "Pending",
        Status::Scheduled => "Scheduled",
        Status::Active => "Active",
        Status::Ended => "Ended",
        Status::Denied => "Denied",
        Status::Cancelled => "Cancelled",
        Status::Revoked => "Revoked",
        Status::Expired => "Expired",
    }
}

/// Whose requests a report lists.
pub fn scope(s: ReportScope) -> &'static str {
    match s {
        ReportScope::Mine => "My requests",
        ReportScope::Approvals => "My approvals",
        ReportScope::All => "All requests",
    }
}

/// A timeline event's kind.
pub fn event(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Requested => "Requested",
        EventKind::Notified => "Approver notified",
        EventKind::Viewed => "Link opened",
        EventKind::Approved => "Approved",
        EventKind::Denied => "Denied",
        EventKind::Started => "Access started",
        EventKind::PasswordRevealed => "Password revealed",
        EventKind::Cancelled => "Cancelled",
        EventKind::Revoked => "Revoked",
        EventKind::Ended => "Access ended",
        EventKind::Expired => "Expired",
        EventKind::EmailFailed => "Email failed",
        EventKind::EmailRetried => "Email retried",
        EventKind::ScheduleFailed => "Schedule failed",
        EventKind::Rotated => "Password rotated",
        EventKind::RotationFailed => "Password rotation failed",
        EventKind::Unknown => "Other event",
    }
}

/// Who did something, for a timeline: a person, someone holding an approver's link
/// while signed out, or the product.
pub fn actor(a: &Actor) -> String {
    match a {
        Actor::User(e) => format!("by {e}"),
        Actor::LinkHolder(e) => format!("by someone with {e}'s link, signed out"),
        Actor::System => "by the system".to_owned(),
    }
}

/// An entry's kind.
pub fn kind(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Credential => "Credential",
        EntryKind::RemoteSession => "Remote session",
        EntryKind::Other => "Other",
    }
}

/// The name of permission set `id` among `sets`, else the built-in set's name, else
/// the id.
pub fn set_name(id: &str, sets: &[PermissionSetView]) -> String {
    let builtin = PermissionSet::view_password_execute();
    sets.iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .or_else(|| (builtin.id.as_str() == id).then_some(builtin.name))
        .unwrap_or_else(|| id.to_owned())
}
