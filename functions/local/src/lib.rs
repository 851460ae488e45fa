//! The embedded default: every route in one process, on SQLite, with an in-process
//! timer and a mailbox in place of AWS, plus demo data.

pub mod clock;
pub mod demo;
pub mod dev_auth;
pub mod mailbox;
pub mod serve;
pub mod site;
pub mod sqlite;
pub mod timer;
