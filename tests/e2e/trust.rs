//! The promises that must hold against someone trying, over HTTP against the real
//! server: a decision is the approver's own, signed in; the timeline says who acted and
//! who looked; an old link tells nothing; limits hold; the embedded default answers only
//! its own address, only JSON, and keeps its files to itself.

use std::os::unix::fs::PermissionsExt;

use chrono::{Duration, SubsecRound};
use serde_json::{Value, json};
use tempaccess_tests::app::{
    BOB, CAROL, PAYROLL_RDP, PROD_DB, TestApp, VIEW_PASSWORD_EXECUTE, items, payroll_request,
    prod_db_request, rfc3339, str_field,
};

/// The timeline's events as (actor, kind).
async fn timeline(app: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let detail = app.request_detail(token, id).await;
    detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (str_field(e, "actor"), str_field(e, "kind")))
        .collect()
}

#[tokio::test]
async fn a_decision_link_decides_only_for_its_approver_signed_in() {
    let app = TestApp::spawn().await;
    let (alice, bob, dave) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("dave").await,
    );
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "mine to approve?"))
        .await;
    let id = str_field(&created, "id");
    let approve = json!({ "decision": "approve" });

    // The requester holding the approver's link (a forward, a shared mailbox).
    app.open_link(&alice, &link)
        .await
        .expect_error(403, "forbidden", None);
    app.decide_by_link(Some(&alice), &link, &approve)
        .await
        .expect_error(403, "forbidden", None);
    // Another approver of the product, signed in.
    app.open_link(&dave, &link)
        .await
        .expect_error(403, "forbidden", None);
    app.decide_by_link(Some(&dave), &link, &approve)
        .await
        .expect_error(403, "forbidden", None);
    // Nobody signed in: the page shows the request and asks for the approver.
    let page = app.lookup(&link).await.expect_json(200);
    assert_eq!(page["sign_in_required"], true, "{page}");
    let refused = app.decide_by_link(None, &link, &approve).await;
    refused.expect_error(401, "unauthenticated", None);
    assert!(
        refused.error_message().unwrap_or_default().contains(BOB),
        "the refusal names who must sign in: {refused}"
    );
    assert_eq!(
        app.status_of(&alice, &id).await,
        "pending",
        "nothing changed"
    );

    // bob, signed in, decides; the timeline says it was him.
    app.open_link(&bob, &link).await.expect(200);
    app.decide_by_link(Some(&bob), &link, &approve)
        .await
        .expect(200);
    let events = timeline(&app, &alice, &id).await;
    assert!(
        events.contains(&(BOB.to_owned(), "approved".to_owned())),
        "{events:?}"
    );
}

#[tokio::test]
async fn where_links_decide_alone_the_timeline_says_whose_link_it_was() {
    let app = TestApp::spawn_with_args(&["--link-decisions"]).await;
    let alice = app.login("alice").await;
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "approve from the mail"))
        .await;
    let id = str_field(&created, "id");
    let page = app.lookup(&link).await.expect_json(200);
    assert_eq!(page["sign_in_required"], false, "{page}");
    // Signed in as the requester, still refused: in every mode.
    app.decide_by_link(Some(&alice), &link, &json!({ "decision": "approve" }))
        .await
        .expect_error(403, "forbidden", None);
    let approved = app
        .decide_by_link(None, &link, &json!({ "decision": "approve" }))
        .await
        .expect_json(200);
    assert_eq!(
        approved["decided_by"], BOB,
        "the decision is the approver's"
    );
    let events = timeline(&app, &alice, &id).await;
    let link_of_bob = format!("link:{BOB}");
    assert!(
        events.contains(&(link_of_bob.clone(), "approved".to_owned())),
        "the timeline says it was someone with bob's link: {events:?}"
    );
    assert!(
        !events.contains(&(BOB.to_owned(), "approved".to_owned())),
        "and never that bob himself acted: {events:?}"
    );
}

#[tokio::test]
async fn the_timeline_names_who_looked_once_each() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "who looked?"))
        .await;
    let id = str_field(&created, "id");
    // A mail scanner, a reload, the approver twice, the requester (refused).
    for _ in 0..3 {
        app.lookup(&link).await.expect(200);
    }
    for _ in 0..2 {
        app.open_link(&bob, &link).await.expect(200);
    }
    app.open_link(&alice, &link).await.expect(403);
    let viewed: Vec<String> = timeline(&app, &alice, &id)
        .await
        .into_iter()
        .filter(|(_, kind)| kind == "viewed")
        .map(|(actor, _)| actor)
        .collect();
    assert_eq!(viewed, [format!("link:{BOB}"), BOB.to_owned()]);
}

