//! The `tempaccess` binary's library: the embedded default (every route in one
//! process, on the SQLite store of `tempaccess-sqlite`, with an in-process timer and a
//! mailbox in place of AWS, plus demo data), the same on the AWS adapters, the AWS
//! bootstrap, and the admin commands.

pub mod aws;
pub mod backend;
pub mod clock;
pub mod demo;
pub mod dev_auth;
pub mod files;
pub mod import;
pub mod mailbox;
pub mod report;
pub mod serve;
pub mod site;
pub mod timer;
