"""Typed replies, notifications and flow outcomes.

Money is exact: every amount is an ``int`` of fen (``amount_fen``), with a
:class:`decimal.Decimal` yuan view beside it (``amount``). Reply objects are immutable and
keep the gateway's whole document in ``raw`` (non-integer numbers there are ``Decimal``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Literal, Mapping, Optional, Union

from . import _native
from .enums import Channel, FundChannel, OrderState, OutcomeStatus, ResultCode

__all__ = [
    "Goods",
    "GatewayResult",
    "FundBill",
    "JsapiParams",
    "OrderReply",
    "OrderDetails",
    "QueryReply",
    "RefundReply",
    "CancelReply",
    "FlowOrder",
    "FlowRechargeReply",
    "Notification",
    "PaymentOutcome",
    "FlowEvent",
    "FlowEventKind",
    "RequestLog",
    "yuan",
]

#: What an amount in yuan may be given as (never ``float``).
YuanLike = Union[str, Decimal]


def yuan(fen: int) -> Decimal:
    """``Decimal("158.00")`` for 15800 fen."""
    return Decimal(_native.fen_to_yuan(fen))


def _opt_yuan(fen: Optional[int]) -> Optional[Decimal]:
    return None if fen is None else yuan(fen)


def _opt_str(v: Any) -> Optional[str]:
    return None if v is None else str(v)


def _opt_enum(cls: Any, v: Any) -> Any:
    return None if v is None else cls(v)


class Goods:
    """One item of ``GOODS_DETAIL``. Give the price in yuan (``price="2.00"`` or a ``Decimal``)
    or in fen (``price_fen=200``); a ``float`` is refused."""

    __slots__ = ("id", "name", "class_", "price_fen", "subject", "quantity", "show_url")

    def __init__(
        self,
        *,
        id: str,
        name: str,
        class_: str,
        subject: str,
        quantity: int = 1,
        price: Optional[YuanLike] = None,
        price_fen: Optional[int] = None,
        show_url: Optional[str] = None,
    ) -> None:
        if price is not None and price_fen is not None:
            raise TypeError("Goods: give price (yuan) or price_fen, not both")
        if price is None and price_fen is None:
            raise TypeError("Goods: price (yuan) or price_fen is required")
        self.id = id
        self.name = name
        self.class_ = class_
        self.subject = subject
        self.quantity = quantity
        self.price_fen: int = (
            _native.to_fen(price, "goods.price")
            if price is not None
            else _native.to_fen(price_fen, "goods.price_fen", fen=True)
        )
        self.show_url = show_url

    @property
    def price(self) -> Decimal:
        """The unit price in yuan."""
        return yuan(self.price_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> Goods:
        return cls(
            id=str(d.get("id", "")),
            name=str(d.get("name", "")),
            class_=str(d.get("class", "")),
            subject=str(d.get("subject", "")),
            quantity=int(d.get("quantity", 0)),
            price_fen=int(d.get("price_fen", 0)),
            show_url=_opt_str(d.get("show_url")),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Goods):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, s) for s in self.__slots__))

    def __repr__(self) -> str:
        return (
            f"Goods(id={self.id!r}, name={self.name!r}, class_={self.class_!r}, "
            f"price={str(self.price)!r}, subject={self.subject!r}, quantity={self.quantity!r})"
        )


@dataclass(frozen=True)
class GatewayResult:
    """``RESULT``: the result code and the gateway's message."""

    code: ResultCode
    info: str

    @property
    def is_success(self) -> bool:
        return self.code is ResultCode.SUCCESS

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> GatewayResult:
        return cls(code=ResultCode(d["code"]), info=str(d.get("info", "")))


