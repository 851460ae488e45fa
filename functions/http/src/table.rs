//! Each function's routes as plain axum routes: what a Lambda function links, one
//! constructor per function so that it links its own handlers only.
//!
//! The OpenAPI description of the same routes ([`crate::openapi`]) is built from the
//! handlers' annotations; a test holds the two lists equal, so a route cannot be served
//! without being described.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};

use crate::routes::{cancel, decide, report, request};
use crate::{AppState, Function, harden};

/// One route: its method, its path as the HTTP API names it, and its handler.
pub struct Route {
    /// `get` or `post`.
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Route {
    fn get<H, T>(path: &'static str, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: "get",
            path,
            handler: get(handler),
        }
    }

    fn post<H, T>(path: &'static str, handler: H) -> Self
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: "post",
            path,
            handler: post(handler),
        }
    }
}

/// The path of the OpenAPI document, served by the report function, public.
pub const DOCUMENT_PATH: &str = "/v1/openapi.json";

/// The request function: entries and new requests.
pub fn request() -> Vec<Route> {
    vec![
        Route::get("/v1/entries", request::list_entries),
        Route::post("/v1/requests", request::submit),
    ]
}

/// The decide function: decisions, signed in or by link.
pub fn decide() -> Vec<Route> {
    vec![
        Route::post("/v1/requests/{id}/decision", decide::decide),
        Route::post("/v1/decisions/lookup", decide::lookup),
        Route::post("/v1/decisions/open", decide::open),
        Route::post("/v1/decisions", decide::decide_by_link),
    ]
}

/// The cancel function: cancel, end early, revoke.
pub fn cancel() -> Vec<Route> {
    vec![Route::post("/v1/requests/{id}/cancel", cancel::cancel)]
}

/// The report function: the caller, reports, a timeline, access now, credentials,
/// and the API's description.
pub fn report() -> Vec<Route> {
    vec![
        Route::get("/v1/me", report::me),
        Route::get("/v1/entries/{id}/secret", report::secret),
        Route::get("/v1/requests", report::list_requests),
        Route::get("/v1/requests/{id}", report::request_detail),
        Route::get("/v1/access", report::access_now),
        Route::get(DOCUMENT_PATH, kept_document),
    ]
}

/// The routes of `function`.
pub fn of(function: Function) -> Vec<Route> {
    match function {
        Function::Request => request(),
        Function::Decide => decide(),
        Function::Cancel => cancel(),
        Function::Report => report(),
    }
}

/// `routes` as a router on `state`, with the headers and limits of every response.
pub fn serve(routes: Vec<Route>, state: AppState) -> Router {
    let router = routes
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        // A path no route takes (an empty id) answers with the API's error body.
        .fallback(|| async { crate::ApiError::no_route() });
    let service = state.service.clone();
    harden(router.with_state(state), &service)
}

/// The OpenAPI document as kept next to the code (`functions/http/openapi.json`, which
/// a test holds equal to the one the annotations generate): served as it is, so that no
/// function links the generator.
pub(crate) async fn kept_document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
}
