//! API calls with their loading state: `use_api(deps, |api, deps| async { … })`
//! calls again when `deps` or the signed-in person change, or on `reload`.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;

use crate::api::{Api, ApiError};
use crate::hooks::use_session;

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
            }),
            ApiAction::Finished(call, _) if call != self.call => self,
            ApiAction::Finished(call, result) => Rc::new(Self {
                load: match result {
                    Ok(v) => Load::Ready(Rc::new(v)),
                    Err(e) => Load::Failed(e),
                },
                call,
            }),
        }
    }
}

/// What [`use_api`] gives.
pub struct UseApiHandle<T> {
    /// The value, or why it is not there.
    pub load: Load<T>,
    /// Calls again.
    pub reload: Callback<()>,
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
    let session = use_session();
    let state = use_reducer(|| ApiState::<T> {
        load: Load::Loading,
        call: 0,
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
    UseApiHandle {
        load: state.load.clone(),
        reload,
    }
}
