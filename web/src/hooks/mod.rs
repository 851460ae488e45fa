//! The site's own hooks: the signed-in session and API calls with their loading state.

mod use_api;
mod use_session;

pub use use_api::{Load, UseApiHandle, use_api};
pub use use_session::{SessionAction, SessionHandle, SessionState, use_session};
