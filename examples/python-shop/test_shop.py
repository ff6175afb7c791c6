"""The shop's tests: against the sandbox gateway, with nothing but ``sosopay.testing`` (and
``sosopay.sign_body``, to sign the refund notifications the sandbox does not send).

The ``sosopay_sandbox`` fixture (installed with sosopay) is a fresh in-process gateway for
each test; ``codes`` are the customer's test payment codes; ``sb.pay`` / ``sb.fail`` play the
customer of a QR order; ``sb.faults`` makes the gateway misbehave; ``sb.ledger()`` and
``sb.notifications()`` are the gateway's side of the story.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, Iterator, Optional

import pytest

import sosopay
from shop import Shop, serving
from sosopay.testing import Sandbox, codes


class ShopUrl:
    """Calls the running shop over HTTP, as its front end would."""

    def __init__(self, url: str, shop: Shop) -> None:
        self.url = url
        self.shop = shop

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                out: Dict[str, Any] = json.loads(resp.read())
        except urllib.error.HTTPError as e:
            out = json.loads(e.read())
            out["http_status"] = e.code
        return out

    def order(self, order_id: str, refresh: bool = False) -> Dict[str, Any]:
        return self.call("GET", f"/orders/{order_id}" + ("?refresh=1" if refresh else ""))


@pytest.fixture
def shop(sosopay_sandbox: Sandbox) -> Iterator[ShopUrl]:
    # The client's own polling is not scaled by the sandbox: poll fast in tests.
    s = Shop(sosopay_sandbox.client(), key=sosopay_sandbox.key, poll_interval=0.05)
    with serving(s) as url:
        yield ShopUrl(url, s)


def test_checkout_then_the_customer_pays(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    r = shop.call("POST", "/checkout", {"order_id": "A-1", "amount": "12.50"})
    assert r["qr"].startswith("weixin://") and r["status"] == "pending"
    gateway = sb.order("A-1")  # the gateway's side: awaiting payment
    assert gateway is not None and gateway.amount_fen == 1250 and not gateway.is_paid

    sb.pay("A-1")  # the customer scans the QR code and pays
    sb.wait_for_notification("A-1")  # the gateway told the shop, and the shop answered 200

    o = shop.order("A-1")
    assert o["status"] == "paid" and o["shipments"] == 1
    assert [n.http_status for n in sb.notifications("A-1")] == [200]


def test_the_customer_declines(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    shop.call("POST", "/checkout", {"order_id": "A-2", "amount": "3.00"})
    sosopay_sandbox.fail("A-2")  # declined: the gateway closes the order, no notification
    assert shop.order("A-2")["status"] == "pending"
    assert shop.order("A-2", refresh=True)["status"] == "failed"
    assert sosopay_sandbox.notifications("A-2") == []


def test_an_order_id_used_before_is_never_taken_for_paid(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    # Someone else's order of 1.00 under the same id, already paid.
    sb.client().create_qr_order(charge_code="A-9", amount="1.00", channel="2", pay_subject="other")
    sb.pay("A-9")
    r = shop.call("POST", "/checkout", {"order_id": "A-9", "amount": "10.00"})
    assert r["http_status"] == 502  # SERIAL_REPEAT: the outcome is unknown
    r = shop.order("A-9", refresh=True)
    assert r["http_status"] == 409 and "100 fen, not 1000" in r["error"], r
    assert shop.order("A-9")["status"] == "unknown" and shop.order("A-9")["shipments"] == 0


def test_duplicate_notifications_ship_once(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    sb.faults.add("notify:duplicate:1")  # every accepted notification is sent once more
    shop.call("POST", "/checkout", {"order_id": "A-3", "amount": "8.00"})
    sb.pay("A-3")
    sb.wait_for_notification("A-3", count=2)
    assert [n.duplicate for n in sb.notifications("A-3")] == [False, True]
    assert shop.order("A-3")["shipments"] == 1


def test_forged_notifications_are_refused_and_the_genuine_retry_is_processed(
    shop: ShopUrl, sosopay_sandbox: Sandbox
) -> None:
    sb = sosopay_sandbox
    sb.faults.add("notify:bad_sign:1")  # every delivery carries a wrong signature
    shop.call("POST", "/checkout", {"order_id": "A-4", "amount": "8.00"})
    sb.pay("A-4")
    first = sb.wait_for_notification("A-4", accepted=False)
    assert first[0].http_status == 400 and first[0].fault == "bad_sign"
    assert shop.order("A-4")["shipments"] == 0  # never act on an unverified notification

    sb.faults.clear()  # the gateway's next attempts are genuine
    sb.wait_for_notification("A-4")
    assert shop.order("A-4")["status"] == "paid" and shop.order("A-4")["shipments"] == 1


def test_a_webhook_that_was_down_catches_up(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    shop.call("POST", "/checkout", {"order_id": "A-5", "amount": "1.00"})
    sb.faults.add("notify:garble:1")  # deliveries arrive corrupted: the shop refuses them
    sb.pay("A-5")
    sb.wait_for_notification("A-5", count=2, accepted=False)
    sb.faults.clear()
    sb.wait_for_notification("A-5")
    attempts = sb.notifications("A-5")
    assert attempts[0].http_status == 400 and attempts[-1].http_status == 200
    assert shop.order("A-5")["shipments"] == 1


def notify(shop: ShopUrl, sb: Sandbox, order_id: str, state: str, amount_fen: int) -> int:
    """Posts a genuine (signed) notification of `order_id` in `state` to the shop's webhook, as
    the gateway does for a refund (the sandbox sends only the paid state's); answers the status."""
    body = json.dumps({"PAY_NODIFY": {"BUSI_ID": sb.busi_code, "CHARGE_CODE": order_id, "STATE": state, "AMT": amount_fen}})
    query = f"_type=json&sign={sosopay.sign_body(sb.key, body)}"
    req = urllib.request.Request(f"{shop.url}/webhook?{query}", data=body.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        status: int = resp.status
    return status


def test_refund_notifications_never_ship_again(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    shop.call("POST", "/checkout", {"order_id": "A-7", "amount": "10.00"})
    sb.pay("A-7")
    sb.wait_for_notification("A-7")
    assert shop.order("A-7")["shipments"] == 1
    shop.call("POST", "/refund", {"order_id": "A-7", "amount": "3.00"})
    assert notify(shop, sb, "A-7", "4", 1000) == 200  # partly refunded: a new notification
    shop.call("POST", "/refund", {"order_id": "A-7", "amount": "7.00"})
    assert notify(shop, sb, "A-7", "5", 1000) == 200  # refunded
    o = shop.order("A-7")
    assert (o["status"], o["shipments"], o["gateway_refund"]) == ("paid", 1, "REFUNDED")


def test_an_order_first_heard_of_as_refunded_is_never_shipped(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    # The paid state's deliveries all failed: the first notification the shop sees is a refund.
    sb = sosopay_sandbox
    shop.call("POST", "/checkout", {"order_id": "A-8", "amount": "10.00"})
    assert notify(shop, sb, "A-8", "5", 1000) == 200
    o = shop.order("A-8")
    assert (o["status"], o["shipments"], o["gateway_refund"]) == ("review", 0, "REFUNDED")
    assert notify(shop, sb, "A-8", "1", 1000) == 200  # its paid state, delivered late
    assert shop.order("A-8")["shipments"] == 0


def test_refresh_of_an_order_refunded_meanwhile_ships_nothing(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    shop.call("POST", "/checkout", {"order_id": "A-10", "amount": "10.00"})
    sb.faults.add("notify:garble:1")  # the shop never hears of the payment
    sb.pay("A-10")
    sb.client().refund(charge_code="A-10", out_refund_no="A-10-R", refund_amount="10.00", refund_subject="back")
    o = shop.order("A-10", refresh=True)
    assert (o["status"], o["shipments"], o["gateway_refund"]) == ("review", 0, "REFUNDED")


def test_gateway_down_at_checkout(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sosopay_sandbox.faults.add("order:http503:1")  # not processed: no order at the gateway
    r = shop.call("POST", "/checkout", {"order_id": "A-6", "amount": "1.00"})
    assert r["http_status"] == 502
    assert sosopay_sandbox.order("A-6") is None
    assert sosopay_sandbox.ledger().faults.injected == {"order:http503": 1}


@pytest.mark.parametrize(
    ("payment_code", "status"),
    [
        (codes.PAY_NOW, "paid"),
        (codes.PAYS_AFTER_3S, "paid"),  # confirms slowly on the phone (3 s, scaled)
        (codes.USER_PAYING, "paid"),  # "user paying": the client polls until paid
        (codes.REPLY_LOST, "paid"),  # the reply is lost: the client queries and finds it paid
        (codes.INSUFFICIENT_FUNDS, "failed"),
        (codes.NEVER_CONFIRMS, "cancelled"),  # never confirms: cancelled at the end of the hold
    ],
)
def test_till(shop: ShopUrl, sosopay_sandbox: Sandbox, payment_code: str, status: str) -> None:
    r = shop.call("POST", "/till", {"order_id": "T-1", "amount": "4.20", "payment_code": payment_code})
    assert r["status"] == status, r
    gateway = sosopay_sandbox.order("T-1")
    assert gateway is not None and gateway.is_paid == (status == "paid")
    assert shop.order("T-1")["shipments"] == (1 if status == "paid" else 0)


def test_till_reply_lost_in_transit(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    # The gateway charges the customer but the reply never arrives: the shop must not charge
    # twice nor give up; the SDK's flow queries and settles it.
    sosopay_sandbox.faults.add("preOrder:drop_reply:1")
    r = shop.call("POST", "/till", {"order_id": "T-2", "amount": "4.20", "payment_code": codes.PAY_NOW})
    assert r["status"] == "paid", r
    assert sosopay_sandbox.ledger().requests["preOrder"] == 1  # never re-sent


def test_refunds(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    shop.call("POST", "/till", {"order_id": "R-1", "amount": "10.00", "payment_code": codes.PAY_NOW})
    r1 = shop.call("POST", "/refund", {"order_id": "R-1", "amount": "3.00", "refund_id": "RF-1"})
    assert r1["state"] == "PARTIALLY_REFUNDED" and r1["refunded_fen"] == 300
    again = shop.call("POST", "/refund", {"order_id": "R-1", "amount": "3.00", "refund_id": "RF-1"})
    assert again["refunded_fen"] == 300  # the same refund, retried: counted once
    too_much = shop.call("POST", "/refund", {"order_id": "R-1", "amount": "8.00"})
    assert too_much["http_status"] == 409
    rest = shop.call("POST", "/refund", {"order_id": "R-1", "amount": "7.00"})
    assert rest["state"] == "REFUNDED"

    ledger = sb.ledger()
    order = ledger.order("R-1")
    assert order is not None and order.refunded_fen == order.amount_fen == 1000
    assert [(r.out_refund_no, r.amount_fen, r.replays) for r in ledger.refunds_of("R-1")] == [
        ("RF-1", 300, 1),
        ("R-1-R2", 700, 0),
    ]


def test_reconciliation(shop: ShopUrl, sosopay_sandbox: Sandbox) -> None:
    """The shop's books against the gateway's ledger after a mixed day."""
    sb = sosopay_sandbox
    for i, code in enumerate([codes.PAY_NOW, codes.INSUFFICIENT_FUNDS, codes.PAYS_AFTER_3S]):
        shop.call("POST", "/till", {"order_id": f"D-{i}", "amount": "2.00", "payment_code": code})
    shop.call("POST", "/checkout", {"order_id": "D-Q", "amount": "5.00"})
    sb.pay("D-Q")
    sb.wait_for_notification("D-Q")

    ledger = sb.ledger()
    gateway_paid = {o.charge_code for o in ledger.orders if o.is_paid}
    shop_paid = {o.order_id for o in shop.shop.orders.values() if o.status == "paid"}
    assert gateway_paid == shop_paid == {"D-0", "D-2", "D-Q"}
    assert ledger.paid_fen == sum(o.amount_fen for o in shop.shop.orders.values() if o.status == "paid")
    assert all(o.shipments == (1 if o.status == "paid" else 0) for o in shop.shop.orders.values())


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", "-Infinity", "1e400", "0", "-1", "1.001", None])
def test_an_amount_that_is_not_positive_yuan_is_a_400(shop: ShopUrl, amount: Any) -> None:
    r = shop.call("POST", "/checkout", {"order_id": "BAD-1", "amount": amount})
    assert r["http_status"] == 400 and "amount" in r["error"], r
