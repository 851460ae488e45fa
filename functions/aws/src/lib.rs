//! The AWS adapters of the tempaccess ports. The only crate that talks to AWS.

pub mod config;
pub mod dynamodb;
#[cfg(feature = "scheduler")]
pub mod scheduler;
#[cfg(any(feature = "ses", feature = "scheduler", feature = "secrets"))]
mod sdk_error;
#[cfg(feature = "secrets")]
pub mod secrets;
#[cfg(feature = "ses")]
pub mod ses;
pub mod wiring;
