//! A fresh AWS world in the emulator for one test: its own table, schedule group and
//! mail sender, the demo data, and the service on the real AWS adapters with a clock
//! the test moves. Ports can be swapped to inject faults.

use std::sync::Arc;

use serde_json::Value;
use tempaccess_aws::config::{AwsSettings, Clients};
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::Store;
use tempaccess_core::service::{Ports, Service, Settings};
use tempaccess_core::testing::ManualClock;

use crate::moto;

/// A mail as the emulator recorded it.
#[derive(Debug, Clone)]
pub struct SentMail {
    /// The recipients.
    pub to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The body (the emulator keeps the HTML part when both are sent).
    pub body: String,
}

/// One test's slice of the emulator.
pub struct AwsWorld {
    /// Names of this world's resources.
    pub settings: AwsSettings,
    /// SDK clients on the emulator.
    pub clients: Clients,
    /// The service's clock.
    pub clock: Arc<ManualClock>,
    /// The use cases on the AWS adapters.
    pub service: Service,
    /// The DynamoDB store.
    pub store: Arc<dyn Store>,
}

/// The system time, to the second: where the clocks of tests against the emulator
/// start.
pub fn system_now() -> Timestamp {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp(now.timestamp(), 0).expect("a valid time")
}

/// Settings naming resources no other test uses.
pub fn unique_settings() -> AwsSettings {
    let mut settings = AwsSettings::local_defaults();
    settings.table_name = moto::unique("tempaccess");
    settings.schedule_group = moto::unique("grp");
    settings.mail_from = format!("{}@example.com", moto::unique("tempaccess"));
    settings.site_url = "https://tempaccess.example.com".to_owned();
    settings
}

impl AwsWorld {
    /// A world on the real adapters.
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A world whose ports `customize` may replace (to inject faults).
    pub async fn with(customize: impl FnOnce(&mut Ports)) -> Self {
        let sdk = moto::sdk_config().await;
        Self::on_clients(Clients::new(&sdk), customize).await
    }

    /// A world on `clients` (with an interceptor, say), whose ports `customize` may
    /// replace.
    pub async fn on_clients(clients: Clients, customize: impl FnOnce(&mut Ports)) -> Self {
        let settings = unique_settings();
        tempaccess_cli::aws::bootstrap_with(&settings, &clients, true)
            .await
            .expect("bootstrap the emulator");
        let clock = ManualClock::new(system_now());
        let mut ports = tempaccess_aws::wiring::ports_on(&settings, &clients, clock.clone());
        customize(&mut ports);
        let store = ports.store.clone();
        let service = Service::new(ports, Settings::new(settings.site_url.clone()));
        Self {
            settings,
            clients,
            clock,
            service,
            store,
        }
    }

    /// Mail this world sent, oldest first.
    pub async fn sent_mail(&self) -> Vec<SentMail> {
        sent_mail_from(&self.settings.mail_from).await
    }

    /// The end-of-grant schedule of `grant`, if it exists.
    pub async fn schedule(
        &self,
        grant: &RequestId,
    ) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
        self.clients
            .scheduler
            .get_schedule()
            .group_name(&self.settings.schedule_group)
            .name(tempaccess_aws::scheduler::schedule_name(grant))
            .send()
            .await
            .ok()
    }
}

/// Mail the emulator recorded from `sender`, oldest first.
pub async fn sent_mail_from(sender: &str) -> Vec<SentMail> {
    let messages = moto::sent_messages(Some(sender)).await;
    messages
        .iter()
        .map(|m| {
            let field = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| m.get(*n))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let to = match field(&["destinations", "destination", "Destination"]) {
                Value::Array(list) => list
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Value::Object(o) => o
                    .get("ToAddresses")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                Value::String(s) => vec![s],
                _ => Vec::new(),
            };
            SentMail {
                to,
                subject: field(&["subject", "Subject"])
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                body: field(&["body", "Body"])
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect()
}
