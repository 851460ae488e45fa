//! The Temporary Access Requests Report: its pages and their cursors, the same on
//! every store, and its CSV, shared by the API and the CLI.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Timestamp;
use crate::entry::{Entry, PermissionSet, describe_seconds};
use crate::error::Error;
use crate::ids::{PermissionSetId, RequestId};
use crate::ports::{Scope, StoreError, StoreQuery};
use crate::request::AccessRequest;
use crate::timing::Requested;

/// The largest page a report returns.
pub const MAX_PAGE: u32 = 500;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// How many items a page holds: 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageSize(u32);

impl PageSize {
    /// The largest page.
    pub const MAX: PageSize = PageSize(MAX_PAGE);

    /// Checks a page size asked for as `limit`.
    pub fn new(n: u32) -> Result<Self, Error> {
        if (1..=MAX_PAGE).contains(&n) {
            Ok(Self(n))
        } else {
            Err(Error::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE}"),
            ))
        }
    }

    /// The number of items.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self(DEFAULT_PAGE)
    }
}

/// The order of a report: by when the requests were sent, the one order every store
/// reads from an index (DynamoDB's indexes sort by creation time), so a page is read in
/// order and never sorted after reading everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportOrder {
    /// Newest first (ties by id, highest first).
    #[default]
    Newest,
    /// Oldest first (ties by id, lowest first): an inbox's order.
    Oldest,
}

impl ReportOrder {
    /// Every order.
    pub const ALL: [ReportOrder; 2] = [Self::Newest, Self::Oldest];

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
        }
    }

    /// The order named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Where a page stopped: the last request listed, or the last position read when a
/// page stopped at its read budget. The next page holds what was created before it
/// (newest first) or after it (oldest first), ties by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the last request listed (or read) was created.
    pub created_at: Timestamp,
    /// Its id.
    pub id: RequestId,
    /// How many requests the pages before the cursor listed, so that a page can say
    /// where it sits in the whole ("51–100") even when a page before it was short.
    pub listed: u64,
}

impl Cursor {
    /// The format of a cursor, in case it ever changes.
    const VERSION: &'static str = "3";

    /// Where a page ending with `last` stopped, `listed` requests having been listed
    /// up to and including it.
    pub fn after(last: &AccessRequest, listed: u64) -> Self {
        Self {
            created_at: last.created_at,
            id: last.id,
            listed,
        }
    }

    /// How many requests came before the page a query's cursor starts (0 without a
    /// cursor).
    pub fn listed_before(query: &StoreQuery) -> Result<u64, StoreError> {
        query
            .cursor
            .as_deref()
            .map_or(Ok(0), |c| Self::decode(query, c).map(|c| c.listed))
    }

