//! The Store contract on the DynamoDB store, over the wire against the emulator
//! (`TEMPACCESS_MOTO_URL`), each test on a fresh table; then what only this store has:
//! the table layout, sparse indexes, TTL attributes and the reports' read budget.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode};
use aws_sdk_dynamodb::types::{AttributeValue, KeySchemaElement, KeyType, ScalarAttributeType};
use chrono::TimeDelta;
use tempaccess_aws::dynamodb::table::{self, Index};
use tempaccess_aws::dynamodb::{DynamoStore, ReadBudget};
use tempaccess_core::ports::{IDEMPOTENCY_WINDOW, Page, Scope, Store, StoreQuery, Total};
use tempaccess_core::report::{Cursor, PageSize, ReportOrder};
use tempaccess_core::request::{AccessRequest, Op, Status};
use tempaccess_core::testing::every_request;
use tempaccess_tests::calls::{CallCounter, intercepted_clients};
use tempaccess_tests::moto;
use tempaccess_tests::store_contract::{approve, at, change, deny, email, new_request, use_key};

struct Fixture {
    client: Client,
    table: String,
    store: DynamoStore,
}

async fn fresh() -> Fixture {
    let client = Client::new(&moto::sdk_config().await);
    let table = moto::unique("t");
    table::create_table(&client, &table)
        .await
        .expect("a fresh table");
    let store = DynamoStore::new(client.clone(), table.clone());
    Fixture {
        client,
        table,
        store,
    }
}

tempaccess_tests::store_contract_tests!(async { fresh().await.store });

/// Nothing in the table (every attribute of every item) rebuilds a live link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_stored_rebuilds_a_decision_link() -> anyhow::Result<()> {
    let f = fresh().await;
    let (client, table) = (f.client.clone(), f.table.clone());
    let dump: tempaccess_tests::store_contract::Dump = Box::new(move || {
        let (client, table) = (client.clone(), table.clone());
        Box::pin(async move {
            // A test reads the whole table; the product never scans.
            let mut text = String::new();
            let mut start = None;
            loop {
                let page = client
                    .scan()
                    .table_name(&table)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                for item in page.items() {
                    text.push_str(&format!("{item:?}"));
                }
                start = page.last_evaluated_key().cloned();
                if start.is_none() {
                    return Ok(text);
                }
            }
        })
    });
    tempaccess_tests::store_contract::nothing_stored_rebuilds_a_decision_link(
        std::sync::Arc::new(f.store),
        dump,
    )
    .await
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl Fixture {
    /// The table keys (`PK`) of the items in one partition of an index.
    async fn in_index(&self, index: Index, partition: &str) -> Vec<String> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", index.partition_key)
            .expression_attribute_values(":pk", s(partition))
            .send()
            .await
            .expect("an index query");
        output
            .items()
            .iter()
            .filter_map(|item| item.get(table::PK)?.as_s().ok().cloned())
            .collect()
    }

    /// Every item whose table key begins with `prefix` (a scan: fine in a test).
    async fn items_starting(&self, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(#pk, :prefix)")
            .expression_attribute_names("#pk", table::PK)
            .expression_attribute_values(":prefix", s(prefix))
            .send()
            .await
            .expect("a scan")
            .items()
            .to_vec()
    }

    async fn item(&self, pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
        self.client
            .get_item()
            .table_name(&self.table)
            .key(table::PK, s(pk))
            .key(table::SK, s(sk))
            .send()
            .await
            .expect("a get")
            .item
    }
}

async fn create(
    store: &DynamoStore,
    requester: &str,
    approver: &str,
    minute: i64,
) -> AccessRequest {
    let new = new_request(requester, approver, "prod-db", at(minute));
    let request = new.request.clone();
    store.create_request(new).await.expect("a create");
    request
}

