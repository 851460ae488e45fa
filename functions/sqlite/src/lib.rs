//! The SQLite [`Store`] of the embedded default: an adapter crate beside
//! `tempaccess-aws`, kept to the same contract (`tests/src/store_contract.rs`).
//!
//! The tables mirror the DynamoDB access patterns: every read is a lookup by key or a
//! range over an index, every state change one transaction conditional on the version.
//! Each row keeps the domain value as JSON; the other columns exist only to be
//! filtered and sorted on. Timestamps are RFC 3339 UTC with a fixed nanosecond
//! precision, so text order is time order.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::SecondsFormat;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Params, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tempaccess_core::Timestamp;
use tempaccess_core::audit::AuditEvent;
use tempaccess_core::entry::{Entry, User};
use tempaccess_core::ids::{Email, EntryId, RequestId};
use tempaccess_core::ports::{
    BoxError, Change, CreateRequest, Mail, MailPurpose, OutgoingMail, Page, PendingRotation, Scope,
    Store, StoreError, StoreQuery, Total,
};
use tempaccess_core::report::{Cursor, ReportOrder};
use tempaccess_core::request::{AccessRequest, State, Status};
use tempaccess_core::token::{TokenHash, TokenRecord};

/// How long a write waits for another process (an admin command) to finish its own.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema changes, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE requests (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    requester   TEXT NOT NULL,
    approver    TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    starts_at   TEXT,
    ends_at     TEXT,
    json        TEXT NOT NULL
) STRICT;
CREATE INDEX requests_by_created   ON requests (created_at, id);
CREATE INDEX requests_by_requester ON requests (requester, created_at, id);
CREATE INDEX requests_by_approver  ON requests (approver, created_at, id);
CREATE INDEX requests_by_entry     ON requests (entry_id, created_at, id);
CREATE INDEX requests_by_end       ON requests (state, ends_at);
CREATE INDEX requests_by_expiry    ON requests (state, expires_at);

CREATE TABLE events (
    request_id  TEXT NOT NULL REFERENCES requests (id),
    id          TEXT NOT NULL,
    at          TEXT NOT NULL,
    json        TEXT NOT NULL,
    PRIMARY KEY (request_id, id)
) STRICT, WITHOUT ROWID;
CREATE INDEX events_in_order ON events (request_id, at, id);

CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    approver    TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE entries (
    id    TEXT PRIMARY KEY,
    json  TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    email  TEXT PRIMARY KEY,
    json   TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL REFERENCES requests (id),
    next_attempt_at  TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    given_up         INTEGER NOT NULL DEFAULT 0,
    json             TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE given_up = 0;

CREATE TABLE idempotency (
    requester   TEXT NOT NULL,
    key         TEXT NOT NULL,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (requester, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE mailbox (
    seq      INTEGER PRIMARY KEY,
    sent_at  TEXT NOT NULL,
    json     TEXT NOT NULL
) STRICT;
CREATE INDEX mailbox_in_order ON mailbox (sent_at, seq);
"#,
    r#"
-- A used key holds until `free_after`; keys written before this version are free.
ALTER TABLE idempotency ADD COLUMN free_after TEXT NOT NULL DEFAULT '';
"#,
    r#"
-- Nothing stored may rebuild a live decision link: the mailbox of sent mail leaves the
-- database (the embedded default keeps it in memory), and so does any mail that still
-- holds a link from before links were made at delivery.
DROP TABLE mailbox;
DELETE FROM outbox WHERE json LIKE '%decide#token=%';
"#,
    r#"
-- Credentials to rotate at grants' ends, until done; given up ones stay, as a record.
CREATE TABLE rotations (
    id               TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL REFERENCES requests (id),
    secret_ref       TEXT NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    given_up         INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX rotations_due ON rotations (next_attempt_at, id) WHERE given_up = 0;
"#,
];

/// A [`Store`] on one SQLite database. Cloning shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating or migrating) the database at `path`. The file is its owner's
    /// alone (`0600`; SQLite gives its journal files the same mode).
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("opening the database {}", path.display()))?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening the database {}", path.display()))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "the database {} refused WAL mode (it is in {mode} mode)",
            path.display()
        );
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn).with_context(|| format!("preparing the database {}", path.display()))
    }

    /// A fresh database that lives as long as the store (tests, demos).
    pub fn in_memory() -> anyhow::Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> anyhow::Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic mid-transaction rolled the transaction back when it unwound, so
            // the connection is still sound.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .or_unavailable()?
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(applied).context("a negative schema version")?;
    anyhow::ensure!(
        applied <= MIGRATIONS.len(),
        "the database has schema version {applied}; this build knows up to {}",
        MIGRATIONS.len()
    );
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)
            .with_context(|| format!("migrating to schema version {}", version + 1))?;
        tx.pragma_update(None, "user_version", i64::try_from(version + 1)?)?;
    }
    tx.commit()?;
    Ok(())
}

