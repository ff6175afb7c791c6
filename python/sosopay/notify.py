"""Payment notifications (``PAY_NODIFY``): verify, decrypt, decode, and process once.

The gateway POSTs a notification to your ``NODIFY_URL`` with ``sign=md5:timestamp`` in the
query, and repeats it up to 30 times until you answer HTTP 200. So: verify it
(:func:`parse_notification`), process each payment once (:func:`process_once`), and answer
``delivery.http_status``.
"""

import concurrent.futures
import os
import threading
from typing import Any, Callable, NamedTuple, Optional, Protocol, Sequence, Tuple, Union

from . import _native
from .enums import Delivery
from .errors import SosopayError, StoreUnavailableError, _check_callable
from .models import Notification

__all__ = [
    "parse_notification",
    "NotificationVerifier",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "process_once",
    "handle_notification",
    "WebhookResult",
]

Body = Union[bytes, bytearray, memoryview, str]
#: A delivery's raw query string: a ``str``, or ``bytes`` as Flask gives it (``request.query_string``).
Query = Union[str, bytes]


def parse_notification(
    *,
    key: str,
    query: Query,
    body: Body,
    max_age: Optional[float] = None,
) -> Notification:
    """Verifies and decodes one delivery.

    ``query`` is the request's raw query string as received (with ``sign=...``, and
    ``_type``/``encrypt`` from your ``NODIFY_URL``); ``body`` the raw request body. ``max_age``
    is the replay window in seconds (default 300; ``0`` disables it). Raises
    :class:`~sosopay.SignatureError`, :class:`~sosopay.CryptoError` or
    :class:`~sosopay.DecodeError`: answer the gateway 400 then.
    """
    return _verified(_native.parse_notification(key, query, body, max_age=max_age))


def _verified(native: Any) -> Notification:
    """The record of a verified notification; the native one is kept as an attribute (not a
    field: left out of ``asdict()`` and ``==``) for :func:`process_once`."""
    n = Notification._from_native(native.to_dict())
    object.__setattr__(n, "_native", native)
    return n


