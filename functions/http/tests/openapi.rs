//! The OpenAPI document describes every route the routers serve and every wire type,
//! and the copy kept next to the code is the one the code generates.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use tempaccess_core::Timestamp;
use tempaccess_core::audit::AuditEvent;
use tempaccess_core::entry::{Entry, User};
use tempaccess_core::ids::{Email, EntryId, RequestId};
use tempaccess_core::ports::*;
use tempaccess_core::request::AccessRequest;
use tempaccess_core::service::{Ports, Service, Settings};
use tempaccess_core::system::{OsRandom, SystemClock};
use tempaccess_core::token::{TokenHash, TokenRecord};
use tempaccess_http::{AppState, Function, openapi};
use tower::ServiceExt;

/// The routes of DESIGN.md, by function.
const ROUTES: [(&str, &str, Function); 12] = [
    ("get", "/v1/entries", Function::Request),
    ("post", "/v1/requests", Function::Request),
    ("post", "/v1/requests/{id}/decision", Function::Decide),
    ("post", "/v1/decisions/lookup", Function::Decide),
    ("post", "/v1/decisions/open", Function::Decide),
    ("post", "/v1/decisions", Function::Decide),
    ("post", "/v1/requests/{id}/cancel", Function::Cancel),
    ("get", "/v1/me", Function::Report),
    ("get", "/v1/entries/{id}/secret", Function::Report),
    ("get", "/v1/requests", Function::Report),
    ("get", "/v1/requests/{id}", Function::Report),
    ("get", "/v1/access", Function::Report),
];

/// The wire types clients rely on.
const SCHEMAS: [&str; 20] = [
    "Me",
    "Person",
    "PermissionSetView",
    "MyAccessView",
    "EntryView",
    "EntryList",
    "Window",
    "RequestedView",
    "RequestView",
    "RequestList",
    "EventView",
    "RequestDetail",
    "NewRequestBody",
    "DecisionKind",
    "DecisionBody",
    "TokenDecisionBody",
    "LookupBody",
    "DecisionPage",
    "CancelBody",
    "ErrorBody",
];

fn documented(doc: &utoipa::openapi::OpenApi) -> BTreeSet<(String, String)> {
    let value = serde_json::to_value(doc).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in value["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

#[test]
fn every_route_and_wire_type_is_documented() {
    let doc = openapi::document();
    let routes = documented(&doc);
    let expected: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(
        routes, expected,
        "the document and DESIGN.md's routes differ"
    );
    let value = serde_json::to_value(&doc).unwrap();
    let schemas = value["components"]["schemas"].as_object().unwrap();
    for name in SCHEMAS {
        assert!(
            schemas.contains_key(name),
            "wire type {name} is missing from the document"
        );
    }
    assert_eq!(value["openapi"], "3.1.0");
}

/// Every `$ref` in `value`.
fn refs(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(target)) => {
                        out.insert(target.to_owned());
                    }
                    _ => refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_is_described() {
    let value = serde_json::to_value(openapi::document()).unwrap();
    let mut targets = BTreeSet::new();
    refs(&value, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} is not a schema"));
        assert!(
            value["components"]["schemas"].get(name).is_some(),
            "{target} is referenced but not described"
        );
    }
}

#[test]
fn each_function_documents_its_own_routes_only() {
    for function in Function::ALL {
        let routes = documented(&openapi::parts(function).split_for_parts().1);
        let expected: BTreeSet<_> = ROUTES
            .iter()
            .filter(|(_, _, f)| *f == function)
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(routes, expected, "{function:?}");
    }
}

/// The plain routes a Lambda function serves are exactly the described ones (and the
/// report function's document beside them).
#[test]
fn each_function_serves_from_its_table_exactly_what_it_documents() {
    for function in Function::ALL {
        let mut served: BTreeSet<_> = tempaccess_http::table::of(function)
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        if function == Function::Report {
            assert!(served.remove(&(
                "get".to_owned(),
                tempaccess_http::table::DOCUMENT_PATH.to_owned()
            )));
        }
        let documented = documented(&openapi::parts(function).split_for_parts().1);
        assert_eq!(served, documented, "{function:?}");
    }
}

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let request = Request::builder()
        .uri(tempaccess_http::table::DOCUMENT_PATH)
        .body(Body::empty())
        .unwrap();
    let response = tempaccess_http::router(Function::Report, state())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let served: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served, serde_json::to_value(openapi::document()).unwrap());
}

#[test]
fn the_kept_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let generated = serde_json::to_string_pretty(&openapi::document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let kept = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        kept == generated,
        "functions/http/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p tempaccess-http --test openapi`"
    );
}

