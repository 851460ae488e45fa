//! Builds the service on the AWS adapters from the environment — once per cold start,
//! with the database connection warmed during init.
//!
//! A function links only the SDK clients its routes call (the crate's features). The
//! ports of the others answer with an error ([`NotLinked`]): a mail is then left in
//! the outbox for the sweep, a schedule to the sweep, a credential unread.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{
    BoxError, Clock, Credential, Mail, MailError, Mailer, RotateError, Rotator, Scheduler, Secrets,
    Store,
};
use tempaccess_core::service::{Ports, Service};
use tempaccess_core::system::{OsRandom, SystemClock};

use crate::config::{AwsSettings, Clients};
use crate::dynamodb::DynamoStore;

/// The AWS services besides DynamoDB that a set of ports calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Services {
    /// SES v2 (the Mailer).
    pub ses: bool,
    /// EventBridge Scheduler (the Scheduler).
    pub scheduler: bool,
    /// Secrets Manager (the Secrets and the Rotator).
    pub secrets: bool,
}

impl Services {
    /// The services this build links: the crate's features.
    pub const LINKED: Self = Self {
        ses: cfg!(feature = "ses"),
        scheduler: cfg!(feature = "scheduler"),
        secrets: cfg!(feature = "secrets"),
    };
}

/// The adapters for `settings`, on clients built from `sdk`.
pub fn ports(settings: &AwsSettings, sdk: &SdkConfig, clock: Arc<dyn Clock>) -> (Ports, Clients) {
    let clients = Clients::new(sdk);
    let ports = ports_on(settings, &clients, clock);
    (ports, clients)
}

/// The adapters for `settings` on existing clients: every linked service.
pub fn ports_on(settings: &AwsSettings, clients: &Clients, clock: Arc<dyn Clock>) -> Ports {
    ports_for(settings, clients, clock, Services::LINKED)
}

/// The adapters for `settings` on existing clients, calling only `services` (and only
/// those linked): the others are [`NotLinked`]. A test wires a function's ports this way
/// to hold its routes to the clients it is built with.
pub fn ports_for(
    settings: &AwsSettings,
    clients: &Clients,
    clock: Arc<dyn Clock>,
    services: Services,
) -> Ports {
    // Every call under a deadline; the store's failures of the moment retried.
    tempaccess_core::bounded::bounded(
        unbounded(settings, clients, clock, services),
        tempaccess_core::bounded::Limits::default(),
    )
}

fn unbounded(
    settings: &AwsSettings,
    clients: &Clients,
    clock: Arc<dyn Clock>,
    services: Services,
) -> Ports {
    Ports {
        store: Arc::new(DynamoStore::new(
            clients.dynamodb.clone(),
            settings.table_name.clone(),
        )),
        mailer: mailer(settings, clients, services.ses),
        scheduler: scheduler(settings, clients, services.scheduler),
        secrets: secrets(clients, services.secrets),
        rotator: rotator(clients, services.secrets),
        clock,
        random: Arc::new(OsRandom),
    }
}

#[cfg_attr(not(feature = "ses"), allow(unused_variables))]
fn mailer(settings: &AwsSettings, clients: &Clients, wanted: bool) -> Arc<dyn Mailer> {
    #[cfg(feature = "ses")]
    if wanted {
        return Arc::new(crate::ses::SesMailer::new(
            clients.ses.clone(),
            settings.mail_from.clone(),
            settings.configuration_set.clone(),
        ));
    }
    Arc::new(NotLinked("SES"))
}

#[cfg_attr(not(feature = "scheduler"), allow(unused_variables))]
fn scheduler(settings: &AwsSettings, clients: &Clients, wanted: bool) -> Arc<dyn Scheduler> {
    #[cfg(feature = "scheduler")]
    if wanted {
        return Arc::new(crate::scheduler::EventBridgeScheduler::new(
            clients.scheduler.clone(),
            crate::scheduler::ScheduleTarget::from_settings(settings),
        ));
    }
    Arc::new(NotLinked("EventBridge Scheduler"))
}

#[cfg_attr(not(feature = "secrets"), allow(unused_variables))]
fn secrets(clients: &Clients, wanted: bool) -> Arc<dyn Secrets> {
    #[cfg(feature = "secrets")]
    if wanted {
        return Arc::new(crate::secrets::SecretsManagerSecrets::new(
            clients.secrets.clone(),
        ));
    }
    Arc::new(NotLinked("Secrets Manager"))
}

#[cfg_attr(not(feature = "secrets"), allow(unused_variables))]
fn rotator(clients: &Clients, wanted: bool) -> Arc<dyn Rotator> {
    #[cfg(feature = "secrets")]
    if wanted {
        return Arc::new(crate::secrets::SecretsManagerSecrets::new(
            clients.secrets.clone(),
        ));
    }
    Arc::new(NotLinked("Secrets Manager"))
}

/// The port of a service whose client this function does not link: every call fails
/// (retryable), and says so in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotLinked(pub &'static str);

impl NotLinked {
    fn refuse(&self, what: &str) -> BoxError {
        tracing::error!(
            service = self.0,
            what,
            "a call to a service this function does not link"
        );
        format!("{} is not linked into this function ({what})", self.0).into()
    }
}

#[async_trait]
impl Mailer for NotLinked {
    async fn send(&self, _: &Mail) -> Result<(), MailError> {
        Err(MailError::Retryable(self.refuse("send mail")))
    }
}

#[async_trait]
impl Scheduler for NotLinked {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        Err(self.refuse("schedule an end"))
    }
    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        Err(self.refuse("cancel an end"))
    }
}

#[async_trait]
impl Rotator for NotLinked {
    async fn rotate(&self, _: &str) -> Result<(), RotateError> {
        Err(RotateError::Retryable(self.refuse("rotate a credential")))
    }
}

#[async_trait]
impl Secrets for NotLinked {
    async fn credential(&self, _: &str) -> Result<Credential, BoxError> {
        Err(self.refuse("read a credential"))
    }
}

/// The service as a Lambda function runs it: settings from the environment (all
/// required), the SDK configured from Lambda's environment alone, the clients this
/// function links, the system clock, and a warmed database connection.
pub async fn service_from_env() -> anyhow::Result<Service> {
    let settings = AwsSettings::from_env()?;
    let sdk = crate::config::lambda_sdk_config();
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

/// JSON logs for CloudWatch, filtered by `RUST_LOG` as a list of `level` or
/// `target=level` directives (default `info`; an unreadable value means `info`).
pub fn init_json_logs() {
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            tracing_subscriber::filter::Targets::new()
                .with_default(tracing::level_filters::LevelFilter::INFO)
        });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(false)
                .with_target(false)
                .without_time(),
        )
        .with(filter)
        .init();
}
