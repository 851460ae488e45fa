//! Keys, and the conversions between domain values and table items.
//!
//! Each item is the domain value's own attributes (written by serde_dynamo) plus the
//! key and index attributes that place it in the layout of [`super::table`]. Reading
//! ignores the placing attributes. Times inside keys have a fixed nanosecond
//! precision, so text order is time order.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{SecondsFormat, TimeDelta};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tempaccess_core::Timestamp;
use tempaccess_core::audit::AuditEvent;
use tempaccess_core::entry::{Entry, User};
use tempaccess_core::ids::{Email, EntryId, RequestId};
use tempaccess_core::ports::{IdempotencyKey, OutgoingMail, PendingRotation, StoreError};
use tempaccess_core::request::{AccessRequest, State};
use tempaccess_core::token::{TokenHash, TokenRecord};

use super::table::{
    ALL_REQUESTS, BY_APPROVER, BY_REQUESTER, ENTRIES, GRANTS_BY_END, Index, OUTBOX_DUE,
    PENDING_BY_EXPIRY, PK, SK, TTL,
};

/// A table item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The sort key of items that are alone in their partition.
const META: &str = "META";

/// The form of a time inside a key: fixed precision, so it sorts as text.
pub(crate) fn key_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The smallest key time after `t`: "strictly after `t`" is "at or after this", and
/// "at or before `t`" is "before this".
pub(crate) fn key_time_after(t: Timestamp) -> String {
    key_time(t + TimeDelta::nanoseconds(1))
}

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// Keeps the source of any failure to encode or decode an item.
pub(crate) fn unavailable<E>(e: E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::Unavailable(Box::new(e))
}

/// A table key: partition and sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key as the API takes it.
    pub fn item(&self) -> Item {
        HashMap::from([
            (PK.to_owned(), s(self.pk.clone())),
            (SK.to_owned(), s(self.sk.clone())),
        ])
    }

    pub fn request(id: &RequestId) -> Self {
        Self::new(format!("REQ#{id}"), META)
    }

    pub fn event(e: &AuditEvent) -> Self {
        Self::new(
            format!("REQ#{}", e.request_id),
            format!("{}{}#{}", Self::EVENT_PREFIX, key_time(e.at), e.id),
        )
    }

    /// Events sort keys begin with this, in their request's partition.
    pub const EVENT_PREFIX: &'static str = "EVT#";

    pub fn token(hash: &TokenHash) -> Self {
        Self::new(format!("TOK#{}", hash.0), "TOK")
    }

    pub fn entry(id: &EntryId) -> Self {
        Self::new(format!("ENT#{id}"), META)
    }

    pub fn user(email: &Email) -> Self {
        Self::new(format!("USR#{email}"), META)
    }

    /// The mail's own partition: the outbox calls name a mail by its id alone.
    pub fn mail(id: &str) -> Self {
        Self::new(format!("OUT#{id}"), "OUT")
    }

    /// A pending rotation's own partition, named by its id alone as mail is.
    pub fn rotation(id: &str) -> Self {
        Self::new(format!("ROT#{id}"), "ROT")
    }

    /// The one pending request a requester may have for an entry. The entry id (a
    /// slug, no `#`) comes first, so the key is unambiguous whatever the address holds.
    pub fn pending_request(requester: &Email, entry: &EntryId) -> Self {
        Self::new(format!("ONE#{entry}#{requester}"), "ONE")
    }

    /// The key is hashed: any length and character set fits, and the fixed-length hash
    /// at the end keeps `<requester>#<hash>` unambiguous whatever the address holds.
    pub fn idempotency(requester: &Email, key: &str) -> Self {
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        Self::new(format!("IDEM#{requester}#{hash}"), "IDEM")
    }
}

/// The partition of a requester's requests in [`BY_REQUESTER`].
pub(crate) fn requester_partition(who: &Email) -> String {
    format!("RQR#{who}")
}

