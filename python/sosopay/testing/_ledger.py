"""Typed records of the sandbox's ledger (``GET /_sandbox/ledger``, docs/SANDBOX.md "The ledger").

The records are generated from the sandbox's own structs (sandbox/src/ledger.rs) by
scripts/gen-foreign.py; their extras are the mixins below. Every record keeps the ledger's JSON
object in ``raw`` (fields a newer sandbox adds are there).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple

from ..enums import OrderState

from ..models import _opt_str

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:  # the same frozen dataclasses, built without exec or `dataclasses` (see _record.py)
    from .._record import dataclass, field

__all__ = [
    "SandboxOrder",
    "FaultRule",
    "SandboxRefund",
    "NotificationAttempt",
    "FlowRechargeRecord",
    "FaultEvent",
    "FaultsState",
    "Ledger",
]

def _opt_int(v: Any) -> Optional[int]:
    return None if v is None else int(v)


class _SandboxOrderRules:
    amount_fen: int
    refunded_fen: int
    state: OrderState

    @property
    def is_paid(self) -> bool:
        """The customer paid (refunds do not undo it): the core's ``OrderState.money_taken``."""
        return self.state.money_taken

    @property
    def amount(self) -> Decimal:
        """``amount_fen`` in yuan."""
        return Decimal(self.amount_fen) / 100

    @property
    def remaining_fen(self) -> int:
        """What can still be refunded."""
        return self.amount_fen - self.refunded_fen


class _LedgerQueries:
    """Rules a test can check: an order the customer paid shows STATE 1, 4 or 5; a cancelled one
    2; never more than one order per charge code; ``refunded_fen`` never above ``amount_fen``."""

    orders: Tuple["SandboxOrder", ...]
    refunds: Tuple["SandboxRefund", ...]
    notifications: Tuple["NotificationAttempt", ...]

    def order(self, charge_code: str) -> Optional["SandboxOrder"]:
        """The order with this charge code (the first, if two merchants used it)."""
        return next((o for o in self.orders if o.charge_code == charge_code), None)

    def refunds_of(self, charge_code: str) -> List["SandboxRefund"]:
        """The refunds of one order, oldest first."""
        return [r for r in self.refunds if r.charge_code == charge_code]

    def notifications_of(self, charge_code: str) -> List["NotificationAttempt"]:
        """The notification attempts for one order, oldest first."""
        return [n for n in self.notifications if n.charge_code == charge_code]


# --- generated from sandbox/src/ledger.rs (scripts/gen-foreign.py)
@dataclass(frozen=True)
class FaultRule:
    """A fault rule in force, in its parts."""

    op: str
    """The operation (``preOrder``, ``query``, ..., ``notify``, ``*``)."""
    kind: str
    """The fault (``drop_reply``, ``delay``, ...)."""
    probability: float
    """Chance per request, 0.0 to 1.0."""
    param: Optional[str]
    """The fault's parameter (milliseconds, status, field), if it has one."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FaultRule":
        return cls(
            op=str(d.get("op") or ""),
            kind=str(d.get("kind") or ""),
            probability=float(d.get("probability") or 0),
            param=_opt_str(d.get("param")),
            raw=d,
        )


@dataclass(frozen=True)
class FaultEvent:
    """One fault that was injected."""

    op: str
    """The operation it hit."""
    kind: str
    """The fault."""
    request_no: int
    """The operation's request number it hit (1 for the first)."""
    charge_code: Optional[str]
    """The order the request named, when it named one."""
    at_ms: int
    """When."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FaultEvent":
        return cls(
            op=str(d.get("op") or ""),
            kind=str(d.get("kind") or ""),
            request_no=int(d.get("request_no") or 0),
            charge_code=_opt_str(d.get("charge_code")),
            at_ms=int(d.get("at_ms") or 0),
            raw=d,
        )


@dataclass(frozen=True)
class FaultsState:
    """The faults: the rules in force and what they did."""

    seed: int
    """The seed of the deterministic draws."""
    rules: Tuple[FaultRule, ...]
    """The rules in force."""
    injected: Mapping[str, int]
    """How many faults of each kind were injected, by ``op:kind``."""
    events: Tuple[FaultEvent, ...]
    """Every injected fault, in order."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FaultsState":
        return cls(
            seed=int(d.get("seed") or 0),
            rules=tuple(FaultRule._from_json(x) for x in d.get("rules") or ()),
            injected={str(k): int(v) for k, v in (d.get("injected") or {}).items()},
            events=tuple(FaultEvent._from_json(x) for x in d.get("events") or ()),
            raw=d,
        )