/// Ports that must not be reached: the routing test stops at authentication or parsing.
struct Unreachable;

#[async_trait]
impl Rotator for Unreachable {
    async fn rotate(&self, _: &str) -> Result<(), RotateError> {
        unreachable!()
    }
}

#[async_trait]
impl Store for Unreachable {
    async fn put_entry(&self, _: &Entry) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn entry(&self, _: &EntryId) -> Result<Option<Entry>, StoreError> {
        unreachable!()
    }
    async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        unreachable!()
    }
    async fn put_user(&self, _: &User) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn user(&self, _: &Email) -> Result<Option<User>, StoreError> {
        unreachable!()
    }
    async fn create_request(&self, _: CreateRequest) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn apply(&self, _: Change) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn request(&self, _: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn events(&self, _: &RequestId) -> Result<Vec<AuditEvent>, StoreError> {
        unreachable!()
    }
    async fn append_event(&self, _: &AuditEvent) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn token(&self, _: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        unreachable!()
    }
    async fn put_token(&self, _: &TokenRecord) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn due_rotations(
        &self,
        _: Timestamp,
        _: u32,
    ) -> Result<Vec<PendingRotation>, StoreError> {
        unreachable!()
    }
    async fn rotation_done(&self, _: &str) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn rotation_failed(
        &self,
        _: &str,
        _: u32,
        _: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn query(&self, _: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn count(&self, _: &StoreQuery) -> Result<Total, StoreError> {
        unreachable!()
    }
    async fn open_requests_of(
        &self,
        _: &Email,
        _: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn grants_ending_after(&self, _: Timestamp) -> Result<Vec<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn overdue_grants(&self, _: Timestamp, _: u32) -> Result<Vec<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn stale_pending(&self, _: Timestamp, _: u32) -> Result<Vec<AccessRequest>, StoreError> {
        unreachable!()
    }
    async fn due_mail(&self, _: Timestamp, _: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        unreachable!()
    }
    async fn mail_delivered(&self, _: &str) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn mail_failed(&self, _: &str, _: u32, _: Option<Timestamp>) -> Result<(), StoreError> {
        unreachable!()
    }
}

#[async_trait]
impl Mailer for Unreachable {
    async fn send(&self, _: &Mail) -> Result<(), MailError> {
        unreachable!()
    }
}

#[async_trait]
impl Scheduler for Unreachable {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        unreachable!()
    }
    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        unreachable!()
    }
}

#[async_trait]
impl Secrets for Unreachable {
    async fn credential(&self, _: &str) -> Result<Credential, BoxError> {
        unreachable!()
    }
}

fn state() -> AppState {
    let none = Arc::new(Unreachable);
    AppState {
        service: Service::new(
            Ports {
                store: none.clone(),
                mailer: none.clone(),
                scheduler: none.clone(),
                secrets: none.clone(),
                rotator: none,
                clock: Arc::new(SystemClock),
                random: Arc::new(OsRandom),
            },
            Settings::new("http://site"),
        ),
    }
}

async fn status(
    router: axum::Router,
    method: &str,
    path: &str,
) -> (StatusCode, axum::http::HeaderMap) {
    let path = path.replace("{id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    let request = Request::builder()
        .method(Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap())
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from("{"))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    (response.status(), response.headers().clone())
}

/// Each function's router serves exactly its documented routes: signed-in routes
/// answer 401 without a token, public ones 400 for a malformed body; none 404/405.
#[tokio::test]
async fn each_function_serves_its_documented_routes() {
    for (method, path, function) in ROUTES {
        let (code, headers) =
            status(tempaccess_http::router(function, state()), method, path).await;
        assert!(
            code == StatusCode::UNAUTHORIZED || code == StatusCode::BAD_REQUEST,
            "{method} {path} on {function:?}: {code}"
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        // Dated by the service's clock, which the site counts down against.
        let date = headers["date"].to_str().unwrap();
        chrono::DateTime::parse_from_rfc2822(date).unwrap_or_else(|e| panic!("{date}: {e}"));
        let other = Function::ALL.into_iter().find(|f| *f != function).unwrap();
        let (code, _) = status(tempaccess_http::router(other, state()), method, path).await;
        assert!(
            code == StatusCode::NOT_FOUND || code == StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} also served by {other:?}"
        );
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let big = format!(
        "{{\"token\":\"{}\"}}",
        "x".repeat(tempaccess_http::BODY_LIMIT)
    );
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/decisions/lookup")
        .body(Body::from(big))
        .unwrap();
    let response = tempaccess_http::all_routes(state())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["error"]["code"], "payload_too_large");
}
