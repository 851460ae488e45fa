//! Builds the service on the AWS adapters from the environment — once per cold start,
//! with the database connection warmed during init.

use std::sync::Arc;

use aws_config::SdkConfig;
use tempaccess_core::ports::{Clock, Store};
use tempaccess_core::service::{Ports, Service};
use tempaccess_core::system::{OsRandom, SystemClock};

use crate::config::{AwsSettings, Clients};
use crate::dynamodb::DynamoStore;
use crate::scheduler::{EventBridgeScheduler, ScheduleTarget};
use crate::secrets::SecretsManagerSecrets;
use crate::ses::SesMailer;

/// The adapters for `settings`, on clients built from `sdk`.
pub fn ports(settings: &AwsSettings, sdk: &SdkConfig, clock: Arc<dyn Clock>) -> (Ports, Clients) {
    let clients = Clients::new(sdk);
    let ports = ports_on(settings, &clients, clock);
    (ports, clients)
}

/// The adapters for `settings` on existing clients.
pub fn ports_on(settings: &AwsSettings, clients: &Clients, clock: Arc<dyn Clock>) -> Ports {
    Ports {
        store: Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            settings.table_name.clone(),
        )),
        mailer: Arc::new(SesMailer::new(
            clients.ses.clone(),
            settings.mail_from.clone(),
            settings.configuration_set.clone(),
        )),
        scheduler: Arc::new(EventBridgeScheduler::new(
            clients.scheduler.clone(),
            ScheduleTarget::from_settings(settings),
        )),
        secrets: Arc::new(SecretsManagerSecrets::new(clients.secrets.clone())),
        rotator: Arc::new(SecretsManagerSecrets::new(clients.secrets.clone())),
        clock,
        random: Arc::new(OsRandom),
    }
}

/// The service as a Lambda function runs it: settings from the environment (all
/// required), the system clock, and a warmed database connection.
pub async fn service_from_env() -> anyhow::Result<Service> {
    let settings = AwsSettings::from_env()?;
    let sdk = crate::config::sdk_config().await;
    let (ports, _) = ports(&settings, &sdk, Arc::new(SystemClock));
    warm(ports.store.as_ref()).await;
    tracing::info!(table = %settings.table_name, "initialised");
    Ok(Service::new(ports, settings.service_settings()))
}

/// Opens the connection to the table during init, so the first request does not pay
/// for the TLS handshake. A failure here is only logged: requests report their own.
pub async fn warm(store: &dyn Store) {
    if let Err(e) = store
        .entry(&tempaccess_core::ids::EntryId::parse("warm-up").expect("valid id"))
        .await
    {
        tracing::warn!(error = %e, "warming the table connection failed");
    }
}

/// JSON logs for CloudWatch, filtered by `RUST_LOG` (default `info`).
pub fn init_json_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}
