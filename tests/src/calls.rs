//! The AWS calls a service makes, seen at the adapters: SDK clients with an interceptor
//! on each, as a test or a benchmark counts them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
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

/// Counts the calls made through the clients it is attached to, as `Service.Operation`
/// (`DynamoDB.PutItem`, `SESv2.SendEmail`, …), until taken.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u32>>>);

impl CallCounter {
    /// The calls since the last take, and a fresh count.
    pub fn take(&self) -> BTreeMap<String, u32> {
        std::mem::take(&mut *self.0.lock().expect("the counter"))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "call-counter"
    }

    // Once per operation: a retried attempt is not counted again.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let meta = cfg
            .load::<Metadata>()
            .expect("every operation names itself");
        let call = format!("{}.{}", meta.service(), meta.name());
        *self.0.lock().expect("the counter").entry(call).or_default() += 1;
        Ok(())
    }
}
