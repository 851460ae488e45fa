//! The footer naming the time zone every time on the site is shown in.

use yew::prelude::*;

use crate::time::{self, BrowserZone, Zone};

/// "Times are shown in your time zone, America/New_York (EST, UTC-05:00), 24-hour."
#[component]
pub fn ZoneFooter() -> Html {
    let zone = BrowserZone;
    let now = time::now();
    let label = time::zone_label(
        &zone.name(),
        &zone.abbreviation(now),
        &time::offset_label(zone.offset_minutes(now)),
    );
    html! {
        <footer class="container footer">
            <p id="time-zone-note">
                { format!("Times are shown in your time zone, {label}, on a 24-hour clock.") }
            </p>
        </footer>
    }
}
