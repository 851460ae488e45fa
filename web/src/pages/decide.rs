//! The mailed decision link, `/decide#token=…`. Looking the request up changes
//! nothing (mail scanners open links); the approver, signed in as themselves, decides.
//! The token is taken out of the address at once, kept for this tab only, and travels
//! only in request bodies.

use std::rc::Rc;

use tempaccess_core::request::Status;
use tempaccess_core::wire::{DecisionBody, DecisionPage, RequestView, TokenDecisionBody};
use yew::prelude::*;

use crate::api::ApiError;
use crate::components::{
    DecisionForm, ErrorNotice, Loading, RequestSummary, TimeText, decided_words,
};
use crate::form::FieldErrors;
use crate::hooks::{Load, use_api, use_event_listener, use_session, use_title};
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
    /// Another link was followed: start over.
    Reset,
}

impl Reducible for Deciding {
    type Action = DecideAction;

    fn reduce(self: Rc<Self>, action: DecideAction) -> Rc<Self> {
        Rc::new(match action {
            DecideAction::Start => Deciding::Busy,
            DecideAction::Reset => Deciding::Idle,
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
    use_title("Decide on a request");
    let session = use_session();
    // The token: read again when another link is followed in the same tab (only the
    // fragment changes, so the page stays).
    let token = use_state(take_token);
    {
        let token = token.clone();
        use_event_listener("hashchange", move |_| {
            if let Some(t) = take_token() {
                token.set(Some(t));
            }
        });
    }
    let signed_in = session.email();
    let deciding = use_reducer(|| Deciding::Idle);
    {
        let deciding = deciding.clone();
        use_effect_with((*token).clone(), move |_| {
            deciding.dispatch(DecideAction::Reset)
        });
    }
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
    let me = match (session.name(), &signed_in) {
        (Some(name), Some(email)) if name != *email => format!("{name} ({email})"),
        (_, Some(email)) => email.clone(),
        _ => String::new(),
    };

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
            let sign_out = {
                let session = session.clone();
                Callback::from(move |_| session.sign_out())
            };
            return html! {
                <section class="panel" role="alert">
                    <h1>{ "You cannot decide this request" }</h1>
                    <p>{ e.to_string() }</p>
                    <p>{ format!("You are signed in as {me}. A decision is made by the approver the mail was sent to, signed in as themselves, so that the record names who really decided. If the mail was sent to you under another account, sign out and sign in as that person: this tab keeps the link.") }</p>
                    <div class="actions">
                        <button type="button" class="secondary" onclick={sign_out}>{ "Sign out" }</button>
                    </div>
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
            let text = format!("{} They have been told by mail.", decided_words(r))
                .replacen("Approved", "You approved", 1)
                .replacen("Denied", "You denied", 1);
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
            .or_else(|| {
                (request.status == Status::Cancelled).then(|| {
                    request
                        .cancelled_by
                        .clone()
                        .unwrap_or_else(|| request.requester.clone())
                })
            })
            .map(|who| request.name_of(&who).to_owned());
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

    let approver = request.name_of(&request.approver).to_owned();
    let requester = request.name_of(&request.requester).to_owned();
    if signed_in.is_none() && page.sign_in_required {
        return html! {
            <section class="panel">
                <h1>{ "Temporary access request" }</h1>
                <p class="lead">{ format!("{requester} asks for access to {}. Opening this page changed nothing.", request.entry_name) }</p>
                <RequestSummary request={request.clone()} sets={sets.clone()} />
                <p class="notice">{ format!("To decide, sign in as {approver} ({}), the approver this request was sent to. Your decision is then recorded under your name.", request.approver) }</p>
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
    // Who the record will name: the person signed in, or only whose link it was.
    let recorded = if signed_in.is_some() {
        format!(
            "You are signed in as {me}. Your decision is recorded under your name, with the time and your message, and {requester} is told by mail."
        )
    } else {
        format!(
            "You are not signed in: your decision is recorded as made by someone holding {approver}'s link, with the time and your message, and {requester} is told by mail."
        )
    };
    let server_errors = match &*deciding {
        Deciding::FieldErrors(f) => f.clone(),
        _ => FieldErrors::new(),
    };
    html! {
        <section class="panel">
            <h1>{ "Temporary access request" }</h1>
            <p class="lead">{ format!("{} asks for access to {}. Decide below; opening this page changed nothing.", request.name_of(&request.requester), request.entry_name) }</p>
            <RequestSummary request={request.clone()} sets={sets.clone()} />
            <p class="notice who-decides">{ recorded }</p>
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
