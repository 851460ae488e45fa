//! Races over HTTP against the real server (SQLite, and the AWS adapters on the
//! emulator with `TEMPACCESS_E2E_BACKEND=aws`): many callers on one request at once,
//! approval against withdrawal, early end against revocation against the end itself,
//! sweeps at once. Each time: exactly one outcome, losers told so (409 with the state
//! the winner left), a timeline that tells the same story, and no mail sent twice.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tempaccess_tests::app::{ALICE, BOB, TestApp, prod_db_request, str_field};
use tokio::sync::Barrier;

/// One call of a race: method, path, bearer token, JSON body.
type Call = (Method, String, Option<String>, Option<Value>);

/// Sends every call at once (they wait for each other at a barrier) and returns the
/// replies in the order of `calls`: status and JSON body.
async fn race(app: &TestApp, calls: Vec<Call>) -> Vec<(u16, Value)> {
    let starts = vec![0; calls.len()];
    race_staggered(app, calls, &starts).await
}

/// [`race`], each call leaving the barrier `starts[i]` milliseconds late: staggering
/// lets every order of arrival happen, on a fast store and on a slow one.
async fn race_staggered(app: &TestApp, calls: Vec<Call>, starts: &[u64]) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(calls.len()));
    let mut tasks = Vec::new();
    for ((method, path, token, body), start) in calls.into_iter().zip(starts.iter().copied()) {
        let mut builder = app.client.request(method, app.url(&path));
        if let Some(token) = token {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            tokio::time::sleep(Duration::from_millis(start)).await;
            let response = builder.send().await.expect("send");
            let status = response.status().as_u16();
            let text = response.text().await.expect("a body");
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, body)
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("a racer"));
    }
    replies
}

fn post(path: String, token: &str, body: Value) -> Call {
    (Method::POST, path, Some(token.to_owned()), Some(body))
}

/// Moves the server's clock (which sweeps and pokes the timer).
fn advance(seconds: i64) -> Call {
    (
        Method::POST,
        "/v1/dev/clock".to_owned(),
        None,
        Some(json!({ "advance_seconds": seconds })),
    )
}

/// The kinds of the request's timeline, as the admin reads it.
async fn timeline(app: &TestApp, carol: &str, id: &str) -> Vec<String> {
    app.event_kinds(carol, id).await
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

/// Mails to `to` whose subject starts with `subject`.
async fn mails(app: &TestApp, to: &str, subject: &str) -> usize {
    app.mail_to(to)
        .await
        .iter()
        .filter(|m| m.subject.starts_with(subject))
        .count()
}

async fn active_grant(app: &TestApp, alice: &str, bob: &str, seconds: i64) -> String {
    let id = app
        .submit_ok(alice, &prod_db_request(seconds, "race"))
        .await;
    app.decide(bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn twenty_four_concurrent_decisions_have_one_winner_one_event_one_mail() {
    const RACERS: usize = 24;
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "race me"))
        .await;
    let id = str_field(&created, "id");

    // Half by the signed-in page, half by the link; approvals and denials mixed.
    let calls = (0..RACERS)
        .map(|i| {
            let decision = if i % 2 == 0 { "approve" } else { "deny" };
            if i % 4 < 2 {
                post(
                    format!("/v1/requests/{id}/decision"),
                    &bob,
                    json!({ "decision": decision, "comment": format!("racer {i}") }),
                )
            } else {
                post(
                    "/v1/decisions".to_owned(),
                    &bob,
                    json!({ "token": link, "decision": decision, "comment": format!("racer {i}") }),
                )
            }
        })
        .collect();
    let replies = race(&app, calls).await;

    let winners: Vec<&Value> = replies
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one decision wins: {replies:?}");
    let status = str_field(winners[0], "status");
    assert!(["active", "denied"].contains(&status.as_str()), "{status}");
    for (code, body) in replies.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*code, 409, "losers get a conflict: {body}");
        assert_eq!(body["error"]["current"], status.as_str(), "{body}");
    }

    let kinds = timeline(&app, &carol, &id).await;
    assert_eq!(
        count(&kinds, "approved") + count(&kinds, "denied"),
        1,
        "one decision on the timeline: {kinds:?}"
    );
    assert_eq!(app.status_of(&carol, &id).await, status);
    let told = mails(&app, ALICE, "Approved:").await + mails(&app, ALICE, "Denied:").await;
    assert_eq!(told, 1, "the requester is told once");
}

