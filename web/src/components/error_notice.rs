//! An error state, with a way to try again.

use yew::prelude::*;

use crate::api::ApiError;

#[derive(Properties, PartialEq)]
pub struct ErrorNoticeProps {
    /// What went wrong.
    pub error: ApiError,
    /// Tries again, when that makes sense.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

/// The error in words, announced at once.
#[component]
pub fn ErrorNotice(props: &ErrorNoticeProps) -> Html {
    let retry = props.on_retry.clone().map(|cb| {
        html! { <button type="button" class="secondary" onclick={move |_| cb.emit(())}>{ "Try again" }</button> }
    });
    html! {
        <div class="notice error" role="alert">
            <p>{ props.error.to_string() }</p>
            { for retry }
        </div>
    }
}
