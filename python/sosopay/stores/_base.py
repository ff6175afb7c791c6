"""The claim-with-a-lease contract shared by the Redis and the PostgreSQL stores.

A record per notification id goes through::

    (none) --begin--> claimed(token, lease) --complete--> done --(retention)--> purged
                          |  \\--abandon(token)--> (none)
                          \\--(lease expires)--> claimable again by the next begin

``begin`` is one atomic step on the server: it answers ``"new"`` (the caller holds a fresh
claim and must run the handler), ``"in_progress"`` (another worker holds a live claim: answer
503 so the gateway retries) or ``"done"`` (answer 200, do nothing). ``complete`` records the
outcome durably, even when the lease has run out meanwhile (the handler did run; recording it
stops a third run), and reports in the log a claim that outlived its lease: taken over by another
delivery (which may have run the handler too), or run out with no one taking it over (the
handler ran once, but the lease is too short for it). A ``complete`` tried again after an
attempt whose answer was lost, or called twice with one token, finds its own record: not a lost
lease. ``abandon`` releases the claim only if
it is still the caller's (compare-and-set on the claim token). Lease expiry and the clock are
the server's, so workers' clocks do not matter.

The handler must finish within the lease: a claim whose lease ran out may be taken over by
another delivery while the first handler still runs.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import Callable, Dict, Optional, Tuple, TypeVar

__all__ = [
    "Claim",
    "StoreUnavailableError",
    "LeasedIdempotencyStore",
    "DEFAULT_LEASE",
    "DEFAULT_RETENTION",
]

from .._native import StoreRetry, _lease_lost_warning, _store_duration, _store_wire
from ..errors import StoreUnavailableError

_WIRE = _store_wire("sosopay_notifications")
#: How often ``begin`` tries to claim a record that vanished between its two steps.
_BEGIN_TRIES: int = _WIRE["begin_tries"]

#: How long a claim stays live (seconds) unless completed or abandoned: after it, another
#: delivery may process the notification (the worker holding it is presumed dead). Far under the
#: gateway's retry window (30 deliveries 5 s apart = 150 s), so an order whose worker crashed is
#: still processed by a later delivery. The core's ``notify::DEFAULT_CLAIM_LEASE``.
DEFAULT_LEASE: float = _WIRE["default_lease"]
#: How long a ``done`` record is kept (seconds) before it may be purged: 7 days, far beyond the
#: verifier's replay window (300 s), after which a replayed delivery is refused anyway. The
#: core's ``notify::DEFAULT_RETENTION``.
DEFAULT_RETENTION: float = _WIRE["default_retention"]

log = logging.getLogger("sosopay.stores")

#: How many completed claims a store object remembers (see ``complete``).
_COMPLETED_KEPT = 1024

T = TypeVar("T")


class Claim(str):
    """What ``begin`` answers: a string equal to ``"new"``, ``"in_progress"`` or ``"done"``
    (so code comparing with those strings works), carrying the claim's ``token`` when new."""

    token: Optional[str]

    def __new__(cls, state: str, token: Optional[str] = None) -> "Claim":
        self = super().__new__(cls, state)
        self.token = token
        return self

    @property
    def state(self) -> str:
        return str.__str__(self)


def _outlived_warning(id: str, lease: float) -> str:
    """What a store logs when ``complete`` found its own claim on ``id`` run out, with no other
    delivery having taken it over (the handler ran once, but could have run twice)."""
    return (
        f"sosopay: the handler for {id} outlived the claim's {lease:.1f} s lease; no other delivery "
        "had taken the claim over, so the handler ran once and is recorded as done, but one could "
        "have run it again meanwhile (raise the store's lease)"
    )


class _Held(threading.local):
    def __init__(self) -> None:
        # id -> (token, monotonic time the claim was taken)
        self.claims: Dict[str, Tuple[str, float]] = {}


