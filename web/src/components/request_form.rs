//! The "Temporary access request" form, in the words of the product it follows.

use std::rc::Rc;

use tempaccess_core::entry::{PermissionSet, Right};
use tempaccess_core::wire::{EntryView, NewRequestBody};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

use yew::prelude::*;

use crate::components::{DateTimeField, ErrorSummary, FieldError, described_by};
use crate::form::{FieldErrors, RequestDraft};
use crate::hooks::focus_id;
use crate::time::{self, BrowserZone, Zone};

#[derive(Properties, PartialEq)]
pub struct RequestFormProps {
    /// The entry asked for.
    pub entry: Rc<EntryView>,
    /// The requester's email.
    pub me: AttrValue,
    /// Whether the request is being sent.
    #[prop_or_default]
    pub busy: bool,
    /// The server's answer, by field.
    #[prop_or_default]
    pub server_errors: FieldErrors,
    /// Gets the checked body to send.
    pub on_submit: Callback<NewRequestBody>,
}

/// The form's state.
#[derive(Clone, PartialEq)]
pub struct FormState {
    draft: RequestDraft,
    errors: FieldErrors,
}

/// What the person does.
pub enum FormAction {
    PermissionSet(String),
    Approver(String),
    Preset(i64),
    ToggleCustom,
    Start(String),
    End(String),
    Message(String),
    Errors(FieldErrors),
}

impl Reducible for FormState {
    type Action = FormAction;

    fn reduce(self: Rc<Self>, action: FormAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let d = &mut next.draft;
        let e = &mut next.errors;
        match action {
            FormAction::PermissionSet(v) => {
                d.permission_set = v;
                e.clear("permission_set");
            }
            FormAction::Approver(v) => {
                d.approver_id = v;
                e.clear("approver_id");
            }
            FormAction::Preset(v) => {
                d.duration_seconds = v;
                e.clear("duration_seconds");
            }
            FormAction::ToggleCustom => {
                d.custom = !d.custom;
                for f in ["duration_seconds", "window", "window.start", "window.end"] {
                    e.clear(f);
                }
            }
            FormAction::Start(v) => {
                d.start = v;
                e.clear("window.start");
                e.clear("window");
            }
            FormAction::End(v) => {
                d.end = v;
                e.clear("window.end");
                e.clear("window");
            }
            FormAction::Message(v) => {
                d.message = v;
                e.clear("message");
            }
            FormAction::Errors(errors) => next.errors = errors,
        }
        Rc::new(next)
    }
}

/// The element a field's error sends focus to, and the field's name in the error
/// summary, in the form's order.
fn field_place(field: &str, entry: &EntryView, draft: &RequestDraft) -> (String, &'static str) {
    match field {
        "permission_set" => (
            format!(
                "set-{}",
                entry
                    .permission_sets
                    .iter()
                    .find(|p| p.id == draft.permission_set)
                    .or(entry.permission_sets.first())
                    .map_or("", |p| p.id.as_str())
            ),
            "Rights",
        ),
        "approver_id" => ("approver".into(), "Approver"),
        "duration_seconds" if draft.custom => ("window-end-date".into(), "End"),
        "duration_seconds" => ("duration".into(), "Access duration"),
        "window.start" => ("window-start-date".into(), "Start"),
        "window" | "window.end" => ("window-end-date".into(), "End"),
        "message" => ("message".into(), "Message"),
        _ => ("form-errors".into(), ""),
    }
}

/// The fields in the order the form shows them.
const ORDER: [&str; 7] = [
    "permission_set",
    "approver_id",
    "duration_seconds",
    "window.start",
    "window",
    "window.end",
    "message",
];

/// The errors for the summary, in the form's order: (element id, "Field: message").
fn summary(errors: &FieldErrors, entry: &EntryView, draft: &RequestDraft) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for field in ORDER
        .iter()
        .copied()
        .chain(errors.fields().filter(|f| !ORDER.contains(f)))
    {
        if let Some(message) = errors.get(field) {
            let (id, name) = field_place(field, entry, draft);
            let text = if name.is_empty() {
                crate::api::sentence(message)
            } else {
                format!("{name}: {message}")
            };
            if !out
                .iter()
                .any(|(i, t): &(String, String)| *i == id && *t == text)
            {
                out.push((id, text));
            }
        }
    }
    out
}

