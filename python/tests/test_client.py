"""Every operation and both flows against the sandbox gateway, plain and 3DES."""

from __future__ import annotations

import asyncio

import logging
import pickle
import threading
from decimal import Decimal
from typing import List

import pytest

import sosopay
from conftest import BUSI, KEY, Sandbox

# Sandbox payment codes PP000000000000BNNN choose the customer's behaviour (docs/SANDBOX.md).
PAYS_NOW = "130730865806264036"
CONFIRMS_THEN_PAYS = "130000000000001002"
INSUFFICIENT_FUNDS = "130000000000003001"
NEVER_CONFIRMS = "130000000000004000"


def test_micropay_query_refund(client: sosopay.Client, code: str) -> None:
    goods = [sosopay.Goods(id="G1", name="Coffee", class_="drinks", subject="Latte", price="12.50")]
    r = client.micropay(
        charge_code=code,
        amount="12.50",
        dynamic_id=PAYS_NOW,
        pay_subject="SOUSHOU product 2",
        goods=goods,
        merchant_para="b3JkZXI=",
    )
    assert r.result.is_success and r.result.code is sosopay.ResultCode.SUCCESS
    assert r.charge_code == code
    assert r.state is sosopay.OrderState.PAID
    assert r.channel is sosopay.Channel.WECHAT
    assert r.amount_fen == 1250 and r.amount == Decimal("12.50")
    assert sum(b.amount_fen for b in r.fund_bills) == 1250
    assert r.fund_bills[0].fund_channel is sosopay.FundChannel.WECHAT_PAY
    assert r.oper_id == "cashier-1" and r.dev_id == "till-1"
    assert isinstance(r.raw, dict) and r.raw

    q = client.query(charge_code=code)
    assert q.state is sosopay.OrderState.PAID and q.order.is_paid
    assert q.amount_fen == 1250 and q.order.real_amount == Decimal("12.50")
    assert q.order.charge_down_code == r.charge_down_code
    assert q.order.busi_id == BUSI
    # The goods item gave no quantity: the core's default (1) was sent.
    assert goods[0].quantity == 1
    assert q.raw["QUERY_RESP"]["GOODS_DETAIL"][0]["GOOD_QUANTITY"] == "1"
    assert q.order.goods == goods or q.order.goods == []
    # A reply pickles (a worker queue, a cache) and comes back equal.
    assert pickle.loads(pickle.dumps(q)) == q
    by_down = client.query(code=r.charge_down_code, ser_type=sosopay.SerType.CHARGE_DOWN_CODE)
    assert by_down.order.charge_code == code

    part = client.refund(
        charge_code=code, out_refund_no=f"{code}-R1", refund_amount=Decimal("2.50"), refund_subject="part"
    )
    assert part.result.is_success and part.state is sosopay.OrderState.PARTIALLY_REFUNDED
    rest = client.refund(
        charge_code=code, out_refund_no=f"{code}-R2", refund_amount_fen=1000, refund_subject="rest"
    )
    assert rest.state is sosopay.OrderState.REFUNDED
    with pytest.raises(sosopay.GatewayError) as e:
        client.refund(charge_code=code, out_refund_no=f"{code}-R3", refund_amount="0.01", refund_subject="too much")
    assert e.value.result_code.is_known and e.value.result_code is not sosopay.ResultCode.SUCCESS
    assert e.value.code is e.value.result_code  # the earlier name stays
    assert e.value.info


def test_error_names_are_the_same_as_in_every_runtime() -> None:
    assert sosopay.TimeoutError is sosopay.RequestTimeoutError
    assert issubclass(sosopay.TimeoutError, TimeoutError)  # the builtin
    for name in ("production", "production-http", "production_http", "uat"):
        sosopay.Client(busi_code=BUSI, key=KEY, environment=name)
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.Client(busi_code=BUSI, key=KEY, environment="productionhttp")
    assert e.value.field == "environment"


def test_the_keep_alive_pool_is_sized_by_the_core_s_rule() -> None:
    sosopay.Client(busi_code=BUSI, key=KEY, environment="uat", max_idle_connections=4)
    for bad in (0, 1025):
        with pytest.raises(sosopay.ValidationError) as e:
            sosopay.Client(busi_code=BUSI, key=KEY, environment="uat", max_idle_connections=bad)
        assert e.value.field == "max_idle_connections"


