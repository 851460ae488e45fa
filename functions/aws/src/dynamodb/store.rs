//! The DynamoDB [`Store`]: every read a GetItem or a Query, every state change one
//! conditional write or one transaction.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, DeleteRequest, KeysAndAttributes, Put, PutRequest,
    ReturnValuesOnConditionCheckFailure, Select, TransactWriteItem, WriteRequest,
};
use tempaccess_core::Timestamp;
use tempaccess_core::audit::AuditEvent;
use tempaccess_core::entry::{Entry, User};
use tempaccess_core::ids::{Email, EntryId, RequestId};
use tempaccess_core::ports::{
    Change, CreateRequest, OutgoingMail, Page, PendingRotation, Store, StoreError, StoreQuery,
    Total,
};
use tempaccess_core::report::{Cursor, ReportOrder};
use tempaccess_core::request::{AccessRequest, State};
use tempaccess_core::token::{TokenHash, TokenRecord};

use super::item::{
    ENTRIES_PARTITION, EntryItem, EventItem, FREE_AFTER, GIVEN_UP, GRANTS_PARTITION, HELD_UNTIL,
    Idempotency, IdempotencyItem, Item, Key, MailItem, OUTBOX_PARTITION, PENDING_PARTITION,
    PendingRequest, PendingRequestItem, ROTATIONS_PARTITION, RequestItem, RotationItem, TokenItem,
    UserItem, due_position, key_time, key_time_after, requester_partition, s, unavailable,
};
use super::read::{Expr, Query, Range};
use super::report::{self, MAX_READ};
use super::table::{BY_REQUESTER, ENTRIES, GRANTS_BY_END, OUTBOX_DUE, PENDING_BY_EXPIRY, PK};

/// How often a transaction cancelled only by a concurrent one on the same items is
/// tried again.
const CONTENTION_RETRIES: u32 = 4;

/// The cancellation code of a condition that did not hold.
const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// The cancellation code of a clash with another transaction in flight.
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

type TransactError = SdkError<TransactWriteItemsError, HttpResponse>;

/// A [`Store`] on one DynamoDB table laid out as [`super::table::spec`] says.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    budget: ReadBudget,
}

/// How much a report reads before it answers with what it has and a cursor (a page)
/// or with "at least" (a count), so that a report never runs past the report
/// function's time however rare its filter's matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget {
    /// The most items a filtered page reads from each partition, in one Query, and a
    /// count's each Query (DynamoDB stops sooner at 1 MB).
    pub page_items: i32,
    /// The most Queries a count makes.
    pub count_queries: usize,
}

