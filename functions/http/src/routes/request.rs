//! The request function: the entries a caller may request, and new requests.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tempaccess_core::wire::{EntryList, EntryView, ErrorBody, NewRequestBody, RequestView};

use crate::extract::{IdempotencyKey, JsonBody};
use crate::routes::changed_view;
use crate::{ApiError, AppState, SignedIn};

/// Entries the caller may request, with approvers, permission sets, presets and the
/// caller's access now.
#[utoipa::path(get, path = "/v1/entries", tag = "request",
    security(("bearer" = [])),
    responses((status = 200, body = EntryList), (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email))]
pub async fn list_entries(
    State(app): State<AppState>,
    caller: SignedIn,
) -> Result<Json<EntryList>, ApiError> {
    let entries = app.service.entries_for(&caller.0).await?;
    let people: Vec<_> = entries
        .iter()
        .flat_map(|(e, _)| e.approvers.clone())
        .collect();
    let names = app.service.names(&people).await?;
    Ok(Json(EntryList {
        items: entries
            .iter()
            .map(|(e, access)| EntryView::new(e, &names, access))
            .collect(),
    }))
}

/// Sends a request for temporary access; the approver is mailed a decision link.
/// A repeat with the same `Idempotency-Key` returns the first request.
#[utoipa::path(post, path = "/v1/requests", tag = "request",
    security(("bearer" = [])),
    request_body = NewRequestBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe submit")),
    responses((status = 201, body = RequestView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email))]
pub async fn submit(
    State(app): State<AppState>,
    caller: SignedIn,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody<NewRequestBody>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    let cmd = body.parse()?;
    let request = app.service.submit(&caller.0, cmd, key).await?;
    Ok((
        StatusCode::CREATED,
        Json(changed_view(&app, &request).await),
    ))
}
