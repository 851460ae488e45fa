//! The revoke function: EventBridge Scheduler delivers `{"grant_id": …}` at a grant's
//! end, and `{"sweep": true}` every five minutes.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tempaccess_aws::wiring::init_json_logs();
    let service = tempaccess_aws::wiring::service_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        tempaccess_revoke::handle(&service, event.payload)
    }))
    .await
}
