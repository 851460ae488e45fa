//! Report cursors: where a page stopped, sealed to the query that made it.
//!
//! A cursor is base64url of the position (the last item's creation time and id) and
//! an HMAC-SHA256 over the position and the query's scope and filters, so an edited
//! cursor, or one from another query, is refused rather than followed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tempaccess_core::Timestamp;
use tempaccess_core::ids::RequestId;
use tempaccess_core::ports::{RequestQuery, Scope, StoreError};

use super::item::key_time;

type HmacSha256 = Hmac<Sha256>;

/// The length of the seal at the end of a cursor.
const TAG_LEN: usize = 32;

/// The format of the position, in case it ever changes.
const VERSION: &str = "1";

/// Where a page stopped: the last item listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub created_at: Timestamp,
    pub id: RequestId,
}

/// The secret cursors are sealed with.
#[derive(Clone)]
pub(crate) struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The cursor to continue `query` after `position`.
    pub fn seal(&self, query: &RequestQuery, position: Position) -> String {
        let payload = format!(
            "{VERSION}|{}|{}",
            key_time(position.created_at),
            position.id
        );
        let mut bytes = payload.into_bytes();
        let tag = self.tag(query, &bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position in `cursor`, if this key sealed it for this query.
    pub fn open(&self, query: &RequestQuery, cursor: &str) -> Result<Position, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| StoreError::BadCursor)?;
        if bytes.len() <= TAG_LEN {
            return Err(StoreError::BadCursor);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        self.tag(query, payload)
            .verify_slice(tag)
            .map_err(|_| StoreError::BadCursor)?;
        // Sealed by us: a parse failure would be a format change, still not followable.
        let text = std::str::from_utf8(payload).map_err(|_| StoreError::BadCursor)?;
        let mut parts = text.split('|');
        let (Some(VERSION), Some(created_at), Some(id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(StoreError::BadCursor);
        };
        Ok(Position {
            created_at: chrono::DateTime::parse_from_rfc3339(created_at)
                .map_err(|_| StoreError::BadCursor)?
                .to_utc(),
            id: RequestId::parse(id).map_err(|_| StoreError::BadCursor)?,
        })
    }

    /// The MAC over what the query selects (not its page size, clock or cursor) and
    /// the position.
    fn tag(&self, query: &RequestQuery, payload: &[u8]) -> HmacSha256 {
        // HMAC pads a short key with zeros to its block size: padding it here is the
        // same key, through the constructor that cannot fail.
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&self.0);
        let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new(&key.into());
        mac.update(&selection(query));
        // JSON holds no raw NUL, so the two parts cannot run into each other.
        mac.update(&[0]);
        mac.update(payload);
        mac
    }
}

/// The query's scope and filters, written unambiguously.
fn selection(q: &RequestQuery) -> Vec<u8> {
    let (scope, who) = match &q.scope {
        Scope::RequestedBy(who) => ("requested_by", Some(who)),
        Scope::ApprovedBy(who) => ("approved_by", Some(who)),
        Scope::All => ("all", None),
    };
    let selection = (
        scope,
        who,
        q.status.map(|s| s.as_str()),
        &q.entry_id,
        &q.requester,
        &q.approver,
        q.from.map(key_time),
        q.to.map(key_time),
    );
    // Strings, options and a tuple: serializing them cannot fail.
    serde_json::to_vec(&selection).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tempaccess_core::ids::Email;
    use tempaccess_core::request::Status;

    use super::*;

    fn query() -> RequestQuery {
        RequestQuery {
            scope: Scope::All,
            status: None,
            entry_id: None,
            requester: None,
            approver: None,
            from: None,
            to: None,
            limit: 10,
            cursor: None,
            now: chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
        }
    }

    fn position() -> Position {
        let at = chrono::DateTime::from_timestamp(1_900_000_000, 250_000_000).unwrap();
        Position {
            created_at: at,
            id: RequestId::new(at, 7),
        }
    }

    #[test]
    fn a_cursor_opens_for_its_query_whatever_the_page_size_or_clock() {
        let key = CursorKey::new([1; 32]);
        let cursor = key.seal(&query(), position());
        let later = RequestQuery {
            limit: 50,
            now: query().now + chrono::TimeDelta::hours(1),
            ..query()
        };
        assert_eq!(key.open(&later, &cursor).unwrap(), position());
    }

    #[test]
    fn a_cursor_is_refused_by_another_query_another_key_or_after_an_edit() {
        let key = CursorKey::new([1; 32]);
        let cursor = key.seal(&query(), position());
        let others = [
            RequestQuery {
                status: Some(Status::Active),
                ..query()
            },
            RequestQuery {
                scope: Scope::RequestedBy(Email::parse("a@example.com").unwrap()),
                ..query()
            },
            RequestQuery {
                from: Some(query().now),
                ..query()
            },
        ];
        for other in others {
            assert!(matches!(
                key.open(&other, &cursor),
                Err(StoreError::BadCursor)
            ));
        }
        assert!(matches!(
            CursorKey::new([2; 32]).open(&query(), &cursor),
            Err(StoreError::BadCursor)
        ));
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        bytes[3] ^= 1;
        let edited = URL_SAFE_NO_PAD.encode(bytes);
        assert!(matches!(
            key.open(&query(), &edited),
            Err(StoreError::BadCursor)
        ));
    }
}