    /// The cursor as a client passes it back: the position and a digest of what
    /// `query` selects, in base64url. It carries no secret: a page is read within the
    /// caller's scope and filters whatever position it names, so an edited cursor can
    /// only skip requests the caller may see anyway.
    pub fn encode(&self, query: &StoreQuery) -> String {
        let text = format!(
            "{}|{}|{}|{}|{}",
            Self::VERSION,
            self.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            self.id,
            self.listed,
            selection(query)
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    /// The position in `cursor`, if it was made for a query that selects what `query`
    /// selects (its page size and clock may differ).
    pub fn decode(query: &StoreQuery, cursor: &str) -> Result<Self, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::BadCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
        let mut parts = text.split('|');
        let (Some(Self::VERSION), Some(created_at), Some(id), Some(listed), Some(digest), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(StoreError::BadCursor);
        };
        if digest != selection(query) {
            return Err(StoreError::BadCursor);
        }
        Ok(Self {
            created_at: chrono::DateTime::parse_from_rfc3339(created_at)
                .map_err(|_| StoreError::BadCursor)?
                .to_utc(),
            id: RequestId::parse(id).map_err(|_| StoreError::BadCursor)?,
            listed: listed.parse().map_err(|_| StoreError::BadCursor)?,
        })
    }
}

/// A short digest of what a query selects and in which order: its scope, filters and
/// order, not its page size, clock or cursor.
fn selection(q: &StoreQuery) -> String {
    let (scope, who) = match &q.scope {
        Scope::RequestedBy(who) => ("requested_by", Some(who)),
        Scope::ApprovedBy(who) => ("approved_by", Some(who)),
        Scope::All => ("all", None),
    };
    let selection = (
        scope,
        who,
        q.order,
        q.status,
        &q.entry_id,
        &q.requester,
        &q.approver,
        q.from,
        q.to,
    );
    // Strings, enums, times and options in a tuple: serializing them cannot fail.
    let json = serde_json::to_vec(&selection).unwrap_or_default();
    hex::encode(&Sha256::digest(json)[..8])
}

/// The report's columns, in order: the product's twelve, then when and by whom it was
/// decided, the grant's own start and end, who ended it early and when, and its id.
pub const COLUMNS: [&str; 19] = [
    "status",
    "requested_by",
    "entry",
    "rights",
    "requested_on",
    "requested_start",
    "requested_end",
    "requested_duration",
    "authorized_duration",
    "approver",
    "request_message",
    "authorization_message",
    "decided_at",
    "decided_by",
    "granted_start",
    "granted_end",
    "ended_early_at",
    "ended_early_by",
    "id",
];

/// What a spreadsheet may read as the start of a formula: OWASP's list (with the line
/// feed), and the full-width signs some spreadsheets take for the ASCII ones.
const FORMULA_STARTS: [char; 11] = [
    '=', '+', '-', '@', '\t', '\r', '\n', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// One CSV cell: quoted when needed, and defused when a spreadsheet would read it
/// as a formula.
fn cell(s: &str) -> String {
    let s = if s.starts_with(FORMULA_STARTS) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The name people read for the rights of `r`: the set's name on its entry (one of
/// `entries`), the built-in set's name, else its id.
fn rights(r: &AccessRequest, entries: &[Entry]) -> String {
    let id = r.granted_permission_set().unwrap_or(&r.permission_set);
    match entries.iter().find(|e| e.id == r.entry_id) {
        Some(e) => e.set_name(id),
        None if *id == PermissionSetId::view_password_execute() => {
            PermissionSet::view_password_execute().name
        }
        None => id.to_string(),
    }
}

/// The report's row for one request, read at `now`, its rights named as on `entries`.
pub fn row(r: &AccessRequest, now: Timestamp, entries: &[Entry]) -> [String; 19] {
    let (start, end) = match r.requested {
        Requested::Window(w) => (Some(w.start()), Some(w.end())),
        Requested::Duration(_) => (None, None),
    };
    let authorized = r
        .grant
        .as_ref()
        .map(|g| describe_seconds((g.ends_at - g.starts_at).num_seconds()))
        .unwrap_or_default();
    let person = |p: Option<&crate::ids::Email>| p.map(ToString::to_string).unwrap_or_default();
    [
        r.status(now).as_str().to_owned(),
        r.requester.to_string(),
        r.entry_name.clone(),
        rights(r, entries),
        time(Some(r.created_at)),
        time(start),
        time(end),
        describe_seconds(r.requested.length().num_seconds()),
        authorized,
        r.approver.to_string(),
        r.message.as_str().to_owned(),
        r.decision_comment
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        time(r.decided_at),
        person(r.decided_by.as_ref()),
        time(r.grant.as_ref().map(|g| g.starts_at)),
        time(r.grant.as_ref().map(|g| g.ends_at)),
        time(r.revoked_at),
        person(r.revoked_by.as_ref()),
        r.id.to_string(),
    ]
}

/// The whole report as CSV with a header line.
pub fn csv(items: &[AccessRequest], now: Timestamp, entries: &[Entry]) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for r in items {
        let cells: Vec<String> = row(r, now, entries).iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Email, EntryId};
    use crate::request::Status;

    fn query() -> StoreQuery {
        StoreQuery {
            limit: PageSize::new(10).unwrap(),
            ..crate::testing::every_request(crate::testing::t0())
        }
    }

    fn position() -> Cursor {
        let at = chrono::DateTime::from_timestamp(1_900_000_000, 250_000_000).unwrap();
        Cursor {
            created_at: at,
            id: RequestId::new(at, 7),
            listed: 30,
        }
    }

    #[test]
    fn a_cursor_continues_its_query_whatever_the_page_size_or_clock() {
        let cursor = position().encode(&query());
        let later = StoreQuery {
            limit: PageSize::new(50).unwrap(),
            now: query().now + chrono::TimeDelta::hours(1),
            ..query()
        };
        assert_eq!(Cursor::decode(&later, &cursor).unwrap(), position());
    }

    #[test]
    fn a_cursor_is_refused_by_another_query_or_when_malformed() {
        let cursor = position().encode(&query());
        let others = [
            StoreQuery {
                status: Some(Status::Active),
                ..query()
            },
            StoreQuery {
                scope: Scope::RequestedBy(Email::parse("a@example.com").unwrap()),
                ..query()
            },
            StoreQuery {
                entry_id: Some(EntryId::parse("prod-db").unwrap()),
                ..query()
            },
            StoreQuery {
                from: Some(query().now),
                ..query()
            },
            StoreQuery {
                order: ReportOrder::Oldest,
                ..query()
            },
        ];
        for other in others {
            assert!(matches!(
                Cursor::decode(&other, &cursor),
                Err(StoreError::BadCursor)
            ));
        }
        for bad in ["", "not a cursor!", "aGVsbG8", &cursor[..cursor.len() / 2]] {
            assert!(
                matches!(Cursor::decode(&query(), bad), Err(StoreError::BadCursor)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn page_sizes_are_one_to_the_maximum() {
        assert_eq!(PageSize::default().get(), DEFAULT_PAGE);
        assert_eq!(PageSize::new(MAX_PAGE).unwrap(), PageSize::MAX);
        for bad in [0, MAX_PAGE + 1] {
            assert_eq!(PageSize::new(bad).unwrap_err().field(), Some("limit"));
        }
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        // Found by the fuzz target: a leading line feed, and the full-width signs.
        assert_eq!(cell("\n=1+1"), "\"'\n=1+1\"");
        assert_eq!(cell("\u{FF1D}1+1"), "'\u{FF1D}1+1");
    }
}
