"""Typed replies, notifications and flow outcomes.

Money is exact: every amount is an ``int`` of fen (``amount_fen``), with a
:class:`decimal.Decimal` yuan view beside it (``amount``). Reply objects are immutable and
keep the gateway's whole document in ``raw`` (non-integer numbers there are ``Decimal``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Mapping, Optional, Tuple, Union

from . import _native
from .enums import Channel, FundChannel, OrderState, OutcomeStatus, ResultCode

if TYPE_CHECKING:
    from dataclasses import dataclass, field
else:  # the same frozen dataclasses, built without exec or `dataclasses` (see _record.py)
    from ._record import dataclass, field

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


def _enum(cls: Any, v: Any) -> Any:
    """``cls(v)``, a known value found directly in the enum's table (``cls(v)`` goes through
    the metaclass's call: about six times as long, per field of every reply)."""
    member = cls._value2member_map_.get(v)
    return member if member is not None else cls(v)


def _opt_enum(cls: Any, v: Any) -> Any:
    return None if v is None else _enum(cls, v)


class _GatewayResultRules:
    code: ResultCode

    @property
    def is_success(self) -> bool:
        return self.code.is_success


class _JsapiParamsForWechat:
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


class _OrderDetailsRules:
    state: Optional[OrderState]

    @property
    def is_paid(self) -> bool:
        """Was the money taken (paid, or paid then partly or wholly refunded)?"""
        return self.state is not None and self.state.money_taken


class _QueryReplyShortcuts:
    order: OrderDetails

    @property
    def state(self) -> Optional[OrderState]:
        return self.order.state

    @property
    def amount_fen(self) -> Optional[int]:
        return self.order.amount_fen

    @property
    def amount(self) -> Optional[Decimal]:
        return self.order.amount


def _rebuild(cls: Any, state: Dict[str, Any]) -> Any:
    o = object.__new__(cls)
    o.__dict__.update(state)
    return o


class _NotificationShortcuts:
    # Its charge_code, state and amount are fields: every notification has them.
    order: OrderDetails

    @property
    def is_paid(self) -> bool:
        return self.order.is_paid

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickled or copied (a task queue, deepcopy): the fields, without the verified native
        # notification, so a copy is data and `process_once` takes only what
        # `parse_notification` returned.
        return (_rebuild, (type(self), {k: v for k, v in self.__dict__.items() if k != "_native"}))


# Goods (built by callers, checked natively) and the reply records below are generated from the
# core's structs (their fields, types and docs), with the extras above as their bases.
# --- generated from core/src/models.rs (scripts/gen-foreign.py)
@dataclass(frozen=True, init=False)
class Goods:
    """One item of ``GOODS_DETAIL`` (appendix 1).

    Give each amount in yuan (a ``str`` or a ``Decimal``, never a ``float``) or in integer
    fen (``x_fen``); an unset field takes the core's default. The values are checked when
    built: a wrong one raises ``TypeError`` or ``ValidationError`` naming the argument."""

    #: ``GOOD_ID``.
    id: str
    #: ``GOOD_NAME``.
    name: str
    #: ``GOOD_CLASS``.
    class_: str
    #: ``GOOD_PRICE``: the unit price (yuan on the wire). Here: integer fen.
    price_fen: int
    #: ``GOOD_SUBJECT``.
    subject: str
    #: ``GOOD_QUANTITY`` (in a request, 1 unless set: ``Goods::DEFAULT_QUANTITY``).
    quantity: int
    #: ``GOOD_SHOWURL``.
    show_url: Optional[str]

    def __init__(
        self,
        *,
        id: str,
        name: str,
        class_: str,
        subject: str,
        price: Optional[YuanLike] = None,
        price_fen: Optional[int] = None,
        quantity: Optional[int] = None,
        show_url: Optional[str] = None,
    ) -> None:
        native, fields = _native.goods(
            {
                "id": id,
                "name": name,
                "class_": class_,
                "subject": subject,
                "price": price,
                "price_fen": price_fen,
                "quantity": quantity,
                "show_url": show_url,
            }
        )
        for k, v in fields.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_native", native)

    @property
    def price(self) -> Decimal:
        """``price_fen`` in yuan."""
        return yuan(self.price_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> Goods:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            id=d.get("id", ""),
            name=d.get("name", ""),
            class_=d.get("class", ""),
            price_fen=int(d["price_fen"]),
            subject=d.get("subject", ""),
            quantity=int(d["quantity"]),
            show_url=d.get("show_url"),
        )
        return o

    def _checked(self) -> Any:
        """The checked item a request sends (checked now when built from a reply)."""
        native = self.__dict__.get("_native")
        if native is None:
            native, _ = _native.goods(
                {
                    "_from_reply": True,
                    "id": self.id,
                    "name": self.name,
                    "class_": self.class_,
                    "price_fen": self.price_fen,
                    "subject": self.subject,
                    "quantity": self.quantity,
                    "show_url": self.show_url,
                }
            )
            object.__setattr__(self, "_native", native)
        return native

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            type(self)._from_native,
            (
                {
                    "id": self.id,
                    "name": self.name,
                    "class": self.class_,
                    "price_fen": self.price_fen,
                    "subject": self.subject,
                    "quantity": self.quantity,
                    "show_url": self.show_url,
                },
            ),
        )


