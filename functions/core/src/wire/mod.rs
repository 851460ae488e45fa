//! The contract of `/v1` (JSON bodies and the report's query string), shared by the
//! server, the site and the CLI.
//! Bodies sent to the server reject unknown fields; `parse` turns each into the
//! domain's checked types, naming the field that is wrong. Names from a closed set
//! (statuses, event kinds, rights, entry kinds, error codes) are the domain's enums,
//! so the site compares and labels them as types, not text.

mod bodies;
mod query;
mod views;

pub use bodies::{
    CancelBody, DecisionBody, DecisionKind, LoginBody, LookupBody, NewRequestBody,
    TokenDecisionBody, Window,
};
pub use query::{AccessQuery, RequestsQuery};
pub use views::{
    AccessStatus, DecisionPage, EntryList, EntryView, ErrorBody, ErrorCode, ErrorDetail, EventView,
    MailView, Me, MyAccessView, PermissionSetView, Person, RequestDetail, RequestList, RequestView,
    RequestedView, SecretView, TokenView,
};