/// Maps any failure of the database (or of decoding what it holds) to `Unavailable`,
/// keeping the source.
trait OrUnavailable<T> {
    fn or_unavailable(self) -> Result<T, StoreError>;
}

impl<T, E> OrUnavailable<T> for Result<T, E>
where
    E: Into<BoxError>,
{
    fn or_unavailable(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Unavailable(e.into()))
    }
}

/// The stored form of a time: sorts as text in time order.
fn ts(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_ts(s: &str) -> Result<Timestamp, StoreError> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .or_unavailable()
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).or_unavailable()
}

fn from_json<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).or_unavailable()
}

/// The JSON of an outbox row; attempts and the next attempt live in their columns.
#[derive(Serialize, Deserialize)]
struct OutboxBody {
    purpose: MailPurpose,
    mail: Mail,
}

fn insert_outbox(tx: &Transaction<'_>, mails: &[OutgoingMail]) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO outbox (id, request_id, next_attempt_at, attempts, json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .or_unavailable()?;
    for m in mails {
        let body = to_json(&OutboxBody {
            purpose: m.purpose,
            mail: m.mail.clone(),
        })?;
        stmt.execute(params![
            m.id,
            m.request_id.to_string(),
            ts(m.next_attempt_at),
            m.attempts,
            body
        ])
        .or_unavailable()?;
    }
    Ok(())
}

fn insert_rotations(tx: &Transaction<'_>, rotations: &[PendingRotation]) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO rotations (id, request_id, secret_ref, next_attempt_at, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .or_unavailable()?;
    for r in rotations {
        stmt.execute(params![
            r.id,
            r.request_id.to_string(),
            r.secret_ref,
            ts(r.next_attempt_at),
            r.attempts
        ])
        .or_unavailable()?;
    }
    Ok(())
}

fn insert_event(conn: &Connection, event: &AuditEvent) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO events (request_id, id, at, json) VALUES (?1, ?2, ?3, ?4)")
        .or_unavailable()?
        .execute(params![
            event.request_id.to_string(),
            event.id,
            ts(event.at),
            to_json(event)?
        ])
        .or_unavailable()?;
    Ok(())
}

/// The columns of a request row: id, state, version, requester, approver, entry_id,
/// created_at, expires_at, starts_at, ends_at, json.
fn request_row(r: &AccessRequest) -> Result<[Value; 11], StoreError> {
    let text = Value::Text;
    let opt = |t: Option<Timestamp>| t.map_or(Value::Null, |t| Value::Text(ts(t)));
    let version = i64::try_from(r.version).or_unavailable()?;
    Ok([
        text(r.id.to_string()),
        text(r.state.as_str().to_owned()),
        Value::Integer(version),
        text(r.requester.to_string()),
        text(r.approver.to_string()),
        text(r.entry_id.to_string()),
        text(ts(r.created_at)),
        text(ts(r.expires_at)),
        opt(r.grant.as_ref().map(|g| g.starts_at)),
        opt(r.grant.as_ref().map(|g| g.ends_at)),
        text(to_json(r)?),
    ])
}