@dataclass(frozen=True)
class GatewayResult(_GatewayResultRules):
    """``RESULT``: the result code and the gateway's message."""

    #: ``CODE``.
    code: ResultCode
    #: ``INFO``.
    info: str

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> GatewayResult:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            code=_enum(ResultCode, d["code"]),
            info=d.get("info", ""),
        )
        return o


@dataclass(frozen=True)
class FundBill:
    """One item of ``FUND_BILL_LIST.TRADEFUNDBILL``: how much came from which funding source."""

    #: ``FUND_CHANNEL`` (appendix 3).
    fund_channel: FundChannel
    #: ``AMOUNT``, in yuan on the wire. Here: integer fen.
    amount_fen: int

    @property
    def amount(self) -> Decimal:
        """``amount_fen`` in yuan."""
        return yuan(self.amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FundBill:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            fund_channel=_enum(FundChannel, d["fund_channel"]),
            amount_fen=int(d["amount_fen"]),
        )
        return o


@dataclass(frozen=True)
class JsapiParams(_JsapiParamsForWechat):
    """WeChat JSAPI pay parameters (§4.5), to hand to ``WeixinJSBridge`` / ``wx.chooseWXPay``."""

    #: ``appId``.
    app_id: str
    #: ``timeStamp``.
    time_stamp: str
    #: ``nonceStr``.
    nonce_str: str
    #: ``packageData`` (``prepay_id=…``): WeChat's ``package``.
    package: str
    #: ``signType``.
    sign_type: str
    #: ``sign``: WeChat's ``paySign``.
    pay_sign: str

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> JsapiParams:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            app_id=d.get("app_id", ""),
            time_stamp=d.get("time_stamp", ""),
            nonce_str=d.get("nonce_str", ""),
            package=d.get("package", ""),
            sign_type=d.get("sign_type", ""),
            pay_sign=d.get("pay_sign", ""),
        )
        return o


