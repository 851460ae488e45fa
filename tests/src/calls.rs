//! The AWS calls a service makes, seen at the adapters: SDK clients with an interceptor
//! on each, as a test or a benchmark counts them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use tempaccess_aws::config::Clients;

/// Every linked client on `sdk`, each with `interceptor`.
pub fn intercepted_clients<I>(sdk: &SdkConfig, interceptor: I) -> Clients
where
    I: Intercept + Clone + 'static,
{
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(interceptor.clone());
    with_dynamodb(sdk, interceptor, dynamodb)
}

/// Every linked client on `sdk` with `counter`, DynamoDB's with `capacity` too.
pub fn metered_clients(sdk: &SdkConfig, counter: CallCounter, capacity: CapacityMeter) -> Clients {
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(counter.clone())
        .interceptor(capacity);
    with_dynamodb(sdk, counter, dynamodb)
}

fn with_dynamodb<I>(
    sdk: &SdkConfig,
    interceptor: I,
    dynamodb: aws_sdk_dynamodb::config::Builder,
) -> Clients
where
    I: Intercept + Clone + 'static,
{
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        ses: aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::config::Builder::from(sdk)
                .interceptor(interceptor.clone())
                .build(),
        ),
        scheduler: aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(sdk)
                .interceptor(interceptor.clone())
                .build(),
        ),
        secrets: aws_sdk_secretsmanager::Client::from_conf(
            aws_sdk_secretsmanager::config::Builder::from(sdk)
                .interceptor(interceptor)
                .build(),
        ),
    }
}

/// Counts the calls made through the clients it is attached to, as `Service.Operation`
/// (`DynamoDB.PutItem`, `SESv2.SendEmail`, …), until taken.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u32>>>);

impl CallCounter {
    /// The calls since the last take, and a fresh count.
    pub fn take(&self) -> BTreeMap<String, u32> {
        std::mem::take(&mut *self.0.lock().expect("the counter"))
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "call-counter"
    }

    // Once per operation: a retried attempt is not counted again.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let meta = cfg
            .load::<Metadata>()
            .expect("every operation names itself");
        let call = format!("{}.{}", meta.service(), meta.name());
        *self.0.lock().expect("the counter").entry(call).or_default() += 1;
        Ok(())
    }
}

/// What the Queries made through the clients it is attached to read: each Query's
/// items evaluated (`ScannedCount`), returned (`Count`) and the bytes of those returned,
/// as DynamoDB sizes items ([`item_size`]), until taken.
#[derive(Debug, Clone, Default)]
pub struct QueryMeter(Arc<Mutex<Vec<QueryRead>>>);

/// One Query's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryRead {
    /// Items evaluated (read and billed, whether the filter kept them or not).
    pub scanned: u64,
    /// Items returned.
    pub returned: u64,
    /// Bytes of the items returned.
    pub returned_bytes: u64,
}

impl QueryMeter {
    /// The Queries since the last take, and a fresh list.
    pub fn take(&self) -> Vec<QueryRead> {
        std::mem::take(&mut *self.0.lock().expect("the meter"))
    }
}

impl Intercept for QueryMeter {
    fn name(&self) -> &'static str {
        "query-meter"
    }

    fn read_after_deserialization(
        &self,
        ctx: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = ctx.output_or_error() else {
            return Ok(());
        };
        if let Some(q) = output.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>() {
            let returned_bytes = q.items().iter().map(|i| item_size(i) as u64).sum();
            self.0.lock().expect("the meter").push(QueryRead {
                scanned: u64::try_from(q.scanned_count()).unwrap_or(0),
                returned: u64::try_from(q.count()).unwrap_or(0),
                returned_bytes,
            });
        }
        Ok(())
    }
}

