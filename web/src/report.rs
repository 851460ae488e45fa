//! The Temporary Access Requests Report's rules: its filters, order and page (all kept
//! in the page's URL, so a reload, Back and a shared link show the same page), the API
//! query they make (`wire::RequestsQuery`), and its columns.
//!
//! The server sorts, by when requests were sent (newest or oldest first), on every
//! page: the one order every store reads from an index. Other columns do not sort, so
//! no page pretends to be sorted when only its own rows are.

use serde::{Deserialize, Serialize};
use tempaccess_core::ids::Email;
use tempaccess_core::report::ReportOrder;
use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::RequestsQuery;

use crate::case;
use crate::time::{self, Zone};

/// Page sizes offered.
pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];

/// Rows per page unless chosen.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// What separates the cursors of the pages before this one in the URL (cursors are
/// base64url: they never hold it).
const TRAIL_SEPARATOR: char = '.';

/// The report's filters, order and page, as the page's query string holds them.
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
    /// Newest (default) or oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<ReportOrder>,
    /// Rows per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The cursors of the pages before this one, oldest first, joined by `.`: the page
    /// shown is the one after the last (none: the first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ReportSelection {
    /// The scope.
    pub fn scope(&self) -> ReportScope {
        self.scope.unwrap_or_default()
    }

    /// The order.
    pub fn order(&self) -> ReportOrder {
        self.order.unwrap_or_default()
    }

    /// The rows per page.
    pub fn page_size(&self) -> u32 {
        self.limit
            .filter(|l| PAGE_SIZES.contains(l))
            .unwrap_or(DEFAULT_PAGE_SIZE)
    }

    /// The cursors of the pages before this one.
    pub fn trail(&self) -> Vec<String> {
        set(&self.pages)
            .map(|p| {
                p.split(TRAIL_SEPARATOR)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The page number shown, from 1.
    pub fn page_number(&self) -> usize {
        self.trail().len() + 1
    }

    /// The cursor of the page shown (none for the first).
    pub fn cursor(&self) -> Option<String> {
        self.trail().pop()
    }

    fn with_trail(&self, trail: &[String]) -> Self {
        Self {
            pages: (!trail.is_empty()).then(|| trail.join(&TRAIL_SEPARATOR.to_string())),
            ..self.clone()
        }
    }

    /// The next page, which starts at `cursor`.
    pub fn next_page(&self, cursor: &str) -> Self {
        let mut trail = self.trail();
        trail.push(cursor.to_owned());
        self.with_trail(&trail)
    }

    /// The page before this one (the first stays the first).
    pub fn previous_page(&self) -> Self {
        let mut trail = self.trail();
        trail.pop();
        self.with_trail(&trail)
    }

    /// The same selection on its first page.
    pub fn first_page(&self) -> Self {
        self.with_trail(&[])
    }

    /// Whether any filter is set (not the scope, order or page size).
    pub fn is_filtered(&self) -> bool {
        self.status.is_some()
            || [
                &self.entry_id,
                &self.requester,
                &self.approver,
                &self.from,
                &self.to,
            ]
            .iter()
            .any(|v| set(v).is_some())
    }

    /// The same filters without empty values (for the URL).
    pub fn normalized(&self) -> Self {
        let keep = |v: &Option<String>| set(v).map(str::to_owned);
        Self {
            scope: self.scope.filter(|s| *s != ReportScope::Mine),
            status: self.status,
            entry_id: keep(&self.entry_id),
            requester: set(&self.requester).map(case::lower),
            approver: set(&self.approver).map(case::lower),
            from: keep(&self.from),
            to: keep(&self.to),
            order: self.order.filter(|o| *o != ReportOrder::Newest),
            limit: self.limit,
            pages: keep(&self.pages),
        }
    }

    /// What is wrong with the filters, before anything is asked of the server: the
    /// field's element id and the message, in the form's order.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (value, id, name) in [
            (&self.requester, "filter-requester", "Requester"),
            (&self.approver, "filter-approver", "Approver"),
        ] {
            if let Some(v) = set(value)
                && Email::parse(v).is_err()
            {
                out.push((
                    id,
                    format!("{name}: enter a whole email address, such as alice@example.com"),
                ));
            }
        }
        let day = |v: &Option<String>| set(v).map(time::parse_date);
        match (day(&self.from), day(&self.to)) {
            (Some(None), _) => out.push(("filter-from", "Requested from: enter a day".to_owned())),
            (_, Some(None)) => out.push(("filter-to", "Requested to: enter a day".to_owned())),
            (Some(Some(from)), Some(Some(to))) if to < from => out.push((
                "filter-to",
                "Requested to: must be the same day as “Requested from” or later".to_owned(),
            )),
            _ => {}
        }
        out
    }

    /// The API's query for the page shown, with days read in `zone`. `limit` overrides
    /// the page size (the CSV export takes the largest pages) and `cursor` the page.
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
            requester: set(&self.requester).map(case::lower),
            approver: set(&self.approver).map(case::lower),
            from: set(&self.from).and_then(|d| time::day_start(d, zone)),
            to: set(&self.to).and_then(|d| time::day_end(d, zone)),
            order: self.order.filter(|o| *o != ReportOrder::Newest),
            limit: Some(limit.unwrap_or_else(|| self.page_size())),
            cursor: cursor.map(str::to_owned),
            count: None,
        }
    }
}

