//! `tempaccess`: the embedded default and admin commands.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
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
        } => {
            serve(ServeOptions {
                addr,
                data,
                site,
                site_url,
                test_clock,
                sweep_every: Duration::from_secs(sweep_seconds.max(1)),
            })
            .await
        }
    }
}
