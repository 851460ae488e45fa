//! Tables that a test both checks and prints into a document: the document's copy,
//! between two markers, must equal the table the test runs. `TEMPACCESS_BLESS=1`
//! rewrites the copy instead.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// `RELIABILITY.md` at the root of the workspace.
pub fn reliability_md() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../RELIABILITY.md")
}

/// Asserts that the text between the lines `<!-- {name}: begin … -->` and
/// `<!-- {name}: end -->` of RELIABILITY.md is `table`; with `TEMPACCESS_BLESS` set,
/// writes `table` there. `rerun` is the command that rewrites it.
pub fn generated_section(name: &str, table: &str, rerun: &str) {
    // Tests run in parallel: one rewrite at a time, each reading the other's.
    static FILE: Mutex<()> = Mutex::new(());
    let _only_us = FILE.lock().unwrap_or_else(PoisonError::into_inner);
    let path = reliability_md();
    let text = std::fs::read_to_string(&path).expect("read RELIABILITY.md");
    let begin = format!("<!-- {name}: begin");
    let end_marker = format!("<!-- {name}: end -->");
    let start = text
        .find(&begin)
        .and_then(|at| text[at..].find('\n').map(|nl| at + nl + 1))
        .unwrap_or_else(|| panic!("RELIABILITY.md has no `{begin} … -->` line"));
    let end = text
        .find(&end_marker)
        .unwrap_or_else(|| panic!("RELIABILITY.md has no `{end_marker}` line"));
    if std::env::var_os("TEMPACCESS_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &text[..start], &text[end..]))
            .expect("write RELIABILITY.md");
        return;
    }
    assert_eq!(
        &text[start..end],
        table,
        "RELIABILITY.md's {name} differs from the tested one: rewrite it with `{rerun}`"
    );
}
