//! What is left of a grant, counted down against the server's clock, with a warning in
//! its last minutes.

use chrono::{DateTime, Utc};
use yew::prelude::*;

use crate::components::TimeText;
use crate::hooks::use_clock;
use crate::time;

#[derive(Properties, PartialEq)]
pub struct CountdownProps {
    /// When the grant ends.
    pub end: DateTime<Utc>,
    /// Whose access it is, for the warning ("Your access", "Alice's access").
    #[prop_or(AttrValue::Static("Your access"))]
    pub whose: AttrValue,
    /// Whether to say the warning aloud (once per page: the grant the page is about).
    #[prop_or(true)]
    pub announce: bool,
}

/// "47 min left"; in the last five minutes a warning, announced once to screen
/// readers; "ended" once the end has passed (the page's next refresh says how).
#[component]
pub fn Countdown(props: &CountdownProps) -> Html {
    let now = use_clock(10_000);
    match time::time_left(props.end, now) {
        None => html! { <span class="countdown ended">{ "ended" }</span> },
        Some(left) if time::ends_soon(props.end, now) => html! {
            <span class="countdown warning" role={props.announce.then_some("status")}>
                <strong>{ format!("{} ends soon: {left}", props.whose) }</strong>
                { " (at " }<TimeText at={props.end} />{ ")" }
            </span>
        },
        Some(left) => html! { <span class="countdown">{ left }</span> },
    }
}
