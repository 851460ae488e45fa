//! The approver's decision: approve as asked, shorter, narrower, or deny, with a
//! message to the requester.

use std::rc::Rc;

use tempaccess_core::wire::{DecisionBody, PermissionSetView, RequestView};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::{DateTimeField, Dialog, FieldError, ReasonField, TimeText, described_by};
use crate::decision::{self, Approve, DecisionDraft};
use crate::form::FieldErrors;
use crate::hooks::focus_id;
use crate::time::{self, BrowserZone, Zone};

#[derive(Properties, PartialEq)]
pub struct DecisionFormProps {
    /// The request decided.
    pub request: Rc<RequestView>,
    /// The entry's permission sets (for names and narrower choices).
    pub sets: Rc<Vec<PermissionSetView>>,
    /// Whether the decision is being sent.
    #[prop_or_default]
    pub busy: bool,
    /// The server's answer, by field.
    #[prop_or_default]
    pub server_errors: FieldErrors,
    /// Gets the checked decision to send.
    pub on_decide: Callback<DecisionBody>,
    /// A prefix for element ids, so several forms fit on one page.
    #[prop_or(AttrValue::Static("decision"))]
    pub id_prefix: AttrValue,
}

#[derive(Clone, PartialEq)]
pub struct DecisionState {
    draft: DecisionDraft,
    errors: FieldErrors,
}

pub enum DecisionAction {
    Approve(Approve),
    Duration(i64),
    Start(String),
    End(String),
    PermissionSet(String),
    Comment(String),
    Errors(FieldErrors),
}

impl Reducible for DecisionState {
    type Action = DecisionAction;

    fn reduce(self: Rc<Self>, action: DecisionAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let d = &mut next.draft;
        match action {
            DecisionAction::Approve(a) => d.approve = a,
            DecisionAction::Duration(s) => d.duration_seconds = s,
            DecisionAction::Start(v) => d.start = v,
            DecisionAction::End(v) => d.end = v,
            DecisionAction::PermissionSet(v) => d.permission_set = v,
            DecisionAction::Comment(v) => d.comment = v,
            DecisionAction::Errors(e) => {
                next.errors = e;
                return Rc::new(next);
            }
        }
        next.errors = FieldErrors::new();
        Rc::new(next)
    }
}

const SHOWN: [&str; 6] = [
    "duration_seconds",
    "window",
    "window.start",
    "window.end",
    "permission_set",
    "comment",
];

