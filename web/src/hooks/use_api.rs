//! API calls with their loading state: `use_api(deps, |api, deps| async { … })`
//! calls again when `deps` or the signed-in person change, or on `reload`; and
//! `use_live_api` also calls again on its own, so a page follows the truth without a
//! Refresh button.
//!
//! Live pages poll, with backoff. Server-sent events would need a connection held open
//! per page, which API Gateway's HTTP API in front of Lambda cannot do; a poll is one
//! short request the same stack already serves, and it pauses while the page is hidden.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use yew::prelude::*;

use crate::api::{Api, ApiError};
use crate::hooks::use_browser::{Timeout, page_hidden, use_event_listener};
use crate::hooks::use_session;
use crate::time;

/// A value being loaded.
#[derive(Debug)]
pub enum Load<T> {
    /// Not there yet.
    Loading,
    /// Here.
    Ready(Rc<T>),
    /// The call failed.
    Failed(ApiError),
}

impl<T> Clone for Load<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Loading => Self::Loading,
            Self::Ready(v) => Self::Ready(v.clone()),
            Self::Failed(e) => Self::Failed(e.clone()),
        }
    }
}

struct ApiState<T> {
    load: Load<T>,
    /// Which call the state belongs to: late answers of older calls are dropped.
    call: u32,
    /// Calls finished so far (a live page schedules its next call after each).
    finished: u32,
    /// Calls failed in a row.
    failures: u32,
    /// Why the last refresh failed while an older value is still shown.
    stale: Option<ApiError>,
}

enum ApiAction<T> {
    Started(u32),
    Finished(u32, Result<T, ApiError>),
}

impl<T> Reducible for ApiState<T> {
    type Action = ApiAction<T>;

    fn reduce(self: Rc<Self>, action: ApiAction<T>) -> Rc<Self> {
        match action {
            ApiAction::Started(call) => Rc::new(Self {
                // Keep showing the last value while reloading it.
                load: match &self.load {
                    Load::Ready(v) => Load::Ready(v.clone()),
                    _ => Load::Loading,
                },
                call,
                finished: self.finished,
                failures: self.failures,
                stale: self.stale.clone(),
            }),
            ApiAction::Finished(call, _) if call != self.call => self,
            ApiAction::Finished(call, result) => {
                let finished = self.finished + 1;
                Rc::new(match (result, &self.load) {
                    (Ok(v), _) => Self {
                        load: Load::Ready(Rc::new(v)),
                        call,
                        finished,
                        failures: 0,
                        stale: None,
                    },
                    // A failed refresh keeps what was shown, and says so.
                    (Err(e), Load::Ready(v)) if e.status() != Some(401) => Self {
                        load: Load::Ready(v.clone()),
                        call,
                        finished,
                        failures: self.failures + 1,
                        stale: Some(e),
                    },
                    (Err(e), _) => Self {
                        load: Load::Failed(e),
                        call,
                        finished,
                        failures: self.failures + 1,
                        stale: None,
                    },
                })
            }
        }
    }
}

/// What [`use_api`] gives.
pub struct UseApiHandle<T> {
    /// The value, or why it is not there.
    pub load: Load<T>,
    /// Calls again.
    pub reload: Callback<()>,
    /// Why the last refresh failed, while the value shown is the one before.
    pub stale: Option<ApiError>,
}

/// How a live page calls again on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    /// Every this many milliseconds (doubled after each failure, up to two minutes).
    pub every_ms: i64,
    /// And just after this instant (a grant's end), if sooner.
    pub wake_at: Option<DateTime<Utc>>,
}

/// The longest wait between two calls of a live page, however many failed.
const MAX_BACKOFF_MS: i64 = 120_000;

impl Live {
    /// Every `every_ms`.
    pub fn every(every_ms: i64) -> Self {
        Self {
            every_ms,
            wake_at: None,
        }
    }

    /// Also just after `at`, when given.
    pub fn waking_at(self, at: Option<DateTime<Utc>>) -> Self {
        Self {
            wake_at: at,
            ..self
        }
    }