impl Default for ReadBudget {
    fn default() -> Self {
        Self {
            page_items: report::MAX_READ,
            count_queries: report::COUNT_QUERIES,
        }
    }
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    /// A store on the table `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: Arc::from(table.into()),
            budget: ReadBudget::default(),
        }
    }

    /// The same store reading reports within `budget`.
    pub fn with_read_budget(self, budget: ReadBudget) -> Self {
        Self { budget, ..self }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes requests as they are, 25 to a call, without their events, tokens or
    /// mail: for loading a copy of a table (a restore, a benchmark), not a use case.
    pub async fn load_requests(&self, requests: &[AccessRequest]) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let writes = chunk
                .iter()
                .map(|r| {
                    Ok(WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(RequestItem::try_from(r)?.0))
                                .build()
                                .map_err(unavailable)?,
                        )
                        .build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            self.batch_write(writes, "loading requests").await?;
        }
        Ok(())
    }

    /// Up to 25 writes in one BatchWriteItem; what it leaves unprocessed (throttled)
    /// is sent again, a few times.
    async fn batch_write(&self, writes: Vec<WriteRequest>, doing: &str) -> Result<(), StoreError> {
        let mut writes = Some(writes);
        let mut attempt = 0;
        while let Some(batch) = writes.take() {
            let output = self
                .client
                .batch_write_item()
                .request_items(&*self.table, batch)
                .send()
                .await
                .map_err(unavailable)?;
            writes = output
                .unprocessed_items
                .and_then(|mut u| u.remove(&*self.table))
                .filter(|w| !w.is_empty());
            if writes.is_some() {
                attempt += 1;
                if attempt > CONTENTION_RETRIES {
                    return Err(StoreError::Unavailable(
                        format!("{doing}: writes left unprocessed").into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(())
    }

    /// One item, read consistently.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key.item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// One page of a query from `start`: its items and where the next page starts.
    async fn page(
        &self,
        query: &Query,
        start: Option<Item>,
        limit: Option<i32>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let (condition, expr) = query.key_condition();
        let output = self
            .client
            .query()
            .table_name(&*self.table)
            .set_index_name(query.index.map(|i| i.name.to_owned()))
            .key_condition_expression(condition)
            .set_filter_expression(query.filter.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(!query.descending)
            // Index reads cannot be consistent; a partition of the table can.
            .consistent_read(query.index.is_none())
            .set_exclusive_start_key(start)
            .set_limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| !query.excludes(item))
            .collect();
        Ok((items, output.last_evaluated_key))
    }

    /// How many items one page of a query's key condition and filter selects, and
    /// where the next page starts.
    async fn count_page(
        &self,
        query: &Query,
        start: Option<Item>,
    ) -> Result<(u64, Option<Item>), StoreError> {
        let (condition, expr) = query.key_condition();
        let output = self
            .client
            .query()
            .table_name(&*self.table)
            .set_index_name(query.index.map(|i| i.name.to_owned()))
            .key_condition_expression(condition)
            .set_filter_expression(query.filter.clone())
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .select(Select::Count)
            .limit(self.budget.page_items)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
        Ok((
            u64::try_from(output.count).unwrap_or(0),
            output.last_evaluated_key,
        ))
    }

    /// Every item of a query, or its first `limit`.
    async fn read_all(&self, query: &Query, limit: Option<u32>) -> Result<Vec<Item>, StoreError> {
        let limit = limit.map(|l| l as usize);
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let remaining = limit.map(|l| {
                i32::try_from(l.saturating_sub(items.len()))
                    .unwrap_or(MAX_READ)
                    .clamp(1, MAX_READ)
            });
            let (page, next) = self.page(query, start, remaining).await?;
            items.extend(page);
            if let Some(limit) = limit {
                items.truncate(limit);
                if items.len() == limit {
                    return Ok(items);
                }
            }
            match next {
                Some(next) => start = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// A Put in a transaction, under `condition`.
    fn put_if(&self, item: Item, condition: &str, expr: &Expr) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&*self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            // A failed condition reports the item as it is: no second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)
    }

    /// A Put in a transaction of an item that must be new.
    fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let mut expr = Expr::default();
        let condition = format!("attribute_not_exists({})", expr.name(PK));
        Ok(TransactWriteItem::builder()
            .put(self.put_if(item, &condition, &expr)?)
            .build())
    }

    /// A delete in a transaction; missing is fine.
    fn delete(&self, key: &Key) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .delete(
                aws_sdk_dynamodb::types::Delete::builder()
                    .table_name(&*self.table)
                    .set_key(Some(key.item()))
                    .build()
                    .map_err(unavailable)?,
            )
            .build())
    }

    /// Runs one transaction, again while it is cancelled only by a concurrent
    /// transaction on the same items (no condition failed: the outcome is still open).
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
        let mut attempt = 0;
        loop {
            let outcome = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match outcome {
                Err(e) if attempt < CONTENTION_RETRIES && only_contention(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
                outcome => return outcome.map(drop),
            }
        }
    }

    async fn read_request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        self.get(&Key::request(id))
            .await?
            .map(|item| RequestItem(item).try_into())
            .transpose()
    }

    /// Requests from an index query.
    async fn requests(
        &self,
        query: &Query,
        limit: Option<u32>,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        self.read_all(query, limit)
            .await?
            .into_iter()
            .map(|item| RequestItem(item).try_into())
            .collect()
    }
}

/// The cancellation reasons of a cancelled transaction.
fn reasons(e: &TransactError) -> &[CancellationReason] {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => c.cancellation_reasons(),
        _ => &[],
    }
}

