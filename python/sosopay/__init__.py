"""sosopay: the SouSou (快收 / 嗖嗖收银) payment gateway SDK, on a Rust core.

Quickstart::

    import sosopay
    client = sosopay.Client(busi_code="0010000001", key="...", environment="production")
    outcome = client.micropay_and_wait(charge_code="ORDER-1", amount="12.50",
        dynamic_id=scanned_code, pay_subject="Coffee", oper_id="cashier-1", dev_id="till-1")
    if outcome.is_paid: ...

Money is never a ``float``: give yuan as ``str`` or ``decimal.Decimal``, or fen as
``amount_fen=int``; replies carry ``amount_fen`` (``int``) and ``amount`` (``Decimal``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _native
from ._native import (
    Envelope,
    decrypt,
    encrypt,
    sign_body,
    sign_cancel,
    sign_query,
    strip_java_whitespace,
    VerifiedSignature,
    verify_body,
    verify_cancel,
    verify_query,
)
from .client import DEFAULT_MAX_WORKERS, CancelToken, Client, ProgressCallback
from .enums import (
    Channel,
    Delivery,
    DynamicIdType,
    Environment,
    FundChannel,
    OrderState,
    OutcomeStatus,
    ResultCode,
    SerType,
    TradeType,
)
from .errors import (
    CryptoError,
    DecodeError,
    GatewayError,
    HttpStatusError,
    OutcomeUnknownError,
    RequestTimeoutError,
    SignatureError,
    SosopayError,
    TransportError,
    ValidationError,
)
from .models import (
    CancelReply,
    FlowEvent,
    FlowEventKind,
    FlowOrder,
    FlowRechargeReply,
    FundBill,
    GatewayResult,
    Goods,
    JsapiParams,
    Notification,
    OrderDetails,
    OrderReply,
    PaymentOutcome,
    QueryReply,
    RefundReply,
    RequestLog,
    yuan,
)
from .notify import (
    IdempotencyStore,
    MemoryIdempotencyStore,
    NotificationVerifier,
    WebhookResult,
    handle_notification,
    parse_notification,
    process_once,
)

__version__: str = _native.__version__

#: An alias: the timeout error is also a builtin ``TimeoutError``.
GatewayTimeoutError = RequestTimeoutError
#: The timeout error under the name every runtime uses (Node ``TimeoutError``); it is also the
#: builtin ``TimeoutError``, so ``except TimeoutError`` catches it too.
TimeoutError = RequestTimeoutError  # noqa: A001

__all__ = [
    "AsyncClient",
    "CancelReply",
    "CancelToken",
    "Channel",
    "Client",
    "CryptoError",
    "DEFAULT_MAX_WORKERS",
    "DecodeError",
    "Delivery",
    "DynamicIdType",
    "Envelope",
    "Environment",
    "FlowEvent",
    "FlowEventKind",
    "FlowOrder",
    "FlowRechargeReply",
    "FundBill",
    "FundChannel",
    "GatewayError",
    "GatewayResult",
    "GatewayTimeoutError",
    "Goods",
    "HttpStatusError",
    "IdempotencyStore",
    "JsapiParams",
    "MemoryIdempotencyStore",
    "Notification",
    "NotificationVerifier",
    "OrderDetails",
    "OrderReply",
    "OrderState",
    "OutcomeStatus",
    "OutcomeUnknownError",
    "PaymentOutcome",
    "ProgressCallback",
    "QueryReply",
    "RefundReply",
    "RequestLog",
    "RequestTimeoutError",
    "TimeoutError",
    "ResultCode",
    "SerType",
    "SignatureError",
    "SosopayError",
    "TradeType",
    "TransportError",
    "ValidationError",
    "VerifiedSignature",
    "WebhookResult",
    "decrypt",
    "encrypt",
    "handle_notification",
    "parse_notification",
    "process_once",
    "sign_body",
    "sign_cancel",
    "sign_query",
    "strip_java_whitespace",
    "verify_body",
    "verify_cancel",
    "verify_query",
    "yuan",
]


def __getattr__(name: str) -> Any:
    # AsyncClient is loaded on first use, so that `import sosopay` does not import asyncio.
    if name == "AsyncClient":
        from .aio import AsyncClient

        globals()["AsyncClient"] = AsyncClient
        return AsyncClient
    raise AttributeError(f"module 'sosopay' has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .aio import AsyncClient as AsyncClient
