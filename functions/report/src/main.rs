//! The report function: its routes of the HTTP API, on the AWS adapters.

use tempaccess_http::{AppState, table};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tempaccess_aws::wiring::init_json_logs();
    // Clients are built once per cold start and reused by every invocation.
    let service = tempaccess_aws::wiring::service_from_env().await?;
    lambda_http::run(table::serve(table::report(), AppState { service })).await
}