#[tokio::test]
async fn an_old_link_shows_who_decided_and_nothing_anyone_wrote() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (created, link) = app
        .submit_and_get_link(&alice, &prod_db_request(3600, "a private reason"))
        .await;
    let id = str_field(&created, "id");
    app.decide(
        &bob,
        &id,
        &json!({ "decision": "deny", "comment": "a private answer" }),
    )
    .await
    .expect(200);
    let page = app.lookup(&link).await.expect_json(200);
    assert_eq!(page["decidable"], false, "{page}");
    assert_eq!(page["request"]["status"], "denied", "{page}");
    assert_eq!(page["request"]["decided_by"], BOB, "{page}");
    let text = page.to_string();
    for secret in ["a private reason", "a private answer"] {
        assert!(!text.contains(secret), "{secret:?} in {page}");
    }
    // Past the pending expiry the link is dead.
    app.advance_clock(25 * 3600).await;
    app.lookup(&link)
        .await
        .expect_error(404, "not_found", Some("token"));
}

#[tokio::test]
async fn a_second_pending_request_for_an_entry_is_refused_naming_the_first() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let first = app
        .submit_ok(&alice, &prod_db_request(3600, "the first"))
        .await;
    let mails = app.mailbox().await.len();
    let second = app
        .submit_request(&alice, &prod_db_request(600, "and again"))
        .await;
    second.expect_conflict("pending");
    assert_eq!(second.json()["error"]["request_id"], first.as_str());
    assert_eq!(
        app.mailbox().await.len(),
        mails,
        "the approver is not mailed again"
    );
    // Another entry is fine; so is the same entry once the first is withdrawn.
    app.submit_ok(&alice, &payroll_request(600, "something else"))
        .await;
    app.cancel(&alice, &first, &json!({})).await.expect(200);
    app.submit_ok(&alice, &prod_db_request(600, "now again"))
        .await;
}

