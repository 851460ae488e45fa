//! The Store contract on the SQLite store of the embedded default.

use tempaccess_sqlite::SqliteStore;

tempaccess_tests::store_contract_tests!(async {
    SqliteStore::in_memory().expect("an in-memory database")
});
