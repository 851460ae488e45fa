//! `tempaccess`: the embedded default and admin commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tempaccess_cli::backend::Backend;
use tempaccess_cli::report::{self, ReportArgs};
use tempaccess_cli::serve::{ServeArgs, serve};

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
    Serve(ServeArgs),
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
        Command::Serve(args) => serve(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Entries {
            command:
                EntriesCommand::Import {
                    file,
                    backend,
                    data,
                },
        } => tempaccess_cli::import::run(file, backend, data).await,
        Command::Aws {
            command: AwsCommand::Bootstrap { demo },
        } => tempaccess_cli::aws::bootstrap(demo).await,
    }
}
