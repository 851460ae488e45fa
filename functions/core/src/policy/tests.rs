//! Unit and property tests of the policy: who may do what, what an entry allows, and
//! how an approval may narrow a request, on times chosen by the test.

use chrono::TimeDelta;
use proptest::prelude::*;

use super::*;
use crate::request::Grant;
use crate::testing::{caller, email, entry, hour, pending, t0};

fn seconds(s: i64) -> AccessDuration {
    AccessDuration::from_seconds(s, "duration_seconds").unwrap()
}

fn frame(from_minutes: i64, to_minutes: i64) -> TimeFrame {
    TimeFrame::new(
        t0() + TimeDelta::minutes(from_minutes),
        t0() + TimeDelta::minutes(to_minutes),
    )
    .unwrap()
}

fn set(id: &str) -> PermissionSetId {
    PermissionSetId::parse(id).unwrap()
}

/// alice's hour on prod-db, approved by bob at `t0` for a grant from `starts` to
/// `ends` minutes after it.
fn granted(starts: i64, ends: i64) -> AccessRequest {
    pending(hour())
        .apply(
            Op::Approve {
                by: email("bob@example.com"),
                grant: Grant {
                    starts_at: t0() + TimeDelta::minutes(starts),
                    ends_at: t0() + TimeDelta::minutes(ends),
                    permission_set: PermissionSetId::view_password_execute(),
                },
                comment: Message::default(),
            },
            t0(),
        )
        .unwrap()
        .next
}

fn submit(approver: &str, requested: Requested, message: &str) -> SubmitCommand {
    SubmitCommand {
        entry_id: EntryId::parse("prod-db").unwrap(),
        permission_set: PermissionSetId::view_password_execute(),
        approver: email(approver),
        requested,
        message: Message::parse(message, "message").unwrap(),
    }
}

/// The field of the first problem `check_submit` finds, if any.
fn submit_problem(e: &Entry, cmd: &SubmitCommand) -> Option<String> {
    check_submit(&e.into(), &email("alice@example.com"), cmd, t0())
        .err()
        .map(|e| e.field().unwrap_or_default().to_owned())
}

#[test]
fn a_request_must_fit_the_entry() {
    let e = entry();
    let ok = submit("bob@example.com", hour(), "");
    assert_eq!(submit_problem(&e, &ok), None);
    let cases = [
        (
            SubmitCommand {
                permission_set: set("admin"),
                ..ok.clone()
            },
            "permission_set",
        ),
        (submit("alice@example.com", hour(), ""), "approver_id"),
        (submit("dave@example.com", hour(), ""), "approver_id"),
        (
            submit(
                "bob@example.com",
                Requested::Duration(seconds(8 * 3600 + 60)),
                "",
            ),
            "duration_seconds",
        ),
        (
            submit("bob@example.com", Requested::Window(frame(-60, 0)), ""),
            "window.end",
        ),
        (
            submit("bob@example.com", Requested::Window(frame(0, 9 * 60)), ""),
            "window.end",
        ),
    ];
    for (cmd, field) in cases {
        assert_eq!(submit_problem(&e, &cmd).as_deref(), Some(field), "{cmd:?}");
    }
    let strict = Entry {
        message_required: true,
        ..entry()
    };
    assert_eq!(submit_problem(&strict, &ok).as_deref(), Some("message"));
    let with_message = submit("bob@example.com", hour(), "deploy");
    assert_eq!(submit_problem(&strict, &with_message), None);
}

#[test]
fn every_problem_of_a_request_is_named_at_once_and_the_server_reports_the_first() {
    let strict = RequestRules {
        message_required: true,
        ..RequestRules::from(&entry())
    };
    let cmd = SubmitCommand {
        permission_set: set("admin"),
        ..submit(
            "alice@example.com",
            Requested::Duration(seconds(9 * 3600)),
            "",
        )
    };
    let alice = email("alice@example.com");
    let fields: Vec<_> = submit_problems(&strict, &alice, &cmd, t0())
        .iter()
        .map(|e| e.field().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        fields,
        [
            "permission_set",
            "approver_id",
            "duration_seconds",
            "message"
        ]
    );
    let first = check_submit(&strict, &alice, &cmd, t0()).unwrap_err();
    assert_eq!(first.field(), Some("permission_set"));
    assert_eq!(
        first.message(),
        "this entry does not offer that permission set"
    );
}

#[test]
fn only_the_named_approver_decides_and_never_their_own_request() {
    let r = pending(hour());
    assert!(may_decide(&caller("bob"), &r).is_ok());
    for who in ["alice", "dave", "carol"] {
        assert!(
            matches!(may_decide(&caller(who), &r), Err(Error::Forbidden(_))),
            "{who}"
        );
    }
    let own = AccessRequest {
        approver: email("alice@example.com"),
        ..r
    };
    assert!(may_decide(&caller("alice"), &own).is_err());
}