#[tokio::test]
async fn approval_racing_withdrawal_tells_one_story_every_time() {
    const ROUNDS: usize = 12;
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let mut outcomes = Vec::new();
    for round in 0..ROUNDS {
        let id = app
            .submit_ok(&alice, &prod_db_request(3600, &format!("round {round}")))
            .await;
        // Either goes first, by 0 to 40 ms.
        let gap = [0, 2, 5, 10, 20, 40][round % 6];
        let starts = if round % 2 == 0 { [gap, 0] } else { [0, gap] };
        let replies = race_staggered(
            &app,
            vec![
                post(
                    format!("/v1/requests/{id}/decision"),
                    &bob,
                    json!({ "decision": "approve" }),
                ),
                post(format!("/v1/requests/{id}/cancel"), &alice, json!({})),
            ],
            &starts,
        )
        .await;
        let (approve, cancel) = (replies[0].0, replies[1].0);
        let kinds = timeline(&app, &carol, &id).await;
        let status = app.status_of(&carol, &id).await;
        // Three stories are possible, and each leaves its own trace: the withdrawal
        // first (the approval loses); the approval first and the withdrawal loses; or
        // the approval first and the withdrawal, seeing a grant, ends it.
        match (approve, cancel) {
            (409, 200) => {
                assert_eq!(status, "cancelled");
                assert_eq!(count(&kinds, "cancelled"), 1, "{kinds:?}");
                assert_eq!(count(&kinds, "approved"), 0, "{kinds:?}");
                assert_eq!(replies[0].1["error"]["current"], "cancelled");
            }
            (200, 409) => {
                assert_eq!(status, "active");
                assert_eq!(count(&kinds, "approved"), 1, "{kinds:?}");
                assert_eq!(count(&kinds, "cancelled") + count(&kinds, "revoked"), 0);
            }
            (200, 200) => {
                assert_eq!(status, "revoked", "ended early by its requester");
                assert_eq!(count(&kinds, "approved"), 1, "{kinds:?}");
                assert_eq!(count(&kinds, "revoked"), 1, "{kinds:?}");
                assert_eq!(count(&kinds, "cancelled"), 0, "{kinds:?}");
            }
            other => panic!("round {round}: an outcome no story explains: {other:?} {replies:?}"),
        }
        outcomes.push((approve, cancel));
        // Leave no grant open for the next round's checks.
        if status == "active" {
            app.cancel(&alice, &id, &json!({})).await.expect(200);
        }
    }
    eprintln!("approve/cancel outcomes (approve, cancel): {outcomes:?}");
    let approvals = outcomes.iter().filter(|(a, _)| *a == 200).count();
    let withdrawals = outcomes.iter().filter(|o| **o == (409, 200)).count();
    assert_eq!(
        mails(&app, ALICE, "Approved:").await,
        approvals,
        "one approval mail per approval: {outcomes:?}"
    );
    assert_eq!(
        mails(&app, BOB, "Cancelled:").await,
        withdrawals,
        "one withdrawal mail per withdrawal: {outcomes:?}"
    );
}

