//! The site map: one `Routable` enum and the one `switch` that renders it.

use serde::{Deserialize, Serialize};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::RequireSignIn;
use crate::pages;

/// Every page of the site.
#[derive(Debug, Clone, PartialEq, Eq, Routable)]
pub enum Route {
    /// The entries the person may request, with their access now.
    #[at("/")]
    Entries,
    /// Sign in (`?next=` where to go after).
    #[at("/sign-in")]
    SignIn,
    /// Where Cognito's hosted UI sends the browser back.
    #[at("/auth/callback")]
    AuthCallback,
    /// The temporary access request form for one entry.
    #[at("/entries/:id/request")]
    RequestAccess { id: String },
    /// The mailed decision link: `/decide#token=…`.
    #[at("/decide")]
    Decide,
    /// The signed-in approver's pending requests.
    #[at("/approvals")]
    Approvals,
    /// The Temporary Access Requests Report.
    #[at("/reports")]
    Report,
    /// One request and its timeline.
    #[at("/requests/:id")]
    Timeline { id: String },
    /// Grants active now.
    #[at("/access")]
    AccessNow,
    /// The embedded default's mailbox.
    #[at("/mail")]
    Mailbox,
    /// Anything else.
    #[not_found]
    #[at("/not-found")]
    NotFound,
}

/// The sign-in page's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInQuery {
    /// Where to go once signed in (a path of this site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The page for a route.
pub fn switch(route: Route) -> Html {
    match route {
        Route::Entries => html! { <RequireSignIn><pages::EntriesPage /></RequireSignIn> },
        Route::SignIn => html! { <pages::SignInPage /> },
        Route::AuthCallback => html! { <pages::AuthCallbackPage /> },
        Route::RequestAccess { id } => {
            html! { <RequireSignIn><pages::RequestAccessPage {id} /></RequireSignIn> }
        }
        Route::Decide => html! { <pages::DecidePage /> },
        Route::Approvals => html! { <RequireSignIn><pages::ApprovalsPage /></RequireSignIn> },
        Route::Report => html! { <RequireSignIn><pages::ReportPage /></RequireSignIn> },
        Route::Timeline { id } => {
            html! { <RequireSignIn><pages::TimelinePage {id} /></RequireSignIn> }
        }
        Route::AccessNow => html! { <RequireSignIn><pages::AccessNowPage /></RequireSignIn> },
        Route::Mailbox => html! { <pages::MailboxPage /> },
        Route::NotFound => html! { <pages::NotFoundPage /> },
    }
}

/// A request's page's query: which page the reader came from, for its way back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineQuery {
    /// `entries`, `approvals`, `access` or `report`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl TimelineQuery {
    /// Coming from the page named `page`.
    pub fn from_page(page: &str) -> Self {
        Self {
            from: Some(page.to_owned()),
        }
    }

    /// The way back: the page, and the link's words.
    pub fn back(&self) -> (Route, &'static str) {
        match self.from.as_deref() {
            Some("entries") => (Route::Entries, "← Entries"),
            Some("approvals") => (Route::Approvals, "← Approvals"),
            Some("access") => (Route::AccessNow, "← Access now"),
            _ => (Route::Report, "← Reports"),
        }
    }
}

/// A path of this site to go to after sign-in: never another origin. Browsers drop
/// tabs and line breaks from a URL and read a backslash as `/`, so a path holding any of
/// them, or any other space or control character, is refused whole rather than cleaned.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_page_leads_back_where_the_reader_came_from() {
        assert_eq!(TimelineQuery::from_page("access").back().1, "← Access now");
        assert_eq!(
            TimelineQuery::default().back(),
            (Route::Report, "← Reports")
        );
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/reports?scope=all")), "/reports?scope=all");
        assert_eq!(safe_next(Some("//evil.example.com")), "/");
        assert_eq!(safe_next(Some("https://evil.example.com")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn next_cannot_leave_the_site_by_characters_browsers_drop() {
        for sneaky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\\evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{a0}/evil.example",
        ] {
            assert_eq!(safe_next(Some(sneaky)), "/", "{sneaky:?}");
        }
        assert_eq!(safe_next(Some("/decide")), "/decide");
    }
}