#[test]
fn a_request_is_seen_by_its_people_and_admins() {
    let r = granted(0, 60);
    for who in ["alice", "bob", "carol"] {
        assert!(may_view(&caller(who), &r).is_ok(), "{who}");
    }
    assert!(may_view(&caller("dave"), &r).is_err());
    assert!(may_see_grant(&caller("alice"), &r));
    assert!(may_see_grant(&caller("carol"), &r));
    assert!(
        !may_see_grant(&caller("bob"), &r),
        "access now is not a report"
    );
    assert_eq!(
        report_scope(&caller("alice"), ReportScope::Mine).unwrap(),
        Scope::RequestedBy(email("alice@example.com"))
    );
    assert!(report_scope(&caller("alice"), ReportScope::All).is_err());
    assert_eq!(
        report_scope(&caller("carol"), ReportScope::All).unwrap(),
        Scope::All
    );
}

/// What `cancel_op` answers, in short: the op, or the error's kind.
fn cancel_outcome(who: &str, r: &AccessRequest, reason: &str) -> &'static str {
    let reason = Message::parse(reason, "reason").unwrap();
    match cancel_op(&caller(who), r, t0(), reason) {
        Ok((Op::Cancel { .. }, _)) => "cancel",
        Ok((Op::Revoke { .. }, _)) => "revoke",
        Ok(_) => "other",
        Err(Error::Forbidden(_)) => "forbidden",
        Err(Error::Invalid { .. }) => "invalid",
        Err(Error::Conflict { .. }) => "conflict",
        Err(_) => "error",
    }
}

#[test]
fn cancel_follows_the_status_and_the_callers_role() {
    let denied = pending(hour())
        .apply(
            Op::Deny {
                by: email("bob@example.com"),
                comment: Message::default(),
            },
            t0(),
        )
        .unwrap()
        .next;
    let cases = [
        (
            pending(hour()),
            [
                ("alice", "", "cancel"),
                ("carol", "", "cancel"),
                ("bob", "because", "forbidden"),
                ("dave", "because", "forbidden"),
            ],
        ),
        (
            granted(0, 60),
            [
                ("alice", "", "revoke"),
                ("carol", "", "invalid"),
                ("bob", "incident", "revoke"),
                ("dave", "incident", "forbidden"),
            ],
        ),
        (
            granted(30, 60),
            [
                ("alice", "", "revoke"),
                ("bob", "", "invalid"),
                ("carol", "incident", "revoke"),
                ("dave", "", "forbidden"),
            ],
        ),
        (
            denied,
            [
                ("alice", "", "conflict"),
                ("bob", "x", "conflict"),
                ("carol", "x", "conflict"),
                ("dave", "", "forbidden"),
            ],
        ),
    ];
    for (r, rows) in cases {
        for (who, reason, expected) in rows {
            assert_eq!(
                cancel_outcome(who, &r, reason),
                expected,
                "{who} on a {} request",
                r.status(t0())
            );
        }
    }
    // Who is told: the approver of a cancellation; of a grant ended early, the
    // requester and its approver, except whoever ended it.
    let told = |who: &str, r: &AccessRequest| {
        let reason = Message::parse("why", "reason").unwrap();
        cancel_op(&caller(who), r, t0(), reason).unwrap().1
    };
    assert_eq!(told("alice", &pending(hour())), [email("bob@example.com")]);
    assert_eq!(told("bob", &granted(0, 60)), [email("alice@example.com")]);
    assert_eq!(told("alice", &granted(0, 60)), [email("bob@example.com")]);
    assert_eq!(
        told("carol", &granted(0, 60)),
        [email("alice@example.com"), email("bob@example.com")]
    );
}

#[test]
fn what_a_cancel_call_does_depends_on_role_and_status() {
    let requester = Roles {
        requester: true,
        ..Roles::default()
    };
    let approver = Roles {
        approver: true,
        ..Roles::default()
    };
    let admin = Roles {
        admin: true,
        ..Roles::default()
    };
    let pending = Status::Pending;
    assert_eq!(ending(requester, pending).unwrap(), Some(Ending::Cancel));
    assert_eq!(ending(admin, pending).unwrap(), Some(Ending::Cancel));
    assert!(ending(approver, pending).is_err());
    for live in [Status::Scheduled, Status::Active] {
        assert_eq!(ending(requester, live).unwrap(), Some(Ending::EndOwn));
        assert_eq!(ending(approver, live).unwrap(), Some(Ending::Revoke));
        assert_eq!(ending(admin, live).unwrap(), Some(Ending::Revoke));
    }
    for over in [
        Status::Ended,
        Status::Denied,
        Status::Revoked,
        Status::Expired,
    ] {
        assert_eq!(ending(requester, over).unwrap(), None);
    }
    for status in Status::ALL {
        assert!(ending(Roles::default(), status).is_err(), "{status}");
    }
}

