"""sosopay.testing: the kit clients' gateway hold, the ledger's request counts, and why a
notification wait found nothing."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict
from unittest import mock

import pytest

import sosopay
from sosopay import OutcomeStatus
from sosopay.aio import AsyncClient
from sosopay.testing import Sandbox, codes

#: Every gateway operation the ledger counts requests of.
GATEWAY_OPS = {"preOrder", "order", "refund", "query", "cancelTrade", "flowRecharge"}


# --- the kit clients wait for the sandbox's hold, not the real 80 s ---------------------------


def test_a_lost_micropay_settles_failed_within_the_scaled_hold() -> None:
    # The tester's repro: at time_scale 0.01 the flow waited the real 80 s before settling.
    with Sandbox(time_scale=0.01, faults=["preOrder:drop:1"]) as sb:
        assert sb.gateway_hold == pytest.approx(0.8)
        client = sb.client()
        assert isinstance(client, sosopay.Client)
        t = time.monotonic()
        out = client.micropay_and_wait(charge_code="D", amount="1.00", pay_subject="x",
                                       dynamic_id=codes.PAY_NOW, poll_interval=0.05)
        elapsed = time.monotonic() - t
        assert out.status is OutcomeStatus.FAILED and out.code == "CHARGE_NONEXISTENT"
        assert 0.8 <= elapsed < 10, elapsed
        assert sb.order("D") is None and sb.ledger().requests["preOrder"] == 1


def test_a_gateway_hold_given_is_kept() -> None:
    with Sandbox(time_scale=0.01, faults=["preOrder:drop:1"]) as sb:
        t = time.monotonic()
        out = sb.client().micropay_and_wait(charge_code="D", amount="1.00", pay_subject="x",
                                            dynamic_id=codes.PAY_NOW, poll_interval=0.05, gateway_hold=2.5)
        assert out.status is OutcomeStatus.FAILED
        assert time.monotonic() - t >= 2.5


def test_the_async_client_waits_for_the_scaled_hold_too() -> None:
    async def main() -> None:
        async with Sandbox(time_scale=0.01, faults=["preOrder:drop:1"]) as sb:
            client = sb.async_client()
            assert isinstance(client, AsyncClient)
            try:
                t = time.monotonic()
                out = await client.micropay_and_wait(charge_code="D", amount="1.00", pay_subject="x",
                                                     dynamic_id=codes.PAY_NOW, poll_interval=0.05)
                assert out.status is OutcomeStatus.FAILED and out.code == "CHARGE_NONEXISTENT"
                assert time.monotonic() - t < 10
            finally:
                client.close()

    asyncio.run(main())


def test_both_flows_of_both_clients_get_the_default_unless_given(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    seen: Dict[str, Any] = {}

    def record(name: str) -> Any:
        def flow(self: Any, **kwargs: Any) -> str:
            seen[name] = kwargs.get("gateway_hold")
            return "outcome"

        return flow

    hold = 80 * sb.time_scale
    with mock.patch.object(sosopay.Client, "micropay_and_wait", record("micropay")), \
            mock.patch.object(sosopay.Client, "wait_for_payment", record("wait")):
        c = sb.client()
        c.micropay_and_wait(charge_code="X", dynamic_id=codes.PAY_NOW, pay_subject="x", amount="1")
        c.wait_for_payment(charge_code="X")
        assert seen == {"micropay": pytest.approx(hold), "wait": pytest.approx(hold)}
        c.micropay_and_wait(charge_code="X", dynamic_id=codes.PAY_NOW, pay_subject="x", gateway_hold=7)
        c.wait_for_payment(charge_code="X", gateway_hold=0)
        assert seen == {"micropay": 7, "wait": 0}
        c.wait_for_payment(charge_code="X", gateway_hold=None)
        assert seen["wait"] == pytest.approx(hold)

    async def main() -> None:
        async with sb.async_client() as ac:
            with mock.patch.object(AsyncClient, "micropay_and_wait", autospec=True) as mp, \
                    mock.patch.object(AsyncClient, "wait_for_payment", autospec=True) as wp:
                await ac.micropay_and_wait(charge_code="X", dynamic_id=codes.PAY_NOW, pay_subject="x")
                await ac.wait_for_payment(charge_code="X", gateway_hold=3)
            assert mp.call_args.kwargs["gateway_hold"] == pytest.approx(hold)
            assert wp.call_args.kwargs["gateway_hold"] == 3

    asyncio.run(main())


def test_a_plain_client_keeps_the_real_hold(sosopay_sandbox: Sandbox) -> None:
    seen: Dict[str, Any] = {}

    def flow(self: Any, **kwargs: Any) -> str:
        seen.update(kwargs)
        return "outcome"

    with mock.patch.object(sosopay.Client, "wait_for_payment", flow):
        c = sosopay.Client(busi_code=sosopay_sandbox.busi_code, key=sosopay_sandbox.key, base_url=sosopay_sandbox.base_url)
        c.wait_for_payment(charge_code="X")
    assert seen == {"charge_code": "X"}


def test_the_hold_covers_a_late_fault() -> None:
    # A `late` request is carried out after its wall-time wait: a hold that does not cover it
    # reports Failed for a payment that then goes through.
    with Sandbox(time_scale=0.01) as sb:
        sb.faults.set(["preOrder:late:1:1500", "query:late:0.1:200"])
        assert sb.gateway_hold == pytest.approx(0.8 + 1.5)
        client = sb.client()
        out = client.micropay_and_wait(charge_code="L-1", amount="1.00", pay_subject="x", dynamic_id=codes.PAY_NOW,
                                       poll_interval=0.05, deadline=0.3)
        assert out.status is OutcomeStatus.PAID, out
        # The scaled hold alone would not do (the hazard the default avoids).
        out = client.micropay_and_wait(charge_code="L-2", amount="1.00", pay_subject="x", dynamic_id=codes.PAY_NOW,
                                       poll_interval=0.05, deadline=0.3, gateway_hold=0.8)
        assert out.status is OutcomeStatus.FAILED
        sb.wait_for_state("L-2", "Paid", timeout=5)
        sb.faults.clear()
        assert sb.gateway_hold == pytest.approx(0.8)
    assert sb.gateway_hold == pytest.approx(0.8)  # closed: the scaled hold


def test_a_kit_client_outliving_its_sandbox_falls_back_to_the_scaled_hold() -> None:
    # The client does not keep the sandbox alive; once it is gone, its flows' default is the
    # scaled micropay hold (the late faults went with the sandbox).
    import gc

    sb = Sandbox(time_scale=0.01, faults=["preOrder:late:1:1500"])
    client = sb.client()
    assert client._hold() == pytest.approx(0.8 + 1.5)  # type: ignore[attr-defined]
    sb.close()
    del sb
    gc.collect()
    assert client._hold() == pytest.approx(0.8)  # type: ignore[attr-defined]
    client.close()


def test_the_hold_follows_the_time_scale() -> None:
    with Sandbox(time_scale=0.5) as sb:
        assert sb.gateway_hold == pytest.approx(40)
    with Sandbox() as sb:
        assert sb.gateway_hold == 80


# --- ledger.requests: every gateway operation, 0 when never requested --------------------------


def test_ledger_requests_has_every_gateway_operation(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    assert sb.ledger().requests == {op: 0 for op in GATEWAY_OPS}
    sb.client().create_qr_order(charge_code="A-1", amount="1.00", channel="2", pay_subject="t")
    requests = sb.ledger().requests
    assert requests["preOrder"] == 0 and requests["order"] == 1
    assert set(requests) == GATEWAY_OPS
    sb.reset()
    assert sb.ledger().requests == {op: 0 for op in GATEWAY_OPS}


# --- wait_for_notification says why nothing arrived ---------------------------------------------


def test_a_notification_wait_says_the_order_has_no_notify_url(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    sb.client().create_qr_order(charge_code="Q-1", amount="1.00", channel="2", pay_subject="t")
    sb.pay("Q-1")
    with pytest.raises(TimeoutError, match=r"attempts: \[\]; order Q-1 has no notify URL"):
        sb.wait_for_notification("Q-1", timeout=0.05)
    with pytest.raises(TimeoutError, match=r"; no order has a notify URL"):
        sb.wait_for_notification(timeout=0.05, accepted=False)


def test_a_notification_wait_says_no_such_order_exists(sosopay_sandbox: Sandbox) -> None:
    with pytest.raises(TimeoutError, match=r"for NOPE within .*; no order NOPE exists"):
        sosopay_sandbox.wait_for_notification("NOPE", timeout=0.05)
    with pytest.raises(TimeoutError, match=r"; the sandbox has no orders"):
        sosopay_sandbox.wait_for_notification(timeout=0.05)


def test_a_notification_wait_says_the_order_was_not_paid(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    sb.client().create_qr_order(charge_code="Q-2", amount="1.00", channel="2", pay_subject="t",
                                notify_url="http://127.0.0.1:9/notify")
    with pytest.raises(TimeoutError, match=r"order Q-2 was not paid \(it is AwaitingPayment\)"):
        sb.wait_for_notification("Q-2", timeout=0.05)

    async def main() -> None:
        with pytest.raises(TimeoutError, match=r"no order NOPE exists"):
            await sb.wait_for_notification_async("NOPE", timeout=0.05)

    asyncio.run(main())


def test_a_notification_wait_that_saw_attempts_adds_nothing(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    sb.client().create_qr_order(charge_code="Q-3", amount="1.00", channel="2", pay_subject="t",
                                notify_url="http://127.0.0.1:9/notify")  # nothing listens there
    sb.pay("Q-3")
    sb.wait_for_notification("Q-3", accepted=False, timeout=5)
    with pytest.raises(TimeoutError) as e:
        sb.wait_for_notification("Q-3", timeout=0.05)
    assert "attempts: [#1" in str(e.value)
    assert "notify URL" not in str(e.value) and "not paid" not in str(e.value)
