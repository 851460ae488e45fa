//! The product over HTTP against the real `tempaccess` binary, the use cases in
//! process, and the Store contract on the embedded default's SQLite store. One test
//! binary for the whole family, so the dependency tree is linked once.
//!
//! The HTTP suites run on SQLite by default and on `serve --backend aws` against the
//! emulator with `TEMPACCESS_E2E_BACKEND=aws` (`cargo xtask test` runs both).

mod authz;
mod crash;
mod faults;
mod fuzz;
mod hostile;
mod input;
mod limits;
mod links;
mod load;
mod races;
mod report;
mod rules;
mod service;
mod store_sqlite;
mod trust;
mod workflow;
