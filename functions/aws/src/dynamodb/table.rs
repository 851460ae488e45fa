//! The table layout as data: keys, indexes, projections and the TTL attribute.
//!
//! One table holds everything. [`spec`] is the single description of it: the table is
//! created from it ([`create_table`]), read back against it ([`describe`]), and the SAM
//! template is checked against it.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | request | `REQ#<id>` | `META` |
//! | audit event | `REQ#<request id>` | `EVT#<at, ns precision>#<event id>` |
//! | decision token | `TOK#<sha256 hex>` | `TOK` (`ttl`: its expiry) |
//! | entry | `ENT#<id>` | `META` |
//! | user | `USR#<email>` | `META` |
//! | outbox mail | `OUT#<mail id>` | `OUT` |
//! | idempotency key | `IDEM#<requester>#<sha256 hex of the key>` | `IDEM` (`free_after`, `ttl`: when it is free again) |
//!
//! Every index projects all attributes, so a Query answers without a second read.
//! The sparse ones hold an item only while it has both of the index's key attributes.

use std::time::Duration;

use anyhow::Context;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};

/// The table's partition key attribute.
pub const PK: &str = "PK";
/// The table's sort key attribute.
pub const SK: &str = "SK";
/// The attribute DynamoDB's TTL reads: epoch seconds after which an item may go.
pub const TTL: &str = "ttl";

/// A global secondary index, as the code addresses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// The index name.
    pub name: &'static str,
    /// Its partition key attribute.
    pub partition_key: &'static str,
    /// Its sort key attribute.
    pub sort_key: &'static str,
}

/// Requests by requester, newest first: `RQR#<email>` / `<created_at>#<id>`.
pub const BY_REQUESTER: Index = Index {
    name: "GSI1",
    partition_key: "GSI1PK",
    sort_key: "GSI1SK",
};

/// Requests by approver, pending first (descending), each part newest first:
/// `APR#<email>` / `PENDING#<created_at>#<id>` or `DECIDED#<created_at>#<id>`.
pub const BY_APPROVER: Index = Index {
    name: "GSI2",
    partition_key: "GSI2PK",
    sort_key: "GSI2SK",
};

/// Every request by creation, for admins' reports: `REQUESTS` / `<created_at>#<id>`.
/// One partition, so that any page of an all-requests report is one Query whatever the
/// date range; its writes are one per request created or changed, far below what one
/// partition of an index takes (1,000 writes a second).
pub const ALL_REQUESTS: Index = Index {
    name: "GSI3",
    partition_key: "GSI3PK",
    sort_key: "GSI3SK",
};

/// Sparse: approved grants by end time, for the sweep and "access now":
/// `GRANTS` / `<ends_at>#<id>`, present only while the request is approved.
pub const GRANTS_BY_END: Index = Index {
    name: "GSI4",
    partition_key: "GSI4PK",
    sort_key: "GSI4SK",
};

/// Sparse: undelivered mail by next attempt, for the retry:
/// `OUTBOX` / `<next_attempt_at>#<mail id>`, gone once delivered or given up.
pub const OUTBOX_DUE: Index = Index {
    name: "GSI5",
    partition_key: "GSI5PK",
    sort_key: "GSI5SK",
};

/// Sparse: pending requests by expiry, for the expiry sweep:
/// `PENDING` / `<expires_at>#<id>`, present only while the request is pending.
pub const PENDING_BY_EXPIRY: Index = Index {
    name: "GSI6",
    partition_key: "GSI6PK",
    sort_key: "GSI6SK",
};

/// Sparse: entries by id, for the entries list: `ENTRIES` / `<entry id>`.
pub const ENTRIES: Index = Index {
    name: "GSI7",
    partition_key: "GSI7PK",
    sort_key: "GSI7SK",
};

/// Every index of the table, by name.
pub const INDEXES: [Index; 7] = [
    BY_REQUESTER,
    BY_APPROVER,
    ALL_REQUESTS,
    GRANTS_BY_END,
    OUTBOX_DUE,
    PENDING_BY_EXPIRY,
    ENTRIES,
];

/// The table as CloudFormation and DynamoDB describe it. Values are the API's own
/// spellings (`S`, `ALL`, `PAY_PER_REQUEST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// The partition key attribute.
    pub partition_key: String,
    /// The sort key attribute.
    pub sort_key: String,
    /// Every attribute a key schema names, by name.
    pub attributes: Vec<AttributeSpec>,
    /// The global secondary indexes, by name.
    pub indexes: Vec<IndexSpec>,
    /// The TTL attribute, when TTL is enabled.
    pub ttl_attribute: Option<String>,
    /// How capacity is billed.
    pub billing_mode: String,
}

/// An attribute definition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttributeSpec {
    /// The attribute name.
    pub name: String,
    /// Its type (`S`).
    pub kind: String,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// The index name.
    pub name: String,
    /// Its partition key attribute.
    pub partition_key: String,
    /// Its sort key attribute.
    pub sort_key: String,
    /// What it projects (`ALL`).
    pub projection: String,
}

/// The layout of the table.
pub fn spec() -> TableSpec {
    let string = |name: &str| AttributeSpec {
        name: name.to_owned(),
        kind: ScalarAttributeType::S.as_str().to_owned(),
    };
    let mut attributes: Vec<_> = [PK, SK]
        .into_iter()
        .chain(INDEXES.iter().flat_map(|i| [i.partition_key, i.sort_key]))
        .map(string)
        .collect();
    attributes.sort();
    TableSpec {
        partition_key: PK.to_owned(),
        sort_key: SK.to_owned(),
        attributes,
        indexes: INDEXES
            .iter()
            .map(|i| IndexSpec {
                name: i.name.to_owned(),
                partition_key: i.partition_key.to_owned(),
                sort_key: i.sort_key.to_owned(),
                projection: ProjectionType::All.as_str().to_owned(),
            })
            .collect(),
        ttl_attribute: Some(TTL.to_owned()),
        billing_mode: BillingMode::PayPerRequest.as_str().to_owned(),
    }
}

