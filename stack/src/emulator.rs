//! Calls to the AWS emulator (moto server) in the services' own wire protocols.
//!
//! For the resource types the stack creates, CloudFormation's properties are the
//! service API's request members (Cognito, DynamoDB, SQS, Secrets Manager, SES v2,
//! EventBridge Scheduler), so the stack sends the template's resolved properties as
//! the request body instead of restating them field by field in SDK builders: a
//! property added to the template reaches the emulator without a change here.
//!
//! The emulator routes a request by the service named in its `Authorization` header's
//! credential scope and does not check signatures; the stack only ever talks to it.

use anyhow::{Context as _, Result};
use reqwest::Method;
use serde_json::Value;

/// An error the emulator answered with, as the service would.
#[derive(Debug)]
pub struct ServiceError {
    /// The service and operation.
    pub call: String,
    /// The HTTP status.
    pub status: u16,
    /// The error code (`ResourceNotFoundException`).
    pub code: String,
    /// Its message.
    pub message: String,
}

impl std::error::Error for ServiceError {}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed ({}): {}: {}",
            self.call, self.status, self.code, self.message
        )
    }
}

impl ServiceError {
    /// Whether `err` is a service error with this code.
    pub fn is(err: &anyhow::Error, code: &str) -> bool {
        err.downcast_ref::<ServiceError>()
            .is_some_and(|e| e.code == code || e.code.ends_with(&format!("#{code}")))
    }
}

/// The emulator at one URL, in one region.
#[derive(Debug, Clone)]
pub struct Emulator {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The region every call is made in.
    pub region: String,
    http: reqwest::Client,
}

/// The JSON protocol of a service: its target prefix and content type.
fn json_protocol(service: &str) -> (&'static str, &'static str) {
    match service {
        "dynamodb" => ("DynamoDB_20120810", "application/x-amz-json-1.0"),
        "sqs" => ("AmazonSQS", "application/x-amz-json-1.0"),
        "cognito-idp" => (
            "AWSCognitoIdentityProviderService",
            "application/x-amz-json-1.1",
        ),
        "secretsmanager" => ("secretsmanager", "application/x-amz-json-1.1"),
        other => panic!("no JSON protocol known for {other}"),
    }
}

impl Emulator {
    /// The emulator at `url`.
    pub fn new(url: &str, region: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    fn authorization(&self, signing_name: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=testing/20260101/{}/{signing_name}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=0",
            self.region
        )
    }

    /// A call in the JSON protocol (`X-Amz-Target: <prefix>.<operation>`).
    pub async fn json(&self, service: &str, operation: &str, body: &Value) -> Result<Value> {
        let (prefix, content_type) = json_protocol(service);
        let response = self
            .http
            .post(format!("{}/", self.url))
            .header("x-amz-target", format!("{prefix}.{operation}"))
            .header("content-type", content_type)
            .header("x-amz-date", "20260101T000000Z")
            .header("authorization", self.authorization(service))
            .body(body.to_string())
            .send()
            .await
            .with_context(|| {
                format!(
                    "reaching the emulator at {} for {service} {operation}",
                    self.url
                )
            })?;
        read(format!("{service} {operation}"), response).await
    }

    /// A call in the REST-JSON protocol.
    pub async fn rest(
        &self,
        signing_name: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .header("x-amz-date", "20260101T000000Z")
            .header("authorization", self.authorization(signing_name));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.with_context(|| {
            format!("reaching the emulator at {} for {method} {path}", self.url)
        })?;
        read(format!("{signing_name} {method} {path}"), response).await
    }

    /// A plain GET on the emulator with a `Host` header (for the endpoints it routes
    /// by host, such as a user pool's JWKS).
    pub async fn get_as_host(&self, host: &str, path: &str) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .header("host", host)
            .send()
            .await
            .with_context(|| format!("reaching the emulator for {host}{path}"))?;
        read(format!("GET {host}{path}"), response).await
    }
}

async fn read(call: String, response: reqwest::Response) -> Result<Value> {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body: Value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    if status >= 400 {
        let code = body
            .get("__type")
            .or_else(|| body.get("code"))
            .or_else(|| body.get("Code"))
            .and_then(Value::as_str)
            .unwrap_or("UnknownError")
            .to_owned();
        let message = body
            .get("message")
            .or_else(|| body.get("Message"))
            .and_then(Value::as_str)
            .map_or_else(|| text.clone(), str::to_owned);
        return Err(ServiceError {
            call,
            status,
            code,
            message,
        }
        .into());
    }
    Ok(body)
}
