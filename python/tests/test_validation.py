"""Arguments checked before anything is sent: every integer crossing the binding (range and
wholeness), the client configuration and the flow options (checked by the core, reported
under the Python argument's name), and the flow outcomes the core can report."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Tuple

import pytest

import sosopay
from conftest import Sandbox
from sosopay import _native

KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"
BUSI = "0010000001"
# Nothing listens there: a request that slipped through would fail with a TransportError.
NOWHERE = "http://127.0.0.1:9/openGateway/openService/"
U32_MAX = 2**32 - 1


def offline_client(**kw: Any) -> sosopay.Client:
    return sosopay.Client(busi_code=BUSI, key=KEY, base_url=NOWHERE, **kw)


def goods(quantity: Any) -> List[sosopay.Goods]:
    return [sosopay.Goods(id="G1", name="n", class_="c", subject="s", price="1.00", quantity=quantity)]


PAY: Dict[str, Any] = dict(
    charge_code="C-1", amount="1.00", dynamic_id="130730865806264036", pay_subject="x", oper_id="o", dev_id="d"
)
ORDER: Dict[str, Any] = dict(charge_code="C-1", amount="1.00", pay_subject="x", oper_id="o", dev_id="d")


def micropay(**kw: Any) -> Any:
    return offline_client().micropay(**dict(PAY, **kw))


def micropay_and_wait(**kw: Any) -> Any:
    return offline_client().micropay_and_wait(**dict(PAY, **kw))


def qr_order(**kw: Any) -> Any:
    return offline_client().create_qr_order(**dict(ORDER, channel=sosopay.Channel.WECHAT, **kw))


def jsapi_order(**kw: Any) -> Any:
    return offline_client().create_jsapi_order(**dict(ORDER, sub_openid="oU", **kw))


def wait_for_payment(**kw: Any) -> Any:
    return offline_client().wait_for_payment(charge_code="C-1", **kw)


def flow_recharge(flow_val: Any) -> Any:
    return offline_client().flow_recharge(phone_no="13800138000", flow_val=flow_val)


def parse_at(now_ms: Any) -> Any:
    body = '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","STATE":1,"AMT":1}}'
    verifier = sosopay.NotificationVerifier(KEY)
    return verifier.parse(f"sign={sosopay.sign_body(KEY, body)}", body, now_ms=now_ms)


NOT_WHOLE: List[Any] = [-1, 2**32, 2**32 + 3, 2**70, -(2**70), 1.5, 2.0, float("nan"), True, False, "10"]

# (call taking the value, the field named in the error)
INTEGER_ARGS: List[Tuple[str, Callable[[Any], Any], str]] = [
    ("flow_val", flow_recharge, "flow_val"),
    # A goods item is checked when built: the error names the constructor's argument.
    ("goods quantity", lambda v: micropay(goods=goods(v)), "quantity"),
    ("micropay time_expire", lambda v: micropay(time_expire=v), "time_expire"),
    ("qr time_expire", lambda v: qr_order(time_expire=v), "time_expire"),
    ("jsapi time_expire", lambda v: jsapi_order(time_expire=v), "time_expire"),
    ("flow time_expire", lambda v: micropay_and_wait(time_expire=v), "time_expire"),
    ("flow cancel_attempts", lambda v: micropay_and_wait(cancel_attempts=v), "cancel_attempts"),
    ("wait cancel_attempts", lambda v: wait_for_payment(cancel_attempts=v), "cancel_attempts"),
    ("retry_attempts", lambda v: offline_client(retry_attempts=v), "retry_attempts"),
]


@pytest.mark.parametrize("name,call,field", INTEGER_ARGS, ids=[a[0] for a in INTEGER_ARGS])
@pytest.mark.parametrize("value", NOT_WHOLE, ids=repr)
def test_integers_are_whole_and_in_range(name: str, call: Callable[[Any], Any], field: str, value: Any) -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        call(value)
    assert e.value.field == field, (name, value, e.value)
    assert isinstance(e.value, ValueError) and not isinstance(e.value, OverflowError)
    assert e.value.outcome_unknown is False


def test_required_integers_refuse_none() -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        flow_recharge(None)
    assert e.value.field == "flow_val"
    # A goods item without a quantity takes the core's default (1), not an error.
    assert goods(None)[0].quantity == 1


def test_the_examples_of_the_brief() -> None:
    # -1 used to be pyo3's OverflowError, a float its TypeError.
    cases: List[Tuple[Callable[[], Any], str]] = [
        (lambda: flow_recharge(-1), "flow_val"),
        (lambda: micropay(goods=goods(2**32 + 3)), "quantity"),
        (lambda: micropay(time_expire=-1), "time_expire"),
        (lambda: micropay(time_expire=1.5), "time_expire"),
        (lambda: offline_client(retry_attempts=-1), "retry_attempts"),
        (lambda: micropay_and_wait(cancel_attempts=1.5), "cancel_attempts"),
    ]
    for call, field in cases:
        with pytest.raises(sosopay.ValidationError) as e:
            call()
        assert e.value.field == field and e.value.reason


def test_whole_numbers_in_range_reach_the_core() -> None:
    # The binding lets 0..=u32::MAX through; the core checks each field's own range.
    with pytest.raises(sosopay.ValidationError) as e:
        micropay(time_expire=60)
    assert e.value.field == "time_expire" and "120" in e.value.reason
    with pytest.raises(sosopay.ValidationError) as e2:
        micropay(goods=goods(0))  # refused by Goods() itself, before the request
    assert e2.value.field == "quantity"
    with pytest.raises(sosopay.ValidationError) as e3:
        micropay_and_wait(cancel_attempts=U32_MAX)
    assert e3.value.field == "cancel_attempts"
    # Valid values pass every check: the offline client then fails to connect.
    with pytest.raises(sosopay.TransportError):
        offline_client(retry_attempts=1).flow_recharge(phone_no="13800138000", flow_val=10)
    with pytest.raises(sosopay.TransportError):
        offline_client(retry_attempts=1).micropay(**dict(PAY, time_expire=300, goods=goods(2)))


def test_now_ms_and_enum_codes_are_checked() -> None:
    for bad in (-1, 2**64, 1.5, "1"):
        with pytest.raises(sosopay.ValidationError) as e:
            parse_at(bad)
        assert e.value.field == "now_ms"
    with pytest.raises(sosopay.ValidationError) as e2:
        micropay(channel=2**70)
    assert e2.value.field == "channel"


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"retry_attempts": 0}, "retry_attempts"),
        ({"retry_attempts": 11}, "retry_attempts"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 601}, "timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"micropay_timeout": 1e6}, "micropay_timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"retry_max_delay": 61}, "retry_max_delay"),
        ({"retry_base_delay": 5, "retry_max_delay": 1}, "retry_base_delay"),
        ({"default_oper_id": "x" * 65}, "default_oper_id"),
        ({"default_oper_id": ""}, "default_oper_id"),
        ({"default_dev_id": "  "}, "default_dev_id"),
    ],
)
def test_client_configuration_is_checked_by_the_core(kw: Dict[str, Any], field: str) -> None:
    for make in (offline_client, lambda **k: sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url=NOWHERE, **k)):
        with pytest.raises(sosopay.ValidationError) as e:
            make(**kw)
        assert e.value.field == field, (kw, e.value)
        # The reason names fields as Python callers know them too.
        assert e.value.reason and "retry." not in str(e.value)


def test_valid_configuration_limits_are_accepted() -> None:
    offline_client(retry_attempts=1, timeout=0.002, connect_timeout=600, retry_base_delay=0, retry_max_delay=60)
    offline_client(retry_attempts=10, retry_base_delay=60, retry_max_delay=60)


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"deadline": 20, "max_duration": 10}, "max_duration"),
        ({"max_duration": 30}, "max_duration"),  # below the default deadline (60 s)
        ({"deadline": 0}, "deadline"),
        ({"deadline": float("nan")}, "deadline"),
        ({"deadline": 3601}, "deadline"),
        ({"poll_interval": 0.001}, "poll_interval"),
        ({"poll_interval": 1, "max_poll_interval": 0.5}, "max_poll_interval"),
        ({"cancel_attempts": 0}, "cancel_attempts"),
        ({"cancel_attempts": 101}, "cancel_attempts"),
        ({"gateway_hold": -1}, "gateway_hold"),
        ({"gateway_hold": float("inf")}, "gateway_hold"),
        ({"max_duration": -0.5}, "max_duration"),
    ],
)
def test_flow_options_are_checked_before_anything_is_sent(kw: Dict[str, Any], field: str) -> None:
    for flow in (micropay_and_wait, wait_for_payment):
        with pytest.raises(sosopay.ValidationError) as e:
            flow(**kw)
        assert e.value.field == field, (flow.__name__, kw, e.value)


def test_flow_options_within_limits_are_accepted(sandbox: Sandbox, code: str) -> None:
    c = sosopay.Client(busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d")
    c.create_qr_order(charge_code=code, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="x")
    # A deadline past the default budget alone is valid: the budget follows it (deadline + 30 s).
    paid_qr = code + "P"
    c.create_qr_order(charge_code=paid_qr, amount="1.00", channel=sosopay.Channel.WECHAT, pay_subject="x")
    sandbox.admin("POST", f"orders/{paid_qr}/pay")
    assert c.wait_for_payment(charge_code=paid_qr, deadline=120).status is sosopay.OutcomeStatus.PAID
    # max_duration equal to the deadline, no gateway hold: valid.
    out = c.wait_for_payment(
        charge_code=code, deadline=0.2, max_duration=0.2, gateway_hold=0, poll_interval=0.05, cancel_attempts=1
    )
    assert out.status is sosopay.OutcomeStatus.PENDING
    paid = c.micropay_and_wait(
        charge_code=code + "M",
        amount="0.01",
        dynamic_id="130730865806264036",
        pay_subject="x",
        deadline=5,
        max_duration=6,
        gateway_hold=1,
        poll_interval=0.05,
    )
    assert paid.status is sosopay.OutcomeStatus.PAID


def test_outcome_status_lists_every_core_outcome() -> None:
    core = {wire for _, wire in _native._enum_members("OutcomeStatus")}
    assert {m.value for m in sosopay.OutcomeStatus} == core
    assert sosopay.OutcomeStatus.CONFLICT.value == "conflict"
    assert sosopay.OutcomeStatus("conflict") is sosopay.OutcomeStatus.CONFLICT
    out = sosopay.PaymentOutcome._from_native(
        {"status": "conflict", "charge_code": "C-1", "order": None, "reason": "another payment", "queries": 1}
    )
    assert out.status is sosopay.OutcomeStatus.CONFLICT and not out.is_paid


def test_async_client_takes_the_new_flow_options() -> None:
    async def main() -> None:
        c = sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url=NOWHERE)
        with pytest.raises(sosopay.ValidationError) as e:
            await c.wait_for_payment(charge_code="C-1", deadline=10, max_duration=5)
        assert e.value.field == "max_duration"
        with pytest.raises(sosopay.ValidationError) as e2:
            await c.micropay_and_wait(**dict(PAY, gateway_hold=-1))
        assert e2.value.field == "gateway_hold"

    asyncio.run(main())


def test_a_zero_amount_names_the_argument_as_given() -> None:
    """Yuan or fen: the error names what the caller wrote (it named ``amount`` for
    ``amount_fen=0``); nothing is sent either way."""
    c = offline_client(default_oper_id="o", default_dev_id="d")
    pay = {k: v for k, v in PAY.items() if k != "amount"}
    order = {k: v for k, v in ORDER.items() if k != "amount"}
    refund = dict(charge_code="C-1", out_refund_no="R-1", refund_subject="r")
    cases: List[Tuple[Callable[..., Any], Dict[str, Any], str]] = [
        (c.micropay, dict(pay, amount_fen=0), "amount_fen"),
        (c.micropay, dict(pay, amount="0.00"), "amount"),
        (c.create_qr_order, dict(order, amount_fen=0, channel="2"), "amount_fen"),
        (c.refund, dict(refund, refund_amount_fen=0), "refund_amount_fen"),
        (c.refund, dict(refund, refund_amount="0"), "refund_amount"),
        (c.micropay_and_wait, dict(pay, amount_fen=0), "amount_fen"),
        (c.wait_for_payment, dict(charge_code="C-1", amount_fen=0), "amount_fen"),
        (c.wait_for_payment, dict(charge_code="C-1", amount="0"), "amount"),
    ]
    for call, kwargs, field in cases:
        with pytest.raises(sosopay.ValidationError) as e:
            call(**kwargs)
        assert e.value.field == field, (call.__name__, kwargs, e.value)
        assert f"invalid {field}:" in str(e.value), e.value


def test_a_query_code_is_named_as_given() -> None:
    """``query`` takes the code as ``code`` or as ``charge_code``: an error names the one the
    caller wrote, in the sync and the async client; nothing is sent either way."""
    c = offline_client()
    for kwargs, field in [
        (dict(charge_code=""), "charge_code"),
        (dict(charge_code="X" * 65), "charge_code"),
        (dict(code=""), "code"),
        (dict(code="X" * 65), "code"),
    ]:
        with pytest.raises(sosopay.ValidationError) as e:
            c.query(**kwargs)
        assert (e.value.field, str(e.value).split(":")[0]) == (field, f"invalid {field}"), (kwargs, e.value)
        assert e.value.reason and not e.value.outcome_unknown

        async def query_async() -> None:
            async with sosopay.AsyncClient(busi_code=BUSI, key=KEY, base_url=NOWHERE) as a:
                await a.query(**kwargs)

        with pytest.raises(sosopay.ValidationError) as e2:
            asyncio.run(query_async())
        assert e2.value.field == field, (kwargs, e2.value)
    # Neither, or two different codes: a ValidationError too (nothing is sent).
    for kwargs, field in [({}, "code"), (dict(code="A", charge_code="B"), "charge_code")]:
        with pytest.raises(sosopay.ValidationError) as e:
            c.query(**kwargs)
        assert e.value.field == field, (kwargs, e.value)


def test_goods_are_checked_when_built() -> None:
    """``sosopay.Goods`` checks its values when built (its docstring says so), naming the
    argument; a request checks them again as ``goods[i]``."""
    ok: Dict[str, Any] = dict(id="g", name="n", class_="c", subject="s", price="1.00")
    cases: List[Tuple[Dict[str, Any], str]] = [
        (dict(name="a\x00b"), "name"),
        (dict(name="x" * 10_000), "name"),
        (dict(class_=""), "class_"),
        (dict(quantity=0), "quantity"),
        (dict(show_url="a\x01"), "show_url"),
    ]
    for kw, field in cases:
        with pytest.raises(sosopay.ValidationError) as e:
            sosopay.Goods(**dict(ok, **kw))
        assert e.value.field == field, (kw, e.value)
    assert sosopay.Goods(**ok).quantity == 1


def test_timeouts_under_a_millisecond_are_refused() -> None:
    for kw, field in [
        ({"timeout": 0.0004}, "timeout"),
        ({"micropay_timeout": 1e-9}, "micropay_timeout"),
        ({"connect_timeout": 0.0009}, "connect_timeout"),
    ]:
        with pytest.raises(sosopay.ValidationError) as e:
            offline_client(**kw)
        assert e.value.field == field and "between 1 ms" in str(e.value), (kw, e.value)
    offline_client(timeout=0.001)
