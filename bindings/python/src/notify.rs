//! Payment notifications: verification and decoding, and process-once bookkeeping.

use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sosopay::models::Notification;
use sosopay::notify::{self, Claim, Delivery, IdempotencyStore, WebhookOutcome};
use sosopay::units::TimeUnit;
use sosopay::{Error, MemoryIdempotencyStore, NotificationVerifier};

use crate::args::{BusiCode, Id, Key, PreviousKeys, Text, Texts};
use crate::convert::whole_from_py;
use crate::envelope::key;
use crate::errors::OrPyErr;
use crate::topy::to_py;

fn max_age_arg(py: Python<'_>, max_age: Option<&Bound<'_, PyAny>>) -> PyResult<Duration> {
    match max_age.filter(|v| !v.is_none()) {
        None => Ok(notify::DEFAULT_MAX_AGE),
        Some(v) => {
            let s = crate::args::number(v, "max_age")?;
            sosopay::units::duration("max_age", s, TimeUnit::Seconds).or_py(py)
        }
    }
}

/// A verified notification, kept native for `process_once`.
#[pyclass(frozen, name = "NativeNotification", module = "sosopay._native")]
pub struct PyNotification {
    inner: Notification,
}

#[pymethods]
impl PyNotification {
    /// The notification's fields as a `dict` (amounts in fen, enums as wire text).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = to_py(py, &self.inner)?;
        d.set_item("idempotency_key", self.inner.idempotency_key())?;
        Ok(d)
    }
}

/// Verifies and decodes notifications for one merchant key.
#[pyclass(frozen, name = "NotificationVerifier", module = "sosopay._native")]
pub struct PyVerifier {
    inner: NotificationVerifier,
}

#[pymethods]
impl PyVerifier {
    #[new]
    #[pyo3(signature = (key, *, max_age = None, previous_keys = None, busi_code = None))]
    fn new(
        py: Python<'_>,
        key: Text<Key>,
        max_age: Option<&Bound<'_, PyAny>>,
        previous_keys: Option<Texts<PreviousKeys>>,
        busi_code: Option<Text<BusiCode>>,
    ) -> PyResult<Self> {
        let k = self::key(py, &key)?;
        let inner = NotificationVerifier::new(k)
            .with_max_age(max_age_arg(py, max_age)?)
            .with_previous_keys(previous_keys.as_deref().unwrap_or_default())
            .and_then(|v| v.with_busi_code_opt(busi_code.as_deref()))
            .or_py(py)?;
        Ok(PyVerifier { inner })
    }

