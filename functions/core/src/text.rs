//! Free text a person writes: bounded, trimmed, with no control characters but newlines.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest message, comment or reason, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A message to an approver, a decision comment or a revoke reason.
/// Empty is allowed; whether it may be empty is policy, not syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Message(String);

impl Message {
    /// Parses text for `field`: at most [`MAX_TEXT_CHARS`] characters, trimmed.
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Error::invalid(field, "must not contain control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for Message {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s, "message")
    }
}

impl From<Message> for String {
    fn from(m: Message) -> Self {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_length_and_control_characters() {
        assert_eq!(
            Message::parse("  hi\n there ", "message").unwrap().as_str(),
            "hi\n there"
        );
        assert!(Message::parse(&"x".repeat(MAX_TEXT_CHARS), "message").is_ok());
        let err = Message::parse(&"x".repeat(MAX_TEXT_CHARS + 1), "comment").unwrap_err();
        assert_eq!(err.field(), Some("comment"));
        assert!(Message::parse("bell\u{7}", "message").is_err());
    }
}
