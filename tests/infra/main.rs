//! The deployment template against the code: table, routes, binaries, environment and
//! each function's permissions.

mod iam;
mod template;
