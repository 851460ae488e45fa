//! The mailed decision link, `/decide#token=…`. Looking the request up changes
//! nothing (mail scanners open links); a person's click decides. The token stays in
//! the fragment and travels only in request bodies.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{DecisionBody, DecisionPage, RequestView, TokenDecisionBody};
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::{DecisionForm, ErrorNotice, Loading, RequestSummary, TimeText};
use crate::form::FieldErrors;
use crate::hooks::{Load, use_api, use_session};
use crate::labels;

/// Where the page keeps a link's token once it has taken it out of the address (so
/// that it leaves no trace in the history, and survives a sign-in in this tab).
const TOKEN_KEY: &str = "tempaccess.decision-token";

/// The link's token: taken from `#token=…` (then removed from the address and the
/// history), or the one this tab kept.
fn take_token() -> Option<String> {
    let window = web_sys::window()?;
    let from_fragment = window
        .location()
        .hash()
        .ok()
        .and_then(|h| token_from_fragment(&h));
    match from_fragment {
        Some(token) => {
            crate::auth::store(TOKEN_KEY, &token);
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some("/decide"),
                );
            }
            Some(token)
        }
        None => crate::auth::load(TOKEN_KEY),
    }
}

/// The token in `#token=…`.
pub fn token_from_fragment(hash: &str) -> Option<String> {
    let fragment = hash.trim_start_matches('#');
    serde_urlencoded::from_str::<Vec<(String, String)>>(fragment)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Deciding.
#[derive(Clone, PartialEq)]
pub enum Deciding {
    Idle,
    Busy,
    FieldErrors(FieldErrors),
    Failed(ApiError),
    /// Someone decided first (or the request ended): the conflict's details.
    Conflict(ApiError),
    Done(Rc<RequestView>),
}

pub enum DecideAction {
    Start,
    Done(Box<Result<RequestView, ApiError>>),
}

impl Reducible for Deciding {
    type Action = DecideAction;

    fn reduce(self: Rc<Self>, action: DecideAction) -> Rc<Self> {
        Rc::new(match action {
            DecideAction::Start => Deciding::Busy,
            DecideAction::Done(result) => match *result {
                Ok(r) => Deciding::Done(Rc::new(r)),
                Err(e) if e.status() == Some(409) => Deciding::Conflict(e),
                Err(e) => match FieldErrors::from_api(&e) {
                    Some(f) => Deciding::FieldErrors(f),
                    None => Deciding::Failed(e),
                },
            },
        })
    }
}

fn already_decided(status: Option<Status>, by: Option<&str>, at: Option<Html>) -> Html {
    let (title, text) = match status {
        Some(Status::Expired) => (
            "This request has expired",
            "Nobody decided it in time, so it expired. The requester can ask again.".to_owned(),
        ),
        Some(Status::Cancelled) => (
            "This request was cancelled",
            format!(
                "{} cancelled it before it was decided.",
                by.unwrap_or("The requester")
            ),
        ),
        _ => (
            "This request was already decided",
            format!(
                "It is {} now{}. This link cannot decide it again.",
                status.map_or_else(
                    || "decided".to_owned(),
                    |s| labels::status(s).to_lowercase()
                ),
                by.map(|b| format!(", decided by {b}")).unwrap_or_default()
            ),
        ),
    };
    html! {
        <section class="panel decided" aria-live="polite">
            <h1>{ title }</h1>
            <p>{ text }</p>
            if let Some(at) = at { <p>{ "Decided " }{ at }{ "." }</p> }
        </section>
    }
}

/// The decision page.
#[component]
pub fn DecidePage() -> Html {
    let session = use_session();
    let token = use_memo((), |_| take_token());
    let signed_in = session.email();
    let deciding = use_reducer(|| Deciding::Idle);
    // Signed in, the page is the approver's own (anyone else is refused); signed out,
    // it shows what the mail showed and says who must sign in to decide.
    let page = use_api(
        ((*token).clone(), signed_in.clone()),
        |api, (token, signed_in)| async move {
            match (token, signed_in) {
                (Some(t), Some(_)) => api.open_link(&t).await.map(Some),
                (Some(t), None) => api.lookup(&t).await.map(Some),
                (None, _) => Ok(None::<DecisionPage>),
            }
        },
    );

    let page = match &page.load {
        Load::Loading => return html! { <Loading label="Looking the request up…" /> },
        Load::Failed(e) if matches!(e.status(), Some(404) | Some(400)) => {
            return html! {
                <section class="panel">
                    <h1>{ "This decision link is not valid" }</h1>
                    <p>{ "It may be mistyped, or it belongs to a request that no longer exists. Ask the requester to send a new request." }</p>
                </section>
            };
        }
        Load::Failed(e) if e.status() == Some(403) => {
            return html! {
                <section class="panel" role="alert">
                    <h1>{ "You cannot decide this request" }</h1>
                    <p>{ e.to_string() }</p>
                    <p>{ "A decision is made by the approver the mail was sent to, signed in as themselves. If that is you, sign out and sign in again as that person." }</p>
                </section>
            };
        }
        Load::Failed(e) => {
            return html! { <ErrorNotice error={e.clone()} on_retry={page.reload.clone()} /> };
        }
        Load::Ready(p) => match &**p {
            None => {
                return html! {
                    <section class="panel">
                        <h1>{ "This decision link is incomplete" }</h1>
                        <p>{ "Open the whole link from the mail: it ends with #token= and a long code." }</p>
                    </section>
                };
            }
            Some(p) => p.clone(),
        },
    };
    let request = Rc::new(page.request.clone());
    let sets = Rc::new(page.permission_sets.clone());

    match &*deciding {
        Deciding::Done(r) => {
            let text = if r.status == Status::Denied {
                format!(
                    "You denied {}'s request for {}. They have been told.",
                    r.requester, r.entry_name
                )
            } else {
                format!(
                    "You approved {}'s request for {}. They have been told.",
                    r.requester, r.entry_name
                )
            };
            return html! {
                <section class="panel" aria-live="polite">
                    <h1>{ if r.status == Status::Denied { "Request denied" } else { "Request approved" } }</h1>
                    <p class="notice success">{ text }</p>
                    <RequestSummary request={r.clone()} sets={sets.clone()} />
                </section>
            };
        }
        Deciding::Conflict(e) => {
            let d = e.detail();
            return already_decided(
                d.and_then(|d| d.current),
                d.and_then(|d| d.decided_by.as_deref()),
                None,
            );
        }
        _ => {}
    }
    if !page.decidable {
        let by = request
            .decided_by
            .clone()
            .or_else(|| request.revoked_by.clone())
            .or_else(|| (request.status == Status::Cancelled).then(|| request.requester.clone()));
        return html! {
            <>
                { already_decided(Some(request.status), by.as_deref(), request.decided_at.map(|at| html! { <TimeText {at} /> })) }
                <section class="panel">
                    <h2>{ "The request" }</h2>
                    <RequestSummary request={request.clone()} sets={sets.clone()} />
                </section>
            </>
        };
    }

    if signed_in.is_none() && page.sign_in_required {
        return html! {
            <section class="panel">
                <h1>{ "Temporary access request" }</h1>
                <p class="lead">{ format!("{} asks for access to {}. Opening this page changed nothing.", request.requester, request.entry_name) }</p>
                <RequestSummary request={request.clone()} sets={sets.clone()} />
                <p class="notice">{ format!("To decide, sign in as {}, the approver this request was sent to.", request.approver) }</p>
                <a class="button primary" href="/sign-in?next=%2Fdecide">{ "Sign in to decide" }</a>
            </section>
        };
    }

    let on_decide = {
        let deciding = deciding.clone();
        let api = session.api();
        let token = (*token).clone().unwrap_or_default();
        let id = request.id.clone();
        let by_link = signed_in.is_none();
        Callback::from(move |body: DecisionBody| {
            let deciding = deciding.clone();
            let api = api.clone();
            let id = id.clone();
            let token = token.clone();
            deciding.dispatch(DecideAction::Start);
            wasm_bindgen_futures::spawn_local(async move {
                // Signed in, the decision is the person's (the API checks they are the
                // approver); by the link alone only where the deployment allows it.
                let result = if by_link {
                    let body = TokenDecisionBody {
                        token,
                        decision: body.decision,
                        comment: body.comment,
                        duration_seconds: body.duration_seconds,
                        window: body.window,
                        permission_set: body.permission_set,
                    };
                    api.decide_by_link(&body).await
                } else {
                    api.decide(&id, &body).await
                };
                deciding.dispatch(DecideAction::Done(Box::new(result)));
            });
        })
    };
    let server_errors = match &*deciding {
        Deciding::FieldErrors(f) => f.clone(),
        _ => FieldErrors::new(),
    };
    html! {
        <section class="panel">
            <h1>{ "Temporary access request" }</h1>
            <p class="lead">{ format!("{} asks for access to {}. Decide below; opening this page changed nothing.", request.requester, request.entry_name) }</p>
            <RequestSummary request={request.clone()} sets={sets.clone()} />
            if let Deciding::Failed(e) = &*deciding {
                <ErrorNotice error={e.clone()} />
            }
            <DecisionForm request={request.clone()} {sets} busy={matches!(*deciding, Deciding::Busy)}
                {server_errors} {on_decide} />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_token_from_the_fragment() {
        assert_eq!(token_from_fragment("#token=abc-_1"), Some("abc-_1".into()));
        assert_eq!(token_from_fragment("#x=1&token=t"), Some("t".into()));
        assert_eq!(token_from_fragment("#token="), None);
        assert_eq!(token_from_fragment(""), None);
    }
}
