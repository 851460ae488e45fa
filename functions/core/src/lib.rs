//! The temporary-access domain.
//!
//! Everything here is pure: no AWS, no HTTP, no async runtime (but for the deadlines
//! of [`bounded`], with the real clock, in feature `system`). The state machine is in
//! [`request`], who may do what in [`policy`]. Adapters implement the [`ports`]; the
//! HTTP layer and the Lambda binaries call the use cases in [`service`]. The [`wire`]
//! types are the JSON contract shared with the site, which also calls [`policy`] to
//! check its forms, so this crate builds for `wasm32-unknown-unknown` too.

pub mod audit;
#[cfg(feature = "system")]
pub mod bounded;
pub mod entry;
pub mod error;
pub mod ids;
pub mod mail;
pub mod policy;
pub mod ports;
pub mod report;
pub mod request;
pub mod service;
#[cfg(feature = "system")]
pub mod system;
pub mod text;
pub mod timing;
pub mod token;
pub mod wire;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// A point in time, always UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

pub use error::Error;