def test_qr_order_paid_through_admin_then_wait(client: sosopay.Client, sandbox: Sandbox, code: str) -> None:
    o = client.create_qr_order(charge_code=code, amount="1.58", channel=sosopay.Channel.ALIPAY, pay_subject="QR")
    assert o.bar_code and o.bar_code.startswith("http")
    assert o.state in (None, sosopay.OrderState.AWAITING_PAYMENT)
    pending = client.wait_for_payment(charge_code=code, deadline=0.3, poll_interval=0.1)
    assert pending.status is sosopay.OutcomeStatus.PENDING and not pending.is_paid
    sandbox.admin("POST", f"orders/{code}/pay")
    out = client.wait_for_payment(charge_code=code, deadline=5, poll_interval=0.1)
    assert out.status is sosopay.OutcomeStatus.PAID and out.is_paid
    assert out.order is not None and out.order.amount_fen == 158
    assert out.queries >= 1 and out.charge_code == code


def test_wait_for_payment_with_the_amount_refuses_another_payments_order(
    client: sosopay.Client, sandbox: Sandbox, code: str
) -> None:
    # The charge code was used before, for a paid order of 1.58: waiting for a 15.80 order
    # under it must not say "paid".
    client.create_qr_order(charge_code=code, amount="1.58", channel=sosopay.Channel.ALIPAY, pay_subject="QR")
    sandbox.admin("POST", f"orders/{code}/pay")
    other = client.wait_for_payment(charge_code=code, amount="15.80", deadline=2, poll_interval=0.1)
    assert other.status is sosopay.OutcomeStatus.CONFLICT and not other.is_paid
    assert other.order is not None and other.order.amount_fen == 158
    assert client.wait_for_payment(charge_code=code, amount="1.58", deadline=2).is_paid
    assert client.wait_for_payment(charge_code=code, amount=Decimal("1.58"), deadline=2).is_paid
    assert client.wait_for_payment(charge_code=code, amount_fen=158, deadline=2).is_paid
    with pytest.raises(sosopay.ValidationError) as e:
        client.wait_for_payment(charge_code=code, amount="1.58", amount_fen=158, deadline=1)
    assert e.value.field == "amount"
    with pytest.raises(sosopay.ValidationError) as e:
        client.wait_for_payment(charge_code=code, amount="-1", deadline=1)
    assert e.value.field == "amount"
    with pytest.raises(TypeError, match="amount_fen"):
        client.wait_for_payment(charge_code=code, deadline=1, amount_fen=1.5)  # type: ignore[arg-type]
    # MERCHANTPARA too, when the order shows one.
    mp = f"{code}-MP"
    client.create_qr_order(charge_code=mp, amount="1.58", channel="Alipay", pay_subject="QR", merchant_para="c2hvcC0x")
    sandbox.admin("POST", f"orders/{mp}/pay")
    other = client.wait_for_payment(charge_code=mp, amount="1.58", merchant_para="c2hvcC0y", deadline=2)
    assert other.status is sosopay.OutcomeStatus.CONFLICT and not other.is_paid
    assert client.wait_for_payment(charge_code=mp, amount="1.58", merchant_para="c2hvcC0x", deadline=2).is_paid


def test_jsapi_order_and_cancel(client: sosopay.Client, code: str) -> None:
    j = client.create_jsapi_order(charge_code=code, amount="0.99", pay_subject="JSAPI", sub_openid="oUser-1")
    assert j.jsapi is not None
    w = j.jsapi.to_wechat()
    assert w["package"].startswith("prepay_id=") and w["appId"] and w["paySign"]
    c = client.cancel(charge_code=code)
    assert c.result.is_success
    assert client.query(charge_code=code).state is sosopay.OrderState.CANCELLED
    with pytest.raises(sosopay.ValidationError) as e:
        client.create_jsapi_order(charge_code=code + "b", amount="1", pay_subject="x", sub_openid=" ")
    assert e.value.field == "sub_openid"


def test_cancel_apply(client: sosopay.Client, code: str) -> None:
    client.create_qr_order(charge_code=code, amount="3.00", channel="2", pay_subject="QR")
    r = client.cancel(charge_code=code, apply=True)
    assert r.result.code is sosopay.ResultCode.SUCCESS


def test_flow_recharge(client: sosopay.Client) -> None:
    r = client.flow_recharge(phone_no="13800138000", flow_val=10)
    assert r.result.is_success and r.flow is not None
    assert r.flow.phone_no == "13800138000" and r.flow.flow_val == 10
    with pytest.raises(sosopay.ValidationError) as e:
        client.flow_recharge(phone_no="12ab", flow_val=10)
    assert e.value.field == "phone_no"


def test_micropay_and_wait_paid_after_confirming(client: sosopay.Client, code: str) -> None:
    out = client.micropay_and_wait(
        charge_code=code, amount="0.02", dynamic_id=CONFIRMS_THEN_PAYS, pay_subject="w", poll_interval=0.1
    )
    assert out.status is sosopay.OutcomeStatus.PAID
    assert out.order is not None and out.order.state is sosopay.OrderState.PAID
    assert out.order.amount == Decimal("0.02")


