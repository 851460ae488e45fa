//! Failures of mail and scheduler, and races on every transition, on the AWS adapters
//! in the emulator: the decision always stands, the failure is recorded and retried,
//! and nothing is left half-written.

use std::sync::Arc;

use chrono::TimeDelta;
use tempaccess_core::Error;
use tempaccess_core::audit::EventKind;
use tempaccess_core::entry::Caller;
use tempaccess_core::ids::{Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::policy::Narrowing;
use tempaccess_core::request::State;
use tempaccess_core::request::SubmitCommand;
use tempaccess_core::service::{Decision, EndOutcome};
use tempaccess_core::testing::{DownScheduler, FlakyMailer};
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};
use tempaccess_tests::aws_world::AwsWorld;

fn caller(email: &str, admin: bool) -> Caller {
    Caller {
        email: Email::parse(email).unwrap(),
        name: email.to_owned(),
        roles: if admin {
            vec!["admin".to_owned()]
        } else {
            vec![]
        },
    }
}

fn alice() -> Caller {
    caller("alice@example.com", false)
}
fn bob() -> Caller {
    caller("bob@example.com", false)
}
fn carol() -> Caller {
    caller("carol@example.com", true)
}

fn prod_db(seconds: i64) -> SubmitCommand {
    SubmitCommand {
        entry_id: EntryId::parse("prod-db").unwrap(),
        permission_set: PermissionSetId::view_password_execute(),
        approver: Email::parse("bob@example.com").unwrap(),
        requested: Requested::Duration(AccessDuration::from_seconds(seconds, "d").unwrap()),
        message: Message::parse("hotfix", "message").unwrap(),
    }
}

fn text(s: &str) -> Message {
    Message::parse(s, "comment").unwrap()
}

async fn kinds(world: &AwsWorld, id: &RequestId) -> Vec<EventKind> {
    world
        .store
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Every stored transition left exactly one event: the version counts them.
async fn assert_whole(world: &AwsWorld, id: &RequestId) {
    let request = world.store.request(id).await.unwrap().expect("stored");
    let transitions = kinds(world, id)
        .await
        .into_iter()
        .filter(|k| {
            matches!(
                k,
                EventKind::Approved
                    | EventKind::Denied
                    | EventKind::Cancelled
                    | EventKind::Revoked
                    | EventKind::Ended
                    | EventKind::Expired
            )
        })
        .count() as u64;
    assert_eq!(
        request.version, transitions,
        "version and transition events agree for {id}"
    );
}

#[tokio::test]
async fn a_failed_mail_never_loses_the_request_and_the_sweep_delivers_it() {
    let world = AwsWorld::with(|ports| {
        ports.mailer = FlakyMailer::new(ports.mailer.clone(), 1);
    })
    .await;
    let request = world
        .service
        .submit(&alice(), prod_db(3600), None)
        .await
        .expect("the request stands");
    assert_eq!(
        world
            .store
            .request(&request.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        State::Pending
    );
    assert!(
        kinds(&world, &request.id)
            .await
            .contains(&EventKind::EmailFailed)
    );
    assert!(
        world.sent_mail().await.is_empty(),
        "nothing reached SES yet"
    );

    // Not retried before its time, then delivered by the sweep.
    let report = world.service.sweep().await.unwrap();
    assert_eq!(report.mails_sent, 0);
    world.clock.advance(TimeDelta::minutes(2));
    let report = world.service.sweep().await.unwrap();
    assert_eq!(report.mails_sent, 1, "{report:?}");
    assert!(
        kinds(&world, &request.id)
            .await
            .contains(&EventKind::EmailRetried)
    );
    let mails = world.sent_mail().await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].to.contains(&"bob@example.com".to_owned()),
        "{mails:?}"
    );
    // Delivered once: later sweeps send nothing again.
    world.clock.advance(TimeDelta::minutes(30));
    assert_eq!(world.service.sweep().await.unwrap().mails_sent, 0);
    assert_whole(&world, &request.id).await;
}

