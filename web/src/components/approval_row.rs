//! One pending request in the approver's inbox: a compact row (who, what, how long, how
//! long it has waited), a box to select it for a bulk denial, and "Decide", which opens
//! the request and its decision form beneath the row.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{DecisionBody, PermissionSetView, Person, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::ApiError;
use crate::components::{
    DecisionForm, ErrorNotice, RequestSummary, TimeText, requested_and_granted,
};

use crate::decision;
use crate::form::FieldErrors;
use crate::hooks::use_session;
use crate::labels;
use crate::route::{Route, TimelineQuery};
use crate::time;

#[derive(Properties, PartialEq)]
pub struct ApprovalRowProps {
    /// The pending request.
    pub request: Rc<RequestView>,
    /// The entry's sets.
    pub sets: Rc<Vec<PermissionSetView>>,
    /// The entry's other approvers (not the signed-in one).
    pub others: Rc<Vec<Person>>,
    /// Whether it is selected for a bulk action.
    pub selected: bool,
    /// Selects or unselects it.
    pub on_select: Callback<(String, bool)>,
    /// Told what was decided.
    pub on_decided: Callback<String>,
    /// The time now, for "waiting 3 h".
    pub now: chrono::DateTime<chrono::Utc>,
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

/// What the approver is told once a decision is made.
pub fn decided_words(done: &RequestView) -> String {
    let requester = done.name_of(&done.requester);
    if done.status == Status::Denied {
        return format!("Denied {requester}'s request for {}.", done.entry_name);
    }
    match requested_and_granted(done) {
        Some(both) => format!(
            "Approved {requester}'s request for {} ({both}).",
            done.entry_name
        ),
        None => format!("Approved {requester}'s request for {}.", done.entry_name),
    }
}

/// A row, and beneath it, once opened, the request and its decision form.
#[component]
pub fn ApprovalRow(props: &ApprovalRowProps) -> Html {
    let session = use_session();
    let sending = use_reducer(Sending::default);
    let open = use_state(|| false);
    let r = props.request.clone();
    let requester = r.name_of(&r.requester).to_owned();
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
                    Ok(done) => on_decided.emit(decided_words(&done)),
                    Err(e) => sending.dispatch(SendingAction::Failed(e)),
                }
            });
        })
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    let on_check = {
        let on_select = props.on_select.clone();
        let id = r.id.clone();
        Callback::from(move |e: Event| {
            let i: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_select.emit((id.clone(), i.checked()));
        })
    };
    let detail_id = format!("approval-{}", r.id);
    let others = props
        .others
        .iter()
        .map(|p| p.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let asked = time::describe_seconds(decision::asked_seconds(&r));
    html! {
        <>
            <tr data-request-id={r.id.clone()} class={classes!("inbox-row", (*open).then_some("open"))}>
                <td class="col-select">
                    <input type="checkbox" id={format!("select-{}", r.id)} checked={props.selected} onchange={on_check}
                        aria-label={format!("Select {requester}'s request for {}", r.entry_name)} />
                </td>
                <td data-label="Requested by"><span title={r.requester.clone()}>{ &requester }</span></td>
                <td data-label="Entry">{ &r.entry_name }</td>
                <td data-label="Rights">{ labels::set_name(&r.permission_set, &props.sets) }</td>
                <td data-label="Asked">
                    if let Some(w) = r.requested.window {
                        <TimeText at={w.start} />{ format!(" for {asked}") }
                    } else {
                        { format!("{asked} from approval") }
                    }
                </td>
                <td data-label="Waiting"><span title={crate::time::rfc3339(r.created_at)}>{ time::time_ago(r.created_at, props.now) }</span></td>
                <td data-label="Decide by"><TimeText at={r.expires_at} /></td>
                <td class="col-actions">
                    <button type="button" class="secondary small" onclick={toggle}
                        aria-expanded={open.to_string()} aria-controls={detail_id.clone()}
                        aria-label={format!("{} {requester}'s request for {}", if *open { "Close" } else { "Decide on" }, r.entry_name)}>
                        { if *open { "Close" } else { "Decide" } }
                    </button>
                </td>
            </tr>
            if *open {
                <tr class="inbox-detail" id={detail_id.clone()}>
                    <td colspan="8">
                        <h2 class="visually-hidden">{ format!("{requester}'s request for {}", r.entry_name) }</h2>
                        <RequestSummary request={r.clone()} sets={props.sets.clone()} />
                        <p class="hint others">
                            if others.is_empty() {
                                { "You are this entry's only approver." }
                            } else {
                                { format!("Other approvers of this entry: {others}. This request was sent to you: only you can decide it.") }
                            }
                            { " " }
                            <Link<Route, TimelineQuery> to={Route::Timeline { id: r.id.clone() }} query={Some(TimelineQuery::from_page("approvals"))}>
                                { "Open its page" }
                            </Link<Route, TimelineQuery>>
                        </p>
                        if let Some(e) = &sending.error {
                            <ErrorNotice error={e.clone()} />
                        }
                        <DecisionForm request={r.clone()} sets={props.sets.clone()} busy={sending.busy}
                            server_errors={sending.field_errors.clone()} {on_decide}
                            id_prefix={format!("decision-{}", r.id)} />
                    </td>
                </tr>
            }
        </>
    }
}
