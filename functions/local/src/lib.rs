//! The `tempaccess` binary's library: the embedded default (every route in one
//! process, on SQLite, with an in-process timer and a mailbox in place of AWS, plus
//! demo data), the same on the AWS adapters, and the admin commands.

pub mod aws;
pub mod backend;
pub mod clock;
pub mod demo;
pub mod dev_auth;
pub mod import;
pub mod mailbox;
pub mod report;
pub mod serve;
pub mod site;
pub mod sqlite;
pub mod timer;