#[tokio::test]
async fn time_frames_stay_within_four_digit_years_and_ninety_days() {
    let app = TestApp::spawn().await;
    let alice = app.login("alice").await;
    let body = |start: &str, end: &str| {
        json!({
            "entry_id": PROD_DB,
            "permission_set": VIEW_PASSWORD_EXECUTE,
            "approver_id": BOB,
            "window": { "start": start, "end": end },
            "message": "far away",
        })
    };
    app.submit_request(
        &alice,
        &body("+262142-12-31T22:59:59.5Z", "+262142-12-31T23:59:59.5Z"),
    )
    .await
    .expect_error(400, "invalid_input", Some("window.start"));
    let now = app.now().await.trunc_subsecs(0);
    let late = now + Duration::days(91);
    app.submit_request(
        &alice,
        &body(&rfc3339(late), &rfc3339(late + Duration::hours(1))),
    )
    .await
    .expect_error(422, "rejected", Some("window.start"));
    let soon = now + Duration::days(89);
    app.submit_request(
        &alice,
        &body(&rfc3339(soon), &rfc3339(soon + Duration::hours(1))),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn an_admins_cancellation_is_recorded_as_theirs() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (
        app.login("alice").await,
        app.login("bob").await,
        app.login("carol").await,
    );
    let id = app
        .submit_ok(&alice, &prod_db_request(3600, "cancel me"))
        .await;
    let cancelled = app
        .cancel(&carol, &id, &json!({ "reason": "wrong entry" }))
        .await
        .expect_json(200);
    assert_eq!(cancelled["cancelled_by"], CAROL, "{cancelled}");
    app.decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .expect_conflict("cancelled");
    let again = app
        .decide(&bob, &id, &json!({ "decision": "approve" }))
        .await
        .json();
    assert_eq!(again["error"]["decided_by"], CAROL, "{again}");
    let to_bob = app.wait_for_mail_to(BOB, 2).await;
    assert!(
        to_bob[1].text.contains(CAROL) && to_bob[1].text.contains("Alice Requester"),
        "the approver reads who cancelled whose request: {}",
        to_bob[1].text
    );
}

#[tokio::test]
async fn the_embedded_default_answers_only_its_own_address_and_only_json() {
    let app = TestApp::spawn().await;
    // A page elsewhere that rebinds its name to this machine.
    let rebound = app
        .request(reqwest::Method::POST, "/v1/dev/login", None)
        .header("Host", "evil.example")
        .json(&json!({ "user": "carol" }));
    app.send("POST /v1/dev/login as evil.example", rebound)
        .await
        .expect_error(421, "misdirected", None);
    // A body a browser sends from any page without asking first.
    let alice = app.login("alice").await;
    let plain = app
        .request(reqwest::Method::POST, "/v1/requests", Some(&alice))
        .header("Content-Type", "text/plain")
        .body(prod_db_request(3600, "text/plain").to_string());
    app.send("POST /v1/requests as text/plain", plain)
        .await
        .expect_error(415, "unsupported_media_type", None);
    assert_eq!(app.request_ids(&alice, "mine").await, Vec::<String>::new());
}

#[tokio::test]
async fn the_demo_sign_in_is_not_offered_beyond_this_machine() {
    if TestApp::spawn().await.is_aws() {
        // The AWS backend never offers it without the loud flag: the suites pass it.
        return;
    }
    let app = TestApp::spawn_with_args(&["--addr", "0.0.0.0:0"]).await;
    app.post_anon("/v1/dev/login", &json!({ "user": "carol" }))
        .await
        .expect(404);
    app.get_anon("/v1/dev/mail").await.expect(404);
    let config = app.get_anon("/config.json").await.expect_json(200);
    assert_eq!(config["auth"]["kind"], "none", "{config}");
}

#[tokio::test]
async fn the_data_directory_is_its_owners_alone() {
    let app = TestApp::spawn().await;
    if app.is_aws() {
        return;
    }
    let alice = app.login("alice").await;
    app.submit_ok(&alice, &prod_db_request(3600, "files")).await;
    let dir = app.data_dir();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

#[tokio::test]
async fn a_role_taken_away_takes_effect_at_once() {
    let app = TestApp::spawn().await;
    if app.is_aws() {
        return;
    }
    let carol = app.login("carol").await;
    app.get("/v1/requests?scope=all", &carol).await.expect(200);
    import(
        &app,
        json!({
            "users": [{ "email": CAROL, "name": "Carol", "roles": [] }],
            "entries": [],
        }),
    )
    .await;
    app.get("/v1/requests?scope=all", &carol)
        .await
        .expect_error(403, "forbidden", None);
}

#[tokio::test]
async fn an_approver_removed_from_the_entry_can_no_longer_decide() {
    let app = TestApp::spawn().await;
    if app.is_aws() {
        return;
    }
    let (alice, bob) = (app.login("alice").await, app.login("bob").await);
    let (created, link) = app
        .submit_and_get_link(&alice, &payroll_request(3600, "bob leaves"))
        .await;
    let id = str_field(&created, "id");
    let entries = app.get("/v1/entries", &alice).await.expect_json(200);
    let mut payroll = items(&entries)
        .iter()
        .find(|e| e["id"] == PAYROLL_RDP)
        .cloned()
        .expect("payroll-rdp");
    // Re-imported with dave alone approving it.
    payroll["approvers"] = json!(["dave@example.com"]);
    payroll["permission_sets"] = json!([{
        "id": VIEW_PASSWORD_EXECUTE, "name": "View password/Execute rights",
        "rights": ["view", "view_password", "execute"],
    }]);
    import(&app, json!({ "entries": [entry_file_form(&payroll)] })).await;
    for reply in [
        app.decide(&bob, &id, &json!({ "decision": "approve" }))
            .await,
        app.decide_by_link(Some(&bob), &link, &json!({ "decision": "deny" }))
            .await,
    ] {
        reply.expect_error(403, "forbidden", None);
    }
    assert_eq!(app.status_of(&alice, &id).await, "pending");
}

/// An entry of `GET /v1/entries` as the import file writes it.
fn entry_file_form(e: &Value) -> Value {
    json!({
        "id": e["id"],
        "name": e["name"],
        "kind": e["kind"],
        "folder": e["folder"],
        "approvers": e["approvers"],
        "permission_sets": e["permission_sets"],
        "duration_presets_seconds": e["duration_presets_seconds"],
        "max_duration_seconds": e["max_duration_seconds"],
        "message_required": e["message_required"],
    })
}

/// `tempaccess entries import` of `file` into the running server's data directory.
async fn import(app: &TestApp, file: Value) {
    let path = app.data_dir().with_file_name("import.json");
    std::fs::write(&path, file.to_string()).expect("write the import file");
    let bin = tempaccess_tests::app::built_binary("tempaccess");
    let output = tokio::process::Command::new(bin)
        .args(["entries", "import"])
        .arg(&path)
        .arg("--data")
        .arg(app.data_dir())
        .output()
        .await
        .expect("run tempaccess entries import");
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
