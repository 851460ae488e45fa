//! The temporary access request form: what the person filled in, checked with the
//! server's own code (`NewRequestBody::parse`, then `policy::submit_problems` over the
//! entry's rules) before anything is sent, so the messages are the server's.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tempaccess_core::Error;
use tempaccess_core::ids::Email;
use tempaccess_core::policy;
use tempaccess_core::wire::{EntryView, NewRequestBody, Window};

use crate::api::ApiError;
use crate::time::{self, Zone};

/// Messages by input field, named as the API names them (`window.end`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// No errors.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an error for `field`, keeping the first one.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// Records the server's error, under the field it names (`fallback` if none).
    pub fn add_error(&mut self, error: &Error, fallback: &str) {
        self.add(error.field().unwrap_or(fallback), error.message());
    }

    /// The error of `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forgets the error of `field` (once the person changes it).
    pub fn clear(&mut self, field: &str) {
        self.0.remove(field);
    }

    /// The fields with errors, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The errors whose field is not among `shown`, as `field: message` lines.
    pub fn others(&self, shown: &[&str]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(f, _)| !shown.contains(&f.as_str()))
            .map(|(f, m)| format!("{f}: {m}"))
            .collect()
    }

    /// The field error of a server answer (400/422 naming a field).
    pub fn from_api(error: &ApiError) -> Option<Self> {
        let field = error.field()?;
        let mut errors = Self::new();
        errors.add(field, error.detail()?.message.clone());
        Some(errors)
    }

    /// Every error of `other` that this one lacks.
    pub fn merged(mut self, other: &FieldErrors) -> Self {
        for (f, m) in &other.0 {
            self.add(f, m.clone());
        }
        self
    }
}

/// What the request form holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestDraft {
    /// The permission set id.
    pub permission_set: String,
    /// The approver's id (email).
    pub approver_id: String,
    /// Whether a custom time frame is set instead of a duration.
    pub custom: bool,
    /// The chosen "Access duration" preset, in seconds.
    pub duration_seconds: i64,
    /// The custom frame's start, as the `datetime-local` input holds it (local time).
    pub start: String,
    /// The custom frame's end, likewise.
    pub end: String,
    /// The message to the approver.
    pub message: String,
}

impl RequestDraft {
    /// The form's first state: the first set, the first approver who is not `me`,
    /// the first preset, and a custom frame of one hour from this minute.
    pub fn new(entry: &EntryView, me: &str, now: DateTime<Utc>, zone: &dyn Zone) -> Self {
        let start = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
        let end = start + TimeDelta::hours(1);
        Self {
            permission_set: entry
                .permission_sets
                .first()
                .map(|p| p.id.clone())
                .unwrap_or_default(),
            approver_id: entry
                .approvers
                .iter()
                .find(|a| !a.id.eq_ignore_ascii_case(me))
                .or(entry.approvers.first())
                .map(|a| a.id.clone())
                .unwrap_or_default(),
            custom: false,
            duration_seconds: entry
                .duration_presets_seconds
                .first()
                .copied()
                .unwrap_or(entry.max_duration_seconds),
            start: time::input_value(start, zone),
            end: time::input_value(end, zone),
            message: String::new(),
        }
    }