/// How long to wait for a new table (and its indexes) to become usable.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Creates the table `name` from [`spec`] (on-demand billing), waits until it and its
/// indexes are active, and enables TTL. An existing table is fine if it has this
/// layout; one with another layout is an error.
pub async fn create_table(client: &Client, name: &str) -> anyhow::Result<()> {
    let spec = spec();
    let keys = |pk: &str, sk: &str| -> anyhow::Result<Vec<KeySchemaElement>> {
        Ok(vec![
            KeySchemaElement::builder()
                .attribute_name(pk)
                .key_type(KeyType::Hash)
                .build()?,
            KeySchemaElement::builder()
                .attribute_name(sk)
                .key_type(KeyType::Range)
                .build()?,
        ])
    };
    let attributes = spec
        .attributes
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(ScalarAttributeType::from(a.kind.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let indexes = spec
        .indexes
        .iter()
        .map(|i| -> anyhow::Result<GlobalSecondaryIndex> {
            Ok(GlobalSecondaryIndex::builder()
                .index_name(&i.name)
                .set_key_schema(Some(keys(&i.partition_key, &i.sort_key)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(i.projection.as_str()))
                        .build(),
                )
                .build()?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(keys(&spec.partition_key, &spec.sort_key)?))
        .set_global_secondary_indexes(Some(indexes))
        .send()
        .await;
    let existed = match created {
        Ok(_) => false,
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(CreateTableError::ResourceInUseException(_))
            ) =>
        {
            true
        }
        Err(e) => return Err(e).with_context(|| format!("creating the table {name}")),
    };
    wait_until_active(client, name).await?;
    enable_ttl(client, name, TTL).await?;
    if existed {
        let found = describe(client, name).await?;
        anyhow::ensure!(
            found == spec,
            "the table {name} exists with another layout:\n  found {found:?}\n  expected {spec:?}"
        );
    }
    Ok(())
}

async fn wait_until_active(client: &Client, name: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let table = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .with_context(|| format!("describing the table {name}"))?
            .table
            .with_context(|| format!("no description of the table {name}"))?;
        let active = table.table_status() == Some(&TableStatus::Active)
            && table
                .global_secondary_indexes()
                .iter()
                .all(|i| i.index_status() == Some(&IndexStatus::Active));
        if active {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the table {name} is not active after {ACTIVE_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Enables TTL on `attribute` unless it already is (enabling twice is an error in AWS).
async fn enable_ttl(client: &Client, name: &str, attribute: &str) -> anyhow::Result<()> {
    if let Some(current) = ttl_attribute(client, name).await? {
        anyhow::ensure!(
            current == attribute,
            "the table {name} has TTL on {current:?}, not {attribute:?}"
        );
        return Ok(());
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(attribute)
                .build()?,
        )
        .send()
        .await
        .with_context(|| format!("enabling TTL on the table {name}"))?;
    Ok(())
}

async fn ttl_attribute(client: &Client, name: &str) -> anyhow::Result<Option<String>> {
    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .with_context(|| format!("reading the TTL of the table {name}"))?;
    Ok(ttl.time_to_live_description.and_then(|d| {
        matches!(
            d.time_to_live_status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        )
        .then_some(d.attribute_name)
        .flatten()
    }))
}

/// The layout of the live table `name`, in the terms of [`spec`].
pub async fn describe(client: &Client, name: &str) -> anyhow::Result<TableSpec> {
    let table = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .with_context(|| format!("describing the table {name}"))?
        .table
        .with_context(|| format!("no description of the table {name}"))?;
    let key = |schema: &[KeySchemaElement], kind: KeyType| {
        schema
            .iter()
            .find(|k| k.key_type() == &kind)
            .map(|k| k.attribute_name().to_owned())
            .unwrap_or_default()
    };
    let mut attributes: Vec<_> = table
        .attribute_definitions()
        .iter()
        .map(|a| AttributeSpec {
            name: a.attribute_name().to_owned(),
            kind: a.attribute_type().as_str().to_owned(),
        })
        .collect();
    attributes.sort();
    let mut indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .map(|i| IndexSpec {
            name: i.index_name().unwrap_or_default().to_owned(),
            partition_key: key(i.key_schema(), KeyType::Hash),
            sort_key: key(i.key_schema(), KeyType::Range),
            projection: i
                .projection()
                .and_then(|p| p.projection_type())
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        })
        .collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(TableSpec {
        partition_key: key(table.key_schema(), KeyType::Hash),
        sort_key: key(table.key_schema(), KeyType::Range),
        attributes,
        indexes,
        ttl_attribute: ttl_attribute(client, name).await?,
        billing_mode: table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str().to_owned())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_attribute_is_defined_once_and_index_names_are_unique() {
        let spec = spec();
        let names: std::collections::BTreeSet<_> =
            spec.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names.len(), spec.attributes.len());
        assert_eq!(names.len(), 2 + 2 * INDEXES.len());
        let indexes: std::collections::BTreeSet<_> = INDEXES.iter().map(|i| i.name).collect();
        assert_eq!(indexes.len(), INDEXES.len());
        assert!(
            spec.indexes.windows(2).all(|w| w[0].name < w[1].name),
            "by name, as DescribeTable is read back"
        );
    }
}
