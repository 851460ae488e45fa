//! The cancel function: the requester cancels a pending request or ends their own
//! access; the approver or an admin revokes a grant with a reason.

use axum::Json;
use axum::extract::State;
use tempaccess_core::wire::{CancelBody, ErrorBody, RequestView};

use crate::extract::{JsonBody, PathId};
use crate::routes::{changed_view, request_id};
use crate::{ApiError, AppState, SignedIn};

/// Cancels a pending request, or ends an approved grant early.
#[utoipa::path(post, path = "/v1/requests/{id}/cancel", tag = "cancel",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    request_body = CancelBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email, request_id = %id))]
pub async fn cancel(
    State(app): State<AppState>,
    caller: SignedIn,
    PathId(id): PathId,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<RequestView>, ApiError> {
    let id = request_id(&id)?;
    let reason = body.parse()?;
    let request = app.service.cancel(&caller.0, &id, reason).await?;
    Ok(Json(changed_view(&app, &request).await))
}
