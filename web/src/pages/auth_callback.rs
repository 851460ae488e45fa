//! Where Cognito's hosted UI sends the browser back: exchanges the code (with the
//! PKCE verifier) for tokens, then goes where the person was going.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::auth::{self, Session, pkce};
use crate::components::Loading;
use crate::config::AuthConfig;
use crate::hooks::{use_session, use_title};
use crate::route::{Route, safe_next};

/// Completes the sign-in.
#[component]
pub fn AuthCallbackPage() -> Html {
    use_title("Signing in");
    let session = use_session();
    let location = use_location();
    let error = use_state(|| None::<String>);
    {
        let session = session.clone();
        let error = error.clone();
        let query = location
            .and_then(|l| l.query::<pkce::Callback>().ok())
            .unwrap_or_default();
        use_effect_with((), move |_| {
            let AuthConfig::Cognito(cfg) = session.config().auth.clone() else {
                error.set(Some("this site does not sign in through Cognito".into()));
                return;
            };
            let Some(pending) = auth::load::<pkce::Pending>(pkce::PENDING_KEY) else {
                error.set(Some("no sign-in was started in this tab".into()));
                return;
            };
            auth::forget(pkce::PENDING_KEY);
            let code = match query.code_for(&pending) {
                Ok(c) => c,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            wasm_bindgen_futures::spawn_local(async move {
                let origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default();
                let redirect = format!("{origin}{}", pkce::CALLBACK_PATH);
                let result: Result<Session, ApiError> = async {
                    let tokens =
                        api::exchange_code(&cfg, &code, &redirect, &pending.verifier).await?;
                    let me = session.api().with_token(&tokens.id_token).me().await?;
                    let now = crate::time::now().timestamp();
                    Ok(Session {
                        expires_at: auth::jwt_expiry(&tokens.id_token)
                            .or(Some(now + tokens.expires_in)),
                        token: tokens.id_token,
                        refresh_token: tokens.refresh_token,
                        me,
                    })
                }
                .await;
                match result {
                    Ok(s) => {
                        session.signed_in(s);
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().replace(&safe_next(Some(&pending.next)));
                        }
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        });
    }
    match &*error {
        None => {
            html! { <section><h1>{ "Signing in" }</h1><Loading label="Completing the sign-in…" /></section> }
        }
        Some(e) => html! {
            <section class="panel">
                <h1>{ "The sign-in did not complete" }</h1>
                <div class="notice error" role="alert"><p>{ e }</p></div>
                <Link<Route> to={Route::SignIn}>{ "Try again" }</Link<Route>>
            </section>
        },
    }
}
