//! The handlers, one module per Lambda function.

pub mod cancel;
pub mod decide;
pub mod report;
pub mod request;

use tempaccess_core::ids::RequestId;

use tempaccess_core::wire::ErrorCode;

use crate::error::ApiError;

/// A request id from the path; a malformed one is simply not found.
pub(crate) fn request_id(raw: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(raw).map_err(|_| ApiError::new(ErrorCode::NotFound, "request not found"))
}
