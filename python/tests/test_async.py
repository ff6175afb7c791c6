"""AsyncClient: the same operations as coroutines, concurrently."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Awaitable, Callable, List

import pytest

import sosopay
import sosopay.aio
from conftest import BUSI, KEY, NEVER_CONFIRMS, Sandbox
from sosopay import FlowEvent
from sosopay.testing import codes


def test_async_client_operations(sandbox: Sandbox, code: str) -> None:
    async def main() -> None:
        c = sosopay.AsyncClient(
            busi_code=BUSI, key=KEY, base_url=sandbox.base_url, encrypt=True, default_oper_id="o", default_dev_id="d"
        )
        replies = await asyncio.gather(
            *(
                c.micropay(charge_code=f"{code}-A{i}", amount=Decimal("0.10"), dynamic_id="130730865806264036", pay_subject="a")
                for i in range(5)
            )
        )
        assert [r.amount_fen for r in replies] == [10] * 5
        q = await c.query(charge_code=f"{code}-A0")
        assert q.state is sosopay.OrderState.PAID
        r = await c.refund(charge_code=f"{code}-A0", out_refund_no=f"{code}-AR", refund_amount="0.10", refund_subject="r")
        assert r.state is sosopay.OrderState.REFUNDED
        o = await c.create_qr_order(charge_code=f"{code}-Q", amount="2.00", channel=sosopay.Channel.WECHAT, pay_subject="q")
        assert o.bar_code
        sandbox.admin("POST", f"orders/{code}-Q/pay")
        out = await c.wait_for_payment(charge_code=f"{code}-Q", deadline=5, poll_interval=0.1)
        assert out.is_paid
        j = await c.create_jsapi_order(charge_code=f"{code}-J", amount="1.00", pay_subject="j", sub_openid="oU")
        assert j.jsapi is not None
        assert (await c.cancel(charge_code=f"{code}-J")).result.is_success
        assert (await c.flow_recharge(phone_no="13800138000", flow_val=5)).result.is_success
        w = await c.micropay_and_wait(
            charge_code=f"{code}-W", amount_fen=7, dynamic_id="130000000000001002", pay_subject="w", poll_interval=0.1
        )
        assert w.status is sosopay.OutcomeStatus.PAID
        with pytest.raises(sosopay.GatewayError):
            await c.query(code="NO-SUCH-ORDER-ASYNC")
        with pytest.raises(TypeError):
            await c.micropay(charge_code="x", amount=0.5, dynamic_id="1", pay_subject="x")  # type: ignore[arg-type]

    asyncio.run(main())


def test_async_calls_do_not_block_the_event_loop(sandbox: Sandbox) -> None:
    async def main() -> int:
        c = sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, retry_attempts=1)
        sandbox.set_faults("query:delay:1:800")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        t = asyncio.ensure_future(ticker())
        with pytest.raises(sosopay.GatewayError):
            await c.query(charge_code="NO-SUCH-ORDER-LOOP")
        t.cancel()
        return ticks

    assert asyncio.run(main()) > 20


def test_a_cancelled_money_call_is_not_unsent_and_its_end_is_logged(
    hold_sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelling the task awaiting a single micropay (a timeout, a closed web request) cannot
    unsend it: the customer pays (after 1 s here) while the caller saw ``CancelledError``. Its
    end is logged, since nobody else learns it; a cancelled query's is not."""
    pays_after_1s = "130000000000001020"  # 20 s x 0.05

    async def main() -> None:
        async with sosopay.AsyncClient(
            busi_code=BUSI, key=KEY, base_url=hold_sandbox.base_url, default_oper_id="o", default_dev_id="d"
        ) as c:
            task = asyncio.create_task(
                c.micropay(charge_code=f"{code}-O", amount_fen=100, dynamic_id=pays_after_1s, pay_subject="o")
            )
            for _ in range(100):  # until the gateway holds it (sent: no longer cancellable)
                ledger = await asyncio.to_thread(hold_sandbox.admin, "GET", "ledger")
                if any(o["charge_code"] == f"{code}-O" for o in ledger["orders"]):
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            query = asyncio.create_task(c.query(charge_code=f"{code}-O"))
            await asyncio.sleep(0)
            query.cancel()
            with pytest.raises(asyncio.CancelledError):
                await query
            for _ in range(100):  # the held request ends after about 1 s
                if any("was cancelled" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)

    with caplog.at_level("WARNING", logger="sosopay"):
        asyncio.run(main())
    logged = [r.getMessage() for r in caplog.records if r.name == "sosopay"]
    assert logged == [
        f"sosopay: the task awaiting micropay of {code}-O was cancelled while the operation was under way; a single "
        "operation is not interrupted, so it went on: it answered "
        "SUCCESS, order state 1 (PAID) (query the order before charging again)"
    ], logged
    orders = [o for o in hold_sandbox.admin("GET", "ledger")["orders"] if o["charge_code"] == f"{code}-O"]
    assert [str(o["state"]) for o in orders] == ["1"]  # paid, though its caller saw CancelledError