class NotificationVerifier:
    """Verifies and decodes notifications for one merchant key (builds the key once).

    ``previous_keys``: merchant keys being rotated out, whose deliveries are accepted too (the
    gateway repeats a notification for 150 s and may still sign it with the old key after the
    switch). The current key is tried first; at most 4; drop them once the rotation is over.

    ``busi_code``: accept only notifications about this merchant's orders (their ``BUSI_ID``).
    One naming another merchant, or no merchant, raises :class:`~sosopay.DecodeError` (a
    webhook answers it 400). The signature proves only the key: give it where several merchants
    share a key or a receiver.
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        key: str,
        *,
        max_age: Optional[float] = None,
        previous_keys: Sequence[str] = (),
        busi_code: Optional[str] = None,
    ) -> None:
        self._native = _native.NotificationVerifier(
            key, max_age=max_age, previous_keys=previous_keys, busi_code=busi_code
        )

    def parse(self, query: Query, body: Body, *, now_ms: Optional[int] = None) -> Notification:
        """As :func:`parse_notification`; ``now_ms`` overrides the clock (tests)."""
        return _verified(self._native.parse(query, body, now_ms=now_ms))

    def __repr__(self) -> str:
        return repr(self._native)


class IdempotencyStore(Protocol):
    """Remembers which notifications were processed: one of :mod:`sosopay.stores` (Redis,
    PostgreSQL: shared by many worker processes, with a claim lease), or your own over your
    database, keyed by ``notification.idempotency_key``, whose claim expires (a lease, as
    theirs: 30 s): a plain unique key is not enough, since a worker killed mid-handler would
    leave its claim held for ever and every later delivery answered 503."""

    def begin(self, id: str) -> str:
        """Atomically claims ``id``: ``"new"`` (process it), ``"in_progress"`` or ``"done"``."""
        ...

    def complete(self, id: str) -> None:
        """Marks ``id`` processed."""
        ...

    def abandon(self, id: str) -> None:
        """Releases a claim whose processing failed."""
        ...


#: The in-process store (per process; use a database across processes).
MemoryIdempotencyStore = _native.MemoryIdempotencyStore


def process_once(
    store: IdempotencyStore,
    notification: Notification,
    handler: Callable[[Notification], object],
) -> Delivery:
    """Runs ``handler(notification)`` once per notification across all its deliveries.

    Returns :class:`~sosopay.Delivery` (answer ``delivery.http_status``). If the handler
    raises, the claim is released (the gateway's next delivery retries it) and the exception
    propagates: answer non-200 then.
    """
    _check_callable("handler", handler)
    native = getattr(notification, "_native", None)
    if native is None:
        raise TypeError("process_once: the notification must come from parse_notification")
    return Delivery(_native.process_once(store, native, handler, notification))


class WebhookResult(NamedTuple):
    """What :func:`handle_notification` did, and what to answer the gateway."""

    #: The HTTP status: 200 (processed, or a duplicate), 400 (not a genuine notification), 503
    #: (another delivery holds it, or the store is unreachable: the gateway retries), 500 (the
    #: handler raised: the claim was released, the gateway retries).
    status: int
    #: The body to answer: ``"SUCCESS"``, ``"BUSY"`` or ``"FAIL"``.
    body: str
    #: What process_once did, when it ran.
    delivery: Optional[Delivery]
    #: The verified notification (None when it was rejected).
    notification: Optional[Notification]
    #: The exception, when there was one (log it).
    error: Optional[BaseException]


def handle_notification(
    verifier: NotificationVerifier,
    store: IdempotencyStore,
    query: Query,
    body: Body,
    handler: Callable[[Notification], object],
) -> WebhookResult:
    """Verifies one delivery and runs ``handler`` once per notification (all the steps of a
    webhook but the HTTP): answer ``result.status`` with ``result.body``.

    A store that cannot be reached (:class:`sosopay.stores.StoreUnavailableError`) gives 503:
    nothing was processed (or the outcome could not be recorded) and the gateway will retry.
    """
    _check_callable("handler", handler)
    if not callable(getattr(verifier, "parse", None)):
        raise TypeError(f"verifier: expected a NotificationVerifier, got {type(verifier).__name__}")
    try:
        n = verifier.parse(query, body)
    except SosopayError as e:
        return _result("Rejected", None, None, e)
    try:
        delivery = process_once(store, n, handler)
    except StoreUnavailableError as e:
        return _result("StoreUnavailable", None, n, e)
    except Exception as e:  # the handler's (the claim was released)
        return _result("Failed", None, n, e)
    status, body = delivery._webhook_answer()
    return WebhookResult(status, body, delivery, n, None)


async def handle_notification_async(
    verifier: NotificationVerifier,
    store: IdempotencyStore,
    query: Query,
    body: Body,
    handler: Callable[[Notification], object],
) -> WebhookResult:
    """:func:`handle_notification` for asyncio apps (FastAPI, Starlette, aiohttp): ``handler``
    may be an ``async def`` (awaited) or a plain function, and runs on the calling event loop;
    the verification and the store's calls (blocking drivers) run on a worker thread of
    sosopay's own (never the loop's default executor, which the handler may need:
    ``asyncio.to_thread``, ``loop.getaddrinfo``), so the loop is never blocked. The same
    answers, from the same once-only steps."""
    _check_callable("handler", handler)
    import asyncio

    loop = asyncio.get_running_loop()

    async def call(n: Notification) -> None:
        r = handler(n)
        _native._refuse_unrun_handler(r, True)  # a generator ran nothing
        if hasattr(r, "__await__"):  # an `async def` (what process_once refuses: it cannot await)
            _native._refuse_unrun_handler(await r, False)

    def run(n: Notification) -> None:  # on the worker thread, between begin and complete
        done = asyncio.run_coroutine_threadsafe(call(n), loop)
        # The thread waits for the handler (the store's claim token is this thread's); it is
        # one of sosopay's, so the handler's own use of the default executor never waits for it.
        while not concurrent.futures.wait([done], timeout=1.0).done:
            if loop.is_closed():  # it will never run: fail (the claim is released), never hang
                done.cancel()
                raise RuntimeError("the event loop closed before the notification handler ended")
        done.result()

    return await loop.run_in_executor(_notify_executor(), handle_notification, verifier, store, query, body, run)


#: The threads of handle_notification_async, per process (made on first use, and again in a
#: child after fork). Each delivery holds one while its handler runs: a delivery beyond
#: ``_NOTIFY_THREADS`` at once waits for a thread (it queues; it never deadlocks, since no
#: handler needs one of these threads).
_NOTIFY_THREADS = 64
_notify_pool: Optional[Tuple[int, concurrent.futures.ThreadPoolExecutor]] = None
_notify_pool_lock = threading.Lock()


def _reset_notify_pool_in_child() -> None:
    global _notify_pool, _notify_pool_lock
    _notify_pool, _notify_pool_lock = None, threading.Lock()  # the parent's may have been held


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_notify_pool_in_child)


def _notify_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _notify_pool
    pool = _notify_pool
    if pool is not None and pool[0] == os.getpid():
        return pool[1]
    with _notify_pool_lock:
        pool = _notify_pool
        if pool is None or pool[0] != os.getpid():
            # A pool inherited through fork() has no threads in this process: a new one.
            executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=_NOTIFY_THREADS, thread_name_prefix="sosopay-notify"
            )
            pool = _notify_pool = (os.getpid(), executor)
        return pool[1]


def _result(
    outcome: str, delivery: Optional[Delivery], n: Optional[Notification], error: Optional[BaseException]
) -> WebhookResult:
    """The result for ``outcome``: status and body from the core's one table. An error is also
    logged (WARNING on the ``sosopay`` logger, with the handler's traceback), so that a webhook
    refusing every delivery (a forged one, the store down, the handler raising) is not silent
    where the caller does not log ``result.error``."""
    status, answer = _native.webhook_answer(outcome)
    if error is not None:
        from .client import _log

        _log().warning(
            "sosopay: notification %s answered %s (%s): %s",
            n.charge_code if n is not None else "?",
            status,
            outcome,
            error,
            exc_info=error if outcome == "Failed" else None,
        )
    return WebhookResult(status, answer, delivery, n, error)