@dataclass(frozen=True)
class FundBill:
    """One funding source of a payment or refund."""

    fund_channel: FundChannel
    amount_fen: int

    @property
    def amount(self) -> Decimal:
        return yuan(self.amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FundBill:
        return cls(fund_channel=FundChannel(d["fund_channel"]), amount_fen=int(d["amount_fen"]))


def _bills(v: Any) -> List[FundBill]:
    return [FundBill._from_native(b) for b in (v or [])]


@dataclass(frozen=True)
class JsapiParams:
    """WeChat JSAPI pay parameters, for ``WeixinJSBridge`` / ``wx.chooseWXPay``."""

    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str

    def to_wechat(self) -> Dict[str, str]:
        """The object ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)`` expects."""
        return {
            "appId": self.app_id,
            "timeStamp": self.time_stamp,
            "nonceStr": self.nonce_str,
            "package": self.package,
            "signType": self.sign_type,
            "paySign": self.pay_sign,
        }


@dataclass(frozen=True)
class OrderReply:
    """``ORDER_RESP``: the reply to micropay and to QR / JSAPI orders."""

    result: GatewayResult
    charge_code: Optional[str]
    charge_down_code: Optional[str]
    charge_third_code: Optional[str]
    channel: Optional[Channel]
    state: Optional[OrderState]
    amount_fen: Optional[int]
    merchant_para: Optional[str]
    fund_bills: List[FundBill]
    oper_id: Optional[str]
    dev_id: Optional[str]
    begin_time: Optional[str]
    #: The payment link to render as a QR code (QR orders).
    bar_code: Optional[str]
    #: The WeChat pay parameters (JSAPI orders).
    jsapi: Optional[JsapiParams]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @property
    def amount(self) -> Optional[Decimal]:
        return _opt_yuan(self.amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> OrderReply:
        j = d.get("jsapi")
        return cls(
            result=GatewayResult._from_native(d["result"]),
            charge_code=_opt_str(d.get("charge_code")),
            charge_down_code=_opt_str(d.get("charge_down_code")),
            charge_third_code=_opt_str(d.get("charge_third_code")),
            channel=_opt_enum(Channel, d.get("channel")),
            state=_opt_enum(OrderState, d.get("state")),
            amount_fen=d.get("amount_fen"),
            merchant_para=_opt_str(d.get("merchant_para")),
            fund_bills=_bills(d.get("fund_bills")),
            oper_id=_opt_str(d.get("oper_id")),
            dev_id=_opt_str(d.get("dev_id")),
            begin_time=_opt_str(d.get("begin_time")),
            bar_code=_opt_str(d.get("bar_code")),
            jsapi=None if j is None else JsapiParams(**j),
            raw=dict(d.get("raw") or {}),
        )


@dataclass(frozen=True)
class OrderDetails:
    """An order as the gateway reports it (query replies and notifications)."""

    busi_id: Optional[str]
    charge_code: Optional[str]
    charge_down_code: Optional[str]
    charge_third_code: Optional[str]
    channel: Optional[Channel]
    state: Optional[OrderState]
    amount_fen: Optional[int]
    #: ``realAMT``: what the customer actually paid after discounts.
    real_amount_fen: Optional[int]
    pay_subject: Optional[str]
    oper_id: Optional[str]
    dev_id: Optional[str]
    register_id: Optional[str]
    merchant_para: Optional[str]
    dynamic_id: Optional[str]
    goods: List[Goods]
    fund_bills: List[FundBill]
    begin_time: Optional[str]
    end_time: Optional[str]

    @property
    def amount(self) -> Optional[Decimal]:
        return _opt_yuan(self.amount_fen)

    @property
    def real_amount(self) -> Optional[Decimal]:
        return _opt_yuan(self.real_amount_fen)

    @property
    def is_paid(self) -> bool:
        """Was the money taken (paid, or paid then partly or wholly refunded)?"""
        return self.state is not None and self.state.money_taken

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> OrderDetails:
        return cls(
            busi_id=_opt_str(d.get("busi_id")),
            charge_code=_opt_str(d.get("charge_code")),
            charge_down_code=_opt_str(d.get("charge_down_code")),
            charge_third_code=_opt_str(d.get("charge_third_code")),
            channel=_opt_enum(Channel, d.get("channel_type")),
            state=_opt_enum(OrderState, d.get("state")),
            amount_fen=d.get("amount_fen"),
            real_amount_fen=d.get("real_amount_fen"),
            pay_subject=_opt_str(d.get("pay_subject")),
            oper_id=_opt_str(d.get("oper_id")),
            dev_id=_opt_str(d.get("dev_id")),
            register_id=_opt_str(d.get("register_id")),
            merchant_para=_opt_str(d.get("merchant_para")),
            dynamic_id=_opt_str(d.get("dynamic_id")),
            goods=[Goods._from_native(g) for g in (d.get("goods") or [])],
            fund_bills=_bills(d.get("fund_bills")),
            begin_time=_opt_str(d.get("begin_time")),
            end_time=_opt_str(d.get("end_time")),
        )


@dataclass(frozen=True)
class QueryReply:
    """``QUERY_RESP``: the order's details."""

    result: GatewayResult
    order: OrderDetails
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @property
    def state(self) -> Optional[OrderState]:
        return self.order.state

    @property
    def amount_fen(self) -> Optional[int]:
        return self.order.amount_fen

    @property
    def amount(self) -> Optional[Decimal]:
        return self.order.amount

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> QueryReply:
        return cls(
            result=GatewayResult._from_native(d["result"]),
            order=OrderDetails._from_native(d),
            raw=dict(d.get("raw") or {}),
        )


@dataclass(frozen=True)
class RefundReply:
    """``REFUND_RESP``."""

    result: GatewayResult
    channel: Optional[Channel]
    fund_bills: List[FundBill]
    charge_code: Optional[str]
    out_refund_no: Optional[str]
    state: Optional[OrderState]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> RefundReply:
        return cls(
            result=GatewayResult._from_native(d["result"]),
            channel=_opt_enum(Channel, d.get("channel")),
            fund_bills=_bills(d.get("fund_bills")),
            charge_code=_opt_str(d.get("charge_code")),
            out_refund_no=_opt_str(d.get("out_refund_no")),
            state=_opt_enum(OrderState, d.get("state")),
            raw=dict(d.get("raw") or {}),
        )


@dataclass(frozen=True)
class CancelReply:
    """``CANCELTRADE_RESP``."""

    result: GatewayResult
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> CancelReply:
        return cls(result=GatewayResult._from_native(d["result"]), raw=dict(d.get("raw") or {}))


@dataclass(frozen=True)
class FlowOrder:
    """The ``flow`` node of a top-up reply."""

    id: Optional[str]
    phone_no: Optional[str]
    flow_val: Optional[int]
    flow_type: Optional[str]
    busi_code: Optional[str]
    order_id: Optional[str]
    plat_order_id: Optional[str]
    create_time: Optional[str]
    #: 0 created, 1 in progress, 2 done, 3 failed.
    status: Optional[str]


@dataclass(frozen=True)
class FlowRechargeReply:
    """The mobile data top-up reply."""

    result: GatewayResult
    flow: Optional[FlowOrder]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FlowRechargeReply:
        f = d.get("flow")
        return cls(
            result=GatewayResult._from_native(d["result"]),
            flow=None if f is None else FlowOrder(**f),
            raw=dict(d.get("raw") or {}),
        )


@dataclass(frozen=True)
class Notification:
    """A verified ``PAY_NODIFY``: the order's details as the gateway pushed them."""

    order: OrderDetails
    #: The key under which this notification is processed once (merchant, order, state).
    idempotency_key: str
    raw: Dict[str, Any] = field(repr=False, compare=False)
    _native: Any = field(default=None, repr=False, compare=False)

    @property
    def charge_code(self) -> str:
        return self.order.charge_code or ""

    @property
    def state(self) -> Optional[OrderState]:
        return self.order.state

    @property
    def amount_fen(self) -> Optional[int]:
        return self.order.amount_fen

    @property
    def amount(self) -> Optional[Decimal]:
        return self.order.amount

    @property
    def is_paid(self) -> bool:
        return self.order.is_paid

    @classmethod
    def _from_native(cls, native: Any) -> Notification:
        d = native.to_dict()
        return cls(
            order=OrderDetails._from_native(d),
            idempotency_key=str(d["idempotency_key"]),
            raw=dict(d.get("raw") or {}),
            _native=native,
        )


@dataclass(frozen=True)
class PaymentOutcome:
    """How a flow ended. Check ``status``; ``order`` is always set when paid."""

    status: OutcomeStatus
    charge_code: str
    order: Optional[OrderDetails]
    #: The gateway code behind a failure, when there is one (``resultCode`` in Node and Kotlin).
    result_code: Optional[ResultCode]
    reason: str
    queries: int

    @property
    def is_paid(self) -> bool:
        return self.status is OutcomeStatus.PAID

    @property
    def code(self) -> Optional[ResultCode]:
        """The same as :attr:`result_code` (the name of earlier versions)."""
        return self.result_code

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> PaymentOutcome:
        o = d.get("order")
        return cls(
            status=OutcomeStatus(d["status"]),
            charge_code=str(d["charge_code"]),
            order=None if o is None else OrderDetails._from_native(o),
            result_code=_opt_enum(ResultCode, d.get("code")),
            reason=str(d.get("reason", "")),
            queries=int(d.get("queries", 0)),
        )


@dataclass(frozen=True)
class RequestLog:
    """One attempt of one request (for ``Client(on_request=...)``). Never holds the key."""

    operation: str
    charge_code: Optional[str]
    attempt: int
    #: Seconds.
    duration: float
    http_status: Optional[int]
    result_code: Optional[str]
    #: ``STATE`` of the order in the reply, when there is one (wire text, e.g. ``"1"``).
    order_state: Optional[str]
    error: Optional[str]


#: What a flow is doing (see :class:`FlowEvent`).
FlowEventKind = Literal["sending", "waiting", "queried", "cancelling", "done"]


@dataclass(frozen=True)
class FlowEvent:
    """Progress of ``micropay_and_wait`` / ``wait_for_payment``, for a till screen ("waiting for
    the customer... 12 s"). Events arrive in order: ``"sending"`` first (till flow only),
    ``"done"`` last.

    * ``"sending"``: the micropay request is being sent.
    * ``"waiting"``: not settled yet (the gateway holds the payment while the customer
      confirms, or the flow is about to query again).
    * ``"queried"``: a query answered; ``state`` is the order's state when it showed one.
    * ``"cancelling"``: the flow is cancelling the order (``requested``: because the caller
      cancelled, rather than at the deadline).
    * ``"done"``: the flow ended with ``status``.
    """

    kind: FlowEventKind
    #: Seconds since the flow started.
    elapsed: float
    #: ``"queried"``: the order's state, when the gateway showed one.
    state: Optional[OrderState] = None
    #: ``"done"``: the final status (the same as the returned outcome's).
    status: Optional[OutcomeStatus] = None
    #: ``"cancelling"``: True when the caller cancelled (rather than the deadline passing).
    requested: Optional[bool] = None

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FlowEvent:
        return cls(
            kind=d["kind"],
            elapsed=float(d["elapsed"]),
            state=_opt_enum(OrderState, d.get("state")),
            status=_opt_enum(OutcomeStatus, d.get("status")),
            requested=d.get("requested"),
        )
