//! Errors as HTTP answers: `{"error":{"code","message","field"?,"current"?}}`.
//! Internals are logged with their source chain, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tempaccess_core::Error;
use tempaccess_core::wire::{ErrorBody, ErrorCode, ErrorDetail};

/// How long a client waits before trying again after a 503: the store's own retries
/// took under a second; a few seconds let a throttled table recover.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: Box<ErrorDetail>,
}

/// The HTTP status of each kind of error.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Misdirected => StatusCode::MISDIRECTED_REQUEST,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal | ErrorCode::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// An answer of this kind (its status follows from it) with this message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: status_of(code),
            detail: Box::new(ErrorDetail {
                code,
                message: message.into(),
                field: None,
                current: None,
                decided_by: None,
                request_id: None,
            }),
        }
    }

    /// 400 naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::InvalidInput, message);
        e.detail.field = Some(field.into());
        e
    }

    /// 401.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "sign in first: send Authorization: Bearer <token>",
        )
    }

    /// 404 for a path nothing serves.
    pub fn no_route() -> Self {
        Self::new(ErrorCode::NotFound, "no such route")
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
            Error::Invalid { .. } => Self::new(ErrorCode::InvalidInput, e.to_string()),
            Error::Rejected { .. } => Self::new(ErrorCode::Rejected, e.to_string()),
            Error::Unauthenticated => Self::unauthenticated(),
            Error::SignInRequired(m) => Self::new(ErrorCode::Unauthenticated, m.clone()),
            Error::TooMany(m) => Self::new(ErrorCode::TooManyRequests, m.clone()),
            Error::OpenRequest { existing } => {
                let mut c = Self::new(ErrorCode::Conflict, e.to_string());
                c.detail.current = Some(tempaccess_core::request::Status::Pending);
                c.detail.request_id = Some(existing.to_string());
                c
            }
            Error::Forbidden(m) => Self::new(ErrorCode::Forbidden, m.clone()),
            Error::NotFound { .. } => Self::new(ErrorCode::NotFound, e.to_string()),
            Error::Conflict {
                current,
                decided_by,
                message,
            } => {
                let mut c = Self::new(ErrorCode::Conflict, message.clone());
                c.detail.current = Some(*current);
                c.detail.decided_by = decided_by.as_ref().map(ToString::to_string);
                c
            }
            Error::Unavailable { .. } => {
                tracing::error!(error = %ErrorChain(&e), "request failed");
                Self::new(
                    ErrorCode::Unavailable,
                    "a service we depend on is unavailable; nothing was changed: try again in a few seconds",
                )
            }
        };
        api.detail.field = field;
        api
    }
}

/// Displays an error with its whole source chain.
pub use tempaccess_core::error::Chain as ErrorChain;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthenticated = self.status == StatusCode::UNAUTHORIZED;
        let unavailable = self.status == StatusCode::SERVICE_UNAVAILABLE;
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
        if unavailable {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempaccess_core::ids::Email;
    use tempaccess_core::request::Status;

    fn json(e: ApiError) -> String {
        serde_json::to_string(&ErrorBody { error: *e.detail }).unwrap()
    }

    /// The error bodies, byte for byte, as clients read them.
    #[test]
    fn error_bodies_keep_their_json() {
        let conflict = Error::Conflict {
            current: Status::Active,
            decided_by: Some(Email::parse("bob@example.com").unwrap()),
            message: "cannot deny: the request was already approved by bob@example.com".into(),
        };
        assert_eq!(
            json(conflict.into()),
            r#"{"error":{"code":"conflict","message":"cannot deny: the request was already approved by bob@example.com","current":"active","decided_by":"bob@example.com"}}"#
        );
        assert_eq!(
            json(Error::rejected("approver_id", "not an approver").into()),
            r#"{"error":{"code":"rejected","message":"approver_id: not an approver","field":"approver_id"}}"#
        );
        assert_eq!(
            json(ApiError::unauthenticated()),
            r#"{"error":{"code":"unauthenticated","message":"sign in first: send Authorization: Bearer <token>"}}"#
        );
    }
}