    /// The body to send, or the errors to show next to the fields. Times are read in
    /// `zone` and sent in UTC.
    pub fn to_body(
        &self,
        entry: &EntryView,
        me: &str,
        now: DateTime<Utc>,
        zone: &dyn Zone,
    ) -> Result<NewRequestBody, FieldErrors> {
        let mut errors = FieldErrors::new();
        let (duration_seconds, window) = if self.custom {
            let start = time::input_to_utc(&self.start, zone);
            let end = time::input_to_utc(&self.end, zone);
            if start.is_none() {
                errors.add("window.start", "enter the date and time access begins");
            }
            if end.is_none() {
                errors.add("window.end", "enter the date and time access ends");
            }
            match (start, end) {
                (Some(start), Some(end)) => (None, Some(Window { start, end })),
                _ => (None, None),
            }
        } else {
            (Some(self.duration_seconds), None)
        };
        let message = self.message.trim();
        let body = NewRequestBody {
            entry_id: entry.id.clone(),
            permission_set: self.permission_set.clone(),
            approver_id: self.approver_id.clone(),
            duration_seconds,
            window,
            message: (!message.is_empty()).then(|| message.to_owned()),
        };
        if duration_seconds.is_some() || window.is_some() {
            // The server's own checks, on the same types: the body, then the entry's
            // rules (every one it breaks, so each field shows its error at once).
            match body.clone().parse() {
                Err(e) => errors.add_error(&e, "duration_seconds"),
                Ok(cmd) => {
                    if let (Ok(rules), Ok(me)) = (entry.rules(), Email::parse(me)) {
                        for problem in policy::submit_problems(&rules, &me, &cmd, now) {
                            errors.add_error(&problem, "duration_seconds");
                        }
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use tempaccess_core::entry::{EntryKind, Right};
    use tempaccess_core::wire::{AccessStatus, MyAccessView, PermissionSetView, Person};

    use super::*;

    struct Utc0;

    impl Zone for Utc0 {
        fn offset_minutes(&self, _: DateTime<Utc>) -> i32 {
            0
        }
    }

    fn entry(message_required: bool) -> EntryView {
        let person = |n: &str| Person {
            id: format!("{n}@example.com"),
            name: n.into(),
            email: format!("{n}@example.com"),
        };
        EntryView {
            id: "prod-db".into(),
            name: "Production database".into(),
            kind: EntryKind::Credential,
            folder: "Databases".into(),
            approvers: vec![person("alice"), person("bob")],
            permission_sets: vec![PermissionSetView {
                id: "view-password-execute".into(),
                name: "View password/Execute rights".into(),
                rights: vec![Right::ViewPassword],
            }],
            duration_presets_seconds: vec![900, 3600],
            max_duration_seconds: 4 * 3600,
            message_required,
            rotates: true,
            my_access: MyAccessView {
                status: AccessStatus::None,
                request_id: None,
                until: None,
            },
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-15T09:07:30Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn starts_with_a_preset_and_another_approver() {
        let d = RequestDraft::new(&entry(false), "alice@example.com", now(), &Utc0);
        assert_eq!(d.approver_id, "bob@example.com");
        assert_eq!(d.duration_seconds, 900);
        assert_eq!(d.start, "2030-01-15T09:07");
        assert_eq!(d.end, "2030-01-15T10:07");
        let body = d
            .to_body(&entry(false), "alice@example.com", now(), &Utc0)
            .unwrap();
        assert_eq!(body.duration_seconds, Some(900));
        assert_eq!(body.message, None);
    }

    #[test]
    fn custom_frames_are_sent_in_utc_and_checked() {
        let e = entry(false);
        let mut d = RequestDraft::new(&e, "alice@example.com", now(), &Utc0);
        d.custom = true;
        d.end = "2030-01-15T15:00".into();
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert_eq!(
            errors.get("window.end"),
            Some("this entry allows at most 4 h")
        );
        // A whole frame already over (a frame that ends before it starts is refused
        // first for that, as the server does: see the test below).
        d.start = "2030-01-15T08:00".into();
        d.end = "2030-01-15T09:00".into();
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert_eq!(errors.get("window.end"), Some("must be in the future"));
        d.start = "2030-01-15T09:07".into();
        d.end = "".into();
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert!(errors.get("window.end").is_some());
        d.end = "2030-01-15T10:00".into();
        let body = d.to_body(&e, "alice@example.com", now(), &Utc0).unwrap();
        assert_eq!(body.duration_seconds, None);
        assert_eq!(
            time::rfc3339(body.window.unwrap().end),
            "2030-01-15T10:00:00Z"
        );
    }

    #[test]
    fn names_the_fields_the_server_would() {
        let e = entry(true);
        let mut d = RequestDraft::new(&e, "alice@example.com", now(), &Utc0);
        d.approver_id = "alice@example.com".into();
        d.message = "   ".into();
        d.permission_set = "edit".into();
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert_eq!(
            errors.fields().collect::<Vec<_>>(),
            ["approver_id", "message", "permission_set"]
        );
        d.message = "x".repeat(2001);
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert_eq!(
            errors.get("message"),
            Some("must be at most 2000 characters")
        );
    }

    #[test]
    fn frames_shorter_than_a_minute_are_refused() {
        let e = entry(false);
        let mut d = RequestDraft::new(&e, "alice@example.com", now(), &Utc0);
        d.custom = true;
        d.start = "2030-01-15T10:00".into();
        d.end = "2030-01-15T10:00".into();
        let errors = d
            .to_body(&e, "alice@example.com", now(), &Utc0)
            .unwrap_err();
        assert_eq!(errors.get("window.end"), Some("must be after start"));
    }
}