def _progress_recorder(
    arrived: List[FlowEvent], delivered: List[FlowEvent], release: asyncio.Event
) -> Callable[[FlowEvent], Awaitable[None]]:
    """An async ``on_progress``: each event is noted in ``arrived`` when it reaches the loop,
    and in ``delivered`` once the callback has run (each waits for ``release``)."""

    async def deliver(e: FlowEvent) -> None:
        await release.wait()
        delivered.append(e)

    def on_progress(e: FlowEvent) -> Awaitable[None]:
        arrived.append(e)
        return deliver(e)

    return on_progress


def test_a_flow_cancelled_while_on_progress_runs_still_tells_its_outcome(
    sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The task is cancelled (a timeout) after the flow ended PAID, while the coroutine awaits
    an async ``on_progress``: the outcome is logged (WARNING: money was taken and the caller
    never sees it) and the ``"done"`` event still reaches the callback before the task ends."""
    arrived: List[FlowEvent] = []
    delivered: List[FlowEvent] = []

    async def main() -> None:
        release = asyncio.Event()
        async with sosopay.AsyncClient(
            busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d"
        ) as c:
            task = asyncio.create_task(
                c.micropay_and_wait(
                    charge_code=f"{code}-D",
                    amount_fen=420,
                    dynamic_id=codes.PAY_NOW,
                    pay_subject="d",
                    poll_interval=0.1,
                    on_progress=_progress_recorder(arrived, delivered, release),
                )
            )
            for _ in range(500):  # until the flow has ended (its last event arrived)
                if any(e.kind == "done" for e in arrived):
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # the outcome arrives after the last event
            assert not task.done() and delivered == []
            task.cancel()
            asyncio.get_running_loop().call_later(0.1, release.set)
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
            # The task ended only after the callbacks had run, the "done" one among them.
            assert [e.kind for e in delivered] == [e.kind for e in arrived]
            assert delivered[-1].kind == "done" and delivered[-1].status is sosopay.OutcomeStatus.PAID

    with caplog.at_level("INFO", logger="sosopay"):
        asyncio.run(main())
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "sosopay"]
    assert [level for level, _ in logged] == ["WARNING"], logged
    assert logged[0][1].startswith(
        f"sosopay: the task awaiting the flow of {code}-D was cancelled while on_progress ran; the flow ended paid ("
    ), logged
    orders = [o for o in sandbox.admin("GET", "ledger")["orders"] if o["charge_code"] == f"{code}-D"]
    assert [str(o["state"]) for o in orders] == ["1"]  # paid: the log says so


def test_a_cancelled_flow_delivers_its_done_event_before_re_raising(
    hold_sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelling the task mid-hold reverses the order; the coroutine re-raises only after the
    async ``on_progress`` received the ``"done"`` event (the outcome's only place besides the
    log), and it waits for that a bounded time: a callback that never ends does not hold the
    cancelled task for long."""
    arrived: List[FlowEvent] = []
    delivered: List[FlowEvent] = []

    async def run(charge_code: str, release: asyncio.Event) -> float:
        async with sosopay.AsyncClient(
            busi_code=BUSI, key=KEY, base_url=hold_sandbox.base_url, default_oper_id="o", default_dev_id="d"
        ) as c:
            task = asyncio.create_task(
                c.micropay_and_wait(
                    charge_code=charge_code,
                    amount_fen=100,
                    dynamic_id=NEVER_CONFIRMS,
                    pay_subject="c",
                    poll_interval=0.05,
                    on_progress=_progress_recorder(arrived, delivered, release),
                )
            )
            for _ in range(200):  # until the gateway holds it
                ledger = await asyncio.to_thread(hold_sandbox.admin, "GET", "ledger")
                if any(o["charge_code"] == charge_code for o in ledger["orders"]):
                    break
                await asyncio.sleep(0.05)
            task.cancel()
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=30)
            return loop.time() - started

    async def delivers() -> None:
        release = asyncio.Event()
        release.set()
        await run(f"{code}-C", release)
        # Nothing awaited since: the callbacks ran before the task ended.
        assert delivered and delivered[-1].kind == "done"
        assert delivered[-1].status is sosopay.OutcomeStatus.CANCELLED

    with caplog.at_level("INFO", logger="sosopay"):
        asyncio.run(delivers())
    assert any(
        r.getMessage().startswith(f"sosopay: the task awaiting the flow of {code}-C was cancelled; the flow ended cancelled")
        for r in caplog.records
    )

    monkeypatch.setattr(sosopay.aio, "_PROGRESS_GRACE", 0.3)
    arrived.clear()
    delivered.clear()

    async def bounded() -> None:
        never = asyncio.Event()
        waited_after_cancel = await run(f"{code}-B", never)
        assert any(e.kind == "done" for e in arrived) and delivered == []
        assert waited_after_cancel < 15  # the reversal, plus at most the grace period

    asyncio.run(bounded())


