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
use tempaccess_core::Timestamp;
use tempaccess_core::audit::EventKind;
use tempaccess_core::ids::{Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::policy::Narrowing;
use tempaccess_core::ports::Clock;
use tempaccess_core::ports::{BoxError, Mail, MailError, Mailer, RotateError, Rotator, Scheduler};
use tempaccess_core::request::{State, SubmitCommand};
use tempaccess_core::service::Decision;
use tempaccess_core::testing::{RecordingMailer, caller};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};
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

#[tokio::test]
async fn a_seeded_schedule_of_faults_over_whole_workflows_loses_nothing_silently() {
    let workflows: usize = std::env::var("TEMPACCESS_FAULT_WORKFLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let seed = Rng::seed_from_env("TEMPACCESS_FAULT_SEED");
    eprintln!("fault schedule: {workflows} workflows, TEMPACCESS_FAULT_SEED={seed}");
    let (mail, scheduler, rotator) = (
        Faults::new(seed.wrapping_add(1)),
        Faults::new(seed.wrapping_add(2)),
        Faults::new(seed.wrapping_add(3)),
    );
    let inbox = RecordingMailer::new();
    let w = world_with(|ports| {
        ports.mailer = Arc::new(FaultyMailer(inbox.clone(), mail.clone()));
        ports.scheduler = Arc::new(FaultyScheduler(scheduler.clone()));
        ports.rotator = Arc::new(FaultyRotator(rotator.clone()));
    })
    .await;
    let s = &w.service;
    let (bob, carol, dave) = (caller("bob"), caller("carol"), caller("dave"));
    let entries = [
        ("prod-db", "bob"),
        ("payroll-rdp", "bob"),
        ("billing-api-key", "dave"),
    ];
    let mut rng = Rng::new(seed);
    let mut ids = Vec::new();
    let mut sweep_errors = 0;

    for n in 0..workflows {
        let (entry, approver) = entries[n % entries.len()];
        let decider = if approver == "bob" { &bob } else { &dave };
        // A requester of their own for each workflow: one left pending to expire blocks
        // nobody else's.
        let alice = caller(&format!("requester{n}"));
        let r = s
            .submit(
                &alice,
                command(entry, approver, 60 * (1 + rng.below(60) as i64)),
                None,
            )
            .await
            .expect("submitted whatever the mail does");
        ids.push(r.id);
        match rng.below(10) {
            0..=3 => {
                s.decide(
                    decider,
                    &r.id,
                    Decision::Approve(Narrowing::default()),
                    text("yes"),
                )
                .await
                .expect("approved whatever the mail and the scheduler do");
                match rng.below(4) {
                    0 => {
                        s.cancel(&alice, &r.id, Message::default())
                            .await
                            .expect("ended early");
                    }
                    1 => {
                        s.cancel(&carol, &r.id, text("incident"))
                            .await
                            .expect("revoked");
                    }
                    _ => {} // ends on time
                }
            }
            4..=6 => {
                s.decide(decider, &r.id, Decision::Deny, text("no"))
                    .await
                    .expect("denied");
            }
            7 | 8 => {
                s.cancel(&alice, &r.id, Message::default())
                    .await
                    .expect("withdrawn");
            }
            _ => {} // left to expire
        }
        // The clock moves on by up to the sweep's step, and the sweep runs.
        w.clock.advance(TimeDelta::minutes(
            rng.below(SWEEP_STEP.num_minutes() as u64 + 1) as i64,
        ));
        sweep_errors += s.sweep().await.expect("a sweep").errors;
    }
    // Two days on, a sweep every step: every pending request expires, every grant ends,
    // every retry comes due (mail backs off up to 16 minutes, rotations likewise).
    for _ in 0..(48 * 60 / SWEEP_STEP.num_minutes()) {
        w.clock.advance(SWEEP_STEP);
        sweep_errors += s.sweep().await.expect("a sweep").errors;
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
            let late = ended - grant.ends_at;
            assert!(
                late >= TimeDelta::zero() && late <= SWEEP_STEP,
                "{id} ended {late} late"
            );
            latest_end = latest_end.max(late);
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
        "fault schedule: {} requests {by_state:?}; mail {} ({mails_given_up} given up, on the \
         timeline), scheduler {}, rotator {} ({rotations_given_up} given up, on the timeline); \
         {} mails delivered; latest end {} min after its time; {sweep_errors} sweep items \
         retried",
        ids.len(),
        mail.figures(),
        scheduler.figures(),
        rotator.figures(),
        inbox.sent().len(),
        latest_end.num_minutes(),
    );
}
