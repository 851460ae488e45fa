//! Provides the session to every component below it.

use std::rc::Rc;

use yew::prelude::*;

use wasm_bindgen::JsCast;

use crate::auth;
use crate::config::SiteConfig;
use crate::hooks::{SessionAction, SessionState, use_event_listener};

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    /// The site's settings.
    pub config: Rc<SiteConfig>,
    /// The site.
    pub children: Html,
}

/// Holds the session (restored from the storage the site's tabs share) in a context,
/// and follows another tab's sign-in and sign-out.
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let config = props.config.clone();
    let state = use_reducer(move || SessionState::restore(config));
    {
        let dispatcher = state.dispatcher();
        use_event_listener("storage", move |e: web_sys::Event| {
            let Some(e) = e.dyn_ref::<web_sys::StorageEvent>() else {
                return;
            };
            match auth::session_from_event(e.key().as_deref(), e.new_value().as_deref()) {
                Some(Some(session)) => dispatcher.dispatch(SessionAction::Set(session)),
                Some(None) => dispatcher.dispatch(SessionAction::Clear),
                None => {}
            }
        });
    }
    html! {
        <ContextProvider<UseReducerHandle<SessionState>> context={state}>
            { props.children.clone() }
        </ContextProvider<UseReducerHandle<SessionState>>>
    }
}
