//! The site's own hooks: the signed-in session, API calls with their loading state
//! (live ones poll), and the browser's events, timers and title.

mod use_api;
mod use_browser;
mod use_session;

pub use use_api::{Live, Load, UseApiHandle, use_api, use_live_api};
pub use use_browser::{
    Timeout, after_render, focus_id, page_hidden, use_clock, use_event_listener, use_title,
};
pub use use_session::{SessionAction, SessionHandle, SessionState, use_session};
