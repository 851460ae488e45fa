//! The seed workflow in headless Chromium against the stack: alice signs in through
//! the hosted UI (authorization code with PKCE), requests access; bob's mail is in the
//! emulator's SES, he opens its link and approves; alice reveals the password; carol
//! (in `admins`) revokes another grant and exports the report; the end-of-grant
//! schedule of a one-minute grant, approved before the browser starts, fires while the
//! browser works and the grant ends; the sweep runs on its own schedule.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta, Utc};
use fantoccini::Locator;
use reqwest::Method;
use serde_json::{Value, json};
use tempaccess_tests::app::{decision_tokens, items, parse_time, str_field};
use tempaccess_tests::aws_world::sent_mail_from;
use tempaccess_tests::browser::Browser;
use tempaccess_tests::stack::{
    Stack, alongside, browser_sign_in, browser_sign_in_here, browser_sign_out,
};

/// Polls `probe` every second for at most `limit`.
async fn within<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {limit:?} for {what}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn the_seed_workflow_runs_on_the_deployed_stack() {
    let stack = Stack::get();
    let alice_api = stack.sign_in("alice").await.id_token;
    let dave_api = stack.sign_in("dave").await.id_token;
    let carol_api = stack.sign_in("carol").await.id_token;

    // A grant as short as the rules allow (a minute), approved first, so that its end
    // schedule comes due while the browser part runs: carol asks dave.
    let short = stack
        .api(
            Method::POST,
            "/v1/requests",
            Some(&carol_api),
            Some(
                &json!({"entry_id": "payroll-rdp", "permission_set": "operator",
                         "approver_id": "dave@example.com", "duration_seconds": 60,
                         "message": "one minute"}),
            ),
        )
        .await
        .expect_json(201);
    let short_id = str_field(&short, "id");
    stack
        .api(
            Method::POST,
            &format!("/v1/requests/{short_id}/decision"),
            Some(&dave_api),
            Some(&json!({"decision": "approve", "comment": "a minute"})),
        )
        .await
        .expect(200);
    let short_detail = stack
        .api(
            Method::GET,
            &format!("/v1/requests/{short_id}"),
            Some(&carol_api),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(
        short_detail["request"]["status"], "active",
        "{short_detail}"
    );
    let short_ends_at = parse_time(&short_detail["request"]["ends_at"]);

    // The browser part calls the API beside the suite's other tests.
    let calling = alongside().await;

    // Another grant for carol to revoke later: alice asks dave, who approves.
    let billing = stack
        .api(
            Method::POST,
            "/v1/requests",
            Some(&alice_api),
            Some(
                &json!({"entry_id": "billing-api-key", "permission_set": "view-password-execute",
                         "approver_id": "dave@example.com", "duration_seconds": 900,
                         "message": "rotate the key"}),
            ),
        )
        .await
        .expect_json(201);
    let billing_id = str_field(&billing, "id");
    stack
        .api(
            Method::POST,
            &format!("/v1/requests/{billing_id}/decision"),
            Some(&dave_api),
            Some(&json!({"decision": "approve", "comment": "go"})),
        )
        .await
        .expect(200);

    let b = Browser::start(&stack.site_url(), "stack-workflow").await;

    // alice signs in through the hosted UI and asks for three minutes on prod-db.
    browser_sign_in(&b, "alice").await;
    b.wait_for(Locator::XPath("//h1[normalize-space(.)='Entries']"))
        .await;
    b.wait_for_text("Production database").await;
    b.screenshot("entries").await;
    b.wait_for(Locator::XPath(
        "//article[.//h2[normalize-space(.)='Production database']]//a[contains(., 'Request Temporary Access')]",
    ))
    .await
    .click()
    .await
    .expect("open the request form");
    b.click_button("Set custom time frame").await;
    let start = b.datetime("window-start").await;
    let start_local = NaiveDateTime::parse_from_str(&start, "%Y-%m-%dT%H:%M")
        .unwrap_or_else(|e| panic!("the form's start {start:?}: {e}"));
    let end = (start_local + TimeDelta::minutes(3))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    b.set_datetime("window-end", &end).await;
    b.type_into("message", "Hotfix on the deployed stack").await;
    b.click_button("Send request").await;
    b.wait_for_text("Request sent").await;
    b.screenshot("request-sent").await;
    let mine = stack
        .api(
            Method::GET,
            "/v1/requests?scope=mine",
            Some(&alice_api),
            None,
        )
        .await
        .expect_json(200);
    let request = items(&mine)
        .iter()
        .find(|r| r["message"] == "Hotfix on the deployed stack")
        .cloned()
        .expect("the request is listed");
    let id = str_field(&request, "id");
    browser_sign_out(&b).await;

    // bob's mail is in the emulator's SES, with a link to the site.
    let mail_from = stack.mail_from();
    let link = within("bob's mail", Duration::from_secs(30), || async {
        sent_mail_from(&mail_from)
            .await
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == "bob@example.com"))
            .filter(|m| m.body.contains("Hotfix on the deployed stack"))
            .find_map(|m| decision_tokens(&m.body).pop())
    })
    .await;
    let url = format!("{}/decide#token={link}", stack.site_url());
    assert!(
        stack.mail_page().await.contains(&url),
        "the stack's mail page lists the link to the site"
    );
    b.client.goto(&url).await.expect("open the decision link");
    // Signed out, the page shows the request and who must sign in to decide.
    b.wait_for_text("To decide, sign in as Bob Approver (bob@example.com)")
        .await;
    b.click_link("Sign in to decide").await;
    browser_sign_in_here(&b, "bob").await;
    b.wait_for_text("opening this page changed nothing").await;
    b.wait_for_text("Hotfix on the deployed stack").await;
    b.screenshot("decision-page").await;
    b.click_button("Approve").await;
    b.wait_for_text("Request approved").await;
    let detail = stack
        .api(
            Method::GET,
            &format!("/v1/requests/{id}"),
            Some(&alice_api),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(detail["request"]["status"], "active", "{detail}");
    assert_eq!(
        detail["request"]["decided_by"], "bob@example.com",
        "{detail}"
    );
    let ends_at = parse_time(&detail["request"]["ends_at"]);

    // alice reveals the password: the one Secrets Manager holds.
    browser_sign_out(&b).await;
    browser_sign_in(&b, "alice").await;
    b.wait_for(Locator::XPath(
        "//article[.//h2[normalize-space(.)='Production database']]//span[normalize-space(.)='Active']",
    ))
    .await;
    b.click_button("View password of Production database").await;
    let shown = b.css(".secret-password").await.text().await.unwrap();
    let secret = stack
        .aws(
            "secretsmanager",
            "GetSecretValue",
            &json!({"SecretId": format!("tempaccess/{}/prod-db", stack.output("TableName"))}),
        )
        .await;
    let stored: Value = serde_json::from_str(secret["SecretString"].as_str().unwrap()).unwrap();
    assert_eq!(shown, stored["password"].as_str().unwrap());
    b.screenshot("password-revealed").await;
    b.click_button("Hide password").await;
    browser_sign_out(&b).await;

    // carol, an admin, revokes alice's billing grant and exports the report.
    browser_sign_in(&b, "carol").await;
    b.click_link("Reports").await;
    b.wait_for_text("Temporary Access Requests Report").await;
    b.click_link("All requests").await;
    b.wait_for(Locator::Css(&format!("tr[data-request-id='{billing_id}']")))
        .await;
    b.click_button("Revoke Alice Requester's access to Billing API key")
        .await;
    b.type_into(&format!("end-{billing_id}-reason"), "Key rotation finished")
        .await;
    b.click_button("Revoke access").await;
    b.wait_for_text("Revoked Alice Requester's access to Billing API key.")
        .await;
    b.screenshot("revoked").await;
    let revoked = stack
        .api(
            Method::GET,
            &format!("/v1/requests/{billing_id}"),
            Some(&carol_api),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(revoked["request"]["status"], "revoked");
    assert_eq!(revoked["request"]["revoked_by"], "carol@example.com");
    b.click_button("Export CSV").await;
    b.wait_for_text("CSV exported").await;
    let csv = b.downloaded("temporary-access-requests.csv").await;
    assert!(csv.starts_with("status,requested_by,entry,rights"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("revoked,alice@example.com,Billing API key")),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.contains("Hotfix on the deployed stack")),
        "{csv}"
    );
    browser_sign_out(&b).await;
    b.close().await;
    drop(calling);

    // The short grant's end: its one-time schedule fires when due, the revoke function
    // ends the grant (the status reads "ended" from the clock already; the record
    // follows).
    let schedule = format!("tempaccess-end-{short_id}");
    let wait = (short_ends_at - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(60);
    let fired = within(&format!("{schedule} to fire"), wait, || async {
        stack.deliveries().await.into_iter().find(|d| {
            d["schedule"]
                .as_str()
                .is_some_and(|s| s.ends_with(&format!("/{schedule}")))
        })
    })
    .await;
    assert_eq!(fired["input"], json!({"grant_id": short_id}));
    assert!(
        parse_time(&fired["at"]) >= short_ends_at,
        "fired before the end: {fired}"
    );
    let trigger = format!("schedule {}", fired["schedule"].as_str().unwrap());
    let invocation = within(
        "the revoke function's run",
        Duration::from_secs(30),
        || async {
            stack
                .invocations()
                .await
                .into_iter()
                .find(|i| i["trigger"] == trigger.as_str())
        },
    )
    .await;
    assert_eq!(invocation["function"], "RevokeFunction");
    assert!(invocation["error"].is_null(), "{invocation}");
    let outcome = invocation["result"]["outcome"].as_str().unwrap_or_default();
    assert!(
        matches!(outcome, "ended" | "already_done"),
        "the delivery found the grant {outcome}: {invocation}"
    );
    let detail = stack
        .api(
            Method::GET,
            &format!("/v1/requests/{short_id}"),
            Some(&carol_api),
            None,
        )
        .await
        .expect_json(200);
    assert_eq!(detail["request"]["status"], "ended", "{detail}");
    assert!(
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "ended"),
        "the timeline records the end: {detail}"
    );
    // `ActionAfterCompletion: DELETE`: the schedule is gone once it fired.
    let group = fired["schedule"]
        .as_str()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let (gone, _) = get_schedule(stack, &group, &schedule).await;
    assert_eq!(
        gone, 404,
        "the fired schedule {group}/{schedule} still exists"
    );

    // The browser's grant ends with its time frame: its schedule waits for that end.
    let browsers = format!("tempaccess-end-{id}");
    let (status, pending) = get_schedule(stack, &group, &browsers).await;
    assert_eq!(status, 200, "{group}/{browsers}: {pending}");
    let at = pending["ScheduleExpression"].as_str().unwrap_or_default();
    assert_eq!(
        at,
        format!("at({})", ends_at.format("%Y-%m-%dT%H:%M:%S")),
        "{pending}"
    );
    let input: Value =
        serde_json::from_str(pending["Target"]["Input"].as_str().unwrap_or_default())
            .unwrap_or(Value::Null);
    assert_eq!(input, json!({"grant_id": id}), "{pending}");
}

/// A schedule as the emulator's EventBridge Scheduler returns it: the status and the
/// body.
async fn get_schedule(stack: &Stack, group: &str, name: &str) -> (u16, Value) {
    let reply = stack
        .http
        .get(format!("{}/schedules/{name}?groupName={group}", stack.moto_url()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let body = reply.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn the_sweep_runs_on_its_rate_schedule() {
    let stack = Stack::get();
    let swept = within("a sweep", Duration::from_secs(120), || async {
        stack
            .invocations()
            .await
            .into_iter()
            .find(|i| i["event"] == json!({"sweep": true}) && i["error"].is_null())
    })
    .await;
    assert_eq!(swept["function"], "RevokeFunction");
    for key in ["ended", "expired", "mails_sent", "mails_failed"] {
        assert!(swept["result"][key].is_number(), "{swept}");
    }
    let deliveries = stack.deliveries().await;
    assert!(
        deliveries
            .iter()
            .any(|d| d["input"] == json!({"sweep": true})
                && d["target"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(":function:tempaccess-revoke"))),
        "{deliveries:?}"
    );
}