/// An item's size as DynamoDB counts it for capacity: each attribute's name and value
/// in bytes (strings in UTF-8, numbers about one byte per two digits plus one, a list
/// or map 3 bytes plus one per element besides its elements).
pub fn item_size(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    let number = |n: &str| n.trim_start_matches('-').len().div_ceil(2) + 1;
    match v {
        V::S(s) => s.len(),
        V::N(n) => number(n),
        V::B(b) => b.as_ref().len(),
        V::Bool(_) | V::Null(_) => 1,
        V::Ss(items) => items.iter().map(String::len).sum(),
        V::Ns(items) => items.iter().map(|n| number(n)).sum(),
        V::Bs(items) => items.iter().map(|b| b.as_ref().len()).sum(),
        V::L(items) => 3 + items.iter().map(|i| 1 + value_size(i)).sum::<usize>(),
        V::M(map) => {
            3 + map
                .iter()
                .map(|(k, i)| 1 + k.len() + value_size(i))
                .sum::<usize>()
        }
        _ => 0,
    }
}

type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// The DynamoDB capacity the calls through the clients it is attached to consume,
/// worked out by DynamoDB's published rules from the items each call reads and writes
/// (the emulator reports fixed figures, not these): a read unit per 4 KB read
/// consistently (half for an eventually consistent read: index Queries, BatchGetItem),
/// each item of a BatchGetItem and each Query's whole reading rounded up on its own; a
/// write unit per 1 KB written, twice in a transaction, and again for each index the
/// item is in (its projection is the whole item), before or after the write.
///
/// It keeps a copy of the table (from a Scan at the start, then every item each call
/// writes) to size what a delete removes. An UpdateItem is sized as the item before it.
#[derive(Debug, Clone, Default)]
pub struct CapacityMeter(Arc<Mutex<Capacity>>);

/// Units consumed since the last take.
#[derive(Debug, Clone, Default)]
pub struct Capacity {
    /// Read units.
    pub read: f64,
    /// Write units.
    pub write: f64,
    table: BTreeMap<(String, String), Item>,
    consistent_query: bool,
}

