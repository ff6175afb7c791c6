"""Cancellable, observable flows: AsyncClient's own pool, task cancellation, progress events,
and the sync client's CancelToken (issue #14)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import threading
import time
from typing import Any, Callable, Dict, List, Optional

import pytest

import sosopay
from conftest import BUSI, GATEWAY_HOLD, HOLD_TIME_SCALE, KEY, NEVER_CONFIRMS, TIME_SCALE, Sandbox

PAYS_AFTER_A_MOMENT = "130000000000001002"


def _async_client(sb: Sandbox, **kw: Any) -> sosopay.AsyncClient:
    return sosopay.AsyncClient(
        busi_code=BUSI, key=KEY, base_url=sb.base_url, default_oper_id="o", default_dev_id="d", **kw
    )


def _sync_client(sb: Sandbox) -> sosopay.Client:
    return sosopay.Client(busi_code=BUSI, key=KEY, base_url=sb.base_url, default_oper_id="o", default_dev_id="d")


def _ledger_state(sb: Sandbox, charge_code: str) -> Optional[int]:
    orders = [o for o in sb.admin("GET", "ledger")["orders"] if o["charge_code"] == charge_code]
    if not orders:
        return None
    state = orders[0]["state"]
    return int(state)


def _held(code: str) -> Dict[str, Any]:
    return dict(charge_code=code, amount_fen=100, dynamic_id=NEVER_CONFIRMS, pay_subject="held", poll_interval=0.05)


class _CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> "concurrent.futures.Future[Any]":
        type(self).submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_fifty_held_payments_complete_in_about_one_hold(sandbox: Sandbox, code: str) -> None:
    hold = GATEWAY_HOLD * TIME_SCALE  # 0.8 s
    n = 50

    async def main() -> float:
        loop = asyncio.get_running_loop()
        # The event loop's default executor is small (as on a 2-core machine) and must stay
        # unused: the client has its own pool.
        default = _CountingExecutor(max_workers=2)
        loop.set_default_executor(default)
        async with _async_client(sandbox) as c:
            assert c.max_workers == sosopay.DEFAULT_MAX_WORKERS == 64
            started = time.monotonic()
            outs = await asyncio.gather(*(c.micropay_and_wait(**_held(f"{code}-{i}")) for i in range(n)))
            took = time.monotonic() - started
        assert all(o.status is sosopay.OutcomeStatus.CANCELLED for o in outs), {o.status for o in outs}
        assert _CountingExecutor.submitted == 0
        return took

    took = asyncio.run(main())
    print(f"\n{n} held payments took {took:.2f} s with a hold of {hold:.2f} s")
    # One hold plus overhead; a pool of a few workers would need n / workers holds.
    assert took < 5 * hold, f"{n} held payments took {took:.2f} s (hold {hold:.2f} s)"


def test_a_small_pool_queues_the_calls_beyond_it(sandbox: Sandbox, code: str) -> None:
    hold = GATEWAY_HOLD * TIME_SCALE

    async def main() -> float:
        async with _async_client(sandbox, max_workers=2) as c:
            started = time.monotonic()
            await asyncio.gather(*(c.micropay_and_wait(**_held(f"{code}-{i}")) for i in range(4)))
            return time.monotonic() - started

    # Two at a time: two holds at least.
    assert asyncio.run(main()) >= 2 * hold


def test_max_workers_is_checked() -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url="http://127.0.0.1:9/", max_workers=0)
    assert e.value.field == "max_workers"
    with pytest.raises(TypeError):
        sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url="http://127.0.0.1:9/", max_workers=2.5)  # type: ignore[arg-type]


def test_cancelling_the_task_mid_hold_reverses_the_order(hold_sandbox: Sandbox, code: str) -> None:
    hold = GATEWAY_HOLD * HOLD_TIME_SCALE  # 4 s
    events: List[sosopay.FlowEvent] = []

    async def main() -> float:
        async with _async_client(hold_sandbox) as c:
            task = asyncio.ensure_future(c.micropay_and_wait(**_held(code), on_progress=events.append))
            await asyncio.sleep(0.4)
            assert not task.done()
            assert _ledger_state(hold_sandbox, code) == 0  # held: awaiting the customer
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - started

    took = asyncio.run(main())
    print(f"\ncancelling mid-hold took {took:.2f} s (hold {hold:.0f} s)")
    assert _ledger_state(hold_sandbox, code) == 2, "the order is reversed in the ledger"
    assert took < hold / 2, f"the cancel took {took:.2f} s"
    kinds = [e.kind for e in events]
    assert kinds[0] == "sending" and kinds[-1] == "done", kinds
    assert any(e.kind == "cancelling" and e.requested for e in events), kinds
    assert events[-1].status is sosopay.OutcomeStatus.CANCELLED


def test_a_task_cancelled_while_queued_sends_nothing(hold_sandbox: Sandbox, code: str) -> None:
    async def main() -> None:
        async with _async_client(hold_sandbox, max_workers=1) as c:
            first = asyncio.ensure_future(c.micropay_and_wait(**_held(f"{code}-1")))
            second = asyncio.ensure_future(c.micropay_and_wait(**_held(f"{code}-2")))
            await asyncio.sleep(0.3)
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first

    asyncio.run(main())
    assert _ledger_state(hold_sandbox, f"{code}-1") == 2
    assert _ledger_state(hold_sandbox, f"{code}-2") is None, "never sent"


def test_a_cancel_token_returns_the_outcome_from_async(hold_sandbox: Sandbox, code: str) -> None:
    async def main() -> sosopay.PaymentOutcome:
        async with _async_client(hold_sandbox) as c:
            token = sosopay.CancelToken()
            asyncio.get_running_loop().call_later(0.4, token.cancel)
            return await c.micropay_and_wait(**_held(code), cancel=token)

    out = asyncio.run(main())
    assert out.status is sosopay.OutcomeStatus.CANCELLED
    assert _ledger_state(hold_sandbox, code) == 2


def test_progress_events_arrive_in_order_on_the_loop(sandbox: Sandbox, code: str) -> None:
    seen: List[sosopay.FlowEvent] = []
    threads: List[int] = []

    def on_progress(e: sosopay.FlowEvent) -> None:
        seen.append(e)
        threads.append(threading.get_ident())

    async def main() -> sosopay.PaymentOutcome:
        async with _async_client(sandbox) as c:
            return await c.micropay_and_wait(
                charge_code=code, amount_fen=5, dynamic_id=PAYS_AFTER_A_MOMENT, pay_subject="p",
                poll_interval=0.05, on_progress=on_progress,
            )

    out = asyncio.run(main())
    assert out.status is sosopay.OutcomeStatus.PAID
    kinds = [e.kind for e in seen]
    assert kinds[0] == "sending" and kinds[-1] == "done" and kinds.count("done") == 1, kinds
    assert seen[-1].status is sosopay.OutcomeStatus.PAID
    assert "queried" in kinds and "waiting" in kinds
    assert [e.elapsed for e in seen] == sorted(e.elapsed for e in seen)
    assert set(threads) == {threading.get_ident()}, "delivered on the event loop's thread"


def test_an_async_progress_callback_is_awaited_in_order_before_the_flow_returns(sandbox: Sandbox, code: str) -> None:
    seen: List[str] = []
    finished: List[str] = []

    async def on_progress(e: sosopay.FlowEvent) -> None:
        seen.append(e.kind)
        await asyncio.sleep(0.01)  # slower than the flow: the events must still finish in order
        finished.append(e.kind)
        if e.kind == "sending":
            raise RuntimeError("a broken progress display")  # logged, the rest still run

    async def main() -> sosopay.PaymentOutcome:
        async with _async_client(sandbox) as c:
            out = await c.micropay_and_wait(
                charge_code=code, amount_fen=5, dynamic_id=PAYS_AFTER_A_MOMENT, pay_subject="p",
                poll_interval=0.05, on_progress=on_progress,
            )
            assert finished and finished[-1] == "done", "awaited before the flow returned"
            return out

    out = asyncio.run(main())
    assert out.status is sosopay.OutcomeStatus.PAID
    assert seen == finished, "one event after the other"
    assert seen[0] == "sending" and seen[-1] == "done" and "queried" in seen


def test_the_blocking_client_refuses_an_async_progress_callback_loudly(
    sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    import warnings

    async def on_progress(e: sosopay.FlowEvent) -> None:  # pragma: no cover - never run
        raise AssertionError("not run by the blocking client")

    with caplog.at_level(logging.ERROR, logger="sosopay"), warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        out = _sync_client(sandbox).micropay_and_wait(
            charge_code=code, amount_fen=5, dynamic_id=PAYS_AFTER_A_MOMENT, pay_subject="p",
            poll_interval=0.05, on_progress=on_progress,  # type: ignore[arg-type]
        )
    assert out.status is sosopay.OutcomeStatus.PAID, "the payment is not affected"
    assert "use AsyncClient" in caplog.text


def test_sync_progress_and_a_failing_callback(sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture) -> None:
    c = _sync_client(sandbox)
    seen: List[sosopay.FlowEvent] = []

    def on_progress(e: sosopay.FlowEvent) -> None:
        seen.append(e)
        raise RuntimeError("a broken progress display")

    with caplog.at_level(logging.ERROR, logger="sosopay"):
        out = c.micropay_and_wait(
            charge_code=code, amount_fen=5, dynamic_id=PAYS_AFTER_A_MOMENT, pay_subject="p",
            poll_interval=0.05, on_progress=on_progress,
        )
    assert out.status is sosopay.OutcomeStatus.PAID, "a raising callback does not fail the payment"
    kinds = [e.kind for e in seen]
    assert kinds[0] == "sending" and kinds[-1] == "done", kinds
    queried = [e for e in seen if e.kind == "queried"]
    assert queried and queried[-1].state is sosopay.OrderState.PAID
    assert "on_progress callback raised" in caplog.text

    qr = f"{code}-QR"
    c.create_qr_order(charge_code=qr, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="q")
    waits: List[str] = []
    w = c.wait_for_payment(charge_code=qr, deadline=0.3, poll_interval=0.05, on_progress=lambda e: waits.append(e.kind))
    assert w.status is sosopay.OutcomeStatus.PENDING
    assert waits[0] == "queried" and waits[-1] == "done", waits


def test_sync_cancel_token_from_another_thread(hold_sandbox: Sandbox, code: str) -> None:
    c = _sync_client(hold_sandbox)
    token = sosopay.CancelToken()
    assert not token.is_cancelled() and "cancelled=False" in repr(token)
    kinds: List[str] = []
    threading.Timer(0.4, token.cancel).start()  # the cashier's cancel button
    started = time.monotonic()
    out = c.micropay_and_wait(**_held(code), cancel=token, on_progress=lambda e: kinds.append(e.kind))
    took = time.monotonic() - started
    assert token.is_cancelled()
    assert out.status is sosopay.OutcomeStatus.CANCELLED, out
    assert took < GATEWAY_HOLD * HOLD_TIME_SCALE / 2, took
    assert _ledger_state(hold_sandbox, code) == 2
    assert "cancelling" in kinds and kinds[-1] == "done"


def test_a_token_cancelled_before_the_start_sends_nothing(sandbox: Sandbox, code: str) -> None:
    c = _sync_client(sandbox)
    token = sosopay.CancelToken()
    token.cancel()
    kinds: List[str] = []
    out = c.micropay_and_wait(**_held(code), cancel=token, on_progress=lambda e: kinds.append(e.kind))
    assert out.status is sosopay.OutcomeStatus.FAILED and out.queries == 0
    assert "nothing was charged" in out.reason
    assert kinds == ["done"]
    assert _ledger_state(sandbox, code) is None


def test_a_callback_or_token_of_the_wrong_type_is_refused_before_anything_is_sent(
    sandbox: Sandbox, code: str
) -> None:
    """A non-callable ``on_progress`` used to be accepted, then every event logged an error;
    a wrong ``cancel`` gave pyo3's message, naming no argument."""
    c = _sync_client(sandbox)
    bad: List[Dict[str, Any]] = [dict(on_progress=5), dict(cancel=[1]), dict(cancel="token")]
    expected = ["on_progress: expected a function, got int", "cancel: expected a sosopay.CancelToken, got list",
                "cancel: expected a sosopay.CancelToken, got str"]
    for kw, message in zip(bad, expected):
        with pytest.raises(TypeError) as e:
            c.micropay_and_wait(**_held(code), **kw)
        assert str(e.value) == message
        with pytest.raises(TypeError) as e:
            c.wait_for_payment(charge_code=code, amount_fen=100, **kw)
        assert str(e.value) == message

        async def flow(kw: Dict[str, Any] = kw) -> None:
            async with _async_client(sandbox) as a:
                await a.micropay_and_wait(**_held(code), **kw)

        with pytest.raises(TypeError) as e:
            asyncio.run(flow())
        assert str(e.value) == message
    with pytest.raises(TypeError, match="^on_request: expected a function, got str$"):
        sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, on_request="log")  # type: ignore[arg-type]
    assert _ledger_state(sandbox, code) is None


