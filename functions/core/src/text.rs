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
        if s.chars().any(overrides_direction) {
            return Err(Error::invalid(
                field,
                "must not contain characters that override the direction of text",
            ));
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

/// The embeddings, overrides and isolates of the Unicode bidirectional algorithm: they
/// make text display in another order than it reads (`invoice\u{202E}fdp.exe` shows as
/// "invoiceexe.pdf"), in a mail, a page or a spreadsheet alike. The marks (LRM, RLM)
/// that right-to-left writing needs are not among them.
fn overrides_direction(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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

    #[test]
    fn refuses_what_reorders_text_and_keeps_right_to_left_writing() {
        for hostile in ["invoice\u{202E}fdp.exe", "a\u{2066}b\u{2069}", "\u{202A}x"] {
            let err = Message::parse(hostile, "reason").unwrap_err();
            assert_eq!(err.field(), Some("reason"), "{hostile:?}");
        }
        assert!(Message::parse("שלום \u{200F}עולם", "message").is_ok());
    }
}
