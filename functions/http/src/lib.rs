//! The HTTP face of tempaccess: one axum [`Router`] per function (request, decide,
//! cancel, report), served by `lambda_http` in AWS and by `axum::serve` in the
//! embedded default — the same handlers either way.

pub mod caller;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod table;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tempaccess_core::service::Service;

pub use caller::SignedIn;
pub use error::ApiError;

/// The largest request body accepted (413 beyond).
pub const BODY_LIMIT: usize = 64 * 1024;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub service: Service,
}

/// The Lambda functions that serve HTTP routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// Entries and new requests.
    Request,
    /// Decisions, signed in or by link.
    Decide,
    /// Cancel and revoke.
    Cancel,
    /// Reports, the caller, credentials.
    Report,
}

impl Function {
    /// Every HTTP function.
    pub const ALL: [Function; 4] = [Self::Request, Self::Decide, Self::Cancel, Self::Report];
}

/// The router of one function, with the headers and limits every response carries.
/// (A Lambda function builds its own with [`table::serve`] and its constructor in
/// [`table`], so that it links its own handlers only.)
pub fn router(function: Function, state: AppState) -> Router {
    table::serve(table::of(function), state)
}

/// Every function's routes in one router (the embedded default).
pub fn all_routes(state: AppState) -> Router {
    let (router, _) = openapi::all_parts().split_for_parts();
    let service = state.service.clone();
    harden(router.with_state(state), &service)
}

/// Body limit and the headers of every API response: never cached (tokens, secrets),
/// never referred, never sniffed, and dated by the service's clock (the one statuses
/// are read against), so that the site counts down against it.
pub fn harden(router: Router, service: &Service) -> Router {
    let service = service.clone();
    router
        .layer(middleware::from_fn(move |request, next| {
            security_headers(service.clone(), request, next)
        }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn security_headers(
    service: Service,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let date = service
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(date) = HeaderValue::from_str(&date) {
        headers.insert(header::DATE, date);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