/// The report's columns, as PRODUCT.md lists them (the requested start, end and
/// duration shown as one), with what was granted, when and by whom it was decided, and
/// the request's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Status,
    Entry,
    RequestedBy,
    Approver,
    Rights,
    RequestedOn,
    Requested,
    Granted,
    Decided,
    Messages,
    Id,
}

impl Column {
    /// Every column, in order.
    pub const ALL: [Column; 11] = [
        Column::Status,
        Column::Entry,
        Column::RequestedBy,
        Column::Approver,
        Column::Rights,
        Column::RequestedOn,
        Column::Requested,
        Column::Granted,
        Column::Decided,
        Column::Messages,
        Column::Id,
    ];

    /// The columns a scope shows: "Requested by" says nothing in "My requests", nor
    /// "Approver" in "My approvals".
    pub fn shown(scope: ReportScope) -> Vec<Column> {
        Self::ALL
            .into_iter()
            .filter(|c| {
                !matches!(
                    (scope, c),
                    (ReportScope::Mine, Column::RequestedBy)
                        | (ReportScope::Approvals, Column::Approver)
                )
            })
            .collect()
    }

    /// Its name in class names.
    pub fn key(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Entry => "entry",
            Self::RequestedBy => "requested_by",
            Self::Approver => "approver",
            Self::Rights => "rights",
            Self::RequestedOn => "requested_on",
            Self::Requested => "requested",
            Self::Granted => "granted",
            Self::Decided => "decided",
            Self::Messages => "messages",
            Self::Id => "id",
        }
    }

    /// Its header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Status => "Status",
            Self::Entry => "Entry",
            Self::RequestedBy => "Requested by",
            Self::Approver => "Approver",
            Self::Rights => "Rights",
            Self::RequestedOn => "Requested on",
            Self::Requested => "Requested",
            Self::Granted => "Granted",
            Self::Decided => "Decided",
            Self::Messages => "Messages",
            Self::Id => "ID",
        }
    }
}

/// How many requests a report selects, as its count answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The number counted.
    pub n: u64,
    /// Whether that is all of them (else counting stopped at its budget: at least).
    pub exact: bool,
}

/// Where a page sits in the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagePlace {
    /// The page number, from 1.
    pub page: usize,
    /// Rows per page asked for.
    pub page_size: u32,
    /// How many requests the pages before it listed (a page can be short: on
    /// DynamoDB a page stops at its read budget).
    pub offset: u64,
    /// The rows on this page.
    pub rows: usize,
}

