//! The whole workflow over HTTP against the embedded default: request, mail, decision
//! link, grant, reveal, cancel, end on time, restart, races, idempotent submit.

use serde_json::{Value, json};
use tempaccess_tests::app::{
    ALICE, BILLING_API_KEY, BOB, DAVE, PROD_DB, TestApp, VIEW_PASSWORD_EXECUTE, items, parse_time,
    prod_db_request, str_field, user_id,
};

/// Asserts that `expected` appear in `kinds` in this order (other kinds may sit between).
fn assert_in_order(kinds: &[String], expected: &[&str]) {
    let mut rest = kinds.iter();
    for want in expected {
        assert!(
            rest.any(|k| k == want),
            "expected events {expected:?} in this order, got {kinds:?}"
        );
    }
}

#[tokio::test]
async fn request_approve_by_link_reveal_cancel_and_report() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;

    let me = app.get("/v1/me", &alice).await.expect_json(200);
    assert_eq!(me["id"], ALICE, "{me}");
    assert_eq!(me["email"], ALICE, "{me}");

    let prod_db = app.entry(&alice, PROD_DB).await;
    let entry_name = str_field(&prod_db, "name");
    assert_eq!(prod_db["my_access"]["status"], "none", "{prod_db}");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);

    // Request.
    let (created, link) = app
        .submit_and_get_link(
            &alice,
            &prod_db_request(3600, "Deploy the hotfix for INC-42"),
        )
        .await;
    let id = str_field(&created, "id");
    assert_eq!(created["status"], "pending", "{created}");
    assert_eq!(created["entry_id"], PROD_DB, "{created}");
    assert_eq!(user_id(&created["requester"]), ALICE, "{created}");
    assert_eq!(user_id(&created["approver"]), BOB, "{created}");
    assert_eq!(
        created["permission_set"], VIEW_PASSWORD_EXECUTE,
        "{created}"
    );
    assert_eq!(created["requested"]["duration_seconds"], 3600, "{created}");
    assert_eq!(
        created["message"], "Deploy the hotfix for INC-42",
        "{created}"
    );
    let prod_db = app.entry(&alice, PROD_DB).await;
    assert_eq!(prod_db["my_access"]["status"], "pending", "{prod_db}");
    assert_eq!(prod_db["my_access"]["request_id"], id.as_str(), "{prod_db}");

    // The approver's mail.
    let to_bob = app.wait_for_mail_to(BOB, 1).await;
    assert_eq!(to_bob.len(), 1, "one mail to the approver: {to_bob:?}");
    let mail = &to_bob[0];
    assert_eq!(link.len(), 43, "a 256-bit base64url token: {link}");
    assert!(
        mail.text
            .contains(&format!("{}/decide#token={link}", app.base_url)),
        "the mail links to the decision page: {}",
        mail.text
    );
    assert!(
        mail.text.contains(&entry_name),
        "the mail names the entry: {}",
        mail.text
    );
    assert!(
        mail.text.contains("Deploy the hotfix for INC-42"),
        "the mail holds the message: {}",
        mail.text
    );
    assert!(
        mail.text.contains(ALICE) || mail.text.contains(&str_field(&me, "name")),
        "the mail names the requester: {}",
        mail.text
    );

    // Opening the link changes nothing.
    let looked = app.lookup(&link).await.expect_json(200);
    assert_eq!(looked["decidable"], true, "{looked}");
    assert_eq!(looked["request"]["id"], id.as_str(), "{looked}");
    assert_eq!(app.status_of(&alice, &id).await, "pending");

    // Approve by link.
    let approved = app
        .decide_by_link(
            Some(&bob),
            &link,
            &json!({ "decision": "approve", "comment": "Go ahead" }),
        )
        .await
        .expect_json(200);
    assert_eq!(approved["status"], "active", "{approved}");
    assert_eq!(user_id(&approved["decided_by"]), BOB, "{approved}");
    assert_eq!(approved["decision_comment"], "Go ahead", "{approved}");
    let starts = parse_time(&approved["starts_at"]);
    let ends = parse_time(&approved["ends_at"]);
    assert_eq!((ends - starts).num_seconds(), 3600, "{approved}");
    let to_alice = app.wait_for_mail_to(ALICE, 1).await;
    assert!(
        to_alice[0].mentions(&entry_name),
        "approval mail: {:?}",
        to_alice[0]
    );

    let prod_db = app.entry(&alice, PROD_DB).await;
    assert_eq!(prod_db["my_access"]["status"], "active", "{prod_db}");
    assert_eq!(
        parse_time(&prod_db["my_access"]["until"]),
        ends,
        "{prod_db}"
    );

    // The secret, while granted, to the grantee only.
    let secret = app.secret(&alice, PROD_DB).await.expect_json(200);
    assert!(
        secret["username"].as_str().is_some_and(|s| !s.is_empty())
            && secret["password"].as_str().is_some_and(|s| !s.is_empty()),
        "{secret}"
    );
    app.secret(&bob, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);

    // Access now.
    for token in [&alice, &carol] {
        let access = app.get("/v1/access", token).await.expect_json(200);
        assert!(
            items(&access).iter().any(|r| r["id"] == id.as_str()),
            "{access}"
        );
    }

    // The requester ends the access early.
    let ended = app.cancel(&alice, &id, &json!({})).await.expect_json(200);
    assert_eq!(ended["status"], "revoked", "{ended}");
    assert_eq!(user_id(&ended["revoked_by"]), ALICE, "{ended}");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);
    let access = app.get("/v1/access", &carol).await.expect_json(200);
    assert!(
        !items(&access).iter().any(|r| r["id"] == id.as_str()),
        "{access}"
    );
    let prod_db = app.entry(&alice, PROD_DB).await;
    assert_eq!(prod_db["my_access"]["status"], "none", "{prod_db}");

    // Reports: mine, the approver's, all.
    for (token, scope) in [(&alice, "mine"), (&bob, "approvals"), (&carol, "all")] {
        let list = app
            .get(&format!("/v1/requests?scope={scope}"), token)
            .await
            .expect_json(200);
        let row = items(&list)
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("scope={scope} lacks {id}: {list}"));
        assert_eq!(row["status"], "revoked", "{row}");
    }

    // CSV export.
    let csv = app
        .send(
            "GET /v1/requests?scope=mine (CSV)",
            app.request(
                reqwest::Method::GET,
                "/v1/requests?scope=mine",
                Some(&alice),
            )
            .header("accept", "text/csv"),
        )
        .await
        .expect(200);
    assert!(
        csv.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{csv:?}"
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            "status,requested_by,entry,rights,requested_on,requested_start,requested_end,\
             requested_duration,authorized_duration,approver,request_message,authorization_message,\
             decided_at,decided_by,granted_start,granted_end,ended_early_at,ended_early_by,id"
        ),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "one row for one request: {csv}");
    assert!(lines[1].starts_with("revoked,"), "{csv}");
    assert!(
        lines[1].contains(",View password/Execute rights,"),
        "rights by name: {csv}"
    );
    assert!(lines[1].ends_with(&format!(",{id}")), "{csv}");
    assert!(lines[1].contains("Deploy the hotfix for INC-42"), "{csv}");
    assert!(lines[1].contains("Go ahead"), "{csv}");

    // Timeline.
    let kinds = app.event_kinds(&carol, &id).await;
    assert_in_order(
        &kinds,
        &["requested", "notified", "viewed", "approved", "revoked"],
    );
    assert!(kinds.iter().any(|k| k == "password_revealed"), "{kinds:?}");
    let detail = app.request_detail(&alice, &id).await;
    for event in detail["events"].as_array().expect("events") {
        parse_time(&event["at"]);
        assert!(
            !event["actor"].is_null(),
            "every event has an actor: {event}"
        );
    }

    // The decision token rode in the mail and in request bodies only: never in a log.
    let log = app.server_log();
    assert!(
        log.contains("/v1/decisions"),
        "the server logs requests: {log}"
    );
    assert!(
        !log.contains(&link),
        "the decision token leaked into the log"
    );
}