@dataclass(frozen=True)
class OrderReply:
    """``ORDER_RESP``: the reply to micropay (§2.5) and to QR/JSAPI orders (§3.5, §4.4)."""

    #: ``RESULT``.
    result: GatewayResult
    #: ``CHARGE_CODE``.
    charge_code: Optional[str]
    #: ``CHARGE_DOWN_CODE``: the gateway's order number.
    charge_down_code: Optional[str]
    #: ``CHARGE_THIRD_CODE``: the channel's transaction id.
    charge_third_code: Optional[str]
    #: ``CHANNEL_TYPE``.
    channel: Optional[Channel]
    #: ``STATE``, when the gateway includes it.
    state: Optional[OrderState]
    #: ``AMT``, in fen on the wire. Here: integer fen.
    amount_fen: Optional[int]
    #: ``MERCHANTPARA``.
    merchant_para: Optional[str]
    #: ``DYNAMIC_ID``: the customer's payment code, when the reply gives it (possibly masked,
    #: ``1307**********4036``). The till flow compares it with the request's.
    dynamic_id: Optional[str]
    #: ``FUND_BILL_LIST``.
    fund_bills: List[FundBill]
    #: ``OPER_ID``.
    oper_id: Optional[str]
    #: ``DEV_ID``.
    dev_id: Optional[str]
    #: ``BEGIN_TIME`` (``YYYY-MM-DD hh:mm:ss``, UTC+8).
    begin_time: Optional[str]
    #: ``BAR_CODE``: the payment link to render as a QR code (QR orders).
    bar_code: Optional[str]
    #: The six JSAPI pay parameters (JSAPI orders).
    jsapi: Optional[JsapiParams]
    #: The whole reply document.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @property
    def amount(self) -> Optional[Decimal]:
        """``amount_fen`` in yuan."""
        return _opt_yuan(self.amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> OrderReply:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            result=GatewayResult._from_native(d["result"]),
            charge_code=d.get("charge_code"),
            charge_down_code=d.get("charge_down_code"),
            charge_third_code=d.get("charge_third_code"),
            channel=_opt_enum(Channel, d.get("channel")),
            state=_opt_enum(OrderState, d.get("state")),
            amount_fen=d.get("amount_fen"),
            merchant_para=d.get("merchant_para"),
            dynamic_id=d.get("dynamic_id"),
            fund_bills=[FundBill._from_native(x) for x in (d.get("fund_bills") or [])],
            oper_id=d.get("oper_id"),
            dev_id=d.get("dev_id"),
            begin_time=d.get("begin_time"),
            bar_code=d.get("bar_code"),
            jsapi=None if d.get("jsapi") is None else JsapiParams._from_native(d["jsapi"]),
            raw=dict(d.get("raw") or {}),
        )
        return o


@dataclass(frozen=True)
class OrderDetails(_OrderDetailsRules):
    """``QUERY_RESP`` (§7.2) and, with the same fields, ``PAY_NODIFY`` (§5.2): an order's details."""

    #: ``BUSI_ID``.
    busi_id: Optional[str]
    #: ``CHARGE_CODE``.
    charge_code: Optional[str]
    #: ``CHARGE_DOWN_CODE``.
    charge_down_code: Optional[str]
    #: ``CHARGE_THIRD_CODE``.
    charge_third_code: Optional[str]
    #: ``CHANNEL_TYPE``.
    channel: Optional[Channel]
    #: ``STATE``.
    state: Optional[OrderState]
    #: ``AMT``, in fen on the wire. Here: integer fen.
    amount_fen: Optional[int]
    #: ``realAMT`` (yuan on the wire): what the customer actually paid after discounts. Here:
    #: integer fen.
    real_amount_fen: Optional[int]
    #: ``PAY_SUBJECT``.
    pay_subject: Optional[str]
    #: ``OPER_ID``.
    oper_id: Optional[str]
    #: ``DEV_ID``.
    dev_id: Optional[str]
    #: ``REGISTER_ID``.
    register_id: Optional[str]
    #: ``MERCHANTPARA``.
    merchant_para: Optional[str]
    #: ``DYNAMIC_ID``.
    dynamic_id: Optional[str]
    #: ``GOODS_DETAIL``.
    goods: List[Goods]
    #: ``FUND_BILL_LIST``.
    fund_bills: List[FundBill]
    #: ``BEGIN_TIME``.
    begin_time: Optional[str]
    #: ``END_TIME``.
    end_time: Optional[str]

    @property
    def amount(self) -> Optional[Decimal]:
        """``amount_fen`` in yuan."""
        return _opt_yuan(self.amount_fen)

    @property
    def real_amount(self) -> Optional[Decimal]:
        """``real_amount_fen`` in yuan."""
        return _opt_yuan(self.real_amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> OrderDetails:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            busi_id=d.get("busi_id"),
            charge_code=d.get("charge_code"),
            charge_down_code=d.get("charge_down_code"),
            charge_third_code=d.get("charge_third_code"),
            channel=_opt_enum(Channel, d.get("channel_type")),
            state=_opt_enum(OrderState, d.get("state")),
            amount_fen=d.get("amount_fen"),
            real_amount_fen=d.get("real_amount_fen"),
            pay_subject=d.get("pay_subject"),
            oper_id=d.get("oper_id"),
            dev_id=d.get("dev_id"),
            register_id=d.get("register_id"),
            merchant_para=d.get("merchant_para"),
            dynamic_id=d.get("dynamic_id"),
            goods=[Goods._from_native(x) for x in (d.get("goods") or [])],
            fund_bills=[FundBill._from_native(x) for x in (d.get("fund_bills") or [])],
            begin_time=d.get("begin_time"),
            end_time=d.get("end_time"),
        )
        return o


