//! An instant, shown in the browser's time zone with the zone named.

use chrono::{DateTime, Utc};
use yew::prelude::*;

use crate::time::{self, BrowserZone};

#[derive(Properties, PartialEq)]
pub struct TimeTextProps {
    /// The instant.
    pub at: DateTime<Utc>,
}

/// `<time>` with the local time as text and UTC in its `datetime` and tooltip.
#[component]
pub fn TimeText(props: &TimeTextProps) -> Html {
    let utc = time::rfc3339(props.at);
    let text = time::format(props.at, &BrowserZone);
    // "Wed 2 Dec 2026," and "16:41 EST" each stay whole: a narrow column breaks
    // between the day and the time, never inside either.
    let (day, clock) = text.split_once(", ").unwrap_or((text.as_str(), ""));
    html! {
        <time datetime={utc.clone()} title={format!("{utc} (UTC)")}>
            <span class="day">{ format!("{day},") }</span>{ " " }<span class="clock">{ clock }</span>
        </time>
    }
}