/// The decision form.
#[component]
pub fn DecisionForm(props: &DecisionFormProps) -> Html {
    let zone = BrowserZone;
    let request = props.request.clone();
    let sets = props.sets.clone();
    let state = {
        let request = request.clone();
        use_reducer(move || DecisionState {
            draft: DecisionDraft::new(&request, &BrowserZone),
            errors: FieldErrors::new(),
        })
    };
    let p = props.id_prefix.to_string();
    let id = |s: &str| format!("{p}-{s}");
    let errors = state.errors.clone().merged(&props.server_errors);
    let err = |f: &str| errors.get(f).map(|m| AttrValue::from(m.to_owned()));
    let d = &state.draft;
    let asked = decision::asked_seconds(&request);
    let shorter = decision::shorter_durations(asked);
    let narrower = decision::narrower_sets(&request.permission_set, &sets);
    let is_frame = request.requested.window.is_some();

    let approve = {
        let state = state.clone();
        let request = request.clone();
        let sets = sets.clone();
        let on_decide = props.on_decide.clone();
        let prefix = p.clone();
        Callback::from(move |_| {
            match state
                .draft
                .approval(&request, &sets, time::now(), &BrowserZone)
            {
                Ok(body) => on_decide.emit(body),
                Err(e) => {
                    // The first wrong field, in the form's order, gets the focus.
                    let target = [
                        ("duration_seconds", "duration"),
                        ("window.start", "start-date"),
                        ("window", "end-date"),
                        ("window.end", "end-date"),
                        ("permission_set", "set"),
                        ("comment", "comment"),
                    ]
                    .into_iter()
                    .find(|(field, _)| e.get(field).is_some())
                    .map_or("errors", |(_, el)| el);
                    focus_id(&format!("{prefix}-{target}"));
                    state.dispatch(DecisionAction::Errors(e));
                }
            }
        })
    };
    // Deny asks first, with the message to the requester (optional).
    let denying = use_state(|| false);
    let deny = {
        let denying = denying.clone();
        Callback::from(move |_| denying.set(true))
    };
    let confirm_deny = {
        let state = state.clone();
        let denying = denying.clone();
        let on_decide = props.on_decide.clone();
        Callback::from(move |reason: Option<String>| {
            let draft = DecisionDraft {
                comment: reason.unwrap_or_else(|| state.draft.comment.clone()),
                ..state.draft.clone()
            };
            denying.set(false);
            match draft.denial() {
                Ok(body) => on_decide.emit(body),
                Err(e) => state.dispatch(DecisionAction::Errors(e)),
            }
        })
    };
    let keep = {
        let denying = denying.clone();
        Callback::from(move |_| denying.set(false))
    };
    let mode = |a: Approve| {
        let state = state.clone();
        Callback::from(move |_: Event| state.dispatch(DecisionAction::Approve(a)))
    };
    let on_duration = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(v) = s.value().parse() {
                state.dispatch(DecisionAction::Duration(v));
            }
        })
    };
    let on_start = {
        let state = state.clone();
        Callback::from(move |v: String| state.dispatch(DecisionAction::Start(v)))
    };
    let on_end = {
        let state = state.clone();
        Callback::from(move |v: String| state.dispatch(DecisionAction::End(v)))
    };
    let on_set = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let s: HtmlSelectElement = e.target_unchecked_into();
            state.dispatch(DecisionAction::PermissionSet(s.value()));
        })
    };
    let on_comment = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            state.dispatch(DecisionAction::Comment(t.value()));
        })
    };
    let radio = |a: Approve, key: &str, label: String| {
        let rid = id(key);
        html! {
            <div class="choice">
                <input type="radio" id={rid.clone()} name={id("approve")} checked={d.approve == a} onchange={mode(a)} />
                <label for={rid}>{ label }</label>
            </div>
        }
    };
    let preview = decision::preview_end(d, &request, &sets, time::now(), &zone);
    let others = errors.others(&SHOWN);
    let requester = request.name_of(&request.requester).to_owned();
    let zone_text = time::zone_label(
        &zone.name(),
        &zone.abbreviation(time::now()),
        &time::offset_label(zone.offset_minutes(time::now())),
    );

    html! {
        <form class="decision-form" novalidate=true onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <div id={id("errors")} tabindex="-1">
                if !others.is_empty() {
                    <div class="notice error" role="alert">
                        <ul>{ for others.iter().map(|o| html! { <li>{ crate::api::sentence(o) }</li> }) }</ul>
                    </div>
                }
            </div>
            <fieldset class="field">
                <legend>{ "Approve" }</legend>
                { radio(Approve::AsRequested, "as-requested", format!("As requested ({})", time::describe_seconds(asked))) }
                if !shorter.is_empty() {
                    { radio(Approve::Shorter, "shorter", "For a shorter duration".to_owned()) }
                }
                if d.approve == Approve::Shorter {
                    <div class="field nested">
                        <label for={id("duration")}>{ "Shorter duration" }</label>
                        <select id={id("duration")} onchange={on_duration}
                            aria-describedby={described_by(None, &id("duration-error"), err("duration_seconds").is_some())}>
                            { for shorter.iter().map(|s| html! {
                                <option value={s.to_string()} selected={d.duration_seconds == *s}>{ time::describe_seconds(*s) }</option>
                            }) }
                        </select>
                        <FieldError id={id("duration-error")} error={err("duration_seconds")} />
                    </div>
                }
                if is_frame {
                    { radio(Approve::Narrower, "narrower", "For a narrower time frame".to_owned()) }
                }
                if d.approve == Approve::Narrower {
                    <div class="frame nested">
                        <div>
                            <DateTimeField id={id("start")} label="Start" value={d.start.clone()} on_change={on_start}
                                error={err("window.start")} error_id={id("start-error")}
                                hint_ids={Some(AttrValue::from(id("frame-hint")))} />
                            <FieldError id={id("start-error")} error={err("window.start")} />
                        </div>
                        <div>
                            <DateTimeField id={id("end")} label="End" value={d.end.clone()} on_change={on_end}
                                error={err("window.end").or_else(|| err("window"))} error_id={id("end-error")}
                                hint_ids={Some(AttrValue::from(id("frame-hint")))} />
                            <FieldError id={id("end-error")} error={err("window.end").or_else(|| err("window"))} />
                        </div>
                        <p class="hint" id={id("frame-hint")}>{ format!("In your time zone, {}, on a 24-hour clock.", zone_text) }</p>
                    </div>
                }
                if let Some(end) = preview {
                    <p class="hint" aria-live="polite">{ "If approved now, access ends " }<TimeText at={end} />{ "." }</p>
                }
            </fieldset>
            if narrower.len() > 1 {
                <div class="field">
                    <label for={id("set")}>{ "Rights granted" }</label>
                    <select id={id("set")} onchange={on_set}
                        aria-describedby={described_by(None, &id("set-error"), err("permission_set").is_some())}>
                        { for narrower.iter().map(|s| html! {
                            <option value={s.id.clone()} selected={d.permission_set == s.id}>{ &s.name }</option>
                        }) }
                    </select>
                    <FieldError id={id("set-error")} error={err("permission_set")} />
                </div>
            }
            <div class="field">
                <label for={id("comment")}>{ "Message to the requester" }</label>
                <textarea id={id("comment")} rows="3" value={d.comment.clone()} oninput={on_comment}
                    aria-describedby={described_by(Some(&id("comment-hint")), &id("comment-error"), err("comment").is_some())} />
                <p class="hint" id={id("comment-hint")}>{ "Optional. The requester reads it in the outcome mail and the report." }</p>
                <FieldError id={id("comment-error")} error={err("comment")} />
            </div>
            <div class="actions">
                <button type="button" onclick={approve} disabled={props.busy}>{ "Approve" }</button>
                <button type="button" class="danger" onclick={deny} disabled={props.busy}
                    aria-haspopup="dialog">{ "Deny" }</button>
            </div>
            if *denying {
                <Dialog id={id("deny")} title={format!("Deny {requester}'s request?")}
                    confirm_label="Deny request" cancel_label="Go back" danger=true
                    reason={Some(ReasonField {
                        label: AttrValue::from("Message to the requester"),
                        hint: Some(AttrValue::from(format!("{requester} reads it in the mail that tells them, and in the report."))),
                        required: None,
                        initial: AttrValue::from(d.comment.clone()),
                    })}
                    on_confirm={confirm_deny} on_cancel={keep}>
                    <p>{ format!("{requester} will be told that their request for {} was denied. This cannot be undone: they would have to ask again.", request.entry_name) }</p>
                </Dialog>
            }
        </form>
    }
}