/// Inserts a request; the parameters are [`request_row`].
const INSERT_REQUEST: &str = "INSERT INTO requests (id, state, version, requester, approver, \
     entry_id, created_at, expires_at, starts_at, ends_at, json) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

fn read_request(conn: &Connection, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM requests WHERE id = ?1")
        .or_unavailable()?
        .query_row([id.to_string()], |row| row.get(0))
        .optional()
        .or_unavailable()?;
    json.as_deref().map(from_json).transpose()
}

fn read_requests(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<AccessRequest>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).or_unavailable()?;
    let rows = stmt
        .query_map(params, |row| row.get::<_, String>(0))
        .or_unavailable()?;
    rows.map(|json| from_json(&json.or_unavailable()?))
        .collect()
}

/// A `WHERE` clause built from optional filters, with its numbered parameters.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    args: Vec<Value>,
}

impl Filter {
    /// Binds `value` and returns its placeholder.
    fn arg(&mut self, value: impl Into<Value>) -> String {
        self.args.push(value.into());
        format!("?{}", self.args.len())
    }

    fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The rows whose [`AccessRequest::status`] at `now` is `status`: in one of the
/// status's stored states, and on the side of the clock that reads as it.
fn status_clause(f: &mut Filter, status: Status, now: Timestamp) -> String {
    let now = f.arg(ts(now));
    let state = |f: &mut Filter, s: State| f.arg(s.as_str().to_owned());
    match status {
        Status::Pending => format!(
            "(state = {} AND expires_at > {now})",
            state(f, State::Pending)
        ),
        Status::Expired => format!(
            "(state = {} OR (state = {} AND expires_at <= {now}))",
            state(f, State::Expired),
            state(f, State::Pending)
        ),
        Status::Scheduled => format!(
            "(state = {} AND ends_at > {now} AND starts_at > {now})",
            state(f, State::Approved)
        ),
        // An approved request without a grant reads as active, as in the domain.
        Status::Active => format!(
            "(state = {} AND (ends_at IS NULL OR (ends_at > {now} AND starts_at <= {now})))",
            state(f, State::Approved)
        ),
        Status::Ended => format!(
            "(state = {} OR (state = {} AND ends_at <= {now}))",
            state(f, State::Ended),
            state(f, State::Approved)
        ),
        Status::Denied | Status::Cancelled | Status::Revoked => {
            let states: Vec<_> = status
                .stored_states()
                .iter()
                .map(|s| state(f, *s))
                .collect();
            format!("state IN ({})", states.join(", "))
        }
    }
}

/// The filter of what `q` selects, before its cursor.
fn selection(q: &StoreQuery) -> Filter {
    let mut f = Filter::default();
    match &q.scope {
        Scope::RequestedBy(who) => {
            let who = f.arg(who.to_string());
            f.push(format!("requester = {who}"));
        }
        Scope::ApprovedBy(who) => {
            let who = f.arg(who.to_string());
            f.push(format!("approver = {who}"));
        }
        Scope::All => {}
    }
    if let Some(requester) = &q.requester {
        let who = f.arg(requester.to_string());
        f.push(format!("requester = {who}"));
    }
    if let Some(approver) = &q.approver {
        let who = f.arg(approver.to_string());
        f.push(format!("approver = {who}"));
    }
    if let Some(entry) = &q.entry_id {
        let entry = f.arg(entry.to_string());
        f.push(format!("entry_id = {entry}"));
    }
    if let Some(from) = q.from {
        let from = f.arg(ts(from));
        f.push(format!("created_at >= {from}"));
    }
    if let Some(to) = q.to {
        let to = f.arg(ts(to));
        f.push(format!("created_at < {to}"));
    }
    if let Some(status) = q.status {
        let clause = status_clause(&mut f, status, q.now);
        f.push(clause);
    }
    f
}

fn query_page(conn: &Connection, q: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
    let mut f = selection(q);
    let (past, direction) = match q.order {
        ReportOrder::Newest => ("<", "DESC"),
        ReportOrder::Oldest => (">", "ASC"),
    };
    let after = q
        .cursor
        .as_deref()
        .map(|c| Cursor::decode(q, c))
        .transpose()?;
    if let Some(cursor) = after {
        let created = f.arg(ts(cursor.created_at));
        let id = f.arg(cursor.id.to_string());
        f.push(format!(
            "(created_at {past} {created} OR (created_at = {created} AND id {past} {id}))"
        ));
    }
    let limit = q.limit.get();
    // One more than the page tells whether another page follows.
    let fetch = f.arg(i64::from(limit) + 1);
    let sql = format!(
        "SELECT json FROM requests {} ORDER BY created_at {direction}, id {direction} LIMIT {fetch}",
        f.sql()
    );
    let mut items = read_requests(conn, &sql, rusqlite::params_from_iter(f.args))?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        let listed = after.map_or(0, |c| c.listed) + items.len() as u64;
        items
            .last()
            .map(|last| Cursor::after(last, listed).encode(q))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

fn count_selection(conn: &Connection, q: &StoreQuery) -> Result<u64, StoreError> {
    let f = selection(q);
    let sql = format!("SELECT COUNT(*) FROM requests {}", f.sql());
    let n: i64 = conn
        .prepare_cached(&sql)
        .or_unavailable()?
        .query_row(rusqlite::params_from_iter(f.args), |row| row.get(0))
        .or_unavailable()?;
    u64::try_from(n).or_unavailable()
}

impl SqliteStore {
    /// Requests in `state` whose time in `column` has come by `now`, soonest first, at
    /// most `limit`: the sweep's work.
    async fn due(
        &self,
        state: State,
        column: &'static str,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.run(move |conn| {
            read_requests(
                conn,
                &format!(
                    "SELECT json FROM requests WHERE state = ?3 AND {column} <= ?1
                     ORDER BY {column}, id LIMIT ?2"
                ),
                params![ts(now), limit, state.as_str()],
            )
        })
        .await
    }
}

