"""AsyncClient: the same operations as coroutines, concurrently."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import sosopay
from conftest import BUSI, KEY, Sandbox


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
        f"sosopay: the task awaiting micropay of {code}-O was cancelled after the request was sent; it answered "
        "SUCCESS, order state 1 (PAID) (query the order before charging again)"
    ], logged
    orders = [o for o in hold_sandbox.admin("GET", "ledger")["orders"] if o["charge_code"] == f"{code}-O"]
    assert [str(o["state"]) for o in orders] == ["1"]  # paid, though its caller saw CancelledError
