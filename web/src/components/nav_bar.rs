//! The site's navigation: every page, the count of requests waiting for the signed-in
//! approver, who is signed in, and sign-out. On a phone the links fold behind a
//! "Menu" button.

use tempaccess_core::request::Status;
use tempaccess_core::service::ReportScope;
use tempaccess_core::wire::RequestsQuery;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::CHANGED_EVENT;
use crate::components::NavLink;
use crate::hooks::{Live, Load, use_event_listener, use_live_api, use_session};
use crate::route::Route;

/// How often the count of waiting requests is read again.
const COUNT_EVERY_MS: i64 = 30_000;

/// The query that counts the requests waiting for the caller's decision.
pub fn waiting_query() -> RequestsQuery {
    RequestsQuery {
        scope: Some(ReportScope::Approvals),
        status: Some(Status::Pending),
        limit: Some(1),
        count: Some(true),
        ..RequestsQuery::default()
    }
}

/// Links to every page, the signed-in person, and sign-out.
#[component]
pub fn NavBar() -> Html {
    let session = use_session();
    let current = use_route::<Route>();
    let navigator = use_navigator();
    let menu_open = use_state(|| false);
    let config = session.config();
    let waiting = use_live_api(
        session.email(),
        Some(Live::every(COUNT_EVERY_MS)),
        |api, email| async move {
            match email {
                Some(_) => Ok(api.requests(&waiting_query()).await?.total),
                None => Ok(None),
            }
        },
    );
    {
        // A decision made on any page counts at once.
        let reload = waiting.reload.clone();
        use_event_listener(CHANGED_EVENT, move |_| reload.emit(()));
    }
    let waiting = match &waiting.load {
        Load::Ready(n) => n.unwrap_or(0),
        _ => 0,
    };
    {
        // A page chosen from the menu closes it.
        let menu_open = menu_open.clone();
        use_effect_with(current.clone(), move |_| menu_open.set(false));
    }
    let link = |to: Route, label: Html, aria: Option<String>| {
        let here = current.as_ref() == Some(&to);
        html! {
            <li>
                <NavLink to={to} current={here} label={aria.map(AttrValue::from)}>{ label }</NavLink>
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
                    <span class="visually-hidden">{ "Signed in as " }</span>{ &s.me.name }
                </span>
                <button type="button" class="link-button" onclick={sign_out}>{ "Sign out" }</button>
            </div>
        },
        None => html! {
            <div class="who"><NavLink to={Route::SignIn} current={current == Some(Route::SignIn)}>{ "Sign in" }</NavLink></div>
        },
    };
    let approvals = if waiting > 0 {
        link(
            Route::Approvals,
            html! { <>{ "Approvals " }<span class="count-badge">{ waiting }<span class="visually-hidden">{ " waiting for you" }</span></span></> },
            None,
        )
    } else {
        link(Route::Approvals, html! { "Approvals" }, None)
    };
    let toggle = {
        let menu_open = menu_open.clone();
        Callback::from(move |_| menu_open.set(!*menu_open))
    };
    html! {
        <header class="site-header">
            <nav class={classes!("container", "nav", (*menu_open).then_some("open"))} aria-label="Main">
                <NavLink to={Route::Entries} classes={classes!("brand")} label={Some(AttrValue::from("tempaccess, your entries"))}>{ "tempaccess" }</NavLink>
                <button type="button" class="menu-button" aria-expanded={menu_open.to_string()}
                    aria-controls="main-menu" onclick={toggle}>
                    { "Menu" }
                    if waiting > 0 { { " " }<span class="count-badge">{ waiting }<span class="visually-hidden">{ " waiting" }</span></span> }
                </button>
                <div class="menu" id="main-menu">
                    <ul class="nav-links">
                        { link(Route::Entries, html! { "Entries" }, None) }
                        { approvals }
                        { link(Route::Report, html! { "Reports" }, None) }
                        { link(Route::AccessNow, html! { "Access now" }, None) }
                        if config.is_dev() {
                            { link(Route::Mailbox, html! { "Mailbox" }, None) }
                        }
                    </ul>
                    { who }
                </div>
            </nav>
        </header>
    }
}