/// Every page of `query`, as the ids of each page.
async fn pages(store: &DynamoStore, mut query: StoreQuery) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    loop {
        let Page { items, next_cursor } = store.query(&query).await.expect("a page");
        pages.push(items.iter().map(|r| r.id.to_string()).collect());
        match next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 50, "pages never end");
    }
}

#[tokio::test]
async fn the_table_is_created_as_the_spec_says_and_creating_it_again_is_fine() {
    let f = fresh().await;
    let spec = table::spec();
    assert_eq!(table::describe(&f.client, &f.table).await.unwrap(), spec);
    assert_eq!(spec.ttl_attribute.as_deref(), Some(table::TTL));
    assert_eq!(spec.billing_mode, "PAY_PER_REQUEST");
    assert_eq!(spec.indexes.len(), table::INDEXES.len());
    assert!(spec.indexes.iter().all(|i| i.projection == "ALL"));

    table::create_table(&f.client, &f.table)
        .await
        .expect("an existing table with this layout is fine");
    assert_eq!(table::describe(&f.client, &f.table).await.unwrap(), spec);
}

#[tokio::test]
async fn an_existing_table_with_another_layout_is_refused() {
    let client = Client::new(&moto::sdk_config().await);
    let name = moto::unique("other");
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    let string = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string("PK"))
        .attribute_definitions(string("SK"))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .send()
        .await
        .unwrap();
    let err = table::create_table(&client, &name).await.unwrap_err();
    assert!(format!("{err:#}").contains("another layout"), "{err:#}");
}

