"""The sandbox's test payment codes (``DYNAMIC_ID`` of a micropay), like card test numbers.

The customer's payment code chooses what happens (docs/SANDBOX.md, "Micropay test codes").
Special codes are ``PP000000000000BNNN`` (18 digits): ``PP`` the channel prefix, twelve zeros,
``B`` the behaviour, ``NNN`` seconds, scaled by the sandbox's ``time_scale``. The gateway holds
a micropay request open for at most 80 s (scaled) while the customer confirms.

>>> from sosopay.testing import codes
>>> codes.PAY_NOW                      # any well-formed code: pays at once
'130730865806264036'
>>> codes.pays_after(5)                # confirms on the phone, pays after 5 s (held)
'130000000000001005'
>>> codes.code(3, 0, channel=codes.ALIPAY)
'280000000000003000'

Only the sandbox knows these codes: the real gateway treats them as ordinary (invalid) codes.
"""

from __future__ import annotations

from typing import Final

from .. import _native

# --- generated from sandbox/src/codes.rs (scripts/gen-foreign.py)
__all__ = [
    "WECHAT",
    "ALIPAY",
    "QQ_WALLET",
    "UNION_PAY",
    "PAY_NOW",
    "PAY_NOW_ALIPAY",
    "PAYS_AFTER_3S",
    "PAYS_AFTER_HOLD",
    "USER_PAYING",
    "INSUFFICIENT_FUNDS",
    "NEVER_CONFIRMS",
    "USER_PAYING_NEVER_CONFIRMS",
    "CODE_EXPIRED",
    "REPLY_LOST",
    "MALFORMED",
    "UNKNOWN_CHANNEL",
    "code",
    "pays_after",
    "user_paying",
    "insufficient_funds_after",
    "reply_lost_after",
]

# Channel prefixes (the first two digits; CHANNEL_TYPE=0 detects the channel from them).
WECHAT: Final = "13"
"""WeChat Pay's prefix (``10``–``15``)."""
ALIPAY: Final = "28"
"""Alipay's prefix (``25``–``30``)."""
QQ_WALLET: Final = "91"
"""QQ Wallet's prefix."""
UNION_PAY: Final = "62"
"""UnionPay's prefix."""

# The named codes.
PAY_NOW: Final = "130730865806264036"
"""Any well-formed code: the customer pays at once (WeChat). ``SUCCESS``, STATE 1."""
PAY_NOW_ALIPAY: Final = "284214903060794755"
"""Pays at once (Alipay)."""
PAYS_AFTER_3S: Final = "130000000000001003"
"""Confirms on the phone, pays after 3 s; the request is held until then (the demo's code)."""
PAYS_AFTER_HOLD: Final = "130000000000001090"
"""Confirms but pays only after the 80 s hold (at 90 s): the reply is ``SUCCESS`` with STATE 0 after
80 s, and the client must poll until the order is paid."""
USER_PAYING: Final = "130000000000002003"
"""``SUCCESS`` with STATE 0 at once ("user paying"); paid 3 s later: the client must poll."""
INSUFFICIENT_FUNDS: Final = "130000000000003000"
"""Insufficient funds at once: ``FAIL`` (``NOTENOUGH``), STATE 6."""
NEVER_CONFIRMS: Final = "130000000000004000"
"""Never confirms: the request is held the whole 80 s, then ``FAIL``; the order is cancelled (STATE
2)."""
USER_PAYING_NEVER_CONFIRMS: Final = "130000000000005000"
"""``SUCCESS`` with STATE 0 at once, and never confirms: cancelled (STATE 2) at 80 s."""
CODE_EXPIRED: Final = "130000000000006000"
"""The payment code has expired: ``FAIL`` (``AUTH_CODE_EXPIRED``) at once, STATE 6."""
REPLY_LOST: Final = "130000000000007000"
"""Paid at once, but the reply says ``EXCEPTION``: the client must query to learn it is paid."""
MALFORMED: Final = "12345"
"""Not 16–24 digits: ``ILLEGAL_PARAMETER`` naming ``DYNAMIC_ID``."""
UNKNOWN_CHANNEL: Final = "990730865806264036"
"""A prefix no channel has: with channel auto-detection (``CHANNEL_TYPE=0``),
``ILLEGAL_PARAMETER``."""
# --- end of generated

# Behaviour digits.
_CONFIRM_THEN_PAY: Final = 1
_PAYING_THEN_PAY: Final = 2
_INSUFFICIENT: Final = 3
_NEVER_CONFIRMS: Final = 4
_PAYING_NEVER: Final = 5
_EXPIRED: Final = 6
_EXCEPTION_PAID: Final = 7


def code(behaviour: int, seconds: int = 0, *, channel: str = WECHAT) -> str:
    """The special code ``PP000000000000BNNN``: ``channel`` prefix (``WECHAT``, ``ALIPAY``, ...),
    ``behaviour`` digit (1–7), ``seconds`` of customer delay (0–999, scaled by ``time_scale``).
    Built by the sandbox itself (its ``codes::code_from_parts``); :class:`sosopay.ValidationError` (a
    ``ValueError``) names the argument at fault (``TypeError`` for a wrong type)."""
    return _native._test_code(behaviour, seconds, channel)


def pays_after(seconds: int, *, channel: str = WECHAT) -> str:
    """Confirms on the phone and pays after ``seconds`` (the micropay request is held until then).
    Under 80: the reply is ``SUCCESS``, STATE 1. From 80: the hold ends first and the reply is
    ``SUCCESS`` with STATE 0 ("user paying"): the client must poll."""
    return code(_CONFIRM_THEN_PAY, seconds, channel=channel)


def user_paying(seconds: int, *, channel: str = WECHAT) -> str:
    """The gateway answers at once ``SUCCESS`` with STATE 0 ("user paying"); the customer pays
    after ``seconds``: the client must poll."""
    return code(_PAYING_THEN_PAY, seconds, channel=channel)


def insufficient_funds_after(seconds: int, *, channel: str = WECHAT) -> str:
    """Confirms for ``seconds``, then insufficient funds: ``FAIL``, STATE 6."""
    return code(_INSUFFICIENT, seconds, channel=channel)


def reply_lost_after(seconds: int, *, channel: str = WECHAT) -> str:
    """Pays after ``seconds`` (held), but the gateway's reply is ``EXCEPTION``: the order IS
    paid (STATE 1) and only a query tells."""
    return code(_EXCEPTION_PAID, seconds, channel=channel)