fn code_is(reason: Option<&CancellationReason>, code: &str) -> bool {
    reason.and_then(|r| r.code()) == Some(code)
}

fn only_contention(e: &TransactError) -> bool {
    let reasons = reasons(e);
    reasons
        .iter()
        .any(|r| code_is(Some(r), TRANSACTION_CONFLICT))
        && !reasons.iter().any(|r| code_is(Some(r), CONDITION_FAILED))
}

#[async_trait]
impl Store for DynamoStore {
    async fn put_entry(&self, entry: &Entry) -> Result<(), StoreError> {
        self.put(EntryItem::try_from(entry)?.0).await
    }

    async fn entry(&self, id: &EntryId) -> Result<Option<Entry>, StoreError> {
        self.get(&Key::entry(id))
            .await?
            .map(|item| EntryItem(item).try_into())
            .transpose()
    }

    async fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        let query = Query::on(Some(ENTRIES), ENTRIES_PARTITION);
        self.read_all(&query, None)
            .await?
            .into_iter()
            .map(|item| EntryItem(item).try_into())
            .collect()
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        self.put(UserItem::try_from(user)?.0).await
    }

    async fn user(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.get(&Key::user(email))
            .await?
            .map(|item| UserItem(item).try_into())
            .transpose()
    }

    async fn users(&self, emails: &[Email]) -> Result<Vec<User>, StoreError> {
        // BatchGetItem takes 100 keys; what it leaves unprocessed (throttled) is asked
        // for again, a few times.
        let mut users = Vec::new();
        for chunk in emails.chunks(100) {
            let mut keys = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(|e| Key::user(e).item()).collect()))
                    .build()
                    .map_err(unavailable)?,
            );
            let mut attempt = 0;
            while let Some(wanted) = keys.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&*self.table, wanted)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in output
                    .responses
                    .and_then(|mut r| r.remove(&*self.table))
                    .unwrap_or_default()
                {
                    users.push(UserItem(item).try_into()?);
                }
                keys = output
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&*self.table))
                    .filter(|k| !k.keys.is_empty());
                if keys.is_some() {
                    attempt += 1;
                    if attempt > CONTENTION_RETRIES {
                        return Err(StoreError::Unavailable(
                            "reading users: keys left unprocessed".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
            }
        }
        Ok(users)
    }

    async fn create_request(&self, new: CreateRequest) -> Result<(), StoreError> {
        let created = s(key_time(new.request.created_at));
        let mut items = vec![
            self.put_new(RequestItem::try_from(&new.request)?.0)?,
            self.put_new(EventItem::try_from(&new.event)?.0)?,
            self.put_new(TokenItem::try_from(&new.token)?.0)?,
        ];
        for mail in &new.outbox {
            items.push(self.put_new(MailItem::try_from(mail)?.0)?);
        }
        // The requester's one pending place for the entry: free, or held by a request
        // that has expired (whether or not the sweep has marked it).
        let place = if !new.one_pending_per_entry {
            None
        } else {
            let mut expr = Expr::default();
            let held_until = expr.name(HELD_UNTIL);
            let condition = format!(
                "attribute_not_exists({}) OR {held_until} <= {}",
                expr.name(PK),
                expr.value(created.clone()),
            );
            items.push(
                TransactWriteItem::builder()
                    .put(self.put_if(
                        PendingRequestItem::new(&new.request)?.0,
                        &condition,
                        &expr,
                    )?)
                    .build(),
            );
            Some(items.len() - 1)
        };
        let idempotency = match &new.idempotency {
            Some(key) => {
                let item = IdempotencyItem::new(key, &new.request)?;
                // A key past its window is free again, whether or not TTL has dropped
                // it; a key written before keys carried their end is free too.
                let mut expr = Expr::default();
                let free_after = expr.name(FREE_AFTER);
                let condition = format!(
                    "attribute_not_exists({}) OR attribute_not_exists({free_after}) OR {free_after} <= {}",
                    expr.name(PK),
                    expr.value(created),
                );
                items.push(
                    TransactWriteItem::builder()
                        .put(self.put_if(item.0, &condition, &expr)?)
                        .build(),
                );
                Some((items.len() - 1, &key.key))
            }
            None => None,
        };

        let Err(e) = self.transact(items).await else {
            return Ok(());
        };
        let failed = |at: usize| code_is(reasons(&e).get(at), CONDITION_FAILED);
        // A repeat of the same request (its key) answers before the pending limit.
        if let Some((at, key)) = idempotency
            && failed(at)
        {
            let item = match reasons(&e).get(at).and_then(|r| r.item()) {
                Some(item) => Some(item.clone()),
                None => {
                    self.get(&Key::idempotency(&new.request.requester, key))
                        .await?
                }
            };
            return match item {
                Some(item) => {
                    let used = Idempotency::try_from(IdempotencyItem(item))?;
                    Err(StoreError::Duplicate {
                        existing: used.request_id,
                    })
                }
                // Gone between the write and the read (TTL): the caller may try again.
                None => Err(unavailable(e)),
            };
        }
        if let Some(place) = place
            && failed(place)
        {
            let item = match reasons(&e).get(place).and_then(|r| r.item()) {
                Some(item) => Some(item.clone()),
                None => {
                    self.get(&Key::pending_request(
                        &new.request.requester,
                        &new.request.entry_id,
                    ))
                    .await?
                }
            };
            if let Some(item) = item {
                let held = PendingRequest::try_from(PendingRequestItem(item))?;
                return Err(StoreError::OpenRequest {
                    existing: held.request_id,
                });
            }
        }
        Err(unavailable(e))
    }

    async fn put_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.put(TokenItem::try_from(token)?.0).await
    }

    async fn apply(&self, change: Change) -> Result<(), StoreError> {
        let mut expr = Expr::default();
        let condition = format!(
            "{} = {}",
            expr.name("version"),
            expr.value(AttributeValue::N(change.expected_version.to_string())),
        );
        let request = RequestItem::try_from(&change.request)?;
        let mut items = vec![
            TransactWriteItem::builder()
                .put(self.put_if(request.0, &condition, &expr)?)
                .build(),
            self.put_new(EventItem::try_from(&change.event)?.0)?,
        ];
        for mail in &change.outbox {
            items.push(self.put_new(MailItem::try_from(mail)?.0)?);
        }
        for rotation in &change.rotations {
            items.push(self.put_new(RotationItem::try_from(rotation)?.0)?);
        }
        // A decision or a cancellation (the only ways into these states, all from
        // pending) frees the requester's pending place for the entry; an expired
        // request's is taken over when the next request comes.
        if matches!(
            change.request.state,
            State::Approved | State::Denied | State::Cancelled
        ) {
            let key = Key::pending_request(&change.request.requester, &change.request.entry_id);
            items.push(self.delete(&key)?);
        }

        let Err(e) = self.transact(items).await else {
            return Ok(());
        };
        let reason = reasons(&e).first();
        if !code_is(reason, CONDITION_FAILED) {
            return Err(unavailable(e));
        }
        let current = match reason.and_then(|r| r.item()) {
            Some(item) => Some(AccessRequest::try_from(RequestItem(item.clone()))?),
            None => self.read_request(&change.request.id).await?,
        };
        match current {
            Some(current) => Err(StoreError::Conflict {
                current: Box::new(current),
            }),
            None => Err(StoreError::Unavailable(
                format!("no request {} to change", change.request.id).into(),
            )),
        }
    }

    async fn request(&self, id: &RequestId) -> Result<Option<AccessRequest>, StoreError> {
        self.read_request(id).await
    }

    async fn events(&self, id: &RequestId) -> Result<Vec<AuditEvent>, StoreError> {
        let query =
            Query::on(None, Key::request(id).pk).range(Range::Prefix(Key::EVENT_PREFIX.to_owned()));
        self.read_all(&query, None)
            .await?
            .into_iter()
            .map(|item| EventItem(item).try_into())
            .collect()
    }

    async fn append_event(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let mut expr = Expr::default();
        let condition = format!("attribute_not_exists({})", expr.name(PK));
        let written = self
            .client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(EventItem::try_from(event)?.0))
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .send()
            .await;
        match written {
            // The same event again (a retried handler): it is recorded already.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            other => other.map(drop).map_err(unavailable),
        }
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.get(&Key::token(hash))
            .await?
            .map(|item| TokenItem(item).try_into())
            .transpose()
    }

    async fn query(&self, query: &StoreQuery) -> Result<Page<AccessRequest>, StoreError> {
        let after = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(query, c))
            .transpose()?;
        let listed_before = after.map_or(0, |c| c.listed);
        let limit = query.limit.get() as usize;
        let oldest_first = query.order == ReportOrder::Oldest;
        // `a` comes before `b` in the report's order.
        let precedes = |a: &(Timestamp, RequestId), b: &(Timestamp, RequestId)| {
            if oldest_first { a < b } else { a > b }
        };

        // The read budget: each partition is read once, in the report's order.
        let mut matched = Vec::new();
        let mut stops = Vec::new();
        for q in report::plan(query, after) {
            let (items, more) = self
                .page(&q, None, Some(report::page_read(limit, &q, self.budget)))
                .await?;
            for item in items {
                let r = AccessRequest::try_from(RequestItem(item))?;
                if report::matches(query, &r) {
                    matched.push(r);
                }
            }
            if let Some(key) = more {
                stops.push(report::stopped_at(&q, &key)?);
            }
        }
        // Past the first place a partition stopped, another may hold requests not yet
        // read: the page lists only what comes up to it.
        let stop = stops
            .into_iter()
            .reduce(|a, b| if precedes(&a, &b) { a } else { b });
        matched.retain(|r| stop.is_none_or(|s| !precedes(&s, &report::order_key(r))));
        matched.sort_by(|a, b| {
            let (a, b) = (report::order_key(a), report::order_key(b));
            if oldest_first { a.cmp(&b) } else { b.cmp(&a) }
        });
        let next = if matched.len() > limit {
            matched.truncate(limit);
            matched
                .last()
                .map(|last| Cursor::after(last, listed_before + limit as u64))
        } else {
            // Short (or empty) when the budget ran out before the page filled.
            stop.map(|(created_at, id)| Cursor {
                created_at,
                id,
                listed: listed_before + matched.len() as u64,
            })
        };
        Ok(Page {
            items: matched,
            next_cursor: next.map(|c| c.encode(query)),
        })
    }

    async fn count(&self, query: &StoreQuery) -> Result<Total, StoreError> {
        // The pages' own Queries with `Select=COUNT`: the filter is exact, so nothing
        // needs reading back. DynamoDB still reads (and bills) every item in the key
        // ranges, which is why the API counts only when asked, and stops at a budget.
        let mut total = 0u64;
        let mut queries = 0;
        for q in report::plan(query, None) {
            let mut start = None;
            loop {
                if queries == self.budget.count_queries {
                    return Ok(Total::AtLeast(total));
                }
                queries += 1;
                let (n, next) = self.count_page(&q, start).await?;
                total += n;
                match next {
                    Some(next) => start = Some(next),
                    None => break,
                }
            }
        }
        Ok(Total::Exact(total))
    }

    async fn open_requests_of(
        &self,
        requester: &Email,
        now: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let query = Query::on(Some(BY_REQUESTER), requester_partition(requester))
            .descending()
            .filter(|expr| {
                // Only an approved grant carries the grants index's sort key, and it
                // begins with the grant's end: "ends after now" is a string compare.
                Some(format!(
                    "{} = {} OR {} >= {}",
                    expr.name("state"),
                    expr.value(s("pending")),
                    expr.name(GRANTS_BY_END.sort_key),
                    expr.value(s(key_time_after(now))),
                ))
            });
        self.requests(&query, None).await
    }

    async fn grants_ending_after(
        &self,
        after: Timestamp,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let query = Query::on(Some(GRANTS_BY_END), GRANTS_PARTITION)
            .range(Range::From(key_time_after(after)));
        self.requests(&query, None).await
    }

    async fn overdue_grants(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let query = Query::on(Some(GRANTS_BY_END), GRANTS_PARTITION)
            .range(Range::Before(key_time_after(now)));
        self.requests(&query, Some(limit)).await
    }

    async fn stale_pending(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let query = Query::on(Some(PENDING_BY_EXPIRY), PENDING_PARTITION)
            .range(Range::Before(key_time_after(now)));
        self.requests(&query, Some(limit)).await
    }

    async fn due_mail(&self, now: Timestamp, limit: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        let query =
            Query::on(Some(OUTBOX_DUE), OUTBOX_PARTITION).range(Range::Before(key_time_after(now)));
        self.read_all(&query, Some(limit))
            .await?
            .into_iter()
            .map(|item| MailItem(item).try_into())
            .collect()
    }

    async fn mail_delivered(&self, id: &str) -> Result<(), StoreError> {
        self.delete_item(&Key::mail(id)).await
    }

    async fn mail_sent(&self, id: &str, event: Option<&AuditEvent>) -> Result<(), StoreError> {
        let Some(event) = event else {
            return self.mail_delivered(id).await;
        };
        // One BatchWriteItem: the two writes need no condition and no atomicity (each
        // is harmless alone: a mail resent once, or an event of a mail still due),
        // so they cost one call and a write unit each, not a transaction's two.
        let writes = vec![
            WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(Key::mail(id).item()))
                        .build()
                        .map_err(unavailable)?,
                )
                .build(),
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(EventItem::try_from(event)?.0))
                        .build()
                        .map_err(unavailable)?,
                )
                .build(),
        ];
        self.batch_write(writes, "recording a delivered mail").await
    }

    async fn mail_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.retry_or_give_up(&Key::mail(id), id, attempts, next_attempt_at)
            .await
    }

    async fn due_rotations(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PendingRotation>, StoreError> {
        let query = Query::on(Some(OUTBOX_DUE), ROTATIONS_PARTITION)
            .range(Range::Before(key_time_after(now)));
        self.read_all(&query, Some(limit))
            .await?
            .into_iter()
            .map(|item| RotationItem(item).try_into())
            .collect()
    }

    async fn rotation_done(&self, id: &str) -> Result<(), StoreError> {
        self.delete_item(&Key::rotation(id)).await
    }

    async fn rotation_failed(
        &self,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.retry_or_give_up(&Key::rotation(id), id, attempts, next_attempt_at)
            .await
    }
}