#[tokio::test]
async fn a_failed_schedule_still_ends_the_grant_by_the_sweep() {
    let world = AwsWorld::with(|ports| ports.scheduler = Arc::new(DownScheduler)).await;
    let request = world
        .service
        .submit(&alice(), prod_db(600), None)
        .await
        .unwrap();
    let approved = world
        .service
        .decide(
            &bob(),
            &request.id,
            Decision::Approve(Narrowing::default()),
            text("ok"),
        )
        .await
        .expect("the decision stands although the scheduler is down");
    assert_eq!(approved.state, State::Approved);
    assert!(
        kinds(&world, &request.id)
            .await
            .contains(&EventKind::ScheduleFailed)
    );

    world.clock.advance(TimeDelta::seconds(600));
    // Never honoured past its end, even before anything ran.
    let err = world
        .service
        .reveal_secret(&alice(), &EntryId::parse("prod-db").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let report = world.service.sweep().await.unwrap();
    assert_eq!(report.ended, 1, "{report:?}");
    assert_eq!(
        world
            .store
            .request(&request.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        State::Ended
    );
    assert_whole(&world, &request.id).await;
}

/// Runs two operations at once; exactly one may win, the other gets a conflict.
macro_rules! race {
    ($a:expr, $b:expr) => {{
        let (a, b) = tokio::join!($a, $b);
        let wins = [a.is_ok(), b.is_ok()].iter().filter(|w| **w).count();
        assert_eq!(
            wins,
            1,
            "exactly one wins: {:?} / {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        );
        for r in [&a, &b] {
            if let Err(e) = r {
                assert!(
                    matches!(e, Error::Conflict { .. }),
                    "the loser gets a conflict: {e:?}"
                );
            }
        }
    }};
}

#[tokio::test]
async fn every_transition_has_one_winner_and_nothing_half_written() {
    let world = AwsWorld::new().await;
    let s = &world.service;
    let (alice, bob, carol) = (alice(), bob(), carol());

    // approve vs deny
    let r = s.submit(&alice, prod_db(600), None).await.unwrap();
    race!(
        s.decide(
            &bob,
            &r.id,
            Decision::Approve(Narrowing::default()),
            text("yes")
        ),
        s.decide(&bob, &r.id, Decision::Deny, text("no"))
    );
    assert_whole(&world, &r.id).await;

    // cancel vs approve
    let r = s.submit(&alice, prod_db(600), None).await.unwrap();
    race!(
        s.cancel(&alice, &r.id, Message::default()),
        s.decide(
            &bob,
            &r.id,
            Decision::Approve(Narrowing::default()),
            text("yes")
        )
    );
    assert_whole(&world, &r.id).await;

    // the requester ends early vs the admin revokes
    let r = s.submit(&alice, prod_db(600), None).await.unwrap();
    s.decide(
        &bob,
        &r.id,
        Decision::Approve(Narrowing::default()),
        text("yes"),
    )
    .await
    .unwrap();
    race!(
        s.cancel(&alice, &r.id, Message::default()),
        s.cancel(&carol, &r.id, text("incident over"))
    );
    assert_whole(&world, &r.id).await;

    // expire vs deny at the expiry: the clock says expired, so the decision loses
    let r = s.submit(&alice, prod_db(600), None).await.unwrap();
    world.clock.advance(TimeDelta::hours(24));
    let (swept, denied) = tokio::join!(
        s.sweep(),
        s.decide(&bob, &r.id, Decision::Deny, text("late"))
    );
    assert_eq!(swept.unwrap().expired, 1);
    assert!(matches!(denied, Err(Error::Conflict { .. })), "{denied:?}");
    assert_eq!(
        s.store().request(&r.id).await.unwrap().unwrap().state,
        State::Expired
    );
    assert_whole(&world, &r.id).await;

    // the timer's end vs the sweep's end of the same grant
    let r = s.submit(&alice, prod_db(600), None).await.unwrap();
    s.decide(
        &bob,
        &r.id,
        Decision::Approve(Narrowing::default()),
        text("yes"),
    )
    .await
    .unwrap();
    world.clock.advance(TimeDelta::seconds(600));
    let (timer, sweep) = tokio::join!(s.end_grant(&r.id), s.sweep());
    let ended_by_timer = timer.unwrap() == EndOutcome::Ended;
    let ended_by_sweep = sweep.unwrap().ended == 1;
    assert!(ended_by_timer ^ ended_by_sweep, "ended exactly once");
    assert_whole(&world, &r.id).await;
    let ended = kinds(&world, &r.id)
        .await
        .into_iter()
        .filter(|k| *k == EventKind::Ended)
        .count();
    assert_eq!(ended, 1);
}

#[tokio::test]
async fn the_end_delivered_twice_at_once_early_and_late_ends_once_on_dynamodb() {
    let world = AwsWorld::new().await;
    tempaccess_tests::deliveries::the_end_delivered_twice_at_once_early_and_late_ends_once(
        &world.service,
        &world.clock,
        || async {
            world
                .sent_mail()
                .await
                .iter()
                .filter(|m| m.subject.starts_with("Access ended:"))
                .count()
        },
    )
    .await;
}
