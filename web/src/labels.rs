//! Words for people: statuses, timeline events, entry kinds, rights.

use tempaccess_core::wire::PermissionSetView;

/// A request's status.
pub fn status(s: &str) -> &str {
    match s {
        "pending" => "Pending",
        "scheduled" => "Scheduled",
        "active" => "Active",
        "ended" => "Ended",
        "denied" => "Denied",
        "cancelled" => "Cancelled",
        "revoked" => "Revoked",
        "expired" => "Expired",
        other => other,
    }
}

/// A timeline event's kind.
pub fn event(kind: &str) -> &str {
    match kind {
        "requested" => "Requested",
        "notified" => "Approver notified",
        "viewed" => "Viewed by the approver",
        "approved" => "Approved",
        "denied" => "Denied",
        "started" => "Access started",
        "password_revealed" => "Password revealed",
        "cancelled" => "Cancelled",
        "revoked" => "Revoked",
        "ended" => "Access ended",
        "expired" => "Expired",
        "email_failed" => "Email failed",
        "email_retried" => "Email retried",
        "schedule_failed" => "Schedule failed",
        other => other,
    }
}

/// An entry's kind.
pub fn kind(k: &str) -> &str {
    match k {
        "credential" => "Credential",
        "remote-session" => "Remote session",
        "other" => "Other",
        other => other,
    }
}

/// The name of permission set `id` among `sets`, else a name for the built-in one,
/// else the id.
pub fn set_name(id: &str, sets: &[PermissionSetView]) -> String {
    sets.iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| match id {
            "view-password-execute" => "View password/Execute rights".to_owned(),
            other => other.to_owned(),
        })
}

/// Whether a set with these rights lets its holder see the password.
pub fn shows_password(rights: &[String]) -> bool {
    rights.iter().any(|r| r == "view_password")
}
