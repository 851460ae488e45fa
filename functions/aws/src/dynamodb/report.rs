//! Report queries: which index answers, which key range it reads, and how many items
//! a page may read (every index below sorts by creation time, so a page is read in
//! order and never sorted after the fact).
//!
//! A requester (by scope or filter) reads [`BY_REQUESTER`]; else an approver reads
//! [`BY_APPROVER`], whose pending and decided sections are two Queries merged; else
//! [`ALL_REQUESTS`] is read. `from`, `to` and the cursor become sort key ranges;
//! entry, requester, approver and the status become a filter ([`status_filter`],
//! exact against `now`, so a `Select=COUNT` Query counts what the pages list), and the
//! status is checked again as the domain reads it.
//!
//! The read budget: a page reads each of its partitions once ([`page_read`] items at
//! most, and DynamoDB's 1 MB), so a page is one Query (two for an approver's pending and
//! decided sections) however rare the filter's matches; a page that stops there is
//! short and its cursor continues where the reading stopped. A count reads at most
//! [`COUNT_QUERIES`] pages of matches and then says "at least".

use super::item::{
    ALL_REQUESTS_PARTITION, APPROVER_DECIDED, APPROVER_PENDING, GRANT_START, Item,
    approver_partition, created_position, key_time, key_time_after, position_of,
    requester_partition, s,
};
use super::read::{Expr, Query, Range};
use super::store::ReadBudget;
use super::table::{
    ALL_REQUESTS, BY_APPROVER, BY_REQUESTER, GRANTS_BY_END, Index, PENDING_BY_EXPIRY,
};
use tempaccess_core::Timestamp;
use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::ports::{Scope, StoreError, StoreQuery};
use tempaccess_core::report::{Cursor, ReportOrder};
use tempaccess_core::request::{AccessRequest, State, Status};

/// The most items one Query of a filtered page reads (DynamoDB stops sooner at 1 MB).
pub(crate) const MAX_READ: i32 = 1000;

/// The most Queries a count makes (each reads up to [`MAX_READ`] items and 1 MB):
/// 25,000 requests at most, well inside the report function's time, before the count
/// says "at least".
pub(crate) const COUNT_QUERIES: usize = 25;

/// How many items a page of `limit` requests reads with `query`: one more than the
/// page when every item read is listed (no filter), else the budget's.
pub(crate) fn page_read(limit: usize, query: &Query, budget: ReadBudget) -> i32 {
    let whole_page = i32::try_from(limit + 1).unwrap_or(MAX_READ).min(MAX_READ);
    if query.filter.is_some() {
        budget.page_items.max(whole_page)
    } else {
        whole_page
    }
}

/// Where a Query of [`plan`] stopped: the position in its `LastEvaluatedKey`.
pub(crate) fn stopped_at(query: &Query, key: &Item) -> Result<(Timestamp, RequestId), StoreError> {
    query
        .index
        .and_then(|index| key.get(index.sort_key))
        .and_then(|v| v.as_s().ok())
        .and_then(|k| position_of(k))
        .ok_or_else(|| {
            StoreError::Unavailable("a report read stopped at a key it cannot read".into())
        })
}

/// The one person a scope and a filter together select, if any; `Err` when they
/// select two different people (nothing matches).
fn person<'a>(
    scoped: Option<&'a Email>,
    filter: Option<&'a Email>,
) -> Result<Option<&'a Email>, ()> {
    match (scoped, filter) {
        (Some(a), Some(b)) if a != b => Err(()),
        (a, b) => Ok(a.or(b)),
    }
}

