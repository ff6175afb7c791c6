"""`AsyncClient`: the asyncio client, on its own thread pool. A module of its own so that
``import sosopay`` does not import :mod:`asyncio` (loaded on first use of ``AsyncClient``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import os
from types import TracebackType
from typing import Any, Awaitable, Callable, Dict, Optional, Sequence, Type, TypeVar, Union

from ._native import CancelToken, _moves_money
from .client import (
    DEFAULT_MAX_WORKERS,
    Client,
    ProgressCallback,
    _deliver,
    _log,
    _log_flow_end,
    _log_orphan,
)
from .enums import Channel, DynamicIdType, Environment, SerType, TradeType
from .errors import _check_callable
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

__all__ = ["AsyncClient", "AsyncProgressCallback"]

_T = TypeVar("_T")

#: What the async client's flows take as ``on_progress``: a plain function, or an ``async def``
#: (awaited on the event loop, one event after the other, before the flow's coroutine returns).
AsyncProgressCallback = Callable[[FlowEvent], Union[None, Awaitable[None]]]


class _Progress:
    """A flow's ``on_progress`` on the event loop. A plain callback runs when the event arrives;
    an ``async def`` one is awaited, each after the one before (events keep their order), and the
    flow's coroutine awaits the last before it returns. Exceptions are logged and dropped."""

    __slots__ = ("loop", "fn", "tail")

    def __init__(self, loop: asyncio.AbstractEventLoop, fn: Callable[[FlowEvent], object]) -> None:
        self.loop = loop
        self.fn = fn
        self.tail: Optional["asyncio.Task[None]"] = None

    def post(self, event: FlowEvent) -> None:
        """From the flow's worker thread: queue the event onto the loop (never blocks the flow;
        the events arrive before the flow's result does)."""
        try:
            self.loop.call_soon_threadsafe(self._deliver, event)
        except RuntimeError:
            pass  # the loop is closed: nobody is listening any more

    def _deliver(self, event: FlowEvent) -> None:
        r = _deliver("on_progress", self.fn, event)
        if hasattr(r, "__await__"):
            self.tail = self.loop.create_task(self._after(self.tail, r))

    @staticmethod
    async def _after(before: Optional["asyncio.Task[None]"], awaitable: Any) -> None:
        if before is not None:
            try:
                await before  # never raises but CancelledError: each step logs its own exception
            except asyncio.CancelledError:
                close = getattr(awaitable, "close", None)
                if close is not None:
                    close()  # cancelled before it started: no "never awaited" warning
                raise
        try:
            await awaitable
        except Exception:
            _log().exception("sosopay: the on_progress callback raised; ignored")

    async def drain(self) -> None:
        """Waits for the async callbacks of the events delivered so far."""
        if self.tail is not None:
            await asyncio.shield(self.tail)

    async def drain_after_cancel(self) -> None:
        """:meth:`drain` for a task that was cancelled: waits at most
        :data:`_PROGRESS_GRACE` seconds, whatever further cancellations arrive meanwhile (the
        ``"done"`` event is the only place, besides the log, where its caller can still learn
        the outcome), then leaves the callbacks running on the loop."""
        deadline = self.loop.time() + _PROGRESS_GRACE
        while self.tail is not None and not self.tail.done():
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait({self.tail}, timeout=remaining)
            except asyncio.CancelledError:
                continue


#: How long (seconds) a cancelled flow's coroutine still waits for an ``async def``
#: ``on_progress`` to receive the events so far (the ``"done"`` one among them) before it
#: re-raises ``CancelledError``.
_PROGRESS_GRACE = 5.0


def _log_cancelled_call(op: str, kwargs: Dict[str, Any], job: "concurrent.futures.Future[Any]") -> None:
    """Logs how a money-moving call ended whose awaiting task had been cancelled (a timeout, a
    closed request): the request was sent, and nobody else learns its result."""
    error = job.exception()
    reply = job.result() if error is None else None
    _log_orphan("the task awaiting %s of %s was cancelled", op, kwargs, error, reply)


