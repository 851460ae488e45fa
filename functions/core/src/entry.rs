//! Entries, the people who use them, and the policy an entry sets for requests.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ids::{Email, EntryId, PermissionSetId};
use crate::timing::{AccessDuration, MIN_ACCESS_SECONDS};

/// A right a permission set gives on an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Right {
    /// See the entry.
    View,
    /// Reveal the entry's username and password.
    ViewPassword,
    /// Open the session or run the entry.
    Execute,
    /// Change the entry.
    Edit,
}

impl Right {
    /// Every right.
    pub const ALL: [Right; 4] = [Self::View, Self::ViewPassword, Self::Execute, Self::Edit];

    /// The snake_case name used on the wire and in entry files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::ViewPassword => "view_password",
            Self::Execute => "execute",
            Self::Edit => "edit",
        }
    }
}

/// A named set of rights an entry offers to requesters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet {
    /// Its id.
    pub id: PermissionSetId,
    /// What people read.
    pub name: String,
    /// The rights it gives.
    pub rights: Vec<Right>,
}

impl PermissionSet {
    /// The built-in "View password/Execute rights".
    pub fn view_password_execute() -> Self {
        Self {
            id: PermissionSetId::view_password_execute(),
            name: "View password/Execute rights".to_owned(),
            rights: vec![Right::View, Right::ViewPassword, Right::Execute],
        }
    }

    /// Whether this set gives `right`.
    pub fn allows(&self, right: Right) -> bool {
        self.rights.contains(&right)
    }

    /// Whether every right of `self` is also in `wider`.
    pub fn is_within(&self, wider: &PermissionSet) -> bool {
        self.rights.iter().all(|r| wider.rights.contains(r))
    }
}

/// What kind of thing an entry protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EntryKind {
    /// A stored username and password.
    Credential,
    /// A remote session (RDP, SSH).
    RemoteSession,
    /// Anything else that is protected.
    Other,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 3] = [Self::Credential, Self::RemoteSession, Self::Other];

    /// The kebab-case name used on the wire and in entry files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credential => "credential",
            Self::RemoteSession => "remote-session",
            Self::Other => "other",
        }
    }
}

/// A protected entry and the policy for requesting access to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id.
    pub id: EntryId,
    /// What people read.
    pub name: String,
    /// What it protects.
    pub kind: EntryKind,
    /// Where it is filed, e.g. `Databases/Production`.
    pub folder: String,
    /// Who may approve requests for it.
    pub approvers: Vec<Email>,
    /// The sets a requester may ask for.
    pub permission_sets: Vec<PermissionSet>,
    /// Durations the request form offers.
    pub duration_presets: Vec<AccessDuration>,
    /// The longest access a request may ask for.
    pub max_duration: AccessDuration,
    /// Whether a request must carry a message.
    pub message_required: bool,
    /// Where its credential is kept (a secret name or ARN), for credential entries.
    pub secret_ref: Option<String>,
    /// Whether its credential is rotated when a grant that could reveal it ends. One
    /// that is not keeps working for whoever saw it: the site and the approver's mail
    /// say so.
    #[serde(default)]
    pub rotates: bool,
}

impl Entry {
    /// The offered permission set with this id.
    pub fn permission_set(&self, id: &PermissionSetId) -> Option<&PermissionSet> {
        self.permission_sets.iter().find(|p| &p.id == id)
    }

    /// The name of the offered set `id`, or the id when the entry does not offer it.
    pub fn set_name(&self, id: &PermissionSetId) -> String {
        self.permission_set(id)
            .map_or_else(|| id.to_string(), |s| s.name.clone())
    }

    /// The secret to rotate at the end of a grant of `set` on this entry: its own,
    /// when it rotates and the set can reveal the password.
    pub fn rotation_for(&self, set: &PermissionSetId) -> Option<String> {
        let reveals = self
            .permission_set(set)
            .is_some_and(|s| s.allows(Right::ViewPassword));
        self.secret_ref.clone().filter(|_| self.rotates && reveals)
    }

    /// Whether a grant of `set` can reveal a password that is not rotated after it.
    pub fn reveals_unrotated(&self, set: &PermissionSetId) -> bool {
        self.secret_ref.is_some()
            && !self.rotates
            && self
                .permission_set(set)
                .is_some_and(|s| s.allows(Right::ViewPassword))
    }

    /// Whether `who` may approve requests for this entry.
    pub fn is_approver(&self, who: &Email) -> bool {
        self.approvers.contains(who)
    }

    /// Checks the entry's own consistency (used when importing entries).
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        if self.approvers.is_empty() {
            return Err(Error::invalid("approvers", "an entry needs an approver"));
        }
        if self.permission_sets.is_empty() {
            return Err(Error::invalid(
                "permission_sets",
                "an entry needs a permission set",
            ));
        }
        if self
            .duration_presets
            .iter()
            .any(|p| p.seconds() > self.max_duration.seconds())
        {
            return Err(Error::invalid(
                "duration_presets",
                "a preset is longer than the maximum duration",
            ));
        }
        Ok(())
    }
}

/// A person known to the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Their verified email: their identity.
    pub email: Email,
    /// Their display name.
    pub name: String,
    /// Their roles (`admin`), from the identity provider's groups.
    pub roles: Vec<String>,
}

/// The role that may see and revoke everything.
pub const ADMIN_ROLE: &str = "admin";

/// The signed-in person making a call, as the identity provider vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Their verified email.
    pub email: Email,
    /// Their display name.
    pub name: String,
    /// Their roles.
    pub roles: Vec<String>,
}

impl Caller {
    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }
}

/// "1 h 30 min" for people reading mail and reports.
pub fn describe_seconds(seconds: i64) -> String {
    let d = TimeDelta::seconds(seconds);
    let (days, hours, minutes, secs) = (
        d.num_days(),
        d.num_hours() % 24,
        d.num_minutes() % 60,
        d.num_seconds() % 60,
    );
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes} min"));
    }
    if secs > 0 || parts.is_empty() {
        parts.push(format!("{secs} s"));
    }
    parts.join(" ")
}

/// Durations a form offers by default: 15 min, 1 h, 4 h, 8 h (those within the maximum).
pub fn default_presets(max: AccessDuration) -> Vec<AccessDuration> {
    [15 * 60, 3600, 4 * 3600, 8 * 3600]
        .into_iter()
        .filter(|s| *s >= MIN_ACCESS_SECONDS && *s <= max.seconds())
        .filter_map(|s| AccessDuration::from_seconds(s, "duration_presets").ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_durations_for_people() {
        assert_eq!(describe_seconds(60), "1 min");
        assert_eq!(describe_seconds(5400), "1 h 30 min");
        assert_eq!(describe_seconds(90_061), "1 d 1 h 1 min 1 s");
        assert_eq!(describe_seconds(0), "0 s");
    }

    #[test]
    fn narrower_sets_are_within_wider_ones() {
        let wide = PermissionSet::view_password_execute();
        let narrow = PermissionSet {
            id: PermissionSetId::parse("execute").unwrap(),
            name: "Execute".into(),
            rights: vec![Right::Execute],
        };
        assert!(narrow.is_within(&wide));
        assert!(!wide.is_within(&narrow));
    }
}
