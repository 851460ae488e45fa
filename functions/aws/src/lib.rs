//! The AWS adapters of the tempaccess ports. The only crate that talks to AWS.

pub mod config;
pub mod dynamodb;
pub mod scheduler;
mod sdk_error;
pub mod secrets;
pub mod ses;
pub mod wiring;
