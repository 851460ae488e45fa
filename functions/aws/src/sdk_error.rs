//! SDK failures as a few words for logs and error messages.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// What went wrong in an SDK call, in a few words for a log line: the service's error
/// code and message, or the kind of local failure (timeout, network). The SDK error
/// itself stays in the source chain; its own `Display` says only "service error".
pub(crate) fn sdk_reason<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> String {
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => err.to_string(),
    }
}