/// The partition of an approver's requests in [`BY_APPROVER`].
pub(crate) fn approver_partition(who: &Email) -> String {
    format!("APR#{who}")
}

/// The part of [`BY_APPROVER`]'s sort key before the creation time. Pending sorts
/// after decided, so a descending read lists what waits for a decision first.
pub(crate) fn approver_section(state: State) -> &'static str {
    match state {
        State::Pending => APPROVER_PENDING,
        _ => APPROVER_DECIDED,
    }
}

pub(crate) const APPROVER_PENDING: &str = "PENDING#";
pub(crate) const APPROVER_DECIDED: &str = "DECIDED#";

/// The one partition of [`ALL_REQUESTS`].
pub(crate) const ALL_REQUESTS_PARTITION: &str = "REQUESTS";

/// Where a request sorts among requests: by creation, then id.
pub(crate) fn created_position(created_at: Timestamp, id: &RequestId) -> String {
    format!("{}#{id}", key_time(created_at))
}

/// The creation time and id of a [`created_position`], after any section prefix
/// ([`APPROVER_PENDING`], [`APPROVER_DECIDED`]).
pub(crate) fn position_of(key: &str) -> Option<(Timestamp, RequestId)> {
    let key = [APPROVER_PENDING, APPROVER_DECIDED]
        .into_iter()
        .find_map(|p| key.strip_prefix(p))
        .unwrap_or(key);
    let (at, id) = key.split_once('#')?;
    let at = chrono::DateTime::parse_from_rfc3339(at).ok()?.to_utc();
    Some((at, RequestId::parse(id).ok()?))
}

pub(crate) const GRANTS_PARTITION: &str = "GRANTS";
pub(crate) const OUTBOX_PARTITION: &str = "OUTBOX";
/// Pending rotations share the outbox's due index, in a partition of their own.
pub(crate) const ROTATIONS_PARTITION: &str = "ROTATIONS";
pub(crate) const PENDING_PARTITION: &str = "PENDING";
pub(crate) const ENTRIES_PARTITION: &str = "ENTRIES";

/// The attribute of an approved request holding its grant's start as a key time, so
/// that a filter compares it as text (the report's status filter).
pub(crate) const GRANT_START: &str = "grant_start";

/// A domain value's attributes with its key and index attributes added.
fn place<T: Serialize>(
    value: &T,
    key: Key,
    indexes: impl IntoIterator<Item = (Index, String, String)>,
) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(unavailable)?;
    item.extend(key.item());
    for (index, pk, sk) in indexes {
        item.insert(index.partition_key.to_owned(), s(pk));
        item.insert(index.sort_key.to_owned(), s(sk));
    }
    Ok(item)
}

fn read<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(unavailable)
}

/// A stored request.
pub(crate) struct RequestItem(pub Item);

impl TryFrom<&AccessRequest> for RequestItem {
    type Error = StoreError;

    fn try_from(r: &AccessRequest) -> Result<Self, StoreError> {
        let position = created_position(r.created_at, &r.id);
        let mut indexes = vec![
            (
                BY_REQUESTER,
                requester_partition(&r.requester),
                position.clone(),
            ),
            (
                BY_APPROVER,
                approver_partition(&r.approver),
                format!("{}{position}", approver_section(r.state)),
            ),
            (ALL_REQUESTS, ALL_REQUESTS_PARTITION.to_owned(), position),
        ];
        // The sparse indexes: a write that leaves the state drops the attributes, and
        // with them the item from the index.
        match (r.state, &r.grant) {
            (State::Approved, Some(grant)) => indexes.push((
                GRANTS_BY_END,
                GRANTS_PARTITION.to_owned(),
                format!("{}#{}", key_time(grant.ends_at), r.id),
            )),
            (State::Pending, _) => indexes.push((
                PENDING_BY_EXPIRY,
                PENDING_PARTITION.to_owned(),
                format!("{}#{}", key_time(r.expires_at), r.id),
            )),
            _ => {}
        }
        let mut item = place(r, Key::request(&r.id), indexes)?;
        if let (State::Approved, Some(grant)) = (r.state, &r.grant) {
            item.insert(GRANT_START.to_owned(), s(key_time(grant.starts_at)));
        }
        Ok(Self(item))
    }
}