impl DynamoStore {
    /// Deletes an item; what is gone already is fine (a retried sweep does it twice).
    async fn delete_item(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&*self.table)
            .set_key(Some(key.item()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Records a failed attempt of an outbox item (a mail, a rotation): due again at
    /// `next_attempt_at`, or given up — kept, out of the due index, as a record of what
    /// never happened.
    async fn retry_or_give_up(
        &self,
        key: &Key,
        id: &str,
        attempts: u32,
        next_attempt_at: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let mut expr = Expr::default();
        let condition = format!("attribute_exists({})", expr.name(PK));
        let attempts_set = format!(
            "{} = {}",
            expr.name("attempts"),
            expr.value(AttributeValue::N(attempts.to_string()))
        );
        let update = match next_attempt_at {
            Some(at) => format!(
                "SET {attempts_set}, {} = {}, {} = {}",
                expr.name("next_attempt_at"),
                expr.value(serde_dynamo::to_attribute_value(at).map_err(unavailable)?),
                expr.name(OUTBOX_DUE.sort_key),
                expr.value(s(due_position(at, id))),
            ),
            None => format!(
                "SET {attempts_set}, {} = {} REMOVE {}, {}",
                expr.name(GIVEN_UP),
                expr.value(AttributeValue::Bool(true)),
                expr.name(OUTBOX_DUE.partition_key),
                expr.name(OUTBOX_DUE.sort_key),
            ),
        };
        let updated = self
            .client
            .update_item()
            .table_name(&*self.table)
            .set_key(Some(key.item()))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await;
        match updated {
            // No such item (done meanwhile): nothing to record.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            other => other.map(drop).map_err(unavailable),
        }
    }
}
