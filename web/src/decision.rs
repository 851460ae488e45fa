//! The decision form's rules: approve as asked, or with a shorter duration, a narrower
//! time frame or a narrower permission set; or deny. Checked with the server's rules
//! (`DecisionBody::parse`) and "never wider than asked" before anything is sent.

use chrono::{DateTime, Utc};
use tempaccess_core::wire::{DecisionBody, DecisionKind, PermissionSetView, RequestView, Window};

use crate::form::FieldErrors;
use crate::time::{self, Zone};

/// How an approval differs from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approve {
    /// As requested.
    AsRequested,
    /// For a shorter duration.
    Shorter,
    /// For a narrower time frame (time-frame requests).
    Narrower,
}

/// What the decision form holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionDraft {
    /// How to approve.
    pub approve: Approve,
    /// The shorter duration, in seconds.
    pub duration_seconds: i64,
    /// The narrower frame's start (`datetime-local`, local time).
    pub start: String,
    /// The narrower frame's end.
    pub end: String,
    /// The permission set to grant (the asked one or a narrower one).
    pub permission_set: String,
    /// The message to the requester.
    pub comment: String,
}

/// The length asked for, in seconds.
pub fn asked_seconds(request: &RequestView) -> i64 {
    match (request.requested.duration_seconds, request.requested.window) {
        (Some(s), _) => s,
        (None, Some(w)) => (w.end - w.start).num_seconds(),
        (None, None) => 0,
    }
}

/// Durations an approver may pick instead, all shorter than asked.
pub fn shorter_durations(asked: i64) -> Vec<i64> {
    [
        5 * 60,
        15 * 60,
        30 * 60,
        3600,
        2 * 3600,
        4 * 3600,
        8 * 3600,
        24 * 3600,
        7 * 24 * 3600,
    ]
    .into_iter()
    .filter(|s| *s < asked)
    .collect()
}

/// The sets that give no more rights than the asked one (the asked one first).
pub fn narrower_sets(asked: &str, sets: &[PermissionSetView]) -> Vec<PermissionSetView> {
    let Some(wide) = sets.iter().find(|s| s.id == asked) else {
        return vec![];
    };
    let mut out = vec![wide.clone()];
    out.extend(
        sets.iter()
            .filter(|s| s.id != asked && s.rights.iter().all(|r| wide.rights.contains(r)))
            .cloned(),
    );
    out
}

impl DecisionDraft {
    /// The form's first state: approve as asked, the longest shorter duration, the
    /// asked frame, the asked set.
    pub fn new(request: &RequestView, zone: &dyn Zone) -> Self {
        let asked = asked_seconds(request);
        let (start, end) = request
            .requested
            .window
            .map(|w| {
                (
                    time::input_value(w.start, zone),
                    time::input_value(w.end, zone),
                )
            })
            .unwrap_or_default();
        Self {
            approve: Approve::AsRequested,
            duration_seconds: shorter_durations(asked).last().copied().unwrap_or(asked),
            start,
            end,
            permission_set: request.permission_set.clone(),
            comment: String::new(),
        }
    }

