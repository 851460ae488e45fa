//! A date and a time of day, entered as a date picker and a 24-hour "HH:MM" text field:
//! browsers draw `datetime-local` in the reader's locale, often on a 12-hour clock,
//! where every other time on the site (and in the mails) is on a 24-hour one.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::time;

#[derive(Properties, PartialEq)]
pub struct DateTimeFieldProps {
    /// The ids' base: the date is `<id>-date`, the time `<id>-time`.
    pub id: AttrValue,
    /// What it is ("Start", "End").
    pub label: AttrValue,
    /// The value as `YYYY-MM-DDTHH:MM` in the reader's zone (each part as typed).
    pub value: AttrValue,
    /// Gets the new value.
    pub on_change: Callback<String>,
    /// The field's error, if any.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// The id of the error's element (named by `aria-describedby` when wrong).
    pub error_id: AttrValue,
    /// Ids of hints describing both inputs.
    #[prop_or_default]
    pub hint_ids: Option<AttrValue>,
}

/// Two inputs in a group named by the field's label.
#[component]
pub fn DateTimeField(props: &DateTimeFieldProps) -> Html {
    let (date, clock) = time::split_input(&props.value);
    let date_id = format!("{}-date", props.id);
    let time_id = format!("{}-time", props.id);
    let legend_id = format!("{}-legend", props.id);
    let on_date = {
        let on_change = props.on_change.clone();
        let clock = clock.to_owned();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            on_change.emit(time::join_input(&i.value(), &clock));
        })
    };
    let on_time = {
        let on_change = props.on_change.clone();
        let date = date.to_owned();
        Callback::from(move |e: InputEvent| {
            let i: HtmlInputElement = e.target_unchecked_into();
            on_change.emit(time::join_input(&date, &i.value()));
        })
    };
    let invalid = props.error.is_some();
    let described: Vec<String> = props
        .hint_ids
        .iter()
        .map(ToString::to_string)
        .chain(invalid.then(|| props.error_id.to_string()))
        .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        <fieldset class="field datetime" aria-labelledby={legend_id.clone()}>
            <legend id={legend_id}>{ &props.label }</legend>
            <div class="datetime-parts">
                <div>
                    <label for={date_id.clone()} class="sub-label">{ "Date" }</label>
                    <input type="date" id={date_id} value={date.to_owned()} oninput={on_date}
                        aria-invalid={invalid.to_string()} aria-describedby={described.clone()} />
                </div>
                <div>
                    <label for={time_id.clone()} class="sub-label">{ "Time (24-hour)" }</label>
                    <input type="text" id={time_id} class="time" value={clock.to_owned()} oninput={on_time}
                        inputmode="numeric" autocomplete="off" placeholder="HH:MM" maxlength="5"
                        aria-invalid={invalid.to_string()} aria-describedby={described} />
                </div>
            </div>
        </fieldset>
    }
}
