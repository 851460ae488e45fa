//! The session: who is signed in, kept in `localStorage` for every tab, shared
//! through a context.

use std::rc::Rc;

use yew::prelude::*;

use crate::api::Api;
use crate::auth::{self, Session, pkce};
use crate::config::{AuthConfig, SiteConfig};

/// The site's settings and who is signed in.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// The settings from `config.json`.
    pub config: Rc<SiteConfig>,
    /// The signed-in person, if any.
    pub session: Option<Rc<Session>>,
}

impl SessionState {
    /// The state at start: the session the site's tabs share, if any.
    pub fn restore(config: Rc<SiteConfig>) -> Self {
        Self {
            config,
            session: auth::load_session().map(Rc::new),
        }
    }
}

/// What changes the session.
pub enum SessionAction {
    /// Signed in, or the token was refreshed.
    Set(Session),
    /// Signed out, or the sign-in ended.
    Clear,
}

impl Reducible for SessionState {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: SessionAction) -> Rc<Self> {
        let session = match action {
            SessionAction::Set(s) => Some(Rc::new(s)),
            SessionAction::Clear => None,
        };
        Rc::new(Self {
            config: self.config.clone(),
            session,
        })
    }
}

/// The session as components use it.
#[derive(Clone, PartialEq)]
pub struct SessionHandle {
    state: UseReducerHandle<SessionState>,
}

impl SessionHandle {
    /// Wraps the context's reducer.
    pub fn new(state: UseReducerHandle<SessionState>) -> Self {
        Self { state }
    }

    /// The site's settings.
    pub fn config(&self) -> Rc<SiteConfig> {
        self.state.config.clone()
    }

    /// The signed-in person, if any.
    pub fn session(&self) -> Option<Rc<Session>> {
        self.state.session.clone()
    }

    /// The signed-in person's email, if any.
    pub fn email(&self) -> Option<String> {
        self.state.session.as_ref().map(|s| s.me.email.clone())
    }

    /// Whether the signed-in person is an admin.
    pub fn is_admin(&self) -> bool {
        self.state.session.as_ref().is_some_and(|s| s.is_admin())
    }

    /// The API as the signed-in person (or nobody).
    pub fn api(&self) -> Api {
        let dispatcher = self.state.dispatcher();
        let on_session = Callback::from(move |next: Option<Session>| match next {
            Some(s) => {
                auth::keep_session(&s);
                dispatcher.dispatch(SessionAction::Set(s));
            }
            None => {
                auth::forget_session();
                dispatcher.dispatch(SessionAction::Clear);
            }
        });
        Api::new(self.config(), self.session(), on_session)
    }

    /// Keeps a new session for every tab and shows the site as that person.
    pub fn signed_in(&self, session: Session) {
        auth::keep_session(&session);
        self.state.dispatch(SessionAction::Set(session));
    }

    /// The signed-in person's display name, if any.
    pub fn name(&self) -> Option<String> {
        self.state.session.as_ref().map(|s| s.me.name.clone())
    }

    /// Ends the session in every tab; with Cognito, also at the hosted UI.
    pub fn sign_out(&self) {
        auth::forget_session();
        self.state.dispatch(SessionAction::Clear);
        if let AuthConfig::Cognito(cfg) = &self.state.config.auth
            && let Some(window) = web_sys::window()
        {
            let origin = window.location().origin().unwrap_or_default();
            let _ = window.location().assign(&pkce::logout_url(
                cfg,
                &format!("{origin}{}", pkce::LOGOUT_PATH),
            ));
        }
    }
}

/// The session from the nearest provider.
#[hook]
pub fn use_session() -> SessionHandle {
    let state = use_context::<UseReducerHandle<SessionState>>()
        .expect("use_session is used below the SessionProvider");
    SessionHandle::new(state)
}
