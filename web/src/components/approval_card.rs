//! One pending request on the Approvals page, with its decision form.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{DecisionBody, PermissionSetView, RequestView};
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::{DecisionForm, ErrorNotice, RequestSummary};
use crate::form::FieldErrors;
use crate::hooks::use_session;

#[derive(Properties, PartialEq)]
pub struct ApprovalCardProps {
    /// The pending request.
    pub request: Rc<RequestView>,
    /// The entry's sets.
    pub sets: Rc<Vec<PermissionSetView>>,
    /// Told what was decided.
    pub on_decided: Callback<String>,
}

/// Sending a decision.
#[derive(Clone, PartialEq, Default)]
pub struct Sending {
    busy: bool,
    field_errors: FieldErrors,
    error: Option<ApiError>,
}

pub enum SendingAction {
    Start,
    Failed(ApiError),
}

impl Reducible for Sending {
    type Action = SendingAction;

    fn reduce(self: Rc<Self>, action: SendingAction) -> Rc<Self> {
        Rc::new(match action {
            SendingAction::Start => Sending {
                busy: true,
                ..Sending::default()
            },
            SendingAction::Failed(e) => match FieldErrors::from_api(&e) {
                Some(field_errors) => Sending {
                    busy: false,
                    field_errors,
                    error: None,
                },
                None => Sending {
                    busy: false,
                    field_errors: FieldErrors::new(),
                    error: Some(e),
                },
            },
        })
    }
}

/// The request's summary and the decision form, deciding as the signed-in approver.
#[component]
pub fn ApprovalCard(props: &ApprovalCardProps) -> Html {
    let session = use_session();
    let sending = use_reducer(Sending::default);
    let r = props.request.clone();
    let on_decide = {
        let sending = sending.clone();
        let api = session.api();
        let r = r.clone();
        let on_decided = props.on_decided.clone();
        Callback::from(move |body: DecisionBody| {
            let sending = sending.clone();
            let api = api.clone();
            let r = r.clone();
            let on_decided = on_decided.clone();
            sending.dispatch(SendingAction::Start);
            wasm_bindgen_futures::spawn_local(async move {
                match api.decide(&r.id, &body).await {
                    Ok(done) => on_decided.emit(format!(
                        "{} {}'s request for {}.",
                        if done.status == Status::Denied {
                            "Denied"
                        } else {
                            "Approved"
                        },
                        done.requester,
                        done.entry_name
                    )),
                    Err(e) => sending.dispatch(SendingAction::Failed(e)),
                }
            });
        })
    };
    html! {
        <article class="card approval" aria-labelledby={format!("approval-{}", r.id)}>
            <h2 id={format!("approval-{}", r.id)}>{ format!("{} asks for {}", r.requester, r.entry_name) }</h2>
            <RequestSummary request={r.clone()} sets={props.sets.clone()} />
            if let Some(e) = &sending.error {
                <ErrorNotice error={e.clone()} />
            }
            <DecisionForm request={r.clone()} sets={props.sets.clone()} busy={sending.busy}
                server_errors={sending.field_errors.clone()} {on_decide}
                id_prefix={format!("decision-{}", r.id)} />
        </article>
    }
}
