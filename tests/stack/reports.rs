//! The cloud admin's CLI on the stack's table: `tempaccess report --backend aws`
//! shows the rows the report function shows an admin.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tempaccess_tests::stack::{Stack, alone};

async fn cli_csv(stack: &Stack) -> String {
    let bin = std::env::var("TEMPACCESS_BIN").expect("TEMPACCESS_BIN names the tempaccess binary");
    let out = tokio::process::Command::new(bin)
        .args(["report", "--backend", "aws", "--csv"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(stack.cli_env())
        .output()
        .await
        .expect("run tempaccess report");
    assert!(
        out.status.success(),
        "tempaccess report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[tokio::test]
async fn the_cli_report_shows_what_the_admins_api_shows() {
    let _alone = alone().await;
    let stack = Stack::get();
    let carol = stack.sign_in("carol").await.id_token;
    // carol asks too (one pending request per person and entry: alice's prod-db is the
    // browser workflow's).
    stack
        .api(
            Method::POST,
            "/v1/requests",
            Some(&carol),
            Some(
                &json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
                         "approver_id": "bob@example.com", "duration_seconds": 1800,
                         "message": "for the CLI, with a comma, and \"quotes\""}),
            ),
        )
        .await
        .expect(201);
    let mut last = None;
    for _ in 0..3 {
        let cli = cli_csv(stack).await;
        let api = stack
            .http
            .get(format!(
                "{}/v1/requests?scope=all&limit=100",
                stack.api_url()
            ))
            .bearer_auth(&carol)
            .header("accept", "text/csv")
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 200);
        let api = api.text().await.unwrap();
        let rows = |s: &str| s.lines().map(str::to_owned).collect::<BTreeSet<_>>();
        if rows(&cli) == rows(&api) {
            assert!(cli.contains("for the CLI, with a comma"), "{cli}");
            return;
        }
        last = Some((cli, api));
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let (cli, api) = last.unwrap();
    panic!("tempaccess report:\n{cli}\nthe report function:\n{api}");
}
