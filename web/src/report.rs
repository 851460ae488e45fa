//! The Temporary Access Requests Report's rules: its filters (kept in the page's
//! URL), the API query they make (`wire::RequestsQuery`), its columns and their sort
//! order.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::{RequestView, RequestsQuery};

use crate::time::{self, Zone};

/// Page sizes offered.
pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];

/// Rows per page unless chosen.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// The report's filters and sort, as the page's query string holds them.
/// Dates are `YYYY-MM-DD` days in the browser's zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSelection {
    /// mine (default), approvals or all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ReportScope>,
    /// One status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// One entry id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    /// One requester's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// One approver's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// Requested on or after this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Requested on or before this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The column sorted by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// Whether the sort is descending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<bool>,
    /// Rows per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ReportSelection {
    /// The scope.
    pub fn scope(&self) -> ReportScope {
        self.scope.unwrap_or_default()
    }

    /// The rows per page.
    pub fn page_size(&self) -> u32 {
        self.limit
            .filter(|l| PAGE_SIZES.contains(l))
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The sort: a column and whether it is descending (default: requested on, newest first).
    pub fn sort(&self) -> (Column, bool) {
        match self.sort.as_deref().and_then(Column::parse) {
            Some(c) => (c, self.desc.unwrap_or(false)),
            None => (Column::RequestedOn, true),
        }
    }

    /// The same filters without empty values (for the URL).
    pub fn normalized(&self) -> Self {
        let keep = |v: &Option<String>| set(v).map(str::to_owned);
        Self {
            scope: self.scope.filter(|s| *s != ReportScope::Mine),
            status: self.status,
            entry_id: keep(&self.entry_id),
            requester: keep(&self.requester).map(|s| s.to_lowercase()),
            approver: keep(&self.approver).map(|s| s.to_lowercase()),
            from: keep(&self.from),
            to: keep(&self.to),
            sort: keep(&self.sort),
            desc: self.desc,
            limit: self.limit,
        }
    }

    /// The API's query for one page, with days read in `zone`. `limit` overrides the
    /// page size (the CSV export takes the largest pages).
    pub fn api_query(
        &self,
        cursor: Option<&str>,
        limit: Option<u32>,
        zone: &dyn Zone,
    ) -> RequestsQuery {
        RequestsQuery {
            scope: Some(self.scope()),
            status: self.status,
            entry_id: set(&self.entry_id).map(str::to_owned),
            requester: set(&self.requester).map(str::to_lowercase),
            approver: set(&self.approver).map(str::to_lowercase),
            from: set(&self.from).and_then(|d| time::day_start(d, zone)),
            to: set(&self.to).and_then(|d| time::day_end(d, zone)),
            limit: Some(limit.unwrap_or_else(|| self.page_size())),
            cursor: cursor.map(str::to_owned),
        }
    }
}

/// The report's columns, as PRODUCT.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Status,
    RequestedBy,
    Entry,
    Rights,
    RequestedOn,
    RequestedStart,
    RequestedEnd,
    RequestedDuration,
    AuthorizedDuration,
    Approver,
    RequestMessage,
    AuthorizationMessage,
}

impl Column {
    /// Every column, in order.
    pub const ALL: [Column; 12] = [
        Column::Status,
        Column::RequestedBy,
        Column::Entry,
        Column::Rights,
        Column::RequestedOn,
        Column::RequestedStart,
        Column::RequestedEnd,
        Column::RequestedDuration,
        Column::AuthorizedDuration,
        Column::Approver,
        Column::RequestMessage,
        Column::AuthorizationMessage,
    ];

    /// Its name in the URL (the CSV's header names).
    pub fn key(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::RequestedBy => "requested_by",
            Self::Entry => "entry",
            Self::Rights => "rights",
            Self::RequestedOn => "requested_on",
            Self::RequestedStart => "requested_start",
            Self::RequestedEnd => "requested_end",
            Self::RequestedDuration => "requested_duration",
            Self::AuthorizedDuration => "authorized_duration",
            Self::Approver => "approver",
            Self::RequestMessage => "request_message",
            Self::AuthorizationMessage => "authorization_message",
        }
    }

    /// Its header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Status => "Status",
            Self::RequestedBy => "Requested by",
            Self::Entry => "Entry",
            Self::Rights => "Rights",
            Self::RequestedOn => "Requested on",
            Self::RequestedStart => "Requested start",
            Self::RequestedEnd => "Requested end",
            Self::RequestedDuration => "Requested duration",
            Self::AuthorizedDuration => "Authorized duration",
            Self::Approver => "Approver",
            Self::RequestMessage => "Request message",
            Self::AuthorizationMessage => "Authorization message",
        }
    }

    /// The column named `key`.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// A cell's value, typed so it sorts as people expect (times by time, durations by length).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    /// Nothing to show.
    Empty,
    /// Seconds.
    Seconds(i64),
    /// An instant.
    Time(DateTime<Utc>),
    /// Text.
    Text(String),
}

/// The requested time frame, if one was asked for.
fn frame(r: &RequestView) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    r.requested.window.map(|w| (w.start, w.end))
}

