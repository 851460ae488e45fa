//! Anything not on the site map.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::use_title;
use crate::route::Route;

/// "Page not found", with the way back.
#[component]
pub fn NotFoundPage() -> Html {
    use_title("Page not found");
    html! {
        <section class="panel">
            <h1>{ "Page not found" }</h1>
            <p>{ "There is no page at this address." }</p>
            <Link<Route> to={Route::Entries}>{ "Go to your entries" }</Link<Route>>
        </section>
    }
}
