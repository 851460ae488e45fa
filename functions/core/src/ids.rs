//! Identifiers: each can only hold a valid value.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::error::Error;

/// The id of the built-in permission set.
pub const VIEW_PASSWORD_EXECUTE: &str = "view-password-execute";

/// A ULID for `at` from 80 random bits: unique, and sorted by time.
fn ulid_at(at: Timestamp, random: u128) -> ulid::Ulid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    ulid::Ulid::from_parts(millis, random)
}

/// The id of an event or an outbox mail made at `at` from 80 random bits: a ULID as
/// text, so a request's events sort by time.
pub fn ulid(at: Timestamp, random: u128) -> String {
    ulid_at(at, random).to_string()
}

/// A request (and its grant) id: a ULID, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(ulid::Ulid);

impl RequestId {
    /// Builds the id of a request created at `at` from 80 random bits.
    pub fn new(at: Timestamp, random: u128) -> Self {
        Self(ulid_at(at, random))
    }

    /// Parses the canonical 26-character form.
    pub fn parse(s: &str) -> Result<Self, Error> {
        ulid::Ulid::from_string(s)
            .map(Self)
            .map_err(|_| Error::invalid("id", "not a request id"))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<String> for RequestId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

impl From<RequestId> for String {
    fn from(id: RequestId) -> Self {
        id.to_string()
    }
}

/// Defines a slug newtype: lowercase ASCII letters, digits and `-`, 1 to 64 characters.
macro_rules! slug {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a slug, naming the field on error.
            pub fn parse(s: &str) -> Result<Self, Error> {
                let valid = !s.is_empty()
                    && s.len() <= 64
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if valid {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Error::invalid(
                        $field,
                        "must be 1 to 64 lowercase letters, digits or '-'",
                    ))
                }
            }

            /// The slug as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

slug!(
    /// The id of a protected entry, e.g. `prod-db`.
    EntryId,
    "entry_id"
);
slug!(
    /// The id of a permission set an entry offers, e.g. `view-password-execute`.
    PermissionSetId,
    "permission_set"
);

impl PermissionSetId {
    /// The built-in set "View password/Execute rights".
    pub fn view_password_execute() -> Self {
        Self(VIEW_PASSWORD_EXECUTE.to_owned())
    }
}

/// A user, identified by their verified email address, lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an address (lowercasing it), naming `field` on error.
    pub fn parse_field(s: &str, field: &str) -> Result<Self, Error> {
        let s = s.trim().to_ascii_lowercase();
        let valid = s.len() <= 254
            && !s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if valid {
            Ok(Self(s))
        } else {
            Err(Error::invalid(field, "not an email address"))
        }
    }

    /// Parses an address for the field `email`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::parse_field(s, "email")
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Bob@Example.COM ").unwrap().as_str(),
            "bob@example.com"
        );
        for bad in [
            "",
            "bob",
            "@example.com",
            "bob@",
            "bob@example",
            "a b@example.com",
            "b@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn slugs_reject_everything_but_lowercase_digits_and_dashes() {
        assert!(EntryId::parse("prod-db-2").is_ok());
        for bad in ["", "Prod", "a_b", "a b", "é", &"a".repeat(65)] {
            let err = EntryId::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("entry_id"), "{bad:?}");
        }
    }

    #[test]
    fn request_ids_round_trip_and_sort_by_time() {
        let t1 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let t2 = t1 + chrono::Duration::milliseconds(1);
        let a = RequestId::new(t1, u128::MAX);
        let b = RequestId::new(t2, 0);
        assert!(a < b);
        assert_eq!(RequestId::parse(&a.to_string()).unwrap(), a);
        assert!(RequestId::parse("nope").is_err());
    }
}
