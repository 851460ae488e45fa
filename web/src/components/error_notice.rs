//! An error state, with a way to try again when trying again can help; and the quiet
//! note of a live page whose last refresh failed.

use yew::prelude::*;

use crate::api::ApiError;

#[derive(Properties, PartialEq)]
pub struct ErrorNoticeProps {
    /// What went wrong.
    pub error: ApiError,
    /// Tries again (offered only for failures that may pass: the network, the server).
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// The error in words, announced at once.
#[component]
pub fn ErrorNotice(props: &ErrorNoticeProps) -> Html {
    let retry = props
        .on_retry
        .clone()
        .filter(|_| props.error.is_retryable())
        .map(|cb| {
            html! { <button type="button" class="secondary" onclick={move |_| cb.emit(())}>{ "Try again" }</button> }
        });
    html! {
        <div class="notice error" role="alert">
            <p>{ props.error.to_string() }</p>
            { for retry }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct StaleNoticeProps {
    /// Why the last refresh failed, if it did.
    pub error: Option<ApiError>,
}

/// "Could not refresh …": the page still shows what it last read, and says so.
#[component]
pub fn StaleNotice(props: &StaleNoticeProps) -> Html {
    match &props.error {
        Some(e) => html! {
            <p class="notice warning stale" role="status">
                { format!("This page could not be refreshed: {e} It shows what was last read, and tries again by itself.") }
            </p>
        },
        None => html! {},
    }
}
