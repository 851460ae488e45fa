//! The AWS side over the wire against the emulator (`TEMPACCESS_MOTO_URL`): the
//! adapters, the Store contract on DynamoDB, mail and scheduler failures, the Lambda
//! handlers and the built function binaries under a Lambda Runtime API stub.

mod adapters;
mod calls;
mod faults;
mod lambda_handlers;
mod lambda_runtime_api;
mod scale;
mod store_dynamodb;
