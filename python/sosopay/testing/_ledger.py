"""Typed records of the sandbox's ledger (``GET /_sandbox/ledger``, docs/SANDBOX.md "The ledger").

Every record keeps the ledger's JSON object in ``raw`` (fields a newer sandbox adds are there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..enums import OrderState

__all__ = [
    "SandboxOrder",
    "SandboxRefund",
    "NotificationAttempt",
    "FlowRechargeRecord",
    "FaultEvent",
    "FaultsState",
    "Ledger",
]

def _opt_str(v: Any) -> Optional[str]:
    return None if v is None else str(v)


def _opt_int(v: Any) -> Optional[int]:
    return None if v is None else int(v)


@dataclass(frozen=True)
class SandboxOrder:
    """One order as the sandbox (the gateway's side) sees it."""

    busi_id: str
    charge_code: str
    charge_down_code: str
    charge_third_code: Optional[str]
    kind: str
    """``"micropay"``, ``"qr"`` or ``"jsapi"``."""
    channel: Optional[int]
    """``CHANNEL_TYPE`` (2 WeChat, 1 Alipay, ...)."""
    amount_fen: int
    refunded_fen: int
    state: OrderState
    state_name: str
    pay_subject: str
    dynamic_id: Optional[str]
    verify_code: Optional[str]
    notify_url: Optional[str]
    fail_reason: Optional[str]
    created_at_ms: int
    paid_at_ms: Optional[int]
    ended_at_ms: Optional[int]
    expires_at_ms: Optional[int]
    begin_time: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)

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

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "SandboxOrder":
        return cls(
            busi_id=str(d["busi_id"]),
            charge_code=str(d["charge_code"]),
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
    """One refund the sandbox accepted."""

    busi_id: str
    out_refund_no: Optional[str]
    charge_code: str
    charge_down_code: str
    amount_fen: int
    state_after: OrderState
    """The order's STATE right after this refund (4 partial, 5 full)."""
    created_at_ms: int
    replays: int
    """Repeated requests with the same ``OUT_REFUND_NO`` (answered, not refunded again)."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "SandboxRefund":
        return cls(
            busi_id=str(d["busi_id"]),
            out_refund_no=_opt_str(d.get("out_refund_no")),
            charge_code=str(d["charge_code"]),
            charge_down_code=str(d.get("charge_down_code") or ""),
            amount_fen=int(d.get("amount_fen") or 0),
            state_after=OrderState(str(d.get("state_after"))),
            created_at_ms=int(d.get("created_at_ms") or 0),
            replays=int(d.get("replays") or 0),
            raw=d,
        )


@dataclass(frozen=True)
class NotificationAttempt:
    """One delivery attempt of a payment notification (``PAY_NODIFY``) to a ``NODIFY_URL``."""

    busi_id: str
    charge_code: str
    url: str
    attempt: int
    """1 to 30."""
    http_status: Optional[int]
    """What the merchant's endpoint answered; ``None`` when the request failed (see ``error``)."""
    error: Optional[str]
    at_ms: int
    format: str
    """``"json"`` or ``"xml"``."""
    encrypted: bool
    fault: Optional[str]
    """The injected fault (``"bad_sign"``, ``"duplicate"``, ``"garble"``, ...), if any."""
    duplicate: bool
    """The extra copy sent by a ``duplicate`` fault."""
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def accepted(self) -> bool:
        """The merchant answered HTTP 200 (the gateway stops retrying)."""
        return self.http_status == 200

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "NotificationAttempt":
        return cls(
            busi_id=str(d["busi_id"]),
            charge_code=str(d["charge_code"]),
            url=str(d.get("url") or ""),
            attempt=int(d.get("attempt") or 0),
            http_status=_opt_int(d.get("http_status")),
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
    """One mobile-data top-up (``flowRecharge``)."""

    busi_id: str
    order_id: str
    phone_no: str
    flow_val: int
    flow_type: str
    created_at_ms: int
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FlowRechargeRecord":
        return cls(
            busi_id=str(d["busi_id"]),
            order_id=str(d.get("order_id") or ""),
            phone_no=str(d.get("phone_no") or ""),
            flow_val=int(d.get("flow_val") or 0),
            flow_type=str(d.get("flow_type") or ""),
            created_at_ms=int(d.get("created_at_ms") or 0),
            raw=d,
        )


@dataclass(frozen=True)
class FaultEvent:
    """One injected fault."""

    op: str
    kind: str
    request_no: int
    """The n-th request of ``op`` since the rules were last set (1-based)."""
    charge_code: Optional[str]
    at_ms: int

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FaultEvent":
        return cls(
            op=str(d.get("op") or ""),
            kind=str(d.get("kind") or ""),
            request_no=int(d.get("request_no") or 0),
            charge_code=_opt_str(d.get("charge_code")),
            at_ms=int(d.get("at_ms") or 0),
        )


@dataclass(frozen=True)
class FaultsState:
    """The fault rules in force and what they did."""

    seed: int
    rules: Tuple[Mapping[str, Any], ...]
    """As ``{"op", "kind", "probability", "param"}``."""
    injected: Mapping[str, int]
    """Counts per ``"op:kind"``, e.g. ``{"preOrder:drop_reply": 1}``."""
    events: Tuple[FaultEvent, ...]

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "FaultsState":
        return cls(
            seed=int(d.get("seed") or 0),
            rules=tuple(d.get("rules") or ()),
            injected={str(k): int(v) for k, v in (d.get("injected") or {}).items()},
            events=tuple(FaultEvent._from_json(e) for e in d.get("events") or ()),
        )


@dataclass(frozen=True)
class Ledger:
    """Everything the sandbox did: the ground truth for reconciliation tests.

    Rules a test can check: an order the customer paid shows STATE 1, 4 or 5; a cancelled one
    2; never more than one order per charge code; ``refunded_fen`` never above ``amount_fen``.
    """

    orders: Tuple[SandboxOrder, ...]
    refunds: Tuple[SandboxRefund, ...]
    notifications: Tuple[NotificationAttempt, ...]
    flow_recharges: Tuple[FlowRechargeRecord, ...]
    faults: FaultsState
    requests: Mapping[str, int]
    """Requests received per operation (``{"preOrder": 3, "query": 7}``)."""
    time_scale: float
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def order(self, charge_code: str) -> Optional[SandboxOrder]:
        """The order with this charge code (the first, if two merchants used it)."""
        return next((o for o in self.orders if o.charge_code == charge_code), None)

    def refunds_of(self, charge_code: str) -> List[SandboxRefund]:
        """The refunds of one order, oldest first."""
        return [r for r in self.refunds if r.charge_code == charge_code]

    def notifications_of(self, charge_code: str) -> List[NotificationAttempt]:
        """The notification attempts for one order, oldest first."""
        return [n for n in self.notifications if n.charge_code == charge_code]

    @property
    def paid_fen(self) -> int:
        """The sum of every paid order's amount (refunds not deducted)."""
        return sum(o.amount_fen for o in self.orders if o.is_paid)

    @property
    def refunded_fen(self) -> int:
        """The sum of every order's refunds."""
        return sum(o.refunded_fen for o in self.orders)

    @classmethod
    def _from_json(cls, d: Mapping[str, Any]) -> "Ledger":
        requests: Dict[str, int] = {str(k): int(v) for k, v in (d.get("requests") or {}).items()}
        return cls(
            orders=tuple(SandboxOrder._from_json(o) for o in d.get("orders") or ()),
            refunds=tuple(SandboxRefund._from_json(r) for r in d.get("refunds") or ()),
            notifications=tuple(NotificationAttempt._from_json(n) for n in d.get("notifications") or ()),
            flow_recharges=tuple(FlowRechargeRecord._from_json(f) for f in d.get("flow_recharges") or ()),
            faults=FaultsState._from_json(d.get("faults") or {}),
            requests=requests,
            time_scale=float(d.get("time_scale") or 1.0),
            raw=d,
        )
