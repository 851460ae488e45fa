//! Sign-in: a demo user in the embedded default, Cognito's hosted UI otherwise.

use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::history::{BrowserHistory, History};
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::auth::{self, Session, pkce};
use crate::components::ErrorNotice;
use crate::components::FieldError;
use crate::config::AuthConfig;
use crate::hooks::{focus_id, use_session, use_title};
use crate::route::{Route, SignInQuery, safe_next};

/// Signs in with a dev token: reads who it is, keeps the session, goes on.
async fn dev_sign_in(api: api::Api, user: String) -> Result<Session, ApiError> {
    let token = api.dev_login(&user).await?.token;
    let me = api.with_token(&token).me().await?;
    Ok(Session {
        expires_at: auth::jwt_expiry(&token),
        token,
        refresh_token: None,
        me,
    })
}

/// Starts the authorization code flow with PKCE at the hosted UI.
fn start_cognito(cfg: &crate::config::CognitoConfig, next: String) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let verifier = pkce::verifier(&api::random_bytes::<32>());
    let state = api::random_id();
    let origin = window.location().origin().unwrap_or_default();
    let redirect = format!("{origin}{}", pkce::CALLBACK_PATH);
    let url = pkce::authorize_url(cfg, &redirect, &state, &pkce::challenge(&verifier));
    auth::store(
        pkce::PENDING_KEY,
        &pkce::Pending {
            state,
            verifier,
            next,
        },
    );
    let _ = window.location().assign(&url);
}

/// The sign-in page.
#[component]
pub fn SignInPage() -> Html {
    use_title("Sign in");
    let session = use_session();
    let location = use_location();
    let busy = use_state(|| false);
    let missing = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let other = use_state(String::new);
    let next = safe_next(
        location
            .and_then(|l| l.query::<SignInQuery>().ok())
            .and_then(|q| q.next)
            .as_deref(),
    );

    let sign_in = {
        let session = session.clone();
        let busy = busy.clone();
        let error = error.clone();
        let next = next.clone();
        Callback::from(move |user: String| {
            let session = session.clone();
            let busy = busy.clone();
            let error = error.clone();
            let next = next.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match dev_sign_in(session.api(), user).await {
                    Ok(s) => {
                        session.signed_in(s);
                        error.set(None);
                        // A path with its query: through the router's own history.
                        BrowserHistory::new().push(next);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };

    let config = session.config();
    let body = match &config.auth {
        AuthConfig::Dev { demo_users } => {
            let on_other_input = {
                let other = other.clone();
                let missing = missing.clone();
                Callback::from(move |e: InputEvent| {
                    let i: HtmlInputElement = e.target_unchecked_into();
                    other.set(i.value());
                    missing.set(false);
                })
            };
            let on_other_submit = {
                let other = other.clone();
                let sign_in = sign_in.clone();
                let missing = missing.clone();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    if other.trim().is_empty() {
                        missing.set(true);
                        focus_id("dev-user");
                    } else {
                        sign_in.emit(other.trim().to_owned());
                    }
                })
            };
            let missing_error =
                (*missing).then(|| AttrValue::from("enter a name or an email to sign in as"));
            html! {
                <>
                    <p>{ "This is a demo server: pick a person to sign in as. Nothing here needs a password." }</p>
                    <ul class="demo-users">
                        { for demo_users.iter().map(|u| {
                            let sign_in = sign_in.clone();
                            let user = u.user.clone();
                            html! {
                                <li>
                                    <button type="button" class="demo-user" disabled={*busy}
                                        onclick={move |_| sign_in.emit(user.clone())}>
                                        <span class="name">{ &u.name }</span>
                                        <span class="role">{ &u.role }</span>
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                    <form class="inline-form" novalidate=true onsubmit={on_other_submit}>
                        <label for="dev-user">{ "Or a name or email" }</label>
                        <input id="dev-user" type="text" autocomplete="username" value={(*other).clone()} oninput={on_other_input}
                            aria-invalid={missing_error.is_some().to_string()}
                            aria-describedby={missing_error.is_some().then_some("dev-user-error")} />
                        <button type="submit" class="secondary" disabled={*busy}>{ "Sign in" }</button>
                        <FieldError id="dev-user-error" error={missing_error} />
                    </form>
                </>
            }
        }
        AuthConfig::None => html! {
            <p class="notice">{ "This server offers no sign-in: it runs on real data without the demo sign-in. Use the deployed site to sign in." }</p>
        },
        AuthConfig::Cognito(cfg) => {
            let cfg = cfg.clone();
            let next = next.clone();
            html! {
                <>
                    <p>{ "Sign in with your organisation's account. You will come back here afterwards." }</p>
                    <button type="button" onclick={move |_| start_cognito(&cfg, next.clone())}>{ "Sign in" }</button>
                </>
            }
        }
    };
    html! {
        <section class="panel sign-in">
            <h1>{ "Sign in" }</h1>
            if let Some(s) = session.session() {
                <p class="notice">{ format!("You are signed in as {} ({}).", s.me.name, s.me.email) }
                    { " " }<Link<Route> to={Route::Entries}>{ "Go to your entries" }</Link<Route>></p>
            }
            if let Some(e) = &*error {
                <ErrorNotice error={e.clone()} />
            }
            { body }
        </section>
    }
}