@dataclass(frozen=True)
class QueryReply(_QueryReplyShortcuts):
    """``QUERY_RESP`` (§7.2)."""

    #: ``RESULT``.
    result: GatewayResult
    #: The order.
    order: OrderDetails
    #: The whole reply document.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> QueryReply:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            result=GatewayResult._from_native(d["result"]),
            order=OrderDetails._from_native(d),
            raw=dict(d.get("raw") or {}),
        )
        return o


@dataclass(frozen=True)
class RefundReply:
    """``REFUND_RESP`` (§6.4)."""

    #: ``RESULT``.
    result: GatewayResult
    #: ``CHANNEL_TYPE``.
    channel: Optional[Channel]
    #: ``FUND_BILL_LIST``: where the refund went.
    fund_bills: List[FundBill]
    #: ``CHARGE_CODE``, when included.
    charge_code: Optional[str]
    #: ``CHARGE_DOWN_CODE`` (the gateway's order number), when included.
    charge_down_code: Optional[str]
    #: ``OUT_REFUND_NO``, when included.
    out_refund_no: Optional[str]
    #: ``STATE`` of the order after the refund, when included: in a successful reply, 4 (partially
    #: refunded) or 5 (refunded); any other is a ``Decode`` error (``outcome_unknown``).
    state: Optional[OrderState]
    #: The whole reply document.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> RefundReply:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            result=GatewayResult._from_native(d["result"]),
            channel=_opt_enum(Channel, d.get("channel")),
            fund_bills=[FundBill._from_native(x) for x in (d.get("fund_bills") or [])],
            charge_code=d.get("charge_code"),
            charge_down_code=d.get("charge_down_code"),
            out_refund_no=d.get("out_refund_no"),
            state=_opt_enum(OrderState, d.get("state")),
            raw=dict(d.get("raw") or {}),
        )
        return o


@dataclass(frozen=True)
class CancelReply:
    """``CANCELTRADE_RESP`` (§8.2)."""

    #: ``RESULT``.
    result: GatewayResult
    #: ``CHARGE_CODE``, when the reply names the order (the gateway's documented reply names none).
    #: The client refuses a reply naming another order than the request's.
    charge_code: Optional[str]
    #: ``STATE`` of the order, when the reply shows it (the documented reply does not): in a
    #: confirmation (``SUCCESS``, ``AREADY_REVOKED``), 2 (cancelled), 3 (cancel applied for) or 6
    #: (closed); any other (paid, say) is a ``Decode`` error (``outcome_unknown``).
    state: Optional[OrderState]
    #: The whole reply document.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> CancelReply:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            result=GatewayResult._from_native(d["result"]),
            charge_code=d.get("charge_code"),
            state=_opt_enum(OrderState, d.get("state")),
            raw=dict(d.get("raw") or {}),
        )
        return o


