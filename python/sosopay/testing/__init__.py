"""Test your integration against the sandbox gateway, with nothing but this package.

::

    from sosopay.testing import Sandbox, codes

    with Sandbox(time_scale=0.01) as sb:              # also `async with`
        client = sb.client()                          # a ready sosopay.Client
        outcome = client.micropay_and_wait(charge_code="T-1", amount="12.50",
            dynamic_id=codes.PAYS_AFTER_3S, pay_subject="Coffee")
        assert outcome.is_paid
        assert sb.order("T-1").is_paid                # the gateway's side (the ledger)

The sandbox emulates the SouSou gateway in-process (the Rust ``sosopay-sandbox``, compiled into
the package's native module): the test payment codes in :mod:`sosopay.testing.codes` choose what
the customer does; ``sb.pay`` / ``sb.fail`` play the customer of a QR order; ``sb.faults`` injects
lost replies, 5xx, delays, bad notification signatures...; ``sb.ledger()`` and
``sb.notifications()`` are the ground truth to assert on.

With pytest, the fixtures ``sosopay_sandbox`` (reset for each test) and
``sosopay_sandbox_session`` are registered automatically (a ``pytest11`` entry point). See
docs/TESTING.md.

Importing :mod:`sosopay` does not import this module; nothing runs until a ``Sandbox`` is made.
"""

from __future__ import annotations

from . import codes
from ._ledger import (
    FaultEvent,
    FaultRule,
    FaultsState,
    FlowRechargeRecord,
    Ledger,
    NotificationAttempt,
    SandboxOrder,
    SandboxRefund,
)
from ._sandbox import TEST_BUSI_CODE, TEST_KEY, Faults, Sandbox, SandboxError

__all__ = [
    "Sandbox",
    "SandboxError",
    "Faults",
    "Ledger",
    "SandboxOrder",
    "SandboxRefund",
    "NotificationAttempt",
    "FlowRechargeRecord",
    "FaultEvent",
    "FaultRule",
    "FaultsState",
    "TEST_BUSI_CODE",
    "TEST_KEY",
    "codes",
]