impl CapacityMeter {
    /// Reads the table's items as they are now, and starts counting afresh.
    pub async fn know(&self, client: &aws_sdk_dynamodb::Client, table: &str) -> anyhow::Result<()> {
        let mut items = BTreeMap::new();
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in page.items() {
                items.insert(key_of(item), item.clone());
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        *self.0.lock().expect("the meter") = Capacity {
            table: items,
            ..Capacity::default()
        };
        Ok(())
    }

    /// The units since the last take (read, write), and a fresh count.
    pub fn take(&self) -> (f64, f64) {
        let mut c = self.0.lock().expect("the meter");
        let taken = (c.read, c.write);
        c.read = 0.0;
        c.write = 0.0;
        taken
    }
}

fn key_of(item: &Item) -> (String, String) {
    let s = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (s("PK"), s("SK"))
}

fn kb_units(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

/// The key an item has in `index`, if it is in it.
fn index_key(
    item: &Item,
    index: &tempaccess_aws::dynamodb::table::Index,
) -> Option<(String, String)> {
    let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    Some((s(index.partition_key)?, s(index.sort_key)?))
}

impl Capacity {
    /// The units of writing `new` (None: deleting) over what the table holds at its key.
    fn write(&mut self, key: (String, String), new: Option<&Item>, transaction: bool) {
        let old = self.table.get(&key);
        let size = |i: Option<&Item>| i.map_or(0, item_size);
        let table = kb_units(size(old).max(size(new)), 1024);
        let mut units = if transaction { 2.0 * table } else { table };
        for index in tempaccess_aws::dynamodb::table::INDEXES {
            let before = old.and_then(|i| index_key(i, &index));
            let after = new.and_then(|i| index_key(i, &index));
            units += match (before, after) {
                (None, None) => 0.0,
                (Some(_), None) => kb_units(size(old), 1024),
                (None, Some(_)) => kb_units(size(new), 1024),
                (Some(b), Some(a)) if a == b => kb_units(size(new), 1024),
                (Some(_), Some(_)) => kb_units(size(old), 1024) + kb_units(size(new), 1024),
            };
        }
        self.write += units;
        match new {
            Some(item) => {
                self.table.insert(key, item.clone());
            }
            None => {
                self.table.remove(&key);
            }
        }
    }

    /// An update or a condition check: sized as the item it touches, left as it is.
    fn touch(&mut self, key: (String, String), transaction: bool, indexes: bool) {
        let old = self.table.get(&key).cloned();
        let size = old.as_ref().map_or(0, item_size);
        let table = kb_units(size, 1024);
        let mut units = if transaction { 2.0 * table } else { table };
        if indexes && let Some(old) = &old {
            for index in tempaccess_aws::dynamodb::table::INDEXES {
                if index_key(old, &index).is_some() {
                    units += kb_units(size, 1024);
                }
            }
        }
        self.write += units;
    }
}

impl Intercept for CapacityMeter {
    fn name(&self) -> &'static str {
        "capacity-meter"
    }

    fn read_before_serialization(
        &self,
        ctx: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let input = ctx.input();
        let mut c = self.0.lock().expect("the meter");
        if let Some(put) = input.downcast_ref::<op::put_item::PutItemInput>() {
            if let Some(item) = put.item() {
                c.write(key_of(item), Some(item), false);
            }
        } else if let Some(delete) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
            if let Some(key) = delete.key() {
                c.write(key_of(key), None, false);
            }
        } else if let Some(update) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
            if let Some(key) = update.key() {
                c.touch(key_of(key), false, true);
            }
        } else if let Some(batch) =
            input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>()
        {
            for writes in batch.request_items().into_iter().flat_map(|m| m.values()) {
                for w in writes {
                    if let Some(put) = w.put_request() {
                        c.write(key_of(put.item()), Some(put.item()), false);
                    }
                    if let Some(delete) = w.delete_request() {
                        c.write(key_of(delete.key()), None, false);
                    }
                }
            }
        } else if let Some(tx) =
            input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>()
        {
            for t in tx.transact_items() {
                if let Some(put) = t.put() {
                    c.write(key_of(put.item()), Some(put.item()), true);
                }
                if let Some(delete) = t.delete() {
                    c.write(key_of(delete.key()), None, true);
                }
                if let Some(update) = t.update() {
                    c.touch(key_of(update.key()), true, true);
                }
                if let Some(check) = t.condition_check() {
                    c.touch(key_of(check.key()), true, false);
                }
            }
        } else if let Some(q) = input.downcast_ref::<op::query::QueryInput>() {
            c.consistent_query = q.consistent_read() == Some(true);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        ctx: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let Ok(output) = ctx.output_or_error() else {
            return Ok(());
        };
        let mut c = self.0.lock().expect("the meter");
        if let Some(get) = output.downcast_ref::<op::get_item::GetItemOutput>() {
            // The store reads single items consistently.
            c.read += kb_units(get.item().map_or(0, item_size), 4096);
        } else if let Some(q) = output.downcast_ref::<op::query::QueryOutput>() {
            let returned: usize = q.items().iter().map(item_size).sum();
            let mean = if q.count() > 0 {
                returned / q.count() as usize
            } else {
                0
            };
            let evaluated = mean * q.scanned_count().max(0) as usize;
            let units = kb_units(evaluated, 4096);
            c.read += if c.consistent_query {
                units
            } else {
                units / 2.0
            };
        } else if let Some(batch) = output.downcast_ref::<op::batch_get_item::BatchGetItemOutput>()
        {
            let items: Vec<&Item> = batch
                .responses()
                .into_iter()
                .flat_map(|m| m.values())
                .flatten()
                .collect();
            c.read += items
                .iter()
                .map(|i| kb_units(item_size(i), 4096) / 2.0)
                .sum::<f64>();
        }
        Ok(())
    }
}
