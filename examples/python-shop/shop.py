"""A tiny shop on the standard library (WSGI), taking payments with sosopay.

Routes (JSON in, JSON out):

``POST /checkout``  ``{"order_id", "amount"}``
    Creates a QR order (WeChat) whose notifications come to ``/webhook``; answers the QR
    code's content for the customer to scan.
``POST /till``      ``{"order_id", "amount", "payment_code"}``
    A till payment: charges the customer's scanned payment code and waits for the outcome
    (the customer may take a while to confirm on the phone).
``POST /webhook``
    The gateway's payment notifications: verified (signature, freshness), and processed
    once across its repeated deliveries: the order is marked paid and shipped exactly once.
``POST /refund``    ``{"order_id", "amount", "refund_id"?}``
    Refunds (part of) a paid order; the same ``refund_id`` is the same refund (safe to retry).
``GET /orders/<id>[?refresh=1]``
    The shop's view of an order; ``refresh=1`` asks the gateway first (for an order whose
    notification never came).

Run it against the in-process sandbox: ``python shop.py --sandbox``; against the gateway:
set ``SOSOPAY_BUSI_CODE``, ``SOSOPAY_KEY``, ``SHOP_PUBLIC_URL`` (and ``SOSOPAY_ENVIRONMENT``).
Its tests (``test_shop.py``) use nothing but ``sosopay.testing``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import urllib.parse
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from socketserver import ThreadingMixIn
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import sosopay
from sosopay import Delivery, Notification, OrderState, OutcomeStatus

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]
Environ = Dict[str, Any]


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ShopOrder:
    order_id: str
    amount_fen: int
    kind: str  # "qr" | "till"
    status: str = "pending"  # pending | paid | failed | cancelled | unknown | review
    shipments: int = 0  # goods handed over: must never exceed 1
    gateway_refund: Optional[str] = None  # the last refund state the gateway reported (never shipped)
    refunded_fen: int = 0
    refunds: Dict[str, int] = field(default_factory=dict)  # refund_id -> fen
    qr: Optional[str] = None


def _fen(amount: Any) -> int:
    try:
        d = Decimal(str(amount))
        # NaN, Infinity and 1e400 are Decimals too (the last one cannot be quantized).
        ok = d.is_finite() and d > 0 and d == d.quantize(Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok:
        raise HttpError(400, f"amount {amount!r} must be positive yuan with at most 2 decimals")
    return int(d * 100)


class Shop:
    """The shop's logic; ``wsgi`` is its web application."""

    def __init__(
        self,
        client: sosopay.Client,
        *,
        key: str,
        public_url: str = "",
        poll_interval: Optional[float] = None,
    ) -> None:
        self.client = client
        self.public_url = public_url  # where the gateway reaches /webhook
        self.poll_interval = poll_interval
        # Only this merchant's notifications: the signature proves the key, BUSI_ID the merchant.
        self.verifier = sosopay.NotificationVerifier(key, busi_code=client.busi_code)
        self.processed = sosopay.MemoryIdempotencyStore()  # use your database in production
        self.orders: Dict[str, ShopOrder] = {}
        self.lock = threading.Lock()

    # --- the shop's operations --------------------------------------------------------------

    def _new_order(self, order_id: str, amount_fen: int, kind: str) -> ShopOrder:
        with self.lock:
            if order_id in self.orders:
                raise HttpError(409, f"order {order_id} exists")
            order = self.orders[order_id] = ShopOrder(order_id, amount_fen, kind)
            return order

    def _order(self, order_id: str) -> ShopOrder:
        with self.lock:
            order = self.orders.get(order_id)
        if order is None:
            raise HttpError(404, f"no order {order_id}")
        return order

    def checkout(self, order_id: str, amount: Any) -> Dict[str, Any]:
        order = self._new_order(order_id, _fen(amount), "qr")
        try:
            reply = self.client.create_qr_order(
                charge_code=order_id,
                amount_fen=order.amount_fen,
                channel=sosopay.Channel.WECHAT,
                pay_subject=f"Order {order_id}",
                notify_url=f"{self.public_url}/webhook?_type=json",
            )
        except sosopay.SosopayError as e:
            # Nothing to pay yet: the customer may simply try again (a new order id).
            order.status = "unknown" if e.outcome_unknown else "failed"
            raise HttpError(502, f"the payment gateway failed: {e}") from None
        order.qr = reply.bar_code
        return {"order_id": order_id, "qr": reply.bar_code, "status": order.status}

    def _paid(self, order: ShopOrder) -> None:
        with self.lock:
            # Not again, nor for an order whose refund the gateway reported first (a late
            # delivery of its paid state): that one is under review.
            if order.status not in ("paid", "review"):
                order.status = "paid"
                order.shipments += 1  # ship the goods

    def _refund_reported(self, order: ShopOrder, state: OrderState) -> None:
        """The gateway says the order's money was (partly) given back, or is being: a record,
        never "paid" and never a shipment. An order the shop never saw paid (its paid state's
        notifications all failed) is for a person to look at: the money may be gone already."""
        with self.lock:
            order.gateway_refund = state.name
            if order.status in ("pending", "unknown"):
                order.status = "review"

    def till(self, order_id: str, amount: Any, payment_code: str) -> Dict[str, Any]:
        order = self._new_order(order_id, _fen(amount), "till")
        outcome = self.client.micropay_and_wait(
            charge_code=order_id,
            amount_fen=order.amount_fen,
            dynamic_id=payment_code,
            pay_subject=f"Order {order_id}",
            poll_interval=self.poll_interval,
        )
        if outcome.status is OutcomeStatus.PAID:
            self._paid(order)
        elif outcome.status in (OutcomeStatus.FAILED, OutcomeStatus.CANCELLED):
            order.status = "failed" if outcome.status is OutcomeStatus.FAILED else "cancelled"
        else:  # unresolved: the gateway could not be reached for long enough; check later
            order.status = "unknown"
        return {"order_id": order_id, "status": order.status, "reason": outcome.reason}

    def on_notification(self, note: Notification) -> None:
        """Runs once per notification (``process_once``); raising makes the gateway retry."""
        order = self._order(note.charge_code)
        if note.amount_fen != order.amount_fen:
            raise HttpError(400, f"order {order.order_id}: notified {note.amount_fen} fen, expected {order.amount_fen}")
        # Ship on the paid state only. A later state of the order (partly refunded, refunded,
        # refund under way or failed) is a notification of its own, and `is_paid` is true for
        # it too (the money was taken, maybe given back since): it is recorded, never shipped.
        if note.state is OrderState.PAID:
            self._paid(order)
        elif note.is_paid:
            self._refund_reported(order, note.state)

    def webhook(self, query: str, body: bytes) -> Tuple[int, str]:
        try:
            note = self.verifier.parse(query, body)
        except (sosopay.SignatureError, sosopay.CryptoError, sosopay.DecodeError):
            return 400, "FAIL"  # not from the gateway (or corrupted): never act on it
        try:
            delivery = sosopay.process_once(self.processed, note, self.on_notification)
        except HttpError:
            return 500, "FAIL"
        # Processed now or before: 200 (the gateway stops); in progress elsewhere: 503 (retry).
        return delivery.http_status, "SUCCESS" if delivery is not Delivery.IN_PROGRESS else "BUSY"

    def refund(self, order_id: str, amount: Any, refund_id: Optional[str]) -> Dict[str, Any]:
        order = self._order(order_id)
        if order.status != "paid":
            raise HttpError(409, f"order {order_id} is {order.status}")
        fen = _fen(amount)
        refund_no = refund_id or f"{order_id}-R{len(order.refunds) + 1}"
        try:
            reply = self.client.refund(
                charge_code=order_id,
                out_refund_no=refund_no,
                refund_amount_fen=fen,
                refund_subject=f"Refund {refund_no}",
            )
        except sosopay.GatewayError as e:
            raise HttpError(409, f"refund refused: {e}") from None
        except sosopay.SosopayError as e:
            # Unknown: retry the same refund_id; the gateway refunds it at most once.
            raise HttpError(502, f"refund {refund_no} unknown, retry it: {e}") from None
        with self.lock:
            order.refunds.setdefault(refund_no, fen)  # a retried refund_id counts once
            order.refunded_fen = sum(order.refunds.values())
        return {"order_id": order_id, "refund_id": refund_no, "refunded_fen": order.refunded_fen, "state": reply.state.name if reply.state else None}

    def refresh(self, order_id: str) -> Dict[str, Any]:
        order = self._order(order_id)
        if order.status in ("pending", "unknown"):
            q = self.client.query(charge_code=order_id)
            if q.order.amount_fen != order.amount_fen:
                # Not this order (its id used before, for another payment): never "paid".
                raise HttpError(409, f"order {order_id}: the gateway's order is for {q.order.amount_fen} fen, not {order.amount_fen}")
            if q.state is OrderState.PAID:
                self._paid(order)
            elif q.state is not None and q.state.money_taken:  # refunded since: never shipped now
                self._refund_reported(order, q.state)
            elif q.state is OrderState.CLOSED:
                order.status = "failed"
            elif q.state is OrderState.CANCELLED:
                order.status = "cancelled"
        return asdict(order)

    # --- the web application ----------------------------------------------------------------

    def wsgi(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            if method == "POST" and path == "/webhook":
                status, text = self.webhook(query, body)
                start_response(f"{status} {'OK' if status == 200 else 'Error'}", [("Content-Type", "text/plain")])
                return [text.encode()]
            data = json.loads(body or b"{}") if method == "POST" else {}
            if method == "POST" and path == "/checkout":
                result = self.checkout(str(data["order_id"]), data["amount"])
            elif method == "POST" and path == "/till":
                result = self.till(str(data["order_id"]), data["amount"], str(data["payment_code"]))
            elif method == "POST" and path == "/refund":
                result = self.refund(str(data["order_id"]), data["amount"], data.get("refund_id"))
            elif method == "GET" and path.startswith("/orders/"):
                order_id = urllib.parse.unquote(path[len("/orders/"):])
                refresh = urllib.parse.parse_qs(query).get("refresh") == ["1"]
                result = self.refresh(order_id) if refresh else asdict(self._order(order_id))
            else:
                raise HttpError(404, f"no route {method} {path}")
            status_line = "200 OK"
        except HttpError as e:
            result, status_line = {"error": str(e)}, f"{e.status} Error"
        except (KeyError, ValueError) as e:
            result, status_line = {"error": f"bad request: {e}"}, "400 Bad Request"
        start_response(status_line, [("Content-Type", "application/json")])
        return [json.dumps(result).encode()]


# --- serving ---------------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(shop: Shop, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serves the shop on a background thread; yields its URL (and sets ``shop.public_url``
    if it was empty)."""
    server = make_server(host, port, shop.wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    url = f"http://{host}:{server.server_port}"
    if not shop.public_url:
        shop.public_url = url
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: List[str]) -> int:
    port = int(os.environ.get("SHOP_PORT", "8000"))
    if "--sandbox" in argv:
        from sosopay.testing import Sandbox

        with Sandbox(time_scale=0.1) as sb, serving(Shop(sb.client(), key=sb.key), port=port) as url:
            print(f"shop at {url} on the sandbox gateway {sb.base_url}")
            print(f"  curl -s -X POST {url}/checkout -d '{{\"order_id\": \"A-1\", \"amount\": \"12.50\"}}'")
            print(f"  curl -s -X POST {sb.root_url}_sandbox/orders/A-1/pay     # the customer pays")
            print(f"  curl -s {url}/orders/A-1")
            threading.Event().wait()
        return 0
    client = sosopay.Client(
        busi_code=os.environ["SOSOPAY_BUSI_CODE"],
        key=os.environ["SOSOPAY_KEY"],
        environment=os.environ.get("SOSOPAY_ENVIRONMENT", "production"),
    )
    shop = Shop(client, key=os.environ["SOSOPAY_KEY"], public_url=os.environ["SHOP_PUBLIC_URL"])
    with serving(shop, host="0.0.0.0", port=port) as url:
        print(f"shop at {url}")
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
