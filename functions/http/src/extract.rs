//! Extractors that answer bad input with a 400 naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tempaccess_core::wire::ErrorCode;

use crate::error::ApiError;

/// A JSON body. Malformed JSON, a wrong type, a missing or an unknown field each
/// give a 400 whose `field` is the path of the field at fault.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// The field a serde error is about. The path ends at the unknown field itself, but
/// stops at the parent of a missing one.
fn field_of(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    if let Some(rest) = message.split("missing field `").nth(1)
        && let Some(name) = rest.split('`').next()
    {
        return if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
    }
    if path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

/// Parses JSON, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid("body", format!("malformed JSON: {message}"));
        }
        let field = field_of(&path, &message);
        // Errors raised by our own newtypes already carry "field: message".
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError::invalid(field, message)
    })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let declared_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the body must be at most {} bytes", crate::BODY_LIMIT),
                )
            } else {
                ApiError::invalid("body", e.body_text())
            }
        })?;
        // An empty body is an empty object: `POST …/cancel` needs no reason.
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else if declared_json {
            &bytes
        } else {
            // A body a browser may send from any page without asking (a "simple"
            // request: text/plain, a form) is never read as a call of this API.
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON, with Content-Type: application/json",
            ));
        };
        parse_json(bytes).map(JsonBody)
    }
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/…+json`,
/// with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// A query string read into `T`. A wrong value or an unknown parameter gives a 400
/// naming the parameter.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(Self).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            let unknown = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next());
            match unknown {
                Some("") => ApiError::invalid("query", "a query parameter has no name"),
                Some(name) => ApiError::invalid(name, "unknown query parameter"),
                None => ApiError::invalid(path, message),
            }
        })
    }
}

/// The `{id}` of a path. One that cannot be read (a percent-escape that is not UTF-8)
/// names nothing: 404 with the API's error body, as an id never issued.
#[derive(Debug)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(id)| Self(id))
            .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such resource"))
    }
}

/// The optional `Idempotency-Key` header: 1 to 128 visible ASCII characters.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

/// The header's name.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_KEY) else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::invalid(
                    "Idempotency-Key",
                    "must be 1 to 128 visible ASCII characters",
                )
            })?;
        Ok(Self(Some(key.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempaccess_core::wire::{NewRequestBody, RequestsQuery};

    #[test]
    fn only_json_bodies_are_read() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    fn field(json: &str) -> String {
        let err = parse_json::<NewRequestBody>(json.as_bytes()).unwrap_err();
        let body = axum::response::IntoResponse::into_response(err);
        assert_eq!(body.status(), StatusCode::BAD_REQUEST);
        let bytes = futures_bytes(body);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["error"]["field"].as_str().unwrap().to_owned()
    }

    fn futures_bytes(r: axum::response::Response) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            axum::body::to_bytes(r.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec()
        })
    }

    fn query_error(uri: &str) -> (String, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (mut parts, ()) = axum::http::Request::builder()
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts();
        let err = rt
            .block_on(QueryParams::<RequestsQuery>::from_request_parts(
                &mut parts,
                &(),
            ))
            .unwrap_err();
        let body = axum::response::IntoResponse::into_response(err);
        assert_eq!(body.status(), StatusCode::BAD_REQUEST);
        let v: serde_json::Value = serde_json::from_slice(&futures_bytes(body)).unwrap();
        (
            v["error"]["field"].as_str().unwrap().to_owned(),
            v["error"]["message"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn names_the_query_parameter_at_fault() {
        assert_eq!(
            query_error("/v1/requests?scope=mine&sort=status"),
            ("sort".to_owned(), "unknown query parameter".to_owned())
        );
        assert_eq!(
            query_error("/v1/requests?limit=ten"),
            ("limit".to_owned(), "must be a number".to_owned())
        );
        assert_eq!(
            query_error("/v1/requests?=1"),
            (
                "query".to_owned(),
                "a query parameter has no name".to_owned()
            )
        );
        assert_eq!(
            query_error("/v1/requests?status=late").0,
            "status".to_owned()
        );
        assert_eq!(
            query_error("/v1/requests?from=2030-01-01&to=").0,
            "from".to_owned()
        );
    }

    #[test]
    fn names_the_field_at_fault() {
        assert_eq!(field("{not json"), "body");
        assert_eq!(
            field(r#"{"entry_id":"a","permission_set":"b","approver_id":"c@d.ef","nope":1}"#),
            "nope"
        );
        assert_eq!(
            field(r#"{"permission_set":"b","approver_id":"c@d.ef"}"#),
            "entry_id"
        );
        assert_eq!(
            field(r#"{"entry_id":1,"permission_set":"b","approver_id":"c@d.ef"}"#),
            "entry_id"
        );
        assert_eq!(
            field(
                r#"{"entry_id":"a","permission_set":"b","approver_id":"c@d.ef","window":{"start":"x","end":"y"}}"#
            ),
            "window.start"
        );
    }
}