#[tokio::test]
async fn early_end_revocation_and_the_end_itself_end_each_grant_once() {
    const GRANTS: usize = 6;
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let mut ids = Vec::new();
    for _ in 0..GRANTS {
        ids.push(active_grant(&app, &alice, &bob, 60).await);
    }
    // For every grant its requester ends it and the admin revokes it, while the clock
    // reaches its end twice over (two sweeps, and the timer, at once); the grants' calls
    // spread over 0 to 75 ms around the clock's, so some come first and some after.
    let mut calls = vec![advance(60), advance(0)];
    let mut starts = vec![30, 30];
    for (i, id) in ids.iter().enumerate() {
        starts.extend([15 * i as u64, 15 * i as u64]);
        calls.push(post(format!("/v1/requests/{id}/cancel"), &alice, json!({})));
        calls.push(post(
            format!("/v1/requests/{id}/cancel"),
            &carol,
            json!({ "reason": "race" }),
        ));
    }
    let replies = race_staggered(&app, calls, &starts).await;
    assert!(replies[..2].iter().all(|(s, _)| *s == 200), "{replies:?}");

    let mut by_admin = 0;
    let mut by_end = 0;
    for (i, id) in ids.iter().enumerate() {
        let (own, revoke) = (&replies[2 + 2 * i], &replies[3 + 2 * i]);
        let kinds = app
            .eventually("the grant's end on its timeline", || async {
                let kinds = timeline(&app, &carol, id).await;
                (count(&kinds, "ended") + count(&kinds, "revoked") > 0).then_some(kinds)
            })
            .await;
        let ends = count(&kinds, "ended") + count(&kinds, "revoked");
        assert_eq!(ends, 1, "ended once: {kinds:?} {own:?} {revoke:?}");
        let wins = [own.0, revoke.0].iter().filter(|s| **s == 200).count();
        assert_eq!(
            wins,
            count(&kinds, "revoked"),
            "a caller wins exactly when the grant was ended early: {kinds:?}"
        );
        for (status, body) in [own, revoke] {
            assert!(*status == 200 || *status == 409, "{status} {body}");
        }
        let status = app.status_of(&carol, id).await;
        assert!(["revoked", "ended"].contains(&status.as_str()), "{status}");
        if revoke.0 == 200 {
            by_admin += 1;
        }
        if count(&kinds, "ended") == 1 {
            by_end += 1;
        }
        // The password is rotated once, whoever ended the grant.
        let rotated = app
            .eventually("the rotation", || async {
                let kinds = timeline(&app, &carol, id).await;
                (count(&kinds, "rotated") > 0).then_some(kinds)
            })
            .await;
        assert_eq!(count(&rotated, "rotated"), 1, "{rotated:?}");
    }
    eprintln!("{GRANTS} grants: {by_admin} revoked by the admin, {by_end} ended by the clock");
    assert_eq!(
        mails(&app, ALICE, "Access ended early:").await,
        by_admin,
        "told once per revocation"
    );
    assert_eq!(
        mails(&app, ALICE, "Access ended:").await,
        by_end,
        "told once per end"
    );
}

#[tokio::test]
async fn four_sweeps_at_once_end_each_overdue_grant_once() {
    const GRANTS: usize = 8;
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let mut ids = Vec::new();
    for _ in 0..GRANTS {
        ids.push(active_grant(&app, &alice, &bob, 60).await);
    }
    let replies = race(&app, vec![advance(61), advance(0), advance(0), advance(0)]).await;
    assert!(replies.iter().all(|(s, _)| *s == 200), "{replies:?}");
    for id in &ids {
        let kinds = app
            .eventually("the end and the rotation", || async {
                let kinds = timeline(&app, &carol, id).await;
                (count(&kinds, "ended") > 0 && count(&kinds, "rotated") > 0).then_some(kinds)
            })
            .await;
        assert_eq!(count(&kinds, "ended"), 1, "{kinds:?}");
        assert_eq!(count(&kinds, "rotated"), 1, "{kinds:?}");
        assert_eq!(app.status_of(&carol, id).await, "ended");
    }
    // Another pass finds nothing left to do.
    app.advance_clock(0).await;
    assert_eq!(mails(&app, ALICE, "Access ended:").await, GRANTS);
}
