//! The use cases in process, on the SQLite store with the demo data, a clock the test
//! moves and adapters that record what they are asked: each case runs in milliseconds,
//! without a server or an emulator.

use std::sync::Arc;

use chrono::TimeDelta;
use tempaccess_core::audit::{AuditEvent, EventKind};
use tempaccess_core::entry::Entry;
use tempaccess_core::ids::{Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::policy::{MyAccess, Narrowing};
use tempaccess_core::ports::{Mail, Store};
use tempaccess_core::request::{AccessRequest, State, Status, SubmitCommand};
use tempaccess_core::service::{
    Decision, EndOutcome, MAX_MAIL_ATTEMPTS, Ports, ReportParams, ReportScope, Service, Settings,
};
use tempaccess_core::testing::{
    CountingRandom, DownScheduler, FlakyMailer, ManualClock, NamedSecrets, RecordingMailer,
    RecordingRotator, RecordingScheduler, caller,
};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested, TimeFrame};
use tempaccess_core::token::DecisionToken;
use tempaccess_core::{Error, Timestamp};
use tempaccess_sqlite::SqliteStore;

const SITE: &str = "https://tempaccess.example.com";

/// The use cases over a fresh in-memory store with the demo users and entries.
pub(crate) struct World {
    pub(crate) service: Service,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) mail: Arc<RecordingMailer>,
    scheduler: Arc<RecordingScheduler>,
    rotator: Arc<RecordingRotator>,
}

pub(crate) fn start() -> Timestamp {
    chrono::DateTime::parse_from_rfc3339("2030-03-01T09:00:00Z")
        .expect("a valid time")
        .to_utc()
}

async fn world() -> World {
    world_with(|_| {}).await
}

/// A world whose ports `customize` may replace (to inject faults).
pub(crate) async fn world_with(customize: impl FnOnce(&mut Ports)) -> World {
    let sqlite = SqliteStore::in_memory().expect("an in-memory database");
    tempaccess_cli::demo::seed(&sqlite)
        .await
        .expect("the demo data");
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let clock = ManualClock::new(start());
    let mail = RecordingMailer::new();
    let scheduler = RecordingScheduler::new();
    let rotator = RecordingRotator::new();
    let mut ports = Ports {
        store: store.clone(),
        mailer: mail.clone(),
        scheduler: scheduler.clone(),
        secrets: Arc::new(NamedSecrets),
        rotator: rotator.clone(),
        clock: clock.clone(),
        random: Arc::new(CountingRandom::default()),
    };
    customize(&mut ports);
    World {
        service: Service::new(ports, Settings::new(SITE)),
        store,
        clock,
        mail,
        scheduler,
        rotator,
    }
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid address")
}

fn message(s: &str) -> Message {
    Message::parse(s, "message").expect("a valid message")
}

fn seconds(s: i64) -> AccessDuration {
    AccessDuration::from_seconds(s, "duration_seconds").expect("a valid duration")
}

