//! A loading state.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    /// What is being loaded.
    #[prop_or(AttrValue::Static("Loading…"))]
    pub label: AttrValue,
}

/// "Loading…", announced politely to screen readers.
#[component]
pub fn Loading(props: &LoadingProps) -> Html {
    html! { <p class="loading" role="status" aria-live="polite">{ &props.label }</p> }
}