def test_micropay_and_wait_declined(client: sosopay.Client, code: str) -> None:
    out = client.micropay_and_wait(
        charge_code=code, amount="0.03", dynamic_id=INSUFFICIENT_FUNDS, pay_subject="w", poll_interval=0.1
    )
    assert out.status is sosopay.OutcomeStatus.FAILED and not out.is_paid
    assert out.reason


def test_micropay_and_wait_never_confirmed_is_cancelled(client: sosopay.Client, code: str) -> None:
    out = client.micropay_and_wait(
        charge_code=code,
        amount="0.04",
        dynamic_id=NEVER_CONFIRMS,
        pay_subject="w",
        deadline=0.5,
        poll_interval=0.1,
        max_poll_interval=0.2,
    )
    # The flow cancels the unpaid order at the deadline (state 2): Cancelled on every path.
    assert out.status is sosopay.OutcomeStatus.CANCELLED
    assert not out.is_paid
    assert client.query(charge_code=code).state is sosopay.OrderState.CANCELLED


def test_micropay_and_wait_on_another_payments_code_is_a_conflict(client: sosopay.Client, code: str) -> None:
    # An open QR order of 1.00 holds the charge code; a micropay of 0.02 under the same code is
    # another payment: reported CONFLICT, and that order is left untouched (not cancelled).
    client.create_qr_order(charge_code=code, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="QR")
    out = client.micropay_and_wait(
        charge_code=code, amount="0.02", dynamic_id=PAYS_NOW, pay_subject="w", deadline=2, poll_interval=0.05
    )
    assert out.status is sosopay.OutcomeStatus.CONFLICT and not out.is_paid
    assert out.order is not None and out.order.amount_fen == 100
    assert out.reason
    assert client.query(charge_code=code).state is sosopay.OrderState.AWAITING_PAYMENT


def test_micropay_lost_reply_is_settled_by_the_flow(client: sosopay.Client, sandbox: Sandbox, code: str) -> None:
    sandbox.set_faults("preOrder:drop_reply:1")
    with pytest.raises(sosopay.SosopayError) as e:
        client.micropay(charge_code=code, amount="0.05", dynamic_id=PAYS_NOW, pay_subject="x")
    assert e.value.outcome_unknown is True
    assert isinstance(e.value, (sosopay.TransportError, sosopay.DecodeError, sosopay.RequestTimeoutError))
    out = client.micropay_and_wait(
        charge_code=code + "W", amount="0.05", dynamic_id=PAYS_NOW, pay_subject="x", poll_interval=0.1
    )
    # The reply was lost but the payment happened: the flow finds it by querying.
    assert out.status is sosopay.OutcomeStatus.PAID


def test_gateway_error_code_and_info(client: sosopay.Client) -> None:
    with pytest.raises(sosopay.GatewayError) as e:
        client.query(charge_code="NO-SUCH-ORDER-123")
    assert e.value.code is sosopay.ResultCode.CHARGE_NONEXISTENT
    assert e.value.info and e.value.outcome_unknown is False


def test_wrong_key_is_invalid_sign(sandbox: Sandbox) -> None:
    c = sosopay.Client(busi_code=BUSI, key="WRONG-KEY-0000000000000000000000", base_url=sandbox.base_url)
    with pytest.raises(sosopay.SosopayError) as e:
        c.query(charge_code="ANY-1")
    err = e.value
    assert isinstance(err, (sosopay.GatewayError, sosopay.HttpStatusError, sosopay.DecodeError))


def test_http_status_error(sandbox: Sandbox, code: str) -> None:
    c = sosopay.Client(
        busi_code=BUSI, key=KEY, base_url=sandbox.base_url, retry_attempts=1, default_oper_id="o", default_dev_id="d"
    )
    sandbox.set_faults("query:http502:1")
    with pytest.raises(sosopay.HttpStatusError) as e:
        c.query(charge_code="ANY-2")
    # A failed query moves no money.
    assert e.value.status == 502 and e.value.operation == "query"
    assert e.value.outcome_unknown is False and e.value.retryable is True
    sandbox.set_faults("refund:http502:1")
    with pytest.raises(sosopay.HttpStatusError) as e2:
        c.refund(charge_code=code, out_refund_no=f"{code}-R", refund_amount_fen=1, refund_subject="r")
    # A refund answered 502 may still have been carried out.
    assert e2.value.status == 502 and e2.value.operation == "refund"
    assert e2.value.outcome_unknown is True


def test_timeout_error_is_a_builtin_timeout(sandbox: Sandbox) -> None:
    c = sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, timeout=0.2, retry_attempts=1)
    sandbox.set_faults("query:delay:1:1500")
    with pytest.raises(TimeoutError) as e:
        c.query(charge_code="ANY-3")
    assert isinstance(e.value, sosopay.RequestTimeoutError)
    # A query that timed out moved no money.
    assert e.value.operation == "query" and e.value.outcome_unknown is False


