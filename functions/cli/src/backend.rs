//! Where the local binary keeps things: SQLite in the data directory (the embedded
//! default), or the AWS adapters (DynamoDB, SES, EventBridge Scheduler, Secrets
//! Manager) from the standard AWS environment — an emulator with `AWS_ENDPOINT_URL`.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tempaccess_aws::config::{AwsSettings, Clients};
use tempaccess_core::Timestamp;
use tempaccess_core::bounded::Limits;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{BoxError, Clock, Scheduler};
use tempaccess_core::service::Ports;
use tempaccess_core::system::OsRandom;
use tempaccess_sqlite::SqliteStore;

use crate::demo::{self, FileSecrets};
use crate::mailbox::Mailbox;
use crate::timer::Timer;

/// Which adapters to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// SQLite, the in-process timer and the local mailbox.
    #[default]
    Sqlite,
    /// The AWS adapters, configured by the standard AWS environment.
    Aws,
}

/// The adapters opened for one process.
pub struct Opened {
    /// The ports the service runs on.
    pub ports: Ports,
    /// The local mailbox (SQLite backend only; on AWS mail goes to SES).
    pub mailbox: Option<Mailbox>,
    /// The in-process timer: the scheduler on SQLite, a second, on-time one on AWS.
    pub timer: Arc<Timer>,
}

/// Opens the adapters of `backend`. On SQLite, writes the demo data on first start
/// when `seed_demo`.
pub async fn open(
    backend: Backend,
    data: &Path,
    clock: Arc<dyn Clock>,
    seed_demo: bool,
) -> anyhow::Result<Opened> {
    let timer = Timer::new();
    match backend {
        Backend::Sqlite => {
            let store = SqliteStore::open(&data.join("tempaccess.db"))?;
            if seed_demo && demo::seed(&store).await? {
                tracing::info!("demo users and entries written");
            }
            let mailbox = Mailbox::new(clock.clone());
            let secrets = Arc::new(FileSecrets::open(&data.join("secrets.json"))?);
            let ports = Ports {
                store: Arc::new(store),
                mailer: Arc::new(mailbox.clone()),
                scheduler: timer.clone(),
                secrets: secrets.clone(),
                rotator: secrets,
                clock,
                random: Arc::new(OsRandom),
            };
            Ok(Opened {
                // Every call under a deadline; the store's failures of the moment retried.
                ports: tempaccess_core::bounded::bounded(ports, Limits::default()),
                mailbox: Some(mailbox),
                timer,
            })
        }
        Backend::Aws => {
            let (settings, clients) = aws_clients().await?;
            let mut ports = tempaccess_aws::wiring::ports_on(&settings, &clients, clock);
            // EventBridge Scheduler cannot reach this process: keep the real schedule
            // and also end grants on time here.
            ports.scheduler = Arc::new(Both {
                remote: ports.scheduler.clone(),
                timer: timer.clone(),
            });
            Ok(Opened {
                ports,
                mailbox: None,
                timer,
            })
        }
    }
}

/// Settings and clients for the AWS backend: the environment, with defaults that
/// suit an emulator.
pub async fn aws_clients() -> anyhow::Result<(AwsSettings, Clients)> {
    let settings = AwsSettings::from_env_or_local_defaults()?;
    let sdk = tempaccess_aws::config::sdk_config().await;
    Ok((settings, Clients::new(&sdk)))
}

/// A scheduler that arms the local timer and the remote scheduler.
struct Both {
    remote: Arc<dyn Scheduler>,
    timer: Arc<Timer>,
}

#[async_trait]
impl Scheduler for Both {
    async fn schedule_end(&self, grant: &RequestId, at: Timestamp) -> Result<(), BoxError> {
        self.timer.schedule_end(grant, at).await?;
        self.remote.schedule_end(grant, at).await
    }

    async fn cancel_end(&self, grant: &RequestId) -> Result<(), BoxError> {
        self.timer.cancel_end(grant).await?;
        self.remote.cancel_end(grant).await
    }
}
