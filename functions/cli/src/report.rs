//! `tempaccess report`: the Temporary Access Requests Report for admins, from the
//! command line, against SQLite or DynamoDB — the same use case as the report function.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tempaccess_core::entry::{ADMIN_ROLE, Caller};
use tempaccess_core::ids::Email;
use tempaccess_core::report::{self, MAX_PAGE};
use tempaccess_core::request::Status;
use tempaccess_core::service::{ReportParams, ReportScope, Service, Settings};
use tempaccess_core::system::SystemClock;
use tempaccess_core::wire::RequestsQuery;

use crate::backend::{self, Backend};

/// What to report.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Where the requests are kept.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    /// The data directory (SQLite backend).
    #[arg(long, default_value = ".tempaccess")]
    pub data: PathBuf,
    /// Only this status (pending, scheduled, active, ended, denied, cancelled, revoked, expired).
    #[arg(long)]
    pub status: Option<String>,
    /// Only this entry.
    #[arg(long)]
    pub entry: Option<String>,
    /// Only this requester (email).
    #[arg(long)]
    pub requester: Option<String>,
    /// Only this approver (email).
    #[arg(long)]
    pub approver: Option<String>,
    /// Created at or after (RFC 3339).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// At most this many requests.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// CSV (every column of the report) instead of a table.
    #[arg(long)]
    pub csv: bool,
}

/// Runs the report as an admin and prints it.
pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let clock = Arc::new(SystemClock);
    let opened = backend::open(args.backend, &args.data, clock, false).await?;
    let service = Service::new(opened.ports, Settings::new(String::new()));
    let admin = Caller {
        email: Email::parse("cli@tempaccess.invalid")?,
        name: "tempaccess CLI".to_owned(),
        roles: vec![ADMIN_ROLE.to_owned()],
    };
    // The same query, read the same way, as `GET /v1/requests?scope=all`.
    let params = RequestsQuery {
        scope: Some(ReportScope::All),
        status: args
            .status
            .as_deref()
            .map(|s| Status::parse(s, "--status"))
            .transpose()?,
        entry_id: args.entry,
        requester: args.requester,
        approver: args.approver,
        from: args.from,
        to: args.to,
        order: None,
        limit: Some(MAX_PAGE),
        cursor: None,
        count: None,
    }
    .parse()?;
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = service
            .requests(
                &admin,
                ReportParams {
                    cursor: cursor.take(),
                    ..params.clone()
                },
            )
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if items.len() < args.limit => cursor = Some(next),
            _ => break,
        }
    }
    items.truncate(args.limit);
    let now = service.now();
    let entries = service.entry_list().await?;
    if args.csv {
        print!("{}", report::csv(&items, now, &entries));
    } else {
        print!("{}", table(&items, now, &entries));
    }
    Ok(())
}

/// The report's main columns, aligned for a terminal.
fn table(
    items: &[tempaccess_core::request::AccessRequest],
    now: DateTime<Utc>,
    entries: &[tempaccess_core::entry::Entry],
) -> String {
    // status, requested by, entry, rights, requested on, requested, authorized, approver
    const SHOWN: [usize; 8] = [0, 1, 2, 3, 4, 7, 8, 9];
    let header: Vec<String> = SHOWN
        .iter()
        .map(|&i| report::COLUMNS[i].to_owned())
        .collect();
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(items.iter().map(|r| {
            let row = report::row(r, now, entries);
            SHOWN.iter().map(|&i| row[i].clone()).collect()
        }))
        .collect();
    let widths: Vec<usize> = (0..SHOWN.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("{} request(s)\n", items.len()));
    out
}
