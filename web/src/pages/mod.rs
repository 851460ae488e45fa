//! One component per page of the site map ([`crate::route::Route`]).

mod access_now;
mod approvals;
mod auth_callback;
mod decide;
mod entries;
mod mailbox;
mod not_found;
mod report;
mod request_access;
mod sign_in;
mod timeline;

pub use access_now::AccessNowPage;
pub use approvals::ApprovalsPage;
pub use auth_callback::AuthCallbackPage;
pub use decide::DecidePage;
pub use entries::EntriesPage;
pub use mailbox::MailboxPage;
pub use not_found::NotFoundPage;
pub use report::ReportPage;
pub use request_access::RequestAccessPage;
pub use sign_in::SignInPage;
pub use timeline::TimelinePage;