    /// An approval's body, or the errors to show.
    pub fn approval(
        &self,
        request: &RequestView,
        sets: &[PermissionSetView],
        zone: &dyn Zone,
    ) -> Result<DecisionBody, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut body = DecisionBody {
            decision: DecisionKind::Approve,
            comment: self.comment(),
            duration_seconds: None,
            window: None,
            permission_set: None,
        };
        match self.approve {
            Approve::AsRequested => {}
            Approve::Shorter => {
                if self.duration_seconds >= asked_seconds(request) {
                    errors.add("duration_seconds", "must be shorter than requested");
                }
                body.duration_seconds = Some(self.duration_seconds);
            }
            Approve::Narrower => match (request.requested.window, self.window(zone)) {
                (None, _) => errors.add(
                    "window",
                    "this request asked for a duration; approve a shorter duration instead",
                ),
                (Some(_), Err(e)) => {
                    for f in e.fields().collect::<Vec<_>>() {
                        errors.add(f, e.get(f).unwrap_or_default().to_owned());
                    }
                }
                (Some(asked), Ok(w)) => {
                    if w.start < asked.start || w.end > asked.end {
                        errors.add("window", "must lie within the requested time frame");
                    }
                    body.window = Some(w);
                }
            },
        }
        if self.permission_set != request.permission_set {
            if narrower_sets(&request.permission_set, sets)
                .iter()
                .any(|s| s.id == self.permission_set)
            {
                body.permission_set = Some(self.permission_set.clone());
            } else {
                errors.add("permission_set", "must not give more rights than requested");
            }
        }
        check_shared(&body, &mut errors);
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }

    /// A denial's body (a denial takes only the message).
    pub fn denial(&self) -> Result<DecisionBody, FieldErrors> {
        let body = DecisionBody {
            decision: DecisionKind::Deny,
            comment: self.comment(),
            duration_seconds: None,
            window: None,
            permission_set: None,
        };
        let mut errors = FieldErrors::new();
        check_shared(&body, &mut errors);
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }

    fn comment(&self) -> Option<String> {
        let c = self.comment.trim();
        (!c.is_empty()).then(|| c.to_owned())
    }

    fn window(&self, zone: &dyn Zone) -> Result<Window, FieldErrors> {
        let mut errors = FieldErrors::new();
        let start = time::input_to_utc(&self.start, zone);
        let end = time::input_to_utc(&self.end, zone);
        if start.is_none() {
            errors.add("window.start", "enter the date and time access begins");
        }
        if end.is_none() {
            errors.add("window.end", "enter the date and time access ends");
        }
        match (start, end) {
            (Some(start), Some(end)) => Ok(Window { start, end }),
            _ => Err(errors),
        }
    }
}

/// The server's own checks of a decision, on the same types.
fn check_shared(body: &DecisionBody, errors: &mut FieldErrors) {
    if let Err(e) = body.clone().parse() {
        let field = e.field().unwrap_or("decision").to_owned();
        let text = e.to_string();
        let text = text
            .strip_prefix(&format!("{field}: "))
            .unwrap_or(&text)
            .to_owned();
        errors.add(&field, text);
    }
}

