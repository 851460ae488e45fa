//! Report queries: which index answers, which key ranges it reads, and the pages of
//! them merged newest first.
//!
//! A requester (by scope or filter) reads [`BY_REQUESTER`]; else an approver reads
//! [`BY_APPROVER`], whose pending and decided sections are merged; else months of
//! [`BY_MONTH`] are walked newest first. `from`, `to` and the cursor become sort key
//! ranges; entry, requester, approver and the stored states a status can come from
//! become a filter; the status itself is read against `now` here, as the domain
//! reads it.

use std::collections::VecDeque;

use super::item::{
    APPROVER_DECIDED, APPROVER_PENDING, approver_partition, created_position, key_time, month_of,
    month_partition, requester_partition, s,
};
use super::read::{Expr, Query, Range};
use super::table::{BY_APPROVER, BY_MONTH, BY_REQUESTER, Index};
use chrono::TimeDelta;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::{Email, RequestId};
use tempaccess_core::ports::{Scope, StoreQuery};
use tempaccess_core::report::Cursor;
use tempaccess_core::request::{AccessRequest, State};

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
    let from = q.from.map(key_time);
    // `to` and the cursor are both exclusive upper ends: the lower one holds.
    let before = [
        q.to.map(key_time),
        after.map(|p| created_position(p.created_at, &p.id)),
    ]
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
            let state = expr.name("state");
            let values: Vec<_> = status
                .stored_states()
                .iter()
                .map(|st| expr.value(s(st.as_str())))
                .collect();
            clauses.push(format!("{state} IN ({})", values.join(", ")));
        }
        (!clauses.is_empty()).then(|| clauses.join(" AND "))
    };

    streams
        .into_iter()
        .map(|parts| Stream {
            queries: parts
                .into_iter()
                .filter_map(|(partition, range)| {
                    Some(
                        Query::on(Some(index), partition)
                            .range(range?)
                            .descending()
                            .filter(filter),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The months an all-requests report walks for `q` after `after`, newest first.
fn months(q: &StoreQuery, after: Option<Cursor>) -> impl Iterator<Item = i32> {
    // The last instant the report covers: before `to`, and no later than now (give or
    // take a skewed clock).
    let latest = q.now + CLOCK_SKEW;
    let latest =
        q.to.map_or(latest, |to| latest.min(to - TimeDelta::nanoseconds(1)));
    let top = month_of(latest);
    let first = after.map_or(top, |p| top.min(month_of(p.created_at)));
    let last = q
        .from
        .map_or(top - (DEFAULT_MONTHS - 1), month_of)
        .max(top - (MAX_MONTHS - 1));
    (last..=first).rev()
}

/// Whether a request read from the index matches what the filter could not decide:
/// its status at `now`.
pub(crate) fn matches(q: &StoreQuery, r: &AccessRequest) -> bool {
    q.status.is_none_or(|status| r.status(q.now) == status)
}

/// The merge order of requests: newest first, then by id.
pub(crate) fn order_key(r: &AccessRequest) -> (Timestamp, RequestId) {
    (r.created_at, r.id)
}