class LeasedIdempotencyStore:
    """Base class of the server-backed stores: claim tokens, retries, and the contract above.

    ``complete(id)`` and ``abandon(id)`` may be called without the token (as
    :func:`sosopay.process_once` does): the token of the claim this thread took for ``id`` is
    used then.
    """

    def _is_unavailable(self, e: Exception) -> bool:
        """Whether ``e`` means the server could not be reached (or cannot serve now)."""
        return False

    def _is_timeout(self, e: Exception) -> bool:
        """Whether ``e`` (unavailable) is a wait that ran out: not retried at once."""
        return False

    def __init__(self, *, lease: float = DEFAULT_LEASE, retention: float = DEFAULT_RETENTION) -> None:
        self.lease: float = _store_duration("lease", lease)
        self.retention: float = _store_duration("retention", retention)
        self._held = _Held()
        # (id, token) of the claims this object completed lately: a second ``complete`` with
        # one token finds its own completion (a store whose done records carry no token).
        self._completed: "OrderedDict[Tuple[str, str], None]" = OrderedDict()
        self._completed_lock = threading.Lock()

    @property
    def lease_ms(self) -> int:
        return max(1, int(round(self.lease * 1000)))

    @property
    def retention_ms(self) -> int:
        return max(1, int(round(self.retention * 1000)))

    # -- the backend's atomic steps --------------------------------------------------------

    def _begin(self, id: str, token: str) -> str:
        """``"new"`` if this call took the claim (absent, or a claim whose lease expired),
        else ``"in_progress"`` or ``"done"``."""
        raise NotImplementedError

    def _complete(self, id: str, token: Optional[str]) -> str:
        """Marks ``id`` done: ``"held"`` (the claim was still this token's, or the record is
        already this token's completion), ``"expired"`` (the claim had run out and no one had
        taken it over: recorded), ``"lost"`` (another claim held it, or no token: recorded),
        ``"already"`` (someone else completed it)."""
        raise NotImplementedError

    def _abandon(self, id: str, token: str) -> bool:
        """Deletes the claim if it is still ``token``'s."""
        raise NotImplementedError

    def _status(self, id: str) -> Optional[str]:
        raise NotImplementedError

    def _purge(self) -> int:
        raise NotImplementedError

    # -- the public API (sosopay.IdempotencyStore, plus tokens) -----------------------------

    def begin(self, id: str) -> Claim:
        """Atomically claims ``id``: ``"new"`` (run the handler, then ``complete``; ``abandon``
        on failure), ``"in_progress"`` (answer 503) or ``"done"`` (answer 200).
        Raises :class:`StoreUnavailableError` when the server cannot be reached."""
        token = secrets.token_hex(16)
        state = self._call(lambda: self._begin(id, token))
        if state == "new":
            self._held.claims[id] = (token, time.monotonic())
            return Claim("new", token)
        return Claim(state)

    def complete(self, id: str, token: Optional[str] = None) -> None:
        """Records ``id`` as processed, durably. While the server is unreachable it keeps trying
        until the claim's lease would run out (then raises :class:`StoreUnavailableError`)."""
        held = self._held.claims.pop(id, None)
        if token is None and held is not None:
            token = held[0]
        held_for = time.monotonic() - held[1] if held is not None else 0.0
        retry = StoreRetry.for_complete(self.lease, held_for)
        result = self._call(lambda: self._complete(id, token), retry)
        if token is not None:
            with self._completed_lock:
                if result == "already" and (id, token) in self._completed:
                    result = "held"  # this object's own completion, earlier
                self._completed[(id, token)] = None
                while len(self._completed) > _COMPLETED_KEPT:
                    self._completed.popitem(last=False)
        if retry.lease_lost(result, token is not None):
            log.warning("%s", _lease_lost_warning(id, self.lease))
        elif token is not None and (
            result == "expired"
            # A store that does not tell (PostgreSQL completes a claim still this token's even
            # after its lease ran out): by this process's clock, which runs behind the server's
            # lease (taken before ``begin`` answered), so it never reports a live claim.
            or (result == "held" and held is not None and held[0] == token and time.monotonic() - held[1] >= self.lease)
        ):
            log.warning("%s", _outlived_warning(id, self.lease))

    def abandon(self, id: str, token: Optional[str] = None) -> None:
        """Releases this caller's claim on ``id`` (a later delivery processes it again). A claim
        that is no longer this caller's (its lease expired and another took it) is left alone."""
        held = self._held.claims.pop(id, None)
        if token is None and held is not None:
            token = held[0]
        if token is None:
            return
        tok = token
        self._call(lambda: self._abandon(id, tok))

    def status(self, id: str) -> Optional[str]:
        """``None`` (no record, or an expired claim), ``"in_progress"`` or ``"done"``."""
        return self._call(lambda: self._status(id))

    def purge(self) -> int:
        """Deletes the records older than the retention period; returns how many."""
        return self._call(self._purge)

    # -- retries ---------------------------------------------------------------------------

    def _call(self, op: Callable[[], T], retry: Optional[StoreRetry] = None) -> T:
        """Runs ``op``; after a connection error, tries again when the core's ``StoreRetry``
        says (``StoreRetry.once()`` unless given): at once after a fast failure (a stale
        connection), never at once after a timeout."""
        retry = retry or StoreRetry.once()
        while True:
            try:
                return op()
            except Exception as e:
                if not self._is_unavailable(e):
                    raise
                self._reset()
                wait = retry.after_timeout() if self._is_timeout(e) else retry.after_failure()
                if wait is None:
                    raise StoreUnavailableError(f"{type(self).__name__}: {e}") from e
                time.sleep(wait)

    def _reset(self) -> None:
        """Drops connections that may be broken (after a connection error)."""
