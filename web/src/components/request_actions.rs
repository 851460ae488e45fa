//! "Cancel request" / "End access" (the requester, after a confirmation, with an
//! optional reason) and "Revoke" (the approver or an admin, with a required reason) on
//! one request, each in the site's one [`Dialog`].

use std::rc::Rc;

use tempaccess_core::policy::{self, Roles};
use tempaccess_core::wire::{CancelBody, RequestView};
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::{Dialog, ReasonField};
use crate::hooks::use_session;
use crate::labels::{self, EndingWords};

#[derive(Properties, PartialEq)]
pub struct RequestActionsProps {
    /// The request.
    pub request: Rc<RequestView>,
    /// Told what was done (for a notice), after it was done.
    pub on_done: Callback<String>,
    /// Smaller buttons (in a table row).
    #[prop_or(true)]
    pub small: bool,
}

/// Whether the dialog is open, and how the call went.
#[derive(Clone, PartialEq, Default)]
pub struct ActionsState {
    open: bool,
    busy: bool,
    error: Option<ApiError>,
}

pub enum ActionsAction {
    Open,
    Close,
    Busy,
    Failed(ApiError),
}

impl Reducible for ActionsState {
    type Action = ActionsAction;

    fn reduce(self: Rc<Self>, action: ActionsAction) -> Rc<Self> {
        Rc::new(match action {
            ActionsAction::Open => Self {
                open: true,
                ..Self::default()
            },
            ActionsAction::Close => Self::default(),
            ActionsAction::Busy => Self {
                busy: true,
                error: None,
                ..(*self).clone()
            },
            ActionsAction::Failed(e) => Self {
                busy: false,
                error: Some(e),
                ..(*self).clone()
            },
        })
    }
}

/// The button this person may use on this request, and its dialog.
#[component]
pub fn RequestActions(props: &RequestActionsProps) -> Html {
    let session = use_session();
    let state = use_reducer(ActionsState::default);
    let r = props.request.clone();
    let me = session.email().unwrap_or_default();
    // The server's own rule for what a cancel call does.
    let roles = Roles {
        requester: r.requester == me,
        approver: r.approver == me,
        admin: session.is_admin(),
    };
    let Some(ending) = policy::ending(roles, r.status).ok().flatten() else {
        return html! {};
    };
    let words: EndingWords = labels::ending_words(&r, ending);

    let run = {
        let state = state.clone();
        let api = session.api();
        let r = r.clone();
        let on_done = props.on_done.clone();
        let done = words.done.clone();
        Callback::from(move |reason: Option<String>| {
            let state = state.clone();
            let api = api.clone();
            let id = r.id.clone();
            let on_done = on_done.clone();
            let done = done.clone();
            state.dispatch(ActionsAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                match api.cancel(&id, &CancelBody { reason }).await {
                    Ok(_) => {
                        state.dispatch(ActionsAction::Close);
                        on_done.emit(done);
                    }
                    Err(e) => state.dispatch(ActionsAction::Failed(e)),
                }
            });
        })
    };
    let open = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(ActionsAction::Open))
    };
    let close = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(ActionsAction::Close))
    };
    let error_text = state.error.as_ref().map(|e| AttrValue::from(e.to_string()));
    let reason = ReasonField {
        label: words.reason_label.clone().into(),
        hint: words.reason_hint.clone().map(AttrValue::from),
        required: words.reason_required.clone().map(AttrValue::from),
        initial: AttrValue::default(),
    };
    html! {
        <>
            <button type="button" class={classes!(if words.danger { "danger" } else { "secondary" }, props.small.then_some("small"))}
                onclick={open} aria-label={words.button_label.clone()}>{ &words.button }</button>
            if state.open {
                <Dialog id={format!("end-{}", r.id)} title={words.title.clone()}
                    confirm_label={words.confirm.clone()} cancel_label={words.keep.clone()}
                    danger={words.danger} busy={state.busy} error={error_text}
                    reason={Some(reason)} on_confirm={run} on_cancel={close}>
                    <p>{ &words.body }</p>
                </Dialog>
            }
        </>
    }
}
