//! `tempaccess`: the embedded default and admin commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tempaccess_local::backend::Backend;
use tempaccess_local::report::{self, ReportArgs};
use tempaccess_local::serve::{ServeOptions, serve};

#[derive(Parser)]
#[command(
    name = "tempaccess",
    version,
    about = "Temporary, approved access to a single protected entry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every route, the site, the timer and a mailbox in one process, on SQLite.
    Serve {
        /// Where to listen (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The data directory.
        #[arg(long, default_value = ".tempaccess")]
        data: PathBuf,
        /// The built site to serve at `/`.
        #[arg(long)]
        site: Option<PathBuf>,
        /// The public URL of the site, for decision links.
        #[arg(long)]
        site_url: Option<String>,
        /// A clock that `POST /v1/dev/clock` moves forward (for tests).
        #[arg(long)]
        test_clock: bool,
        /// Seconds between sweeps (overdue grants, expiries, mail retries).
        #[arg(long, default_value_t = 30)]
        sweep_seconds: u64,
        /// Which adapters to run on (aws: the standard AWS environment; set
        /// AWS_ENDPOINT_URL for an emulator).
        #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
        backend: Backend,
    },
    /// The Temporary Access Requests Report (every request), as a table or CSV.
    Report(ReportArgs),
    /// Manage entries.
    Entries {
        #[command(subcommand)]
        command: EntriesCommand,
    },
    /// Set up the AWS backend.
    Aws {
        #[command(subcommand)]
        command: AwsCommand,
    },
}

#[derive(Subcommand)]
enum EntriesCommand {
    /// Check and write the entries (and users) of a JSON file (see
    /// infra/entries.example.json).
    Import {
        /// The file.
        file: PathBuf,
        /// Where to write them.
        #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
        backend: Backend,
        /// The data directory (SQLite backend).
        #[arg(long, default_value = ".tempaccess")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum AwsCommand {
    /// Create the table, the schedule group and the mail identity as the template
    /// defines them (idempotent).
    Bootstrap {
        /// Also write the demo users, entries and their secrets.
        #[arg(long)]
        demo: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            data,
            site,
            site_url,
            test_clock,
            sweep_seconds,
            backend,
        } => {
            serve(ServeOptions {
                addr,
                data,
                site,
                site_url,
                test_clock,
                sweep_every: Duration::from_secs(sweep_seconds.max(1)),
                backend,
            })
            .await
        }
        Command::Report(args) => report::run(args).await,
        Command::Entries {
            command:
                EntriesCommand::Import {
                    file,
                    backend,
                    data,
                },
        } => tempaccess_local::import::run(file, backend, data).await,
        Command::Aws {
            command: AwsCommand::Bootstrap { demo },
        } => tempaccess_local::aws::bootstrap(demo).await,
    }
}