#[tokio::test]
async fn sparse_indexes_hold_only_what_they_should() {
    let f = fresh().await;
    let request = create(&f.store, "alice@example.com", "bob@example.com", 0).await;
    let pk = format!("REQ#{}", request.id);
    let pending_index = || f.in_index(table::PENDING_BY_EXPIRY, "PENDING");
    let grants_index = || f.in_index(table::GRANTS_BY_END, "GRANTS");
    assert_eq!(pending_index().await, vec![pk.clone()]);
    assert_eq!(grants_index().await, Vec::<String>::new());

    let approval = approve(&request, at(1), at(1), at(61));
    let approved = approval.request.clone();
    f.store.apply(approval).await.unwrap();
    assert_eq!(pending_index().await, Vec::<String>::new());
    assert_eq!(grants_index().await, vec![pk.clone()]);
    let item = f.item(&pk, "META").await.expect("the request");
    // Absent, not NULL: a NULL would still not index, but it is not what we write.
    assert!(!item.contains_key("GSI6PK") && !item.contains_key("GSI6SK"));

    f.store
        .apply(change(&approved, Op::End, at(61)))
        .await
        .unwrap();
    assert_eq!(grants_index().await, Vec::<String>::new());
    let item = f.item(&pk, "META").await.expect("the request");
    assert!(!item.contains_key("GSI4PK") && !item.contains_key("GSI4SK"));
    // The request is still in the indexes that list every request.
    assert_eq!(
        f.in_index(table::BY_REQUESTER, "RQR#alice@example.com")
            .await,
        vec![pk.clone()]
    );
    assert_eq!(
        f.in_index(table::ALL_REQUESTS, "REQUESTS").await,
        vec![pk.clone()]
    );

    // The outbox: the first request's mail and two notices; one delivered, one given up.
    let due: Vec<_> = f
        .store
        .due_mail(at(1000), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due.len(), 3);
    let outbox = || f.in_index(table::OUTBOX_DUE, "OUTBOX");
    assert_eq!(outbox().await.len(), 3);
    f.store.mail_delivered(&due[0]).await.unwrap();
    f.store.mail_failed(&due[1], 5, None).await.unwrap();
    assert_eq!(outbox().await, vec![format!("OUT#{}", due[2])]);
    assert_eq!(f.item(&format!("OUT#{}", due[0]), "OUT").await, None);
    let given_up = f
        .item(&format!("OUT#{}", due[1]), "OUT")
        .await
        .expect("a given-up mail stays as a record");
    assert_eq!(given_up.get("given_up"), Some(&AttributeValue::Bool(true)));
    assert_eq!(
        given_up.get("attempts"),
        Some(&AttributeValue::N("5".into()))
    );
    // A failure recorded for a mail delivered meanwhile creates nothing.
    f.store
        .mail_failed(&due[0], 1, Some(at(2000)))
        .await
        .unwrap();
    assert_eq!(f.item(&format!("OUT#{}", due[0]), "OUT").await, None);

    // Entries are listed through their own sparse index, users are not in it.
    let entry = tempaccess_tests::store_contract::entry("prod-db", "Production");
    f.store.put_entry(&entry).await.unwrap();
    f.store
        .put_user(&tempaccess_core::entry::User {
            email: email("carol@example.com"),
            name: "Carol".into(),
            roles: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        f.in_index(table::ENTRIES, "ENTRIES").await,
        vec!["ENT#prod-db".to_owned()]
    );
}

#[tokio::test]
async fn tokens_and_idempotency_keys_carry_a_ttl() {
    let f = fresh().await;
    let mut new = new_request("alice@example.com", "bob@example.com", "prod-db", at(0));
    use_key(&mut new, "key-1");
    let token = new.token.clone();
    let (first, first_at) = (new.request.id, new.request.created_at);
    f.store.create_request(new).await.unwrap();

    let item = f
        .item(&format!("TOK#{}", token.hash.0), "TOK")
        .await
        .expect("the token");
    assert_eq!(
        item.get(table::TTL),
        Some(&AttributeValue::N(token.expires_at.timestamp().to_string()))
    );

    // The key's item: DynamoDB drops it once it is free again (the contract's
    // `an_idempotency_key_is_free_after_its_window` holds whether or not it has).
    let key = f.items_starting("IDEM#alice@example.com#").await;
    assert_eq!(key.len(), 1, "{key:?}");
    let free_after = first_at + IDEMPOTENCY_WINDOW;
    assert_eq!(
        key[0].get(table::TTL),
        Some(&AttributeValue::N(free_after.timestamp().to_string()))
    );
    assert_eq!(key[0].get("request_id"), Some(&s(&first.to_string())));
}

#[tokio::test]
async fn approvals_list_pending_and_decided_together_newest_first() {
    let f = fresh().await;
    let mut made = Vec::new();
    for minute in 0..6 {
        made.push(create(&f.store, "alice@example.com", "bob@example.com", minute).await);
    }
    create(&f.store, "alice@example.com", "dave@example.com", 7).await;
    // Decide every other one: the approver's index keeps them in another section.
    for r in made.iter().step_by(2) {
        f.store.apply(deny(r, at(10))).await.unwrap();
    }
    let ids = |rs: &[&AccessRequest]| rs.iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
    let newest_first: Vec<_> = made.iter().rev().collect();
    let query = StoreQuery {
        scope: Scope::ApprovedBy(email("bob@example.com")),
        limit: PageSize::new(2).unwrap(),
        ..every_request(at(20))
    };
    let got = pages(&f.store, query.clone()).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got.concat(), ids(&newest_first));

    let denied = StoreQuery {
        status: Some(Status::Denied),
        ..query.clone()
    };
    let expected: Vec<_> = made.iter().step_by(2).rev().collect();
    assert_eq!(pages(&f.store, denied).await.concat(), ids(&expected));
    let pending = StoreQuery {
        status: Some(Status::Pending),
        ..query
    };
    let expected: Vec<_> = made.iter().skip(1).step_by(2).rev().collect();
    assert_eq!(pages(&f.store, pending).await.concat(), ids(&expected));
}

