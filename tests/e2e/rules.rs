//! The product's rules over HTTP: who may approve, narrowing on approval, custom time
//! frames, pending expiry, revocation, independent grants.

use chrono::{Duration, SubsecRound};
use serde_json::json;
use tempaccess_tests::app::{
    ALICE, BILLING_API_KEY, BOB, CAROL, PROD_DB, TestApp, VIEW_PASSWORD_EXECUTE, items, parse_time,
    payroll_request, prod_db_request, rfc3339, str_field, user_id,
};

#[tokio::test]
async fn an_approver_cannot_name_themself() {
    let app = TestApp::spawn().await;
    // bob approves prod-db, and may request it, but not from himself.
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let reply = app
        .submit_request(&bob, &prod_db_request(3600, "I approve my own access"))
        .await;
    reply.expect_error(422, "rejected", Some("approver_id"));
    assert!(app.request_ids(&carol, "all").await.is_empty());
    assert!(app.mailbox().await.is_empty());
}

#[tokio::test]
async fn only_the_named_approver_decides_when_signed_in() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let dave = app.login("dave").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "Please"))
        .await;

    for (who, token) in [("dave", &dave), ("carol", &carol), ("alice", &alice)] {
        let reply = app
            .decide(token, &id, &json!({ "decision": "approve" }))
            .await;
        assert_eq!(reply.status.as_u16(), 403, "{who} may not decide: {reply}");
        assert_eq!(reply.error_code().as_deref(), Some("forbidden"), "{reply}");
    }
    assert_eq!(app.status_of(&alice, &id).await, "pending");

    let approved = app
        .decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect_json(200);
    assert_eq!(approved["status"], "active", "{approved}");
    assert_eq!(user_id(&approved["decided_by"]), BOB, "{approved}");
}

#[tokio::test]
async fn the_approver_may_shorten_but_not_lengthen() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "An hour"))
        .await;

    let longer = app
        .decide(
            &bob,
            &id,
            &json!({ "decision": "approve", "duration_seconds": 7200 }),
        )
        .await;
    longer.expect_error(422, "rejected", Some("duration_seconds"));
    assert_eq!(app.status_of(&alice, &id).await, "pending");

    let shorter = app
        .decide(
            &bob,
            &id,
            &json!({ "decision": "approve", "duration_seconds": 900, "comment": "15 minutes is enough" }),
        )
        .await
        .expect_json(200);
    let granted = parse_time(&shorter["ends_at"]) - parse_time(&shorter["starts_at"]);
    assert_eq!(granted.num_seconds(), 900, "{shorter}");
    assert_eq!(
        shorter["requested"]["duration_seconds"], 3600,
        "the ask is kept: {shorter}"
    );
    assert_eq!(
        shorter["granted_permission_set"], VIEW_PASSWORD_EXECUTE,
        "{shorter}"
    );

    app.advance_clock(901).await;
    assert_eq!(app.status_of(&alice, &id).await, "ended");
}

#[tokio::test]
async fn a_custom_time_frame_is_scheduled_then_active_then_ended() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let now = app.now().await.trunc_subsecs(0);
    let start = now + Duration::hours(1);
    let end = now + Duration::hours(2);
    let id = app
        .submit_ok(
            &alice,
            &json!({
                "entry_id": PROD_DB,
                "permission_set": VIEW_PASSWORD_EXECUTE,
                "approver_id": BOB,
                "window": { "start": rfc3339(start), "end": rfc3339(end) },
                "message": "Maintenance window",
            }),
        )
        .await;

    let approved = app
        .decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect_json(200);
    assert_eq!(approved["status"], "scheduled", "{approved}");
    assert_eq!(parse_time(&approved["starts_at"]), start, "{approved}");
    assert_eq!(parse_time(&approved["ends_at"]), end, "{approved}");
    let entry = app.entry(&alice, PROD_DB).await;
    assert_eq!(entry["my_access"]["status"], "scheduled", "{entry}");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);

    app.advance_clock(3601).await;
    assert_eq!(app.status_of(&alice, &id).await, "active");
    app.secret(&alice, PROD_DB).await.expect(200);

    app.advance_clock(3600).await;
    assert_eq!(app.status_of(&alice, &id).await, "ended");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);
    let kinds = app.event_kinds(&alice, &id).await;
    for kind in ["approved", "ended"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn a_pending_request_expires_after_a_day() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "Nobody answers"))
        .await;
    let id = str_field(&created, "id");
    let expires = parse_time(&created["expires_at"]);
    assert_eq!(
        expires - parse_time(&created["created_at"]),
        Duration::hours(24),
        "{created}"
    );

    app.advance_clock(24 * 3600 - 60).await;
    assert_eq!(app.status_of(&alice, &id).await, "pending");

    app.advance_clock(61).await;
    assert_eq!(app.status_of(&alice, &id).await, "expired");
    // The link died with the request: it no longer answers at all.
    app.lookup(&link)
        .await
        .expect_error(404, "not_found", Some("token"));
    app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await
        .expect_error(404, "not_found", Some("token"));
    app.decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect_conflict("expired");
    let kinds = app.event_kinds(&alice, &id).await;
    assert!(kinds.iter().any(|k| k == "expired"), "{kinds:?}");
    let mails = app.wait_for_mail_to(ALICE, 1).await;
    assert!(mails.iter().any(|m| m.mentions("expired")), "{mails:?}");
}