#[tokio::test]
async fn deny_tells_the_requester_why() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "Need to look at a table"))
        .await;
    let id = str_field(&created, "id");

    let denied = app
        .decide_by_link(
            Some(&bob),
            &link,
            &json!({ "decision": "deny", "comment": "Not during the release freeze" }),
        )
        .await
        .expect_json(200);
    assert_eq!(denied["status"], "denied", "{denied}");
    assert_eq!(
        denied["decision_comment"], "Not during the release freeze",
        "{denied}"
    );
    assert!(
        denied["starts_at"].is_null() && denied["ends_at"].is_null(),
        "{denied}"
    );

    let mails = app.wait_for_mail_to(ALICE, 1).await;
    assert!(
        mails[0].text.contains("Not during the release freeze"),
        "the deny mail carries the comment: {:?}",
        mails[0]
    );
    assert_eq!(app.status_of(&alice, &id).await, "denied");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);

    // The link is spent.
    let looked = app.lookup(&link).await.expect_json(200);
    assert_eq!(looked["decidable"], false, "{looked}");
    let again = app
        .decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await;
    again.expect_conflict("denied");
    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "denied").count(),
        1,
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| k == "approved"), "{kinds:?}");
}

#[tokio::test]
async fn cancelling_a_pending_request_tells_the_approver() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "Maybe later"))
        .await;
    let id = str_field(&created, "id");
    assert_eq!(app.mail_to(BOB).await.len(), 1);

    let cancelled = app
        .cancel(&alice, &id, &json!({ "reason": "Not needed any more" }))
        .await
        .expect_json(200);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(!cancelled["cancelled_at"].is_null(), "{cancelled}");

    let to_bob = app.wait_for_mail_to(BOB, 2).await;
    assert!(
        to_bob[1].mentions("cancel"),
        "the approver is told: {:?}",
        to_bob[1]
    );

    app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await
        .expect_conflict("cancelled");
    app.cancel(&alice, &id, &json!({}))
        .await
        .expect_conflict("cancelled");
    let kinds = app.event_kinds(&alice, &id).await;
    assert!(kinds.iter().any(|k| k == "cancelled"), "{kinds:?}");
}

