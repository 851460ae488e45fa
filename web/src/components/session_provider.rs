//! Provides the session to every component below it.

use std::rc::Rc;

use yew::prelude::*;

use crate::config::SiteConfig;
use crate::hooks::SessionState;

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    /// The site's settings.
    pub config: Rc<SiteConfig>,
    /// The site.
    pub children: Html,
}

/// Holds the session (restored from this tab's storage) in a context.
#[component]
pub fn SessionProvider(props: &SessionProviderProps) -> Html {
    let config = props.config.clone();
    let state = use_reducer(move || SessionState::restore(config));
    html! {
        <ContextProvider<UseReducerHandle<SessionState>> context={state}>
            { props.children.clone() }
        </ContextProvider<UseReducerHandle<SessionState>>>
    }
}
