//! The one modal dialog of the site (cancel, end, revoke, deny): a native `<dialog>`
//! opened as modal, so the page behind is inert; the question as its title, the
//! consequence in words, an optional or required reason, and two buttons that say
//! what they do ("Cancel request" / "Keep it", never "OK" / "Cancel").
//!
//! As the WAI-ARIA dialog pattern asks: focus goes in (to the reason, else to the
//! harmless button), Tab and Shift+Tab stay inside, Escape is the harmless button, and
//! focus returns to what opened the dialog (or to the page's heading when that is gone).

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::FieldError;
use crate::hooks::after_render;

/// A reason field in a dialog.
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonField {
    /// Its label.
    pub label: AttrValue,
    /// What it is for, under it.
    pub hint: Option<AttrValue>,
    /// The error when left empty; `None` when the reason is optional.
    pub required: Option<AttrValue>,
    /// What it holds when the dialog opens.
    pub initial: AttrValue,
}

#[derive(Properties, PartialEq)]
pub struct DialogProps {
    /// A prefix for the dialog's element ids.
    pub id: AttrValue,
    /// The question, as the dialog's title.
    pub title: AttrValue,
    /// What happens, in words for this request's state.
    pub children: Html,
    /// The button that does it ("Cancel request", "Revoke access").
    pub confirm_label: AttrValue,
    /// The button that does nothing ("Keep it").
    pub cancel_label: AttrValue,
    /// Whether the action destroys something (a red button).
    #[prop_or_default]
    pub danger: bool,
    /// Whether the action is running.
    #[prop_or_default]
    pub busy: bool,
    /// Why the last try failed.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// A reason field, if the action takes one.
    #[prop_or_default]
    pub reason: Option<ReasonField>,
    /// Confirmed, with the reason (trimmed; `None` when empty).
    pub on_confirm: Callback<Option<String>>,
    /// Not confirmed (the harmless button, or Escape).
    pub on_cancel: Callback<()>,
}

/// The elements Tab stops at inside `root`, in order.
fn focusables(root: &web_sys::Element) -> Vec<HtmlElement> {
    let Ok(list) = root.query_selector_all(
        "button:not([disabled]), textarea:not([disabled]), input:not([disabled]), \
         select:not([disabled]), a[href]",
    ) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

fn active_element() -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .active_element()?
        .dyn_into::<HtmlElement>()
        .ok()
}

/// Where focus goes when what opened a dialog is gone: the page's heading.
fn focus_heading() {
    if let Some(h) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("main h1").ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = h.set_attribute("tabindex", "-1");
        let _ = h.focus();
    }
}