def test_a_cancelled_refund_or_top_up_is_logged_by_what_identifies_it(
    sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The log of a refund whose task was cancelled names the refund (``out_refund_no`` and
    amount), not only the order; a top-up's names its size and phone number, and the gateway's
    top-up order."""

    async def main() -> None:
        async with sosopay.AsyncClient(
            busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d"
        ) as c:
            await c.micropay(charge_code=f"{code}-R", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="r")
            sandbox.set_faults("refund:delay:1:500", "flowRecharge:delay:1:500")
            refund = c.refund(charge_code=f"{code}-R", out_refund_no=f"{code}-R1", refund_amount="0.30", refund_subject="r")
            top_up = c.flow_recharge(phone_no="13800138000", flow_val=10)
            for call in (refund, top_up):
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(call, 0.2)
            for _ in range(200):  # the delayed requests end after 0.5 s
                if sum("was cancelled" in r.getMessage() for r in caplog.records) >= 2:
                    break
                await asyncio.sleep(0.05)

    with caplog.at_level("WARNING", logger="sosopay"):
        asyncio.run(main())
    logged = sorted(r.getMessage() for r in caplog.records if r.name == "sosopay")
    assert len(logged) == 2, logged
    assert logged[0].startswith(
        "sosopay: the task awaiting flow_recharge of 10 MB for 13800138000 was cancelled while the operation was "
        "under way; a single operation is not interrupted, so it went on: it answered SUCCESS, top-up order "
    ), logged
    assert logged[1] == (
        f"sosopay: the task awaiting refund of {code}-R (out_refund_no {code}-R1, 0.30 yuan) was cancelled while "
        "the operation was under way; a single operation is not interrupted, so it went on: it answered SUCCESS, "
        "order state 4 (PARTIALLY_REFUNDED) (query the order; retry with the same out_refund_no, never a new one)"
    ), logged
