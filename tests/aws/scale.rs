//! Reports at scale: many requests loaded into each store (SQLite on a file, DynamoDB
//! on the emulator), then the report's pages read as the site and the CLI read them.
//! What is asserted are counts: every page of the DynamoDB report is one Query, every
//! selected request is listed once, and the stores agree. Times are measured, never
//! asserted: with `TEMPACCESS_BENCH_OUT` the table is written there for `cargo xtask
//! bench reports`. `TEMPACCESS_BENCH_REQUESTS` sets how many requests (1,000 here; the
//! bench loads 100,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use tempaccess_aws::dynamodb::{DynamoStore, table};
use tempaccess_core::ids::EntryId;
use tempaccess_core::ports::{Change, CreateRequest, Scope, Store, StoreQuery, Total};
use tempaccess_core::report::{PageSize, ReportOrder};
use tempaccess_core::request::{AccessRequest, Status};
use tempaccess_core::testing::every_request;
use tempaccess_sqlite::SqliteStore;
use tempaccess_tests::calls::{QueryMeter, QueryRead};
use tempaccess_tests::moto;
use tempaccess_tests::store_contract::{approve, at, deny, email, new_request};

const ENTRIES: usize = 20;
const REQUESTERS: usize = 50;
const APPROVERS: usize = 5;