/// Rights, approver, "Access duration" or "Set custom time frame", "Message",
/// "Send request". Checks with the server's rules before `on_submit`; a wrong field is
/// listed at the top and gets the focus.
#[component]
pub fn RequestForm(props: &RequestFormProps) -> Html {
    let zone = BrowserZone;
    let entry = props.entry.clone();
    let me = props.me.to_string();
    let state = {
        let entry = entry.clone();
        let me = me.clone();
        use_reducer(move || FormState {
            draft: RequestDraft::new(&entry, &me, time::now(), &BrowserZone),
            errors: FieldErrors::new(),
        })
    };
    let errors = state.errors.clone().merged(&props.server_errors);
    let err = |f: &str| errors.get(f).map(|m| AttrValue::from(m.to_owned()));
    let d = &state.draft;
    {
        // The server's answer names a wrong field: go there.
        let entry = entry.clone();
        let draft = state.draft.clone();
        use_effect_with(props.server_errors.clone(), move |server| {
            if let Some((id, _)) = summary(server, &entry, &draft).first() {
                focus_id(id);
            }
        });
    }

    let onsubmit = {
        let state = state.clone();
        let entry = entry.clone();
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match state.draft.to_body(&entry, &me, time::now(), &BrowserZone) {
                Ok(body) => {
                    state.dispatch(FormAction::Errors(FieldErrors::new()));
                    on_submit.emit(body);
                }
                Err(errors) => {
                    if let Some((id, _)) = summary(&errors, &entry, &state.draft).first() {
                        focus_id(id);
                    }
                    state.dispatch(FormAction::Errors(errors));
                }
            }
        })
    };
    let on_set = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            state.dispatch(FormAction::PermissionSet(input.value()));
        })
    };
    let on_approver = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            state.dispatch(FormAction::Approver(select.value()));
        })
    };
    let on_preset = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(v) = select.value().parse() {
                state.dispatch(FormAction::Preset(v));
            }
        })
    };
    let on_toggle = {
        let state = state.clone();
        Callback::from(move |_| {
            // Focus goes to what the toggle showed: the frame's start, or the presets.
            focus_id(if state.draft.custom {
                "duration"
            } else {
                "window-start-date"
            });
            state.dispatch(FormAction::ToggleCustom);
        })
    };
    let on_start = {
        let state = state.clone();
        Callback::from(move |v: String| state.dispatch(FormAction::Start(v)))
    };
    let on_end = {
        let state = state.clone();
        Callback::from(move |v: String| state.dispatch(FormAction::End(v)))
    };
    let on_message = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlTextAreaElement = e.target_unchecked_into();
            state.dispatch(FormAction::Message(input.value()));
        })
    };

    let now = time::now();
    let zone_text = time::zone_label(
        &zone.name(),
        &zone.abbreviation(now),
        &time::offset_label(zone.offset_minutes(now)),
    );
    let utc_preview = |value: &str| {
        time::input_to_utc(value, &zone)
            .map(|t| format!("That is {} UTC.", time::wall_clock(t.naive_utc())))
            .unwrap_or_default()
    };
    let problems = summary(&errors, &entry, d);
    // Whether the rights chosen can reveal the password.
    let reveals = entry
        .permission_sets
        .iter()
        .filter(|p| p.id == d.permission_set)
        .filter_map(|p| PermissionSet::try_from(p).ok())
        .any(|p| p.allows(Right::ViewPassword));
    let message_hint = if entry.message_required {
        "Required for this entry: tell the approver why you need access."
    } else {
        "Optional, but strongly recommended: tell the approver why you need access, so they can decide."
    };
    let end_error = err("window.end").or_else(|| err("window"));

    html! {
        <form class="request-form" novalidate=true onsubmit={onsubmit} aria-describedby="form-errors">
            <div id="form-errors" tabindex="-1">
                <ErrorSummary errors={problems} />
            </div>

            <fieldset class="field" aria-describedby={described_by(None, "permission_set-error", err("permission_set").is_some())}>
                <legend>{ "Rights" }</legend>
                { for entry.permission_sets.iter().map(|p| {
                    let id = format!("set-{}", p.id);
                    html! {
                        <div class="choice">
                            <input type="radio" id={id.clone()} name="permission_set" value={p.id.clone()}
                                checked={d.permission_set == p.id} onchange={on_set.clone()} />
                            <label for={id}>{ &p.name }</label>
                        </div>
                    }
                }) }
                <FieldError id="permission_set-error" error={err("permission_set")} />
                if !entry.rotates && reveals {
                    <p class="notice warning not-rotated">
                        { "This entry's password is not rotated when your access ends: a password you see during the grant keeps working after it." }
                    </p>
                }
            </fieldset>

            <div class="field">
                <label for="approver">{ "Approver" }</label>
                <select id="approver" onchange={on_approver}
                    aria-invalid={err("approver_id").is_some().to_string()}
                    aria-describedby={described_by(None, "approver_id-error", err("approver_id").is_some())}>
                    { for entry.approvers.iter().map(|a| html! {
                        <option value={a.id.clone()} selected={d.approver_id == a.id}>
                            { format!("{} ({})", a.name, a.email) }
                        </option>
                    }) }
                </select>
                <FieldError id="approver_id-error" error={err("approver_id")} />
            </div>

            <fieldset class="field">
                <legend>{ "Access duration" }</legend>
                if d.custom {
                    <p class="hint" id="frame-hint">
                        { format!("Start and end in your time zone, {zone_text}, on a 24-hour clock. Sent in UTC.") }
                    </p>
                    <div class="frame">
                        <div>
                            <DateTimeField id="window-start" label="Start" value={d.start.clone()} on_change={on_start}
                                error={err("window.start")} error_id="window.start-error"
                                hint_ids={Some(AttrValue::from("frame-hint start-utc"))} />
                            <p class="hint" id="start-utc">{ utc_preview(&d.start) }</p>
                            <FieldError id="window.start-error" error={err("window.start")} />
                        </div>
                        <div>
                            <DateTimeField id="window-end" label="End" value={d.end.clone()} on_change={on_end}
                                error={end_error.clone()} error_id="window.end-error"
                                hint_ids={Some(AttrValue::from("frame-hint end-utc"))} />
                            <p class="hint" id="end-utc">{ utc_preview(&d.end) }</p>
                            <FieldError id="window.end-error" error={end_error} />
                        </div>
                    </div>
                    <button type="button" class="link-button" onclick={on_toggle}>{ "Use a preset duration" }</button>
                } else {
                    <label for="duration" class="visually-hidden">{ "Access duration" }</label>
                    <select id="duration" onchange={on_preset}
                        aria-invalid={err("duration_seconds").is_some().to_string()}
                        aria-describedby={described_by(Some("duration-hint"), "duration_seconds-error", err("duration_seconds").is_some())}>
                        { for entry.duration_presets_seconds.iter().map(|s| html! {
                            <option value={s.to_string()} selected={d.duration_seconds == *s}>
                                { time::describe_seconds(*s) }
                            </option>
                        }) }
                    </select>
                    <p class="hint" id="duration-hint">
                        { format!("Starts when the request is approved. At most {}.", time::describe_seconds(entry.max_duration_seconds)) }
                    </p>
                    <FieldError id="duration_seconds-error" error={err("duration_seconds")} />
                    <button type="button" class="link-button" onclick={on_toggle}>{ "Set custom time frame" }</button>
                }
            </fieldset>

            <div class="field">
                <label for="message">
                    { "Message" }
                    if entry.message_required { <span class="required">{ " (required)" }</span> }
                </label>
                <textarea id="message" rows="4" value={d.message.clone()} oninput={on_message}
                    required={entry.message_required}
                    aria-invalid={err("message").is_some().to_string()}
                    aria-describedby={described_by(Some("message-hint"), "message-error", err("message").is_some())} />
                <p class="hint" id="message-hint">{ message_hint }</p>
                <FieldError id="message-error" error={err("message")} />
            </div>

            <div class="actions">
                <button type="submit" disabled={props.busy}>
                    { if props.busy { "Sending…" } else { "Send request" } }
                </button>
            </div>
        </form>
    }
}
