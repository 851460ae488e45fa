//! The error next to a form field.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldErrorProps {
    /// The element id, which the field names in `aria-describedby`.
    pub id: AttrValue,
    /// The message, if the field is wrong.
    #[prop_or_default]
    pub error: Option<AttrValue>,
}

/// The field's error, or nothing.
#[component]
pub fn FieldError(props: &FieldErrorProps) -> Html {
    match &props.error {
        Some(message) => html! {
            <p id={props.id.clone()} class="field-error" role="alert">{ message }</p>
        },
        None => html! {},
    }
}

/// The `aria-describedby` of a field: its hint and, when wrong, its error.
pub fn described_by(hint: Option<&str>, error_id: &str, has_error: bool) -> Option<AttrValue> {
    let ids: Vec<&str> = hint
        .into_iter()
        .chain(has_error.then_some(error_id))
        .collect();
    (!ids.is_empty()).then(|| AttrValue::from(ids.join(" ")))
}
