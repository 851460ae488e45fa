//! The use cases in process, each timed over many runs of the whole workflow (submit,
//! approve, reveal, a report page, end early) on the SQLite store, on a file as the
//! embedded default keeps it and in memory, with recording adapters for mail,
//! schedules and rotation and a clock that moves a second a workflow. Prints p50 and
//! p99 per use case as a table (`cargo xtask bench usecases` writes it into
//! BENCHMARKS.md). `TEMPACCESS_BENCH_RUNS` sets the number of workflows (1,000).
//! Built with the release profile, as the functions are.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use tempaccess_core::entry::{Caller, Entry, EntryKind, PermissionSet, User, default_presets};
use tempaccess_core::ids::{Email, EntryId, PermissionSetId};
use tempaccess_core::policy::Narrowing;
use tempaccess_core::ports::Store;
use tempaccess_core::request::SubmitCommand;
use tempaccess_core::service::{Decision, Ports, ReportParams, ReportScope, Service, Settings};
use tempaccess_core::testing::{
    CountingRandom, ManualClock, NamedSecrets, RecordingMailer, RecordingRotator,
    RecordingScheduler, caller,
};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};
use tempaccess_sqlite::SqliteStore;

const USE_CASES: [&str; 5] = [
    "submit",
    "approve (signed in)",
    "reveal the password",
    "a report page (admin, 50 newest)",
    "end early",
];

fn email(s: &str) -> Email {
    Email::parse(s).expect("an email")
}

/// The people and the entry the workflow needs (as the demo data has them).
async fn seed(store: &dyn Store) {
    for (who, name, roles) in [
        ("alice", "Alice Requester", vec![]),
        ("bob", "Bob Approver", vec![]),
        ("carol", "Carol Admin", vec!["admin".to_owned()]),
    ] {
        store
            .put_user(&User {
                email: email(&format!("{who}@example.com")),
                name: name.to_owned(),
                roles,
            })
            .await
            .expect("a user");
    }
    let max = AccessDuration::from_seconds(8 * 3600, "max_duration").expect("a duration");
    store
        .put_entry(&Entry {
            id: EntryId::parse("prod-db").expect("an id"),
            name: "Production database".to_owned(),
            kind: EntryKind::Credential,
            folder: "Databases/Production".to_owned(),
            approvers: vec![email("bob@example.com")],
            permission_sets: vec![PermissionSet::view_password_execute()],
            duration_presets: default_presets(max),
            max_duration: max,
            message_required: false,
            secret_ref: Some("local/prod-db".to_owned()),
            rotates: true,
        })
        .await
        .expect("an entry");
}

async fn service(store: Arc<dyn Store>) -> (Service, Arc<ManualClock>) {
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2030-03-01T09:00:00Z")
            .expect("a valid time")
            .to_utc(),
    );
    let ports = Ports {
        store,
        mailer: RecordingMailer::new(),
        scheduler: RecordingScheduler::new(),
        secrets: Arc::new(NamedSecrets),
        rotator: RecordingRotator::new(),
        clock: clock.clone(),
        random: Arc::new(CountingRandom::default()),
    };
    (
        Service::new(ports, Settings::new("https://tempaccess.example.com")),
        clock,
    )
}

fn ask() -> SubmitCommand {
    SubmitCommand {
        entry_id: EntryId::parse("prod-db").expect("an id"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email("bob@example.com"),
        requested: Requested::Duration(
            AccessDuration::from_seconds(3600, "duration_seconds").expect("a duration"),
        ),
        message: Message::parse("Deploying the fix", "message").expect("a message"),
    }
}

/// Each use case's times over `runs` workflows.
async fn workflows(service: &Service, clock: &ManualClock, runs: usize) -> Vec<Vec<Duration>> {
    let (alice, bob, carol): (Caller, Caller, Caller) =
        (caller("alice"), caller("bob"), caller("carol"));
    let mut times = vec![Vec::with_capacity(runs); USE_CASES.len()];
    let prod = EntryId::parse("prod-db").expect("an id");
    for _ in 0..runs {
        clock.advance(TimeDelta::seconds(1));
        let t = Instant::now();
        let r = service.submit(&alice, ask(), None).await.expect("sent");
        times[0].push(t.elapsed());
        let t = Instant::now();
        service
            .decide(
                &bob,
                &r.id,
                Decision::Approve(Narrowing::default()),
                Message::default(),
            )
            .await
            .expect("approved");
        times[1].push(t.elapsed());
        let t = Instant::now();
        service
            .reveal_secret(&alice, &prod)
            .await
            .expect("revealed");
        times[2].push(t.elapsed());
        let t = Instant::now();
        let page = service
            .requests(
                &carol,
                ReportParams {
                    scope: ReportScope::All,
                    ..ReportParams::default()
                },
            )
            .await
            .expect("a page");
        assert!(!page.items.is_empty());
        times[3].push(t.elapsed());
        let t = Instant::now();
        service
            .cancel(&alice, &r.id, Message::default())
            .await
            .expect("ended");
        times[4].push(t.elapsed());
    }
    times
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    let i = ((times.len() as f64 - 1.0) * p).round() as usize;
    times[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs: usize = std::env::var("TEMPACCESS_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("tempaccess-usecases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let file = SqliteStore::open(&dir.join("bench.db")).expect("a database");
    let memory = SqliteStore::in_memory().expect("a database");
    let mut columns = Vec::new();
    for store in [file, memory] {
        seed(&store).await;
        let (service, clock) = service(Arc::new(store)).await;
        // A first pass warms caches and fills the report's first page.
        workflows(&service, &clock, 60).await;
        columns.push(workflows(&service, &clock, runs).await);
    }
    std::fs::remove_dir_all(&dir).ok();
    let mut table = format!(
        "{runs} workflows on each store, after 60 to warm up.\n\n| use case | SQLite on a file: p50 | p99 | SQLite in memory: p50 | p99 |\n|---|---:|---:|---:|---:|\n"
    );
    for (i, name) in USE_CASES.iter().enumerate() {
        let (mut a, mut b) = (columns[0][i].clone(), columns[1][i].clone());
        table += &format!(
            "| {name} | {} ms | {} ms | {} ms | {} ms |\n",
            ms(percentile(&mut a, 0.5)),
            ms(percentile(&mut a, 0.99)),
            ms(percentile(&mut b, 0.5)),
            ms(percentile(&mut b, 0.99)),
        );
    }
    match std::env::var("TEMPACCESS_BENCH_OUT") {
        Ok(path) => std::fs::write(&path, &table).expect("the table written"),
        Err(_) => print!("{table}"),
    }
}
