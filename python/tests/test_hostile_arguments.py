"""Hostile input: every public function and constructor, given values of every kind in every
argument, either works or raises a ``SosopayError``, a ``TypeError`` or a ``ValueError`` whose
message names the argument; nothing else escapes, and no bare conversion message of the native
layer (``'int' object is not an instance of 'str'``) reaches a user."""

from __future__ import annotations

import datetime
import decimal
from typing import Any, Callable, Dict

import pytest

import sosopay

KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"
VALUES = [None, True, 0, -1, 1.5, float("nan"), 2**70, "", "x", "12.50", "\x00", b"hi", bytearray(b"x"), {}, [],
          [1, "a"], (1,), object(), decimal.Decimal("1.005"), decimal.Decimal("NaN"), datetime.datetime(2026, 1, 1),
          lambda: 1, "\ud800", "a\udfffb", 1e300, float("inf")]
RAW = ("is not an instance of", "cannot be converted", "cannot be interpreted", "argument '")


def _calls() -> Dict[str, Callable[[Any], object]]:
    c = sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://127.0.0.1:9/", default_oper_id="o",
                       default_dev_id="d", timeout=0.2, connect_timeout=0.2, retry_attempts=1)
    env = sosopay.Envelope(KEY)
    sale: Dict[str, Any] = dict(charge_code="H-1", amount="1.00", dynamic_id="130730865806264036", pay_subject="x")
    return {
        "Client.busi_code": lambda v: sosopay.Client(busi_code=v, key=KEY, base_url="http://x/"),
        "Client.key": lambda v: sosopay.Client(busi_code="0010000001", key=v, base_url="http://x/"),
        "Client.timeout": lambda v: sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://x/", timeout=v),
        "micropay.amount": lambda v: c.micropay(**{**sale, "amount": v}),
        "micropay.charge_code": lambda v: c.micropay(**{**sale, "charge_code": v}),
        "micropay.goods": lambda v: c.micropay(**{**sale, "goods": v}),
        "micropay.time_expire": lambda v: c.micropay(**{**sale, "time_expire": v}),
        "query": lambda v: c.query(charge_code=v),
        "cancel": lambda v: c.cancel(charge_code=v),
        "refund.amount": lambda v: c.refund(charge_code="x", out_refund_no="R-1", refund_subject="r", refund_amount=v),
        "wait_for_payment": lambda v: c.wait_for_payment(charge_code=v, deadline=0.01),
        "sign_body": lambda v: sosopay.sign_body(KEY, v),
        "sign_body.key": lambda v: sosopay.sign_body(v, "b"),
        "sign_body.timestamp": lambda v: sosopay.sign_body(KEY, "b", timestamp=v),
        "encrypt": lambda v: sosopay.encrypt(KEY, v),
        "decrypt": lambda v: sosopay.decrypt(KEY, v),
        "Envelope.open": lambda v: env.open(v, v),
        "parse_notification": lambda v: sosopay.parse_notification(key=KEY, query=v, body=v),
        "NotificationVerifier": lambda v: sosopay.NotificationVerifier(v),
        "NotificationVerifier.max_age": lambda v: sosopay.NotificationVerifier(KEY, max_age=v),
        "Envelope.seal": lambda v: env.seal(v, timestamp=v),
        "Envelope.encrypt": lambda v: env.encrypt(v),
        "create_qr_order.pay_subject": lambda v: c.create_qr_order(charge_code="Q", amount="1", channel="Wechat",
                                                                     pay_subject=v),
    }


@pytest.mark.parametrize("name", sorted(_calls()))
def test_every_kind_of_value_is_a_result_or_a_named_error(name: str) -> None:
    call = _calls()[name]
    for v in VALUES:
        try:
            call(v)
        except (sosopay.SosopayError, TypeError, ValueError) as e:
            msg = str(e)
            # A str the native layer cannot take (a lone surrogate) is a ValidationError naming
            # the argument, not Python's UnicodeEncodeError.
            assert not isinstance(e, UnicodeError), f"{name}({v!r}): {type(e).__name__}: {msg}"
            assert not any(r in msg for r in RAW), f"{name}({v!r}): {type(e).__name__}: {msg}"
            if isinstance(e, TypeError):
                assert ":" in msg, f"{name}({v!r}): the TypeError names no argument: {msg}"


def test_the_testing_kit_names_the_argument_too() -> None:
    from sosopay.testing import Sandbox, SandboxError, codes

    with Sandbox(time_scale=0.01) as sb:
        calls: Dict[str, Callable[[Any], object]] = {
            "pay": lambda v: sb.pay(v),
            "order": lambda v: sb.order(v),
            "add_merchant": lambda v: sb.add_merchant(v, v),
            "faults.add": lambda v: sb.faults.add(v),
            "faults.set": lambda v: sb.faults.set([v]),
            "faults.set.seed": lambda v: sb.faults.set([], seed=v),
            "wait_for_notification": lambda v: sb.wait_for_notification(v, timeout=0.01),
            "wait_for_notification.count": lambda v: sb.wait_for_notification("X", count=v, timeout=0.01),
            "wait_for_notification.accepted": lambda v: sb.wait_for_notification("X", accepted=v, timeout=0.01),
            "wait_for_notification.timeout": lambda v: sb.wait_for_notification("X", timeout=v),
            "wait_for_state": lambda v: sb.wait_for_state("X", v, timeout=0.01),
            "codes.pays_after": lambda v: codes.pays_after(v),
        }
        for name, call in calls.items():
            for v in VALUES:
                try:
                    call(v)
                except (sosopay.SosopayError, SandboxError, TypeError, ValueError, TimeoutError) as e:
                    msg = str(e)
                    assert not isinstance(e, UnicodeError), f"{name}({v!r}): {msg}"
                    assert not any(r in msg for r in RAW), f"{name}({v!r}): {type(e).__name__}: {msg}"


@pytest.mark.parametrize(
    "call",
    [
        lambda: sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://x/", timeout=True),
        lambda: sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://x/", connect_timeout=False),
        lambda: sosopay.NotificationVerifier(KEY, max_age=True),
        lambda: sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://x/").wait_for_payment(
            charge_code="C", deadline=True
        ),
    ],
    ids=["timeout", "connect_timeout", "max_age", "deadline"],
)
def test_a_bool_is_never_a_duration(call: Callable[[], object]) -> None:
    # True is the int 1 to Python: taken as one second it would hide a mix-up of arguments.
    with pytest.raises(TypeError, match=r"^\w+: expected a number"):
        call()


def test_a_wrong_type_names_the_argument_as_the_caller_spelled_it() -> None:
    c = sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://127.0.0.1:9/")
    with pytest.raises(TypeError, match=r"^charge_code: expected a str, got int"):
        c.query(charge_code=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^code: expected a str, got int"):
        c.query(code=5)  # type: ignore[arg-type]
