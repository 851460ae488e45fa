//! The decide function: the approver decides signed in, from Approvals or from the
//! page a mailed link opens; the link alone shows the request (changing nothing) and
//! decides only where the deployment allows decisions by link.

use axum::Json;
use axum::extract::State;
use tempaccess_core::token::DecisionToken;
use tempaccess_core::wire::{
    DecisionBody, DecisionPage, ErrorBody, LookupBody, PermissionSetView, RequestView,
    TokenDecisionBody,
};

use crate::caller::Visitor;
use crate::extract::{JsonBody, PathId};
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
    PathId(id): PathId,
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

/// What the decision page shows for a link's token, to someone not signed in: the
/// request as the mail showed it, and whether deciding needs the approver to sign in.
/// Changes nothing (mail scanners open links); the token travels in the body, never
/// in a URL. The timeline records one look by "someone with the link, signed out".
#[utoipa::path(post, path = "/v1/decisions/lookup", tag = "decide",
    request_body = LookupBody,
    responses((status = 200, body = DecisionPage), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn lookup(
    State(app): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<LookupBody>,
) -> Result<Json<DecisionPage>, ApiError> {
    let token = DecisionToken::parse(&body.token)?;
    let view = app
        .service
        .lookup_decision(&token, visitor.0.as_ref())
        .await?;
    Ok(Json(page(&app, view).await?))
}

/// What a decision link shows to the signed-in approver it was mailed to; anyone
/// else signed in (the requester above all) is refused with 403. Changes nothing; the
/// timeline records that this person looked.
#[utoipa::path(post, path = "/v1/decisions/open", tag = "decide",
    security(("bearer" = [])),
    request_body = LookupBody,
    responses((status = 200, body = DecisionPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email))]
pub async fn open(
    State(app): State<AppState>,
    caller: SignedIn,
    JsonBody(body): JsonBody<LookupBody>,
) -> Result<Json<DecisionPage>, ApiError> {
    let token = DecisionToken::parse(&body.token)?;
    let view = app.service.lookup_decision(&token, Some(&caller.0)).await?;
    Ok(Json(page(&app, view).await?))
}

/// The decision page of `view`, its people named.
async fn page(
    app: &AppState,
    view: tempaccess_core::service::DecisionView,
) -> Result<DecisionPage, ApiError> {
    let request = views(app, std::slice::from_ref(&view.request), &[])
        .await?
        .remove(0);
    Ok(DecisionPage {
        request,
        decidable: view.decidable,
        permission_sets: view
            .entry
            .iter()
            .flat_map(|e| e.permission_sets.iter().map(PermissionSetView::from))
            .collect(),
        sign_in_required: view.sign_in_required,
    })
}

/// Decides with a link's token and nobody signed in, where the deployment takes
/// decisions by link alone (for approvers without an account); elsewhere 401: the
/// approver decides signed in. A used, expired or cancelled link answers 409 naming
/// the current state and who set it.
#[utoipa::path(post, path = "/v1/decisions", tag = "decide",
    request_body = TokenDecisionBody,
    responses((status = 200, body = RequestView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn decide_by_link(
    State(app): State<AppState>,
    visitor: Visitor,
    JsonBody(body): JsonBody<TokenDecisionBody>,
) -> Result<Json<RequestView>, ApiError> {
    let (token, decision, comment) = body.parse()?;
    let request = app
        .service
        .decide_by_token(&token, visitor.0.as_ref(), decision, comment)
        .await?;
    Ok(Json(changed_view(&app, &request).await))
}
