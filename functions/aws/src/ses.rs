//! The Mailer on SES v2: one SendEmail per message, text and HTML parts.

use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::SdkError;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use tempaccess_core::ports::{Mail, MailError, Mailer};

use crate::sdk_error::sdk_reason;

/// Sends mail through SES v2 from one verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// A mailer sending as `from`, recording delivery events in `configuration_set` when given.
    pub fn new(client: Client, from: String, configuration_set: Option<String>) -> Self {
        Self {
            client,
            from,
            configuration_set,
        }
    }
}

/// A SendEmail call that failed: the recipient and the SDK error as the source.
#[derive(Debug, thiserror::Error)]
#[error("SES SendEmail to {to} failed: {reason}")]
pub struct SendFailed {
    to: String,
    reason: String,
    #[source]
    source: SdkError<SendEmailError, HttpResponse>,
}

#[async_trait]
impl Mailer for SesMailer {
    #[tracing::instrument(skip_all, fields(to = %mail.to))]
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&mail.text)?)
                    .html(utf8(&mail.html)?)
                    .build(),
            )
            .build();
        let result = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(sent) => {
                tracing::debug!(message_id = sent.message_id(), "mail sent");
                Ok(())
            }
            Err(source) => {
                let retryable = is_retryable(&source);
                let failed = Box::new(SendFailed {
                    to: mail.to.to_string(),
                    reason: sdk_reason(&source),
                    source,
                });
                Err(if retryable {
                    MailError::Retryable(failed)
                } else {
                    MailError::Permanent(failed)
                })
            }
        }
    }
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Permanent(Box::new(e)))
}

/// Whether trying the same message again later may succeed: throttling, quotas that
/// refill, the service's own failures, timeouts and network failures. A rejected
/// message, an unverified or suspended sender, or a malformed request will fail again.
fn is_retryable(err: &SdkError<SendEmailError, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => match service.err() {
            SendEmailError::TooManyRequestsException(_)
            | SendEmailError::LimitExceededException(_) => true,
            SendEmailError::MessageRejected(_)
            | SendEmailError::MailFromDomainNotVerifiedException(_)
            | SendEmailError::AccountSuspendedException(_)
            | SendEmailError::SendingPausedException(_)
            | SendEmailError::BadRequestException(_)
            | SendEmailError::NotFoundException(_) => false,
            other => {
                let status = service.raw().status().as_u16();
                status >= 500 || status == 429 || other.meta().code().is_some_and(is_transient_code)
            }
        },
        // The request could not even be built: the same input fails the same way.
        _ => false,
    }
}

/// Error codes AWS uses for transient failures that this SDK version does not model.
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottled"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalServerError"
    )
}

/// Makes `email` a sender identity (bootstrap). Already existing is fine. In AWS the
/// address must then be verified from the mail SES sends to it, unless the domain is.
pub async fn ensure_identity(client: &Client, email: &str) -> anyhow::Result<()> {
    match client
        .create_email_identity()
        .email_identity(email)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => {
            let reason = sdk_reason(&e);
            Err(e).with_context(|| format!("creating the SES identity {email}: {reason}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sesv2::error::ErrorMetadata;
    use aws_sdk_sesv2::types::error::{MessageRejected, TooManyRequestsException};

    fn service(status: u16, err: SendEmailError) -> SdkError<SendEmailError, HttpResponse> {
        let raw = HttpResponse::new(status.try_into().unwrap(), "".into());
        SdkError::service_error(err, raw)
    }

    fn unmodelled(status: u16, code: &str) -> SdkError<SendEmailError, HttpResponse> {
        service(
            status,
            SendEmailError::generic(ErrorMetadata::builder().code(code).build()),
        )
    }

    #[test]
    fn throttling_and_server_failures_are_retryable() {
        let throttled = TooManyRequestsException::builder().build();
        assert!(is_retryable(&service(
            429,
            SendEmailError::TooManyRequestsException(throttled)
        )));
        assert!(is_retryable(&unmodelled(400, "Throttling")));
        assert!(is_retryable(&unmodelled(500, "InternalFailure")));
        assert!(is_retryable(&unmodelled(503, "Whatever")));
        assert!(is_retryable(&SdkError::timeout_error("slow")));
    }

    #[test]
    fn rejections_are_permanent() {
        let rejected = MessageRejected::builder().build();
        assert!(!is_retryable(&service(
            400,
            SendEmailError::MessageRejected(rejected)
        )));
        assert!(!is_retryable(&unmodelled(403, "AccessDeniedException")));
        assert!(!is_retryable(&SdkError::construction_failure("bad input")));
    }
}