def test_transport_error_when_nothing_listens() -> None:
    c = sosopay.Client(
        busi_code=BUSI, key=KEY, base_url="http://127.0.0.1:9/openGateway/openService/", retry_attempts=1
    )
    with pytest.raises(sosopay.TransportError) as e:
        c.cancel(charge_code="X-1")
    assert e.value.maybe_sent is False and e.value.outcome_unknown is False


def test_request_log_hook_never_sees_the_key(sandbox: Sandbox, code: str) -> None:
    logs: List[sosopay.RequestLog] = []
    c = sosopay.Client(
        busi_code=BUSI,
        key=KEY,
        base_url=sandbox.base_url,
        on_request=logs.append,
        default_oper_id="o",
        default_dev_id="d",
    )
    c.create_qr_order(charge_code=code, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="x")
    assert logs and logs[-1].operation == "order" and logs[-1].charge_code == code
    assert logs[-1].http_status == 200 and logs[-1].result_code == "SUCCESS"
    assert logs[-1].order_state in (None, sosopay.OrderState.AWAITING_PAYMENT.value)
    assert all(KEY not in repr(entry) for entry in logs)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_failing_hook_does_not_fail_the_call(sandbox: Sandbox, code: str, caplog: pytest.LogCaptureFixture) -> None:
    def bad_hook(_: sosopay.RequestLog) -> None:
        raise RuntimeError("logging is down")

    c = sosopay.Client(
        busi_code=BUSI, key=KEY, base_url=sandbox.base_url, on_request=bad_hook, default_oper_id="o", default_dev_id="d"
    )
    with caplog.at_level(logging.ERROR, logger="sosopay"):
        assert c.create_qr_order(charge_code=code, amount="1.00", channel="1", pay_subject="x").result.is_success
    # Logged on the "sosopay" logger with its traceback, as on_progress's exceptions are.
    failed = [r for r in caplog.records if r.name == "sosopay" and "on_request callback raised" in r.getMessage()]
    assert len(failed) == 1, caplog.records
    assert failed[0].exc_info is not None and "logging is down" in str(failed[0].exc_info[1])


def test_one_client_many_threads(sandbox: Sandbox, code: str) -> None:
    c = sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d")
    errors: List[BaseException] = []
    states: List[sosopay.OrderState] = []

    def worker(i: int) -> None:
        try:
            r = c.micropay(charge_code=f"{code}-T{i}", amount_fen=100 + i, dynamic_id=PAYS_NOW, pay_subject="t")
            assert r.amount_fen == 100 + i
            q = c.query(charge_code=f"{code}-T{i}")
            assert q.state is not None
            states.append(q.state)
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert states == [sosopay.OrderState.PAID] * 8


def test_gil_is_released_during_network_calls(sandbox: Sandbox) -> None:
    # While a query is held 1 s by the sandbox, another Python thread keeps running.
    c = sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, retry_attempts=1)
    sandbox.set_faults("query:delay:1:1000")
    ticks = [0]
    done = threading.Event()

    def call() -> None:
        try:
            c.query(charge_code="NO-SUCH-ORDER-GIL")
        except sosopay.SosopayError:
            pass
        finally:
            done.set()

    t = threading.Thread(target=call)
    t.start()
    while not done.is_set():
        ticks[0] += 1
        done.wait(0.01)
    t.join()
    assert ticks[0] > 20


def test_a_client_closes_like_a_session(sandbox: Sandbox) -> None:
    with sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url) as c:
        with pytest.raises(sosopay.GatewayError):
            c.query(charge_code="CLOSE-1")
    # Closed on leaving the block: calls raise RuntimeError (as AsyncClient's), repr still works.
    with pytest.raises(RuntimeError, match="closed"):
        c.query(charge_code="CLOSE-1")
    with pytest.raises(RuntimeError, match="closed"):
        c.micropay_and_wait(charge_code="CLOSE-2", amount="1.00", dynamic_id="134567890123456789", pay_subject="x")
    assert repr(c).startswith("sosopay.Client(closed, ") and KEY not in repr(c)
    c.close()  # twice is harmless


def test_a_closed_async_client_says_so() -> None:
    async def main() -> None:
        async with sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url="http://127.0.0.1:9/x/") as c:
            pass
        with pytest.raises(RuntimeError, match="this sosopay.AsyncClient is closed"):
            await c.query(charge_code="CLOSE-A")
        with pytest.raises(RuntimeError, match="this sosopay.AsyncClient is closed"):
            await c.wait_for_payment(charge_code="CLOSE-B", deadline=1)
        c.close()  # twice is harmless

    asyncio.run(main())
