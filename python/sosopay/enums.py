"""The gateway's dictionaries as ``str`` enums whose values are the wire text.

Reading is lenient and done by the core (``OrderState("1.0") is OrderState.PAID``,
``ResultCode("SUCESS") is ResultCode.SUCCESS``). A code this SDK does not know yet still
parses, to a pseudo-member named ``UNKNOWN`` that keeps the raw text as its value
(``is_known`` is false).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional, Tuple

from . import _native

__all__ = [
    "ResultCode",
    "OrderState",
    "Channel",
    "FundChannel",
    "DynamicIdType",
    "TradeType",
    "SerType",
    "OutcomeStatus",
    "Delivery",
    "Environment",
]


class _WireEnum(str, Enum):
    @classmethod
    def _missing_(cls, value: object) -> Optional[Any]:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        canonical = _native._normalize_enum(cls.__name__, value)
        for member in cls:
            if member.value == canonical:
                return member
        pseudo = str.__new__(cls, canonical)
        pseudo._name_ = "UNKNOWN"
        pseudo._value_ = canonical
        return pseudo

    @property
    def wire(self) -> str:
        """The text sent on the wire."""
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """False for a code this SDK does not know (kept as sent)."""
        return self._name_ != "UNKNOWN"

    def __str__(self) -> str:
        return str(self.value)


# --- generated from core/src/enums.rs (cargo test -p sosopay --test foreign_dictionaries)
class ResultCode(_WireEnum):
    """``RESULT.CODE`` (appendix 5)."""

    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    ILLEGAL_PARAMETER = "ILLEGAL_PARAMETER"
    INVALID_SIGN = "INVALID_SIGN"
    AMT_ERROR = "AMT_ERROR"
    DATABASE_ERROR = "DATABASE_ERROR"
    INVALID_CONTRACT = "INVALID_CONTRACT"
    UNREGISTERED_BUSI = "UNREGISTERED_BUSI"
    EXCEPTION = "EXCEPTION"
    CHARGE_NONEXISTENT = "CHARGE_NONEXISTENT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    HTTP_EXCEPTION = "HTTP_EXCEPTION"
    IO_EXCEPTION = "IO_EXCEPTION"
    CREATE_SECURITY_CONNECTION_ERROR = "CREATE_SECURITY_CONNECTION_ERROR"
    AREADY_REVOKED = "AREADY_REVOKED"
    SERIAL_REPEAT = "SERIAL_REPEAT"

    @property
    def is_success(self) -> bool:
        """Is it success?"""
        return _native._dictionary_rule("ResultCode", "is_success", self.value)

    @property
    def outcome_unknown(self) -> bool:
        """After a money-moving request, does this code leave the outcome unknown (query the order before deciding)?"""
        return _native._dictionary_rule("ResultCode", "outcome_unknown", self.value)

    @property
    def definitely_failed(self) -> bool:
        """Does this code mean the request definitely failed and nothing happened?"""
        return _native._dictionary_rule("ResultCode", "definitely_failed", self.value)

    @property
    def is_transient(self) -> bool:
        """Is it a transient gateway fault for which an idempotent request may be retried?"""
        return _native._dictionary_rule("ResultCode", "is_transient", self.value)


class OrderState(_WireEnum):
    """``STATE`` (appendix 4)."""

    AWAITING_PAYMENT = "0"
    PAID = "1"
    CANCELLED = "2"
    CANCEL_APPLIED = "3"
    PARTIALLY_REFUNDED = "4"
    REFUNDED = "5"
    CLOSED = "6"
    RESERVED = "7"
    REFUND_IN_PROGRESS = "8"
    REFUND_FAILED = "9"

    @property
    def money_taken(self) -> bool:
        """Was the money taken (paid, or paid then partly or wholly refunded)?"""
        return _native._dictionary_rule("OrderState", "money_taken", self.value)

    @property
    def is_final(self) -> bool:
        """Is it final for a payment (no longer awaiting the customer)?"""
        return _native._dictionary_rule("OrderState", "is_final", self.value)


class Channel(_WireEnum):
    """``CHANNEL_TYPE`` (appendix 2)."""

    AUTO = "0"
    ALIPAY = "1"
    WECHAT = "2"
    CMB = "3"
    CCB = "5"
    ABC = "9"
    SPDB = "10"
    BAIDU_WALLET = "24"
    BESTPAY = "27"
    QQ_WALLET = "31"
    UNION_PAY = "32"
    ALIPAY_WAP = "34"


class FundChannel(_WireEnum):
    """``FUND_CHANNEL`` (appendix 3)."""

    ALIPAY_RED_PACKET = "00"
    ALIPAY_BALANCE = "10"
    ALIPAY_PREPAID_CARD = "60"
    ALIPAY_POINTS = "30"
    ALIPAY_CREDIT = "70"
    DISCOUNT_VOUCHER = "40"
    PREPAID_CARD = "80"
    CONSUMER_CREDIT = "90"
    WECHAT_PAY = "11"
    QQ_WALLET_PAY = "12"
    BAIDU_WALLET_PAY = "13"
    BESTPAY_PAY = "14"
    WECHAT_COUPON = "41"
    QQ_WALLET_COUPON = "42"
    BAIDU_WALLET_COUPON = "43"
    BESTPAY_COUPON = "44"
    ALIPAY_FINANCE = "100"
    MERCHANT_STORE_CARD = "101"
    MERCHANT_COUPON = "102"
    ALIPAY_BANK_CARD = "103"
    MERCHANT_RED_PACKET = "104"
    BANK_CARD = "9001"
    RANDOM_DISCOUNT = "9002"
    FREE_ORDER = "9003"
    SPEND_AND_SAVE = "9004"
    ITEM_DISCOUNT = "9005"
    SPEND_AND_GIFT = "9006"
    CASH_VOUCHER = "9007"
    DISCOUNT_COUPON = "9008"


class DynamicIdType(_WireEnum):
    """``DYNAMIC_ID_TYPE``."""

    BARCODE = "1"
    SOUND_WAVE = "2"
    NFC = "3"


class TradeType(_WireEnum):
    """``TRADE_TYPE`` of an order."""

    NATIVE = "NATIVE"
    JSAPI = "JSAPI"
    APP = "APP"


class SerType(_WireEnum):
    """``serType`` of a query: what the looked-up code is."""

    CHARGE_CODE = "0"
    CHARGE_DOWN_CODE = "1"
    VERIFY_CODE = "2"


# --- end of generated


# --- generated from core/src (scripts/gen-foreign.py, PythonPlainEnums)


class OutcomeStatus(str, Enum):
    """How a payment flow (``micropay_and_wait``, ``wait_for_payment``) ended."""

    #: The customer paid (the order is in a paid state: 1, or 4, 5, 8, 9 after refunds).
    PAID = "paid"
    #: The payment did not happen and no money moved: declined, closed (state 6), never
    #: sent, or refused by the gateway with a definite failure code.
    FAILED = "failed"
    #: The order was cancelled (state 2: by us at the deadline, or by the gateway); if it had
    #: been paid meanwhile, the cancel reversed it.
    CANCELLED = "cancelled"
    #: ``wait_for_payment`` only: the deadline passed and the order still awaits payment.
    PENDING = "pending"
    #: Nothing could be proven before the flow's time ran out (the gateway unreachable, or the
    #: request possibly still in transit), or the gateway's answers disagreed: query
    #: ``charge_code`` later before doing anything else; never charge the customer again under a
    #: new charge code before that.
    UNRESOLVED = "unresolved"
    #: The charge code belongs to another payment (another amount, customer code, channel or
    #: ``MERCHANTPARA``). That order was left untouched; this payment did not happen under this
    #: code.
    CONFLICT = "conflict"

    def __str__(self) -> str:
        return str(self.value)


class Delivery(str, Enum):
    """What happened to one notification delivery in ``process_once``."""

    #: Processed now: answer HTTP 200.
    PROCESSED = "processed"
    #: Already processed before (the gateway repeats notifications): answer HTTP 200.
    DUPLICATE = "duplicate"
    #: Another delivery of it is being processed right now: answer 503 so the gateway retries.
    IN_PROGRESS = "in_progress"

    def _webhook_answer(self) -> Tuple[int, str]:
        """``(status, body)`` owed to the gateway: the core's one table."""
        return _native.webhook_answer(self.name.title().replace("_", ""))

    @property
    def http_status(self) -> int:
        """The HTTP status to answer the gateway with (the core's table)."""
        return self._webhook_answer()[0]

    @property
    def answer(self) -> str:
        """The body to answer the gateway with: ``"SUCCESS"`` or ``"BUSY"`` (the core's table)."""
        return self._webhook_answer()[1]

    def __str__(self) -> str:
        return str(self.value)


class Environment(str, Enum):
    """The gateway's published environments."""

    #: Production over HTTPS (recommended).
    PRODUCTION = "production"
    #: Production over plain HTTP: use ``encrypt``, which hides the requests; the replies are
    #: only as trustworthy as the network path (3DES in ECB mode, without authentication, lets
    #: anyone on it replay or splice captured replies: ``Production`` has TLS).
    PRODUCTION_HTTP = "production_http"
    #: The vendor's UAT / test environment.
    UAT = "uat"

    def __str__(self) -> str:
        return str(self.value)


# --- end of generated