/// A request for `entry` from `approver`, for `secs` seconds from approval.
fn ask(entry: &str, approver: &str, secs: i64) -> SubmitCommand {
    SubmitCommand {
        entry_id: EntryId::parse(entry).expect("a valid id"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email(approver),
        requested: Requested::Duration(seconds(secs)),
        message: message("Deploying the fix"),
    }
}

/// The decision token in the link of a decision mail.
fn token_in(mail: &Mail) -> DecisionToken {
    let (_, rest) = mail
        .text
        .split_once("/decide#token=")
        .expect("a decision link");
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    DecisionToken::parse(&token).expect("a decision token")
}

fn kinds(events: &[AuditEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn field_of(result: Result<impl std::fmt::Debug, Error>) -> (&'static str, Option<String>) {
    let err = result.expect_err("refused");
    let kind = match &err {
        Error::Invalid { .. } => "invalid",
        Error::Rejected { .. } => "rejected",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound { .. } => "not_found",
        Error::Conflict { .. } => "conflict",
        Error::Unauthenticated | Error::SignInRequired(_) => "unauthenticated",
        Error::OpenRequest { .. } => "open_request",
        Error::TooMany(_) => "too_many",
        Error::Unavailable { .. } => "unavailable",
    };
    (kind, err.field().map(str::to_owned))
}

/// A request for payroll-rdp (which requires a message) from bob, for an hour.
fn payroll() -> SubmitCommand {
    SubmitCommand {
        message: message("Quarterly export"),
        ..ask("payroll-rdp", "bob@example.com", 3600)
    }
}

/// An approval narrowed to the execute-only set.
fn operator_only() -> Decision {
    Decision::Approve(Narrowing {
        permission_set: Some(PermissionSetId::parse("operator").expect("a valid id")),
        ..Narrowing::default()
    })
}

impl World {
    /// `who`'s request `cmd`, sent now.
    async fn submit(&self, who: &str, cmd: SubmitCommand) -> AccessRequest {
        self.service
            .submit(&caller(who), cmd, None)
            .await
            .expect("the request is sent")
    }

    /// bob's `decision` on `id`, now.
    async fn decide(&self, id: &RequestId, decision: Decision) -> AccessRequest {
        self.service
            .decide(&caller("bob"), id, decision, Message::default())
            .await
            .expect("decided")
    }

    /// alice's request for an hour on prod-db, sent now.
    async fn submitted(&self) -> AccessRequest {
        self.submit("alice", ask("prod-db", "bob@example.com", 3600))
            .await
    }

    /// The link token of the last decision mail to `approver`.
    fn token_of(&self, approver: &str) -> DecisionToken {
        token_in(
            self.mail
                .sent_to(approver)
                .last()
                .expect("a mail to the approver"),
        )
    }

    /// alice's hour on prod-db, approved as asked by bob now.
    async fn granted(&self) -> AccessRequest {
        let r = self.submitted().await;
        self.decide(&r.id, Decision::Approve(Narrowing::default()))
            .await
    }

    async fn read(&self, id: &RequestId) -> AccessRequest {
        self.store
            .request(id)
            .await
            .expect("a read")
            .expect("the request")
    }

    async fn events(&self, id: &RequestId) -> Vec<EventKind> {
        kinds(&self.store.events(id).await.expect("the events"))
    }

    fn advance(&self, by: TimeDelta) {
        self.clock.advance(by);
    }
}

#[tokio::test]
async fn a_request_is_written_with_its_event_and_the_approvers_mail() {
    let w = world().await;
    let r = w.submitted().await;
    assert_eq!(r.status(start()), Status::Pending);
    assert_eq!(r.expires_at, start() + TimeDelta::hours(24));
    assert_eq!(w.store.request(&r.id).await.unwrap(), Some(r.clone()));
    assert_eq!(
        w.events(&r.id).await,
        [EventKind::Requested, EventKind::Notified]
    );
    let to_bob = w.mail.sent_to("bob@example.com");
    assert_eq!(to_bob.len(), 1);
    assert!(to_bob[0].text.contains(&format!("{SITE}/decide#token=")));
    assert_eq!(w.mail.sent().len(), 1, "only the approver is mailed");
    assert_eq!(
        w.store
            .due_mail(start() + TimeDelta::days(1), 10)
            .await
            .unwrap(),
        vec![],
        "the delivered mail left the outbox"
    );
}

#[tokio::test]
async fn a_request_the_entry_does_not_allow_is_refused_and_nothing_is_written() {
    let w = world().await;
    let alice = caller("alice");
    let past = TimeFrame::new(start() - TimeDelta::hours(2), start() - TimeDelta::hours(1))
        .expect("a frame");
    let cases = [
        (
            ask("prod-db", "alice@example.com", 3600),
            ("rejected", "approver_id"),
        ),
        (
            ask("prod-db", "dave@example.com", 3600),
            ("rejected", "approver_id"),
        ),
        (
            SubmitCommand {
                permission_set: PermissionSetId::parse("operator").unwrap(),
                ..ask("prod-db", "bob@example.com", 3600)
            },
            ("rejected", "permission_set"),
        ),
        (
            ask("prod-db", "bob@example.com", 9 * 3600),
            ("rejected", "duration_seconds"),
        ),
        (
            SubmitCommand {
                requested: Requested::Window(past),
                ..ask("prod-db", "bob@example.com", 3600)
            },
            ("invalid", "window.end"),
        ),
        (
            SubmitCommand {
                message: Message::default(),
                ..ask("payroll-rdp", "bob@example.com", 3600)
            },
            ("rejected", "message"),
        ),
        (
            ask("no-such-entry", "bob@example.com", 3600),
            ("rejected", "entry_id"),
        ),
    ];
    for (cmd, (kind, field)) in cases {
        let got = field_of(w.service.submit(&alice, cmd.clone(), None).await);
        assert_eq!(got, (kind, Some(field.to_owned())), "{cmd:?}");
    }
    let open = w
        .store
        .open_requests_of(&alice.email, start())
        .await
        .unwrap();
    assert_eq!(open, vec![]);
    assert_eq!(w.mail.sent(), vec![]);
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_request() {
    let w = world().await;
    let alice = caller("alice");
    let key = || Some("submit-1".to_owned());
    let first = w
        .service
        .submit(&alice, ask("prod-db", "bob@example.com", 3600), key())
        .await
        .unwrap();
    w.advance(TimeDelta::minutes(5));
    let again = w
        .service
        .submit(&alice, ask("prod-db", "bob@example.com", 3600), key())
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(w.mail.sent().len(), 1, "one request, one mail");
}

#[tokio::test]
async fn an_idempotency_key_never_stands_for_another_request() {
    let w = world().await;
    let alice = caller("alice");
    let key = || Some("submit-1".to_owned());
    w.service
        .submit(&alice, ask("prod-db", "bob@example.com", 3600), key())
        .await
        .unwrap();
    for other in [
        ask("prod-db", "bob@example.com", 600),
        ask("billing-api-key", "dave@example.com", 600),
        payroll(),
    ] {
        let got = field_of(w.service.submit(&alice, other.clone(), key()).await);
        assert_eq!(
            got,
            ("rejected", Some("Idempotency-Key".to_owned())),
            "{other:?}"
        );
    }
    assert_eq!(w.mail.sent().len(), 1, "nothing else was sent");
}

#[tokio::test]
async fn a_link_approves_as_asked_and_the_end_is_scheduled() {
    let w = world().await;
    let r = w.submitted().await;
    w.advance(TimeDelta::minutes(10));
    let token = w.token_of("bob@example.com");
    let bob = caller("bob");
    let view = w.service.lookup_decision(&token, Some(&bob)).await.unwrap();
    assert!(view.decidable);
    assert_eq!(view.request.id, r.id);
    assert_eq!(w.events(&r.id).await.last(), Some(&EventKind::Viewed));

    let approved = w
        .service
        .decide_by_token(
            &token,
            Some(&bob),
            Decision::Approve(Narrowing::default()),
            message("Go ahead"),
        )
        .await
        .unwrap();
    let now = start() + TimeDelta::minutes(10);
    let grant = approved.grant.clone().expect("a grant");
    assert_eq!(
        (grant.starts_at, grant.ends_at),
        (now, now + TimeDelta::hours(1))
    );
    assert_eq!(approved.decided_by, Some(email("bob@example.com")));
    assert_eq!(approved.status(now), Status::Active);
    assert_eq!(w.scheduler.end_of(&r.id), Some(grant.ends_at));
    assert_eq!(w.mail.sent_to("alice@example.com").len(), 1);
    assert_eq!(w.events(&r.id).await.last(), Some(&EventKind::Approved));

    // The link is spent: it shows the request, and a second decision names the first.
    assert!(
        !w.service
            .lookup_decision(&token, Some(&bob))
            .await
            .unwrap()
            .decidable
    );
    match w
        .service
        .decide_by_token(&token, Some(&bob), Decision::Deny, Message::default())
        .await
    {
        Err(Error::Conflict {
            current,
            decided_by,
            ..
        }) => {
            assert_eq!(current, Status::Active);
            assert_eq!(decided_by, Some(email("bob@example.com")));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_named_approver_decides_and_a_denial_is_told() {
    let w = world().await;
    let r = w.submitted().await;
    for (who, refusal) in [
        ("alice", "forbidden"),
        ("carol", "forbidden"),
        // Not a party to it: for dave the request does not exist.
        ("dave", "not_found"),
    ] {
        let got = field_of(
            w.service
                .decide(&caller(who), &r.id, Decision::Deny, Message::default())
                .await,
        );
        assert_eq!(got, (refusal, None), "{who}");
    }
    let denied = w
        .service
        .decide(&caller("bob"), &r.id, Decision::Deny, message("Not today"))
        .await
        .unwrap();
    assert_eq!(denied.state, State::Denied);
    assert_eq!(w.mail.sent_to("alice@example.com").len(), 1);
    assert_eq!(w.scheduler.end_of(&r.id), None);
}

#[tokio::test]
async fn approvals_narrow_but_never_widen() {
    let w = world().await;
    let bob = caller("bob");
    let approve = |narrowing: Narrowing| Decision::Approve(narrowing);
    let duration = |s: i64| Narrowing {
        duration: Some(seconds(s)),
        ..Narrowing::default()
    };

    let r = w.submitted().await;
    let got = field_of(
        w.service
            .decide(&bob, &r.id, approve(duration(7200)), Message::default())
            .await,
    );
    assert_eq!(got, ("rejected", Some("duration_seconds".to_owned())));
    let shorter = w.decide(&r.id, approve(duration(900))).await;
    let g = shorter.grant.expect("a grant");
    assert_eq!(g.ends_at - g.starts_at, TimeDelta::minutes(15));

    let r = w.submitted().await;
    let equal = w.decide(&r.id, approve(duration(3600))).await;
    let g = equal.grant.expect("a grant");
    assert_eq!(
        g.ends_at - g.starts_at,
        TimeDelta::hours(1),
        "as long as asked"
    );

    let r = w.submit("alice", payroll()).await;
    let narrower = w.decide(&r.id, operator_only()).await;
    assert_eq!(
        narrower.granted_permission_set().map(|s| s.as_str()),
        Some("operator")
    );
}

#[tokio::test]
async fn cancel_and_revoke_follow_the_status_and_the_callers_role() {
    let w = world().await;
    let (alice, bob, dave) = (caller("alice"), caller("bob"), caller("dave"));

    let pending = w.submitted().await;
    let got = field_of(
        w.service
            .cancel(&dave, &pending.id, Message::default())
            .await,
    );
    assert_eq!(got, ("not_found", None), "a stranger");
    let got = field_of(
        w.service
            .cancel(&bob, &pending.id, Message::default())
            .await,
    );
    assert_eq!(got, ("forbidden", None), "the approver denies instead");
    let cancelled = w
        .service
        .cancel(&alice, &pending.id, Message::default())
        .await
        .unwrap();
    assert_eq!(cancelled.state, State::Cancelled);
    assert_eq!(w.mail.sent_to("bob@example.com").len(), 2, "told of it");
    let got = field_of(
        w.service
            .cancel(&alice, &pending.id, Message::default())
            .await,
    );
    assert_eq!(got, ("conflict", None), "once");

    let active = w.granted().await;
    let got = field_of(w.service.cancel(&bob, &active.id, Message::default()).await);
    assert_eq!(got, ("invalid", Some("reason".to_owned())));
    let mailed = w.mail.sent_to("alice@example.com").len();
    let revoked = w
        .service
        .cancel(&bob, &active.id, message("Incident"))
        .await
        .unwrap();
    assert_eq!(revoked.state, State::Revoked);
    assert_eq!(revoked.revoked_by, Some(bob.email.clone()));
    assert_eq!(w.mail.sent_to("alice@example.com").len(), mailed + 1);
    assert_eq!(w.scheduler.end_of(&active.id), None, "the end is forgotten");

    let own = w.granted().await;
    let to_alice = w.mail.sent_to("alice@example.com").len();
    let to_bob = w.mail.sent_to("bob@example.com").len();
    let ended = w
        .service
        .cancel(&alice, &own.id, Message::default())
        .await
        .unwrap();
    assert_eq!(ended.state, State::Revoked);
    assert_eq!(
        w.mail.sent_to("bob@example.com").len(),
        to_bob + 1,
        "ending one's own access tells the approver who granted it"
    );
    assert_eq!(
        w.mail.sent_to("alice@example.com").len(),
        to_alice,
        "and not the requester, who did it"
    );
}

#[tokio::test]
async fn a_grant_ends_at_its_end_once() {
    let w = world().await;
    let r = w.granted().await;
    assert_eq!(
        w.service.end_grant(&r.id).await.unwrap(),
        EndOutcome::NotDue
    );
    w.advance(TimeDelta::hours(1));
    assert_eq!(w.service.end_grant(&r.id).await.unwrap(), EndOutcome::Ended);
    assert_eq!(w.read(&r.id).await.state, State::Ended);
    assert_eq!(
        w.service.end_grant(&r.id).await.unwrap(),
        EndOutcome::AlreadyDone
    );
    let unknown = RequestId::new(start(), 1);
    assert_eq!(
        w.service.end_grant(&unknown).await.unwrap(),
        EndOutcome::Missing
    );
    let events = w.events(&r.id).await;
    assert_eq!(
        events.iter().filter(|k| **k == EventKind::Ended).count(),
        1,
        "recorded once: {events:?}"
    );
    assert_eq!(
        events.last(),
        Some(&EventKind::Rotated),
        "and the password it could reveal rotated after it"
    );
}

#[tokio::test]
async fn the_sweep_ends_overdue_grants_and_expires_undecided_requests() {
    let w = world_with(|ports| ports.scheduler = Arc::new(DownScheduler)).await;
    let granted = w.granted().await;
    assert_eq!(
        w.events(&granted.id).await.last(),
        Some(&EventKind::ScheduleFailed)
    );
    let undecided = w.submitted().await;
    assert_eq!(w.service.sweep().await.unwrap().ended, 0);

    w.advance(TimeDelta::hours(24));
    let report = w.service.sweep().await.unwrap();
    assert_eq!((report.ended, report.expired), (1, 1));
    assert_eq!(w.read(&granted.id).await.state, State::Ended);
    assert_eq!(w.read(&undecided.id).await.state, State::Expired);
    let again = w.service.sweep().await.unwrap();
    assert_eq!((again.ended, again.expired), (0, 0), "nothing twice");
}

#[tokio::test]
async fn a_failed_mail_is_retried_with_backoff_then_given_up() {
    let flaky = Arc::new(std::sync::OnceLock::new());
    let w = {
        let flaky = flaky.clone();
        world_with(move |ports| {
            let mailer = FlakyMailer::new(ports.mailer.clone(), 1);
            flaky.set(mailer.clone()).ok();
            ports.mailer = mailer;
        })
        .await
    };
    let flaky: &FlakyMailer = flaky.get().expect("the flaky mailer");

    let r = w.submitted().await;
    assert_eq!(w.mail.sent(), vec![], "the first attempt failed");
    assert_eq!(
        w.events(&r.id).await,
        [EventKind::Requested, EventKind::EmailFailed]
    );
    // Not before its backoff.
    assert_eq!(w.service.sweep().await.unwrap().mails_sent, 0);
    w.advance(TimeDelta::minutes(1));
    assert_eq!(w.service.sweep().await.unwrap().mails_sent, 1);
    assert_eq!(w.mail.sent_to("bob@example.com").len(), 1);
    assert_eq!(w.events(&r.id).await.last(), Some(&EventKind::EmailRetried));

    // A mail that never goes through is given up after its last attempt.
    flaky.fail_next(u32::MAX);
    let r = w
        .submit("alice", ask("billing-api-key", "dave@example.com", 600))
        .await;
    for _ in 1..MAX_MAIL_ATTEMPTS {
        w.advance(TimeDelta::hours(1));
        assert_eq!(w.service.sweep().await.unwrap().mails_failed, 1);
    }
    let failures: Vec<_> = w
        .store
        .events(&r.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::EmailFailed)
        .collect();
    assert_eq!(failures.len(), MAX_MAIL_ATTEMPTS as usize);
    assert!(failures.last().unwrap().detail.ends_with("given up"));
    w.advance(TimeDelta::days(1));
    let report = w.service.sweep().await.unwrap();
    assert_eq!((report.mails_sent, report.mails_failed), (0, 0));
}

#[tokio::test]
async fn reports_show_each_caller_what_their_scope_allows() {
    let w = world().await;
    let mine = w.submitted().await;
    let carols = w
        .service
        .submit(
            &caller("carol"),
            ask("billing-api-key", "dave@example.com", 600),
            None,
        )
        .await
        .unwrap();
    let page = |who: &str, scope: ReportScope| {
        let service = w.service.clone();
        let caller = caller(who);
        async move {
            service
                .requests(
                    &caller,
                    ReportParams {
                        scope,
                        ..ReportParams::default()
                    },
                )
                .await
                .map(|p| p.items.iter().map(|r| r.id).collect::<Vec<_>>())
        }
    };
    assert_eq!(page("alice", ReportScope::Mine).await.unwrap(), [mine.id]);
    assert_eq!(
        page("bob", ReportScope::Approvals).await.unwrap(),
        [mine.id]
    );
    assert_eq!(
        page("dave", ReportScope::Approvals).await.unwrap(),
        [carols.id]
    );
    assert_eq!(
        page("carol", ReportScope::All).await.unwrap(),
        [carols.id, mine.id]
    );
    assert_eq!(
        field_of(page("alice", ReportScope::All).await),
        ("forbidden", None)
    );

    let alice = caller("alice");
    let refused = |params: ReportParams| {
        let service = w.service.clone();
        let alice = alice.clone();
        async move { field_of(service.requests(&alice, params).await) }
    };
    let field = |f: &str| ("invalid", Some(f.to_owned()));
    for limit in [0, 501] {
        let params = ReportParams {
            limit: Some(limit),
            ..ReportParams::default()
        };
        assert_eq!(refused(params).await, field("limit"), "{limit}");
    }
    let backwards = ReportParams {
        from: Some(start()),
        to: Some(start()),
        ..ReportParams::default()
    };
    assert_eq!(refused(backwards).await, field("to"));
    let forged = ReportParams {
        cursor: Some("not a cursor".to_owned()),
        ..ReportParams::default()
    };
    assert_eq!(refused(forged).await, field("cursor"));
}

#[tokio::test]
async fn a_timeline_shows_the_start_once_it_passed() {
    let w = world().await;
    let r = w.submitted().await;
    let got = field_of(w.service.request_detail(&caller("dave"), &r.id).await);
    assert_eq!(
        got,
        ("not_found", None),
        "not a party: as if there were none"
    );
    let frame = TimeFrame::new(start() + TimeDelta::hours(1), start() + TimeDelta::hours(2))
        .expect("a frame");
    let later = SubmitCommand {
        requested: Requested::Window(frame),
        ..payroll()
    };
    let later = w.submit("alice", later).await;
    w.decide(&later.id, Decision::Approve(Narrowing::default()))
        .await;
    for who in ["alice", "bob", "carol"] {
        let (_, events) = w
            .service
            .request_detail(&caller(who), &later.id)
            .await
            .unwrap();
        assert_eq!(kinds(&events).last(), Some(&EventKind::Approved), "{who}");
    }
    w.advance(TimeDelta::hours(1));
    let (request, events) = w
        .service
        .request_detail(&caller("alice"), &later.id)
        .await
        .unwrap();
    assert_eq!(request.status(w.service.now()), Status::Active);
    assert_eq!(kinds(&events).last(), Some(&EventKind::Started));
}

#[tokio::test]
async fn entries_and_access_now_show_each_callers_access() {
    let w = world().await;
    let alice = caller("alice");
    let status_on = |entries: &[(Entry, MyAccess)], id: &str| {
        entries
            .iter()
            .find(|(e, _)| e.id.as_str() == id)
            .and_then(|(_, a)| a.status)
    };
    let entries = w.service.entries_for(&alice).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(status_on(&entries, "prod-db"), None);

    let pending = w.submitted().await;
    let entries = w.service.entries_for(&alice).await.unwrap();
    assert_eq!(status_on(&entries, "prod-db"), Some(Status::Pending));
    let granted = w
        .decide(&pending.id, Decision::Approve(Narrowing::default()))
        .await;
    w.submitted().await;
    let entries = w.service.entries_for(&alice).await.unwrap();
    assert_eq!(
        status_on(&entries, "prod-db"),
        Some(Status::Active),
        "active beats pending"
    );
    let bobs = w.service.entries_for(&caller("bob")).await.unwrap();
    assert_eq!(status_on(&bobs, "prod-db"), None);

    let ids = |grants: Vec<AccessRequest>| grants.iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(
        ids(w.service.access_now(&alice).await.unwrap()),
        [granted.id]
    );
    assert_eq!(
        ids(w.service.access_now(&caller("carol")).await.unwrap()),
        [granted.id]
    );
    assert_eq!(ids(w.service.access_now(&caller("bob")).await.unwrap()), []);

    let names = w
        .service
        .names(&[email("bob@example.com"), email("zed@example.com")])
        .await
        .unwrap();
    assert_eq!(names[&email("bob@example.com")], "Bob Approver");
    assert_eq!(names[&email("zed@example.com")], "zed@example.com");
}

#[tokio::test]
async fn a_password_is_revealed_only_during_a_grant_with_that_right() {
    let w = world().await;
    let alice = caller("alice");
    let prod_db = EntryId::parse("prod-db").unwrap();
    let pending = w.submitted().await;
    let got = field_of(w.service.reveal_secret(&alice, &prod_db).await);
    assert_eq!(got, ("forbidden", None), "not before approval");
    let grant = w
        .decide(&pending.id, Decision::Approve(Narrowing::default()))
        .await;
    let credential = w.service.reveal_secret(&alice, &prod_db).await.unwrap();
    assert_eq!(credential.password, "password-local/prod-db");
    assert_eq!(
        w.events(&grant.id).await.last(),
        Some(&EventKind::PasswordRevealed)
    );
    let got = field_of(w.service.reveal_secret(&caller("bob"), &prod_db).await);
    assert_eq!(got, ("forbidden", None), "not for another person");
    let missing = EntryId::parse("no-such-entry").unwrap();
    assert_eq!(
        field_of(w.service.reveal_secret(&alice, &missing).await).0,
        "not_found"
    );

    // A grant narrowed to execute only reveals nothing.
    let payroll = w.submit("alice", payroll()).await;
    w.decide(&payroll.id, operator_only()).await;
    let payroll_rdp = EntryId::parse("payroll-rdp").unwrap();
    let got = field_of(w.service.reveal_secret(&alice, &payroll_rdp).await);
    assert_eq!(got, ("forbidden", None));

    w.advance(TimeDelta::hours(1));
    let got = field_of(w.service.reveal_secret(&alice, &prod_db).await);
    assert_eq!(got, ("forbidden", None), "never after the end");
}

/// A grant of prod-db (its password rotates) ended by `end`, and what happened to its
/// credential.
async fn rotated_after(w: &World, end: impl AsyncFnOnce(&World, &AccessRequest)) -> Vec<String> {
    let grant = w
        .decide(
            &w.submitted().await.id,
            Decision::Approve(Narrowing::default()),
        )
        .await;
    end(w, &grant).await;
    w.rotator.rotated()
}

#[tokio::test]
async fn a_password_seen_during_a_grant_is_rotated_when_it_ends() {
    // At its end (the sweep's catch-up, here).
    let w = world().await;
    let rotated = rotated_after(&w, async |w, _| {
        w.advance(TimeDelta::hours(2));
        assert_eq!(w.service.sweep().await.unwrap().ended, 1);
    })
    .await;
    assert_eq!(rotated, ["local/prod-db"]);

    // Ended early by its holder, or revoked by the approver.
    for who in ["alice", "bob"] {
        let w = world().await;
        let rotated = rotated_after(&w, async |w, g| {
            w.service
                .cancel(&caller(who), &g.id, message("done"))
                .await
                .unwrap();
        })
        .await;
        assert_eq!(rotated, ["local/prod-db"], "ended by {who}");
    }

    // The timeline says so.
    let w = world().await;
    let grant = w.granted().await;
    w.service
        .cancel(&caller("alice"), &grant.id, Message::default())
        .await
        .unwrap();
    assert_eq!(w.events(&grant.id).await.last(), Some(&EventKind::Rotated));
}

#[tokio::test]
async fn nothing_is_rotated_that_no_grant_could_reveal() {
    // A grant revoked before it started revealed nothing.
    let w = world().await;
    let frame = TimeFrame::new(start() + TimeDelta::hours(1), start() + TimeDelta::hours(2))
        .expect("a frame");
    let later = w
        .submit(
            "alice",
            SubmitCommand {
                requested: Requested::Window(frame),
                ..ask("prod-db", "bob@example.com", 3600)
            },
        )
        .await;
    w.decide(&later.id, Decision::Approve(Narrowing::default()))
        .await;
    w.service
        .cancel(&caller("bob"), &later.id, message("not needed"))
        .await
        .unwrap();
    // Execute only: no password to see.
    let payroll = w.submit("alice", payroll()).await;
    w.decide(&payroll.id, operator_only()).await;
    w.service
        .cancel(&caller("alice"), &payroll.id, Message::default())
        .await
        .unwrap();
    // An entry that does not rotate: nothing asked, and the approver was told.
    let billing = w
        .submit("alice", ask("billing-api-key", "dave@example.com", 600))
        .await;
    let to_dave = w.mail.sent_to("dave@example.com");
    assert!(
        to_dave[0].text.contains(tempaccess_core::mail::NOT_ROTATED),
        "the approver reads that the password is not rotated: {}",
        to_dave[0].text
    );
    assert!(
        !w.mail.sent_to("bob@example.com")[0]
            .text
            .contains(tempaccess_core::mail::NOT_ROTATED),
        "and only then"
    );
    w.service
        .decide(
            &caller("dave"),
            &billing.id,
            Decision::Approve(Narrowing::default()),
            Message::default(),
        )
        .await
        .unwrap();
    w.advance(TimeDelta::hours(3));
    w.service.sweep().await.unwrap();
    assert_eq!(w.rotator.rotated(), Vec::<String>::new());
}

#[tokio::test]
async fn a_failed_rotation_is_retried_then_given_up_and_always_said() {
    let w = world().await;
    w.rotator.fail_next(1, false);
    let grant = w.granted().await;
    w.service
        .cancel(&caller("alice"), &grant.id, Message::default())
        .await
        .unwrap();
    assert_eq!(
        w.events(&grant.id).await.last(),
        Some(&EventKind::RotationFailed)
    );
    assert_eq!(
        w.service.sweep().await.unwrap().rotated,
        0,
        "not before its backoff"
    );
    w.advance(TimeDelta::minutes(2));
    assert_eq!(w.service.sweep().await.unwrap().rotated, 1);
    assert_eq!(w.events(&grant.id).await.last(), Some(&EventKind::Rotated));

    // Refused for good: given up at once, and the timeline says to rotate by hand.
    w.rotator.fail_next(1, true);
    let grant = w.granted().await;
    w.service
        .cancel(&caller("alice"), &grant.id, Message::default())
        .await
        .unwrap();
    let events = w.store.events(&grant.id).await.unwrap();
    let failed = events.last().expect("an event");
    assert_eq!(failed.kind, EventKind::RotationFailed);
    assert!(failed.detail.contains("by hand"), "{}", failed.detail);
    w.advance(TimeDelta::days(1));
    assert_eq!(w.service.sweep().await.unwrap().rotations_failed, 0);
}

#[tokio::test]
async fn a_revoked_grant_reveals_nothing_while_the_index_lags() {
    let lagging = Arc::new(std::sync::OnceLock::new());
    let w = {
        let lagging = lagging.clone();
        world_with(move |ports| {
            let store = tempaccess_core::testing::StoreWithFaults::new(ports.store.clone());
            lagging.set(store.clone()).ok();
            ports.store = store;
        })
        .await
    };
    let lagging: &tempaccess_core::testing::StoreWithFaults = lagging.get().expect("the store");
    let alice = caller("alice");
    let prod_db = EntryId::parse("prod-db").unwrap();
    let grant = w.granted().await;
    w.service.reveal_secret(&alice, &prod_db).await.unwrap();
    // The index still shows the grant active after it was revoked.
    lagging.freeze(&alice.email, w.service.now()).await.unwrap();
    w.service
        .cancel(&caller("bob"), &grant.id, message("leaving"))
        .await
        .unwrap();
    let got = field_of(w.service.reveal_secret(&alice, &prod_db).await);
    assert_eq!(got, ("forbidden", None));
    let reveals = kinds(&w.store.events(&grant.id).await.unwrap())
        .into_iter()
        .filter(|k| *k == EventKind::PasswordRevealed)
        .count();
    assert_eq!(reveals, 1, "the refused reveal recorded nothing");
}

#[tokio::test]
async fn the_timeline_keeps_internals_out_of_failures() {
    struct LeakyScheduler;
    #[async_trait::async_trait]
    impl tempaccess_core::ports::Scheduler for LeakyScheduler {
        async fn schedule_end(
            &self,
            _: &RequestId,
            _: Timestamp,
        ) -> Result<(), tempaccess_core::ports::BoxError> {
            Err("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/x".into())
        }
        async fn cancel_end(&self, _: &RequestId) -> Result<(), tempaccess_core::ports::BoxError> {
            Ok(())
        }
    }
    let w = world_with(|ports| {
        ports.scheduler = Arc::new(LeakyScheduler);
        ports.mailer = FlakyMailer::new(ports.mailer.clone(), 1);
    })
    .await;
    let r = w.submitted().await;
    let granted = w
        .decide(&r.id, Decision::Approve(Narrowing::default()))
        .await;
    for event in w.store.events(&granted.id).await.unwrap() {
        for internal in ["arn:", "AccessDenied", "unreachable", "Exception"] {
            assert!(
                !event.detail.contains(internal),
                "{:?} shows {internal:?}: {}",
                event.kind,
                event.detail
            );
        }
    }
    assert!(
        kinds(&w.store.events(&granted.id).await.unwrap()).contains(&EventKind::ScheduleFailed)
    );
}

#[tokio::test]
async fn ten_pending_requests_is_the_most_one_person_has() {
    let w = world().await;
    let alice = caller("alice");
    for i in 0..11 {
        let mut e = tempaccess_core::testing::entry();
        e.id = EntryId::parse(&format!("extra-{i}")).unwrap();
        e.approvers = vec![email("bob@example.com")];
        w.store.put_entry(&e).await.unwrap();
    }
    for i in 0..10 {
        w.service
            .submit(
                &alice,
                ask(&format!("extra-{i}"), "bob@example.com", 600),
                None,
            )
            .await
            .unwrap();
    }
    let got = field_of(
        w.service
            .submit(&alice, ask("extra-10", "bob@example.com", 600), None)
            .await,
    );
    assert_eq!(got, ("too_many", None));
    // Others are not held back.
    w.service
        .submit(
            &caller("carol"),
            ask("extra-10", "bob@example.com", 600),
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn one_failing_item_never_holds_the_sweep_back() {
    let faults = Arc::new(std::sync::OnceLock::new());
    let w = {
        let faults = faults.clone();
        world_with(move |ports| {
            let store = tempaccess_core::testing::StoreWithFaults::new(ports.store.clone());
            faults.set(store.clone()).ok();
            ports.store = store;
        })
        .await
    };
    let faults: &tempaccess_core::testing::StoreWithFaults = faults.get().expect("the store");
    // Two grants end at once; the first's write fails.
    let stuck = w.granted().await;
    let payroll = w.submit("alice", payroll()).await;
    let fine = w
        .decide(&payroll.id, Decision::Approve(Narrowing::default()))
        .await;
    faults.fail_writes_to(stuck.id);
    w.advance(TimeDelta::hours(2));
    let report = w.service.sweep().await.expect("the pass goes on");
    assert_eq!((report.ended, report.errors), (1, 1), "{report:?}");
    assert_eq!(w.read(&fine.id).await.state, State::Ended);
    assert_eq!(
        w.read(&stuck.id).await.state,
        State::Approved,
        "tried again next pass"
    );
}

#[tokio::test]
async fn the_end_delivered_twice_at_once_early_and_late_ends_once_on_sqlite() {
    let w = world().await;
    tempaccess_tests::deliveries::the_end_delivered_twice_at_once_early_and_late_ends_once(
        &w.service,
        &w.clock,
        || async {
            w.mail
                .sent()
                .iter()
                .filter(|m| m.subject.starts_with("Access ended:"))
                .count()
        },
    )
    .await;
}

/// A mail service that is down until told otherwise, then slow: each send takes
/// fifteen seconds of the test's clock.
#[derive(Default)]
struct SlowMail {
    clock: std::sync::OnceLock<Arc<ManualClock>>,
    up: std::sync::atomic::AtomicBool,
    sent: std::sync::Mutex<Vec<Mail>>,
}

#[async_trait::async_trait]
impl tempaccess_core::ports::Mailer for SlowMail {
    async fn send(&self, mail: &Mail) -> Result<(), tempaccess_core::ports::MailError> {
        if !self.up.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(tempaccess_core::ports::MailError::Retryable(
                "the mail service is unreachable".into(),
            ));
        }
        self.clock
            .get()
            .expect("the clock")
            .advance(TimeDelta::seconds(15));
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_sweep_stops_in_time_and_the_next_one_sends_the_rest_once() {
    let slow = Arc::new(SlowMail::default());
    let w = {
        let slow = slow.clone();
        world_with(move |ports| ports.mailer = slow).await
    };
    slow.clock.set(w.clock.clone()).ok();
    // Four requests while the mail service is down: four mails waiting.
    w.submit("alice", ask("prod-db", "bob@example.com", 3600))
        .await;
    w.submit("alice", payroll()).await;
    w.submit("carol", ask("prod-db", "bob@example.com", 3600))
        .await;
    w.submit("carol", payroll()).await;
    slow.up.store(true, std::sync::atomic::Ordering::SeqCst);
    w.advance(TimeDelta::minutes(5));

    // Each send takes 15 s: sends start at 0, 15 and 30 s, none after the budget.
    assert_eq!(
        tempaccess_core::service::SWEEP_BUDGET,
        TimeDelta::seconds(40)
    );
    let first = w.service.sweep().await.expect("a pass");
    assert_eq!(
        (first.mails_sent, first.deferred, first.errors),
        (3, 1, 0),
        "{first:?}"
    );
    let second = w.service.sweep().await.expect("a pass");
    assert_eq!((second.mails_sent, second.deferred), (1, 0), "{second:?}");
    let sent = slow.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 4, "each mail once");
    let mut subjects: Vec<_> = sent
        .iter()
        .map(|m| (m.to.clone(), m.subject.clone()))
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 4, "no mail twice: {subjects:?}");
}

#[tokio::test]
async fn a_renamed_person_is_named_anew_within_a_minute() {
    let w = world().await;
    let bob = email("bob@example.com");
    let before = w.service.names(std::slice::from_ref(&bob)).await.unwrap();
    assert_eq!(before[&bob], "Bob Approver");
    w.store
        .put_user(&tempaccess_core::entry::User {
            email: bob.clone(),
            name: "Robert".to_owned(),
            roles: vec![],
        })
        .await
        .unwrap();
    // Within the minute the name read is used again (a mail and the answer of one
    // call name the same people); after it, the store is read again.
    let soon = w.service.names(std::slice::from_ref(&bob)).await.unwrap();
    assert_eq!(soon[&bob], "Bob Approver");
    w.clock.advance(tempaccess_core::service::NAME_TTL);
    let later = w.service.names(std::slice::from_ref(&bob)).await.unwrap();
    assert_eq!(later[&bob], "Robert");
    // Someone with no user record is named by their email.
    let stranger = email("stranger@example.com");
    let names = w
        .service
        .names(&[stranger.clone(), bob.clone()])
        .await
        .unwrap();
    assert_eq!(names[&stranger], "stranger@example.com");
    assert_eq!(names[&bob], "Robert");
}

/// A guessed decision link costs the same store calls whether it is one character from
/// a real token or nowhere near one: the lookup reads one key, the token's SHA-256
/// hash, and nothing of the token is compared. Counted, per guess, by the store's
/// calls; the time per guess is measured and printed (never asserted), over
/// `TEMPACCESS_GUESS_ROUNDS` rounds (200 by default).
#[tokio::test]
async fn a_guess_costs_the_same_store_calls_near_a_real_token_or_not() {
    use tempaccess_core::testing::StoreWithFaults;
    let mut counting = None;
    let w = world_with(|ports| {
        let store = StoreWithFaults::new(ports.store.clone());
        ports.store = store.clone();
        counting = Some(store);
    })
    .await;
    let counting = counting.expect("the store");
    let alice = caller("alice");
    w.service
        .submit(&alice, ask("prod-db", "bob@example.com", 3600), None)
        .await
        .expect("submitted");
    let real = token_in(&w.mail.sent_to("bob@example.com")[0]);
    let altered = |i: usize| {
        let mut chars: Vec<char> = real.expose().chars().collect();
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        DecisionToken::parse(&chars.into_iter().collect::<String>()).expect("well formed")
    };
    let random = |n: u8| DecisionToken::from_bytes([n; 32]);

    let calls_of = async |token: &DecisionToken| {
        counting.take_calls();
        let _ = w.service.lookup_decision(token, None).await;
        counting.take_calls()
    };
    let miss = calls_of(&random(7)).await;
    assert_eq!(miss, [("token", 1)].into(), "a random guess");
    for i in [0, 10, 21, 41] {
        assert_eq!(
            calls_of(&altered(i)).await,
            miss,
            "one character changed at {i}"
        );
    }
    for n in 0..20 {
        assert_eq!(calls_of(&random(n)).await, miss, "random guess {n}");
    }
    let hit = calls_of(&real).await;
    assert!(hit["token"] == 1 && hit.len() > 1, "{hit:?}");

    let rounds: u32 = std::env::var("TEMPACCESS_GUESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Many tokens of each kind, so that no one key's place in the index decides.
    let kinds: [(&str, Vec<DecisionToken>); 3] = [
        ("random tokens", (0..42).map(|n| random(100 + n)).collect()),
        (
            "the real one with one character changed",
            (0..42).map(altered).collect(),
        ),
        (
            "the real one (found: reads the request)",
            vec![real.clone()],
        ),
    ];
    // Interleaved, the two kinds of miss taking turns right after the found token (whose
    // reads leave the caches another way), so that a machine busier at one moment, or
    // the lookup before, weighs on both alike.
    let mut times = vec![Vec::new(); kinds.len()];
    for round in 0..rounds as usize {
        let order = if round % 2 == 0 { [0, 1, 2] } else { [1, 0, 2] };
        for k in order {
            let tokens = &kinds[k].1;
            let token = &tokens[round % tokens.len()];
            let started = std::time::Instant::now();
            let _ = w.service.lookup_decision(token, None).await;
            times[k].push(started.elapsed());
        }
    }
    let per_guess: Vec<String> = kinds
        .iter()
        .zip(&mut times)
        .map(|((what, _), times)| {
            times.sort();
            let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
            format!("{what}: median {:.1?}, p90 {:.1?}", p(0.5), p(0.9))
        })
        .collect();
    eprintln!(
        "per guess, {rounds} lookups each, store calls {miss:?} (found: {hit:?}):\n  {}",
        per_guess.join("\n  ")
    );
}

/// Found by the store's fault schedule: a rotation done, or a rotation or a mail given
/// up, whose event could not be written, was struck off anyway: a password rotated (or
/// left working) in silence. Now nothing is struck off or given up before the timeline
/// says so; it stays due and is done again, and said, once the store takes the event.
#[tokio::test]
async fn nothing_is_rotated_or_given_up_in_silence_when_the_timeline_cannot_be_written() {
    use tempaccess_core::testing::StoreWithFaults;
    let mut faulty = None;
    let w = world_with(|ports| {
        let store = StoreWithFaults::new(ports.store.clone());
        ports.store = store.clone();
        faulty = Some(store);
    })
    .await;
    let faulty = faulty.expect("the store");
    let alice = caller("alice");
    let r = w.submitted().await;
    let grant = w
        .decide(&r.id, Decision::Approve(Narrowing::default()))
        .await;
    faulty.fail_events_of(grant.id);
    w.service
        .cancel(&alice, &grant.id, Message::default())
        .await
        .expect("ended early");
    assert_eq!(w.rotator.rotated(), ["local/prod-db"]);
    let later = w.service.now() + TimeDelta::days(1);
    assert_eq!(
        w.store.due_rotations(later, 10).await.unwrap().len(),
        1,
        "a rotation not on the timeline stays due"
    );
    // The database takes events again: the sweep rotates again and says so.
    faulty.recover();
    w.advance(TimeDelta::minutes(5));
    w.service.sweep().await.expect("a sweep");
    assert_eq!(w.rotator.rotated(), ["local/prod-db", "local/prod-db"]);
    let events = w.store.events(&grant.id).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == EventKind::Rotated)
            .count(),
        1,
        "{:?}",
        kinds(&events)
    );
    assert!(w.store.due_rotations(later, 10).await.unwrap().is_empty());

    // A rotation that fails for good while its event cannot be written is not given
    // up until the timeline says so.
    let r = w.submitted().await;
    let grant = w
        .decide(&r.id, Decision::Approve(Narrowing::default()))
        .await;
    faulty.fail_events_of(grant.id);
    w.rotator.fail_next(1, true);
    w.service
        .cancel(&alice, &grant.id, Message::default())
        .await
        .expect("ended early");
    assert_eq!(
        w.store.due_rotations(later, 10).await.unwrap().len(),
        1,
        "not given up in silence"
    );
    faulty.recover();
    w.rotator.fail_next(1, true);
    w.advance(TimeDelta::minutes(5));
    w.service.sweep().await.expect("a sweep");
    let events = w.store.events(&grant.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::RotationFailed && e.detail.contains("given up")),
        "{:?}",
        kinds(&events)
    );
    assert!(w.store.due_rotations(later, 10).await.unwrap().is_empty());
}
