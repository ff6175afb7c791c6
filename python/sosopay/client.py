"""The gateway client (blocking, thread-safe) and its asyncio twin.

The logic is in the Rust core: these classes only pass keyword arguments through and wrap
the replies in typed dataclasses.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _native
from ._native import CancelToken
from .enums import Channel, DynamicIdType, Environment, SerType, TradeType
from .errors import ValidationError, _check_callable, _invalid
from .models import (
    CancelReply,
    FlowEvent,
    FlowRechargeReply,
    Goods,
    OrderReply,
    PaymentOutcome,
    QueryReply,
    RefundReply,
    RequestLog,
    YuanLike,
)

__all__ = ["Client", "CancelToken", "DEFAULT_MAX_WORKERS", "ProgressCallback"]


if TYPE_CHECKING:  # pragma: no cover
    import logging


def _log() -> "logging.Logger":
    """The ``"sosopay"`` logger; :mod:`logging` is imported on first use (import time)."""
    import logging

    return logging.getLogger("sosopay")


_T = TypeVar("_T")
_A = TypeVar("_A")

#: The default size of an :class:`AsyncClient`'s own thread pool: enough for 64 payments held
#: by the gateway at once (each flow holds one worker for its whole duration).
DEFAULT_MAX_WORKERS = 64

#: A progress callback of ``micropay_and_wait`` / ``wait_for_payment``.
ProgressCallback = Callable[[FlowEvent], None]


def _log_flow_end(what: str, charge_code: str, status: str, reason: str) -> None:
    """Logs how a flow ended whose caller stopped waiting for it (a cancelled task, an
    interrupt), since its outcome is not returned: INFO when no money was taken (cancelled,
    failed), WARNING otherwise. ``what`` names the flow with ``%s`` for its charge code. Used by
    ``AsyncClient`` and by the native flows (``bindings/python/src/flows.rs``)."""
    import logging

    level = logging.INFO if status in ("cancelled", "failed") else logging.WARNING
    _log().log(level, f"sosopay: {what}; the flow ended %s (%s)", charge_code, status, reason)


def _blocking(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)``: a native call that blocks until the gateway answers (the GIL released).

    Under gevent's or eventlet's monkey-patching (gunicorn ``-k gevent`` / ``-k eventlet``)
    such a call would stop every green thread of the process while it waits (a held micropay:
    up to 80 s), since they cannot switch away from native code. It then runs on a pool of real
    threads instead (under gevent sosopay's own, :func:`_gevent_call`; eventlet's ``tpool``),
    and only the calling green thread waits."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        return _gevent_call(fn, args)
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("socket"):
        return importlib.import_module("eventlet.tpool").execute(fn, *args)  # type: ignore[no-any-return]
    return fn(*args)


#: The native flows: ``(request, options, cancel, on_progress)``.
_FLOWS = ("micropay_and_wait", "wait_for_payment")


def _gevent_call(fn: Callable[..., _T], args: Tuple[Any, ...]) -> _T:
    """``fn(*args)`` on sosopay's own pool of real threads (:func:`_gevent_pool`), the calling
    green thread waiting. When it is interrupted while it waits (a ``gevent.Timeout``, a
    ``kill()``), the call is not abandoned silently (as with asyncio's cancellation): a call
    not started yet never starts (nothing is sent); a flow under way is cancelled (its token:
    the core takes its safe path, the till flow reverses the order) and its outcome logged when
    it ends; an operation that moves money runs to its end and its result is logged."""
    op = getattr(fn, "__name__", "")
    token: Optional[CancelToken] = None
    if op in _FLOWS:
        request, options, cancel, progress = args
        token = cancel if cancel is not None else CancelToken()
        args = (request, options, token, progress)
    # Who came first, atomically (dict.setdefault under the GIL): the worker starting the call,
    # or the caller giving up on it.
    first: Dict[str, str] = {}

    def run() -> Tuple[Any, Optional[BaseException]]:
        # The call's error is returned, not raised: gevent's hub would print every exception a
        # pool thread raises (a declined payment's too) besides handing it over.
        if first.setdefault("by", "worker") != "worker":
            return None, None  # the caller gave up first: never sent
        try:
            return fn(*args), None
        except BaseException as e:
            return None, e

    result = _gevent_pool().spawn(run)
    try:
        value, error = result.get()
    except BaseException as e:  # interrupted while it waits: the call goes on without it
        if first.setdefault("by", "caller") == "caller":
            raise  # interrupted before it started: nothing was sent, and nothing will be
        interrupted = f"the green thread awaiting %s of %s was interrupted ({type(e).__name__})"
        if token is not None:
            token.cancel()
            result.rawlink(functools.partial(_log_interrupted_flow, interrupted % ("the flow", "%s")))
        elif _native._moves_money(op):
            result.rawlink(functools.partial(_log_interrupted_call, interrupted, op, args[0]))
        raise
    if error is not None:
        raise error
    return value  # type: ignore[no-any-return]


def _log_interrupted_flow(what: str, result: Any) -> None:
    """Logs how an interrupted green thread's flow ended (``_log_flow_end``)."""
    value, error = result.value
    if error is None:  # else it raised (an invalid request): nothing was sent
        o = PaymentOutcome._from_native(value)
        _log_flow_end(what, o.charge_code, o.status.value, o.reason)


def _log_interrupted_call(what: str, op: str, request: Mapping[str, Any], result: Any) -> None:
    """Logs how an interrupted green thread's money-moving call ended (``_log_orphan``)."""
    value, error = result.value
    _log_orphan(what, op, request, error, None if error is not None else _REPLY_OF[op]._from_native(value))


#: The reply of each operation that moves money, from the native call's form.
_REPLY_OF: Dict[str, Any] = {
    "micropay": OrderReply,
    "create_qr_order": OrderReply,
    "create_jsapi_order": OrderReply,
    "refund": RefundReply,
    "cancel": CancelReply,
    "flow_recharge": FlowRechargeReply,
}


def _named(op: str, request: Mapping[str, Any]) -> str:
    """What a log line calls the request of ``op`` (its arguments): the order's charge code;
    for a refund also its ``out_refund_no`` and amount; for a top-up its phone number and size
    (what the gateway's reply names it by)."""
    if op == "flow_recharge":
        return f"{request.get('flow_val')} MB for {request.get('phone_no')}"
    code = request.get("charge_code") or request.get("charge_down_code") or "?"
    if op == "refund":
        yuan = request.get("refund_amount")
        amount = f"{yuan} yuan" if yuan is not None else f"{request.get('refund_amount_fen')} fen"
        return f"{code} (out_refund_no {request.get('out_refund_no')}, {amount})"
    return str(code)


def _log_orphan(what: str, op: str, request: Mapping[str, Any], error: Optional[BaseException], reply: Any) -> None:
    """Logs (WARNING on ``sosopay``) how a money-moving call ended whose caller stopped waiting
    for it while it was under way (a cancelled asyncio task, an interrupted green thread):
    nobody else learns its result. ``what`` names the caller, with ``%s`` for the operation
    and ``%s`` for the request."""
    if error is not None:
        ended = f"raised {type(error).__name__}: {error}"
    else:
        state = getattr(reply, "state", None) or getattr(getattr(reply, "order", None), "state", None)
        ended = f"answered {reply.result.code.value}" + (f", order state {state.value} ({state.name})" if state else "")
        flow = getattr(reply, "flow", None)
        if flow is not None and getattr(flow, "order_id", None):
            ended += f", top-up order {flow.order_id}"
    if op == "flow_recharge":
        advice = "check the top-up before sending it again"
    elif op == "refund":
        advice = "query the order; retry with the same out_refund_no, never a new one"
    else:
        advice = "query the order before charging again"
    _log().warning(
        f"sosopay: {what} while the operation was under way; a single operation is not interrupted, so it went on: it %s (%s)",
        op, _named(op, request), ended, advice,
    )


#: sosopay's own pools of real threads under gevent, one per hub (per native thread running
#: one) and per process: never the hub's threadpool, which gevent's resolver and other
#: libraries share (held payments would starve DNS, and each other).
_gevent_pools: Dict[int, Tuple[int, Any, Any]] = {}


def _gevent_pool() -> Any:
    gevent = importlib.import_module("gevent")
    hub = gevent.get_hub()
    entry = _gevent_pools.get(id(hub))
    if entry is None or entry[0] != os.getpid() or entry[1]() is not hub:
        import weakref

        pool = importlib.import_module("gevent.threadpool").ThreadPool(DEFAULT_MAX_WORKERS, hub=hub)
        entry = _gevent_pools[id(hub)] = (os.getpid(), weakref.ref(hub), pool)
    return entry[2]


def _query_code(code: Optional[str], charge_code: Optional[str]) -> str:
    if charge_code is not None and not isinstance(charge_code, str):
        # Named as given (the native reader would name the core's `code`).
        raise TypeError(f"charge_code: expected a str, got {type(charge_code).__name__}")
    if code is not None and charge_code is not None and code != charge_code:
        raise _invalid("charge_code", "is another code than code: give one of them")
    c = code if code is not None else charge_code
    if c is None:
        raise _invalid("code", "is required (or charge_code)")
    return c


def _named_as(e: ValidationError, field: str, alias: str, given: Optional[str]) -> ValidationError:
    """``e``, naming ``alias`` instead of ``field`` when the caller passed the value by that name."""
    if given is None or e.field != field:
        return e
    return _invalid(alias, e.reason, outcome_unknown=e.outcome_unknown, retryable=e.retryable)


def _hook(on_request: Optional[Callable[[RequestLog], None]]) -> Optional[Callable[[Dict[str, Any]], None]]:
    if on_request is None:
        return None
    _check_callable("on_request", on_request)

    def hook(d: Dict[str, Any]) -> None:
        # Like on_progress: a failing logging hook never fails the call; logged, not dropped.
        _deliver("on_request", on_request, RequestLog(**d))

    return hook


def _progress(on_progress: Optional[ProgressCallback]) -> Optional[Callable[[Dict[str, Any]], None]]:
    """The native observer's callback: builds the typed event and calls ``on_progress``; an
    exception it raises is logged and dropped (it never fails the payment)."""
    if on_progress is None:
        return None
    _check_callable("on_progress", on_progress)

    def hook(d: Dict[str, Any]) -> None:
        r = _deliver("on_progress", on_progress, FlowEvent._from_native(d))
        if hasattr(r, "__await__"):
            # An `async def` callback: nothing runs it on this thread (AsyncClient does).
            close = getattr(r, "close", None)
            if close is not None:
                close()  # no "coroutine was never awaited" warning
            _log().error(
                "sosopay: on_progress returned an awaitable (an async def?), which the blocking "
                "Client cannot run; use AsyncClient, or a plain function"
            )

    return hook


def _deliver(name: str, callback: Callable[[_A], object], arg: _A) -> object:
    """``callback(arg)``, the user's callback passed as ``name`` (``on_progress``,
    ``on_request``): an exception it raises is logged and dropped; returns what it returned (an
    awaitable from an ``async def``)."""
    try:
        return callback(arg)
    except Exception:
        _log().exception("sosopay: the %s callback raised; ignored", name)
        return None


class _ClosedClient:
    """What a closed :class:`Client` holds instead of its native client: every use is a
    ``RuntimeError`` (the native client, and its connections, are released)."""

    __slots__ = ("_repr",)

    def __init__(self, shown: str) -> None:
        self._repr = shown

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("this sosopay.Client is closed")

    def __repr__(self) -> str:
        return self._repr.replace("sosopay.Client(", "sosopay.Client(closed, ", 1)


class Client:
    """The SouSou gateway client. Blocking; every network call releases the GIL, and one
    instance may be shared by many threads.

    >>> client = Client(busi_code="0010000001", key="...", environment="production")
    >>> reply = client.micropay(charge_code="ORDER-1", amount="12.50", dynamic_id="1307...",
    ...                         pay_subject="Coffee", oper_id="cashier-1", dev_id="till-1")
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        *,
        # --- generated from core/src/client.rs (ClientOptions; scripts/gen-foreign.py)
        busi_code: str,
        key: str,
        base_url: Optional[str] = None,
        environment: Union[Environment, str, None] = None,
        encrypt: bool = False,
        format: Optional[str] = None,
        connect_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        micropay_timeout: Optional[float] = None,
        retry_attempts: Optional[int] = None,
        retry_base_delay: Optional[float] = None,
        retry_max_delay: Optional[float] = None,
        max_idle_connections: Optional[int] = None,
        default_oper_id: Optional[str] = None,
        default_dev_id: Optional[str] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        ca_pem: Optional[str] = None,
        # --- end of generated
        on_request: Optional[Callable[[RequestLog], None]] = None,
    ) -> None:
        options = dict(
            # --- generated from core/src/client.rs (ClientOptions; scripts/gen-foreign.py)
            busi_code=busi_code,
            key=key,
            base_url=base_url,
            environment=environment,
            encrypt=encrypt,
            format=format,
            connect_timeout=connect_timeout,
            timeout=timeout,
            micropay_timeout=micropay_timeout,
            retry_attempts=retry_attempts,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
            max_idle_connections=max_idle_connections,
            default_oper_id=default_oper_id,
            default_dev_id=default_dev_id,
            ca_file=ca_file,
            ca_pem=ca_pem,
            # --- end of generated
        )
        self._native = _native.NativeClient(options, _hook(on_request))

    @property
    def busi_code(self) -> str:
        return self._native.busi_code

    @property
    def base_url(self) -> str:
        return self._native.base_url

    @property
    def encrypt(self) -> bool:
        return self._native.encrypt

    def __repr__(self) -> str:
        return repr(self._native)

    def close(self) -> None:
        """Closes the kept-alive connections (once no call of this client is running). Later
        calls raise ``RuntimeError``, as :class:`~sosopay.aio.AsyncClient`'s do; calls under way
        run to completion."""
        if not isinstance(self._native, _ClosedClient):
            self._native = _ClosedClient(repr(self._native))  # type: ignore[assignment]

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- generated from core/src/models.rs (scripts/gen-foreign.py)
    def micropay(
        self,
        *,
        charge_code: str,
        dynamic_id: str,
        pay_subject: str,
        amount: Optional[YuanLike] = None,
        amount_fen: Optional[int] = None,
        dynamic_id_type: Union[DynamicIdType, str, int, None] = None,
        channel: Union[Channel, str, int, None] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        goods: Optional[Sequence[Goods]] = None,
        verify_codes: Optional[str] = None,
        notify_url: Optional[str] = None,
    ) -> OrderReply:
        """Micropay (被扫, ``preOrder``): charge the customer's scanned payment code.

        The gateway may hold the request up to 80 s while the customer confirms. A lost reply
        raises an error with ``outcome_unknown``; prefer :meth:`micropay_and_wait` at a till."""
        return OrderReply._from_native(
            _blocking(
                self._native.micropay,
                {
                    "charge_code": charge_code,
                    "dynamic_id": dynamic_id,
                    "pay_subject": pay_subject,
                    "amount": amount,
                    "amount_fen": amount_fen,
                    "dynamic_id_type": dynamic_id_type,
                    "channel": channel,
                    "oper_id": oper_id,
                    "dev_id": dev_id,
                    "register_id": register_id,
                    "merchant_para": merchant_para,
                    "time_expire": time_expire,
                    "goods": goods,
                    "verify_codes": verify_codes,
                    "notify_url": notify_url,
                },
            )
        )

    def create_qr_order(
        self,
        *,
        charge_code: str,
        channel: Union[Channel, str, int],
        pay_subject: str,
        amount: Optional[YuanLike] = None,
        amount_fen: Optional[int] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        notify_url: Optional[str] = None,
        goods: Optional[Sequence[Goods]] = None,
        verify_codes: Optional[str] = None,
        trade_type: Union[TradeType, str, int, None] = None,
        sub_appid: Optional[str] = None,
        sub_openid: Optional[str] = None,
    ) -> OrderReply:
        """A QR order (主扫): render ``reply.bar_code`` as a QR code for the customer to scan."""
        return OrderReply._from_native(
            _blocking(
                self._native.create_qr_order,
                {
                    "charge_code": charge_code,
                    "channel": channel,
                    "pay_subject": pay_subject,
                    "amount": amount,
                    "amount_fen": amount_fen,
                    "oper_id": oper_id,
                    "dev_id": dev_id,
                    "register_id": register_id,
                    "merchant_para": merchant_para,
                    "time_expire": time_expire,
                    "notify_url": notify_url,
                    "goods": goods,
                    "verify_codes": verify_codes,
                    "trade_type": trade_type,
                    "sub_appid": sub_appid,
                    "sub_openid": sub_openid,
                },
            )
        )

    def create_jsapi_order(
        self,
        *,
        charge_code: str,
        pay_subject: str,
        sub_openid: str,
        amount: Optional[YuanLike] = None,
        amount_fen: Optional[int] = None,
        channel: Union[Channel, str, int, None] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        notify_url: Optional[str] = None,
        goods: Optional[Sequence[Goods]] = None,
        verify_codes: Optional[str] = None,
        sub_appid: Optional[str] = None,
    ) -> OrderReply:
        """A WeChat JSAPI (公众号) order: hand ``reply.jsapi.to_wechat()`` to ``WeixinJSBridge``."""
        return OrderReply._from_native(
            _blocking(
                self._native.create_jsapi_order,
                {
                    "charge_code": charge_code,
                    "pay_subject": pay_subject,
                    "sub_openid": sub_openid,
                    "amount": amount,
                    "amount_fen": amount_fen,
                    "channel": channel,
                    "oper_id": oper_id,
                    "dev_id": dev_id,
                    "register_id": register_id,
                    "merchant_para": merchant_para,
                    "time_expire": time_expire,
                    "notify_url": notify_url,
                    "goods": goods,
                    "verify_codes": verify_codes,
                    "sub_appid": sub_appid,
                },
            )
        )

    def query(
        self,
        *,
        code: Optional[str] = None,
        charge_code: Optional[str] = None,
        ser_type: Union[SerType, str, int, None] = None,
    ) -> QueryReply:
        """Query an order by ``code`` (alias ``charge_code``); ``ser_type`` says what the code is."""
        try:
            return QueryReply._from_native(
                _blocking(
                    self._native.query,
                    {
                        "code": _query_code(code, charge_code),
                        "ser_type": ser_type,
                    },
                )
            )
        except ValidationError as e:
            raise _named_as(e, "code", "charge_code", charge_code) from None

    def refund(
        self,
        *,
        out_refund_no: str,
        refund_subject: str,
        refund_amount: Optional[YuanLike] = None,
        refund_amount_fen: Optional[int] = None,
        charge_code: Optional[str] = None,
        charge_down_code: Optional[str] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
    ) -> RefundReply:
        """Refund (part of) a paid order; reuse ``out_refund_no`` to retry safely.

        A success whose ``FUND_BILL_LIST`` adds up to another amount than ``refund_amount`` (the
        refund made before under this ``out_refund_no``) raises :class:`DecodeError`
        (``outcome_unknown``): this refund was not shown done."""
        return RefundReply._from_native(
            _blocking(
                self._native.refund,
                {
                    "out_refund_no": out_refund_no,
                    "refund_subject": refund_subject,
                    "refund_amount": refund_amount,
                    "refund_amount_fen": refund_amount_fen,
                    "charge_code": charge_code,
                    "charge_down_code": charge_down_code,
                    "oper_id": oper_id,
                    "dev_id": dev_id,
                },
            )
        )

    def cancel(
        self,
        *,
        charge_code: str,
        apply: bool = False,
    ) -> CancelReply:
        """Cancel (撤单) an order; ``apply=True`` applies to cancel (``opType=ACO``).

        ``AREADY_REVOKED`` (the order is cancelled already) is returned as a reply, never
        raised: the order is cancelled, as asked."""
        return CancelReply._from_native(
            _blocking(
                self._native.cancel,
                {
                    "charge_code": charge_code,
                    "apply": apply,
                },
            )
        )

    def flow_recharge(
        self,
        *,
        phone_no: str,
        flow_val: int,
        flow_type: Optional[str] = None,
        notify_url: Optional[str] = None,
    ) -> FlowRechargeReply:
        """Mobile data top-up (流量充值) of ``flow_val`` MB for ``phone_no``."""
        return FlowRechargeReply._from_native(
            _blocking(
                self._native.flow_recharge,
                {
                    "phone_no": phone_no,
                    "flow_val": flow_val,
                    "flow_type": flow_type,
                    "notify_url": notify_url,
                },
            )
        )

    def micropay_and_wait(
        self,
        *,
        charge_code: str,
        dynamic_id: str,
        pay_subject: str,
        amount: Optional[YuanLike] = None,
        amount_fen: Optional[int] = None,
        dynamic_id_type: Union[DynamicIdType, str, int, None] = None,
        channel: Union[Channel, str, int, None] = None,
        oper_id: Optional[str] = None,
        dev_id: Optional[str] = None,
        register_id: Optional[str] = None,
        merchant_para: Optional[str] = None,
        time_expire: Optional[int] = None,
        goods: Optional[Sequence[Goods]] = None,
        verify_codes: Optional[str] = None,
        notify_url: Optional[str] = None,
        deadline: Optional[float] = None,
        poll_interval: Optional[float] = None,
        max_poll_interval: Optional[float] = None,
        cancel_attempts: Optional[int] = None,
        max_duration: Optional[float] = None,
        gateway_hold: Optional[float] = None,
        cancel: Optional[CancelToken] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> PaymentOutcome:
        """The till flow: micropay, then settle the outcome by querying, cancelling at the
        deadline. Never raises for a declined or unresolved payment: check ``outcome.status``
        (``CONFLICT``: the charge code belongs to another payment, which was left untouched).

        Timing, in seconds: ``deadline`` (default 60) when the last query is made and an
        unpaid order is cancelled; ``poll_interval`` (default 2) the first pause between
        queries, growing to ``max_poll_interval`` (default 5); ``cancel_attempts`` (default 5);
        ``max_duration`` (default 90, or ``deadline`` + 30 when longer; at least ``deadline``) bounds the whole flow;
        ``gateway_hold`` (default 80) how long the gateway may still carry out a request the
        client gave up on. Invalid options raise :class:`ValidationError` naming the argument.

        ``cancel``: a :class:`CancelToken` another thread may cancel (the cashier's cancel
        button): the flow then stops waiting and reverses the order at once (prove it ours,
        cancel, confirm), returning ``CANCELLED`` (or ``PAID`` if the customer had paid and the
        reversal was refused, or ``UNRESOLVED``). A token already cancelled when the call
        starts sends nothing and returns ``FAILED``. ``on_progress``: called with each
        :class:`FlowEvent`, on this (the calling) thread; keep it quick; an exception it
        raises is logged (logger ``"sosopay"``) and ignored. An ``async def`` callback cannot
        run here (it is logged as an error): :class:`AsyncClient` awaits one."""
        return PaymentOutcome._from_native(
            _blocking(
                self._native.micropay_and_wait,
                {
                    "charge_code": charge_code,
                    "dynamic_id": dynamic_id,
                    "pay_subject": pay_subject,
                    "amount": amount,
                    "amount_fen": amount_fen,
                    "dynamic_id_type": dynamic_id_type,
                    "channel": channel,
                    "oper_id": oper_id,
                    "dev_id": dev_id,
                    "register_id": register_id,
                    "merchant_para": merchant_para,
                    "time_expire": time_expire,
                    "goods": goods,
                    "verify_codes": verify_codes,
                    "notify_url": notify_url,
                },
                {
                    "deadline": deadline,
                    "poll_interval": poll_interval,
                    "max_poll_interval": max_poll_interval,
                    "cancel_attempts": cancel_attempts,
                    "max_duration": max_duration,
                    "gateway_hold": gateway_hold,
                },
                cancel,
                _progress(on_progress),
            )
        )

    def wait_for_payment(
        self,
        *,
        charge_code: str,
        amount: Optional[YuanLike] = None,
        amount_fen: Optional[int] = None,
        merchant_para: Optional[str] = None,
        deadline: Optional[float] = None,
        poll_interval: Optional[float] = None,
        max_poll_interval: Optional[float] = None,
        cancel_attempts: Optional[int] = None,
        max_duration: Optional[float] = None,
        gateway_hold: Optional[float] = None,
        cancel: Optional[CancelToken] = None,
        on_progress: Optional[ProgressCallback] = None,
    ) -> PaymentOutcome:
        """Poll a QR / JSAPI order until paid, failed, cancelled, or the deadline (``PENDING``).

        ``amount`` (yuan) or ``amount_fen``: the amount the order was created for
        (recommended). Then an order under ``charge_code`` for another amount (the code was used
        before, for another payment) is ``CONFLICT``, never ``PAID``.

        Timing, in seconds, as in :meth:`micropay_and_wait`: ``deadline`` (default 60),
        ``poll_interval`` (default 2) growing to ``max_poll_interval`` (default 5),
        ``cancel_attempts`` (default 5), ``max_duration`` (default 90, or ``deadline`` + 30 when longer; at least ``deadline``),
        ``gateway_hold`` (default 80). ``cancel``: a :class:`CancelToken` that stops waiting
        (then ``PENDING`` if the order still awaits payment; the order is left as it is).
        ``on_progress``: as in :meth:`micropay_and_wait`."""
        return PaymentOutcome._from_native(
            _blocking(
                self._native.wait_for_payment,
                {
                    "charge_code": charge_code,
                    "amount": amount,
                    "amount_fen": amount_fen,
                    "merchant_para": merchant_para,
                },
                {
                    "deadline": deadline,
                    "poll_interval": poll_interval,
                    "max_poll_interval": max_poll_interval,
                    "cancel_attempts": cancel_attempts,
                    "max_duration": max_duration,
                    "gateway_hold": gateway_hold,
                },
                cancel,
                _progress(on_progress),
            )
        )
    # --- end of generated