/// The value of `column` for a request.
pub fn cell(r: &RequestView, column: Column) -> Cell {
    let text = |s: &str| {
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_owned())
        }
    };
    match column {
        Column::Status => text(r.status.as_str()),
        Column::RequestedBy => text(&r.requester),
        Column::Entry => text(&r.entry_name),
        Column::Rights => text(
            r.granted_permission_set
                .as_deref()
                .unwrap_or(&r.permission_set),
        ),
        Column::RequestedOn => Cell::Time(r.created_at),
        Column::RequestedStart => frame(r).map_or(Cell::Empty, |(s, _)| Cell::Time(s)),
        Column::RequestedEnd => frame(r).map_or(Cell::Empty, |(_, e)| Cell::Time(e)),
        Column::RequestedDuration => Cell::Seconds(crate::decision::asked_seconds(r)),
        Column::AuthorizedDuration => match (r.starts_at, r.ends_at) {
            (Some(s), Some(e)) => Cell::Seconds((e - s).num_seconds()),
            _ => Cell::Empty,
        },
        Column::Approver => text(&r.approver),
        Column::RequestMessage => text(&r.message),
        Column::AuthorizationMessage => text(r.decision_comment.as_deref().unwrap_or("")),
    }
}

/// Sorts rows by `column`; empty cells go last either way, ties keep their order.
pub fn sort_rows(rows: &mut [RequestView], column: Column, descending: bool) {
    rows.sort_by(|a, b| {
        let (a, b) = (cell(a, column), cell(b, column));
        match (&a, &b) {
            (Cell::Empty, Cell::Empty) => Ordering::Equal,
            (Cell::Empty, _) => Ordering::Greater,
            (_, Cell::Empty) => Ordering::Less,
            _ if descending => b.cmp(&a),
            _ => a.cmp(&b),
        }
    });
}

/// Joins CSV pages: the header once, then every page's rows.
pub fn join_csv_pages(pages: &[String]) -> String {
    let mut out = String::new();
    for (i, page) in pages.iter().enumerate() {
        let body = if i == 0 {
            page.as_str()
        } else {
            page.split_once("\r\n").map_or("", |(_, rows)| rows)
        };
        out.push_str(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use tempaccess_core::wire::{RequestedView, Window};

    use super::*;

    struct PlusOne;

    impl Zone for PlusOne {
        fn offset_minutes(&self, _: DateTime<Utc>) -> i32 {
            60
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(id: &str, created: &str, seconds: Option<i64>) -> RequestView {
        RequestView {
            id: id.into(),
            entry_id: "prod-db".into(),
            entry_name: "Production database".into(),
            requester: "alice@example.com".into(),
            approver: "bob@example.com".into(),
            permission_set: "view-password-execute".into(),
            granted_permission_set: None,
            requested: RequestedView {
                duration_seconds: seconds,
                window: seconds.is_none().then(|| Window {
                    start: t("2030-01-01T10:00:00Z"),
                    end: t("2030-01-01T10:30:00Z"),
                }),
            },
            message: String::new(),
            status: Status::Pending,
            created_at: t(created),
            expires_at: t(created),
            decided_at: None,
            decided_by: None,
            decision_comment: None,
            starts_at: None,
            ends_at: None,
            cancelled_at: None,
            cancelled_by: None,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
        }
    }

    #[test]
    fn filters_become_the_api_query() {
        let q = ReportSelection {
            scope: Some(ReportScope::All),
            status: Some(Status::Pending),
            requester: Some(" Alice@Example.com ".into()),
            approver: Some("".into()),
            from: Some("2030-01-15".into()),
            to: Some("2030-01-15".into()),
            limit: Some(50),
            ..ReportSelection::default()
        };
        let api = q.api_query(Some("c1"), None, &PlusOne);
        assert_eq!(
            serde_urlencoded::to_string(&api).unwrap(),
            "scope=all&status=pending&requester=alice%40example.com\
             &from=2030-01-14T23%3A00%3A00Z&to=2030-01-15T23%3A00%3A00Z&limit=50&cursor=c1"
        );
        // What the server reads back is what the filters say.
        let read: RequestsQuery =
            serde_urlencoded::from_str(&serde_urlencoded::to_string(&api).unwrap()).unwrap();
        assert_eq!(read, api);
        assert_eq!(ReportSelection::default().page_size(), 25);
        assert_eq!(ReportSelection::default().normalized().scope, None);
    }

    #[test]
    fn sorts_by_typed_cells_with_empty_last() {
        let mut rows = vec![
            row("a", "2030-01-02T00:00:00Z", Some(7200)),
            row("b", "2030-01-03T00:00:00Z", Some(600)),
            row("c", "2030-01-01T00:00:00Z", None),
        ];
        sort_rows(&mut rows, Column::RequestedDuration, false);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        sort_rows(&mut rows, Column::RequestedStart, true);
        assert_eq!(rows[0].id, "c");
        sort_rows(&mut rows, Column::RequestedOn, true);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert_eq!(Column::parse("requested_end"), Some(Column::RequestedEnd));
    }

    #[test]
    fn csv_pages_join_under_one_header() {
        let pages = [
            "status,entry\r\npending,a\r\n".to_owned(),
            "status,entry\r\nactive,b\r\n".to_owned(),
        ];
        assert_eq!(
            join_csv_pages(&pages),
            "status,entry\r\npending,a\r\nactive,b\r\n"
        );
    }
}
