//! The errors a use case can end with. Each maps to one HTTP status in `functions/http`.

use crate::ids::{Email, RequestId};
use crate::request::Status;

/// Why a use case did not happen. No request changed state when one is returned: what
/// fails after a state change (mail, the scheduler) is recorded and retried instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed (400), naming the field.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The input is well formed but policy refuses it (422), naming the field.
    #[error("{field}: {message}")]
    Rejected { field: String, message: String },
    /// No signed-in caller (401).
    #[error("sign in first")]
    Unauthenticated,
    /// The call needs a signed-in person, for the reason given (401).
    #[error("{0}")]
    SignInRequired(String),
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id (404).
    #[error("{what} not found")]
    NotFound {
        what: &'static str,
        field: Option<String>,
    },
    /// The requester already has a pending request for this entry (409).
    #[error(
        "you already have a pending request for this entry; cancel it or wait for the decision"
    )]
    OpenRequest {
        /// That request.
        existing: RequestId,
    },
    /// A limit that protects the service or a person's inbox (429).
    #[error("{0}")]
    TooMany(String),
    /// The request is no longer in the state the operation needs (409).
    #[error("{message}")]
    Conflict {
        current: Status,
        decided_by: Option<Email>,
        message: String,
    },
    /// A dependency (database, mail, scheduler, secrets) failed (500).
    #[error("{context}")]
    Unavailable {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Malformed input in `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Input in `field` that policy refuses.
    pub fn rejected(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Rejected {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// A dependency failure with what was being done.
    pub fn unavailable(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Unavailable {
            context: context.into(),
            source: source.into(),
        }
    }

    /// What went wrong, for people, without the field it names (see [`Self::field`]).
    pub fn message(&self) -> String {
        match self {
            Self::Invalid { message, .. } | Self::Rejected { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The field the error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } | Self::Rejected { field, .. } => Some(field),
            Self::NotFound { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Prefixes the field with the name of the object holding it (`window` + `end`).
    pub fn within(self, parent: &str) -> Self {
        match self {
            Self::Invalid { field, message } => Self::Invalid {
                field: format!("{parent}.{field}"),
                message,
            },
            Self::Rejected { field, message } => Self::Rejected {
                field: format!("{parent}.{field}"),
                message,
            },
            other => other,
        }
    }
}

/// Displays an error with its whole source chain, for logs (never for answers: a
/// chain may name internals).
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}
