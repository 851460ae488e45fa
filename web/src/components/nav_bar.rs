//! The site's navigation and who is signed in.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::use_session;
use crate::route::Route;

/// Links to every page, the signed-in person, and sign-out.
#[component]
pub fn NavBar() -> Html {
    let session = use_session();
    let current = use_route::<Route>();
    let navigator = use_navigator();
    let config = session.config();
    let link = |to: Route, label: &'static str| {
        let here = current.as_ref() == Some(&to);
        html! {
            <li>
                <Link<Route> to={to} classes={classes!(here.then_some("current"))}>
                    <span aria-current={here.then_some("page")}>{ label }</span>
                </Link<Route>>
            </li>
        }
    };
    let sign_out = {
        let session = session.clone();
        Callback::from(move |_| {
            session.sign_out();
            if let Some(n) = &navigator {
                n.push(&Route::SignIn);
            }
        })
    };
    let who = match session.session() {
        Some(s) => html! {
            <div class="who">
                <span class="who-name" title={s.me.email.clone()}>
                    { format!("{} ({})", s.me.name, s.me.email) }
                </span>
                <button type="button" class="link-button" onclick={sign_out}>{ "Sign out" }</button>
            </div>
        },
        None => html! {
            <div class="who"><Link<Route> to={Route::SignIn}>{ "Sign in" }</Link<Route>></div>
        },
    };
    html! {
        <header class="site-header">
            <nav class="container nav" aria-label="Main">
                <Link<Route> to={Route::Entries} classes="brand">{ "tempaccess" }</Link<Route>>
                <ul class="nav-links">
                    { link(Route::Entries, "Entries") }
                    { link(Route::Approvals, "Approvals") }
                    { link(Route::Report, "Reports") }
                    { link(Route::AccessNow, "Access now") }
                    if config.is_dev() {
                        { link(Route::Mailbox, "Mailbox") }
                    }
                </ul>
                { who }
            </nav>
        </header>
    }
}