impl TryFrom<RequestItem> for AccessRequest {
    type Error = StoreError;

    fn try_from(item: RequestItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A stored audit event.
pub(crate) struct EventItem(pub Item);

impl TryFrom<&AuditEvent> for EventItem {
    type Error = StoreError;

    fn try_from(e: &AuditEvent) -> Result<Self, StoreError> {
        place(e, Key::event(e), []).map(Self)
    }
}

impl TryFrom<EventItem> for AuditEvent {
    type Error = StoreError;

    fn try_from(item: EventItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A stored decision token; DynamoDB's TTL drops it after its expiry.
pub(crate) struct TokenItem(pub Item);

impl TryFrom<&TokenRecord> for TokenItem {
    type Error = StoreError;

    fn try_from(t: &TokenRecord) -> Result<Self, StoreError> {
        let mut item = place(t, Key::token(&t.hash), [])?;
        item.insert(TTL.to_owned(), epoch_seconds(t.expires_at));
        Ok(Self(item))
    }
}

impl TryFrom<TokenItem> for TokenRecord {
    type Error = StoreError;

    fn try_from(item: TokenItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A number attribute of whole seconds since the epoch, as DynamoDB's TTL reads it.
pub(crate) fn epoch_seconds(t: Timestamp) -> AttributeValue {
    AttributeValue::N(t.timestamp().to_string())
}

/// A stored entry.
pub(crate) struct EntryItem(pub Item);

impl TryFrom<&Entry> for EntryItem {
    type Error = StoreError;

    fn try_from(e: &Entry) -> Result<Self, StoreError> {
        let listed = (ENTRIES, ENTRIES_PARTITION.to_owned(), e.id.to_string());
        place(e, Key::entry(&e.id), [listed]).map(Self)
    }
}

impl TryFrom<EntryItem> for Entry {
    type Error = StoreError;

    fn try_from(item: EntryItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A stored user.
pub(crate) struct UserItem(pub Item);

impl TryFrom<&User> for UserItem {
    type Error = StoreError;

    fn try_from(u: &User) -> Result<Self, StoreError> {
        place(u, Key::user(&u.email), []).map(Self)
    }
}

impl TryFrom<UserItem> for User {
    type Error = StoreError;

    fn try_from(item: UserItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A mail in the outbox, in the due index until delivered or given up.
pub(crate) struct MailItem(pub Item);

/// The sort key of a mail in [`OUTBOX_DUE`].
pub(crate) fn due_position(next_attempt_at: Timestamp, id: &str) -> String {
    format!("{}#{id}", key_time(next_attempt_at))
}

impl TryFrom<&OutgoingMail> for MailItem {
    type Error = StoreError;

    fn try_from(m: &OutgoingMail) -> Result<Self, StoreError> {
        let due = (
            OUTBOX_DUE,
            OUTBOX_PARTITION.to_owned(),
            due_position(m.next_attempt_at, &m.id),
        );
        place(m, Key::mail(&m.id), [due]).map(Self)
    }
}

impl TryFrom<MailItem> for OutgoingMail {
    type Error = StoreError;

    fn try_from(item: MailItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// A rotation to start, in the due index (its own partition) until done or given up.
pub(crate) struct RotationItem(pub Item);

impl TryFrom<&PendingRotation> for RotationItem {
    type Error = StoreError;

    fn try_from(r: &PendingRotation) -> Result<Self, StoreError> {
        let due = (
            OUTBOX_DUE,
            ROTATIONS_PARTITION.to_owned(),
            due_position(r.next_attempt_at, &r.id),
        );
        place(r, Key::rotation(&r.id), [due]).map(Self)
    }
}

impl TryFrom<RotationItem> for PendingRotation {
    type Error = StoreError;

    fn try_from(item: RotationItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// The attribute of a given-up mail that says so (it stays, out of the due index, as
/// a record of what never arrived).
pub(crate) const GIVEN_UP: &str = "given_up";

/// The pending request holding a requester's one place for an entry.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct PendingRequest {
    pub request_id: RequestId,
}

/// The attribute of a pending-request item holding when the request expires, as a key
/// time: from then on a new request may take the place.
pub(crate) const HELD_UNTIL: &str = "held_until";

/// A requester's pending request for an entry, written with the request and deleted
/// with its decision or cancellation; an expired one is taken over (and dropped by TTL).
pub(crate) struct PendingRequestItem(pub Item);

impl PendingRequestItem {
    /// The place `request` takes while pending.
    pub fn new(request: &AccessRequest) -> Result<Self, StoreError> {
        let record = PendingRequest {
            request_id: request.id,
        };
        let mut item = place(
            &record,
            Key::pending_request(&request.requester, &request.entry_id),
            [],
        )?;
        item.insert(HELD_UNTIL.to_owned(), s(key_time(request.expires_at)));
        item.insert(TTL.to_owned(), epoch_seconds(request.expires_at));
        Ok(Self(item))
    }
}

impl TryFrom<PendingRequestItem> for PendingRequest {
    type Error = StoreError;

    fn try_from(item: PendingRequestItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

/// The request an idempotency key made.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Idempotency {
    pub request_id: RequestId,
}

/// The attribute of a used idempotency key holding when it is free again, as a key
/// time (so that a condition compares it as text).
pub(crate) const FREE_AFTER: &str = "free_after";

/// A used idempotency key, dropped by TTL once it is free again.
pub(crate) struct IdempotencyItem(pub Item);

impl IdempotencyItem {
    /// `key` of the request's requester, used by the request.
    pub fn new(key: &IdempotencyKey, request: &AccessRequest) -> Result<Self, StoreError> {
        let record = Idempotency {
            request_id: request.id,
        };
        let mut item = place(&record, Key::idempotency(&request.requester, &key.key), [])?;
        item.insert(FREE_AFTER.to_owned(), s(key_time(key.free_after)));
        item.insert(TTL.to_owned(), epoch_seconds(key.free_after));
        Ok(Self(item))
    }
}

impl TryFrom<IdempotencyItem> for Idempotency {
    type Error = StoreError;

    fn try_from(item: IdempotencyItem) -> Result<Self, StoreError> {
        read(item.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn key_times_sort_as_text_in_time_order() {
        let times = [
            t("2030-01-01T00:00:00Z"),
            t("2030-01-01T00:00:00.000000001Z"),
            t("2030-01-01T00:00:00.25Z"),
            t("2030-01-01T00:00:01Z"),
        ];
        let keys: Vec<_> = times.iter().map(|&t| key_time(t)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys[1], key_time_after(times[0]));
    }

    #[test]
    fn a_position_reads_back_as_the_time_and_id_it_was_made_of() {
        let at = t("2030-03-17T10:00:00.000000123Z");
        let id = RequestId::new(at, 9);
        let position = created_position(at, &id);
        assert_eq!(position_of(&position), Some((at, id)));
        assert_eq!(
            position_of(&format!("{APPROVER_PENDING}{position}")),
            Some((at, id)),
            "a section's prefix is not part of the position"
        );
        assert_eq!(position_of("2030-03-17T10:00:00Z"), None);
        assert_eq!(position_of("not a time#also not an id"), None);
    }

    #[test]
    fn idempotency_keys_never_collide_across_requesters() {
        let a = Key::idempotency(&Email::parse("a@b.c#x").unwrap(), "y");
        let b = Key::idempotency(&Email::parse("a@b.c").unwrap(), "x#y");
        assert_ne!(a, b);
    }
}
