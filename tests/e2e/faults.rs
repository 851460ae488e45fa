//! A seeded random schedule of faults over many whole workflows, in process on the SQLite
//! store: the mailer, the scheduler and the rotator each fail a share of their calls
//! (retryably, now and then for good) and answer late, while requests are made, decided,
//! withdrawn, ended early, revoked, left to expire and to end, and the clock and the
//! sweep move on. Afterwards: every request in one final state with the events that say
//! so, every grant ended by its end plus the sweep's step, nothing left due in the
//! outbox or among the rotations, and every mail or rotation given up said so on the
//! timeline.
//!
//! 150 workflows in the suite; `TEMPACCESS_FAULT_WORKFLOWS` for more and
//! `TEMPACCESS_FAULT_SEED` to replay a run (the seed is printed).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use tempaccess_core::Error;
use tempaccess_core::Timestamp;
use tempaccess_core::audit::EventKind;
use tempaccess_core::bounded::{Limits, bounded};
use tempaccess_core::ids::{Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::policy::Narrowing;
use tempaccess_core::ports::Clock;
use tempaccess_core::ports::{BoxError, Mail, MailError, Mailer, RotateError, Rotator, Scheduler};
use tempaccess_core::request::{State, SubmitCommand};
use tempaccess_core::service::{Decision, Ports};
use tempaccess_core::testing::{RecordingMailer, StoreWithFaults, caller};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};
use tempaccess_http::caller::{claims_of, context_with_claims};
use tempaccess_http::{AppState, Function, router};
use tempaccess_tests::aws_world::AwsWorld;
use tempaccess_tests::seeded::Rng;

use crate::service::world_with;

/// Of each hundred calls to a port: how many fail, and how many of those for good.
const FAIL_PERCENT: u64 = 30;
const FOR_GOOD_PERCENT: u64 = 5;
/// The longest step of the clock between two sweeps.
const SWEEP_STEP: TimeDelta = TimeDelta::minutes(30);

/// The faults one port is dealt: a shared seeded schedule, and what it dealt.
struct Faults {
    rng: Mutex<Rng>,
    failed: AtomicUsize,
    for_good: AtomicUsize,
    calls: AtomicUsize,
}

/// What the schedule says of one call.
enum Fault {
    None,
    Retryable,
    ForGood,
}

impl Faults {
    fn new(seed: u64) -> Arc<Self> {
        Arc::new(Self {
            rng: Mutex::new(Rng::new(seed)),
            failed: AtomicUsize::new(0),
            for_good: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
        })
    }

    /// Waits up to 2 ms (a slow answer), then says whether this call fails.
    async fn next(&self) -> Fault {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let (delay, fault) = {
            let mut rng = self.rng.lock().unwrap();
            let delay = rng.below(3);
            let fault = if !rng.chance(FAIL_PERCENT) {
                Fault::None
            } else if rng.chance(FOR_GOOD_PERCENT) {
                Fault::ForGood
            } else {
                Fault::Retryable
            };
            (delay, fault)
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        match fault {
            Fault::None => {}
            Fault::Retryable => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            Fault::ForGood => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.for_good.fetch_add(1, Ordering::Relaxed);
            }
        }
        fault
    }

    fn figures(&self) -> String {
        format!(
            "{} calls, {} failed ({} for good)",
            self.calls.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.for_good.load(Ordering::Relaxed)
        )
    }
}

struct FaultyMailer(Arc<RecordingMailer>, Arc<Faults>);

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        match self.1.next().await {
            Fault::None => self.0.send(mail).await,
            Fault::Retryable => Err(MailError::Retryable("the mail service timed out".into())),
            Fault::ForGood => Err(MailError::Permanent("the address was refused".into())),
        }
    }
}

/// A scheduler that is down a share of the time (and otherwise fires nothing: the
/// grants end by the sweep, as when every delivery is lost).
struct FaultyScheduler(Arc<Faults>);

#[async_trait]
impl Scheduler for FaultyScheduler {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        match self.0.next().await {
            Fault::None => Ok(()),
            _ => Err("the scheduler is unavailable".into()),
        }
    }

    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        match self.0.next().await {
            Fault::None => Ok(()),
            _ => Err("the scheduler is unavailable".into()),
        }
    }
}

