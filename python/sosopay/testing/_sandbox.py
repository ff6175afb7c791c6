"""``Sandbox``: the gateway emulator in-process, with its admin API."""

from __future__ import annotations

import asyncio
import functools
import weakref
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Type,
    TypeVar,
    Union,
)

from .. import _native
from ..client import Client

if TYPE_CHECKING:  # pragma: no cover
    from ..aio import AsyncClient
from ..enums import OrderState
from ..models import PaymentOutcome
from ._ledger import Ledger, NotificationAttempt, SandboxOrder

__all__ = ["Sandbox", "SandboxError", "Faults", "TEST_BUSI_CODE", "TEST_KEY"]

_T = TypeVar("_T")
_StateLike = Union[OrderState, str, int]


class SandboxError(Exception):
    """An admin action the sandbox refused, with the HTTP status its admin endpoint answers:
    404 (no such order), 409 (the order is not in a state that allows it), 410 (closed)."""

    def __init__(self, message: str, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _native_class() -> Type[_native.NativeSandbox]:
    cls: Optional[Type[_native.NativeSandbox]] = getattr(_native, "NativeSandbox", None)
    if cls is None:
        raise ImportError(
            "sosopay.testing: this build of sosopay has no sandbox (the native module was "
            "built without the cargo feature `sandbox`); install the published wheel, or "
            "build with `maturin develop --features sandbox`"
        )
    return cls


#: The native sandbox class (a build without the sandbox says so when the kit is imported).
_NativeSandbox = _native_class()

#: The document's test merchant (the sandbox crate's), registered in every sandbox unless
#: ``merchants`` says otherwise.
TEST_BUSI_CODE: str = _native.TEST_BUSI_CODE
#: Its key.
TEST_KEY: str = _native.TEST_KEY


def _wrap(fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except _native.NativeSandboxError as e:
        message, status, reason = e.args
        raise SandboxError(str(message), int(status), str(reason)) from None


def _with_hold(kwargs: Dict[str, Any], hold: Callable[[], float]) -> Dict[str, Any]:
    if kwargs.get("gateway_hold") is None:
        kwargs["gateway_hold"] = hold()
    return kwargs


class _KitClient(Client):
    """``sb.client()``: a :class:`sosopay.Client` whose flows (``micropay_and_wait``,
    ``wait_for_payment``) default ``gateway_hold`` to the sandbox's own hold (see
    :attr:`Sandbox.gateway_hold`) instead of the real gateway's 80 s."""

    __slots__ = ("_hold",)

    def __init__(self, hold: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hold = hold

    def micropay_and_wait(self, **kwargs: Any) -> PaymentOutcome:
        return super().micropay_and_wait(**_with_hold(kwargs, self._hold))

    def wait_for_payment(self, **kwargs: Any) -> PaymentOutcome:
        return super().wait_for_payment(**_with_hold(kwargs, self._hold))


def _kit_async_client(hold: Callable[[], float], **kwargs: Any) -> "AsyncClient":
    """``sb.async_client()``: the same as :class:`_KitClient` for an :class:`AsyncClient`
    (defined on first use: asyncio's client is not imported otherwise)."""
    global _KitAsyncClient
    if _KitAsyncClient is None:
        from ..aio import AsyncClient

        class KitAsyncClient(AsyncClient):
            __slots__ = ("_hold",)

            def __init__(self, hold: Callable[[], float], **kwargs: Any) -> None:
                super().__init__(**kwargs)
                self._hold = hold

            async def micropay_and_wait(self, **kwargs: Any) -> PaymentOutcome:
                return await super().micropay_and_wait(**_with_hold(kwargs, self._hold))

            async def wait_for_payment(self, **kwargs: Any) -> PaymentOutcome:
                return await super().wait_for_payment(**_with_hold(kwargs, self._hold))

        KitAsyncClient.__qualname__ = KitAsyncClient.__name__ = "_KitAsyncClient"
        _KitAsyncClient = KitAsyncClient
    return _KitAsyncClient(hold, **kwargs)


_KitAsyncClient: "Optional[Callable[..., AsyncClient]]" = None


class Faults:
    """The sandbox's fault rules (``op:kind:prob[:param]``, docs/SANDBOX.md "Faults").

    >>> sb.faults.add("preOrder:drop_reply:1")      # the next micropay is processed, reply lost
    >>> sb.faults.clear()

    Setting rules restarts the per-operation request counts the deterministic draws use.
    """

    __slots__ = ("_sb",)

    def __init__(self, sandbox: "Sandbox") -> None:
        self._sb = sandbox

    @property
    def rules(self) -> List[str]:
        """The rules in force."""
        return self._sb._call(lambda n: n.faults())[0]

    @property
    def seed(self) -> int:
        """The seed of the draws."""
        return self._sb._call(lambda n: n.faults())[1]

    def add(self, *rules: str) -> None:
        """Appends rules, e.g. ``add("query:http503:0.5", "notify:duplicate:1")``."""
        self._sb._call(lambda n: n.add_faults(list(rules)))  # the native call checks each

    def set(self, rules: Iterable[str], *, seed: Optional[int] = None) -> None:
        """Replaces the rules (and the seed, when given). Raises :class:`sosopay.ValidationError` (a ``ValueError``) naming a bad rule (``faults[i]``)."""
        self._sb._call(lambda n: n.set_faults(rules, seed))  # a list of str, checked natively

    def clear(self) -> None:
        """Removes every rule."""
        self._sb._call(lambda n: n.set_faults([], None))

    def injected(self) -> Mapping[str, int]:
        """How many faults were injected, per ``"op:kind"``."""
        return self._sb.ledger().faults.injected

    def __iter__(self) -> Iterator[str]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"Faults({self.rules!r})"


class Sandbox:
    """A sandbox SouSou gateway serving on a local port, in this process (a background thread
    with its own runtime; no binary, no Rust toolchain). Starts at once; stop it with
    :meth:`close`, or use it as a context manager (also ``async with``)::

        from sosopay.testing import Sandbox, codes

        with Sandbox(time_scale=0.01) as sb:
            client = sb.client()
            reply = client.create_qr_order(charge_code="QR-1", amount="12.50",
                                           channel="Wechat", pay_subject="Tea")
            sb.pay("QR-1")                            # the customer scans and pays
            assert sb.order("QR-1").is_paid

    Every setting is optional (the sandbox crate's defaults: ``time_scale`` 1, ``seed`` 0, no
    faults, the document's test merchant, ``host`` ``127.0.0.1``, ``port`` 0 for a free one,
    no ``max_request_age``). ``time_scale`` multiplies every gateway time (the 80 s micropay hold, the test codes'
    delays, ``TIME_EXPIRE``, the 5 s between notification attempts): ``0.01`` makes 80 s into
    0.8 s. The client's own timeouts are not scaled; the flows of the kit's clients
    (:meth:`client`, :meth:`async_client`) wait for the sandbox's hold, not the real 80 s
    (:attr:`gateway_hold`).
    """

    def __init__(
        self,
        *,
        time_scale: Optional[float] = None,
        seed: Optional[int] = None,
        faults: Sequence[str] = (),
        merchants: Optional[Mapping[str, str]] = None,
        host: Optional[str] = None,
        port: Optional[int] = None,
        max_request_age: Optional[float] = None,
    ) -> None:
        # The native sandbox checks every setting (types and ranges, naming it).
        settings = dict(time_scale=time_scale, seed=seed, faults=faults, merchants=merchants, host=host,
                        port=port, max_request_age=max_request_age)
        self._native: _native.NativeSandbox = _wrap(lambda: _NativeSandbox(settings))
        self._time_scale = self._native.time_scale
        self.faults: Faults = Faults(self)
        """The fault rules: ``sb.faults.add(...)``, ``sb.faults.clear()``."""

    def _call(self, fn: Callable[[_native.NativeSandbox], _T]) -> _T:
        return _wrap(lambda: fn(self._native))

    # --- where it listens ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/openGateway/openService/``: give it to a client as ``base_url``."""
        return self._native.base_url

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT/``: the admin HTTP API is under ``{root_url}_sandbox/``."""
        return self._native.root_url

    @property
    def time_scale(self) -> float:
        return self._time_scale

    @property
    def closed(self) -> bool:
        return self._native.closed

    @property
    def busi_code(self) -> str:
        """The (first) registered merchant: the document's test merchant by default."""
        return self._native.busi_code

    @property
    def key(self) -> str:
        """That merchant's key."""
        return self._native.key

    def add_merchant(self, busi_code: str, key: str) -> None:
        """Registers (or re-keys) another merchant."""
        self._call(lambda n: n.add_merchant(busi_code, key))

    # --- clients ------------------------------------------------------------------------------

    def _client_kwargs(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
        kw: Dict[str, Any] = {
            "busi_code": self.busi_code,
            "default_oper_id": _native.KIT_OPER_ID,
            "default_dev_id": _native.KIT_DEV_ID,
        }
        kw.update(kwargs)
        busi = str(kw["busi_code"])
        known = self._call(lambda n: n.key_of(busi))  # a closed sandbox: SandboxError 410
        kw.setdefault("key", known or self.key)
        kw["base_url"] = self.base_url
        return kw

    def _hold(self) -> Callable[[], float]:
        """The kit clients' default ``gateway_hold``, worked out at each flow (the fault rules
        may change); the client does not keep the sandbox alive (once it is gone: the scaled
        micropay hold)."""
        ref = weakref.ref(self)
        gone = self._native.micropay_hold

        def hold() -> float:
            sb = ref()
            return gone if sb is None else sb.gateway_hold

        return hold

    @property
    def gateway_hold(self) -> float:
        """The ``gateway_hold`` (seconds) the kit's clients give their flows unless told
        otherwise: the sandbox's micropay hold, 80 s × ``time_scale`` (0.8 s at 0.01), plus the
        longest ``late`` fault in force (a late request is carried out after that wall-time
        wait); once closed, the micropay hold alone. A flow settles a payment whose request was
        lost (``preOrder:drop``) as ``FAILED`` that long after it gave up on it. (The sandbox
        crate's rule, ``SandboxHandle::gateway_hold``.)"""
        return self._native.gateway_hold

    def client(self, **kwargs: Any) -> Client:
        """A :class:`sosopay.Client` for this sandbox and its test merchant; keyword arguments
        are the client's (``encrypt=True``, ``format="xml"``, ``timeout=5``, ...). Its flows
        (``micropay_and_wait``, ``wait_for_payment``) default ``gateway_hold`` to
        :attr:`gateway_hold`, the sandbox's scaled hold, instead of the real gateway's 80 s."""
        return _KitClient(self._hold(), **self._client_kwargs(kwargs))

    def async_client(self, **kwargs: Any) -> "AsyncClient":
        """The same as an :class:`sosopay.AsyncClient` (its flows' ``gateway_hold`` as
        :meth:`client`'s)."""
        return _kit_async_client(self._hold(), **self._client_kwargs(kwargs))

    # --- the customer -------------------------------------------------------------------------

    def pay(self, charge_code: str) -> SandboxOrder:
        """The customer pays an order awaiting payment (a QR or JSAPI order, or a micropay whose
        customer is still confirming): STATE 0 → 1, and the notification goes out. Raises
        :class:`SandboxError` (404 no such order, 409 not awaiting payment)."""
        return SandboxOrder._from_json(self._call(lambda n: n.pay(charge_code)))

    def fail(self, charge_code: str) -> SandboxOrder:
        """The customer's payment fails (declined): STATE 0 → 6 (closed)."""
        return SandboxOrder._from_json(self._call(lambda n: n.fail(charge_code)))

    # --- what happened ------------------------------------------------------------------------

    def order(self, charge_code: str) -> Optional[SandboxOrder]:
        """The order as the gateway sees it, or ``None`` if it never saw it."""
        d = self._call(lambda n: n.order(charge_code))
        return None if d is None else SandboxOrder._from_json(d)

    def ledger(self) -> Ledger:
        """Every order, refund, notification attempt and injected fault."""
        return Ledger._from_json(self._call(lambda n: n.ledger()))

    def notifications(self, charge_code: Optional[str] = None) -> List[NotificationAttempt]:
        """The notification delivery attempts (of one order, if given), oldest first."""
        if charge_code is not None and not isinstance(charge_code, str):
            raise TypeError(f"charge_code: expected a str, got {type(charge_code).__name__}")
        ns = self.ledger().notifications
        return [x for x in ns if charge_code is None or x.charge_code == charge_code]

    def reset(self) -> None:
        """Forgets every order, refund, notification and fault count; pending timers and
        deliveries are abandoned. Merchants, fault rules and the seed stay (see
        ``faults.clear()``)."""
        self._call(lambda n: n.reset())

    # --- waiting (notifications and timers run in the background) ----------------------------

    @staticmethod
    def _states(states: Sequence[_StateLike]) -> List[str]:
        for i, s in enumerate(states):
            if not isinstance(s, (OrderState, str, int)) or isinstance(s, bool):
                raise TypeError(
                    f"states[{i}]: expected an OrderState, a state name or a wire code, got {type(s).__name__}"
                    " (give the states as separate arguments: wait_for_state(code, OrderState.PAID, ...))"
                )
        return [(s if isinstance(s, OrderState) else OrderState(s)).value for s in states]

    def wait_for_notification(
        self,
        charge_code: Optional[str] = None,
        *,
        count: int = 1,
        accepted: bool = True,
        timeout: Optional[float] = None,
    ) -> List[NotificationAttempt]:
        """Waits until ``count`` notification attempts (for ``charge_code``, if given) were
        accepted (HTTP 200) by the merchant — or merely made, with ``accepted=False`` — and
        returns them. Raises ``TimeoutError`` listing what was seen. ``timeout``: seconds; unset,
        the kit's default wait (5 s, the sandbox crate's ``DEFAULT_WAIT``). The wait releases the
        GIL, so a webhook served by another thread of this process can answer."""
        hits = self._call(lambda n: n.wait_for_notifications(charge_code, count, accepted, timeout))
        return [NotificationAttempt._from_json(x) for x in hits]

    async def wait_for_notification_async(
        self,
        charge_code: Optional[str] = None,
        *,
        count: int = 1,
        accepted: bool = True,
        timeout: Optional[float] = None,
    ) -> List[NotificationAttempt]:
        """:meth:`wait_for_notification` for asyncio code (waits on a worker thread, so a
        webhook served by the same event loop can answer)."""
        call = functools.partial(self.wait_for_notification, charge_code, count=count, accepted=accepted, timeout=timeout)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    def wait_for_state(self, charge_code: str, *states: _StateLike, timeout: Optional[float] = None) -> SandboxOrder:
        """Waits until the order is in one of ``states`` (``OrderState.PAID``, ``"2"``, ``6``)
        — e.g. a ``NEVER_CONFIRMS`` micropay being cancelled at the end of the hold. Raises
        ``TimeoutError`` saying where it is instead."""
        want = self._states(states)
        return SandboxOrder._from_json(self._call(lambda n: n.wait_for_state(charge_code, want, timeout)))

    async def wait_for_state_async(
        self, charge_code: str, *states: _StateLike, timeout: Optional[float] = None
    ) -> SandboxOrder:
        """:meth:`wait_for_state` for asyncio code."""
        call = functools.partial(self.wait_for_state, charge_code, *states, timeout=timeout)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stops serving (idempotent)."""
        self._native.shutdown()

    async def aclose(self) -> None:
        """Stops serving without blocking the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self._native.shutdown)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def __aenter__(self) -> "Sandbox":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self.base_url!r}, time_scale={self._time_scale}, closed={self.closed})"