/// Entries and users: one JSON document per key, in a table of `(key, json)`.
impl SqliteStore {
    async fn put_json(
        &self,
        table: &'static str,
        key_column: &'static str,
        key: String,
        json: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO {table} ({key_column}, json) VALUES (?1, ?2)
                     ON CONFLICT ({key_column}) DO UPDATE SET json = excluded.json"
                ),
                params![key, json],
            )
            .or_unavailable()?;
            Ok(())
        })
        .await
    }

    async fn get_json<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        table: &'static str,
        key_column: &'static str,
        key: String,
    ) -> Result<Option<T>, StoreError> {
        self.run(move |conn| {
            let json: Option<String> = conn
                .query_row(
                    &format!("SELECT json FROM {table} WHERE {key_column} = ?1"),
                    [key],
                    |row| row.get(0),
                )
                .optional()
                .or_unavailable()?;
            json.as_deref().map(from_json).transpose()
        })
        .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_entry(&self, entry: &Entry) -> Result<(), StoreError> {
        self.put_json("entries", "id", entry.id.to_string(), to_json(entry)?)
            .await
    }

    async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, StoreError> {
        self.get_json("entries", "id", id.to_string()).await
    }

    async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        self.run(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT json FROM entries ORDER BY id")
                .or_unavailable()?;
            let rows = stmt
                .query_map([], |row| row.get::<_, String>(0))
                .or_unavailable()?;
            rows.map(|json| from_json(&json.or_unavailable()?))
                .collect()
        })
        .await
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        self.put_json("users", "email", user.email.to_string(), to_json(user)?)
            .await
    }

    async fn user(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.get_json("users", "email", email.to_string()).await
    }

    async fn create_request(&self, new: CreateRequest) -> Result<(), StoreError> {
        let row = request_row(&new.request)?;
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .or_unavailable()?;
            let requester = new.request.requester.to_string();
            let created_at = ts(new.request.created_at);
            if let Some(used) = &new.idempotency {
                let existing: Option<String> = tx
                    .query_row(
                        "SELECT request_id FROM idempotency
                         WHERE requester = ?1 AND key = ?2 AND free_after > ?3",
                        params![requester, used.key, created_at],
                        |row| row.get(0),
                    )
                    .optional()
                    .or_unavailable()?;
                if let Some(existing) = existing {
                    let existing = RequestId::parse(&existing).or_unavailable()?;
                    return Err(StoreError::Duplicate { existing });
                }
            }
            // One pending request per requester and entry, until it expires.
            let pending: Option<String> = if !new.one_pending_per_entry {
                None
            } else {
                tx.query_row(
                    "SELECT id FROM requests
                     WHERE requester = ?1 AND entry_id = ?2 AND state = 'pending'
                       AND expires_at > ?3
                     LIMIT 1",
                    params![requester, new.request.entry_id.to_string(), created_at],
                    |row| row.get(0),
                )
                .optional()
                .or_unavailable()?
            };
            if let Some(existing) = pending {
                let existing = RequestId::parse(&existing).or_unavailable()?;
                return Err(StoreError::OpenRequest { existing });
            }
            tx.execute(INSERT_REQUEST, rusqlite::params_from_iter(row))
                .or_unavailable()?;
            if let Some(used) = &new.idempotency {
                // A free key is taken over by the new request.
                tx.execute(
                    "INSERT INTO idempotency (requester, key, request_id, free_after)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (requester, key) DO UPDATE
                     SET request_id = excluded.request_id, free_after = excluded.free_after",
                    params![
                        requester,
                        used.key,
                        new.request.id.to_string(),
                        ts(used.free_after)
                    ],
                )
                .or_unavailable()?;
            }
            insert_event(&tx, &new.event)?;
            tx.execute(
                "INSERT INTO tokens (hash, request_id, approver, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    new.token.hash.0,
                    new.token.request_id.to_string(),
                    new.token.approver.to_string(),
                    ts(new.token.expires_at)
                ],
            )
            .or_unavailable()?;
            insert_outbox(&tx, &new.outbox)?;
            tx.commit().or_unavailable()
        })
        .await
    }

    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let token = token.clone();
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO tokens (hash, request_id, approver, expires_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (hash) DO NOTHING",
                params![
                    token.hash.0,
                    token.request_id.to_string(),
                    token.approver.to_string(),
                    ts(token.expires_at)
                ],
            )
            .or_unavailable()?;
            Ok(())
        })
        .await
    }

    async fn apply(&self, change: Change) -> Result<(), StoreError> {
        let row = request_row(&change.request)?;
        let expected = i64::try_from(change.expected_version).or_unavailable()?;
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .or_unavailable()?;
            // The columns in the order of `request_row`, then the expected version.
            let changed = tx
                .execute(
                    "UPDATE requests SET state = ?2, version = ?3, requester = ?4, approver = ?5,
                         entry_id = ?6, created_at = ?7, expires_at = ?8, starts_at = ?9,
                         ends_at = ?10, json = ?11
                     WHERE id = ?1 AND version = ?12",
                    rusqlite::params_from_iter(row.into_iter().chain([Value::Integer(expected)])),
                )
                .or_unavailable()?;
            if changed == 0 {
                let current = read_request(&tx, &change.request.id)?.ok_or_else(|| {
                    StoreError::Unavailable(
                        anyhow::anyhow!("no request {} to change", change.request.id).into(),
                    )
                })?;
                return Err(StoreError::Conflict {
                    current: Box::new(current),
                });
            }
            insert_event(&tx, &change.event)?;
            insert_outbox(&tx, &change.outbox)?;
            insert_rotations(&tx, &change.rotations)?;
            tx.commit().or_unavailable()
        })
        .await
    }

    async fn request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        let id = *id;
        self.run(move |conn| read_request(conn, &id)).await
    }

    async fn events(&self, id: &RequestId) -> Result<Vec<AuditEvent>, StoreError> {
        let id = id.to_string();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT json FROM events WHERE request_id = ?1 ORDER BY at, id")
                .or_unavailable()?;
            let rows = stmt
                .query_map([id], |row| row.get::<_, String>(0))
                .or_unavailable()?;
            rows.map(|json| from_json(&json.or_unavailable()?))
                .collect()
        })
        .await
    }

    async fn append_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let event = event.clone();
        self.run(move |conn| insert_event(conn, &event)).await
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let hash = hash.0.clone();
        self.run(move |conn| {
            let row: Option<(String, String, String)> = conn
                .query_row(
                    "SELECT request_id, approver, expires_at FROM tokens WHERE hash = ?1",
                    [&hash],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()
                .or_unavailable()?;
            row.map(|(request_id, approver, expires_at)| {
                Ok(TokenRecord {
                    hash: TokenHash(hash.clone()),
                    request_id: RequestId::parse(&request_id).or_unavailable()?,
                    approver: Email::parse(&approver).or_unavailable()?,
                    expires_at: parse_ts(&expires_at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn query(&self, query: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
        let query = query.clone();
        self.run(move |conn| query_page(conn, &query)).await
    }

    async fn count(&self, query: &StoreQuery) -> Result<Total, StoreError> {
        let query = query.clone();
        self.run(move |conn| count_selection(conn, &query).map(Total::Exact))
            .await
    }

    async fn open_requests_of(
        &self,
        requester: &Email,
        now: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let requester = requester.to_string();
        self.run(move |conn| {
            read_requests(
                conn,
                "SELECT json FROM requests
                 WHERE requester = ?1
                   AND (state = ?3 OR (state = ?4 AND ends_at > ?2))
                 ORDER BY created_at DESC, id DESC",
                params![
                    requester,
                    ts(now),
                    State::Pending.as_str(),
                    State::Approved.as_str()
                ],
            )
        })
        .await
    }

    async fn grants_ending_after(
        &self,
        after: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.run(move |conn| {
            read_requests(
                conn,
                "SELECT json FROM requests WHERE state = ?2 AND ends_at > ?1
                 ORDER BY ends_at, id",
                params![ts(after), State::Approved.as_str()],
            )
        })
        .await
    }

    async fn overdue_grants(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.due(State::Approved, "ends_at", now, limit).await
    }

    async fn stale_pending(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.due(State::Pending, "expires_at", now, limit).await
    }

    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, request_id, next_attempt_at, attempts, json FROM outbox
                     WHERE given_up = 0 AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at, id LIMIT ?2",
                )
                .or_unavailable()?;
            let rows = stmt
                .query_map(params![ts(now), limit], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, u32>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                })
                .or_unavailable()?;
            rows.map(|row| {
                let (id, request_id, next_attempt_at, attempts, json) = row.or_unavailable()?;
                let body: OutboxBody = from_json(&json)?;
                Ok(OutgoingMail {
                    id,
                    request_id: RequestId::parse(&request_id).or_unavailable()?,
                    purpose: body.purpose,
                    mail: body.mail,
                    attempts,
                    next_attempt_at: parse_ts(&next_attempt_at)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn mail_delivered(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            conn.execute("DELETE FROM outbox WHERE id = ?1", [id])
                .or_unavailable()?;
            Ok(())
        })
        .await
    }

    async fn mail_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            match next_attempt_at {
                Some(at) => conn.execute(
                    "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1",
                    params![id, attempts, ts(at)],
                ),
                // Kept, out of the due set, as a record of what never arrived.
                None => conn.execute(
                    "UPDATE outbox SET attempts = ?2, given_up = 1 WHERE id = ?1",
                    params![id, attempts],
                ),
            }
            .or_unavailable()?;
            Ok(())
        })
        .await
    }

    async fn due_rotations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingRotation>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, request_id, secret_ref, next_attempt_at, attempts FROM rotations
                     WHERE given_up = 0 AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at, id LIMIT ?2",
                )
                .or_unavailable()?;
            let rows = stmt
                .query_map(params![ts(now), limit], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, u32>(4)?,
                    ))
                })
                .or_unavailable()?;
            rows.map(|row| {
                let (id, request_id, secret_ref, next_attempt_at, attempts) =
                    row.or_unavailable()?;
                Ok(PendingRotation {
                    id,
                    request_id: RequestId::parse(&request_id).or_unavailable()?,
                    secret_ref,
                    attempts,
                    next_attempt_at: parse_ts(&next_attempt_at)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn rotation_done(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            conn.execute("DELETE FROM rotations WHERE id = ?1", [id])
                .or_unavailable()?;
            Ok(())
        })
        .await
    }

    async fn rotation_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            match next_attempt_at {
                Some(at) => conn.execute(
                    "UPDATE rotations SET attempts = ?2, next_attempt_at = ?3 WHERE id = ?1",
                    params![id, attempts, ts(at)],
                ),
                None => conn.execute(
                    "UPDATE rotations SET attempts = ?2, given_up = 1 WHERE id = ?1",
                    params![id, attempts],
                ),
            }
            .or_unavailable()?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database file in a fresh directory, removed on drop.
    struct TempDb(std::path::PathBuf);

    impl TempDb {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "tempaccess-sqlite-{name}-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn path(&self) -> std::path::PathBuf {
            self.0.join("tempaccess.db")
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn user(name: &str) -> User {
        User {
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            name: name.to_owned(),
            roles: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_file_database_is_in_wal_mode_and_keeps_data_across_opens() {
        let db = TempDb::new("reopen");
        let store = SqliteStore::open(&db.path()).unwrap();
        store.put_user(&user("first")).await.unwrap();
        let (mode, version, fks): (String, i64, bool) = {
            let conn = store.conn.lock().unwrap();
            (
                conn.pragma_query_value(None, "journal_mode", |r| r.get(0))
                    .unwrap(),
                conn.pragma_query_value(None, "user_version", |r| r.get(0))
                    .unwrap(),
                conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))
                    .unwrap(),
            )
        };
        assert_eq!(mode, "wal");
        assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
        assert!(fks);
        use std::os::unix::fs::PermissionsExt;
        for file in ["tempaccess.db", "tempaccess.db-wal", "tempaccess.db-shm"] {
            let path = db.path().with_file_name(file);
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} is its owner's alone");
        }
        drop(store);

        let reopened = SqliteStore::open(&db.path()).unwrap();
        assert_eq!(
            reopened.user(&user("first").email).await.unwrap(),
            Some(user("first"))
        );
    }

    #[tokio::test]
    async fn a_database_from_a_newer_build_is_refused() {
        let db = TempDb::new("newer");
        drop(SqliteStore::open(&db.path()).unwrap());
        let conn = Connection::open(db.path()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(&db.path()).unwrap_err();
        assert!(format!("{err:#}").contains("schema version 99"), "{err:#}");
    }

    #[tokio::test]
    async fn clones_share_one_database() {
        let store = SqliteStore::in_memory().unwrap();
        let clone = store.clone();
        clone.put_user(&user("via-the-clone")).await.unwrap();
        assert!(
            store
                .user(&user("via-the-clone").email)
                .await
                .unwrap()
                .is_some()
        );
    }
}