    /// How long to wait before the next call after `failures` failures in a row, at
    /// `now`.
    pub fn delay_ms(&self, failures: u32, now: DateTime<Utc>) -> i64 {
        let backoff = self
            .every_ms
            .saturating_mul(1i64 << failures.min(10))
            .min(MAX_BACKOFF_MS.max(self.every_ms));
        match self.wake_at {
            // A second after the instant, when the server has surely moved on.
            Some(at) if failures == 0 && at > now => {
                backoff.min((at - now).num_milliseconds() + 1000)
            }
            _ => backoff,
        }
    }
}

/// Calls the API when `deps` (or the signed-in person) change, keeping the answer.
#[hook]
pub fn use_api<T, D, F, Fut>(deps: D, call: F) -> UseApiHandle<T>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(Api, D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_live_api(deps, None, call)
}

/// [`use_api`], and with `live` also again on its own: after each answer it waits
/// `live`'s delay (longer after failures), skips the call while the page is hidden and
/// makes it as soon as the page shows again.
#[hook]
pub fn use_live_api<T, D, F, Fut>(deps: D, live: Option<Live>, call: F) -> UseApiHandle<T>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(Api, D) -> Fut + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let session = use_session();
    let state = use_reducer(|| ApiState::<T> {
        load: Load::Loading,
        call: 0,
        finished: 0,
        failures: 0,
        stale: None,
    });
    let reloads = use_state(|| 0u32);
    let calls = use_mut_ref(|| Cell::new(0u32));
    {
        let dispatcher = state.dispatcher();
        let api = session.api();
        use_effect_with((deps, *reloads, session.email()), move |(deps, _, _)| {
            let n = calls.borrow().get() + 1;
            calls.borrow().set(n);
            dispatcher.dispatch(ApiAction::Started(n));
            let deps = deps.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = call(api, deps).await;
                dispatcher.dispatch(ApiAction::Finished(n, result));
            });
        });
    }
    let reload = {
        let reloads = reloads.clone();
        Callback::from(move |_| reloads.set(*reloads + 1))
    };
    use_live_reload(live, state.finished, state.failures, reload.clone());
    UseApiHandle {
        load: state.load.clone(),
        reload,
        stale: state.stale.clone(),
    }
}

/// The part of [`use_live_api`] that does not depend on what is loaded (a hook of its
/// own, so the wasm has it once rather than once per page): after each answer (the
/// `finished`-th), with `live`, reloads after its delay, or as soon as the page shows
/// again if it was hidden when the call came due.
#[hook]
fn use_live_reload(live: Option<Live>, finished: u32, failures: u32, reload: Callback<()>) {
    // A call that came due while the page was hidden, made when it shows again.
    let due = use_mut_ref(|| Cell::new(false));
    {
        let reload = reload.clone();
        let due = due.clone();
        use_effect_with((finished, live), move |(_, live)| {
            let timer = live.and_then(|live| {
                Timeout::new(live.delay_ms(failures, time::now()), move || {
                    if page_hidden() {
                        due.borrow().set(true);
                    } else {
                        reload.emit(());
                    }
                })
            });
            move || drop(timer)
        });
    }
    use_event_listener("visibilitychange", move |_| {
        if !page_hidden() && due.borrow().replace(false) {
            reload.emit(());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn live_pages_back_off_after_failures_and_wake_at_an_end() {
        let now = t("2030-01-15T10:00:00Z");
        let live = Live::every(10_000);
        assert_eq!(live.delay_ms(0, now), 10_000);
        assert_eq!(live.delay_ms(1, now), 20_000);
        assert_eq!(live.delay_ms(3, now), 80_000);
        assert_eq!(live.delay_ms(9, now), MAX_BACKOFF_MS);
        let ending = live.waking_at(Some(t("2030-01-15T10:00:03Z")));
        assert_eq!(ending.delay_ms(0, now), 4_000);
        let past = live.waking_at(Some(t("2030-01-15T09:00:00Z")));
        assert_eq!(past.delay_ms(0, now), 10_000);
    }
}