fn requests() -> usize {
    std::env::var("TEMPACCESS_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

/// Request `i`, sent at minute `i`, as it stands once decided: one in fifty denied,
/// six in ten approved for an hour, the rest left pending (expired by the reports'
/// clock). Entry `i % 20`, requester `i % 50`, approver `i % 5`: "denied on entry-00"
/// is one request in a hundred, "user07's" one in fifty.
fn request(i: usize) -> (CreateRequest, Option<Change>) {
    let created = at(i as i64);
    let new = new_request(
        &format!("user{:02}@example.com", i % REQUESTERS),
        &format!("approver{}@example.com", i % APPROVERS),
        &format!("entry-{:02}", i % ENTRIES),
        created,
    );
    let decided = created + chrono::TimeDelta::minutes(1);
    let change = if i.is_multiple_of(50) {
        Some(deny(&new.request, decided))
    } else if (1..=6).contains(&(i % 10)) {
        Some(approve(
            &new.request,
            decided,
            decided,
            decided + chrono::TimeDelta::hours(1),
        ))
    } else {
        None
    };
    (new, change)
}

/// Every request through the store's own writes, a few at a time as users send them.
async fn load(store: Arc<dyn Store>, n: usize) {
    let mut next = 0;
    while next < n {
        let handles: Vec<_> = (next..n.min(next + 8))
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let (new, change) = request(i);
                    store.create_request(new).await.expect("a create");
                    if let Some(change) = change {
                        store.apply(change).await.expect("a decision");
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.expect("a load task");
        }
        next += 8;
    }
}

/// Every request as it stands, 25 to a call: the emulator takes tens of milliseconds
/// a transaction when busy, and 100,000 requests with their decisions would take hours.
async fn load_in_bulk(store: &DynamoStore, n: usize) {
    let requests: Vec<AccessRequest> = (0..n)
        .map(|i| match request(i) {
            (_, Some(change)) => change.request,
            (new, None) => new.request,
        })
        .collect();
    store.load_requests(&requests).await.expect("a load");
}

/// A report as the site asks for it.
struct Report {
    name: &'static str,
    query: StoreQuery,
    /// Read every page (else the first `pages`).
    pages: Option<usize>,
}

fn reports(n: usize) -> Vec<Report> {
    let now = at(n as i64 + 2 * 24 * 60);
    let all = StoreQuery {
        limit: PageSize::new(50).unwrap(),
        ..every_request(now)
    };
    vec![
        Report {
            name: "every request, newest first: the first 20 pages",
            query: all.clone(),
            pages: Some(20),
        },
        Report {
            name: "denied on one entry (1 in 100), oldest first: every page",
            query: StoreQuery {
                status: Some(Status::Denied),
                entry_id: Some(EntryId::parse("entry-00").unwrap()),
                order: ReportOrder::Oldest,
                ..all.clone()
            },
            pages: None,
        },
        Report {
            name: "one requester's history: every page",
            query: StoreQuery {
                scope: Scope::RequestedBy(email("user07@example.com")),
                ..all.clone()
            },
            pages: None,
        },
        Report {
            name: "an approver's pending and decided: the first 5 pages",
            query: StoreQuery {
                scope: Scope::ApprovedBy(email("approver2@example.com")),
                ..all
            },
            pages: Some(5),
        },
    ]
}

/// What reading one report measured.
struct Reading {
    pages: usize,
    ids: Vec<String>,
    per_page: Vec<Duration>,
    queries: Vec<QueryRead>,
    count: Total,
    count_time: Duration,
}

async fn read(store: &dyn Store, report: &Report, meter: Option<&QueryMeter>) -> Reading {
    let mut query = report.query.clone();
    let mut ids = Vec::new();
    let mut per_page = Vec::new();
    let mut queries = Vec::new();
    let mut pages = 0;
    loop {
        let started = Instant::now();
        let page = store.query(&query).await.expect("a page");
        per_page.push(started.elapsed());
        pages += 1;
        if let Some(meter) = meter {
            let read = meter.take();
            let expected = if matches!(query.scope, Scope::ApprovedBy(_)) {
                2
            } else {
                1
            };
            assert!(
                (1..=expected).contains(&read.len()),
                "{}: page {pages} made {} Queries",
                report.name,
                read.len()
            );
            queries.extend(read);
        }
        // Each store was loaded with its own ids: a request is known by when and by
        // whom it was sent.
        ids.extend(
            page.items
                .iter()
                .map(|r: &AccessRequest| format!("{} {}", r.created_at, r.requester)),
        );
        match page.next_cursor {
            Some(c) if report.pages.is_none_or(|max| pages < max) => query.cursor = Some(c),
            _ => break,
        }
        assert!(pages < 100_000, "{}: pages never end", report.name);
    }
    let started = Instant::now();
    let count = store.count(&report.query).await.expect("a count");
    let count_time = started.elapsed();
    if let Some(meter) = meter {
        meter.take();
    }
    Reading {
        pages,
        ids,
        per_page,
        queries,
        count,
        count_time,
    }
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d.get(d.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_at_scale_read_each_page_in_one_query() {
    let n = requests();
    let dir = std::env::temp_dir().join(moto::unique("tempaccess-scale"));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("scale.db")).unwrap());
    let meter = QueryMeter::default();
    let sdk = moto::sdk_config().await;
    let client = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(meter.clone())
            .build(),
    );
    let name = moto::unique("scale");
    table::create_table(&client, &name).await.unwrap();
    let dynamo = DynamoStore::new(client, name);

    let started = Instant::now();
    load(sqlite.clone(), n).await;
    let load_sqlite = started.elapsed();
    let started = Instant::now();
    load_in_bulk(&dynamo, n).await;
    let load_dynamo = started.elapsed();
    meter.take();

    let mut rows = Vec::new();
    for report in reports(n) {
        let lite = read(&*sqlite, &report, None).await;
        let dyn_ = read(&dynamo, &report, Some(&meter)).await;
        if report.pages.is_none() {
            assert_eq!(
                lite.ids, dyn_.ids,
                "{}: the stores list the same",
                report.name
            );
            let mut unique = dyn_.ids.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), dyn_.ids.len(), "{}: each once", report.name);
            assert_eq!(lite.count, Total::Exact(lite.ids.len() as u64));
        }
        let scanned: u64 = dyn_.queries.iter().map(|q| q.scanned).sum();
        let (returned, bytes) = dyn_
            .queries
            .iter()
            .fold((0, 0), |(r, b), q| (r + q.returned, b + q.returned_bytes));
        // Capacity: eventually consistent index reads, half a unit per 4 KB, of what
        // was evaluated (sized as the items returned, on average).
        let mean = bytes.checked_div(returned).unwrap_or(0);
        let rcu_per_page = (scanned * mean).div_ceil(4096) as f64 / 2.0 / dyn_.pages as f64;
        let total = |t: Total| match t {
            Total::Exact(n) => n.to_string(),
            Total::AtLeast(n) => format!("≥ {n}"),
        };
        rows.push(format!(
            "| {} | {} / {} | {} / {} | {} | {} | {:.0} | {:.1} | {} ({} ms) / {} ({} ms) |",
            report.name,
            lite.pages,
            dyn_.pages,
            lite.ids.len(),
            dyn_.ids.len(),
            ms(median(lite.per_page)),
            ms(median(dyn_.per_page.clone())),
            scanned as f64 / dyn_.pages as f64,
            rcu_per_page,
            total(lite.count),
            ms(lite.count_time),
            total(dyn_.count),
            ms(dyn_.count_time),
        ));
    }
    std::fs::remove_dir_all(&dir).ok();

    if let Ok(path) = std::env::var("TEMPACCESS_BENCH_OUT") {
        let mut table = format!(
            "{n} requests loaded (SQLite through its own writes in {:.0} s; the emulator {} in {:.0} s).\n\n\
             | report (pages of 50) | pages SQLite / DynamoDB | listed SQLite / DynamoDB | ms per page, SQLite (median) | ms per page, DynamoDB on the emulator (median) | items read per DynamoDB page | RCU per DynamoDB page (est.) | count SQLite / DynamoDB |\n\
             |---|---:|---:|---:|---:|---:|---:|---|\n",
            load_sqlite.as_secs_f64(),
            "25 requests to a BatchWriteItem",
            load_dynamo.as_secs_f64()
        );
        for row in rows {
            table += &row;
            table.push('\n');
        }
        std::fs::write(&path, table).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}