/// The Queries that answer `q` after `after`, each in the report's order, to merge;
/// none when nothing can match.
pub(crate) fn plan(q: &StoreQuery, after: Option<Cursor>) -> Vec<Query> {
    let (scoped_requester, scoped_approver) = match &q.scope {
        Scope::RequestedBy(who) => (Some(who), None),
        Scope::ApprovedBy(who) => (None, Some(who)),
        Scope::All => (None, None),
    };
    let (Ok(requester), Ok(approver)) = (
        person(scoped_requester, q.requester.as_ref()),
        person(scoped_approver, q.approver.as_ref()),
    ) else {
        return Vec::new();
    };
    let oldest_first = q.order == ReportOrder::Oldest;
    // The cursor is an exclusive end: the upper one newest first, the lower one oldest
    // first. `to` is always an exclusive upper end; of two upper ends the lower holds,
    // of two lower ends the higher.
    let cursor = after.map(|p| created_position(p.created_at, &p.id));
    let (cursor_from, cursor_before) = match cursor {
        // Every position has the same length and sorts below `~`: the smallest key
        // after a position is the position followed by `~`.
        Some(p) if oldest_first => (Some(format!("{p}~")), None),
        Some(p) => (None, Some(p)),
        None => (None, None),
    };
    let from = [q.from.map(key_time), cursor_from]
        .into_iter()
        .flatten()
        .max();
    let before = [q.to.map(key_time), cursor_before]
        .into_iter()
        .flatten()
        .min();
    let sections = |prefix: &str| {
        Range::bounded(
            Some(format!("{prefix}{}", from.as_deref().unwrap_or(""))),
            Some(format!("{prefix}{}", before.as_deref().unwrap_or("~"))),
        )
    };

    let (index, parts): (Index, Vec<(String, Option<Range>)>) = if let Some(who) = requester {
        let range = Range::bounded(from.clone(), before.clone());
        (BY_REQUESTER, vec![(requester_partition(who), range)])
    } else if let Some(who) = approver {
        let wanted = q.status.map(|s| s.stored_states());
        let pending = wanted.is_none_or(|w| w.contains(&State::Pending));
        let decided = wanted.is_none_or(|w| w.iter().any(|s| *s != State::Pending));
        let parts = [(APPROVER_PENDING, pending), (APPROVER_DECIDED, decided)]
            .into_iter()
            .filter(|(_, wanted)| *wanted)
            .map(|(prefix, _)| (approver_partition(who), sections(prefix)))
            .collect();
        (BY_APPROVER, parts)
    } else {
        let range = Range::bounded(from.clone(), before.clone());
        (
            ALL_REQUESTS,
            vec![(ALL_REQUESTS_PARTITION.to_owned(), range)],
        )
    };

    let filter = |expr: &mut Expr| {
        let mut clauses = Vec::new();
        let mut equals = |attribute: &str, value: String| {
            let (name, value) = (expr.name(attribute), expr.value(s(value)));
            clauses.push(format!("{name} = {value}"));
        };
        if let Some(entry) = &q.entry_id {
            equals("entry_id", entry.to_string());
        }
        // The index's partition already selects its own person.
        if let Some(who) = requester.filter(|_| index != BY_REQUESTER) {
            equals("requester", who.to_string());
        }
        if let Some(who) = approver.filter(|_| index != BY_APPROVER) {
            equals("approver", who.to_string());
        }
        if let Some(status) = q.status {
            clauses.push(status_filter(expr, status, q.now));
        }
        (!clauses.is_empty()).then(|| clauses.join(" AND "))
    };

    parts
        .into_iter()
        .filter_map(|(partition, range)| {
            let query = Query::on(Some(index), partition).range(range?);
            let query = if oldest_first {
                query
            } else {
                query.descending()
            };
            Some(query.filter(filter))
        })
        .collect()
}

/// The filter of the requests whose [`AccessRequest::status`] at `now` is `status`,
/// exact, so that a count (which returns no items to check) counts what a page lists.
/// It reads the stored state and the times kept as key-ordered text: a pending
/// request's expiry ([`PENDING_BY_EXPIRY`]'s sort key), an approved grant's end
/// ([`GRANTS_BY_END`]'s) and start ([`GRANT_START`]). Those attributes exist only
/// while the request is in that state, and each begins with its time.
pub(crate) fn status_filter(expr: &mut Expr, status: Status, now: Timestamp) -> String {
    let after_now = key_time_after(now);
    let state = |expr: &mut Expr, st: State| {
        format!("{} = {}", expr.name("state"), expr.value(s(st.as_str())))
    };
    let at_or_after = |expr: &mut Expr, attribute: &str, key: &str| {
        format!("{} >= {}", expr.name(attribute), expr.value(s(key)))
    };
    let before = |expr: &mut Expr, attribute: &str, key: &str| {
        format!("{} < {}", expr.name(attribute), expr.value(s(key)))
    };
    let expiry = PENDING_BY_EXPIRY.sort_key;
    let end = GRANTS_BY_END.sort_key;
    match status {
        // expires_at > now
        Status::Pending => format!(
            "({} AND {})",
            state(expr, State::Pending),
            at_or_after(expr, expiry, &after_now)
        ),
        Status::Expired => format!(
            "({} OR ({} AND {}))",
            state(expr, State::Expired),
            state(expr, State::Pending),
            before(expr, expiry, &after_now)
        ),
        // starts_at > now (and so ends_at > now)
        Status::Scheduled => format!(
            "({} AND {} AND {})",
            state(expr, State::Approved),
            at_or_after(expr, end, &after_now),
            at_or_after(expr, GRANT_START, &after_now)
        ),
        // starts_at <= now < ends_at; a grant written without its start reads as
        // started, as an approved request without a grant reads as active.
        Status::Active => {
            let approved = state(expr, State::Approved);
            let running = at_or_after(expr, end, &after_now);
            let start = expr.name(GRANT_START);
            let started = before(expr, GRANT_START, &after_now);
            format!("({approved} AND {running} AND (attribute_not_exists({start}) OR {started}))")
        }
        Status::Ended => format!(
            "({} OR ({} AND {}))",
            state(expr, State::Ended),
            state(expr, State::Approved),
            before(expr, end, &after_now)
        ),
        Status::Denied | Status::Cancelled | Status::Revoked => {
            let name = expr.name("state");
            let values: Vec<_> = status
                .stored_states()
                .iter()
                .map(|st| expr.value(s(st.as_str())))
                .collect();
            format!("{name} IN ({})", values.join(", "))
        }
    }
}

/// Whether a request read from the index is one the report selects: its status at
/// `now`, checked again as the domain reads it.
pub(crate) fn matches(q: &StoreQuery, r: &AccessRequest) -> bool {
    q.status.is_none_or(|status| r.status(q.now) == status)
}

/// The merge key of requests: by creation, then id (the report takes the highest
/// first when newest first, the lowest when oldest first).
pub(crate) fn order_key(r: &AccessRequest) -> (Timestamp, RequestId) {
    (r.created_at, r.id)
}
