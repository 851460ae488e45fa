//! The report function: the caller, reports (JSON or CSV), one request's timeline,
//! access now, and an entry's credential during a grant.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tempaccess_core::audit::Actor;
use tempaccess_core::ids::{Email, EntryId};
use tempaccess_core::ports::Total;
use tempaccess_core::report;
use tempaccess_core::wire::{
    AccessQuery, ErrorBody, ErrorCode, EventView, Me, RequestDetail, RequestList, RequestsQuery,
    SecretView,
};

use crate::extract::{PathId, QueryParams};
use crate::routes::{request_id, views};
use crate::{ApiError, AppState, SignedIn};

/// The signed-in caller.
#[utoipa::path(get, path = "/v1/me", tag = "report",
    security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(caller: SignedIn) -> Json<Me> {
    let c = caller.0;
    Json(Me {
        id: c.email.to_string(),
        email: c.email.to_string(),
        name: c.name,
        roles: c.roles,
    })
}

/// An entry's credential, only during an active grant with the view-password right.
/// Every reveal is recorded.
#[utoipa::path(get, path = "/v1/entries/{id}/secret", tag = "report",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Entry id")),
    responses((status = 200, body = SecretView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email, entry_id = %id))]
pub async fn secret(
    State(app): State<AppState>,
    caller: SignedIn,
    PathId(id): PathId,
) -> Result<Json<SecretView>, ApiError> {
    let entry =
        EntryId::parse(&id).map_err(|_| ApiError::new(ErrorCode::NotFound, "entry not found"))?;
    let credential = app.service.reveal_secret(&caller.0, &entry).await?;
    Ok(Json(SecretView {
        username: credential.username,
        password: credential.password,
    }))
}

/// The Temporary Access Requests Report: `scope=mine|approvals|all` (all: admins),
/// filters, pages. `Accept: text/csv` gives CSV.
///
/// Sorting: the server sorts by when requests were sent, `order=newest` (default) or
/// `order=oldest`, on every page: that is the order of the store's indexes (on
/// DynamoDB each page is one Query on an index whose sort key begins with the
/// creation time, never reading everything and sorting). Other columns are sorted
/// by clients within a page.
///
/// Pages: follow `next_cursor` until it is absent. On DynamoDB a page reads at most
/// 1,000 requests (or 1 MB) once, so when the filters match few of them a page may
/// hold fewer than `limit` items, or none, and still have a `next_cursor`. `offset`
/// says how many requests the pages before listed.
///
/// Total: `count=true` adds `total`, the number of requests the filters select over
/// every page, and `total_exact`. It is counted when asked, not kept with the writes
/// (a count per combination of filters cannot be): SQLite counts with the same
/// `WHERE`, exactly; DynamoDB runs the page's Query again with `Select=COUNT` and an
/// exact filter, which returns no items but reads (and bills) every index entry in the
/// selected key range, about one read unit per 4 KB, and stops after 25 Queries
/// (25,000 requests) with `total_exact: false`: at least `total`. Ask for it once per
/// filter change, not on every page or refresh.
#[utoipa::path(get, path = "/v1/requests", tag = "report",
    security(("bearer" = [])),
    params(RequestsQuery),
    responses((status = 200, body = RequestList, content_type = "application/json"),
        (status = 200, body = String, content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email))]
pub async fn list_requests(
    State(app): State<AppState>,
    caller: SignedIn,
    headers: HeaderMap,
    QueryParams(query): QueryParams<RequestsQuery>,
) -> Result<Response, ApiError> {
    let params = query.parse()?;
    let page = app.service.requests(&caller.0, params).await?;
    let now = app.service.now();
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let entries = app.service.entry_list().await?;
        let mut response = report::csv(&page.items, now, &entries).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"temporary-access-requests.csv\""),
        );
        if let Some(next) = page
            .next_cursor
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            headers.insert("x-next-cursor", next);
        }
        return Ok(response);
    }
    Ok(Json(RequestList {
        items: views(&app, &page.items, &[]).await?,
        next_cursor: page.next_cursor,
        offset: page.offset,
        total: page.total.map(Total::counted),
        total_exact: page.total.map(|t| matches!(t, Total::Exact(_))),
    })
    .into_response())
}

/// One request and its timeline (requester, approver or admin).
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "report",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = RequestDetail), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email, request_id = %id))]
pub async fn request_detail(
    State(app): State<AppState>,
    caller: SignedIn,
    PathId(id): PathId,
) -> Result<Json<RequestDetail>, ApiError> {
    let id = request_id(&id)?;
    let (request, events) = app.service.request_detail(&caller.0, &id).await?;
    let actors: Vec<Email> = events
        .iter()
        .filter_map(|e| match &e.actor {
            Actor::User(who) | Actor::LinkHolder(who) => Some(who.clone()),
            Actor::System => None,
        })
        .collect();
    let request = views(&app, std::slice::from_ref(&request), &actors)
        .await?
        .remove(0);
    Ok(Json(RequestDetail {
        request,
        events: events.iter().map(EventView::from).collect(),
    }))
}

/// Grants active now (by end), and with `upcoming=true` also those approved to start
/// later: all of them for admins, the caller's own otherwise.
#[utoipa::path(get, path = "/v1/access", tag = "report",
    security(("bearer" = [])),
    params(AccessQuery),
    responses((status = 200, body = RequestList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(caller = %caller.0.email))]
pub async fn access_now(
    State(app): State<AppState>,
    caller: SignedIn,
    QueryParams(query): QueryParams<AccessQuery>,
) -> Result<Json<RequestList>, ApiError> {
    let grants = app
        .service
        .grants(&caller.0, query.upcoming.unwrap_or(false))
        .await?;
    Ok(Json(RequestList {
        items: views(&app, &grants, &[]).await?,
        next_cursor: None,
        offset: 0,
        total: None,
        total_exact: None,
    }))
}
