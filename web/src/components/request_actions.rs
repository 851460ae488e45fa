//! "Cancel request" (the requester, with a confirmation) and "Revoke" (the approver or
//! an admin, with a reason) on one request.

use std::rc::Rc;

use tempaccess_core::policy::{self, Ending, Roles};
use tempaccess_core::request::Status;
use tempaccess_core::wire::{CancelBody, RequestView};
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::{ConfirmDialog, RevokeDialog};
use crate::hooks::use_session;

#[derive(Properties, PartialEq)]
pub struct RequestActionsProps {
    /// The request.
    pub request: Rc<RequestView>,
    /// Told what was done (for a notice), after it was done.
    pub on_done: Callback<String>,
}

/// Which dialog is open, and how the call went.
#[derive(Clone, PartialEq)]
pub struct ActionsState {
    open: Open,
    busy: bool,
    error: Option<ApiError>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Open {
    None,
    Cancel,
    Revoke,
}

pub enum ActionsAction {
    Open(Open),
    Close,
    Busy,
    Failed(ApiError),
}

impl Reducible for ActionsState {
    type Action = ActionsAction;

    fn reduce(self: Rc<Self>, action: ActionsAction) -> Rc<Self> {
        Rc::new(match action {
            ActionsAction::Open(open) => Self {
                open,
                busy: false,
                error: None,
            },
            ActionsAction::Close => Self {
                open: Open::None,
                busy: false,
                error: None,
            },
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

/// The buttons this person may use on this request, and their dialogs.
#[component]
pub fn RequestActions(props: &RequestActionsProps) -> Html {
    let session = use_session();
    let state = use_reducer(|| ActionsState {
        open: Open::None,
        busy: false,
        error: None,
    });
    let r = props.request.clone();
    let me = session.email().unwrap_or_default();
    // The server's own rule for what a cancel call does.
    let roles = Roles {
        requester: r.requester == me,
        approver: r.approver == me,
        admin: session.is_admin(),
    };
    let ending = policy::ending(roles, r.status).ok().flatten();
    let can_cancel = matches!(ending, Some(Ending::Cancel | Ending::EndOwn));
    let can_revoke = ending == Some(Ending::Revoke);
    if !can_cancel && !can_revoke {
        return html! {};
    }

    let run: Rc<dyn Fn(Option<String>)> = {
        let state = state.clone();
        let api = session.api();
        let r = r.clone();
        let on_done = props.on_done.clone();
        Rc::new(move |reason: Option<String>| {
            let state = state.clone();
            let api = api.clone();
            let id = r.id.clone();
            let on_done = on_done.clone();
            let what = if reason.is_some() {
                format!("Revoked {}'s access to {}.", r.requester, r.entry_name)
            } else if r.status == Status::Pending {
                format!("Cancelled the request for {}.", r.entry_name)
            } else {
                format!("Ended the access to {}.", r.entry_name)
            };
            state.dispatch(ActionsAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                match api.cancel(&id, &CancelBody { reason }).await {
                    Ok(_) => {
                        state.dispatch(ActionsAction::Close);
                        on_done.emit(what);
                    }
                    Err(e) => state.dispatch(ActionsAction::Failed(e)),
                }
            });
        })
    };
    let open = |o: Open| {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(ActionsAction::Open(o)))
    };
    let close = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(ActionsAction::Close))
    };
    let (title, message) = if r.status == Status::Pending {
        (
            "Cancel request",
            format!(
                "Do you really want to cancel your request for {}? The approver will be told.",
                r.entry_name
            ),
        )
    } else {
        (
            "Cancel request",
            format!(
                "Do you really want to end your access to {} now? To regain it you will need to make another request.",
                r.entry_name
            ),
        )
    };
    let confirm = {
        let run = run.clone();
        Callback::from(move |_| run(None))
    };
    let revoke = Callback::from(move |reason: String| run(Some(reason)));
    let error_text = state.error.as_ref().map(|e| AttrValue::from(e.to_string()));

    html! {
        <div class="row-actions">
            if can_cancel {
                <button type="button" class="secondary small" onclick={open(Open::Cancel)}
                    aria-label={format!("Cancel request for {}", r.entry_name)}>{ "Cancel request" }</button>
            }
            if can_revoke {
                <button type="button" class="danger small" onclick={open(Open::Revoke)}
                    aria-label={format!("Revoke {}'s access to {}", r.requester, r.entry_name)}>{ "Revoke" }</button>
            }
            if state.open == Open::Cancel {
                <ConfirmDialog title={title} message={message} busy={state.busy}
                    error={error_text.clone()} on_confirm={confirm} on_cancel={close.clone()} />
            }
            if state.open == Open::Revoke {
                <RevokeDialog subject={format!("{}'s access to {}", r.requester, r.entry_name)}
                    busy={state.busy} error={error_text.clone()} on_confirm={revoke} on_cancel={close} />
            }
        </div>
    }
}