/// A modal dialog asking to confirm one action.
#[component]
pub fn Dialog(props: &DialogProps) -> Html {
    let node = use_node_ref();
    let reason_ref = use_node_ref();
    let keep_ref = use_node_ref();
    let reason = {
        let initial = props
            .reason
            .as_ref()
            .map(|r| r.initial.to_string())
            .unwrap_or_default();
        use_state(move || initial)
    };
    let missing = use_state(|| false);
    {
        let node = node.clone();
        let first = if props.reason.is_some() {
            reason_ref.clone()
        } else {
            keep_ref.clone()
        };
        use_effect_with((), move |_| {
            let opener = active_element();
            let dialog = node.cast::<web_sys::HtmlDialogElement>();
            if let Some(dialog) = &dialog
                && !dialog.open()
            {
                let _ = dialog.show_modal();
            }
            if let Some(el) = first.cast::<HtmlElement>() {
                let _ = el.focus();
            }
            move || {
                // Closed first (a modal dialog taken out of the page while open would
                // leave the focus nowhere), and the focus returned once it is gone.
                if let Some(dialog) = &dialog {
                    dialog.close();
                }
                after_render(move || match opener {
                    Some(el) if el.is_connected() => {
                        let _ = el.focus();
                    }
                    _ => focus_heading(),
                });
            }
        });
    }
    let id = |s: &str| format!("{}-{s}", props.id);
    let cancel = props.on_cancel.clone();
    let onkeydown = {
        let node = node.clone();
        let cancel = cancel.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                cancel.emit(());
                return;
            }
            if e.key() != "Tab" {
                return;
            }
            let Some(root) = node.cast::<web_sys::Element>() else {
                return;
            };
            let stops = focusables(&root);
            let (Some(first), Some(last)) = (stops.first(), stops.last()) else {
                return;
            };
            let active = active_element();
            let at = |el: &HtmlElement| active.as_ref() == Some(el);
            if e.shift_key() && (at(first) || active.is_none()) {
                e.prevent_default();
                let _ = last.focus();
            } else if !e.shift_key() && at(last) {
                e.prevent_default();
                let _ = first.focus();
            }
        })
    };
    // The browser's own Escape handling closes the dialog: keep it open, and let the
    // page decide (it removes the dialog).
    let oncancel = {
        let cancel = cancel.clone();
        Callback::from(move |e: Event| {
            e.prevent_default();
            cancel.emit(());
        })
    };
    let oninput = {
        let reason = reason.clone();
        let missing = missing.clone();
        Callback::from(move |e: InputEvent| {
            let t: HtmlTextAreaElement = e.target_unchecked_into();
            reason.set(t.value());
            missing.set(false);
        })
    };
    let confirm = {
        let reason = reason.clone();
        let missing = missing.clone();
        let required = props.reason.as_ref().is_some_and(|r| r.required.is_some());
        let on_confirm = props.on_confirm.clone();
        let reason_ref = reason_ref.clone();
        Callback::from(move |_| {
            let text = reason.trim().to_owned();
            if required && text.is_empty() {
                missing.set(true);
                if let Some(el) = reason_ref.cast::<HtmlElement>() {
                    let _ = el.focus();
                }
                return;
            }
            on_confirm.emit((!text.is_empty()).then_some(text));
        })
    };
    let field_error = match (&props.reason, *missing) {
        (
            Some(ReasonField {
                required: Some(m), ..
            }),
            true,
        ) => Some(m.clone()),
        _ => None,
    };
    let reason_field = props.reason.as_ref().map(|r| {
        let hint_id = id("reason-hint");
        let error_id = id("reason-error");
        let described = [
            r.hint.as_ref().map(|_| hint_id.clone()),
            field_error.as_ref().map(|_| error_id.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        html! {
            <div class="field">
                <label for={id("reason")}>
                    { &r.label }
                    if r.required.is_none() { <span class="optional">{ " (optional)" }</span> }
                </label>
                <textarea id={id("reason")} ref={reason_ref.clone()} rows="3" value={(*reason).clone()} {oninput}
                    aria-invalid={field_error.is_some().to_string()}
                    aria-describedby={(!described.is_empty()).then_some(described)} />
                if let Some(hint) = &r.hint {
                    <p class="hint" id={hint_id}>{ hint }</p>
                }
                <FieldError id={error_id} error={field_error.clone()} />
            </div>
        }
    });
    let role = if props.reason.is_some() {
        "dialog"
    } else {
        "alertdialog"
    };
    html! {
        <dialog ref={node} class="dialog" role={role} aria-modal="true"
            aria-labelledby={id("title")} aria-describedby={id("body")} {onkeydown} {oncancel}>
            <h2 id={id("title")}>{ &props.title }</h2>
            <div id={id("body")} class="dialog-body">{ props.children.clone() }</div>
            { for reason_field }
            if let Some(e) = &props.error {
                <p class="field-error" role="alert">{ e }</p>
            }
            <div class="actions">
                <button type="button" class={classes!(props.danger.then_some("danger"))}
                    disabled={props.busy} onclick={confirm}>
                    { if props.busy { AttrValue::from("Working…") } else { props.confirm_label.clone() } }
                </button>
                <button type="button" class="secondary" ref={keep_ref} onclick={move |_| cancel.emit(())}>
                    { &props.cancel_label }
                </button>
            </div>
        </dialog>
    }
}
