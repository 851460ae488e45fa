//! The site in headless Chromium against the real `tempaccess serve` with the built
//! site (`TEMPACCESS_SITE_DIR`), screenshots kept under `target/screenshots/`.

mod access_now;
mod admin_report;
mod decision_link;
mod deny;
mod dialogs;
mod entries;
mod forms;
mod hostile;
mod inbox;
mod keyboard;
mod live;
mod navigation;
mod pages;
mod request_flow;
mod slow_network;