#[test]
fn access_now_prefers_active_then_scheduled_then_pending() {
    let prod_db = EntryId::parse("prod-db").unwrap();
    let waiting = pending(hour());
    let later = AccessRequest {
        id: RequestId::new(t0(), 2),
        ..granted(30, 90)
    };
    let running = AccessRequest {
        id: RequestId::new(t0(), 3),
        ..granted(0, 60)
    };
    assert_eq!(my_access(&[], &prod_db, t0()).status, None);
    let access = my_access(std::slice::from_ref(&waiting), &prod_db, t0());
    assert_eq!(
        (access.status, access.until),
        (Some(Status::Pending), Some(waiting.expires_at))
    );
    let all = [waiting.clone(), later.clone(), running.clone()];
    let access = my_access(&all, &prod_db, t0());
    assert_eq!(access.status, Some(Status::Active));
    assert_eq!(access.request_id, Some(running.id));
    let access = my_access(&[waiting, later.clone()], &prod_db, t0());
    assert_eq!(access.status, Some(Status::Scheduled));
    assert_eq!(access.until, Some(t0() + TimeDelta::minutes(90)));
    let other = EntryId::parse("web-admin").unwrap();
    assert_eq!(my_access(&all, &other, t0()).status, None);
}

#[test]
fn a_password_needs_an_active_grant_with_that_right() {
    let e = entry();
    let active = granted(0, 60);
    assert_eq!(
        password_grant(&e, std::slice::from_ref(&active), t0())
            .unwrap()
            .id,
        active.id
    );
    assert!(password_grant(&e, &[pending(hour())], t0()).is_err());
    assert!(
        password_grant(&e, &[granted(30, 60)], t0()).is_err(),
        "not yet"
    );
    let later = t0() + TimeDelta::minutes(60);
    assert!(
        password_grant(&e, std::slice::from_ref(&active), later).is_err(),
        "over"
    );
    let mut narrowed = active;
    if let Some(g) = narrowed.grant.as_mut() {
        g.permission_set = set("execute");
    }
    assert!(password_grant(&e, &[narrowed], t0()).is_err());
}

#[test]
fn approvals_may_narrow_but_never_widen() {
    let r = pending(hour());
    let sets = entry().permission_sets;
    let grant = |r: &AccessRequest, n: &Narrowing, at| {
        grant_for(r.requested, &r.permission_set, Some(&sets), n, at)
    };
    let at = t0() + TimeDelta::minutes(1);
    let shorter = Narrowing {
        duration: Some(AccessDuration::from_seconds(600, "d").unwrap()),
        ..Narrowing::default()
    };
    let g = grant(&r, &shorter, at).unwrap();
    assert_eq!(g.ends_at - g.starts_at, TimeDelta::minutes(10));

    let longer = Narrowing {
        duration: Some(AccessDuration::from_seconds(7200, "d").unwrap()),
        ..Narrowing::default()
    };
    assert_eq!(
        grant(&r, &longer, at).unwrap_err().field(),
        Some("duration_seconds")
    );

    let narrower_set = Narrowing {
        permission_set: Some(PermissionSetId::parse("execute").unwrap()),
        ..Narrowing::default()
    };
    assert_eq!(
        grant(&r, &narrower_set, at)
            .unwrap()
            .permission_set
            .as_str(),
        "execute"
    );
    let other_set = Narrowing {
        permission_set: Some(PermissionSetId::parse("edit").unwrap()),
        ..Narrowing::default()
    };
    assert_eq!(
        grant(&r, &other_set, at).unwrap_err().field(),
        Some("permission_set")
    );

    let frame = TimeFrame::new(t0() + TimeDelta::hours(1), t0() + TimeDelta::hours(3)).unwrap();
    let windowed = pending(Requested::Window(frame));
    let inside = Narrowing {
        window: Some(
            TimeFrame::new(t0() + TimeDelta::hours(2), t0() + TimeDelta::hours(3)).unwrap(),
        ),
        ..Narrowing::default()
    };
    assert_eq!(
        grant(&windowed, &inside, at).unwrap().starts_at,
        t0() + TimeDelta::hours(2)
    );
    let outside = Narrowing {
        window: Some(TimeFrame::new(t0(), t0() + TimeDelta::hours(3)).unwrap()),
        ..Narrowing::default()
    };
    assert_eq!(
        grant(&windowed, &outside, at).unwrap_err().field(),
        Some("window")
    );
    let late = t0() + TimeDelta::hours(4);
    assert_eq!(
        grant(&windowed, &Narrowing::default(), late)
            .unwrap_err()
            .field(),
        Some("window.end")
    );
}

