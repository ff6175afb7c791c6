"""Amounts (never float), enums, errors mapping, and the key never shown."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from decimal import Decimal
from typing import Any, Dict, Tuple, Type

import pytest

import sosopay
from sosopay import _native, errors

KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"


def offline_client() -> sosopay.Client:
    # Validation happens before anything is sent: no server needed.
    return sosopay.Client(
        busi_code="0010000001", key=KEY, base_url="http://127.0.0.1:9/openGateway/openService/"
    )


def micropay(client: sosopay.Client, **kw: Any) -> sosopay.OrderReply:
    args: dict[str, Any] = dict(
        charge_code="C-1", dynamic_id="130730865806264036", pay_subject="x", oper_id="o", dev_id="d"
    )
    args.update(kw)
    return client.micropay(**args)


def test_float_is_refused_with_a_clear_type_error() -> None:
    c = offline_client()
    with pytest.raises(TypeError, match="float is not accepted"):
        micropay(c, amount=0.01)
    with pytest.raises(TypeError, match="float"):
        c.refund(charge_code="C-1", out_refund_no="R-1", refund_amount=1.5, refund_subject="r")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sosopay.Goods(id="1", name="n", class_="c", subject="s", price=2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        micropay(c, amount_fen=1.0)
    with pytest.raises(TypeError, match="ambiguous"):
        micropay(c, amount=12)
    with pytest.raises(TypeError):
        micropay(c, amount_fen=True)


def test_amounts_are_exact() -> None:
    assert _native.to_fen("158.00") == 15800
    assert _native.to_fen("0.1") == 10
    assert _native.to_fen(Decimal("0.01")) == 1
    assert _native.to_fen(Decimal("1E+2")) == 10000
    assert _native.to_fen(Decimal("12.500")) == 1250
    assert _native.to_fen(Decimal("1.00000000000000000000000000000000000000000000000000")) == 100
    assert _native.to_fen(Decimal("0E-1000")) == 0


def test_a_decimal_with_a_huge_exponent_is_refused_in_a_few_words() -> None:
    # Written out, 1E+30000000 is 30 million digits: the error quoted them all (and 1E+10**11
    # raised MemoryError). The short form is quoted instead.
    for value, why in [
        ("1E+30000000", "too large"),
        ("1E+100000000000", "too large"),
        ("1E-30000000", "more than two decimals"),
        ("1E+17", "too large"),
    ]:
        with pytest.raises(sosopay.ValidationError, match=why) as e:
            _native.to_fen(Decimal(value))
        assert len(str(e.value)) < 200, value
    assert _native.to_fen(7, fen=True) == 7
    assert sosopay.yuan(15800) == Decimal("158.00")
    assert sosopay.yuan(1) == Decimal("0.01")
    g = sosopay.Goods(id="1", name="n", class_="c", subject="s", price=Decimal("2.5"), quantity=2)
    assert g.price_fen == 250 and g.price == Decimal("2.50")
    assert g == sosopay.Goods(id="1", name="n", class_="c", subject="s", price_fen=250, quantity=2)


def test_a_goods_item_is_checked_when_built_and_immutable() -> None:
    g = sosopay.Goods(id="1", name="n", class_="c", subject="s", price_fen=250)
    assert (g.quantity, g.show_url, g.class_) == (1, None, "c")  # the core's defaults
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.quantity = 3  # type: ignore[misc]
    assert hash(g) == hash(sosopay.Goods(id="1", name="n", class_="c", subject="s", price="2.50"))
    # Pickled and copied (in a reply too), it comes back equal and still usable in a request.
    assert pickle.loads(pickle.dumps(g)) == g == copy.deepcopy(g) == copy.copy(g)
    assert dataclasses.asdict(g) == {
        "id": "1", "name": "n", "class_": "c", "price_fen": 250, "subject": "s", "quantity": 1, "show_url": None
    }
    c = offline_client()
    with pytest.raises(sosopay.TransportError):  # read, checked and sent (to nowhere)
        micropay(c, amount="1.00", goods=[pickle.loads(pickle.dumps(g))])
    with pytest.raises(TypeError, match="class_"):
        sosopay.Goods(id="1", name="n", class_=5, subject="s", price="1")  # type: ignore[arg-type]
    with pytest.raises(sosopay.ValidationError) as both:
        sosopay.Goods(id="1", name="n", class_="c", subject="s", price="1", price_fen=100)
    assert both.value.field == "price"
    with pytest.raises(sosopay.ValidationError) as none:
        sosopay.Goods(id="1", name="n", class_="c", subject="s")
    assert none.value.field == "price"
    with pytest.raises(sosopay.ValidationError) as fen:
        sosopay.Goods(id="1", name="n", class_="c", subject="s", price_fen=-1)
    assert fen.value.field == "price_fen"
    # An item from a reply is checked when a request first sends it.
    replied = sosopay.Goods._from_native(
        {"id": "1", "name": "n", "class": "c", "price_fen": 250, "subject": "s", "quantity": 1, "show_url": None}
    )
    assert replied == g
    with pytest.raises(sosopay.TransportError):
        micropay(c, amount="1.00", goods=[replied])
    odd = sosopay.Goods._from_native({"id": "1", "name": "n", "class": "c", "price_fen": 1, "subject": "s", "quantity": 0})
    with pytest.raises(sosopay.ValidationError) as zero:
        micropay(c, amount="1.00", goods=[odd])
    assert zero.value.field == "goods[0].quantity"
    # A list item that is not a Goods is refused, naming it.
    with pytest.raises(TypeError, match=r"goods\[1\]"):
        micropay(c, amount="1.00", goods=[g, {"id": "1"}])
    for not_a_list in ("goods", {"id": "1"}, 5):
        with pytest.raises(TypeError, match="goods: expected a list of sosopay.Goods"):
            micropay(c, amount="1.00", goods=not_a_list)
    # Any iterable of items will do; it is read before anything is sent.
    with pytest.raises(sosopay.TransportError):
        micropay(c, amount="1.00", goods=(x for x in [g]))


@pytest.mark.parametrize("bad", ["", "-1", "1.234", "1e3", "NaN", "0x10", "1,00", "99999999999999999999"])
def test_bad_yuan_is_a_validation_error_naming_the_field(bad: str) -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        micropay(offline_client(), amount=bad)
    assert e.value.field == "amount"
    assert isinstance(e.value, ValueError)
    assert e.value.outcome_unknown is False


def test_amount_argument_rules() -> None:
    c = offline_client()
    with pytest.raises(sosopay.ValidationError) as e:
        micropay(c)
    assert e.value.field == "amount"
    with pytest.raises(sosopay.ValidationError):
        micropay(c, amount="1.00", amount_fen=100)
    with pytest.raises(sosopay.ValidationError) as e2:
        micropay(c, amount_fen=-1)
    assert e2.value.field == "amount_fen"
    with pytest.raises(sosopay.ValidationError) as e3:
        micropay(c, amount_fen=2**70)
    assert e3.value.field == "amount_fen"
    with pytest.raises(sosopay.ValidationError) as e4:
        c.refund(charge_code="C-1", out_refund_no="R-1", refund_amount="0", refund_subject="r", oper_id="o", dev_id="d")
    assert e4.value.field == "refund_amount"
    # A refund's unique number is required: without it a lost reply could not be retried safely.
    for no in ("", None):
        with pytest.raises(sosopay.ValidationError) as e7:
            c.refund(charge_code="C-1", out_refund_no=no, refund_amount="1", refund_subject="r")  # type: ignore[arg-type]
        assert e7.value.field == "out_refund_no" and "is required" in str(e7.value)
    with pytest.raises(TypeError, match="out_refund_no"):
        c.refund(charge_code="C-1", refund_amount="1", refund_subject="r")  # type: ignore[call-arg]
    with pytest.raises(sosopay.ValidationError) as e5:
        micropay(c, amount="1.00", charge_code="bad code/../x")
    assert e5.value.field == "charge_code"
    with pytest.raises(sosopay.ValidationError) as e6:  # by Goods() itself, when built
        micropay(c, amount="1.00", goods=[sosopay.Goods(id="", name="n", class_="c", subject="s", price="1")])
    assert e6.value.field == "id"


def test_client_config_validation_and_repr() -> None:
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.Client(busi_code="0010000001", key=KEY)
    assert e.value.field == "base_url"
    with pytest.raises(sosopay.ValidationError) as e2:
        sosopay.Client(busi_code="0010000001", key=KEY, environment="nowhere")
    assert e2.value.field == "environment"
    with pytest.raises(sosopay.ValidationError):
        sosopay.Client(busi_code="0010000001", key="has space", environment="uat")
    with pytest.raises(sosopay.ValidationError):
        sosopay.Client(busi_code="0010000001", key=KEY, base_url="ftp://x/")
    with pytest.raises(sosopay.ValidationError) as e3:  # it would be printed with the URL
        sosopay.Client(busi_code="0010000001", key=KEY, base_url="http://shop:s3cret@gw.example/")
    assert e3.value.field == "base_url" and "credentials" in str(e3.value) and "s3cret" not in str(e3.value)
    for env in sosopay.Environment:
        c = sosopay.Client(busi_code="0010000001", key=KEY, environment=env)
        assert "sssyin.cn" in c.base_url
        assert KEY not in repr(c) and "98SDK" not in repr(c)
    prod = sosopay.Client(busi_code="0010000001", key=KEY, environment="production")
    assert prod.base_url.startswith("https://")
    a = sosopay.AsyncClient(busi_code="0010000001", key=KEY, environment="uat", encrypt=True)
    assert KEY not in repr(a) and repr(a).startswith("sosopay.AsyncClient(")
    assert a.sync.encrypt is True
    assert KEY not in repr(sosopay.NotificationVerifier(KEY))
    # Against the vendor's gateway a hold shorter than its 80 s is refused before sending.
    with pytest.raises(sosopay.ValidationError, match="at least 80 s against the vendor's gateway") as e4:
        prod.micropay_and_wait(
            charge_code="HOLD-1", amount_fen=1, dynamic_id="130730865806264036", pay_subject="x",
            oper_id="till", dev_id="T1", gateway_hold=5,
        )
    assert e4.value.field == "gateway_hold"


def test_enums_match_the_core() -> None:
    for cls in (
        sosopay.ResultCode,
        sosopay.OrderState,
        sosopay.Channel,
        sosopay.FundChannel,
        sosopay.DynamicIdType,
        sosopay.TradeType,
        sosopay.SerType,
    ):
        core = {wire for _, wire in _native._enum_members(cls.__name__)}
        assert {m.value for m in cls} == core, cls.__name__


def test_enums_are_lenient_and_keep_unknown_codes() -> None:
    assert sosopay.OrderState("1.0") is sosopay.OrderState.PAID
    assert sosopay.OrderState(1) is sosopay.OrderState.PAID
    assert sosopay.ResultCode("SUCESS") is sosopay.ResultCode.SUCCESS
    assert sosopay.ResultCode("success") is sosopay.ResultCode.SUCCESS
    assert sosopay.Channel("02") is sosopay.Channel.WECHAT
    unknown = sosopay.ResultCode("BRAND_NEW_CODE")
    assert unknown.value == "BRAND_NEW_CODE" and not unknown.is_known
    assert unknown.name == "UNKNOWN"
    assert sosopay.Channel.WECHAT.wire == "2" and sosopay.Channel.WECHAT.is_known
    assert str(sosopay.OrderState.REFUNDED) == "5"
    assert sosopay.Delivery.IN_PROGRESS.http_status == 503
    assert sosopay.Delivery.DUPLICATE.http_status == 200


def test_error_hierarchy_maps_every_core_variant() -> None:
    cases: Dict[str, Tuple[Type[sosopay.SosopayError], Dict[str, Any]]] = {
        "validation": (sosopay.ValidationError, {"field": "amount", "reason": "r"}),
        "signature": (sosopay.SignatureError, {"reason": "r"}),
        "crypto": (sosopay.CryptoError, {"reason": "r"}),
        "decode": (sosopay.DecodeError, {"reason": "r"}),
        "gateway": (sosopay.GatewayError, {"code": "AMT_ERROR", "info": "bad amount"}),
        "http_status": (sosopay.HttpStatusError, {"status": 502, "operation": "preOrder"}),
        "transport": (sosopay.TransportError, {"operation": "query", "reason": "r", "maybe_sent": False}),
        "timeout": (sosopay.RequestTimeoutError, {"operation": "preOrder", "after_ms": 5}),
        "outcome_unknown": (
            sosopay.OutcomeUnknownError,
            {"operation": "preOrder", "charge_code": "C-9", "reason": "r"},
        ),
    }
    for kind, (cls, fields) in cases.items():
        e = errors._from_native(kind, "message", dict(fields, outcome_unknown=True, retryable=False))
        assert type(e) is cls and isinstance(e, sosopay.SosopayError)
        assert e.kind == kind and str(e) == "message" and e.outcome_unknown is True
    g = errors._from_native("gateway", "m", {"code": "AMT_ERROR", "info": "bad amount"})
    assert isinstance(g, sosopay.GatewayError)
    assert g.code is sosopay.ResultCode.AMT_ERROR and g.info == "bad amount"
    h = errors._from_native("http_status", "m", {"status": 503, "operation": "refund"})
    assert isinstance(h, sosopay.HttpStatusError) and h.status == 503 and h.operation == "refund"
    ou = errors._from_native("outcome_unknown", "m", {"charge_code": "C-9"})
    assert isinstance(ou, sosopay.OutcomeUnknownError) and ou.charge_code == "C-9"
    assert ou.outcome_unknown is True
    assert issubclass(sosopay.RequestTimeoutError, TimeoutError)
    assert sosopay.GatewayTimeoutError is sosopay.RequestTimeoutError
    assert issubclass(sosopay.ValidationError, ValueError)
    # A kind added to the core later still maps to the base class.
    assert type(errors._from_native("new_kind", "m", {"outcome_unknown": True})) is sosopay.SosopayError


def test_a_dictionary_argument_takes_the_member_its_code_or_its_name(client: sosopay.Client, code: str) -> None:
    """The core's rule for bindings (``from_name_or_wire``), as Node and Kotlin read it: the enum
    member, its wire code (``"2"`` or ``2``), or its name in any case (``"Wechat"``, as the
    testing kit's docstring writes it); an unknown text is refused, naming the argument."""
    forms: list[Any] = [sosopay.Channel.WECHAT, "2", 2, "WECHAT", "Wechat", "wechat", " WeChat "]
    for i, ch in enumerate(forms):
        r = client.create_qr_order(charge_code=f"{code}-{i}", amount="1.00", channel=ch, pay_subject="x")
        assert r.result.code is sosopay.ResultCode.SUCCESS, ch
        q = client.query(charge_code=f"{code}-{i}")
        assert q.order.channel is sosopay.Channel.WECHAT, ch
    r = client.create_qr_order(charge_code=f"{code}-a", amount="1.00", channel="alipay", pay_subject="x")
    assert client.query(charge_code=f"{code}-a").order.channel is sosopay.Channel.ALIPAY
    q = client.query(code=r.charge_down_code or "", ser_type="charge_down_code")
    assert q.order.charge_code == f"{code}-a"
    with pytest.raises(sosopay.ValidationError, match="channel") as e:
        client.create_qr_order(charge_code=f"{code}-x", amount="1.00", channel="Paypal", pay_subject="x")
    assert e.value.field == "channel"
