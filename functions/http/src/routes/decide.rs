//! The decide function: a signed-in approver decides, or the holder of a mailed link
//! looks the request up (changing nothing) and decides with the link's token.

use axum::Json;
use axum::extract::{Path, State};
use tempaccess_core::token::DecisionToken;
use tempaccess_core::wire::{
    DecisionBody, DecisionPage, ErrorBody, LookupBody, PermissionSetView, RequestView,
    TokenDecisionBody,
};

use crate::extract::JsonBody;
use crate::routes::{changed_view, request_id, views};
use crate::{ApiError, AppState, SignedIn};

/// The signed-in approver approves (as asked or narrower) or denies.
#[utoipa::path(post, path = "/v1/requests/{id}/decision", tag = "decide",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    request_body = DecisionBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email, request_id = %id))]
pub async fn decide(
    State(app): State<AppState>,
    caller: SignedIn,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<RequestView>, ApiError> {
    let id = request_id(&id)?;
    let (decision, comment) = body.parse()?;
    let request = app
        .service
        .decide(&caller.0, &id, decision, comment)
        .await?;
    Ok(Json(changed_view(&app, &request).await))
}

/// What the decision page shows for a link's token. Changes nothing (mail scanners
/// open links); the token travels in the body, never in a URL.
#[utoipa::path(post, path = "/v1/decisions/lookup", tag = "decide",
    request_body = LookupBody,
    responses((status = 200, body = DecisionPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn lookup(
    State(app): State<AppState>,
    JsonBody(body): JsonBody<LookupBody>,
) -> Result<Json<DecisionPage>, ApiError> {
    let token = DecisionToken::parse(&body.token)?;
    let view = app.service.lookup_decision(&token).await?;
    let request = views(&app, std::slice::from_ref(&view.request), &[])
        .await?
        .remove(0);
    Ok(Json(DecisionPage {
        request,
        decidable: view.decidable,
        permission_sets: view
            .entry
            .iter()
            .flat_map(|e| e.permission_sets.iter().map(PermissionSetView::from))
            .collect(),
    }))
}

/// Decides with a link's token: the token is the approver's authority. A used,
/// expired or cancelled link answers 409 naming the current state and who set it.
#[utoipa::path(post, path = "/v1/decisions", tag = "decide",
    request_body = TokenDecisionBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn decide_by_link(
    State(app): State<AppState>,
    JsonBody(body): JsonBody<TokenDecisionBody>,
) -> Result<Json<RequestView>, ApiError> {
    let (token, decision, comment) = body.parse()?;
    let request = app
        .service
        .decide_by_token(&token, decision, comment)
        .await?;
    Ok(Json(changed_view(&app, &request).await))
}
