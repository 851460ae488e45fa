//! Words for people: statuses, timeline events, entry kinds, rights, people, and the
//! dialogs that end a request.

use tempaccess_core::audit::EventKind;
use tempaccess_core::entry::{EntryKind, PermissionSet};
use tempaccess_core::policy::Ending;
use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{PermissionSetView, RequestView};

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

/// Someone as the page names them: "you" for the signed-in person, else their display
/// name (their email when it is unknown).
pub fn who<'a>(r: &'a RequestView, email: &'a str, me: &str) -> &'a str {
    if email == me { "you" } else { r.name_of(email) }
}

/// Whether the request's grant was ended early by its own requester (the API says
/// `revoked`; for people it is their own early end, not a revocation).
pub fn ended_by_requester(r: &RequestView) -> bool {
    r.status == Status::Revoked && r.revoked_by.as_deref() == Some(r.requester.as_str())
}

/// Whether an ended-early grant had started before it ended.
pub fn had_started(r: &RequestView) -> bool {
    match (r.starts_at, r.revoked_at) {
        (Some(start), Some(end)) => start < end,
        _ => true,
    }
}

/// The status as people read it: the API's, except that a requester's own early end
/// is "Ended early" (or "Cancelled" when it had not started), not "Revoked".
pub fn status_of(r: &RequestView) -> (&'static str, &'static str) {
    if ended_by_requester(r) {
        if had_started(r) {
            ("Ended early", "ended")
        } else {
            ("Cancelled", "cancelled")
        }
    } else {
        (status(r.status), r.status.as_str())
    }
}

/// When access really ended, for a grant ended early: the early end, not the end it
/// was granted until.
pub fn actual_end(r: &RequestView) -> Option<chrono::DateTime<chrono::Utc>> {
    match (r.revoked_at, r.ends_at) {
        (Some(early), Some(end)) if early < end => Some(early),
        (_, end) => end,
    }
}

/// The words of the dialog that ends or cancels a request, for its state and for who
/// does it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndingWords {
    /// The button that opens the dialog.
    pub button: String,
    /// Its accessible name, naming what it acts on.
    pub button_label: String,
    /// The dialog's question.
    pub title: String,
    /// What happens.
    pub body: String,
    /// The button that does it.
    pub confirm: String,
    /// The button that does nothing.
    pub keep: String,
    /// Whether it is destructive (red).
    pub danger: bool,
    /// The reason field's label.
    pub reason_label: String,
    /// What the reason is for.
    pub reason_hint: Option<String>,
    /// The error when the reason is required and empty.
    pub reason_required: Option<String>,
    /// The notice once done.
    pub done: String,
}

