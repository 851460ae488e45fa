//! The local AWS emulator (moto server) the AWS adapters are tested against, over the
//! wire. `cargo xtask test` starts it and passes its URL in `TEMPACCESS_MOTO_URL`;
//! `cargo xtask moto` runs one by hand.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// The emulator's URL. Tests that need it fail loudly without it rather than skip.
pub fn url() -> String {
    std::env::var("TEMPACCESS_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "TEMPACCESS_MOTO_URL is not set: run `cargo xtask test`, or start the emulator \
             with `cargo xtask moto` and export the URL it prints"
        )
    })
}

/// An SDK configuration pointed at the emulator with static test credentials, on the
/// HTTPS client the functions use.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(tempaccess_aws::config::https_client())
        .endpoint_url(url())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// A name no other test uses (tests share one emulator).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The mail the emulator recorded (from `source` only, when given), each message as
/// `data.json` shows it under `ses.Message`. Served by the route `cargo xtask` adds to
/// the emulator, which reads the sent mail alone.
pub async fn sent_messages(source: Option<&str>) -> Vec<serde_json::Value> {
    let mut request = reqwest::Client::new().get(format!("{}/tempaccess/ses-messages", url()));
    if let Some(source) = source {
        request = request.query(&[("source", source)]);
    }
    request
        .send()
        .await
        .expect("reach the emulator")
        .json()
        .await
        .expect("the emulator's sent mail is JSON")
}