/// "Showing 26–50 of 73 requests, page 2 of 3.": where the page sits in the whole,
/// with the total when it is known.
pub fn showing(at: PagePlace, total: Option<Counted>) -> String {
    let PagePlace {
        page,
        page_size,
        offset,
        rows,
    } = at;
    if rows == 0 {
        return format!(
            "No matching requests among those read for page {page}; the next page reads on."
        );
    }
    let first = offset + 1;
    let last = offset + rows as u64;
    let noun = |n: u64| if n == 1 { "request" } else { "requests" };
    match total {
        Some(Counted { n, exact: true }) => {
            let pages = page as u64 + n.saturating_sub(last).div_ceil(u64::from(page_size));
            format!(
                "Showing {first}–{last} of {n} {}, page {page} of {pages}.",
                noun(n)
            )
        }
        Some(Counted { n, exact: false }) => format!(
            "Showing {first}–{last} of at least {} {}, page {page}.",
            n.max(last),
            noun(n.max(last))
        ),
        None => format!("Showing {first}–{last}, page {page}."),
    }
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
    use chrono::{DateTime, Utc};

    use super::*;

    struct PlusOne;

    impl Zone for PlusOne {
        fn offset_minutes(&self, _: DateTime<Utc>) -> i32 {
            60
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
            order: Some(ReportOrder::Oldest),
            limit: Some(50),
            ..ReportSelection::default()
        };
        let api = q.api_query(Some("c1"), None, &PlusOne);
        assert_eq!(
            serde_urlencoded::to_string(&api).unwrap(),
            "scope=all&status=pending&requester=alice%40example.com\
             &from=2030-01-14T23%3A00%3A00Z&to=2030-01-15T23%3A00%3A00Z&order=oldest&limit=50&cursor=c1"
        );
        // What the server reads back is what the filters say.
        let read: RequestsQuery =
            serde_urlencoded::from_str(&serde_urlencoded::to_string(&api).unwrap()).unwrap();
        assert_eq!(read, api);
        assert_eq!(ReportSelection::default().page_size(), 25);
        assert_eq!(ReportSelection::default().normalized().scope, None);
        assert!(q.is_filtered() && !ReportSelection::default().is_filtered());
    }

    #[test]
    fn the_page_lives_in_the_url() {
        let first = ReportSelection {
            status: Some(Status::Active),
            ..ReportSelection::default()
        };
        assert_eq!((first.page_number(), first.cursor()), (1, None));
        let second = first.next_page("AAA");
        let third = second.next_page("BBB");
        assert_eq!(third.pages.as_deref(), Some("AAA.BBB"));
        assert_eq!(
            (third.page_number(), third.cursor().as_deref()),
            (3, Some("BBB"))
        );
        // Written to the URL and read back, the same page.
        let url = serde_urlencoded::to_string(third.normalized()).unwrap();
        assert_eq!(url, "status=active&pages=AAA.BBB");
        let back: ReportSelection = serde_urlencoded::from_str(&url).unwrap();
        assert_eq!(back.previous_page(), second);
        assert_eq!(third.first_page(), first);
    }

    #[test]
    fn wrong_filters_are_named_before_asking() {
        let q = ReportSelection {
            requester: Some("ali".into()),
            from: Some("2030-01-15".into()),
            to: Some("2030-01-14".into()),
            ..ReportSelection::default()
        };
        let ids: Vec<&str> = q.problems().iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["filter-requester", "filter-to"]);
        assert!(ReportSelection::default().problems().is_empty());
    }

    #[test]
    fn each_scope_drops_the_column_that_says_nothing() {
        assert!(!Column::shown(ReportScope::Mine).contains(&Column::RequestedBy));
        assert!(!Column::shown(ReportScope::Approvals).contains(&Column::Approver));
        assert_eq!(Column::shown(ReportScope::All).len(), Column::ALL.len());
    }

    #[test]
    fn the_count_says_where_the_page_sits() {
        let at = |page, offset, rows| PagePlace {
            page,
            page_size: 25,
            offset,
            rows,
        };
        let exact = |n| Some(Counted { n, exact: true });
        assert_eq!(
            showing(at(2, 25, 25), exact(73)),
            "Showing 26–50 of 73 requests, page 2 of 3."
        );
        assert_eq!(
            showing(at(1, 0, 1), exact(1)),
            "Showing 1–1 of 1 request, page 1 of 1."
        );
        assert_eq!(showing(at(1, 0, 3), None), "Showing 1–3, page 1.");
    }

    #[test]
    fn a_short_page_counts_from_what_was_listed_before_it() {
        let at = |page, offset, rows| PagePlace {
            page,
            page_size: 25,
            offset,
            rows,
        };
        // Page 2 after a first page that stopped at its read budget with 4 rows.
        assert_eq!(
            showing(at(2, 4, 25), Some(Counted { n: 40, exact: true })),
            "Showing 5–29 of 40 requests, page 2 of 3."
        );
        assert_eq!(
            showing(
                at(3, 50, 25),
                Some(Counted {
                    n: 60,
                    exact: false
                })
            ),
            "Showing 51–75 of at least 75 requests, page 3."
        );
        assert_eq!(
            showing(at(1, 0, 0), Some(Counted { n: 3, exact: true })),
            "No matching requests among those read for page 1; the next page reads on."
        );
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
