//! A request's status as a badge.

use tempaccess_core::request::Status;
use tempaccess_core::wire::RequestView;
use yew::prelude::*;

use crate::labels;

#[derive(Properties, PartialEq)]
pub struct StatusBadgeProps {
    /// The request's status.
    pub status: Status,
    /// The request, when known: a requester's own early end reads "Ended early".
    #[prop_or_default]
    pub request: Option<std::rc::Rc<RequestView>>,
}

/// The status in words, coloured by kind (never by colour alone: the word is there).
#[component]
pub fn StatusBadge(props: &StatusBadgeProps) -> Html {
    let (text, class) = match &props.request {
        Some(r) => labels::status_of(r),
        None => (labels::status(props.status), props.status.as_str()),
    };
    html! {
        <span class={classes!("badge", format!("status-{class}"))}>{ text }</span>
    }
}
