//! The Store contract on the SQLite store of the embedded default.

use tempaccess_sqlite::SqliteStore;

tempaccess_tests::store_contract_tests!(async {
    SqliteStore::in_memory().expect("an in-memory database")
});

/// Nothing in the database file (nor its write-ahead log) rebuilds a live link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_stored_rebuilds_a_decision_link() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!(
        "tempaccess-no-token-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("tempaccess.db");
    let store = std::sync::Arc::new(SqliteStore::open(&path)?);
    let dump: tempaccess_tests::store_contract::Dump = Box::new(move || {
        let dir = dir.clone();
        Box::pin(async move {
            let mut text = String::new();
            for entry in std::fs::read_dir(&dir)? {
                let bytes = std::fs::read(entry?.path())?;
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
            Ok(text)
        })
    });
    tempaccess_tests::store_contract::nothing_stored_rebuilds_a_decision_link(store, dump).await
}
