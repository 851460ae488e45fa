//! Report queries: which index answers, which key ranges it reads, and the pages of
//! them merged in the report's order (newest or oldest first: every index below sorts
//! by creation time, so a page is read in order and never sorted after the fact).
//!
//! A requester (by scope or filter) reads [`BY_REQUESTER`]; else an approver reads
//! [`BY_APPROVER`], whose pending and decided sections are merged; else months of
//! [`BY_MONTH`] are walked in order. `from`, `to` and the cursor become sort key
//! ranges; entry, requester, approver and the status become a filter
//! ([`status_filter`], exact against `now`, so a `Select=COUNT` Query counts what the
//! pages list), and the status is checked again as the domain reads it.

use std::collections::VecDeque;

use super::item::{
    APPROVER_DECIDED, APPROVER_PENDING, GRANT_START, approver_partition, created_position,
    key_time, key_time_after, month_of, month_partition, requester_partition, s,
};
use super::read::{Expr, Query, Range};
use super::table::{BY_APPROVER, BY_MONTH, BY_REQUESTER, GRANTS_BY_END, Index, PENDING_BY_EXPIRY};
use chrono::TimeDelta;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::ports::{Scope, StoreQuery};
use tempaccess_core::report::{Cursor, ReportOrder};
use tempaccess_core::request::{AccessRequest, State, Status};

/// The most items one Query reads (pages grow to this when a filter drops many).
pub(crate) const MAX_READ: i32 = 1000;

/// Without `from`, an all-requests report reaches back this many months.
pub(crate) const DEFAULT_MONTHS: i32 = 24;

/// However far back `from` is, an all-requests report walks at most this many months
/// (ten years), each an empty Query at worst.
pub(crate) const MAX_MONTHS: i32 = 120;

/// A writer whose clock runs ahead of the reader's may create a request "after" the
/// reader's now; months that late are still read.
const CLOCK_SKEW: TimeDelta = TimeDelta::days(1);

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

/// A sequence of Queries whose results follow one another newest first.
pub(crate) struct Stream {
    pub queries: VecDeque<Query>,
}

/// The partitions a stream reads in order, each with its range (`None`: empty).
type Parts = Vec<(String, Option<Range>)>;

/// The Queries that answer `q` after `after`, as streams to merge; none when nothing
/// can match.
pub(crate) fn plan(q: &StoreQuery, after: Option<Cursor>) -> Vec<Stream> {
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

    let (index, streams): (Index, Vec<Parts>) = if let Some(who) = requester {
        let range = Range::bounded(from.clone(), before.clone());
        (BY_REQUESTER, vec![vec![(requester_partition(who), range)]])
    } else if let Some(who) = approver {
        let wanted = q.status.map(|s| s.stored_states());
        let pending = wanted.is_none_or(|w| w.contains(&State::Pending));
        let decided = wanted.is_none_or(|w| w.iter().any(|s| *s != State::Pending));
        let parts = [(APPROVER_PENDING, pending), (APPROVER_DECIDED, decided)]
            .into_iter()
            .filter(|(_, wanted)| *wanted)
            .map(|(prefix, _)| vec![(approver_partition(who), sections(prefix))])
            .collect();
        (BY_APPROVER, parts)
    } else {
        let months = months(q, after)
            .map(|m| {
                (
                    month_partition(m),
                    Range::bounded(from.clone(), before.clone()),
                )
            })
            .collect();
        (BY_MONTH, vec![months])
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

    streams
        .into_iter()
        .map(|parts| Stream {
            queries: parts
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
                .collect(),
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

/// The months an all-requests report walks for `q` after `after`, in the report's
/// order.
fn months(q: &StoreQuery, after: Option<Cursor>) -> Box<dyn Iterator<Item = i32>> {
    // The last instant the report covers: before `to`, and no later than now (give or
    // take a skewed clock).
    let latest = q.now + CLOCK_SKEW;
    let latest =
        q.to.map_or(latest, |to| latest.min(to - TimeDelta::nanoseconds(1)));
    let top = month_of(latest);
    let bottom = q
        .from
        .map_or(top - (DEFAULT_MONTHS - 1), month_of)
        .max(top - (MAX_MONTHS - 1));
    let at_cursor = after.map(|p| month_of(p.created_at));
    match q.order {
        ReportOrder::Newest => {
            let first = at_cursor.map_or(top, |m| top.min(m));
            Box::new((bottom..=first).rev())
        }
        ReportOrder::Oldest => {
            let first = at_cursor.map_or(bottom, |m| bottom.max(m));
            Box::new(first..=top)
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
