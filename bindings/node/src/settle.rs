//! Settling the operations' Promises from the runtime thread through one threadsafe function
//! per JS environment. napi-rs's deferred creates and tears down a threadsafe function for every
//! Promise (a libuv handle, an environment cleanup hook and several allocations, and a wake-up
//! of the event loop per answer); this channel is made once, and answers that arrive while the
//! event loop is busy are settled together on its next turn (`docs/BENCHMARKS.md`, "Node: one
//! completion channel").
//!
//! It keeps the event loop alive only while a Promise is pending (referenced from the first
//! pending Promise, unreferenced when the last is settled), as a Promise's own threadsafe
//! function did. When the environment tears down (a worker thread terminated), answers still
//! on their way are dropped with their Promises.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::{Object, ToNapiValue};
use napi::{check_status, sys, Env, JsValue};

use crate::convert::Json;

/// A threadsafe function handle, called from the runtime thread (what it is made for).
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: napi allows calling a threadsafe function from any thread; the mutex of `Channel`
// keeps it from being used once its environment has torn down.
unsafe impl Send for Tsfn {}

/// One environment's completion channel.
struct Channel {
    /// `None` once the environment is tearing down.
    tsfn: Mutex<Option<Tsfn>>,
}

thread_local! {
    /// The channel of the environment running on this thread (one per JS thread: the main
    /// thread and each worker thread).
    static CHANNEL: RefCell<Option<Arc<Channel>>> = const { RefCell::new(None) };
    /// This environment's Promises not settled yet.
    static PENDING: Cell<usize> = const { Cell::new(0) };
}

/// One answer on its way to the event loop.
struct Answer {
    deferred: sys::napi_deferred,
    result: napi::Result<Json>,
}

/// A Promise to settle from any thread: once, with [`Pending::settle`]; dropped unsettled (a
/// bug), it rejects rather than leave the Promise pending and the event loop referenced forever.
pub(crate) struct Pending {
    channel: Arc<Channel>,
    deferred: sys::napi_deferred,
    settled: bool,
}

// SAFETY: the deferred is only used on the JS thread, by `settle_on_loop`.
unsafe impl Send for Pending {}

impl Pending {
    /// Settles the Promise with `result` (a reply's JSON, or the error to reject with).
    pub(crate) fn settle(mut self, result: napi::Result<Json>) {
        self.send(result);
    }

    fn send(&mut self, result: napi::Result<Json>) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let answer = Box::into_raw(Box::new(Answer {
            deferred: self.deferred,
            result,
        }));
        let tsfn = self
            .channel
            .tsfn
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let queued = tsfn.as_ref().is_some_and(|t| {
            // SAFETY: the environment has not torn down (the handle is still here, and stays
            // while the lock is held); an unbounded queue takes the answer without blocking.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    t.0,
                    answer.cast(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            status == sys::Status::napi_ok
        });
        if !queued {
            // SAFETY: not handed to napi: still ours.
            drop(unsafe { Box::from_raw(answer) });
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.send(Err(napi::Error::from_reason(
            "the SDK's worker task ended without an answer (a bug: please report it)",
        )));
    }
}

/// A Promise of this environment and the handle that settles it. On the JS thread.
pub(crate) fn promise(env: &Env) -> napi::Result<(Pending, Object<'_>)> {
    let channel = channel(env)?;
    let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: on the JS thread, with its env.
    check_status!(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
    if PENDING.with(|p| p.replace(p.get() + 1)) == 0 {
        reference(env.raw(), &channel, true);
    }
    Ok((
        Pending {
            channel,
            deferred,
            settled: false,
        },
        Object::from_raw(env.raw(), promise),
    ))
}

/// References (`on`) or unreferences the channel: whether it keeps the event loop alive.
fn reference(env: sys::napi_env, channel: &Channel, on: bool) {
    let tsfn = channel.tsfn.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(t) = tsfn.as_ref() {
        // SAFETY: on the JS thread of the environment that made it, which has not torn down.
        unsafe {
            if on {
                sys::napi_ref_threadsafe_function(env, t.0);
            } else {
                sys::napi_unref_threadsafe_function(env, t.0);
            }
        }
    }
}

/// This environment's channel, made on first use.
fn channel(env: &Env) -> napi::Result<Arc<Channel>> {
    if let Some(c) = CHANNEL.with(|c| c.borrow().clone()) {
        return Ok(c);
    }
    let raw = env.raw();
    let name = env.create_string("sosopay")?;
    let mut tsfn = ptr::null_mut();
    // SAFETY: on the JS thread; no JS function (the callback settles Promises itself), no
    // queue limit, one thread count that is never released (the environment's teardown ends it).
    check_status!(unsafe {
        sys::napi_create_threadsafe_function(
            raw,
            ptr::null_mut(),
            ptr::null_mut(),
            name.raw(),
            0,
            1,
            ptr::null_mut(),
            None,
            ptr::null_mut(),
            Some(settle_on_loop),
            &mut tsfn,
        )
    })?;
    let channel = Arc::new(Channel {
        tsfn: Mutex::new(Some(Tsfn(tsfn))),
    });
    reference(raw, &channel, false);
    // Registered after the threadsafe function, so it runs before Node's own teardown of it
    // (cleanup hooks run in reverse order).
    let hook = Arc::into_raw(channel.clone()).cast_mut().cast::<c_void>();
    // SAFETY: `hook` stays valid until `teardown` takes it back.
    check_status!(unsafe { sys::napi_add_env_cleanup_hook(raw, Some(teardown), hook) })?;
    CHANNEL.with(|c| *c.borrow_mut() = Some(channel.clone()));
    Ok(channel)
}

/// The environment tears down: the channel is no longer used (Node then finalizes it).
unsafe extern "C" fn teardown(arg: *mut c_void) {
    // SAFETY: the pointer `channel` gave the hook.
    let channel = unsafe { Arc::from_raw(arg.cast_const().cast::<Channel>()) };
    channel
        .tsfn
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    CHANNEL.with(|c| c.borrow_mut().take());
}

/// On the event loop: settles one answer's Promise.
unsafe extern "C" fn settle_on_loop(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: every item of this channel is an `Answer` boxed by `Pending::send`.
    let answer = unsafe { Box::from_raw(data.cast::<Answer>()) };
    if env.is_null() {
        return; // the environment is gone, and the Promise with it
    }
    if PENDING.with(|p| p.replace(p.get().saturating_sub(1))) == 1 {
        if let Some(c) = CHANNEL.with(|c| c.borrow().clone()) {
            reference(env, &c, false);
        }
    }
    let Answer { deferred, result } = *answer;
    // SAFETY: on the JS thread, with its env and a deferred of it not settled yet.
    unsafe {
        match result.and_then(|json| Json::to_napi_value(env, json)) {
            Ok(value) => {
                sys::napi_resolve_deferred(env, deferred, value);
            }
            Err(e) => {
                let mut error = napi::Error::to_napi_value(env, e).unwrap_or(ptr::null_mut());
                if error.is_null() {
                    let mut msg = ptr::null_mut();
                    let text = c"sosopay: the answer could not be converted";
                    let len = text.to_bytes().len() as isize;
                    sys::napi_create_string_utf8(env, text.as_ptr(), len, &mut msg);
                    sys::napi_create_error(env, ptr::null_mut(), msg, &mut error);
                }
                sys::napi_reject_deferred(env, deferred, error);
            }
        }
    }
}