#[tokio::test]
async fn all_requests_of_any_age_are_read_from_one_partition_one_query_a_page() {
    let counter = CallCounter::default();
    let sdk = moto::sdk_config().await;
    let f = fresh().await;
    let store = DynamoStore::new(intercepted_clients(&sdk, counter.clone()).dynamodb, f.table);
    let now = at(0);
    let minutes_ago = |days: i64| -TimeDelta::days(days).num_minutes();
    let mut made = Vec::new();
    for days in [2, 300, 800, 4000] {
        made.push(
            create(
                &store,
                "alice@example.com",
                "bob@example.com",
                minutes_ago(days),
            )
            .await,
        );
    }
    let ids = |rs: &[AccessRequest]| rs.iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
    counter.take();

    let query = StoreQuery {
        limit: PageSize::new(1).unwrap(),
        ..every_request(now)
    };
    let got = pages(&store, query.clone()).await;
    assert_eq!(got.concat(), ids(&made), "every request, newest first");
    assert_eq!(
        counter.take().get("DynamoDB.Query").copied(),
        Some(got.len() as u32),
        "one Query a page"
    );
    let from = StoreQuery {
        from: Some(now - TimeDelta::days(1000)),
        ..query
    };
    assert_eq!(pages(&store, from).await.concat(), ids(&made[..3]));
}

#[tokio::test]
async fn a_page_stops_at_its_read_budget_and_its_cursor_reads_on() {
    let counter = CallCounter::default();
    let sdk = moto::sdk_config().await;
    let f = fresh().await;
    let budget = ReadBudget {
        page_items: 4,
        count_queries: 2,
    };
    let store = DynamoStore::new(intercepted_clients(&sdk, counter.clone()).dynamodb, f.table)
        .with_read_budget(budget);
    let mut made = Vec::new();
    for minute in 0..20 {
        made.push(create(&store, "alice@example.com", "bob@example.com", minute).await);
    }
    // A rare match: one request in five is denied.
    let mut denied = Vec::new();
    for r in made.iter().step_by(5) {
        store.apply(deny(r, at(30))).await.unwrap();
        denied.push(r.id.to_string());
    }
    denied.reverse();
    counter.take();

    for order in ReportOrder::ALL {
        let mut query = StoreQuery {
            status: Some(Status::Denied),
            order,
            limit: PageSize::new(2).unwrap(),
            ..every_request(at(40))
        };
        let mut listed = Vec::new();
        let mut short_with_more = 0;
        loop {
            let Page { items, next_cursor } = store.query(&query).await.expect("a page");
            assert_eq!(
                counter.take().get("DynamoDB.Query").copied(),
                Some(1),
                "one Query a page, whatever the filter matches"
            );
            assert!(items.len() <= 2);
            listed.extend(items.iter().map(|r| r.id.to_string()));
            let Some(cursor) = next_cursor else { break };
            if items.len() < 2 {
                short_with_more += 1;
            }
            assert_eq!(
                Cursor::decode(&query, &cursor).unwrap().listed,
                listed.len() as u64,
                "the cursor knows how many were listed before it"
            );
            query.cursor = Some(cursor);
            assert!(listed.len() <= denied.len());
        }
        let mut expected = denied.clone();
        if order == ReportOrder::Oldest {
            expected.reverse();
        }
        assert_eq!(listed, expected, "{order:?}: each once, in order");
        assert!(
            short_with_more > 0,
            "{order:?}: the budget cut a page short"
        );
    }

    // A count reads at most its budget of Queries, then says "at least".
    let query = StoreQuery {
        status: Some(Status::Pending),
        ..every_request(at(40))
    };
    match store.count(&query).await.unwrap() {
        Total::AtLeast(n) => assert!(n <= 8, "{n}"),
        exact => panic!("counted past the budget: {exact:?}"),
    }
    assert_eq!(counter.take().get("DynamoDB.Query").copied(), Some(2));
    let roomy = store.clone().with_read_budget(ReadBudget::default());
    assert_eq!(roomy.count(&query).await.unwrap(), Total::Exact(16));
}
