//! API Gateway HTTP API (payload v2) events with JWT claims, built from a recorded
//! fixture, and their run through a function's router as `lambda_http::run` does it.

use axum::body::Body;
use serde_json::{Value, json};
use tempaccess_core::service::Service;
use tempaccess_http::{AppState, Function, router};
use tower::ServiceExt;

const FIXTURE: &str = include_str!("../fixtures/apigw-v2-jwt.json");

/// Who calls: the claims API Gateway's JWT authorizer would pass.
#[derive(Clone, Copy)]
pub enum Who {
    /// The requester.
    Alice,
    /// An approver.
    Bob,
    /// An admin (the fixture's own claims).
    Carol,
    /// No authorizer context.
    Nobody,
}

/// The event `who` would send for `method path_and_query` with a JSON body.
pub fn event(who: Who, method: &str, path_and_query: &str, body: Option<Value>) -> String {
    let mut e: Value = serde_json::from_str(FIXTURE).expect("the fixture is JSON");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!(query);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    e["routeKey"] = json!(format!("{method} {path}"));
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    if let Some(body) = body {
        e["body"] = json!(body.to_string());
    }
    let claims = &mut e["requestContext"]["authorizer"]["jwt"]["claims"];
    match who {
        Who::Carol => {}
        Who::Alice | Who::Bob => {
            let (name, email) = match who {
                Who::Alice => ("Alice Requester", "alice@example.com"),
                _ => ("Bob Approver", "bob@example.com"),
            };
            claims["email"] = json!(email);
            claims["name"] = json!(name);
            claims["cognito:groups"] = json!("[]");
        }
        Who::Nobody => {
            e["requestContext"]
                .as_object_mut()
                .expect("context")
                .remove("authorizer");
        }
    }
    e.to_string()
}

/// Runs one event through a function's router as `lambda_http::run` would.
/// Runs one event through a function's router; the status and the JSON body.
pub async fn invoke(service: &Service, function: Function, event: String) -> (u16, Value) {
    let request = lambda_http::request::from_str(&event).expect("an API Gateway v2 event");
    let request = request.map(|b| Body::from(b.to_vec()));
    let app = router(
        function,
        AppState {
            service: service.clone(),
        },
    );
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
