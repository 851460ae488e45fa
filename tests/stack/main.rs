//! The deployed stack, run whole on this machine (`cargo xtask stack`, started by the
//! `stack` stage of `cargo xtask test`): the template's resources in the emulator, the
//! five `sam build` binaries under the Lambda Runtime API, the HTTP API front with the
//! JWT authorizer, the hosted-UI front issuing the emulator's Cognito tokens, the
//! schedules firing, the site as CloudFront serves it.
//!
//! Every test shares the one stack (and its table): each makes the data it needs and
//! compares what can change under it a few times before failing. They run at once; one
//! that counts what reached a function, empties a rate bucket or compares whole-table
//! reads holds `stack::alone` while it runs.

mod front;
mod queries;
mod reports;
mod workflow;
