"""The exception hierarchy: one class per variant of the core's error.

Every exception is a :class:`SosopayError` and carries ``outcome_unknown``: when it is true,
money may have moved, so query the order (by its charge code) before deciding anything.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .enums import ResultCode

__all__ = [
    "SosopayError",
    "ValidationError",
    "SignatureError",
    "CryptoError",
    "DecodeError",
    "GatewayError",
    "HttpStatusError",
    "TransportError",
    "RequestTimeoutError",
    "OutcomeUnknownError",
    "StoreUnavailableError",
]


class SosopayError(Exception):
    """Base class of every sosopay error."""

    #: The core's name of the variant (``"validation"``, ``"gateway"``, ...).
    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool = False,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: True when a payment's outcome is unknown: query before deciding.
        self.outcome_unknown = outcome_unknown
        #: True when retrying an idempotent request (a query) may help.
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message


# One class per core error variant, generated from core/src/error.rs.
# --- generated from core/src/error.rs (scripts/gen-foreign.py)
class ValidationError(SosopayError, ValueError):
    """A request or configuration field is missing or malformed; nothing was sent."""

    kind = "validation"

    def __init__(self, message: str, *, field: str = "", reason: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        #: The field, by its public name: snake_case in Rust and Python, camelCase in JS, Kotlin and
        #: Swift (``amount_fen``, ``amountFen``).
        self.field = field
        #: Why it is rejected.
        self.reason = reason


class SignatureError(SosopayError):
    """A signature is malformed, does not match, or is too old."""

    kind = "signature"

    def __init__(self, message: str, *, reason: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        #: Why.
        self.reason = reason


class CryptoError(SosopayError):
    """Base64, 3DES or padding failed: garbage, or the wrong key."""

    kind = "crypto"

    def __init__(self, message: str, *, reason: str = "", operation: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        #: Why.
        self.reason = reason
        #: The operation whose reply could not be decrypted (``preOrder``, ``query``, ...); empty
        #: outside a request (a notification, an envelope call).
        self.operation = operation


class DecodeError(SosopayError):
    """The gateway's reply (or a notification) could not be understood."""

    kind = "decode"

    def __init__(self, message: str, *, reason: str = "", operation: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        #: Why.
        self.reason = reason
        #: The operation whose reply could not be decoded (``preOrder``, ``query``, ...); empty
        #: outside a request (a notification, a document parsed by the caller).
        self.operation = operation


class GatewayError(SosopayError):
    """The gateway answered with a ``RESULT.CODE`` other than success."""

    kind = "gateway"

    def __init__(self, message: str, *, code: str = "", info: str = "", operation: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        #: The result code.
        self.result_code: ResultCode = ResultCode(code)
        #: The gateway's message (``RESULT.INFO``).
        self.info = info
        #: The operation answered (``preOrder``, ``query``, ...); empty when not known.
        self.operation = operation

    @property
    def code(self) -> ResultCode:
        """The same as :attr:`result_code` (the name of earlier versions)."""
        return self.result_code


class HttpStatusError(SosopayError):
    """The gateway answered with an HTTP error status."""

    kind = "http_status"

    def __init__(self, message: str, *, operation: str = "", status: int = 0, **kw: Any) -> None:
        super().__init__(message, **kw)
        #: The operation (``preOrder``, ``query``, ...).
        self.operation = operation
        #: The HTTP status.
        self.status = status


class TransportError(SosopayError):
    """The request could not be delivered or its reply not read."""

    kind = "transport"

    def __init__(self, message: str, *, operation: str = "", reason: str = "", maybe_sent: bool = True, **kw: Any) -> None:
        super().__init__(message, **kw)
        #: The operation (``preOrder``, ``query``, ...).
        self.operation = operation
        #: What failed.
        self.reason = reason
        #: ``false`` when the request surely never reached the gateway (connection refused,
        #: DNS failure); ``true`` when it may have been processed.
        self.maybe_sent = maybe_sent


class RequestTimeoutError(SosopayError, TimeoutError):
    """No reply within the configured time."""

    kind = "timeout"

    def __init__(self, message: str, *, operation: str = "", after_ms: int = 0, **kw: Any) -> None:
        super().__init__(message, **kw)
        #: The operation.
        self.operation = operation
        #: The time waited.
        self.after_ms = after_ms


class OutcomeUnknownError(SosopayError):
    """A money-moving request may or may not have been carried out, and querying could not settle it. Query ``charge_code`` later; never re-pay with a new charge code before that."""

    kind = "outcome_unknown"

    def __init__(self, message: str, *, operation: str = "", charge_code: str = "", reason: str = "", **kw: Any) -> None:
        kw.setdefault("outcome_unknown", True)
        super().__init__(message, **kw)
        #: The operation.
        self.operation = operation
        #: The merchant's order number.
        self.charge_code = charge_code
        #: The last error seen.
        self.reason = reason


_BY_KIND: Mapping[str, type[SosopayError]] = {
    ValidationError.kind: ValidationError,
    SignatureError.kind: SignatureError,
    CryptoError.kind: CryptoError,
    DecodeError.kind: DecodeError,
    GatewayError.kind: GatewayError,
    HttpStatusError.kind: HttpStatusError,
    TransportError.kind: TransportError,
    RequestTimeoutError.kind: RequestTimeoutError,
    OutcomeUnknownError.kind: OutcomeUnknownError,
}
# --- end of generated


class StoreUnavailableError(ConnectionError):
    """A shared idempotency store's server could not be reached (or timed out). Nothing was
    processed for a failed ``begin``: answer the gateway 503 so it retries later. Raised by
    :mod:`sosopay.stores` (and exported there); defined here so that notification handling
    recognises it without importing the stores."""


def _from_native(kind: str, message: str, fields: Optional[Mapping[str, Any]] = None) -> SosopayError:
    """Called by the extension module to build the exception for a core error."""
    cls = _BY_KIND.get(kind, SosopayError)
    kw = dict(fields or {})
    if cls is SosopayError:
        kw = {k: v for k, v in kw.items() if k in ("outcome_unknown", "retryable")}
    return cls(message, **kw)


def _invalid(field: str, reason: str, **kw: Any) -> ValidationError:
    """A ``ValidationError`` raised by the Python layer, worded as the core words its own
    (``invalid {field}: {reason}``)."""
    return ValidationError(f"invalid {field}: {reason}", field=field, reason=reason, **kw)


def _check_callable(name: str, fn: object) -> None:
    """Refuses an argument that should be a function and cannot be called (a ``TypeError``
    naming it), before anything is sent or claimed: called later, its error would only be
    logged."""
    if not callable(fn):
        raise TypeError(f"{name}: expected a function, got {type(fn).__name__}")