#[tokio::test]
async fn a_one_minute_grant_ends_on_time() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(60, "Quick look"))
        .await;
    let id = str_field(&created, "id");
    app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    let mails_before = app.wait_for_mail_to(ALICE, 1).await.len();
    app.secret(&alice, PROD_DB).await.expect(200);

    // Not before its end...
    app.advance_clock(30).await;
    assert_eq!(app.status_of(&alice, &id).await, "active");
    app.secret(&alice, PROD_DB).await.expect(200);

    // ...and not after.
    app.advance_clock(31).await;
    assert_eq!(app.status_of(&alice, &id).await, "ended");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);
    let kinds = app.event_kinds(&alice, &id).await;
    assert_in_order(&kinds, &["approved", "ended"]);
    let mails = app.wait_for_mail_to(ALICE, mails_before + 1).await;
    assert!(
        mails[mails_before..].iter().any(|m| m.mentions("ended")),
        "an ended notice: {:?}",
        &mails[mails_before..]
    );
    let access = app.get("/v1/access", &alice).await.expect_json(200);
    assert!(items(&access).is_empty(), "{access}");
}

#[tokio::test]
async fn a_grant_survives_a_restart_and_still_ends() {
    let mut app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(600, "Across a restart"))
        .await;
    let id = str_field(&created, "id");
    app.decide_by_link(Some(&bob), &link, &json!({ "decision": "approve" }))
        .await
        .expect(200);
    let clock_before = app.advance_clock(60).await;

    let old_url = app.base_url.clone();
    app.restart().await;
    assert!(
        app.base_url.starts_with("http://127.0.0.1:"),
        "{old_url} → {}",
        app.base_url
    );

    let now = app.now().await;
    assert!(
        now >= clock_before,
        "the test clock persists: {clock_before} → {now}"
    );
    let alice = app.login("alice").await;
    assert_eq!(app.status_of(&alice, &id).await, "active");
    app.secret(&alice, PROD_DB).await.expect(200);

    app.advance_clock(541).await;
    assert_eq!(app.status_of(&alice, &id).await, "ended");
    app.secret(&alice, PROD_DB)
        .await
        .expect_error(403, "forbidden", None);
    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "ended").count(),
        1,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn concurrent_decisions_on_one_link_have_one_winner() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "Race me"))
        .await;
    let id = str_field(&created, "id");
    let bob = app.login("bob").await;

    let mut racers = tokio::task::JoinSet::new();
    for i in 0..10 {
        let client = app.client.clone();
        let url = app.url("/v1/decisions");
        let decision = if i % 2 == 0 { "approve" } else { "deny" };
        let body = json!({ "token": link, "decision": decision, "comment": format!("racer {i}") });
        let bob = bob.clone();
        racers.spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(bob)
                .json(&body)
                .send()
                .await
                .expect("send");
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("a JSON reply");
            (status, body)
        });
    }
    let replies = racers.join_all().await;

    let winners: Vec<&Value> = replies
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one decision wins: {replies:?}");
    // `current` names the status the losers ran into, read at the time they lost.
    let current: &[&str] = match winners[0]["status"].as_str() {
        Some("active") => &["active"],
        Some("denied") => &["denied"],
        other => panic!("unexpected winning status {other:?}: {}", winners[0]),
    };
    for (status, body) in replies.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "losers get a conflict: {body}");
        assert_eq!(body["error"]["code"], "conflict", "{body}");
        assert!(
            body["error"]["current"]
                .as_str()
                .is_some_and(|c| current.contains(&c)),
            "current is one of {current:?}: {body}"
        );
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        assert!(
            message.contains("bob"),
            "the conflict names who decided: {body}"
        );
    }

    let kinds = app.event_kinds(&alice, &id).await;
    let decisions = kinds
        .iter()
        .filter(|k| *k == "approved" || *k == "denied")
        .count();
    assert_eq!(decisions, 1, "one decision recorded: {kinds:?}");
}

