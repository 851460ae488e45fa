//! The AWS CLI queries `docs/deploy.md` gives cloud admins, run as written against the
//! stack's table, each compared with the `tempaccess report` the document pairs it
//! with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::json;
use tempaccess_tests::app::str_field;
use tempaccess_tests::stack::{Stack, alone};

/// One documented query: its name, the shell lines, the paired report command.
struct Documented {
    name: String,
    query: String,
    report: String,
}

fn documented() -> Vec<Documented> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/deploy.md");
    let text = std::fs::read_to_string(path).expect("docs/deploy.md");
    let mut out = Vec::new();
    for part in text.split("<!-- query: ").skip(1) {
        let (name, rest) = part.split_once(" -->").expect("a closed query marker");
        let block = rest
            .split_once("```sh\n")
            .and_then(|(_, b)| b.split_once("```"))
            .map(|(b, _)| b)
            .unwrap_or_else(|| panic!("query {name}: no sh block after the marker"));
        let (query, report) = block
            .split_once("# the same rows: ")
            .unwrap_or_else(|| panic!("query {name}: no `# the same rows:` line"));
        out.push(Documented {
            name: name.to_owned(),
            query: query.to_owned(),
            report: report.trim().to_owned(),
        });
    }
    out
}

/// The variables the document's first block sets, for now.
fn variables() -> Vec<(String, String)> {
    let now = Utc::now();
    let (y, m) = (now.year(), now.month());
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    [
        ("NOW", now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        ("APPROVER", "bob@example.com".to_owned()),
        ("PERSON", "alice@example.com".to_owned()),
        ("FROM", format!("{y:04}-{m:02}-01T00:00:00.000000000Z")),
        ("TO", format!("{ny:04}-{nm:02}-01T00:00:00.000000000Z")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn shell(script: &str, env: &[(String, String)]) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{script}\nfailed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The cells of a CSV line (quoted cells may hold commas and doubled quotes).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// (created at to the second, requester, entry) of each row.
type Rows = Vec<(String, String, String)>;

fn query_rows(text: &str) -> Rows {
    let mut rows: Rows = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            assert_eq!(cells.len(), 3, "a query row: {l:?}");
            let created = chrono::DateTime::parse_from_rfc3339(cells[0])
                .unwrap_or_else(|e| panic!("{}: {e}", cells[0]))
                .with_timezone(&Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            (created, cells[1].to_owned(), cells[2].to_owned())
        })
        .collect();
    rows.sort();
    rows
}

fn report_rows(csv: &str) -> Rows {
    let mut lines = csv.lines();
    let header = csv_cells(lines.next().expect("a header"));
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let (on, by, entry) = (at("requested_on"), at("requested_by"), at("entry"));
    let mut rows: Rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c = csv_cells(l);
            (c[on].clone(), c[by].clone(), c[entry].clone())
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_documented_queries_return_what_the_report_shows() {
    let _alone = alone().await;
    let stack = Stack::get();
    let queries = documented();
    let names: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pending for an approver",
            "active now",
            "a person's history",
            "a date range"
        ],
        "docs/deploy.md documents the four common reports"
    );

    // Something for each question: a request waiting for bob, a grant active now.
    let alice = stack.sign_in("alice").await.id_token;
    let dave = stack.sign_in("dave").await.id_token;
    // (dave asks: one pending request per person and entry, and alice's prod-db is the
    // browser workflow's.)
    let pending = json!({"entry_id": "prod-db", "permission_set": "view-password-execute",
                         "approver_id": "bob@example.com", "duration_seconds": 3600,
                         "message": "queried: waiting"});
    stack
        .api(Method::POST, "/v1/requests", Some(&dave), Some(&pending))
        .await
        .expect(201);
    let active = stack
        .api(
            Method::POST,
            "/v1/requests",
            Some(&alice),
            Some(
                &json!({"entry_id": "payroll-rdp", "permission_set": "operator",
                         "approver_id": "dave@example.com", "duration_seconds": 3600,
                         "message": "queried: active"}),
            ),
        )
        .await
        .expect_json(201);
    stack
        .api(
            Method::POST,
            &format!("/v1/requests/{}/decision", str_field(&active, "id")),
            Some(&dave),
            Some(&json!({"decision": "approve", "comment": "ok"})),
        )
        .await
        .expect(200);

    let aws = PathBuf::from(
        std::env::var("TEMPACCESS_AWS_CLI")
            .expect("TEMPACCESS_AWS_CLI names the AWS CLI (`cargo xtask test` installs it)"),
    );
    let tempaccess = PathBuf::from(std::env::var("TEMPACCESS_BIN").expect("TEMPACCESS_BIN"));
    let path = std::env::join_paths(
        [aws.parent().unwrap(), tempaccess.parent().unwrap()]
            .into_iter()
            .map(PathBuf::from)
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .unwrap();
    for q in &queries {
        // Other tests share the table: a row may change between the two reads.
        let mut last = None;
        for _ in 0..3 {
            let mut env: Vec<(String, String)> = stack.cli_env();
            env.push((
                "AWS_DEFAULT_REGION".into(),
                stack.info["region"].as_str().unwrap().into(),
            ));
            env.push(("TABLE".into(), stack.output("TableName")));
            env.push(("PATH".into(), path.to_string_lossy().into_owned()));
            env.extend(variables());
            let queried = query_rows(&shell(&q.query, &env));
            let reported = report_rows(&shell(&format!("{} --csv", q.report), &env));
            if queried == reported {
                assert!(!queried.is_empty(), "{}: no rows to compare", q.name);
                last = None;
                break;
            }
            last = Some((queried, reported));
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if let Some((queried, reported)) = last {
            let diff: BTreeMap<&str, &Rows> = [("query", &queried), ("report", &reported)].into();
            panic!(
                "{}: the query and `{}` disagree: {diff:#?}",
                q.name, q.report
            );
        }
    }
}
