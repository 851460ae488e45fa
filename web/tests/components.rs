//! Component tests in a real browser (`wasm-bindgen-test`, headless Chromium): the
//! request and decision forms' validation, and the time-zone conversion against the
//! browser's own `Date`. `cargo xtask test` runs them with `TZ=America/New_York`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tempaccess_core::wire::{
    DecisionBody, EntryView, MyAccessView, NewRequestBody, PermissionSetView, Person, RequestView,
    RequestedView,
};
use tempaccess_web::components::{DecisionForm, DecisionFormProps, RequestForm, RequestFormProps};
use tempaccess_web::form::FieldErrors;
use tempaccess_web::time::{self, BrowserZone, Zone};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::{AttrValue, BaseComponent, Callback};

wasm_bindgen_test_configure!(run_in_browser);

fn set(id: &str, name: &str, rights: &[&str]) -> PermissionSetView {
    PermissionSetView {
        id: id.into(),
        name: name.into(),
        rights: rights.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn entry(message_required: bool) -> Rc<EntryView> {
    let person = |n: &str| Person {
        id: format!("{n}@example.com"),
        name: n.into(),
        email: format!("{n}@example.com"),
    };
    Rc::new(EntryView {
        id: "payroll-rdp".into(),
        name: "Payroll server (RDP)".into(),
        kind: "remote-session".into(),
        folder: "Servers/Finance".into(),
        approvers: vec![person("bob"), person("dave")],
        permission_sets: vec![
            set(
                "view-password-execute",
                "View password/Execute rights",
                &["view", "view_password", "execute"],
            ),
            set("operator", "Operator (execute only)", &["view", "execute"]),
        ],
        duration_presets_seconds: vec![900, 3600, 14400],
        max_duration_seconds: 4 * 3600,
        message_required,
        my_access: MyAccessView {
            status: "none".into(),
            request_id: None,
            until: None,
        },
    })
}

async fn tick() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

/// Renders a component into a fresh element of the page.
fn mount<C: BaseComponent>(props: C::Properties) -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    root
}

fn by_id(root: &Element, id: &str) -> HtmlElement {
    root.query_selector(&format!("[id='{id}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no #{id} in {}", root.inner_html()))
        .dyn_into()
        .unwrap()
}

fn text_of(root: &Element, id: &str) -> Option<String> {
    root.query_selector(&format!("[id='{id}']"))
        .unwrap()
        .and_then(|e| e.text_content())
}

fn button(root: &Element, label: &str) -> HtmlElement {
    let buttons = root.query_selector_all("button").unwrap();
    (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .find(|b| b.text_content().as_deref().map(str::trim) == Some(label))
        .unwrap_or_else(|| panic!("no button {label:?} in {}", root.inner_html()))
}

/// Sets a field as a person's edit does: the value, then `input` and `change` events.
fn fill(root: &Element, id: &str, value: &str) {
    let field = by_id(root, id);
    js_sys::Reflect::set(&field, &"value".into(), &value.into()).unwrap();
    for kind in ["input", "change"] {
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        let event = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
        field.dispatch_event(&event).unwrap();
    }
}

fn request_form(
    entry: Rc<EntryView>,
    server_errors: FieldErrors,
) -> (Element, Rc<RefCell<Vec<NewRequestBody>>>) {
    let sent = Rc::new(RefCell::new(Vec::new()));
    let on_submit = {
        let sent = sent.clone();
        Callback::from(move |b: NewRequestBody| sent.borrow_mut().push(b))
    };
    let root = mount::<RequestForm>(RequestFormProps {
        entry,
        me: AttrValue::from("alice@example.com"),
        busy: false,
        server_errors,
        on_submit,
    });
    (root, sent)
}

/// What the browser's own `Date` makes of a `datetime-local` value.
fn js_local(value: &str) -> DateTime<Utc> {
    let ms = js_sys::Date::new(&value.into()).get_time();
    DateTime::from_timestamp_millis(ms as i64).unwrap()
}

#[wasm_bindgen_test]
async fn a_required_message_is_asked_for_before_sending() {
    let (root, sent) = request_form(entry(true), FieldErrors::new());
    tick().await;
    button(&root, "Send request").click();
    tick().await;
    assert_eq!(
        text_of(&root, "message-error").as_deref(),
        Some("this entry requires a message to the approver")
    );
    assert_eq!(
        by_id(&root, "message")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert!(
        sent.borrow().is_empty(),
        "nothing is sent while a field is wrong"
    );

    fill(&root, "message", "  Quarterly export  ");
    tick().await;
    assert_eq!(
        text_of(&root, "message-error"),
        None,
        "editing clears the error"
    );
    button(&root, "Send request").click();
    tick().await;
    let sent = sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message.as_deref(), Some("Quarterly export"));
    assert_eq!(sent[0].approver_id, "bob@example.com");
    assert_eq!(sent[0].duration_seconds, Some(900));
}

#[wasm_bindgen_test]
async fn a_custom_time_frame_is_sent_in_utc() {
    let (root, sent) = request_form(entry(false), FieldErrors::new());
    tick().await;
    button(&root, "Set custom time frame").click();
    tick().await;
    fill(&root, "window-start", "2030-07-15T09:30");
    fill(&root, "window-end", "2030-07-15T11:00");
    tick().await;
    button(&root, "Send request").click();
    tick().await;
    let sent = sent.borrow();
    assert_eq!(sent.len(), 1, "{}", root.inner_html());
    let window = sent[0].window.expect("a time frame");
    assert_eq!(sent[0].duration_seconds, None);
    assert_eq!(window.start, js_local("2030-07-15T09:30"));
    assert_eq!(window.end - window.start, TimeDelta::minutes(90));
}

#[wasm_bindgen_test]
async fn time_frames_follow_the_entry_and_the_server_rules() {
    let (root, sent) = request_form(entry(false), FieldErrors::new());
    tick().await;
    button(&root, "Set custom time frame").click();
    tick().await;
    fill(&root, "window-start", "2030-07-15T09:00");
    fill(&root, "window-end", "2030-07-15T14:00");
    tick().await;
    button(&root, "Send request").click();
    tick().await;
    assert_eq!(
        text_of(&root, "window.end-error").as_deref(),
        Some("this entry allows at most 4 h")
    );
    fill(&root, "window-end", "2030-07-15T08:00");
    tick().await;
    button(&root, "Send request").click();
    tick().await;
    assert_eq!(
        text_of(&root, "window.end-error").as_deref(),
        Some("must be after start")
    );
    fill(&root, "window-start", "");
    tick().await;
    button(&root, "Send request").click();
    tick().await;
    assert_eq!(
        text_of(&root, "window.start-error").as_deref(),
        Some("enter the date and time access begins")
    );
    assert!(sent.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn the_servers_field_errors_show_next_to_the_field() {
    let mut errors = FieldErrors::new();
    errors.add(
        "approver_id",
        "that person is not an approver of this entry",
    );
    errors.add("idempotency", "something the form has no field for");
    let (root, _) = request_form(entry(false), errors);
    tick().await;
    assert_eq!(
        text_of(&root, "approver_id-error").as_deref(),
        Some("that person is not an approver of this entry")
    );
    assert!(
        text_of(&root, "form-errors")
            .unwrap_or_default()
            .contains("idempotency: something the form has no field for")
    );
}

fn pending(requested: RequestedView) -> Rc<RequestView> {
    let t = DateTime::parse_from_rfc3339("2030-07-15T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    Rc::new(RequestView {
        id: "01J".into(),
        entry_id: "payroll-rdp".into(),
        entry_name: "Payroll server (RDP)".into(),
        requester: "alice@example.com".into(),
        approver: "bob@example.com".into(),
        permission_set: "view-password-execute".into(),
        granted_permission_set: None,
        requested,
        message: "export".into(),
        status: "pending".into(),
        created_at: t,
        expires_at: t,
        decided_at: None,
        decided_by: None,
        decision_comment: None,
        starts_at: None,
        ends_at: None,
        cancelled_at: None,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    })
}

#[wasm_bindgen_test]
async fn approvers_approve_shorter_and_narrower_or_deny() {
    let decided = Rc::new(RefCell::new(Vec::<DecisionBody>::new()));
    let on_decide = {
        let decided = decided.clone();
        Callback::from(move |b: DecisionBody| decided.borrow_mut().push(b))
    };
    let root = mount::<DecisionForm>(DecisionFormProps {
        request: pending(RequestedView {
            duration_seconds: Some(3600),
            window: None,
        }),
        sets: Rc::new(entry(false).permission_sets.clone()),
        busy: false,
        server_errors: FieldErrors::new(),
        on_decide,
        id_prefix: AttrValue::from("d"),
    });
    tick().await;
    by_id(&root, "d-shorter").click();
    tick().await;
    fill(&root, "d-duration", "900");
    fill(&root, "d-set", "operator");
    fill(&root, "d-comment", "a quarter of an hour");
    tick().await;
    button(&root, "Approve").click();
    button(&root, "Deny").click();
    tick().await;
    let decided = decided.borrow();
    assert_eq!(decided.len(), 2);
    assert_eq!(decided[0].duration_seconds, Some(900));
    assert_eq!(decided[0].permission_set.as_deref(), Some("operator"));
    assert_eq!(decided[0].comment.as_deref(), Some("a quarter of an hour"));
    assert_eq!(
        decided[1].duration_seconds, None,
        "a denial narrows nothing"
    );
    assert_eq!(decided[1].comment.as_deref(), Some("a quarter of an hour"));
}

#[wasm_bindgen_test]
fn local_times_convert_as_the_browser_reads_them() {
    // Every 5 hours through 2030: both changes of summer time are crossed.
    let zone = BrowserZone;
    let mut local = chrono::NaiveDate::from_ymd_opt(2030, 1, 1)
        .unwrap()
        .and_hms_opt(0, 30, 0)
        .unwrap();
    for _ in 0..(366 * 24 / 5) {
        let value = local.format(time::INPUT_FORMAT).to_string();
        let ours = time::input_to_utc(&value, &zone).unwrap();
        assert_eq!(ours, js_local(&value), "{value}");
        let offset = -(js_sys::Date::new(&(ours.timestamp_millis() as f64).into())
            .get_timezone_offset() as i32);
        assert_eq!(zone.offset_minutes(ours), offset, "{value}");
        local += TimeDelta::hours(5);
    }
}

#[wasm_bindgen_test]
fn new_york_times_are_shown_with_the_zone_named() {
    let zone = BrowserZone;
    assert_eq!(
        zone.name(),
        "America/New_York",
        "run with TZ=America/New_York (cargo xtask test sets it)"
    );
    let winter = DateTime::parse_from_rfc3339("2030-01-15T14:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let summer = DateTime::parse_from_rfc3339("2030-07-15T13:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(time::format(winter, &zone), "Tue 15 Jan 2030, 09:30 EST");
    assert_eq!(time::format(summer, &zone), "Mon 15 Jul 2030, 09:30 EDT");
    assert_eq!(time::input_value(summer, &zone), "2030-07-15T09:30");
    // 02:30 on 10 March 2030 does not exist in New York: it is 03:30 EDT.
    assert_eq!(
        time::rfc3339(time::input_to_utc("2030-03-10T02:30", &zone).unwrap()),
        "2030-03-10T07:30:00Z"
    );
    // 01:30 on 3 November 2030 happens twice: the first, EDT.
    assert_eq!(
        time::rfc3339(time::input_to_utc("2030-11-03T01:30", &zone).unwrap()),
        "2030-11-03T05:30:00Z"
    );
}