async def _settle(fut: "asyncio.Future[PaymentOutcome]") -> Optional[PaymentOutcome]:
    """Waits for a cancelled flow to end, whatever further cancellations arrive meanwhile."""
    while True:
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            if fut.done() and fut.cancelled():
                return None
            continue
        except Exception:
            return None  # the flow raised (an invalid request): nothing was sent


class AsyncClient:
    """The same client for asyncio (FastAPI, aiohttp): every method is a coroutine that runs
    the blocking core call on this client's own thread pool (the GIL is released during I/O).

    The pool is never the event loop's default executor: a payment the gateway holds (up to
    80 s while the customer confirms) occupies one worker for the whole flow, so held payments
    must not starve ``asyncio.to_thread`` and ``loop.run_in_executor(None, ...)`` elsewhere in
    the application, nor be starved by them. ``max_workers`` (default
    :data:`DEFAULT_MAX_WORKERS`, 64) is how many calls run at once; further calls wait for a
    free worker. Size it to the payments you expect to be held at the same time (tills,
    concurrent requests); threads are started only when needed.

    Cancelling the task awaiting ``micropay_and_wait`` (``task.cancel()``, a timeout, a closed
    request) cancels the flow: it reverses the order (prove it ours, cancel, confirm), the
    coroutine waits for that, then re-raises :class:`asyncio.CancelledError`; the outcome goes
    to ``on_progress`` (the ``"done"`` event) and to the ``"sosopay"`` logger. To get the
    outcome returned instead (a cashier's cancel button), pass ``cancel=CancelToken()`` and
    call ``token.cancel()``. Use ``async with`` or :meth:`close` to release the pool."""

    __slots__ = ("_client", "_pool", "_max_workers", "_pid", "_closed")

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
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int):
            raise TypeError(f"max_workers: expected an int, got {type(max_workers).__name__}")
        if not 1 <= max_workers <= 4096:
            from .errors import _invalid

            raise _invalid("max_workers", "must be between 1 and 4096")
        self._client = Client(
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
            on_request=on_request,
        )
        self._max_workers = max_workers
        self._closed = False
        self._pid = os.getpid()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sosopay")

    def _executor(self, closing: bool = False) -> concurrent.futures.ThreadPoolExecutor:
        """This process's pool. After ``fork()`` the parent's worker threads do not exist in the
        child (a call queued on that pool would wait forever): a child makes its own pool and
        leaves the parent's alone. The native client's connections are per process too."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="sosopay")
            if self._closed:
                self._pool.shutdown(wait=False)
        if self._closed and not closing:
            raise RuntimeError("this sosopay.AsyncClient is closed")
        return self._pool

    @property
    def sync(self) -> Client:
        """The underlying blocking client."""
        return self._client

    @property
    def max_workers(self) -> int:
        """How many calls this client runs at once (its own thread pool's size)."""
        return self._max_workers

    def close(self) -> None:
        """Releases the thread pool once the calls under way are done (it does not wait for
        them; they run to completion). Later calls raise ``RuntimeError``."""
        self._closed = True
        self._executor(closing=True).shutdown(wait=False)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def _run(self, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        """``fn(**kwargs)`` on this client's pool, in a copy of the caller's context. Cancelling
        the awaiting task cannot unsend a request already under way: it runs to its end, and for
        an operation that moves money its result is logged, as nobody receives it."""
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        job = self._executor().submit(ctx.run, functools.partial(fn, **kwargs))
        wrapped = asyncio.wrap_future(job, loop=loop)
        try:
            return await asyncio.shield(wrapped)
        except asyncio.CancelledError:
            # Nobody awaits it now, and its end must not call back a loop that may be closed by
            # then. Cancelling it cancels a job still queued (nothing sent), not a running one.
            wrapped.cancel()
            # A request that moves money (or reverses it), by the core's rule: its result is
            # logged (a query's is not).
            if not job.cancel() and _moves_money(fn.__name__):
                job.add_done_callback(functools.partial(_log_cancelled_call, fn.__name__, kwargs))
            raise

    async def _flow(
        self,
        fn: Callable[..., PaymentOutcome],
        cancel: Optional[CancelToken],
        on_progress: Optional[AsyncProgressCallback],
        **kwargs: Any,
    ) -> PaymentOutcome:
        """Runs a flow on the pool; cancelling the awaiting task cancels the flow's token,
        waits for the flow to end (the order reversed), then re-raises."""
        loop = asyncio.get_running_loop()
        if on_progress is not None:
            _check_callable("on_progress", on_progress)
        token = cancel if cancel is not None else CancelToken()
        watcher = _Progress(loop, on_progress) if on_progress is not None else None
        progress: Optional[ProgressCallback] = watcher.post if watcher is not None else None
        ctx = contextvars.copy_context()
        job = self._executor().submit(ctx.run, functools.partial(fn, cancel=token, on_progress=progress, **kwargs))
        fut = asyncio.wrap_future(job, loop=loop)
        try:
            outcome = await asyncio.shield(fut)
        except asyncio.CancelledError:
            if job.cancel():
                raise  # still queued for a worker: nothing was sent
            token.cancel()
            settled = await _settle(fut)
            if settled is not None:
                _log_flow_end(
                    "the task awaiting the flow of %s was cancelled",
                    settled.charge_code,
                    settled.status.value,
                    settled.reason,
                )
            if watcher is not None:
                await watcher.drain_after_cancel()  # the "done" event, bounded
            raise
        if watcher is not None:
            try:
                await watcher.drain()
            except asyncio.CancelledError:
                # The flow has ended, but the caller will never see its outcome: the log, and
                # the "done" event (queued already), are the only places it is told.
                _log_flow_end(
                    "the task awaiting the flow of %s was cancelled while on_progress ran",
                    outcome.charge_code,
                    outcome.status.value,
                    outcome.reason,
                )
                await watcher.drain_after_cancel()
                raise
        return outcome

    @property
    def busi_code(self) -> str:
        return self._client.busi_code

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def __repr__(self) -> str:
        return repr(self._client).replace("sosopay.Client(", "sosopay.AsyncClient(", 1)

    # --- generated from core/src/models.rs (scripts/gen-foreign.py)
    async def micropay(
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
        return await self._run(
            self._client.micropay,
            charge_code=charge_code,
            dynamic_id=dynamic_id,
            pay_subject=pay_subject,
            amount=amount,
            amount_fen=amount_fen,
            dynamic_id_type=dynamic_id_type,
            channel=channel,
            oper_id=oper_id,
            dev_id=dev_id,
            register_id=register_id,
            merchant_para=merchant_para,
            time_expire=time_expire,
            goods=goods,
            verify_codes=verify_codes,
            notify_url=notify_url,
        )

    async def create_qr_order(
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
        return await self._run(
            self._client.create_qr_order,
            charge_code=charge_code,
            channel=channel,
            pay_subject=pay_subject,
            amount=amount,
            amount_fen=amount_fen,
            oper_id=oper_id,
            dev_id=dev_id,
            register_id=register_id,
            merchant_para=merchant_para,
            time_expire=time_expire,
            notify_url=notify_url,
            goods=goods,
            verify_codes=verify_codes,
            trade_type=trade_type,
            sub_appid=sub_appid,
            sub_openid=sub_openid,
        )

    async def create_jsapi_order(
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
        return await self._run(
            self._client.create_jsapi_order,
            charge_code=charge_code,
            pay_subject=pay_subject,
            sub_openid=sub_openid,
            amount=amount,
            amount_fen=amount_fen,
            channel=channel,
            oper_id=oper_id,
            dev_id=dev_id,
            register_id=register_id,
            merchant_para=merchant_para,
            time_expire=time_expire,
            notify_url=notify_url,
            goods=goods,
            verify_codes=verify_codes,
            sub_appid=sub_appid,
        )

    async def query(
        self,
        *,
        code: Optional[str] = None,
        charge_code: Optional[str] = None,
        ser_type: Union[SerType, str, int, None] = None,
    ) -> QueryReply:
        """Query an order by ``code`` (alias ``charge_code``); ``ser_type`` says what the code is."""
        return await self._run(
            self._client.query,
            code=code,
            charge_code=charge_code,
            ser_type=ser_type,
        )

    async def refund(
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
        return await self._run(
            self._client.refund,
            out_refund_no=out_refund_no,
            refund_subject=refund_subject,
            refund_amount=refund_amount,
            refund_amount_fen=refund_amount_fen,
            charge_code=charge_code,
            charge_down_code=charge_down_code,
            oper_id=oper_id,
            dev_id=dev_id,
        )

    async def cancel(
        self,
        *,
        charge_code: str,
        apply: bool = False,
    ) -> CancelReply:
        """Cancel (撤单) an order; ``apply=True`` applies to cancel (``opType=ACO``).

        ``AREADY_REVOKED`` (the order is cancelled already) is returned as a reply, never
        raised: the order is cancelled, as asked."""
        return await self._run(
            self._client.cancel,
            charge_code=charge_code,
            apply=apply,
        )

    async def flow_recharge(
        self,
        *,
        phone_no: str,
        flow_val: int,
        flow_type: Optional[str] = None,
        notify_url: Optional[str] = None,
    ) -> FlowRechargeReply:
        """Mobile data top-up (流量充值) of ``flow_val`` MB for ``phone_no``."""
        return await self._run(
            self._client.flow_recharge,
            phone_no=phone_no,
            flow_val=flow_val,
            flow_type=flow_type,
            notify_url=notify_url,
        )

    async def micropay_and_wait(
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
        on_progress: Optional[AsyncProgressCallback] = None,
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

        Runs on one worker of this client's pool for the whole flow. Cancelling the awaiting
        task reverses the order, waits for that, then re-raises ``CancelledError`` (a task
        cancelled while still queued for a worker sends nothing). ``cancel``: a
        :class:`CancelToken` whose ``cancel()`` makes the flow reverse the order and *return*
        the outcome (``CANCELLED``, or ``PAID`` / ``UNRESOLVED``). ``on_progress``: called with
        each :class:`FlowEvent` on the event loop's thread, in order, all before this coroutine
        returns; an ``async def`` callback is awaited, one event after the other; an exception
        it raises is logged and ignored."""
        return await self._flow(
            self._client.micropay_and_wait,
            cancel,
            on_progress,
            charge_code=charge_code,
            dynamic_id=dynamic_id,
            pay_subject=pay_subject,
            amount=amount,
            amount_fen=amount_fen,
            dynamic_id_type=dynamic_id_type,
            channel=channel,
            oper_id=oper_id,
            dev_id=dev_id,
            register_id=register_id,
            merchant_para=merchant_para,
            time_expire=time_expire,
            goods=goods,
            verify_codes=verify_codes,
            notify_url=notify_url,
            deadline=deadline,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            cancel_attempts=cancel_attempts,
            max_duration=max_duration,
            gateway_hold=gateway_hold,
        )

    async def wait_for_payment(
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
        on_progress: Optional[AsyncProgressCallback] = None,
    ) -> PaymentOutcome:
        """Poll a QR / JSAPI order until paid, failed, cancelled, or the deadline (``PENDING``).

        ``amount`` (yuan) or ``amount_fen``: the amount the order was created for
        (recommended). Then an order under ``charge_code`` for another amount (the code was used
        before, for another payment) is ``CONFLICT``, never ``PAID``.

        Timing, in seconds, as in :meth:`micropay_and_wait`: ``deadline`` (default 60),
        ``poll_interval`` (default 2) growing to ``max_poll_interval`` (default 5),
        ``cancel_attempts`` (default 5), ``max_duration`` (default 90, or ``deadline`` + 30 when longer; at least ``deadline``),
        ``gateway_hold`` (default 80). Cancelling the awaiting task (or ``cancel``) stops
        waiting at once; the order is left as it is. ``on_progress`` as in
        :meth:`micropay_and_wait`."""
        return await self._flow(
            self._client.wait_for_payment,
            cancel,
            on_progress,
            charge_code=charge_code,
            amount=amount,
            amount_fen=amount_fen,
            merchant_para=merchant_para,
            deadline=deadline,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            cancel_attempts=cancel_attempts,
            max_duration=max_duration,
            gateway_hold=gateway_hold,
        )
    # --- end of generated