    /// Verifies and decodes one delivery (`query`: the raw query string with `sign=…`;
    /// `body`: the raw request body).
    #[pyo3(signature = (query, body, *, now_ms = None))]
    fn parse(
        &self,
        py: Python<'_>,
        query: &Bound<'_, PyAny>,
        body: &Bound<'_, PyAny>,
        now_ms: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyNotification> {
        let query = query_arg(query)?;
        let now_ms = match now_ms.filter(|v| !v.is_none()) {
            Some(v) => Some(whole_from_py(v, "now_ms", u64::MAX)?),
            None => None,
        };
        let body = crate::envelope::bytes_arg(body, "body")?;
        let n = match now_ms {
            Some(now) => self.inner.parse_at(&query, &body, now),
            None => self.inner.parse(&query, &body),
        }
        .or_py(py)?;
        Ok(PyNotification { inner: n })
    }

    fn __repr__(&self) -> String {
        format!(
            "sosopay.NotificationVerifier(key=<redacted>, max_age={}, previous_keys={}, busi_code={})",
            self.inner.max_age().as_secs_f64(),
            self.inner.previous_keys(),
            match self.inner.busi_code() {
                Some(code) => format!("'{code}'"),
                None => "None".to_owned(),
            }
        )
    }
}

/// A delivery's raw query string: a `str`, or bytes as Flask/Werkzeug give it
/// (`request.query_string`).
fn query_arg(v: &Bound<'_, PyAny>) -> PyResult<String> {
    let raw = crate::envelope::bytes_arg(v, "query")?;
    Ok(String::from_utf8(raw)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// One-shot verify and decode.
#[pyfunction]
#[pyo3(signature = (key, query, body, *, max_age = None))]
pub fn parse_notification(
    py: Python<'_>,
    key: Text<Key>,
    query: &Bound<'_, PyAny>,
    body: &Bound<'_, PyAny>,
    max_age: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyNotification> {
    let query = query_arg(query)?;
    let k = self::key(py, &key)?;
    let body = crate::envelope::bytes_arg(body, "body")?;
    let n =
        notify::parse_notification(&k, &query, &body, Some(max_age_arg(py, max_age)?)).or_py(py)?;
    Ok(PyNotification { inner: n })
}

/// The in-process idempotency store.
#[pyclass(frozen, name = "MemoryIdempotencyStore", module = "sosopay._native")]
pub struct PyMemoryStore {
    inner: MemoryIdempotencyStore,
    /// The process that made it.
    pid: u32,
}

/// Whether this process has said that it uses a store made before `fork()`.
static FORKED_STORE_SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        PyMemoryStore {
            inner: MemoryIdempotencyStore::default(),
            pid: std::process::id(),
        }
    }

    /// Claims `id`: `"new"`, `"in_progress"` or `"done"`. In a process forked after the store
    /// was made (gunicorn `--preload`, uWSGI, a `multiprocessing` pool), says once, on the
    /// `sosopay` logger, that each worker has its own copy: a notification delivered to two
    /// workers runs the handler twice (as Node says in a cluster worker).
    fn begin(&self, py: Python<'_>, id: Text<Id>) -> PyResult<&'static str> {
        self.say_if_forked(py);
        Ok(self.inner.begin(&id).or_py(py)?.snake_name())
    }

    /// Marks `id` processed.
    fn complete(&self, py: Python<'_>, id: Text<Id>) -> PyResult<()> {
        self.inner.complete(&id).or_py(py)
    }

    /// Releases a failed claim.
    fn abandon(&self, py: Python<'_>, id: Text<Id>) -> PyResult<()> {
        self.inner.abandon(&id).or_py(py)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

impl PyMemoryStore {
    /// In a process forked after the store was made, says so once (see `begin`): every way of
    /// claiming through it (`begin`, `process_once`, `handle_notification`) comes here.
    fn say_if_forked(&self, py: Python<'_>) {
        if self.pid == std::process::id()
            || FORKED_STORE_SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let said = py
            .import("sosopay.client")
            .and_then(|m| m.call_method0("_log"))
            .and_then(|log| {
                log.call_method1(
                    "warning",
                    ("sosopay: this worker process uses a MemoryIdempotencyStore made before fork() \
                      (gunicorn --preload, uWSGI, multiprocessing): it is per process, so a notification \
                      delivered to two workers runs the handler twice; give them a shared store \
                      (sosopay.stores)",),
                )
            });
        if let Err(e) = said {
            e.write_unraisable(py, None);
        }
    }
}

/// A Python object with `begin(id) -> "new" | "in_progress" | "done"`, `complete(id)` and
/// `abandon(id)` (e.g. over a database), as a core store. A Python exception raised by it is
/// kept and re-raised as is.
struct PyStoreAdapter {
    obj: Py<PyAny>,
    error: Mutex<Option<PyErr>>,
}

impl PyStoreAdapter {
    fn keep(&self, e: PyErr) -> Error {
        let reason = e.to_string();
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
        Error::Decode {
            reason: format!("the idempotency store failed: {reason}"),
            operation: String::new(),
        }
    }

    fn call(&self, method: &str, id: &str) -> Result<Option<String>, Error> {
        Python::attach(|py| {
            let r = self
                .obj
                .call_method1(py, method, (id,))
                .map_err(|e| self.keep(e))?;
            if r.is_none(py) {
                return Ok(None);
            }
            r.extract::<String>(py).map(Some).map_err(|_| {
                self.keep(PyTypeError::new_err(format!(
                    "idempotency store: {method}() must return \"new\", \"in_progress\" or \"done\""
                )))
            })
        })
    }
}

impl IdempotencyStore for PyStoreAdapter {
    fn begin(&self, id: &str) -> sosopay::Result<Claim> {
        match self
            .call("begin", id)?
            .as_deref()
            .and_then(Claim::from_name)
        {
            Some(claim) => Ok(claim),
            None => Err(self.keep(PyTypeError::new_err(
                "idempotency store: begin() must return \"new\", \"in_progress\" or \"done\"",
            ))),
        }
    }
    fn complete(&self, id: &str) -> sosopay::Result<()> {
        self.call("complete", id).map(|_| ())
    }
    fn abandon(&self, id: &str) -> sosopay::Result<()> {
        self.call("abandon", id).map(|_| ())
    }
}

enum HandlerError {
    Core(Error),
    Py(PyErr),
}

impl From<Error> for HandlerError {
    fn from(e: Error) -> Self {
        HandlerError::Core(e)
    }
}

/// Refuses what a handler returned when calling it ran nothing of its body: a generator (a
/// `yield` in a `def` or an `async def`: its body runs only when iterated) and, where nothing
/// awaits it (`awaitable_ok` false: the blocking `process_once`), an awaitable (an `async def`).
/// Counting either as processed would answer 200, and the gateway would stop delivering a
/// notification nobody saw. `handle_notification_async` checks what its handler returned, and
/// what awaiting that gave, with this too.
fn refuse_unrun(out: &Bound<'_, PyAny>, awaitable_ok: bool) -> PyResult<()> {
    let py = out.py();
    let types = py.import("types")?;
    if out.is_instance(&types.getattr("GeneratorType")?)?
        || out.is_instance(&types.getattr("AsyncGeneratorType")?)?
    {
        return Err(PyTypeError::new_err(
            "the handler returned a generator (a `yield` in it?), whose body was not run: \
             make it a plain function (or an async def with sosopay.handle_notification_async)",
        ));
    }
    if !awaitable_ok && out.hasattr("__await__").unwrap_or(false) {
        if out.hasattr("close").unwrap_or(false) {
            let _ = out.call_method0("close"); // no "never awaited" warning
        }
        return Err(PyTypeError::new_err(
            "the handler returned an awaitable (an async def?), which was not run: \
             use sosopay.handle_notification_async, or a plain function",
        ));
    }
    Ok(())
}

/// `refuse_unrun` for `handle_notification_async`: raises `TypeError` when `out`, what its
/// handler returned (`awaitable_ok`: before awaiting it), ran nothing.
#[pyfunction]
pub fn _refuse_unrun_handler(out: &Bound<'_, PyAny>, awaitable_ok: bool) -> PyResult<()> {
    refuse_unrun(out, awaitable_ok)
}

/// Runs `handler(arg)` once per notification across its deliveries; returns `"processed"`,
/// `"duplicate"` or `"in_progress"`. The handler's exception propagates (and releases the claim).
#[pyfunction]
pub fn process_once(
    py: Python<'_>,
    store: &Bound<'_, PyAny>,
    notification: &Bound<'_, PyNotification>,
    handler: &Bound<'_, PyAny>,
    arg: &Bound<'_, PyAny>,
) -> PyResult<&'static str> {
    let n = &notification.get().inner;
    let run = |_: &Notification| -> Result<(), HandlerError> {
        let out = handler.call1((arg,)).map_err(HandlerError::Py)?;
        refuse_unrun(&out, false).map_err(HandlerError::Py)
    };
    let (result, adapter_error) = if let Ok(mem) = store.cast::<PyMemoryStore>() {
        mem.get().say_if_forked(py);
        (notify::process_once(&mem.get().inner, n, run), None)
    } else {
        let adapter = PyStoreAdapter {
            obj: store.clone().unbind(),
            error: Mutex::new(None),
        };
        let r = notify::process_once(&adapter, n, run);
        (r, adapter.error.lock().ok().and_then(|mut s| s.take()))
    };
    match result {
        Ok(Delivery::Processed) => Ok("processed"),
        Ok(Delivery::Duplicate) => Ok("duplicate"),
        Ok(Delivery::InProgress) => Ok("in_progress"),
        Err(HandlerError::Py(e)) => Err(e),
        Err(HandlerError::Core(e)) => Err(match adapter_error {
            Some(pe) => pe,
            None => crate::errors::to_py(py, &e),
        }),
    }
}

/// The core's answer to the gateway for a delivery's outcome (`"Processed"`, ...,
/// `"StoreUnavailable"`): `(status, body)`. `handle_notification` and `Delivery.http_status`
/// answer from this one table.
#[pyfunction]
pub fn webhook_answer(py: Python<'_>, outcome: &str) -> PyResult<(u16, &'static str)> {
    let o = WebhookOutcome::from_name(outcome).or_py(py)?;
    Ok((o.http_status(), o.body()))
}

/// The shared stores' wire for `table` (the core's `stores`): the PostgreSQL statements (`%s`
/// placeholders) and schema, the Redis scripts and record prefixes, and the defaults (seconds).
#[pyfunction]
pub fn _store_wire<'py>(py: Python<'py>, table: &str) -> PyResult<Bound<'py, PyDict>> {
    use sosopay::notify::{DEFAULT_CLAIM_LEASE, DEFAULT_RETENTION};
    use sosopay::stores::{self, Placeholders};
    let d = PyDict::new(py);
    let statements = PyDict::new(py);
    for (name, sql) in stores::postgres_statements(table, Placeholders::Format).or_py(py)? {
        statements.set_item(name, sql)?;
    }
    d.set_item("statements", statements)?;
    d.set_item("schema", stores::postgres_schema(table).or_py(py)?)?;
    d.set_item("complete_lua", stores::REDIS_COMPLETE_LUA)?;
    d.set_item("abandon_lua", stores::REDIS_ABANDON_LUA)?;
    d.set_item("claim_prefix", stores::CLAIM_PREFIX)?;
    d.set_item("done_prefix", stores::DONE_PREFIX)?;
    d.set_item("default_prefix", stores::DEFAULT_REDIS_PREFIX)?;
    d.set_item("default_table", stores::DEFAULT_TABLE)?;
    d.set_item("default_lease", DEFAULT_CLAIM_LEASE.as_secs_f64())?;
    d.set_item("default_retention", DEFAULT_RETENTION.as_secs_f64())?;
    d.set_item("begin_tries", stores::BEGIN_TRIES)?;
    Ok(d)
}

/// When a shared store tries again after its server could not be reached (the core's
/// `stores::StoreRetry`): `once()` for every call but `complete`, `for_complete(lease,
/// held_for)` (seconds) for it.
#[pyclass(name = "StoreRetry", module = "sosopay._native")]
pub struct PyStoreRetry(sosopay::stores::StoreRetry);

#[pymethods]
impl PyStoreRetry {
    /// Gives up after the immediate retry.
    #[staticmethod]
    fn once() -> Self {
        PyStoreRetry(sosopay::stores::StoreRetry::once())
    }

    /// Keeps trying while 90 % of the claim's `lease` lasts (it was taken `held_for` ago).
    #[staticmethod]
    fn for_complete(lease: f64, held_for: f64) -> Self {
        let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
        PyStoreRetry(sosopay::stores::StoreRetry::for_complete(
            secs(lease),
            secs(held_for),
        ))
    }

    /// After a failed attempt: the seconds to wait before trying again, or `None` to give up.
    fn after_failure(&mut self) -> Option<f64> {
        self.0.after_failure().map(|d| d.as_secs_f64())
    }

    /// After an attempt that got no answer in time: as `after_failure`, never at once.
    fn after_timeout(&mut self) -> Option<f64> {
        self.0.after_timeout().map(|d| d.as_secs_f64())
    }

    /// Whether `complete`'s answer (`"held"`, `"lost"`, `"already"`) means the claim had
    /// outlived its lease (the core's `StoreRetry::lease_lost`).
    fn lease_lost(&self, answer: &str, with_token: bool) -> bool {
        self.0.lease_lost(answer, with_token)
    }
}

/// A store's lease or retention in seconds, checked (`ValidationError` naming `field`).
#[pyfunction]
pub fn _store_duration(py: Python<'_>, field: &str, seconds: &Bound<'_, PyAny>) -> PyResult<f64> {
    let s = crate::args::number(seconds, field)?;
    Ok(sosopay::stores::store_duration(field, s)
        .or_py(py)?
        .as_secs_f64())
}

/// Whether a PostgreSQL error (its SQLSTATE, `None` when it has none) means the server could
/// not serve now: the core's `stores::postgres_unavailable`.
#[pyfunction]
#[pyo3(signature = (sqlstate))]
pub fn _postgres_unavailable(sqlstate: Option<&str>) -> bool {
    sosopay::stores::postgres_unavailable(sqlstate)
}

/// Whether a Redis error (a reply error's message, `None` for any other error) means the server
/// could not serve now: the core's `stores::redis_unavailable`.
#[pyfunction]
#[pyo3(signature = (reply_error))]
pub fn _redis_unavailable(reply_error: Option<&str>) -> bool {
    sosopay::stores::redis_unavailable(reply_error)
}

/// What a store logs when `complete` found that the claim on `id` had outlived its lease.
#[pyfunction]
pub fn _lease_lost_warning(id: &str, lease: f64) -> String {
    sosopay::stores::lease_lost_warning(id, Duration::try_from_secs_f64(lease).unwrap_or_default())
}
