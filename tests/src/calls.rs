//! The AWS calls a service makes, seen at the adapters: SDK clients with an interceptor
//! on each, as a test or a benchmark counts them.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::Intercept;
use tempaccess_aws::config::Clients;

/// Every linked client on `sdk`, each with `interceptor`.
pub fn intercepted_clients<I>(sdk: &SdkConfig, interceptor: I) -> Clients
where
    I: Intercept + Clone + 'static,
{
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk)
                .interceptor(interceptor.clone())
                .build(),
        ),
        ses: aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(sdk)
                .interceptor(interceptor.clone())
                .build(),
        ),
        scheduler: aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(sdk)
                .interceptor(interceptor.clone())
                .build(),
        ),
        secrets: aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(sdk)
                .interceptor(interceptor)
                .build(),
        ),
    }
}