/// When a grant made now would end, for the form's summary.
pub fn preview_end(
    draft: &DecisionDraft,
    request: &RequestView,
    now: DateTime<Utc>,
    zone: &dyn Zone,
) -> Option<DateTime<Utc>> {
    let asked = request.requested.window;
    let shorter = |start: DateTime<Utc>| start + chrono::TimeDelta::seconds(draft.duration_seconds);
    match (draft.approve, asked) {
        (Approve::AsRequested, None) => {
            Some(now + chrono::TimeDelta::seconds(asked_seconds(request)))
        }
        (Approve::Shorter, None) => Some(shorter(now)),
        (Approve::AsRequested, Some(w)) => Some(w.end),
        (Approve::Shorter, Some(w)) => Some(shorter(w.start.max(now)).min(w.end)),
        (Approve::Narrower, Some(_)) => time::input_to_utc(&draft.end, zone),
        (Approve::Narrower, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use tempaccess_core::entry::Right;
    use tempaccess_core::request::Status;
    use tempaccess_core::wire::RequestedView;

    use super::*;

    struct Utc0;

    impl Zone for Utc0 {
        fn offset_minutes(&self, _: DateTime<Utc>) -> i32 {
            0
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn set(id: &str, rights: &[Right]) -> PermissionSetView {
        PermissionSetView {
            id: id.into(),
            name: id.into(),
            rights: rights.to_vec(),
        }
    }

    fn request(requested: RequestedView) -> RequestView {
        RequestView {
            id: "01J".into(),
            entry_id: "payroll-rdp".into(),
            entry_name: "Payroll".into(),
            requester: "alice@example.com".into(),
            approver: "bob@example.com".into(),
            permission_set: "view-password-execute".into(),
            granted_permission_set: None,
            requested,
            message: "m".into(),
            status: Status::Pending,
            created_at: t("2030-01-15T09:00:00Z"),
            expires_at: t("2030-01-16T09:00:00Z"),
            decided_at: None,
            decided_by: None,
            decision_comment: None,
            starts_at: None,
            ends_at: None,
            cancelled_at: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        }
    }

    fn sets() -> Vec<PermissionSetView> {
        vec![
            set(
                "view-password-execute",
                &[Right::View, Right::ViewPassword, Right::Execute],
            ),
            set("operator", &[Right::View, Right::Execute]),
            set("editor", &[Right::View, Right::Edit]),
        ]
    }

    #[test]
    fn offers_only_shorter_durations_and_narrower_sets() {
        assert_eq!(shorter_durations(3600), [300, 900, 1800]);
        let ids: Vec<String> = narrower_sets("view-password-execute", &sets())
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["view-password-execute", "operator"]);
    }

    #[test]
    fn approves_shorter_and_narrower() {
        let r = request(RequestedView {
            duration_seconds: Some(3600),
            window: None,
        });
        let mut d = DecisionDraft::new(&r, &Utc0);
        assert_eq!(d.duration_seconds, 1800);
        let as_asked = d.approval(&r, &sets(), &Utc0).unwrap();
        assert_eq!(as_asked.duration_seconds, None);
        d.approve = Approve::Shorter;
        d.permission_set = "operator".into();
        d.comment = " ok ".into();
        let body = d.approval(&r, &sets(), &Utc0).unwrap();
        assert_eq!(body.duration_seconds, Some(1800));
        assert_eq!(body.permission_set.as_deref(), Some("operator"));
        assert_eq!(body.comment.as_deref(), Some("ok"));
        d.permission_set = "editor".into();
        assert!(
            d.approval(&r, &sets(), &Utc0)
                .unwrap_err()
                .get("permission_set")
                .is_some()
        );
        d.permission_set = "operator".into();
        d.duration_seconds = 3600;
        assert!(
            d.approval(&r, &sets(), &Utc0)
                .unwrap_err()
                .get("duration_seconds")
                .is_some()
        );
    }

    #[test]
    fn narrower_frames_stay_within_the_asked_one() {
        let r = request(RequestedView {
            duration_seconds: None,
            window: Some(Window {
                start: t("2030-01-15T10:00:00Z"),
                end: t("2030-01-15T12:00:00Z"),
            }),
        });
        let mut d = DecisionDraft::new(&r, &Utc0);
        assert_eq!(d.start, "2030-01-15T10:00");
        d.approve = Approve::Narrower;
        d.end = "2030-01-15T11:00".into();
        let body = d.approval(&r, &sets(), &Utc0).unwrap();
        assert_eq!(body.window.unwrap().end, t("2030-01-15T11:00:00Z"));
        d.end = "2030-01-15T13:00".into();
        assert!(
            d.approval(&r, &sets(), &Utc0)
                .unwrap_err()
                .get("window")
                .is_some()
        );
        d.end = "2030-01-15T09:00".into();
        assert_eq!(
            d.approval(&r, &sets(), &Utc0)
                .unwrap_err()
                .get("window.end"),
            Some("must be after start")
        );
    }

    #[test]
    fn denials_carry_only_the_message() {
        let r = request(RequestedView {
            duration_seconds: Some(3600),
            window: None,
        });
        let mut d = DecisionDraft::new(&r, &Utc0);
        d.approve = Approve::Shorter;
        d.comment = "not now".into();
        let body = d.denial().unwrap();
        assert_eq!(body.decision, DecisionKind::Deny);
        assert_eq!(body.duration_seconds, None);
        assert_eq!(body.comment.as_deref(), Some("not now"));
    }
}
