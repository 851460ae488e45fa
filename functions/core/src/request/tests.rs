//! Unit and property tests of the state machine, on times chosen by the test.

use chrono::TimeDelta;
use proptest::prelude::*;

use crate::Timestamp;
use crate::audit::EventKind;
use crate::error::Error;
use crate::policy::{Narrowing, grant_for};
use crate::request::{AccessRequest, Grant, Op, OpKind, Refused, State, Status};
use crate::testing::{email, entry, hour, pending, t0};
use crate::text::Message;
use crate::timing::{Requested, TimeFrame};

fn approve_at(r: &AccessRequest, at: Timestamp) -> AccessRequest {
    let sets = entry().permission_sets;
    let grant = grant_for(
        r.requested,
        &r.permission_set,
        Some(&sets),
        &Narrowing::default(),
        at,
    )
    .unwrap();
    r.apply(
        Op::Approve {
            by: email("bob@example.com"),
            grant,
            comment: Message::default(),
        },
        at,
    )
    .unwrap()
    .next
}

#[test]
fn statuses_follow_the_clock() {
    let r = pending(hour());
    assert_eq!(r.status(t0()), Status::Pending);
    assert_eq!(r.status(t0() + TimeDelta::hours(24)), Status::Expired);
    let approved = approve_at(&r, t0() + TimeDelta::minutes(5));
    let start = t0() + TimeDelta::minutes(5);
    assert_eq!(approved.status(start), Status::Active);
    assert!(approved.is_active(start + TimeDelta::minutes(59)));
    // Never honoured at or after its end, whether or not the end was recorded.
    assert!(!approved.is_active(start + TimeDelta::hours(1)));
    assert_eq!(approved.status(start + TimeDelta::hours(1)), Status::Ended);
}

#[test]
fn a_future_time_frame_is_scheduled_until_it_starts() {
    let frame = TimeFrame::new(t0() + TimeDelta::hours(2), t0() + TimeDelta::hours(3)).unwrap();
    let approved = approve_at(&pending(Requested::Window(frame)), t0());
    assert_eq!(approved.status(t0()), Status::Scheduled);
    assert_eq!(approved.status(t0() + TimeDelta::hours(2)), Status::Active);
    let g = approved.grant.unwrap();
    assert_eq!((g.starts_at, g.ends_at), (frame.start(), frame.end()));
}

#[test]
fn a_second_decision_names_the_first_decider() {
    let approved = approve_at(&pending(hour()), t0());
    let refused = approved
        .apply(
            Op::Deny {
                by: email("dave@example.com"),
                comment: Message::default(),
            },
            t0(),
        )
        .unwrap_err();
    assert_eq!(
        refused,
        Refused::State {
            doing: OpKind::Deny,
            current: Status::Active,
            by: Some(email("bob@example.com")),
        }
    );
    match Error::from(refused) {
        Error::Conflict {
            current,
            decided_by,
            message,
        } => {
            assert_eq!(current, Status::Active);
            assert_eq!(decided_by, Some(email("bob@example.com")));
            assert!(
                message.contains("already approved by bob@example.com"),
                "{message}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// An operation a test sequence tries, with who does it.
#[derive(Debug, Clone)]
enum Step {
    Wait(i64),
    Approve(i64),
    Deny,
    Cancel,
    Revoke,
    End,
    Expire,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..100_000).prop_map(Step::Wait),
        (60i64..7200).prop_map(Step::Approve),
        Just(Step::Deny),
        Just(Step::Cancel),
        Just(Step::Revoke),
        Just(Step::End),
        Just(Step::Expire),
    ]
}

/// The event each transition must record, from the state it reaches.
fn event_for(state: State) -> EventKind {
    match state {
        State::Approved => EventKind::Approved,
        State::Denied => EventKind::Denied,
        State::Cancelled => EventKind::Cancelled,
        State::Revoked => EventKind::Revoked,
        State::Ended => EventKind::Ended,
        State::Expired => EventKind::Expired,
        State::Pending => unreachable!("no transition leads to pending"),
    }
}

fn allowed(from: State, to: State) -> bool {
    matches!(
        (from, to),
        (
            State::Pending,
            State::Approved | State::Denied | State::Cancelled | State::Expired
        ) | (State::Approved, State::Revoked | State::Ended)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No sequence of operations reaches an illegal state; every transition bumps the
    /// version by one and records exactly the one event its new state calls for; a
    /// refused operation is a conflict (or a policy refusal) and changes nothing.
    #[test]
    fn no_sequence_reaches_an_illegal_state(steps in proptest::collection::vec(step(), 1..24)) {
        let mut r = pending(hour());
        let mut now = t0();
        let bob = email("bob@example.com");
        for s in steps {
            let op = match s {
                Step::Wait(secs) => { now += TimeDelta::seconds(secs); continue; }
                Step::Approve(secs) => Op::Approve {
                    by: bob.clone(),
                    grant: Grant {
                        starts_at: now,
                        ends_at: now + TimeDelta::seconds(secs),
                        permission_set: r.permission_set.clone(),
                    },
                    comment: Message::default(),
                },
                Step::Deny => Op::Deny { by: bob.clone(), comment: Message::default() },
                Step::Cancel => Op::Cancel { by: r.requester.clone(), reason: Message::default() },
                Step::Revoke => Op::Revoke { by: bob.clone(), reason: Message::default() },
                Step::End => Op::End,
                Step::Expire => Op::Expire,
            };
            let before = r.clone();
            match r.apply(op, now) {
                Ok(t) => {
                    prop_assert!(allowed(before.state, t.next.state), "{:?} -> {:?}", before.state, t.next.state);
                    prop_assert_eq!(t.next.version, before.version + 1);
                    prop_assert_eq!(t.kind, event_for(t.next.state));
                    r = t.next;
                }
                Err(Refused::State { current, .. }) => {
                    prop_assert_eq!(current, before.status(now));
                }
                Err(Refused::GrantOver) => {}
            }
            // Invariants of every reachable request.
            prop_assert_eq!(r.grant.is_some(), matches!(r.state, State::Approved | State::Revoked | State::Ended));
            prop_assert_eq!(r.decided_by.is_some(), r.decided_at.is_some());
            if let Some(g) = &r.grant {
                prop_assert!(g.starts_at < g.ends_at);
                // Never honoured at or past its end.
                prop_assert!(!r.is_active(g.ends_at));
            }
            prop_assert!(r.status(now).stored_states().contains(&r.state));
            if r.state.is_final() {
                prop_assert!(!r.is_active(now));
                prop_assert!(r.status(now) != Status::Pending);
            }
        }
    }

    /// Whatever the time, a final request keeps its status.
    #[test]
    fn final_states_do_not_move(wait in 0i64..10_000_000) {
        let denied = pending(hour()).apply(Op::Deny { by: email("bob@example.com"), comment: Message::default() }, t0()).unwrap().next;
        prop_assert_eq!(denied.status(t0() + TimeDelta::seconds(wait)), Status::Denied);
    }
}
