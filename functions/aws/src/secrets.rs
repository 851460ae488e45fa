//! The Secrets port on Secrets Manager: an entry's credential is a secret whose text is
//! `{"username": "...", "password": "..."}`. Errors name the secret, never its value.

use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::Tag;
use tempaccess_core::ports::{BoxError, Credential, RotateError, Rotator, Secrets};

use crate::sdk_error::sdk_reason;

/// Reads credentials from Secrets Manager.
#[derive(Debug, Clone)]
pub struct SecretsManagerSecrets {
    client: Client,
}

impl SecretsManagerSecrets {
    /// Reads through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// Why a credential could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No secret by that name or ARN (or no current value).
    #[error("secret {secret_ref} not found")]
    NotFound {
        /// The secret's name or ARN.
        secret_ref: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// Secrets Manager failed or refused.
    #[error("reading secret {secret_ref} failed: {reason}")]
    Unavailable {
        /// The secret's name or ARN.
        secret_ref: String,
        /// The service's error code and message.
        reason: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// The secret is not `{"username": "...", "password": "..."}`.
    #[error("secret {secret_ref} is not a credential: {problem}")]
    Malformed {
        /// The secret's name or ARN.
        secret_ref: String,
        /// What is wrong, without quoting the value.
        problem: String,
    },
}

#[async_trait]
impl Secrets for SecretsManagerSecrets {
    #[tracing::instrument(skip_all, fields(secret_ref = %secret_ref))]
    async fn credential(&self, secret_ref: &str) -> Result<Credential, BoxError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(secret_ref)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception())
                {
                    SecretError::NotFound {
                        secret_ref: secret_ref.to_owned(),
                        source: Box::new(e),
                    }
                } else {
                    SecretError::Unavailable {
                        secret_ref: secret_ref.to_owned(),
                        reason: sdk_reason(&e),
                        source: Box::new(e),
                    }
                }
            })?;
        let text = output
            .secret_string()
            .ok_or_else(|| SecretError::Malformed {
                secret_ref: secret_ref.to_owned(),
                problem: "it holds no text (a binary secret?)".to_owned(),
            })?;
        parse_credential(text).map_err(|problem| {
            SecretError::Malformed {
                secret_ref: secret_ref.to_owned(),
                problem,
            }
            .into()
        })
    }
}

/// Starts a rotation of the secret (`RotateSecret`, immediately): the secret's owner
/// has set up how it rotates (a rotation function), as Secrets Manager intends; this
/// product only asks for it at a grant's end.
#[async_trait]
impl Rotator for SecretsManagerSecrets {
    #[tracing::instrument(skip_all, fields(secret_ref = %secret_ref))]
    async fn rotate(&self, secret_ref: &str) -> Result<(), RotateError> {
        self.client
            .rotate_secret()
            .secret_id(secret_ref)
            .rotate_immediately(true)
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                let reason = sdk_reason(&e);
                let permanent = e.as_service_error().is_some_and(|e| {
                    // No such secret, no rotation set up for it, not allowed: asking
                    // again will not help. A rotation still in progress (an
                    // InvalidRequestException too) may finish: retried until given up.
                    e.is_resource_not_found_exception()
                        || e.is_invalid_parameter_exception()
                        || (e.is_invalid_request_exception() && !reason.contains("in progress"))
                }) || e.raw_response().is_some_and(|r| r.status().as_u16() == 403);
                let error: BoxError =
                    format!("rotating secret {secret_ref} failed: {reason}").into();
                if permanent {
                    RotateError::Permanent(error)
                } else {
                    RotateError::Retryable(error)
                }
            })
    }
}

/// The credential in a secret's text, or what is wrong with it. serde's own messages
/// can quote the offending value, so the problem is described here instead.
fn parse_credential(text: &str) -> Result<Credential, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not JSON (error at line {} column {})",
            e.line(),
            e.column()
        )
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_owned())?;
    let field = |name: &str| {
        object
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("field `{name}` is missing or not a string"))
    };
    Ok(Credential {
        username: field("username")?,
        password: field("password")?,
    })
}

/// Stores `credential` under `name` (bootstrap `--demo`): creates the secret with
/// `tags`, or, when it exists, puts the new value and applies the tags. Returns its ARN.
pub async fn put_credential(
    client: &Client,
    name: &str,
    credential: &Credential,
    tags: &[(&str, &str)],
) -> anyhow::Result<String> {
    let text = serde_json::to_string(credential).context("encoding a credential")?;
    let tags: Vec<Tag> = tags
        .iter()
        .map(|(key, value)| Tag::builder().key(*key).value(*value).build())
        .collect();

    let created = client
        .create_secret()
        .name(name)
        .secret_string(&text)
        .set_tags(Some(tags.clone()).filter(|t| !t.is_empty()))
        .send()
        .await;
    let arn = match created {
        Ok(out) => out.arn().map(str::to_owned),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_exists_exception()) =>
        {
            let put = client
                .put_secret_value()
                .secret_id(name)
                .secret_string(&text)
                .send()
                .await;
            let put = match put {
                Ok(out) => out,
                Err(e) => {
                    let reason = sdk_reason(&e);
                    return Err(e).with_context(|| {
                        format!("putting a new value in secret {name}: {reason}")
                    });
                }
            };
            if !tags.is_empty()
                && let Err(e) = client
                    .tag_resource()
                    .secret_id(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
            {
                let reason = sdk_reason(&e);
                return Err(e).with_context(|| format!("tagging secret {name}: {reason}"));
            }
            put.arn().map(str::to_owned)
        }
        Err(e) => {
            let reason = sdk_reason(&e);
            return Err(e).with_context(|| format!("creating secret {name}: {reason}"));
        }
    };
    arn.with_context(|| format!("Secrets Manager returned no ARN for secret {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_credential_and_ignores_other_fields() {
        let c = parse_credential(r#"{"username":"svc","password":"p@ss","host":"db"}"#).unwrap();
        assert_eq!(c.username, "svc");
        assert_eq!(c.password, "p@ss");
    }

    #[test]
    fn problems_never_quote_the_value() {
        for text in [
            r#"hunter2"#,
            r#""hunter2""#,
            r#"{"username":"svc","password":hunter2}"#,
            r#"{"username":"svc","pass":"hunter2"}"#,
            r#"{"username":"svc","password":["hunter2"]}"#,
            r#"["svc","hunter2"]"#,
        ] {
            let problem = parse_credential(text).unwrap_err();
            assert!(!problem.contains("hunter2"), "{problem}");
        }
        assert_eq!(
            parse_credential(r#"{"username":"svc"}"#).unwrap_err(),
            "field `password` is missing or not a string"
        );
    }
}
