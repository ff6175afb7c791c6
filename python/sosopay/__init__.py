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

from . import _native

__version__: str = _native.__version__

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from ._native import (
        decrypt as decrypt, encrypt as encrypt, Envelope as Envelope, sign_body as sign_body,
        sign_cancel as sign_cancel, sign_query as sign_query,
        strip_java_whitespace as strip_java_whitespace, VerifiedSignature as VerifiedSignature,
        verify_body as verify_body, verify_cancel as verify_cancel, verify_query as verify_query,
    )
    from .aio import (
        AsyncClient as AsyncClient, AsyncProgressCallback as AsyncProgressCallback,
    )
    from .client import (
        CancelToken as CancelToken, Client as Client, DEFAULT_MAX_WORKERS as DEFAULT_MAX_WORKERS,
        ProgressCallback as ProgressCallback,
    )
    from .enums import (
        Channel as Channel, Delivery as Delivery, DynamicIdType as DynamicIdType,
        Environment as Environment, FundChannel as FundChannel, OrderState as OrderState,
        OutcomeStatus as OutcomeStatus, ResultCode as ResultCode, SerType as SerType,
        TradeType as TradeType,
    )
    from .errors import (
        CryptoError as CryptoError, DecodeError as DecodeError, GatewayError as GatewayError,
        HttpStatusError as HttpStatusError, OutcomeUnknownError as OutcomeUnknownError,
        RequestTimeoutError as RequestTimeoutError, SignatureError as SignatureError,
        SosopayError as SosopayError, TransportError as TransportError,
        ValidationError as ValidationError,
    )
    from .models import (
        CancelReply as CancelReply, FlowEvent as FlowEvent, FlowEventKind as FlowEventKind,
        FlowOrder as FlowOrder, FlowRechargeReply as FlowRechargeReply, FundBill as FundBill,
        GatewayResult as GatewayResult, Goods as Goods, JsapiParams as JsapiParams,
        Notification as Notification, OrderDetails as OrderDetails, OrderReply as OrderReply,
        PaymentOutcome as PaymentOutcome, QueryReply as QueryReply, RefundReply as RefundReply,
        RequestLog as RequestLog, yuan as yuan,
    )
    from .notify import (
        handle_notification as handle_notification,
        handle_notification_async as handle_notification_async, IdempotencyStore as IdempotencyStore,
        MemoryIdempotencyStore as MemoryIdempotencyStore,
        NotificationVerifier as NotificationVerifier, parse_notification as parse_notification,
        process_once as process_once, WebhookResult as WebhookResult,
    )

    #: An alias: the timeout error is also a builtin ``TimeoutError``.
    GatewayTimeoutError = RequestTimeoutError
    #: The timeout error under the name every runtime uses (Node ``TimeoutError``); it is also
    #: the builtin ``TimeoutError``, so ``except TimeoutError`` catches it too.
    TimeoutError = RequestTimeoutError  # noqa: A001

#: The package's names, by the module that defines them. Each module is imported on first use of
#: one of its names (PEP 562), so that ``import sosopay`` loads only the native module (issue
#: #13: the records need ``dataclasses`` and ``typing``, the async client ``asyncio``). The table
#: is checked against the ``TYPE_CHECKING`` imports above by ``tests/test_package.py``.
_LAZY = {
    "_native": (
        "decrypt", "encrypt", "Envelope", "sign_body", "sign_cancel", "sign_query",
        "strip_java_whitespace", "VerifiedSignature", "verify_body", "verify_cancel",
        "verify_query",
    ),
    "aio": (
        "AsyncClient", "AsyncProgressCallback",
    ),
    "client": (
        "CancelToken", "Client", "DEFAULT_MAX_WORKERS", "ProgressCallback",
    ),
    "enums": (
        "Channel", "Delivery", "DynamicIdType", "Environment", "FundChannel", "OrderState",
        "OutcomeStatus", "ResultCode", "SerType", "TradeType",
    ),
    "errors": (
        "CryptoError", "DecodeError", "GatewayError", "HttpStatusError", "OutcomeUnknownError",
        "RequestTimeoutError", "SignatureError", "SosopayError", "TransportError",
        "ValidationError",
    ),
    "models": (
        "CancelReply", "FlowEvent", "FlowEventKind", "FlowOrder", "FlowRechargeReply", "FundBill",
        "GatewayResult", "Goods", "JsapiParams", "Notification", "OrderDetails", "OrderReply",
        "PaymentOutcome", "QueryReply", "RefundReply", "RequestLog", "yuan",
    ),
    "notify": (
        "handle_notification", "handle_notification_async", "IdempotencyStore", "MemoryIdempotencyStore",
        "NotificationVerifier", "parse_notification", "process_once", "WebhookResult",
    ),
}
_ALIASES = {"GatewayTimeoutError": "RequestTimeoutError", "TimeoutError": "RequestTimeoutError"}
_WHERE = {name: module for module, names in _LAZY.items() for name in names}
__all__ = sorted([*_WHERE, *_ALIASES])


def __getattr__(name: str) -> object:
    module = _WHERE.get(_ALIASES.get(name, name))
    if module is None:
        raise AttributeError(f"module 'sosopay' has no attribute {name!r}")
    value = getattr(__import__(f"{__name__}.{module}", fromlist=["_"]), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