@dataclass(frozen=True)
class SandboxOrder(_SandboxOrderRules):
    """One order as the gateway holds it."""

    busi_id: str
    """The merchant (``BUSI_ID``)."""
    charge_code: str
    """The merchant's order number (``CHARGE_CODE``)."""
    charge_down_code: str
    """The gateway's order number (``CHARGE_DOWN_CODE``)."""
    charge_third_code: Optional[str]
    """The channel's order number, once paid."""
    kind: str
    """``micropay``, ``qr`` or ``jsapi``."""
    channel: Optional[int]
    """The channel's wire code (``CHANNEL_TYPE``), when numeric."""
    amount_fen: int
    """The amount, in fen."""
    refunded_fen: int
    """What was refunded of it, in fen."""
    state: OrderState
    """The order state's wire code (``STATE``: 0 awaiting payment, 1 paid, ...)."""
    state_name: str
    """The state's name (``Paid``, ``AwaitingPayment``, ...: the core's ``OrderState`` names)."""
    pay_subject: str
    """``PAY_SUBJECT``."""
    dynamic_id: Optional[str]
    """The customer's payment code (micropay only)."""
    verify_code: Optional[str]
    """The verification code(s) sent with the order."""
    notify_url: Optional[str]
    """Where notifications go (``NODIFY_URL``)."""
    fail_reason: Optional[str]
    """Why the payment failed or was cancelled, when it did."""
    created_at_ms: int
    """When the order was created (ms since the Unix epoch)."""
    paid_at_ms: Optional[int]
    """When it was paid."""
    ended_at_ms: Optional[int]
    """When it reached a final state."""
    expires_at_ms: Optional[int]
    """When an unpaid order expires (or a micropay's hold ends)."""
    begin_time: str
    """``BEGIN_TIME`` as the gateway writes it (``yyyy-MM-dd HH:mm:ss``, UTC+8)."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "SandboxOrder":
        return cls(
            busi_id=str(d.get("busi_id") or ""),
            charge_code=str(d.get("charge_code") or ""),
            charge_down_code=str(d.get("charge_down_code") or ""),
            charge_third_code=_opt_str(d.get("charge_third_code")),
            kind=str(d.get("kind") or ""),
            channel=_opt_int(d.get("channel")),
            amount_fen=int(d.get("amount_fen") or 0),
            refunded_fen=int(d.get("refunded_fen") or 0),
            state=OrderState(str(d.get("state"))),
            state_name=str(d.get("state_name") or ""),
            pay_subject=str(d.get("pay_subject") or ""),
            dynamic_id=_opt_str(d.get("dynamic_id")),
            verify_code=_opt_str(d.get("verify_code")),
            notify_url=_opt_str(d.get("notify_url")),
            fail_reason=_opt_str(d.get("fail_reason")),
            created_at_ms=int(d.get("created_at_ms") or 0),
            paid_at_ms=_opt_int(d.get("paid_at_ms")),
            ended_at_ms=_opt_int(d.get("ended_at_ms")),
            expires_at_ms=_opt_int(d.get("expires_at_ms")),
            begin_time=str(d.get("begin_time") or ""),
            raw=d,
        )


@dataclass(frozen=True)
class SandboxRefund:
    """One refund."""

    busi_id: str
    """The merchant."""
    out_refund_no: Optional[str]
    """The merchant's refund number (``OUT_REFUND_NO``), when given."""
    charge_code: str
    """The refunded order's ``CHARGE_CODE``."""
    charge_down_code: str
    """The refunded order's ``CHARGE_DOWN_CODE``."""
    amount_fen: int
    """The refunded amount, in fen."""
    state_after: OrderState
    """The order's state code after the refund (4 partly refunded, 5 refunded)."""
    created_at_ms: int
    """When the refund was made."""
    replays: int
    """How many times the same refund was asked for again (and answered the same)."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "SandboxRefund":
        return cls(
            busi_id=str(d.get("busi_id") or ""),
            out_refund_no=_opt_str(d.get("out_refund_no")),
            charge_code=str(d.get("charge_code") or ""),
            charge_down_code=str(d.get("charge_down_code") or ""),
            amount_fen=int(d.get("amount_fen") or 0),
            state_after=OrderState(str(d.get("state_after"))),
            created_at_ms=int(d.get("created_at_ms") or 0),
            replays=int(d.get("replays") or 0),
            raw=d,
        )


@dataclass(frozen=True)
class NotificationAttempt:
    """One attempt at delivering a payment notification (``PAY_NODIFY``)."""

    busi_id: str
    """The merchant."""
    charge_code: str
    """The order notified about."""
    url: str
    """The order's ``NODIFY_URL``."""
    attempt: int
    """1 for the first attempt, then 2, 3, ..."""
    http_status: Optional[int]
    """The HTTP status the merchant answered, if it answered."""
    accepted: bool
    """The merchant answered HTTP 200: the gateway stops retrying."""
    error: Optional[str]
    """Why there was no answer (connection refused, timeout, ...)."""
    at_ms: int
    """When the attempt was made."""
    format: str
    """``json`` or ``xml``."""
    encrypted: bool
    """Whether the body was 3DES-encrypted."""
    fault: Optional[str]
    """The fault injected into this attempt, if any."""
    duplicate: bool
    """Whether this was the second copy sent by the ``duplicate`` fault."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "NotificationAttempt":
        return cls(
            busi_id=str(d.get("busi_id") or ""),
            charge_code=str(d.get("charge_code") or ""),
            url=str(d.get("url") or ""),
            attempt=int(d.get("attempt") or 0),
            http_status=_opt_int(d.get("http_status")),
            accepted=bool(d.get("accepted")),
            error=_opt_str(d.get("error")),
            at_ms=int(d.get("at_ms") or 0),
            format=str(d.get("format") or ""),
            encrypted=bool(d.get("encrypted")),
            fault=_opt_str(d.get("fault")),
            duplicate=bool(d.get("duplicate")),
            raw=d,
        )


@dataclass(frozen=True)
class FlowRechargeRecord:
    """One mobile data top-up (``flowRecharge``)."""

    busi_id: str
    """The merchant."""
    order_id: str
    """The gateway's order id."""
    phone_no: str
    """The phone number topped up."""
    flow_val: int
    """The data volume, in MB."""
    flow_type: str
    """The top-up type (``0`` national, ...)."""
    created_at_ms: int
    """When it was made."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FlowRechargeRecord":
        return cls(
            busi_id=str(d.get("busi_id") or ""),
            order_id=str(d.get("order_id") or ""),
            phone_no=str(d.get("phone_no") or ""),
            flow_val=int(d.get("flow_val") or 0),
            flow_type=str(d.get("flow_type") or ""),
            created_at_ms=int(d.get("created_at_ms") or 0),
            raw=d,
        )


@dataclass(frozen=True)
class Ledger(_LedgerQueries):
    """Everything that happened since the sandbox started (or was last reset)."""

    orders: Tuple[SandboxOrder, ...]
    """Every order, in the order they were created."""
    refunds: Tuple[SandboxRefund, ...]
    """Every refund."""
    notifications: Tuple[NotificationAttempt, ...]
    """Every notification delivery attempt."""
    flow_recharges: Tuple[FlowRechargeRecord, ...]
    """Every top-up."""
    faults: FaultsState
    """The fault rules and what they injected."""
    requests: Mapping[str, int]
    """How many requests each gateway operation received (every one, 0 if never requested)."""
    time_scale: float
    """The time scale the sandbox runs at."""
    paid_fen: int
    """The sum of the amounts of the orders the customer paid (``STATE`` 1, 4 or 5), in fen: their refunds are not deducted. A paid order reversed (cancelled: the whole payment went back) is counted in neither total: paid minus refunded is what the shop kept."""
    refunded_fen: int
    """The sum of the refunds of the orders counted as paid, in fen."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    """The sandbox's JSON object (fields a newer sandbox adds are here)."""

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "Ledger":
        return cls(
            orders=tuple(SandboxOrder._from_json(x) for x in d.get("orders") or ()),
            refunds=tuple(SandboxRefund._from_json(x) for x in d.get("refunds") or ()),
            notifications=tuple(NotificationAttempt._from_json(x) for x in d.get("notifications") or ()),
            flow_recharges=tuple(FlowRechargeRecord._from_json(x) for x in d.get("flow_recharges") or ()),
            faults=FaultsState._from_json(d.get("faults") or {}),
            requests={str(k): int(v) for k, v in (d.get("requests") or {}).items()},
            time_scale=float(d.get("time_scale") or 0),
            paid_fen=int(d.get("paid_fen") or 0),
            refunded_fen=int(d.get("refunded_fen") or 0),
            raw=d,
        )


# --- end of generated