/// The words for ending `r` the way `ending` says (the server's rule, see
/// [`tempaccess_core::policy::ending`]).
pub fn ending_words(r: &RequestView, ending: Ending) -> EndingWords {
    let entry = &r.entry_name;
    let requester = r.name_of(&r.requester);
    let approver = r.name_of(&r.approver);
    let started = r.status != Status::Scheduled;
    let optional = |reader: &str| (format!("Reason ({reader} reads it)"), None, None);
    match ending {
        Ending::Cancel => {
            let (reason_label, reason_hint, reason_required) = optional("the approver");
            let title = "Cancel this request?".to_owned();
            let body = format!(
                "The request for {entry} will be withdrawn and {approver} will be told there is nothing to decide. This cannot be undone."
            );
            let done = format!("Cancelled the request for {entry}.");
            let label = format!("Cancel request for {entry}");
            EndingWords {
                button: "Cancel request".into(),
                button_label: label,
                title,
                body,
                confirm: "Cancel request".into(),
                keep: "Keep it".into(),
                danger: false,
                reason_label,
                reason_hint,
                reason_required,
                done,
            }
        }
        Ending::EndOwn => {
            let (reason_label, reason_hint, reason_required) = optional("the approver");
            if started {
                EndingWords {
                    button: "End access".into(),
                    button_label: format!("End access to {entry}"),
                    title: "End your access now?".into(),
                    body: format!(
                        "Your access to {entry} ends now, before its end time. {approver} will be told. To regain it you will need to make another request."
                    ),
                    confirm: "End access now".into(),
                    keep: "Keep access".into(),
                    danger: false,
                    reason_label,
                    reason_hint,
                    reason_required,
                    done: format!("Ended your access to {entry}."),
                }
            } else {
                EndingWords {
                    button: "Cancel access".into(),
                    button_label: format!("Cancel access to {entry}"),
                    title: "Cancel your scheduled access?".into(),
                    body: format!(
                        "Your approved access to {entry} has not started yet; it will not start. {approver} will be told. To have it again you will need to make another request."
                    ),
                    confirm: "Cancel access".into(),
                    keep: "Keep it".into(),
                    danger: false,
                    reason_label,
                    reason_hint,
                    reason_required,
                    done: format!("Cancelled your access to {entry} before it started."),
                }
            }
        }
        Ending::Revoke => EndingWords {
            button: "Revoke".into(),
            button_label: format!("Revoke {requester}'s access to {entry}"),
            title: format!("Revoke {requester}'s access?"),
            body: if started {
                format!(
                    "{requester}'s access to {entry} ends now. They will be told, with your reason."
                )
            } else {
                format!(
                    "{requester}'s approved access to {entry} has not started yet; it will not start. They will be told, with your reason."
                )
            },
            confirm: "Revoke access".into(),
            keep: "Keep access".into(),
            danger: true,
            reason_label: "Reason (the requester reads it)".into(),
            reason_hint: None,
            reason_required: Some("say why the access is revoked".into()),
            done: format!("Revoked {requester}'s access to {entry}."),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use tempaccess_core::wire::RequestedView;

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn request(status: Status) -> RequestView {
        RequestView {
            id: "r1".into(),
            entry_id: "prod-db".into(),
            entry_name: "Production database".into(),
            requester: "alice@example.com".into(),
            approver: "bob@example.com".into(),
            permission_set: "view-password-execute".into(),
            granted_permission_set: None,
            requested: RequestedView {
                duration_seconds: Some(3600),
                window: None,
            },
            message: String::new(),
            status,
            created_at: t("2030-01-01T10:00:00Z"),
            expires_at: t("2030-01-02T10:00:00Z"),
            decided_at: None,
            decided_by: None,
            decision_comment: None,
            starts_at: Some(t("2030-01-01T10:00:00Z")),
            ends_at: Some(t("2030-01-01T11:00:00Z")),
            cancelled_at: None,
            cancelled_by: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            names: [
                ("alice@example.com".to_owned(), "Alice".to_owned()),
                ("bob@example.com".to_owned(), "Bob".to_owned()),
            ]
            .into(),
        }
    }

    #[test]
    fn a_requesters_own_early_end_is_not_a_revocation() {
        let mut r = request(Status::Revoked);
        r.revoked_by = Some("alice@example.com".into());
        r.revoked_at = Some(t("2030-01-01T10:20:00Z"));
        assert_eq!(status_of(&r), ("Ended early", "ended"));
        assert_eq!(actual_end(&r), Some(t("2030-01-01T10:20:00Z")));
        r.starts_at = Some(t("2030-01-01T10:30:00Z"));
        assert_eq!(status_of(&r), ("Cancelled", "cancelled"));
        r.revoked_by = Some("carol@example.com".into());
        assert_eq!(status_of(&r), ("Revoked", "revoked"));
        assert_eq!(who(&r, "alice@example.com", "alice@example.com"), "you");
        assert_eq!(who(&r, "bob@example.com", "alice@example.com"), "Bob");
    }

    #[test]
    fn dialogs_say_what_they_do_for_each_state() {
        let pending = ending_words(&request(Status::Pending), Ending::Cancel);
        assert_eq!(
            (pending.confirm.as_str(), pending.keep.as_str()),
            ("Cancel request", "Keep it")
        );
        assert!(
            pending.body.contains("Bob will be told"),
            "{}",
            pending.body
        );
        let active = ending_words(&request(Status::Active), Ending::EndOwn);
        assert_eq!(active.title, "End your access now?");
        let scheduled = ending_words(&request(Status::Scheduled), Ending::EndOwn);
        assert!(
            scheduled.body.contains("has not started yet"),
            "{}",
            scheduled.body
        );
        assert!(!scheduled.body.contains("end your access"));
        let revoke = ending_words(&request(Status::Active), Ending::Revoke);
        assert_eq!(
            revoke.button_label,
            "Revoke Alice's access to Production database"
        );
        assert!(revoke.reason_required.is_some() && pending.reason_required.is_none());
    }
}
