//! The decision form: approve as asked, or with a shorter duration, a narrower time
//! frame or a narrower permission set; or deny. Checked with the server's own code
//! (`DecisionBody::parse`, then `policy::grant_for`: never wider than asked) before
//! anything is sent, so the messages are the server's.

use chrono::{DateTime, Utc};
use tempaccess_core::entry::PermissionSet;
use tempaccess_core::ids::PermissionSetId;
use tempaccess_core::policy;
use tempaccess_core::service::Decision;
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
    request
        .requested
        .parse()
        .map_or(0, |r| r.length().num_seconds())
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
    let domain = |v: &PermissionSetView| PermissionSet::try_from(v).ok();
    let Some((wide_view, wide)) = sets
        .iter()
        .find(|s| s.id == asked)
        .and_then(|s| Some((s, domain(s)?)))
    else {
        return vec![];
    };
    let mut out = vec![wide_view.clone()];
    out.extend(
        sets.iter()
            .filter(|s| s.id != asked && domain(s).is_some_and(|d| d.is_within(&wide)))
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

    /// An approval's body, or the errors to show: the server's own checks of the
    /// body and of the grant it would make at `now`. `sets` are the entry's (none when
    /// the entry is gone).
    pub fn approval(
        &self,
        request: &RequestView,
        sets: &[PermissionSetView],
        now: DateTime<Utc>,
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
            Approve::Shorter => body.duration_seconds = Some(self.duration_seconds),
            Approve::Narrower => match self.window(zone) {
                Ok(w) => body.window = Some(w),
                Err(e) => errors = errors.merged(&e),
            },
        }
        if self.permission_set != request.permission_set {
            body.permission_set = Some(self.permission_set.clone());
        }
        if errors.is_empty() {
            match body.clone().parse() {
                Err(e) => errors.add_error(&e, "decision"),
                Ok((Decision::Approve(narrowing), _)) => {
                    if let Err(e) = grant(request, sets, &narrowing, now) {
                        errors.add_error(&e, "decision");
                    }
                }
                Ok((Decision::Deny, _)) => {}
            }
        }
        self.place_frame_error(&mut errors, request, body.window);
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }

    /// A frame outside the requested one is the server's `window` error: put it on the
    /// end that lies outside (the start when it is too early).
    fn place_frame_error(
        &self,
        errors: &mut FieldErrors,
        request: &RequestView,
        chosen: Option<Window>,
    ) {
        let (Some(message), Some(asked), Some(chosen)) =
            (errors.get("window"), request.requested.window, chosen)
        else {
            return;
        };
        let message = message.to_owned();
        let field = if chosen.start < asked.start || chosen.start >= asked.end {
            "window.start"
        } else {
            "window.end"
        };
        errors.clear("window");
        errors.add(field, message);
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
        match body.clone().parse() {
            Ok(_) => Ok(body),
            Err(e) => {
                let mut errors = FieldErrors::new();
                errors.add_error(&e, "decision");
                Err(errors)
            }
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

/// The grant an approval with `narrowing` would make at `now`, by the server's rule.
fn grant(
    request: &RequestView,
    sets: &[PermissionSetView],
    narrowing: &policy::Narrowing,
    now: DateTime<Utc>,
) -> Result<tempaccess_core::request::Grant, tempaccess_core::Error> {
    let requested = request.requested.parse()?;
    let asked = PermissionSetId::parse(&request.permission_set)?;
    let sets: Vec<PermissionSet> = sets
        .iter()
        .filter_map(|s| PermissionSet::try_from(s).ok())
        .collect();
    // Every entry offers a set: none known means the entry is gone.
    let sets = (!sets.is_empty()).then_some(sets.as_slice());
    policy::grant_for(requested, &asked, sets, narrowing, now)
}

/// When the grant the draft makes would end if approved at `now`, for the form's
/// summary: the server's own grant, or nothing while the draft is not valid.
pub fn preview_end(
    draft: &DecisionDraft,
    request: &RequestView,
    sets: &[PermissionSetView],
    now: DateTime<Utc>,
    zone: &dyn Zone,
) -> Option<DateTime<Utc>> {
    let body = draft.approval(request, sets, now, zone).ok()?;
    match body.parse().ok()? {
        (Decision::Approve(narrowing), _) => grant(request, sets, &narrowing, now)
            .ok()
            .map(|g| g.ends_at),
        (Decision::Deny, _) => None,
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

    /// When the approver decides: after the request, before its time frame.
    fn now() -> DateTime<Utc> {
        t("2030-01-15T09:30:00Z")
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
            cancelled_by: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            names: Default::default(),
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
        let as_asked = d.approval(&r, &sets(), now(), &Utc0).unwrap();
        assert_eq!(as_asked.duration_seconds, None);
        d.approve = Approve::Shorter;
        d.permission_set = "operator".into();
        d.comment = " ok ".into();
        let body = d.approval(&r, &sets(), now(), &Utc0).unwrap();
        assert_eq!(body.duration_seconds, Some(1800));
        assert_eq!(body.permission_set.as_deref(), Some("operator"));
        assert_eq!(body.comment.as_deref(), Some("ok"));
        d.permission_set = "editor".into();
        assert!(
            d.approval(&r, &sets(), now(), &Utc0)
                .unwrap_err()
                .get("permission_set")
                .is_some()
        );
        d.permission_set = "operator".into();
        d.duration_seconds = 7200;
        assert_eq!(
            d.approval(&r, &sets(), now(), &Utc0)
                .unwrap_err()
                .get("duration_seconds"),
            Some("must not be longer than requested")
        );
    }

    /// "Shorter" follows the server's rule: as long as asked is allowed, longer is not;
    /// for every duration the form and the server's grant agree.
    #[test]
    fn the_form_and_the_server_agree_on_shorter_durations() {
        let r = request(RequestedView {
            duration_seconds: Some(3600),
            window: None,
        });
        let mut d = DecisionDraft::new(&r, &Utc0);
        d.approve = Approve::Shorter;
        for secs in [60, 1800, 3599, 3600, 3601, 7200] {
            d.duration_seconds = secs;
            let form = d.approval(&r, &sets(), now(), &Utc0).is_ok();
            let narrowing = policy::Narrowing {
                duration: Some(
                    tempaccess_core::timing::AccessDuration::from_seconds(secs, "d").unwrap(),
                ),
                ..policy::Narrowing::default()
            };
            let server = policy::grant_for(
                r.requested.parse().unwrap(),
                &PermissionSetId::view_password_execute(),
                None,
                &narrowing,
                now(),
            )
            .is_ok();
            assert_eq!(form, server, "{secs} s");
            assert_eq!(form, secs <= 3600, "{secs} s");
        }
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
        let body = d.approval(&r, &sets(), now(), &Utc0).unwrap();
        assert_eq!(body.window.unwrap().end, t("2030-01-15T11:00:00Z"));
        d.end = "2030-01-15T13:00".into();
        assert_eq!(
            d.approval(&r, &sets(), now(), &Utc0)
                .unwrap_err()
                .get("window.end"),
            Some("must lie within the requested time frame")
        );
        // A start too early is the start's error, not the end's.
        d.start = "2030-01-15T09:30".into();
        d.end = "2030-01-15T11:00".into();
        let errors = d.approval(&r, &sets(), now(), &Utc0).unwrap_err();
        assert_eq!(
            errors.get("window.start"),
            Some("must lie within the requested time frame")
        );
        assert_eq!(errors.get("window.end"), None);
        d.start = "2030-01-15T10:00".into();
        d.end = "2030-01-15T09:00".into();
        assert_eq!(
            d.approval(&r, &sets(), now(), &Utc0)
                .unwrap_err()
                .get("window.end"),
            Some("must be after start")
        );
    }

    #[test]
    fn the_preview_is_the_grant_the_server_would_make() {
        let r = request(RequestedView {
            duration_seconds: Some(3600),
            window: None,
        });
        let mut d = DecisionDraft::new(&r, &Utc0);
        let end = |d: &DecisionDraft| preview_end(d, &r, &sets(), now(), &Utc0);
        assert_eq!(end(&d), Some(now() + chrono::TimeDelta::hours(1)));
        d.approve = Approve::Shorter;
        d.duration_seconds = 900;
        assert_eq!(end(&d), Some(now() + chrono::TimeDelta::minutes(15)));
        d.duration_seconds = 7200;
        assert_eq!(end(&d), None, "not a grant the server would make");
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
