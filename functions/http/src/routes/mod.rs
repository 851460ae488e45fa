//! The handlers, one module per Lambda function.

pub mod cancel;
pub mod decide;
pub mod report;
pub mod request;

use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::request::AccessRequest;
use tempaccess_core::wire::{ErrorCode, RequestView};

use crate::AppState;
use crate::error::ApiError;

/// A request id from the path; a malformed one is simply not found.
pub(crate) fn request_id(raw: &str) -> Result<RequestId, ApiError> {
    RequestId::parse(raw).map_err(|_| ApiError::new(ErrorCode::NotFound, "request not found"))
}

/// Views of `requests` read at the service's clock, with the display names of the
/// people they name and of `others` (a timeline's actors).
pub(crate) async fn views(
    app: &AppState,
    requests: &[AccessRequest],
    others: &[Email],
) -> Result<Vec<RequestView>, ApiError> {
    let people: Vec<Email> = requests
        .iter()
        .flat_map(RequestView::people)
        .chain(others.iter().cloned())
        .collect();
    let names = app.service.names(&people).await?;
    let now = app.service.now();
    Ok(requests
        .iter()
        .map(|r| {
            let named = RequestView::people(r)
                .into_iter()
                .chain(others.iter().cloned());
            RequestView::new(r, now).with_names(&named.collect::<Vec<_>>(), &names)
        })
        .collect())
}

/// The view of a request a call just changed. The change is made: a failure to read
/// the people's names leaves them out rather than failing the answer.
pub(crate) async fn changed_view(app: &AppState, request: &AccessRequest) -> RequestView {
    match views(app, std::slice::from_ref(request), &[]).await {
        Ok(mut views) if !views.is_empty() => views.remove(0),
        other => {
            if let Err(e) = other {
                tracing::warn!(request_id = %request.id, error = ?e, "could not read display names");
            }
            RequestView::new(request, app.service.now())
        }
    }
}
