//! The report over HTTP: sorted by the server on every page, counted when asked, people
//! named by their display names, and access now with the grants still to come.

use chrono::TimeDelta;
use serde_json::json;
use tempaccess_tests::app::{
    ALICE, BOB, PAYROLL_RDP, PROD_DB, TestApp, VIEW_PASSWORD_EXECUTE, items, prod_db_request,
    rfc3339, str_field,
};

#[tokio::test]
async fn the_report_pages_oldest_first_counts_and_names_people() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let carol = app.login("carol").await;
    let dave = app.login("dave").await;
    // One pending request per entry and requester: five to bob from three people on
    // his two entries.
    let payroll = |n: usize| {
        json!({"entry_id": PAYROLL_RDP, "permission_set": VIEW_PASSWORD_EXECUTE,
               "approver_id": BOB, "duration_seconds": 3600, "message": format!("number {n}")})
    };
    let mut made = Vec::new();
    for (who, body) in [
        (&alice, prod_db_request(3600, "number 0")),
        (&alice, payroll(1)),
        (&carol, prod_db_request(3600, "number 2")),
        (&dave, prod_db_request(3600, "number 3")),
        (&carol, payroll(4)),
    ] {
        made.push(app.submit_ok(who, &body).await);
        // Distinct creation times, in the order made.
        app.advance_clock(1).await;
    }
    app.decide(&bob, &made[1], &json!({"decision": "deny"}))
        .await
        .expect(200);

    // Oldest first, two at a time, with the total on the first page.
    let mut seen = Vec::new();
    let mut path = "/v1/requests?scope=approvals&order=oldest&limit=2&count=true".to_owned();
    loop {
        let page = app.get(&path, &bob).await.expect_json(200);
        if seen.is_empty() {
            assert_eq!(page["total"], 5, "{page}");
        }
        seen.extend(items(&page).iter().map(|r| str_field(r, "id")));
        match page["next_cursor"].as_str() {
            Some(c) => {
                path = format!("/v1/requests?scope=approvals&order=oldest&limit=2&cursor={c}")
            }
            None => break,
        }
    }
    assert_eq!(seen, made);

    // Newest first is the default; no total unless asked.
    let page = app
        .get("/v1/requests?scope=approvals", &bob)
        .await
        .expect_json(200);
    assert_eq!(str_field(&items(&page)[0], "id"), made[4]);
    assert!(page.get("total").is_none(), "{page}");
    let pending = app
        .get(
            "/v1/requests?scope=approvals&status=pending&count=true&limit=1",
            &bob,
        )
        .await
        .expect_json(200);
    assert_eq!(pending["total"], 4, "{pending}");

    // People are named: requester, approver, who decided.
    let denied = &app.request_detail(&alice, &made[1]).await["request"];
    assert_eq!(denied["names"][ALICE], "Alice Requester", "{denied}");
    assert_eq!(denied["names"][BOB], "Bob Approver", "{denied}");

    // A cursor of one order is refused by the other; unknown orders are refused.
    let first = app
        .get("/v1/requests?scope=approvals&limit=1", &bob)
        .await
        .expect_json(200);
    let cursor = str_field(&first, "next_cursor");
    app.get(
        &format!("/v1/requests?scope=approvals&limit=1&order=oldest&cursor={cursor}"),
        &bob,
    )
    .await
    .expect_error(400, "invalid_input", Some("cursor"));
    app.get("/v1/requests?order=sideways", &bob)
        .await
        .expect(400);
}

#[tokio::test]
async fn access_now_lists_grants_to_come_when_asked() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let bob = app.login("bob").await;
    let now = app.now().await;
    let running = app
        .submit_ok(&alice, &prod_db_request(3600, "running"))
        .await;
    app.decide(&bob, &running, &json!({"decision": "approve"}))
        .await
        .expect(200);
    let later = app
        .submit_ok(
            &alice,
            &json!({
                "entry_id": PROD_DB,
                "permission_set": VIEW_PASSWORD_EXECUTE,
                "approver_id": BOB,
                "window": {
                    "start": rfc3339(now + TimeDelta::hours(2)),
                    "end": rfc3339(now + TimeDelta::hours(3)),
                },
                "message": "tomorrow's change",
            }),
        )
        .await;
    app.decide(&bob, &later, &json!({"decision": "approve"}))
        .await
        .expect(200);

    let ids = |list: &serde_json::Value| -> Vec<String> {
        items(list).iter().map(|r| str_field(r, "id")).collect()
    };
    let now_only = app.get("/v1/access", &alice).await.expect_json(200);
    assert_eq!(ids(&now_only), std::slice::from_ref(&running));
    let with_upcoming = app
        .get("/v1/access?upcoming=true", &alice)
        .await
        .expect_json(200);
    assert_eq!(ids(&with_upcoming), [running, later.clone()]);
    let scheduled = &items(&with_upcoming)[1];
    assert_eq!(scheduled["status"], "scheduled", "{scheduled}");
    assert_eq!(scheduled["names"][ALICE], "Alice Requester");
    app.get("/v1/access?upcoming=maybe", &alice)
        .await
        .expect(400);
}