@dataclass(frozen=True)
class FlowOrder:
    """The ``flow`` node of a top-up reply (§9.4)."""

    #: ``id``.
    id: Optional[str]
    #: ``phoneNo``.
    phone_no: Optional[str]
    #: ``flowVal`` (MB).
    flow_val: Optional[int]
    #: ``flowType``.
    flow_type: Optional[str]
    #: ``busiCode``.
    busi_code: Optional[str]
    #: ``orderID``: the gateway's order number.
    order_id: Optional[str]
    #: ``platOrderID``: the top-up platform's order number.
    plat_order_id: Optional[str]
    #: ``creatTime`` (sic).
    create_time: Optional[str]
    #: ``status``: 0 created, 1 in progress, 2 done, 3 failed.
    status: Optional[str]

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FlowOrder:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            id=d.get("id"),
            phone_no=d.get("phone_no"),
            flow_val=d.get("flow_val"),
            flow_type=d.get("flow_type"),
            busi_code=d.get("busi_code"),
            order_id=d.get("order_id"),
            plat_order_id=d.get("plat_order_id"),
            create_time=d.get("create_time"),
            status=d.get("status"),
        )
        return o


@dataclass(frozen=True)
class FlowRechargeReply:
    """The top-up reply (§9.5): lower-case ``result`` and ``flow`` at the top level."""

    #: ``result``.
    result: GatewayResult
    #: ``flow``.
    flow: Optional[FlowOrder]
    #: The whole reply document.
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FlowRechargeReply:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            result=GatewayResult._from_native(d["result"]),
            flow=None if d.get("flow") is None else FlowOrder._from_native(d["flow"]),
            raw=dict(d.get("raw") or {}),
        )
        return o


@dataclass(frozen=True)
class Notification(_NotificationShortcuts):
    """``PAY_NODIFY`` (§5): the gateway's payment notification."""

    #: ``CHARGE_CODE``: the merchant's order number, as in ``order``. Every notification has it (a
    #: delivery without it is refused).
    charge_code: str
    #: ``STATE``: the order's state, as in ``order``. Every notification has it.
    state: OrderState
    #: ``AMT``, in fen on the wire: the order's amount, as in ``order``. Every notification has it.
    #: Here: integer fen.
    amount_fen: int
    #: The order, as a query reply gives it.
    order: OrderDetails
    #: The whole notification document.
    raw: Dict[str, Any] = field(repr=False, compare=False)
    #: The key under which this notification is processed once: merchant, order, state and amount in
    #: fen (a later state of the same order, e.g. refunded, is a new event, and so is one for
    #: another amount, which a handler that refuses it must not make the right one look done). The
    #: gateway delivers the same notification up to 30 times: keep the key (e.g. under a unique
    #: constraint).
    idempotency_key: str

    @property
    def amount(self) -> Decimal:
        """``amount_fen`` in yuan."""
        return yuan(self.amount_fen)

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> Notification:
        """From the core's form (its values are the core's own: not checked again)."""
        o = object.__new__(cls)
        o.__dict__.update(
            charge_code=d.get("charge_code", ""),
            state=_enum(OrderState, d["state"]),
            amount_fen=int(d["amount_fen"]),
            order=OrderDetails._from_native(d["order"]),
            raw=dict(d.get("raw") or {}),
            idempotency_key=str(d["idempotency_key"]),
        )
        return o


# --- end of generated


class _PaymentOutcomeRules:
    status: OutcomeStatus
    result_code: Optional[ResultCode]

    @property
    def is_paid(self) -> bool:
        """Was the customer charged (and not reversed)?"""
        return self.status is OutcomeStatus.PAID

    @property
    def code(self) -> Optional[ResultCode]:
        """The same as :attr:`result_code` (the name of earlier versions)."""
        return self.result_code