#[tokio::test]
async fn a_repeated_submit_with_the_same_key_creates_one_request() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let body = prod_db_request(3600, "Submitted twice");

    let first = app.submit_request_with_key(&alice, "key-1", &body).await;
    let first = first.expect_json(201);
    let second = app.submit_request_with_key(&alice, "key-1", &body).await;
    assert!(
        matches!(second.status.as_u16(), 200 | 201),
        "a repeat answers like the first: {second}"
    );
    assert_eq!(second.json()["id"], first["id"], "{second}");
    let id = str_field(&first, "id");

    assert_eq!(app.request_ids(&alice, "mine").await, vec![id.clone()]);

    // A later, different request is the barrier: once its mail is there, any mail of the
    // repeat would be too.
    let billing = app.entry(&alice, BILLING_API_KEY).await;
    app.submit_ok(
        &alice,
        &json!({
            "entry_id": BILLING_API_KEY,
            "permission_set": billing["permission_sets"][0]["id"],
            "approver_id": DAVE,
            "duration_seconds": 600,
            "message": "barrier",
        }),
    )
    .await;
    app.wait_for_mail_to(DAVE, 1).await;
    assert_eq!(
        app.mail_to(BOB).await.len(),
        1,
        "one approver mail for the repeated submit"
    );

    let kinds = app.event_kinds(&alice, &id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "requested").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "notified").count(),
        1,
        "{kinds:?}"
    );
}