#[tokio::test]
async fn the_approver_revokes_with_a_reason() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "Revoke me"))
        .await;
    app.decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    let mails_before = app.wait_for_mail_to(ALICE, 1).await.len();

    for body in [json!({}), json!({ "reason": "" })] {
        app.cancel(&bob, &id, &body)
            .await
            .expect_error(400, "invalid_input", Some("reason"));
    }
    assert_eq!(app.status_of(&alice, &id).await, "active");

    let revoked = app
        .cancel(&bob, &id, &json!({ "reason": "Incident closed" }))
        .await
        .expect_json(200);
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    assert_eq!(user_id(&revoked["revoked_by"]), BOB, "{revoked}");
    assert_eq!(revoked["revoke_reason"], "Incident closed", "{revoked}");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);
    let mails = app.wait_for_mail_to(ALICE, mails_before + 1).await;
    assert!(
        mails[mails_before..]
            .iter()
            .any(|m| m.mentions("Incident closed")),
        "the requester is told why: {:?}",
        &mails[mails_before..]
    );

    app.cancel(&bob, &id, &json!({ "reason": "again" }))
        .await
        .expect_conflict("revoked");
}

#[tokio::test]
async fn an_admin_revokes_any_grant() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "Admin will end it"))
        .await;
    app.decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect(200);

    let access = app.get("/v1/access", &carol).await.expect_json(200);
    assert!(
        items(&access).iter().any(|r| r["id"] == id.as_str()),
        "{access}"
    );

    let revoked = app
        .cancel(&carol, &id, &json!({ "reason": "Policy review" }))
        .await
        .expect_json(200);
    assert_eq!(revoked["status"], "revoked", "{revoked}");
    assert_eq!(user_id(&revoked["revoked_by"]), CAROL, "{revoked}");
    let access = app.get("/v1/access", &carol).await.expect_json(200);
    assert!(
        !items(&access).iter().any(|r| r["id"] == id.as_str()),
        "{access}"
    );
}

#[tokio::test]
async fn a_decided_request_cannot_be_cancelled() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "Will be denied"))
        .await;
    app.decide(&bob, &id, &json!({ "decision": "deny", "comment": "No" }))
        .await
        .expect(200);
    app.cancel(&alice, &id, &json!({}))
        .await
        .expect_conflict("denied");
    app.decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect_conflict("denied");
}

#[tokio::test]
async fn ending_one_grant_leaves_another_alone() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let dave = app.login("dave").await;
    let billing = app.entry(&alice, BILLING_API_KEY).await;

    let short = app.submit_ok(&alice, &prod_db_request(60, "Short")).await;
    let long = app
        .submit_ok(
            &alice,
            &json!({
                "entry_id": BILLING_API_KEY,
                "permission_set": billing["permission_sets"][0]["id"],
                "approver_id": "dave@example.com",
                "duration_seconds": 3600,
                "message": "Long",
            }),
        )
        .await;
    app.decide(&bob, &short, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    app.decide(&dave, &long, &json!({ "decision": "approve" }))
        .await
        .expect(200);

    app.advance_clock(61).await;
    assert_eq!(app.status_of(&alice, &short).await, "ended");
    assert_eq!(app.status_of(&alice, &long).await, "active");
    let access = app.get("/v1/access", &alice).await.expect_json(200);
    let ids: Vec<String> = items(&access).iter().map(|r| str_field(r, "id")).collect();
    assert_eq!(ids, vec![long.clone()], "{access}");
}

#[tokio::test]
async fn reports_filter_by_status_and_page_newest_first() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let mut ids = Vec::new();
    // One pending request per entry: the first is denied before the second is sent,
    // and the third goes to another entry.
    for (i, body) in [
        prod_db_request(3600, "request 0"),
        prod_db_request(3600, "request 1"),
        payroll_request(3600, "request 2"),
    ]
    .iter()
    .enumerate()
    {
        ids.push(app.submit_ok(&alice, body).await);
        if i == 0 {
            app.decide(&bob, &ids[0], &json!({ "decision": "deny" }))
                .await
                .expect(200);
        }
        app.advance_clock(60).await;
    }

    let denied = app
        .get("/v1/requests?scope=mine&status=denied", &alice)
        .await
        .expect_json(200);
    let denied: Vec<String> = items(&denied).iter().map(|r| str_field(r, "id")).collect();
    assert_eq!(denied, vec![ids[0].clone()]);

    // Newest first, two pages of two.
    let first = app
        .get("/v1/requests?scope=mine&limit=2", &alice)
        .await
        .expect_json(200);
    let page: Vec<String> = items(&first).iter().map(|r| str_field(r, "id")).collect();
    assert_eq!(page, vec![ids[2].clone(), ids[1].clone()], "{first}");
    let cursor = str_field(&first, "next_cursor");
    let next = app
        .request(reqwest::Method::GET, "/v1/requests", Some(&alice))
        .query(&[
            ("scope", "mine"),
            ("limit", "2"),
            ("cursor", cursor.as_str()),
        ]);
    let second = app
        .send("GET /v1/requests (second page)", next)
        .await
        .expect_json(200);
    let page: Vec<String> = items(&second).iter().map(|r| str_field(r, "id")).collect();
    assert_eq!(page, vec![ids[0].clone()], "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");

    let approvals = app
        .get("/v1/requests?scope=approvals&status=pending", &bob)
        .await
        .expect_json(200);
    assert_eq!(items(&approvals).len(), 2, "{approvals}");
}
