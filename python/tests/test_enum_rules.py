"""The dictionaries' rules are the core's (``OrderState.money_taken``, ``ResultCode.outcome_unknown``...)."""

from __future__ import annotations

from sosopay import OrderState, ResultCode


def test_order_state_rules() -> None:
    assert OrderState.PAID.money_taken and OrderState.REFUNDED.money_taken
    assert not OrderState.AWAITING_PAYMENT.money_taken and not OrderState.CANCELLED.money_taken
    assert OrderState.CLOSED.is_final and not OrderState.AWAITING_PAYMENT.is_final
    assert not OrderState("42").is_final  # a state this SDK does not know is not final
    assert OrderState("1.0").money_taken


def test_result_code_rules() -> None:
    assert ResultCode.SUCCESS.is_success and not ResultCode.FAIL.is_success
    assert ResultCode.SERIAL_REPEAT.outcome_unknown and ResultCode("NEW_CODE").outcome_unknown
    assert ResultCode.FAIL.definitely_failed and not ResultCode.SUCCESS.definitely_failed
    assert ResultCode.SERVICE_UNAVAILABLE.is_transient and not ResultCode.FAIL.is_transient
