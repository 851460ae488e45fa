//! The scheduler's deliveries of a grant's end, as its contract allows them: at least
//! once, so twice and at once; early (clock skew) and late (after the grant was
//! revoked). Run on every store (`e2e::service` on SQLite, `aws::faults` on DynamoDB):
//! each grant ends once, its timeline says so once, and its requester is told once.

use std::future::Future;

use chrono::TimeDelta;
use tempaccess_core::audit::EventKind;
use tempaccess_core::entry::Caller;
use tempaccess_core::ids::{Email, EntryId, PermissionSetId, RequestId};
use tempaccess_core::policy::Narrowing;
use tempaccess_core::request::{State, SubmitCommand};
use tempaccess_core::service::{Decision, EndOutcome, Service};
use tempaccess_core::testing::ManualClock;
use tempaccess_core::text::Message;
use tempaccess_core::timing::{AccessDuration, Requested};

fn caller(name: &str, admin: bool) -> Caller {
    Caller {
        email: Email::parse(&format!("{name}@example.com")).expect("an email"),
        name: name.to_owned(),
        roles: if admin {
            vec!["admin".to_owned()]
        } else {
            vec![]
        },
    }
}

fn text(s: &str) -> Message {
    Message::parse(s, "comment").expect("a message")
}

async fn grant(service: &Service, seconds: i64) -> RequestId {
    let command = SubmitCommand {
        entry_id: EntryId::parse("prod-db").expect("an entry id"),
        permission_set: PermissionSetId::view_password_execute(),
        approver: Email::parse("bob@example.com").expect("an email"),
        requested: Requested::Duration(
            AccessDuration::from_seconds(seconds, "d").expect("a duration"),
        ),
        message: text("deliveries"),
    };
    let r = service
        .submit(&caller("alice", false), command, None)
        .await
        .expect("submitted");
    service
        .decide(
            &caller("bob", false),
            &r.id,
            Decision::Approve(Narrowing::default()),
            text("yes"),
        )
        .await
        .expect("approved");
    r.id
}

async fn count(service: &Service, id: &RequestId, kind: EventKind) -> usize {
    service
        .store()
        .events(id)
        .await
        .expect("the timeline")
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

/// Runs the deliveries; `ended_mails` reads how many "Access ended" mails the requester
/// has had (however the store's world records mail).
pub async fn the_end_delivered_twice_at_once_early_and_late_ends_once<F, Fut>(
    service: &Service,
    clock: &ManualClock,
    ended_mails: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = usize>,
{
    let on_time = grant(service, 600).await;
    let revoked = grant(service, 600).await;

    // Early: the grant stays as it was.
    let (a, b) = tokio::join!(service.end_grant(&on_time), service.end_grant(&on_time));
    assert_eq!(
        (a.unwrap(), b.unwrap()),
        (EndOutcome::NotDue, EndOutcome::NotDue)
    );
    assert_eq!(count(service, &on_time, EventKind::Ended).await, 0);

    // The other grant is revoked before its end; its delivery comes late.
    service
        .cancel(&caller("carol", true), &revoked, text("incident over"))
        .await
        .expect("revoked");

    clock.advance(TimeDelta::seconds(600));
    // Four deliveries of the same end at once, with the late one of the revoked grant.
    let (a, b, c, d, late) = tokio::join!(
        service.end_grant(&on_time),
        service.end_grant(&on_time),
        service.end_grant(&on_time),
        service.end_grant(&on_time),
        service.end_grant(&revoked),
    );
    let outcomes = [a, b, c, d].map(|o| o.expect("a delivery is handled"));
    let ended = outcomes.iter().filter(|o| **o == EndOutcome::Ended).count();
    assert_eq!(ended, 1, "one delivery ends it: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, EndOutcome::Ended | EndOutcome::AlreadyDone)),
        "{outcomes:?}"
    );
    assert_eq!(late.expect("handled"), EndOutcome::AlreadyDone);
    // And once more, long after, with the sweep.
    assert_eq!(
        service.end_grant(&on_time).await.unwrap(),
        EndOutcome::AlreadyDone
    );
    assert_eq!(service.sweep().await.expect("swept").ended, 0);

    let state =
        |id: RequestId| async move { service.store().request(&id).await.unwrap().unwrap().state };
    assert_eq!(state(on_time).await, State::Ended);
    assert_eq!(state(revoked).await, State::Revoked);
    assert_eq!(count(service, &on_time, EventKind::Ended).await, 1);
    assert_eq!(count(service, &revoked, EventKind::Ended).await, 0);
    assert_eq!(count(service, &revoked, EventKind::Revoked).await, 1);
    assert_eq!(
        ended_mails().await,
        1,
        "the requester is told of the end once"
    );
}
