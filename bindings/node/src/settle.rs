//! Settling the operations' Promises from the runtime thread through one threadsafe function
//! per JS environment. napi-rs's deferred creates and tears down a threadsafe function for every
//! Promise (a libuv handle, an environment cleanup hook and several allocations, and a wake-up
//! of the event loop per answer); this channel is made once, and answers that arrive while the
//! event loop is busy are settled together on its next turn (`docs/BENCHMARKS.md`, "Node: one
//! completion channel").
//!
//! The same channel starts the flows ([`on_next_turn`]): on a later turn of the event loop, once
//! the JS code that called one (and the microtasks it queued) has run to its end, so that an
//! abort in that code always lands before the flow starts.
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
    /// This environment's Promises not settled yet, and work not started yet ([`on_next_turn`]).
    static PENDING: Cell<usize> = const { Cell::new(0) };
}

/// One answer on its way to the event loop.
struct Answer {
    deferred: sys::napi_deferred,
    result: napi::Result<Json>,
}

/// What the channel carries to the event loop.
enum Item {
    /// A Promise to settle.
    Answer(Answer),
    /// Work to start on a later turn ([`on_next_turn`]).
    Start(Box<dyn FnOnce() + Send>),
}

/// Queues `item` on `channel` without blocking; `false` (the item dropped) once the environment
/// has torn down.
fn queue(channel: &Channel, item: Item) -> bool {
    let item = Box::into_raw(Box::new(item));
    let queued = {
        let tsfn = channel.tsfn.lock().unwrap_or_else(PoisonError::into_inner);
        tsfn.as_ref().is_some_and(|t| {
            // SAFETY: the environment has not torn down (the handle is still here, and stays
            // while the lock is held); an unbounded queue takes the item without blocking.
            let status = unsafe {
                sys::napi_call_threadsafe_function(
                    t.0,
                    item.cast(),
                    sys::ThreadsafeFunctionCallMode::nonblocking,
                )
            };
            status == sys::Status::napi_ok
        })
    };
    if !queued {
        // SAFETY: not handed to napi: still ours. Dropped with the lock released: a `Start`
        // item holds a `Pending`, whose drop queues its rejection (and takes the lock).
        drop(unsafe { Box::from_raw(item) });
    }
    queued
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
        queue(
            &self.channel,
            Item::Answer(Answer {
                deferred: self.deferred,
                result,
            }),
        );
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
    hold(env.raw(), &channel);
    Ok((
        Pending {
            channel,
            deferred,
            settled: false,
        },
        Object::from_raw(env.raw(), promise),
    ))
}

/// Runs `start` on this environment's event loop on a later turn: once the JS code running now
/// has returned to the event loop (with the microtasks and `process.nextTick` callbacks it
/// queued), never before. On the JS thread. Until then it keeps the event loop alive, as a
/// pending Promise does; should the environment tear down first, `start` is dropped unrun.
///
/// The flows start so: an abort (an `AbortSignal`, a `CancelToken`) in the code that called one
/// is then always seen before the flow sends anything, rather than racing the worker thread.
pub(crate) fn on_next_turn(env: &Env, start: impl FnOnce() + Send + 'static) -> napi::Result<()> {
    let channel = channel(env)?;
    hold(env.raw(), &channel);
    if !queue(&channel, Item::Start(Box::new(start))) {
        release(env.raw());
    }
    Ok(())
}

/// One more item of this environment on its way: the channel keeps the event loop alive.
fn hold(env: sys::napi_env, channel: &Channel) {
    if PENDING.with(|p| p.replace(p.get() + 1)) == 0 {
        reference(env, channel, true);
    }
}

/// One item fewer: the last one unreferences the channel.
fn release(env: sys::napi_env) {
    if PENDING.with(|p| p.replace(p.get().saturating_sub(1))) == 1 {
        if let Some(c) = CHANNEL.with(|c| c.borrow().clone()) {
            reference(env, &c, false);
        }
    }
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

/// On the event loop: settles one answer's Promise, or starts one piece of work.
unsafe extern "C" fn settle_on_loop(
    env: sys::napi_env,
    _js_callback: sys::napi_value,
    _context: *mut c_void,
    data: *mut c_void,
) {
    // SAFETY: every item of this channel is an `Item` boxed by `queue`.
    let item = unsafe { Box::from_raw(data.cast::<Item>()) };
    if env.is_null() {
        return; // the environment is gone, and the Promise (or the work) with it
    }
    release(env);
    let Answer { deferred, result } = match *item {
        Item::Answer(answer) => answer,
        Item::Start(start) => {
            // A panic must not unwind into Node: the work's own Promise settles anyway (its
            // `Pending`, dropped, rejects).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(start));
            return;
        }
    };
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