/// A request as asked: a duration, or a time frame around `t0`.
fn asked() -> impl Strategy<Value = Requested> {
    prop_oneof![
        (60i64..86_400).prop_map(|s| Requested::Duration(seconds(s))),
        (-600i64..600, 1i64..1440)
            .prop_map(|(start, len)| { Requested::Window(frame(start, start + len)) }),
    ]
}

/// An approval: as asked, or with any duration, time frame or set, wider or not.
fn narrowing() -> impl Strategy<Value = Narrowing> {
    let sets = prop_oneof![
        Just(None),
        Just(Some(PermissionSetId::view_password_execute())),
        Just(Some(set("execute"))),
        Just(Some(set("edit"))),
        Just(Some(set("unknown"))),
    ];
    (
        proptest::option::of(60i64..100_000),
        proptest::option::of((-600i64..600, 1i64..1440)),
        sets,
    )
        .prop_map(|(duration, window, permission_set)| Narrowing {
            duration: duration.map(seconds),
            window: window.map(|(start, len)| frame(start, start + len)),
            permission_set,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the approver asks for, a grant starts no earlier than now, ends after
    /// it, lasts no longer than asked, stays within an asked time frame and gives no
    /// right that was not asked for.
    #[test]
    fn a_grant_is_never_wider_than_the_request(
        requested in asked(),
        n in narrowing(),
        wait in 0i64..1200,
    ) {
        let now = t0() + TimeDelta::minutes(wait);
        let r = pending(requested);
        let e = entry();
        if let Ok(g) = grant_for(r.requested, &r.permission_set, Some(&e.permission_sets), &n, now) {
            prop_assert!(g.starts_at >= now && g.ends_at > now);
            prop_assert!(g.ends_at - g.starts_at <= requested.length());
            if let Requested::Window(w) = requested {
                prop_assert!(w.start() <= g.starts_at && g.ends_at <= w.end());
            }
            let asked = set_named(&e.permission_sets, &r.permission_set).unwrap();
            let given = set_named(&e.permission_sets, &g.permission_set).unwrap();
            prop_assert!(given.is_within(&asked));
        }
    }

    /// An approval as asked of a request for a duration gives exactly that duration.
    #[test]
    fn as_asked_is_as_asked(secs in 60i64..86_400, wait in 0i64..10_000) {
        let now = t0() + TimeDelta::seconds(wait);
        let g = grant_for(
            Requested::Duration(seconds(secs)),
            &PermissionSetId::view_password_execute(),
            Some(&entry().permission_sets),
            &Narrowing::default(),
            now,
        ).unwrap();
        prop_assert_eq!((g.starts_at, g.ends_at - g.starts_at), (now, TimeDelta::seconds(secs)));
    }

    /// A duration is accepted exactly when it is within the entry's maximum.
    #[test]
    fn a_duration_fits_exactly_up_to_the_maximum(secs in 60i64..(16 * 3600)) {
        let cmd = submit("bob@example.com", Requested::Duration(seconds(secs)), "");
        let fits = secs <= entry().max_duration.seconds();
        prop_assert_eq!(submit_problem(&entry(), &cmd).is_none(), fits);
    }

    /// Nobody decides their own request, and only the named approver decides.
    #[test]
    fn deciders_are_the_named_approver_only(
        requester in 0usize..4,
        approver in 0usize..4,
        who in 0usize..4,
    ) {
        let people = ["alice", "bob", "carol", "dave"];
        let r = AccessRequest {
            requester: email(&format!("{}@example.com", people[requester])),
            approver: email(&format!("{}@example.com", people[approver])),
            ..pending(hour())
        };
        let allowed = may_decide(&caller(people[who]), &r).is_ok();
        prop_assert_eq!(allowed, who == approver && who != requester);
    }

    /// Whatever the status, a person who is neither requester, approver nor admin may
    /// not cancel, end or revoke.
    #[test]
    fn strangers_never_cancel(wait in 0i64..100_000, starts in 0i64..120) {
        let now = t0() + TimeDelta::minutes(wait);
        for r in [pending(hour()), granted(starts, starts + 60)] {
            let reason = Message::parse("because", "reason").unwrap();
            let refused = matches!(
                cancel_op(&caller("dave"), &r, now, reason),
                Err(Error::Forbidden(_))
            );
            prop_assert!(refused);
        }
    }
}