struct FaultyRotator(Arc<Faults>);

#[async_trait]
impl Rotator for FaultyRotator {
    async fn rotate(&self, _: &str) -> Result<(), RotateError> {
        match self.0.next().await {
            Fault::None => Ok(()),
            Fault::Retryable => Err(RotateError::Retryable("throttled".into())),
            Fault::ForGood => Err(RotateError::Permanent("no rotation set up".into())),
        }
    }
}

fn text(s: &str) -> Message {
    Message::parse(s, "comment").expect("a message")
}

fn command(entry: &str, approver: &str, seconds: i64) -> SubmitCommand {
    SubmitCommand {
        entry_id: EntryId::parse(entry).expect("an entry"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: Email::parse(&format!("{approver}@example.com")).expect("an email"),
        requested: Requested::Duration(
            AccessDuration::from_seconds(seconds, "d").expect("a duration"),
        ),
        message: text("fault schedule"),
    }
}

/// Of each hundred store calls, how many fail for the moment; of each thousand, how
/// many never answer.
const STORE_FAIL_PERCENT: u64 = 12;
const STORE_HANG_PER_MILLE: u64 = 3;

/// The store's deadline and retries in the run: short, so that a call that never
/// answers costs the run little (the deployed ones are [`Limits::default`]).
fn limits() -> Limits {
    Limits {
        // The emulator takes tens of milliseconds a call when busy.
        call_timeout: Duration::from_millis(if on_dynamodb() { 2000 } else { 100 }),
        store_attempts: 3,
        first_backoff: Duration::from_millis(1),
    }
}

/// A use case's outcome in the run.
enum Outcome<T> {
    Done(T),
    /// Refused: the store stayed unavailable through its retries; nothing changed.
    Refused,
    /// Answered as a conflict (or an open request, for a submit): the store took a
    /// write whose answer came after its deadline, and the retry found it done. Nobody
    /// else writes in the run (the sweep runs between workflows), so no other conflict
    /// can happen here.
    TookButTold(Error),
}

fn outcome<T>(result: Result<T, Error>, what: &str) -> Outcome<T> {
    match result {
        Ok(t) => Outcome::Done(t),
        Err(Error::Unavailable { .. }) => Outcome::Refused,
        Err(e @ (Error::Conflict { .. } | Error::OpenRequest { .. })) => Outcome::TookButTold(e),
        Err(e) => panic!("{what}: {e:?}"),
    }
}

/// The request as stored (read past the faults).
async fn stored(store: &dyn tempaccess_core::ports::Store, id: &RequestId) -> (State, u64, usize) {
    let r = store.request(id).await.unwrap().expect("stored");
    let events = store.events(id).await.unwrap().len();
    (r.state, r.version, events)
}

/// Whether this run is the aws stage's (`TEMPACCESS_E2E_BACKEND=aws`).
fn on_dynamodb() -> bool {
    std::env::var("TEMPACCESS_E2E_BACKEND").is_ok_and(|b| b == "aws")
}

/// What the seeded run works on, whichever the store.
struct FaultWorld {
    service: tempaccess_core::service::Service,
    store: Arc<dyn tempaccess_core::ports::Store>,
    clock: Arc<tempaccess_core::testing::ManualClock>,
}

#[tokio::test]
async fn a_seeded_schedule_of_faults_over_whole_workflows_loses_nothing_silently() {
    // The emulator answers a transaction in milliseconds: fewer workflows there.
    let workflows: usize = std::env::var("TEMPACCESS_FAULT_WORKFLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if on_dynamodb() { 40 } else { 150 });
    let seed = Rng::seed_from_env("TEMPACCESS_FAULT_SEED");
    eprintln!("fault schedule: {workflows} workflows, TEMPACCESS_FAULT_SEED={seed}");
    let (mail, scheduler, rotator) = (
        Faults::new(seed.wrapping_add(1)),
        Faults::new(seed.wrapping_add(2)),
        Faults::new(seed.wrapping_add(3)),
    );
    let inbox = RecordingMailer::new();
    let mut faulty_store = None;
    let customize = |ports: &mut Ports| {
        let store = StoreWithFaults::new(ports.store.clone());
        store.schedule(
            seed.wrapping_add(4),
            STORE_FAIL_PERCENT,
            STORE_HANG_PER_MILLE,
        );
        ports.store = store.clone();
        faulty_store = Some(store);
        ports.mailer = Arc::new(FaultyMailer(inbox.clone(), mail.clone()));
        ports.scheduler = Arc::new(FaultyScheduler(scheduler.clone()));
        ports.rotator = Arc::new(FaultyRotator(rotator.clone()));
        // As deployed: every call under a deadline, the store's failures retried.
        *ports = bounded(ports.clone(), limits());
    };
    // The store is the backend's: SQLite in process, or (in the aws stage) DynamoDB on
    // the emulator.
    let w = if on_dynamodb() {
        let aws = AwsWorld::with(customize).await;
        FaultWorld {
            service: aws.service,
            store: aws.store,
            clock: aws.clock,
        }
    } else {
        let local = world_with(customize).await;
        FaultWorld {
            service: local.service,
            store: local.store,
            clock: local.clock,
        }
    };
    let faulty_store = faulty_store.expect("the store");
    let s = &w.service;
    let (bob, carol, dave) = (caller("bob"), caller("carol"), caller("dave"));
    let entries = [
        ("prod-db", "bob"),
        ("payroll-rdp", "bob"),
        ("billing-api-key", "dave"),
    ];
    let mut rng = Rng::new(seed);
    let mut ids = Vec::new();
    let (mut sweep_errors, mut sweeps_failed, mut refused, mut took_but_told) = (0, 0, 0, 0);
    // When each sweep ran, and whether it handled every item (no store call of it
    // failed through its retries).
    let mut sweeps = Vec::new();

    for n in 0..workflows {
        let (entry, approver) = entries[n % entries.len()];
        let decider = if approver == "bob" { &bob } else { &dave };
        // A requester of their own for each workflow: one left pending to expire blocks
        // nobody else's.
        let alice = caller(&format!("requester{n}"));
        let submitted = s
            .submit(
                &alice,
                command(entry, approver, 60 * (1 + rng.below(60) as i64)),
                None,
            )
            .await;
        let r = match outcome(submitted, "submit") {
            Outcome::Done(r) => r,
            Outcome::Refused => {
                // No request was made.
                refused += 1;
                let mine = w
                    .store
                    .open_requests_of(&alice.email, w.clock.now())
                    .await
                    .unwrap();
                assert!(mine.is_empty(), "a refused submit left {mine:?}");
                continue;
            }
            Outcome::TookButTold(e) => {
                // The request the first try made, and only that one.
                took_but_told += 1;
                let Error::OpenRequest { existing } = e else {
                    panic!("submit: {e:?}")
                };
                let mine = w
                    .store
                    .open_requests_of(&alice.email, w.clock.now())
                    .await
                    .unwrap();
                assert_eq!(mine.len(), 1, "{mine:?}");
                ids.push(existing);
                continue;
            }
        };
        ids.push(r.id);
        // Each step either happens or, refused, leaves the request as it was.
        let mut step = async |result: Result<_, Error>, what: &str| {
            let before = stored(&*w.store, &r.id).await;
            match outcome(result, what) {
                Outcome::Done(()) => true,
                Outcome::Refused => {
                    refused += 1;
                    let after = stored(&*w.store, &r.id).await;
                    assert_eq!(
                        (after.0, after.1),
                        (before.0, before.1),
                        "{}: a refused {what} changed it",
                        r.id
                    );
                    false
                }
                Outcome::TookButTold(_) => {
                    took_but_told += 1;
                    false
                }
            }
        };
        match rng.below(10) {
            0..=3 => {
                let approved = s
                    .decide(
                        decider,
                        &r.id,
                        Decision::Approve(Narrowing::default()),
                        text("yes"),
                    )
                    .await;
                if step(approved.map(|_| ()), "approval").await {
                    match rng.below(4) {
                        0 => {
                            let ended = s.cancel(&alice, &r.id, Message::default()).await;
                            step(ended.map(|_| ()), "early end").await;
                        }
                        1 => {
                            let revoked = s.cancel(&carol, &r.id, text("incident")).await;
                            step(revoked.map(|_| ()), "revocation").await;
                        }
                        _ => {} // ends on time
                    }
                }
            }
            4..=6 => {
                let denied = s.decide(decider, &r.id, Decision::Deny, text("no")).await;
                step(denied.map(|_| ()), "denial").await;
            }
            7 | 8 => {
                let withdrawn = s.cancel(&alice, &r.id, Message::default()).await;
                step(withdrawn.map(|_| ()), "withdrawal").await;
            }
            _ => {} // left to expire
        }
        // The clock moves on by up to the sweep's step, and the sweep runs.
        w.clock.advance(TimeDelta::minutes(
            rng.below(SWEEP_STEP.num_minutes() as u64 + 1) as i64,
        ));
        let clean = match s.sweep().await {
            Ok(sweep) => {
                sweep_errors += sweep.errors;
                sweep.errors == 0 && sweep.deferred == 0
            }
            Err(_) => {
                sweeps_failed += 1;
                false
            }
        };
        sweeps.push((w.clock.now(), clean));
    }
    let store_faults = faulty_store.figures();
    // The database recovers. Two days on, a sweep every step: every pending request
    // expires, every grant ends, every retry comes due (mail backs off up to 16
    // minutes, rotations likewise).
    faulty_store.recover();
    for _ in 0..(48 * 60 / SWEEP_STEP.num_minutes()) {
        w.clock.advance(SWEEP_STEP);
        let sweep = s.sweep().await.expect("a sweep");
        sweep_errors += sweep.errors;
        sweeps.push((w.clock.now(), sweep.errors == 0 && sweep.deferred == 0));
    }

    let now = w.clock.now();
    let store = &w.store;
    let later = now + TimeDelta::days(30);
    assert!(
        store.due_mail(later, 1000).await.unwrap().is_empty(),
        "mail left due"
    );
    assert!(
        store.due_rotations(later, 1000).await.unwrap().is_empty(),
        "rotations left due"
    );
    assert!(
        store.overdue_grants(now, 1000).await.unwrap().is_empty(),
        "grants not ended"
    );
    assert!(
        store.stale_pending(now, 1000).await.unwrap().is_empty(),
        "requests not expired"
    );

    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    let (mut mails_given_up, mut rotations_given_up, mut latest_end) = (0, 0, TimeDelta::zero());
    let mut ended_after_a_failed_sweep = 0;
    for id in &ids {
        let r = store.request(id).await.unwrap().expect("stored");
        let events = store.events(id).await.unwrap();
        let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count();
        let state_event = match r.state {
            State::Denied => EventKind::Denied,
            State::Cancelled => EventKind::Cancelled,
            State::Expired => EventKind::Expired,
            State::Ended => EventKind::Ended,
            State::Revoked => EventKind::Revoked,
            other => panic!("{id} still {other:?}"),
        };
        *by_state.entry(format!("{:?}", r.state)).or_default() += 1;
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(count(EventKind::Requested), 1, "{id}: {kinds:?}");
        assert_eq!(count(state_event), 1, "{id} is {:?}: {kinds:?}", r.state);
        let ends = [
            EventKind::Denied,
            EventKind::Cancelled,
            EventKind::Expired,
            EventKind::Ended,
            EventKind::Revoked,
        ];
        assert_eq!(
            ends.iter().map(|k| count(*k)).sum::<usize>(),
            1,
            "{id}: {kinds:?}"
        );
        if matches!(r.state, State::Ended | State::Revoked) {
            assert_eq!(count(EventKind::Approved), 1, "{id}: {kinds:?}");
        }
        if r.state == State::Ended {
            // Ended by its end plus one step of the sweep, whatever the scheduler did.
            let grant = r.grant.as_ref().expect("a grant");
            let ended = events
                .iter()
                .find(|e| e.kind == EventKind::Ended)
                .unwrap()
                .at;
            // Ended by the first sweep after its end that handled every item: within
            // one step, unless the store failed a sweep in between.
            let late = ended - grant.ends_at;
            let first_clean = sweeps
                .iter()
                .find(|(at, clean)| *at >= grant.ends_at && *clean)
                .map(|(at, _)| *at)
                .expect("a clean sweep after every end");
            assert!(
                late >= TimeDelta::zero() && ended <= first_clean,
                "{id} ended {late} late, after the clean sweep at {first_clean}"
            );
            if late > SWEEP_STEP {
                ended_after_a_failed_sweep += 1;
            } else {
                latest_end = latest_end.max(late);
            }
        }
        // A rotating entry's grant is rotated, or its rotation visibly given up.
        let rotating = r.entry_id.as_str() != "billing-api-key";
        let given_up = |e: &&tempaccess_core::audit::AuditEvent| e.detail.contains("given up");
        let rotation_given_up = events
            .iter()
            .filter(|e| e.kind == EventKind::RotationFailed)
            .filter(given_up)
            .count();
        if rotating && matches!(r.state, State::Ended | State::Revoked) {
            assert!(
                count(EventKind::Rotated) + rotation_given_up >= 1,
                "{id}: rotated or said given up: {kinds:?}"
            );
        }
        rotations_given_up += rotation_given_up;
        mails_given_up += events
            .iter()
            .filter(|e| e.kind == EventKind::EmailFailed)
            .filter(given_up)
            .count();
    }
    eprintln!(
        "fault schedule: {} requests {by_state:?}; store {store_faults:?}: {refused} calls \
         refused as unavailable after retries (nothing changed), {took_but_told} taken by the \
         store after their deadline and told as conflicts on retry, {sweeps_failed} sweeps \
         failed; mail {} ({mails_given_up} given up, on the \
         timeline), scheduler {}, rotator {} ({rotations_given_up} given up, on the timeline); \
         {} mails delivered; latest end {} min after its time ({ended_after_a_failed_sweep} \
         later: a sweep failed in between); {sweep_errors} sweep items retried",
        ids.len(),
        mail.figures(),
        scheduler.figures(),
        rotator.figures(),
        inbox.sent().len(),
        latest_end.num_minutes(),
    );
}

/// A mailer, scheduler or rotator that never answers.
struct NeverAnswers;

#[async_trait]
impl Mailer for NeverAnswers {
    async fn send(&self, _: &Mail) -> Result<(), MailError> {
        std::future::pending().await
    }
}

#[async_trait]
impl Scheduler for NeverAnswers {
    async fn schedule_end(&self, _: &RequestId, _: Timestamp) -> Result<(), BoxError> {
        std::future::pending().await
    }

    async fn cancel_end(&self, _: &RequestId) -> Result<(), BoxError> {
        std::future::pending().await
    }
}

/// One call through a function's router, as `who`: status, `Retry-After`, JSON body.
async fn http(
    w: &crate::service::World,
    function: Function,
    who: &str,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (u16, Option<String>, serde_json::Value) {
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder().method(method).uri(uri);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let mut request = request
        .body(axum::body::Body::from(
            body.map(|b| b.to_string()).unwrap_or_default(),
        ))
        .expect("a request");
    request
        .extensions_mut()
        .insert(context_with_claims(claims_of(&caller(who))));
    let app = router(
        function,
        AppState {
            service: w.service.clone(),
        },
    );
    // A liveness bound, not a measurement: a call that hung would never return.
    let response = tokio::time::timeout(Duration::from_secs(60), app.oneshot(request))
        .await
        .expect("an answer, not a hang")
        .expect("the router answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (
        status,
        retry_after,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

fn new_request() -> serde_json::Value {
    serde_json::json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
        "approver_id": "bob@example.com", "duration_seconds": 3600, "message": "deploy"})
}

/// The store fails every call, then never answers: each route answers 503 with
/// `Retry-After` and the API's error body once its retries are spent, and nothing is
/// written.
#[tokio::test]
async fn a_store_that_stays_down_or_hangs_gets_503_with_retry_after_and_nothing_written() {
    let mut faulty = None;
    let w = world_with(|ports| {
        let store = StoreWithFaults::new(ports.store.clone());
        ports.store = store.clone();
        faulty = Some(store);
        *ports = bounded(ports.clone(), limits());
    })
    .await;
    let faulty = faulty.expect("the store");
    let (status, _, _) = http(
        &w,
        Function::Request,
        "alice",
        "POST",
        "/v1/requests",
        Some(new_request()),
    )
    .await;
    assert_eq!(status, 201);
    let pending = w
        .store
        .open_requests_of(&caller("alice").email, w.clock.now())
        .await
        .unwrap();
    let [pending] = pending.as_slice() else {
        panic!("one pending request: {pending:?}")
    };
    let decision = format!("/v1/requests/{}/decision", pending.id);
    let calls = [
        (
            Function::Request,
            "dave",
            "POST",
            "/v1/requests".to_owned(),
            Some(new_request()),
        ),
        (
            Function::Decide,
            "bob",
            "POST",
            decision.clone(),
            Some(serde_json::json!({"decision": "approve"})),
        ),
        (
            Function::Cancel,
            "alice",
            "POST",
            format!("/v1/requests/{}/cancel", pending.id),
            None,
        ),
        (
            Function::Report,
            "alice",
            "GET",
            "/v1/requests".to_owned(),
            None,
        ),
        (
            Function::Report,
            "alice",
            "GET",
            format!("/v1/requests/{}", pending.id),
            None,
        ),
        (
            Function::Request,
            "alice",
            "GET",
            "/v1/entries".to_owned(),
            None,
        ),
    ];
    for (down, hang) in [(100, 0), (0, 1000)] {
        faulty.schedule(7, down, hang);
        for (function, who, method, uri, body) in calls.clone() {
            let before = faulty.figures().calls;
            let (status, retry_after, body) = http(&w, function, who, method, &uri, body).await;
            assert_eq!(
                status, 503,
                "{method} {uri} ({down} % down, {hang} ‰ hung): {body}"
            );
            assert_eq!(retry_after.as_deref(), Some("5"), "{method} {uri}");
            assert_eq!(body["error"]["code"], "unavailable", "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("try again")),
                "{body}"
            );
            // Tried three times (the first call the use case makes), then given up.
            assert_eq!(faulty.figures().calls - before, 3, "{method} {uri}");
        }
        faulty.recover();
        let now = stored(&*w.store, &pending.id).await;
        assert_eq!((now.0, now.1), (State::Pending, pending.version));
        for who in ["alice", "dave"] {
            let open = w
                .store
                .open_requests_of(&caller(who).email, w.clock.now())
                .await
                .unwrap();
            assert_eq!(open.len(), usize::from(who == "alice"), "{who}: {open:?}");
        }
    }
    // Back up: the same decision goes through.
    let (status, _, body) = http(
        &w,
        Function::Decide,
        "bob",
        "POST",
        &decision,
        Some(serde_json::json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// A mailer and a scheduler that never answer: the calls that use them are cut at
/// their deadline and answer; the mail is recorded as failed and retried by the sweep,
/// the grant is ended by the sweep.
#[tokio::test]
async fn a_mailer_and_a_scheduler_that_never_answer_are_cut_at_their_deadline() {
    let w = world_with(|ports| {
        ports.mailer = Arc::new(NeverAnswers);
        ports.scheduler = Arc::new(NeverAnswers);
        *ports = bounded(ports.clone(), limits());
    })
    .await;
    let (status, _, body) = http(
        &w,
        Function::Request,
        "alice",
        "POST",
        "/v1/requests",
        Some(new_request()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = RequestId::parse(body["id"].as_str().expect("an id")).expect("an id");
    let (status, _, body) = http(
        &w,
        Function::Decide,
        "bob",
        "POST",
        &format!("/v1/requests/{id}/decision"),
        Some(serde_json::json!({"decision": "approve"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let events = w.store.events(&id).await.unwrap();
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::EmailFailed)
        .map(|e| e.detail.clone())
        .collect();
    assert!(
        failed.len() >= 2 && failed.iter().all(|d| d.contains("retrying")),
        "{failed:?}"
    );
    // The grant ends by the sweep, though its end was never scheduled.
    w.clock.advance(TimeDelta::hours(2));
    tokio::time::timeout(Duration::from_secs(60), w.service.sweep())
        .await
        .expect("a sweep, not a hang")
        .expect("a sweep");
    let r = w.store.request(&id).await.unwrap().expect("stored");
    assert_eq!(r.state, State::Ended);
}
