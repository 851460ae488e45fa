//! Errors as HTTP answers: `{"error":{"code","message","field"?,"current"?}}`.
//! Internals are logged with their source chain, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tempaccess_core::Error;
use tempaccess_core::wire::{ErrorBody, ErrorDetail};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: Box<ErrorDetail>,
}

impl ApiError {
    /// An answer with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: Box::new(ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                field: None,
                current: None,
                decided_by: None,
            }),
        }
    }

    /// 400 naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid_input", message);
        e.detail.field = Some(field.into());
        e
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first: send Authorization: Bearer <token>",
        )
    }

    /// 404 for a path nothing serves.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let field = e.field().map(str::to_owned);
        let mut api = match &e {
            Error::Invalid { .. } => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_input", e.to_string())
            }
            Error::Rejected { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", e.to_string())
            }
            Error::Unauthenticated => Self::unauthenticated(),
            Error::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m.clone()),
            Error::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            Error::Conflict {
                current,
                decided_by,
                message,
            } => {
                let mut c = Self::new(StatusCode::CONFLICT, "conflict", message.clone());
                c.detail.current = Some(current.as_str().to_owned());
                c.detail.decided_by = decided_by.as_ref().map(ToString::to_string);
                c
            }
            Error::Unavailable { .. } => {
                tracing::error!(error = %ErrorChain(&e), "request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; try again",
                )
            }
        };
        api.detail.field = field;
        api
    }
}

/// Displays an error with its whole source chain.
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: *self.detail,
            }),
        )
            .into_response();
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
