//! "View password" during a grant: reveal, copy to the clipboard, hide again.

use std::rc::Rc;

use tempaccess_core::wire::SecretView;
use yew::prelude::*;

use chrono::{DateTime, Utc};

use crate::api::ApiError;
use crate::hooks::{Timeout, use_session};
use crate::time;

/// What becomes of a revealed password when the grant ends, said plainly.
pub fn rotation_words(rotates: bool) -> &'static str {
    if rotates {
        "This password is changed when your access ends."
    } else {
        "This password is not rotated when your access ends: it keeps working after your \
         access. Do not keep a copy."
    }
}

#[derive(Properties, PartialEq)]
pub struct PasswordRevealProps {
    /// The entry.
    pub entry_id: AttrValue,
    /// The entry's name, for labels.
    pub entry_name: AttrValue,
    /// When the grant ends: the password is hidden then, whatever else happens.
    #[prop_or_default]
    pub ends_at: Option<DateTime<Utc>>,
    /// Whether the password is changed when the grant ends (else it keeps working).
    #[prop_or(true)]
    pub rotates: bool,
}

/// Hidden, loading, shown, or refused.
#[derive(Clone, PartialEq)]
pub enum Reveal {
    Hidden,
    Loading,
    Shown {
        secret: Rc<SecretView>,
        copied: Option<bool>,
    },
    Failed(ApiError),
    /// The grant ended while the password was shown: forgotten.
    Ended,
}

pub enum RevealAction {
    Load,
    Loaded(Result<SecretView, ApiError>),
    Copied(bool),
    Hide,
    Ended,
}

impl Reducible for Reveal {
    type Action = RevealAction;

    fn reduce(self: Rc<Self>, action: RevealAction) -> Rc<Self> {
        Rc::new(match action {
            RevealAction::Load => Reveal::Loading,
            RevealAction::Loaded(Ok(s)) => Reveal::Shown {
                secret: Rc::new(s),
                copied: None,
            },
            RevealAction::Loaded(Err(e)) => Reveal::Failed(e),
            RevealAction::Copied(ok) => match &*self {
                Reveal::Shown { secret, .. } => Reveal::Shown {
                    secret: secret.clone(),
                    copied: Some(ok),
                },
                other => other.clone(),
            },
            // Forgets the credential, not only hides it.
            RevealAction::Hide => Reveal::Hidden,
            RevealAction::Ended => Reveal::Ended,
        })
    }
}

/// The button, then the username and password with "Copy password" and "Hide password".
#[component]
pub fn PasswordReveal(props: &PasswordRevealProps) -> Html {
    let session = use_session();
    let state = use_reducer(|| Reveal::Hidden);
    {
        // At the grant's end the password goes, even before the page hears of it.
        let state = state.clone();
        use_effect_with(props.ends_at, move |end| {
            let timer = end.and_then(|end| {
                Timeout::new((end - time::now()).num_milliseconds(), move || {
                    state.dispatch(RevealAction::Ended)
                })
            });
            move || drop(timer)
        });
    }
    let view = {
        let state = state.clone();
        let api = session.api();
        let id = props.entry_id.to_string();
        Callback::from(move |_| {
            let state = state.clone();
            let api = api.clone();
            let id = id.clone();
            state.dispatch(RevealAction::Load);
            wasm_bindgen_futures::spawn_local(async move {
                state.dispatch(RevealAction::Loaded(api.secret(&id).await));
            });
        })
    };
    let hide = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(RevealAction::Hide))
    };
    match &*state {
        Reveal::Hidden => html! {
            <button type="button" onclick={view}
                aria-label={format!("View password of {}", props.entry_name)}>{ "View password" }</button>
        },
        Reveal::Loading => {
            html! { <p class="loading" role="status">{ "Fetching the password…" }</p> }
        }
        Reveal::Ended => html! {
            <p class="notice" role="status">{ "Your access has ended: the password is hidden." }</p>
        },
        Reveal::Failed(e) => html! {
            <div class="notice error" role="alert">
                <p>{ e.to_string() }</p>
                <button type="button" class="secondary" onclick={hide}>{ "Close" }</button>
            </div>
        },
        Reveal::Shown { secret, copied } => {
            let copy = {
                let state = state.clone();
                let password = secret.password.clone();
                Callback::from(move |_| {
                    let state = state.clone();
                    let password = password.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let ok = match web_sys::window() {
                            Some(w) => wasm_bindgen_futures::JsFuture::from(
                                w.navigator().clipboard().write_text(&password),
                            )
                            .await
                            .is_ok(),
                            None => false,
                        };
                        state.dispatch(RevealAction::Copied(ok));
                    });
                })
            };
            html! {
                <div class="secret" aria-label={format!("Credential of {}", props.entry_name)}>
                    <dl>
                        <dt>{ "Username" }</dt><dd><code class="secret-username">{ &secret.username }</code></dd>
                        <dt>{ "Password" }</dt><dd><code class="secret-password">{ &secret.password }</code></dd>
                    </dl>
                    <div class="actions">
                        <button type="button" class="secondary" onclick={copy}>{ "Copy password" }</button>
                        <button type="button" onclick={hide}>{ "Hide password" }</button>
                    </div>
                    <p class={classes!(if props.rotates { "hint" } else { "notice warning" }, "rotation")}>
                        { rotation_words(props.rotates) }
                    </p>
                    <p class="hint" role="status" aria-live="polite">
                        { match copied {
                            Some(true) => "Password copied to the clipboard.",
                            Some(false) => "Could not copy: select the password and copy it.",
                            None => "Every reveal is recorded in the request's timeline.",
                        } }
                    </p>
                </div>
            }
        }
    }
}
