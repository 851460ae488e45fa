//! The temporary access request for one entry, sent to the API.

use std::rc::Rc;

use tempaccess_core::wire::{AccessStatus, NewRequestBody, RequestView};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::{ErrorNotice, Loading, RequestForm, TimeText};
use crate::form::FieldErrors;
use crate::hooks::{Load, use_api, use_session, use_title};
use crate::route::{Route, TimelineQuery};
use crate::time;

#[derive(Properties, PartialEq)]
pub struct RequestAccessPageProps {
    /// The entry id.
    pub id: AttrValue,
}

/// Sending the request.
#[derive(Clone, PartialEq)]
pub enum Sending {
    Idle,
    Busy,
    FieldErrors(FieldErrors),
    Failed(ApiError),
    Sent(Rc<RequestView>),
}

pub enum SendAction {
    Start,
    Done(Box<Result<RequestView, ApiError>>),
}

impl Reducible for Sending {
    type Action = SendAction;

    fn reduce(self: Rc<Self>, action: SendAction) -> Rc<Self> {
        Rc::new(match action {
            SendAction::Start => Sending::Busy,
            SendAction::Done(result) => match *result {
                Ok(r) => Sending::Sent(Rc::new(r)),
                Err(e) => match FieldErrors::from_api(&e) {
                    Some(f) => Sending::FieldErrors(f),
                    None => Sending::Failed(e),
                },
            },
        })
    }
}

/// "Temporary access request": the form, then what happens next.
#[component]
pub fn RequestAccessPage(props: &RequestAccessPageProps) -> Html {
    use_title("Request temporary access");
    let session = use_session();
    let sending = use_reducer(|| Sending::Idle);
    // One key per form: a retried send does not make a second request.
    let key = use_memo((), |_| api::random_id());
    let entries = use_api((), |api, _| async move { api.entries().await });

    let entry = match &entries.load {
        Load::Loading => return html! { <Loading label="Loading the entry…" /> },
        Load::Failed(e) => {
            return html! { <ErrorNotice error={e.clone()} on_retry={entries.reload.clone()} /> };
        }
        Load::Ready(list) => match list.items.iter().find(|e| e.id == props.id.as_str()) {
            Some(e) => Rc::new(e.clone()),
            None => {
                return html! {
                    <section class="panel">
                        <h1>{ "No such entry" }</h1>
                        <p>{ "This entry does not exist, or you may not request access to it." }</p>
                        <Link<Route> to={Route::Entries}>{ "Back to your entries" }</Link<Route>>
                    </section>
                };
            }
        },
    };

    {
        let sent = matches!(*sending, Sending::Sent(_));
        use_effect_with(sent, |sent| {
            if *sent {
                crate::hooks::focus_id("sent-heading");
            }
        });
    }
    if let Sending::Sent(r) = &*sending {
        let approver = entry
            .approvers
            .iter()
            .find(|a| a.id == r.approver)
            .map_or_else(|| r.approver.clone(), |a| a.name.clone());
        return html! {
            <section class="panel" aria-live="polite">
                <h1 tabindex="-1" id="sent-heading">{ "Request sent" }</h1>
                <p class="notice success">
                    { format!("Your request for {} was sent to {approver}. ", entry.name) }
                    { "You will be told by email when they decide; until then it is pending (it expires " }
                    <TimeText at={r.expires_at} />{ " if nobody decides)." }
                </p>
                <p>
                    <Link<Route, TimelineQuery> to={Route::Timeline { id: r.id.clone() }} query={Some(TimelineQuery::from_page("entries"))}>{ "See its timeline" }</Link<Route, TimelineQuery>>
                    { " · " }
                    <Link<Route> to={Route::Report}>{ "Your requests" }</Link<Route>>
                    { " · " }
                    <Link<Route> to={Route::Entries}>{ "Back to your entries" }</Link<Route>>
                </p>
            </section>
        };
    }

    let on_submit = {
        let sending = sending.clone();
        let api = session.api();
        let key = key.clone();
        Callback::from(move |body: NewRequestBody| {
            let sending = sending.clone();
            let api = api.clone();
            let key = key.clone();
            sending.dispatch(SendAction::Start);
            wasm_bindgen_futures::spawn_local(async move {
                sending.dispatch(SendAction::Done(Box::new(api.submit(&body, &key).await)));
            });
        })
    };
    let server_errors = match &*sending {
        Sending::FieldErrors(f) => f.clone(),
        _ => FieldErrors::new(),
    };
    let pending = (entry.my_access.status == AccessStatus::Pending)
        .then(|| entry.my_access.request_id.clone())
        .flatten();
    html! {
        <section class="panel">
            <h1>{ "Temporary access request" }</h1>
            <p class="lead">
                <strong>{ &entry.name }</strong>{ format!(" · {} · at most {}", entry.folder, time::describe_seconds(entry.max_duration_seconds)) }
            </p>
            if let Some(id) = pending {
                <div class="notice warning" role="status">
                    <p>
                        { "You already have a request for this entry waiting for a decision. " }
                        <Link<Route, TimelineQuery> to={Route::Timeline { id }} query={Some(TimelineQuery::from_page("entries"))}>
                            { "See your pending request" }
                        </Link<Route, TimelineQuery>>
                        { " — cancel it there before asking again." }
                    </p>
                </div>
            }
            if let Sending::Failed(e) = &*sending {
                // A second request while one is open: the server names the open one.
                if let Some(id) = e.detail().and_then(|d| d.request_id.clone()) {
                    <div class="notice error" role="alert">
                        <p>
                            { e.to_string() }{ " " }
                            <Link<Route, TimelineQuery> to={Route::Timeline { id }} query={Some(TimelineQuery::from_page("entries"))}>
                                { "See your open request" }
                            </Link<Route, TimelineQuery>>
                        </p>
                    </div>
                } else {
                    <ErrorNotice error={e.clone()} />
                }
            }
            <RequestForm entry={entry.clone()} me={session.email().unwrap_or_default()}
                busy={matches!(*sending, Sending::Busy)} {server_errors} {on_submit} />
        </section>
    }
}
