//! Pages for signed-in people only.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::hooks::{use_session, use_title};
use crate::route::{Route, SignInQuery};

#[derive(Properties, PartialEq)]
pub struct RequireSignInProps {
    /// The page.
    pub children: Html,
}

/// The page when someone is signed in, else a way to sign in that comes back here.
#[component]
pub fn RequireSignIn(props: &RequireSignInProps) -> Html {
    let session = use_session();
    if session.session().is_some() {
        return props.children.clone();
    }
    html! { <SignInFirst /> }
}

/// "Sign in to continue", with a way back here.
#[component]
fn SignInFirst() -> Html {
    use_title("Sign in to continue");
    let location = use_location();
    let next = location
        .map(|l| format!("{}{}", l.path(), l.query_str()))
        .unwrap_or_else(|| "/".to_owned());
    html! {
        <section class="panel">
            <h1>{ "Sign in to continue" }</h1>
            <p>{ "This page shows your own requests and access, so it needs to know who you are." }</p>
            <Link<Route, SignInQuery> classes="button" to={Route::SignIn} query={Some(SignInQuery { next: Some(next) })}>
                { "Sign in" }
            </Link<Route, SignInQuery>>
        </section>
    }
}