# --- generated from core/src/flows.rs (scripts/gen-foreign.py)
@dataclass(frozen=True)
class PaymentOutcome(_PaymentOutcomeRules):
    """The result of a flow."""

    status: OutcomeStatus
    """How it ended: ``Paid``, ``Failed``, ``Cancelled``, ``Pending`` (waiting for a QR or JSAPI order only), ``Unresolved`` (query the charge code later before doing anything else) or ``Conflict`` (the charge code belongs to another payment, which was left untouched)."""
    charge_code: str
    """The merchant's order number."""
    order: Optional[OrderDetails]
    """The order as last seen (always present when paid; for ``Conflict``, the other order)."""
    result_code: Optional[ResultCode]
    """The gateway code behind a failure, when there is one."""
    reason: str
    """Why, in words."""
    queries: int
    """How many queries were made."""

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> PaymentOutcome:
        return cls(
            status=OutcomeStatus(d["status"]),
            charge_code=str(d.get("charge_code") or ""),
            order=None if d.get("order") is None else OrderDetails._from_native(d["order"]),
            result_code=_opt_enum(ResultCode, d.get("code")),
            reason=str(d.get("reason") or ""),
            queries=int(d.get("queries") or 0),
        )
# --- end of generated


# --- generated from core/src/client.rs (scripts/gen-foreign.py)
@dataclass(frozen=True)
class RequestLog:
    """One attempt of one request, for logging and metrics. Never contains the key or the body."""

    operation: str
    """``preOrder``, ``order``, ``refund``, ``query``, ``cancelTrade`` or ``flowRecharge``."""
    charge_code: Optional[str]
    """The order concerned, when there is one."""
    attempt: int
    """1 for the first attempt."""
    duration: float
    """Time from sending to the decoded reply or the error. In seconds."""
    http_status: Optional[int]
    """The HTTP status, when a reply arrived."""
    result_code: Optional[str]
    """``RESULT.CODE``, when a reply was decoded."""
    order_state: Optional[str]
    """The order's ``STATE`` in the reply (wire text, e.g. ``"0"``), when it has one."""
    error: Optional[str]
    """The error, when the attempt failed."""
# --- end of generated


# --- generated from core/src/flows.rs FlowEvent (scripts/gen-foreign.py)
#: What a flow is doing (see :class:`FlowEvent`).
FlowEventKind = Literal["sending", "waiting", "queried", "cancelling", "done"]


@dataclass(frozen=True)
class FlowEvent:
    """What a flow is doing, for a progress display ("waiting for the customer… 12 s"). Events come
    in order: ``Sending`` first (the till flow only), ``Done`` last. For ``micropay_and_wait`` /
    ``wait_for_payment``.

    * ``"sending"``: The micropay request is being sent.
    * ``"waiting"``: The payment is not settled yet: the gateway holds it while the customer
      confirms, or its outcome is being settled by querying.
    * ``"queried"``: A query answered; ``state`` is the order's state when the gateway showed one.
    * ``"cancelling"``: The flow is cancelling the order: at the deadline, or because cancelling was
      requested.
    * ``"done"``: The flow ended with this status.
    """

    kind: FlowEventKind
    #: Seconds since the flow started.
    elapsed: float
    #: ``"queried"``: The order's state, when the gateway showed one.
    state: Optional[OrderState] = None
    #: ``"cancelling"``: ``true`` when the caller cancelled (rather than the deadline passing).
    requested: Optional[bool] = None
    #: ``"done"``: The final status (the same as the returned outcome's).
    status: Optional[OutcomeStatus] = None

    @classmethod
    def _from_native(cls, d: Mapping[str, Any]) -> FlowEvent:
        return cls(
            kind=d["kind"],
            elapsed=float(d["elapsed"]),
            state=_opt_enum(OrderState, d.get("state")),
            requested=d.get("requested"),
            status=_opt_enum(OutcomeStatus, d.get("status")),
        )
# --- end of generated
