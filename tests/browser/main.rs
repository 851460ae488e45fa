//! The site in headless Chromium against the real `tempaccess serve` with the built
//! site (`TEMPACCESS_SITE_DIR`), screenshots kept under `target/screenshots/`.

mod admin_report;
mod decision_link;
mod deny;
mod forms;
mod request_flow;