def test_cancelling_a_wait_leaves_the_order(sandbox: Sandbox, code: str) -> None:
    c = _async_client(sandbox)
    c.sync.create_qr_order(charge_code=code, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="q")

    async def main() -> float:
        task = asyncio.ensure_future(c.wait_for_payment(charge_code=code, deadline=30, poll_interval=0.05))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert asyncio.run(main()) < 1.0
    c.close()
    assert _ledger_state(sandbox, code) == 0, "still awaiting payment"


class _Interrupt(BaseException):
    """What a signal handler raises here (as Ctrl-C's raises ``KeyboardInterrupt``, which would
    end the pytest session should it escape)."""


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_ctrl_c_during_a_held_payment_reverses_it_and_raises_at_once(
    hold_sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On the main thread a signal handler's exception (Ctrl-C's ``KeyboardInterrupt``) used to
    wait until the flow ended by itself (the whole 80 s hold and more); it now cancels the flow
    as a token does (the order is reversed) and is raised as soon as that is done."""
    assert threading.current_thread() is threading.main_thread()

    def handler(signum: int, frame: Any) -> None:
        raise _Interrupt()

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        c = _sync_client(hold_sandbox)
        kinds: List[str] = []
        threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        started = time.monotonic()
        with caplog.at_level(logging.INFO, logger="sosopay"), pytest.raises(_Interrupt):
            c.micropay_and_wait(**_held(code), on_progress=lambda e: kinds.append(e.kind))
        took = time.monotonic() - started
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert took < GATEWAY_HOLD * HOLD_TIME_SCALE / 2, took
    assert _ledger_state(hold_sandbox, code) == 2, "reversed, not abandoned"
    assert "cancelling" in kinds and kinds[-1] == "done"
    assert any(code in r.getMessage() and "cancelled" in r.getMessage() for r in caplog.records), caplog.text

    # wait_for_payment just stops waiting (the QR order is left as it is).
    qr = f"{code}-QR"
    c.create_qr_order(charge_code=qr, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="q")
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        started = time.monotonic()
        with pytest.raises(_Interrupt):
            c.wait_for_payment(charge_code=qr, amount="1.00", deadline=30, poll_interval=0.05)
        assert time.monotonic() - started < 2.0
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert _ledger_state(hold_sandbox, qr) == 0


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_ctrl_c_during_a_plain_micropay_raises_after_it_and_logs_its_result(
    hold_sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A single operation is finished before Ctrl-C is raised (docs/BEHAVIOUR.md); its result,
    which the interrupted caller never receives, goes to the ``sosopay`` log (it used to be
    dropped silently)."""

    def handler(signum: int, frame: Any) -> None:
        raise _Interrupt()

    c = _sync_client(hold_sandbox)
    args = {k: v for k, v in _held(code).items() if k != "poll_interval"}
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with caplog.at_level(logging.WARNING, logger="sosopay"), pytest.raises(_Interrupt):
            c.micropay(**args)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    logged = [r for r in caplog.records if "ended after the caller was interrupted" in r.getMessage()]
    assert logged and code in logged[0].getMessage(), caplog.text
    assert logged[0].levelno == logging.WARNING
    # A query is not logged (nothing can have moved), and the interrupt is still raised.
    caplog.clear()
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        with caplog.at_level(logging.WARNING, logger="sosopay"), pytest.raises(_Interrupt):
            os.kill(os.getpid(), signal.SIGUSR1)
            c.query(charge_code=code)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not [r for r in caplog.records if "interrupted" in r.getMessage()], caplog.text


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no SIGUSR1 on this platform")
def test_ctrl_c_during_a_flows_last_request_raises_after_it_and_logs_the_outcome(
    sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A signal that lands while the flow's last request is out (the order already paid) used
    to be raised by the interpreter once the call returned, the outcome dropped without a word:
    the flow now takes it as the cancel it is (the payment it was about to report is reversed),
    and the outcome is logged as the ledger shows it."""

    def handler(signum: int, frame: Any) -> None:
        raise _Interrupt()

    c = _sync_client(sandbox)
    sandbox.set_faults("query:delay:1:600")
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        threading.Timer(0.25, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with caplog.at_level(logging.INFO, logger="sosopay"), pytest.raises(_Interrupt):
            c.micropay_and_wait(charge_code=code, amount_fen=100, dynamic_id="130730865806264036",
                                pay_subject="x", poll_interval=0.05)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    logged = [r for r in caplog.records if code in r.getMessage() and "interrupted" in r.getMessage()]
    assert logged, caplog.text
    message = logged[0].getMessage()
    state = _ledger_state(sandbox, code)
    assert ("ended cancelled" in message and state == 2) or ("ended paid" in message and state == 1), (message, state)


def test_a_till_killed_mid_payment_resumes_it_by_calling_again(hold_sandbox: Sandbox, code: str) -> None:
    """docs/BEHAVIOUR.md, "After a crash": the same call again settles the first payment (one
    charge: the gateway answers SERIAL_REPEAT), and another scanned code is a Conflict."""
    import subprocess
    import sys
    import textwrap

    pays_later = "130000000000001050"  # confirms after 50 s: 2.5 s at this time scale
    args: Dict[str, Any] = dict(charge_code=code, amount="1.00", dynamic_id=pays_later, pay_subject="crash")
    child = textwrap.dedent(
        f"""
        import sosopay
        c = sosopay.Client(busi_code={BUSI!r}, key={KEY!r}, base_url={hold_sandbox.base_url!r},
                           default_oper_id="o", default_dev_id="d")
        c.micropay_and_wait(**{args!r})
        """
    )
    till = subprocess.Popen([sys.executable, "-c", child])
    deadline = time.monotonic() + 10
    while _ledger_state(hold_sandbox, code) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    till.kill()  # the till dies while the gateway holds the payment
    till.wait()
    assert _ledger_state(hold_sandbox, code) == 0, "awaiting the customer"
    c = _sync_client(hold_sandbox)
    other = c.micropay_and_wait(**dict(args, dynamic_id="130730865806264036"))
    assert other.status is sosopay.OutcomeStatus.CONFLICT, other
    resumed = c.micropay_and_wait(**args)
    assert resumed.status is sosopay.OutcomeStatus.PAID, resumed
    assert _ledger_state(hold_sandbox, code) == 1
    orders = [o for o in hold_sandbox.admin("GET", "ledger")["orders"] if o["charge_code"] == code]
    assert len(orders) == 1, "one order, charged once"
