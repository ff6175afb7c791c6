"""Notifications: verification, 3DES, replay window, and a WSGI webhook (the README example)
receiving real deliveries from the sandbox, processing each payment once."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import typing
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import sosopay
from conftest import BUSI, KEY, Sandbox

BODY = (
    '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-1","CHARGE_DOWN_CODE":"D1",'
    '"CHANNEL_TYPE":1,"STATE":1,"AMT":1,"OPER_ID":"T","PAY_SUBJECT":"x y",'
    '"FUND_BILL_LIST":{"TRADEFUNDBILL":[{"FUND_CHANNEL":"10","AMOUNT":"0.01"}]}}}'
)


def test_parse_plain_json() -> None:
    sign = sosopay.sign_body(KEY, BODY)
    n = sosopay.parse_notification(key=KEY, query=f"_type=json&sign={sign}", body=BODY.encode())
    assert n.charge_code == "C-1" and n.state is sosopay.OrderState.PAID and n.is_paid
    assert n.amount_fen == 1 and str(n.amount) == "0.01"
    assert n.order.channel is sosopay.Channel.ALIPAY
    assert n.order.fund_bills[0].fund_channel is sosopay.FundChannel.ALIPAY_BALANCE
    assert n.idempotency_key == "0010000001:C-1:1:1"
    assert n.raw["PAY_NODIFY"]["CHARGE_CODE"] == "C-1"
    # A plain dict of its fields (the verified native object is not one of them).
    d = dataclasses.asdict(n)
    assert d["idempotency_key"] == "0010000001:C-1:1:1" and "_native" not in d
    # Every notification has its charge code, state and amount: fields of their own, typed
    # without Optional, the same as the order's.
    assert (d["charge_code"], d["state"], d["amount_fen"]) == ("C-1", sosopay.OrderState.PAID, 1)
    hints = typing.get_type_hints(sosopay.Notification)
    assert (hints["charge_code"], hints["state"], hints["amount_fen"]) == (str, sosopay.OrderState, int)
    assert (n.order.charge_code, n.order.state, n.order.amount_fen) == (n.charge_code, n.state, n.amount_fen)


def test_raw_numbers_are_int_or_decimal_never_float() -> None:
    """The raw document keeps the gateway's numbers exactly: whole ones as ``int`` (also past
    64 bits), others as ``Decimal``; booleans, nulls, nesting and key order as sent."""
    import decimal

    body = (
        '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"C-9","STATE":1,"AMT":158,'
        '"X_BIG":123456789012345678901234567890,"X_NEG":-7,"X_FRAC":0.1,"X_EXP":1.5e3,'
        '"X_FLAGS":[true,false,null],"X_NEST":{"Z":1,"A":"2"}}}'
    )
    n = sosopay.parse_notification(key=KEY, query=f"sign={sosopay.sign_body(KEY, body)}", body=body)
    raw = n.raw["PAY_NODIFY"]
    assert list(raw) == ["BUSI_ID", "CHARGE_CODE", "STATE", "AMT", "X_BIG", "X_NEG", "X_FRAC", "X_EXP", "X_FLAGS", "X_NEST"]
    assert type(raw["AMT"]) is int and raw["AMT"] == 158
    assert type(raw["X_BIG"]) is int and raw["X_BIG"] == 123456789012345678901234567890
    assert type(raw["X_NEG"]) is int and raw["X_NEG"] == -7
    assert type(raw["X_FRAC"]) is decimal.Decimal and raw["X_FRAC"] == decimal.Decimal("0.1")
    assert type(raw["X_EXP"]) is decimal.Decimal and raw["X_EXP"] == 1500
    assert raw["X_FLAGS"] == [True, False, None] and list(raw["X_NEST"]) == ["Z", "A"]
    assert n.amount_fen == 158


def test_parse_encrypted_and_xml() -> None:
    sign = sosopay.sign_body(KEY, BODY)
    ct = sosopay.encrypt(KEY, BODY)
    n = sosopay.parse_notification(key=KEY, query=f"_type=json&encrypt=3DES&sign={sign}", body=ct)
    assert n.charge_code == "C-1"
    xml = "<PAY_NODIFY><BUSI_ID>0010000001</BUSI_ID><CHARGE_CODE>C-2</CHARGE_CODE><STATE>1</STATE><AMT>158</AMT></PAY_NODIFY>"
    v = sosopay.NotificationVerifier(KEY)
    n2 = v.parse(f"sign={sosopay.sign_body(KEY, xml)}", xml)
    assert n2.charge_code == "C-2" and n2.amount_fen == 158


def test_rejections() -> None:
    sign = sosopay.sign_body(KEY, BODY)
    with pytest.raises(sosopay.SignatureError):
        sosopay.parse_notification(key=KEY, query=f"sign={sign}", body=BODY.replace('"AMT":1', '"AMT":100'))
    with pytest.raises(sosopay.SignatureError):
        sosopay.parse_notification(key=KEY, query="_type=json", body=BODY)
    with pytest.raises(sosopay.SignatureError):
        sosopay.parse_notification(key="OTHER-KEY-00000000000000000000", query=f"sign={sign}", body=BODY)
    old = sosopay.sign_body(KEY, BODY, timestamp=int(time.time() * 1000) - 3_600_000)
    with pytest.raises(sosopay.SignatureError, match="replay window .*this server's clock is ahead"):
        sosopay.parse_notification(key=KEY, query=f"sign={old}", body=BODY)
    ahead = sosopay.sign_body(KEY, BODY, timestamp=int(time.time() * 1000) + 3_600_000)
    with pytest.raises(sosopay.SignatureError, match="in the future \\(this server's clock is behind\\)"):
        sosopay.parse_notification(key=KEY, query=f"sign={ahead}", body=BODY)
    # The replay window can be widened or disabled.
    assert sosopay.parse_notification(key=KEY, query=f"sign={old}", body=BODY, max_age=0).charge_code == "C-1"
    assert sosopay.parse_notification(key=KEY, query=f"sign={old}", body=BODY, max_age=7200).charge_code == "C-1"
    # A replay window out of range names the argument; one rule (the core's) for every duration.
    for bad in (1e30, float("inf"), float("nan"), -0.5):
        with pytest.raises(sosopay.ValidationError, match=r"seconds is negative|seconds is longer than any setting takes \(at most 10\^7 s\)|is not a number of seconds") as e:
            sosopay.NotificationVerifier(KEY, max_age=bad)
        assert e.value.field == "max_age"
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.Client(busi_code=BUSI, key=KEY, base_url="http://127.0.0.1:9/", timeout=1e300)
    assert e.value.field == "timeout"
    with pytest.raises(sosopay.CryptoError):
        sosopay.parse_notification(key=KEY, query=f"encrypt=3DES&sign={sign}", body="bm90IDNERVM=")
    with pytest.raises(TypeError):
        sosopay.parse_notification(key=KEY, query=f"sign={sign}", body=12)  # type: ignore[arg-type]


def test_process_once_with_memory_and_custom_stores() -> None:
    n = sosopay.parse_notification(key=KEY, query=f"sign={sosopay.sign_body(KEY, BODY)}", body=BODY)
    seen: List[str] = []
    store = sosopay.MemoryIdempotencyStore()
    assert sosopay.process_once(store, n, lambda x: seen.append(x.charge_code)) is sosopay.Delivery.PROCESSED
    assert sosopay.process_once(store, n, lambda x: seen.append(x.charge_code)) is sosopay.Delivery.DUPLICATE
    assert seen == ["C-1"] and len(store) == 1

    class DictStore:
        def __init__(self) -> None:
            self.rows: Dict[str, bool] = {}

        def begin(self, id: str) -> str:
            if id in self.rows:
                return "done" if self.rows[id] else "in_progress"
            self.rows[id] = False
            return "new"

        def complete(self, id: str) -> None:
            self.rows[id] = True

        def abandon(self, id: str) -> None:
            self.rows.pop(id, None)

    db = DictStore()

    def failing(_: sosopay.Notification) -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        sosopay.process_once(db, n, failing)
    assert db.rows == {}  # released: the next delivery retries it
    assert sosopay.process_once(db, n, lambda x: None) is sosopay.Delivery.PROCESSED
    assert db.rows == {n.idempotency_key: True}

    class BrokenStore(DictStore):
        def begin(self, id: str) -> str:
            raise ConnectionError("store unreachable")

    with pytest.raises(ConnectionError):
        sosopay.process_once(BrokenStore(), n, lambda x: None)


# --- The README's webhook example, as a plain WSGI app -------------------------------------
# The code is the README's own block (section "Webhook: payment notifications"), run as written
# with a shop's order table standing in for `orders`.

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]
README = Path(__file__).resolve().parents[1] / "README.md"


class ShopOrders:
    """The shop's own order table, as the README leaves it to the reader (typed as a shop's)."""

    def __init__(self, amounts: Dict[str, int]) -> None:
        self.amounts = amounts
        self.lock = threading.Lock()
        self.paid: List[Tuple[str, int]] = []
        self.flagged: List[Tuple[str, Optional[sosopay.OrderState]]] = []

    def amount_fen(self, charge_code: str) -> Optional[int]:
        return self.amounts.get(charge_code)

    def mark_paid(self, charge_code: str, *, amount_fen: int, gateway_no: Optional[str] = None) -> None:
        with self.lock:
            self.paid.append((charge_code, amount_fen))

    def flag(self, n: sosopay.Notification) -> None:
        with self.lock:
            self.flagged.append((n.charge_code, n.state))


def readme_webhook(key: str, orders: ShopOrders) -> Dict[str, Any]:
    """The README's WSGI webhook block, executed: its namespace (`app`, `store`, ...)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Webhook: payment notifications") :]
    block = section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")]
    ns: Dict[str, Any] = {"KEY": key, "orders": orders, "__name__": "readme_webhook"}
    exec(compile(block, f"{README}: the WSGI webhook", "exec"), ns)
    return ns


def call_wsgi(app: Any, query: str, body: bytes, environ: Optional[Dict[str, Any]] = None) -> Tuple[str, bytes]:
    """One request through a WSGI app: (status line, body); `environ` adds to or (None) removes keys."""
    import io

    env: Dict[str, Any] = {"REQUEST_METHOD": "POST", "QUERY_STRING": query, "wsgi.input": io.BytesIO(body)}
    env["CONTENT_LENGTH"] = str(len(body))
    env.update(environ or {})
    env = {k: v for k, v in env.items() if v is not None}
    status: List[str] = []
    out = b"".join(app(env, lambda s, h: status.append(s)))
    return status[0], out


def signed(charge_code: str, state: str, amt: int = 1000) -> Tuple[str, bytes]:
    """A genuine delivery (query, body) of the notification of `charge_code` in `state`."""
    body = json.dumps(
        {"PAY_NODIFY": {"BUSI_ID": BUSI, "CHARGE_CODE": charge_code, "CHARGE_DOWN_CODE": "D-" + charge_code, "STATE": state, "AMT": amt}}
    )
    return f"_type=json&sign={sosopay.sign_body(KEY, body)}", body.encode()


def test_readme_webhook_marks_paid_on_the_paid_state_only_never_on_a_refund_state() -> None:
    orders = ShopOrders({"RF-1": 1000, "RF-2": 1000, "RF-3": 1000, "RF-4": 1000})
    app = readme_webhook(KEY, orders)["app"]
    S = sosopay.OrderState
    # Paid, then partly refunded, then refunded: three notifications (three once-only keys).
    for state in ("1", "4", "5", "1"):
        assert call_wsgi(app, *signed("RF-1", state)) == ("200 OK", b"SUCCESS")
    assert orders.paid == [("RF-1", 1000)]  # once: never again for a refund state
    assert orders.flagged == [("RF-1", S.PARTIALLY_REFUNDED), ("RF-1", S.REFUNDED)]  # recorded
    # Its paid state's deliveries all failed: the first the shop hears of is "refunded".
    for state in ("8", "9", "5"):
        assert call_wsgi(app, *signed("RF-2", state))[0] == "200 OK"
    assert orders.paid == [("RF-1", 1000)]  # nothing shipped for money that went back
    assert orders.flagged[2:] == [("RF-2", S.REFUND_IN_PROGRESS), ("RF-2", S.REFUND_FAILED), ("RF-2", S.REFUNDED)]
    # Another amount under the order's code, a state not expected, an order the shop never made.
    call_wsgi(app, *signed("RF-3", "1", amt=1))
    call_wsgi(app, *signed("RF-4", "2"))
    call_wsgi(app, *signed("RF-5", "1"))
    assert orders.flagged[5:] == [("RF-3", S.PAID), ("RF-4", S.CANCELLED), ("RF-5", S.PAID)]
    assert orders.paid == [("RF-1", 1000)]


def test_readme_webhook_answers_503_when_the_store_is_down_and_500_when_the_handler_fails() -> None:
    from sosopay.stores import StoreUnavailableError

    orders = ShopOrders({"SD-1": 1000})
    ns = readme_webhook(KEY, orders)

    class DownStore:
        def begin(self, id: str) -> str:
            raise StoreUnavailableError("database unreachable")

        def complete(self, id: str) -> None:
            pass

        def abandon(self, id: str) -> None:
            pass

    class BusyStore(DownStore):
        def begin(self, id: str) -> str:
            return "in_progress"

    ns["store"] = DownStore()
    assert call_wsgi(ns["app"], *signed("SD-1", "1")) == ("503 Service Unavailable", b"retry")
    ns["store"] = BusyStore()
    assert call_wsgi(ns["app"], *signed("SD-1", "1")) == ("503 Service Unavailable", b"BUSY")
    ns["store"] = sosopay.MemoryIdempotencyStore()

    def boom(n: sosopay.Notification) -> None:
        raise RuntimeError("the shop's database refused the update")

    ns["mark_order_paid"] = boom
    assert call_wsgi(ns["app"], *signed("SD-1", "1")) == ("500 Internal Server Error", b"retry")
    assert orders.paid == []
    assert call_wsgi(ns["app"], *signed("SD-1", "1", amt=1), {"QUERY_STRING": "_type=json&sign=forged"})[0] == "400 Bad Request"


def test_readme_webhook_reads_a_chunked_body_where_the_server_ends_it() -> None:
    orders = ShopOrders({"CH-1": 1000, "CH-2": 1000})
    app = readme_webhook(KEY, orders)["app"]
    # gunicorn and Werkzeug give a chunked body without CONTENT_LENGTH, with wsgi.input_terminated.
    assert call_wsgi(app, *signed("CH-1", "1"), {"CONTENT_LENGTH": None, "wsgi.input_terminated": True})[0] == "200 OK"
    assert orders.paid == [("CH-1", 1000)]
    # A server that cannot say where it ends: nothing is read (never a hang), the delivery is refused.
    assert call_wsgi(app, *signed("CH-2", "1"), {"CONTENT_LENGTH": None})[0] == "400 Bad Request"
    assert orders.paid == [("CH-1", 1000)]


def test_readme_webhook_refuses_a_body_over_its_limit_without_reading_it() -> None:
    import io

    orders = ShopOrders({"BIG-1": 1000})
    app = readme_webhook(KEY, orders)["app"]

    class Unread(io.BytesIO):
        def read(self, n: Optional[int] = -1) -> bytes:
            raise AssertionError("an announced oversize body is never read")

    # Announced too large: 413 before reading a byte.
    status, _ = call_wsgi(app, "sign=x", b"", {"CONTENT_LENGTH": str(2 << 20), "wsgi.input": Unread()})
    assert status == "413 Content Too Large"
    # Chunked and too large: read no further than the limit, then 413.
    big = b"x" * ((1 << 20) + 10)
    assert call_wsgi(app, "sign=x", big, {"CONTENT_LENGTH": None, "wsgi.input_terminated": True})[0] == "413 Content Too Large"
    # A genuine one still goes through.
    assert call_wsgi(app, *signed("BIG-1", "1"))[0] == "200 OK" and orders.paid == [("BIG-1", 1000)]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "3des"])
def test_webhook_receives_sandbox_notifications_once(sandbox: Sandbox, code: str, encrypted: bool) -> None:
    orders = ShopOrders({code: 880})
    server = make_server("127.0.0.1", 0, readme_webhook(KEY, orders)["app"], handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.set_faults("notify:duplicate:1")
        c = sosopay.Client(
            busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d", encrypt=encrypted
        )
        query = "_type=json&encrypt=3DES" if encrypted else "_type=json"
        notify_url = f"http://127.0.0.1:{server.server_port}/sosopay/notify?{query}"
        c.create_qr_order(
            charge_code=code, amount="8.80", channel=sosopay.Channel.WECHAT, pay_subject="hook", notify_url=notify_url
        )
        sandbox.admin("POST", f"orders/{code}/pay")
        deadline = time.monotonic() + 10
        attempts: List[Dict[str, Any]] = []
        while time.monotonic() < deadline:
            ledger = sandbox.admin("GET", "ledger")
            attempts = [a for a in ledger["notifications"] if a["charge_code"] == code]
            if len(attempts) >= 2 and all(a["http_status"] is not None for a in attempts):
                break
            time.sleep(0.05)
        assert len(attempts) >= 2 and any(a["duplicate"] for a in attempts), attempts
        assert all(a["http_status"] == 200 for a in attempts), attempts
        assert all(a["encrypted"] is encrypted for a in attempts)
        assert orders.paid == [(code, 880)], "processed once although delivered more than once"
        assert orders.flagged == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_notification_pickles_and_copies_as_data() -> None:
    import copy
    import pickle

    body = json.dumps({"PAY_NODIFY": {"BUSI_ID": "B1", "CHARGE_CODE": "C-PK", "STATE": 1, "AMT": 158}})
    n = sosopay.parse_notification(key=KEY, query="sign=" + sosopay.sign_body(KEY, body), body=body)
    for back in (pickle.loads(pickle.dumps(n)), copy.deepcopy(n), copy.copy(n)):
        assert back == n and back.idempotency_key == n.idempotency_key and back.raw == n.raw
        assert back.amount_fen == 158 and back.charge_code == "C-PK"
        # A copy is data, not the verified delivery: process_once refuses it.
        with pytest.raises(TypeError, match="parse_notification"):
            sosopay.process_once(sosopay.MemoryIdempotencyStore(), back, lambda _: None)
    # The original still is.
    assert sosopay.process_once(sosopay.MemoryIdempotencyStore(), n, lambda _: None) == sosopay.Delivery.PROCESSED


def test_a_handler_that_is_not_callable_is_refused_before_anything_is_claimed() -> None:
    # Without a handler, a delivery must not be claimed (nor answered 200): the gateway would
    # stop delivering a notification nobody processed.
    sign = sosopay.sign_body(KEY, BODY)
    query = f"_type=json&sign={sign}"
    store = sosopay.MemoryIdempotencyStore()
    verifier = sosopay.NotificationVerifier(KEY)
    n = sosopay.parse_notification(key=KEY, query=query, body=BODY)
    for bad in (None, "handler", 5):
        with pytest.raises(TypeError, match="^handler: expected a function, got "):
            sosopay.process_once(store, n, bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="^handler: expected a function, got "):
            sosopay.handle_notification(verifier, store, query, BODY, bad)  # type: ignore[arg-type]
    for not_a_verifier in (None, KEY):
        with pytest.raises(TypeError, match="^verifier: expected a NotificationVerifier, got "):
            sosopay.handle_notification(not_a_verifier, store, query, BODY, lambda _: None)  # type: ignore[arg-type]
    assert len(store) == 0
    assert sosopay.process_once(store, n, lambda _: None) is sosopay.Delivery.PROCESSED


def test_an_async_handler_is_never_counted_as_processed_by_the_blocking_calls() -> None:
    # Calling an `async def` runs nothing: the blocking calls refuse it (the claim is released,
    # 500: the gateway delivers it again) instead of answering 200 for a notification not seen.
    sign = sosopay.sign_body(KEY, BODY)
    query = f"_type=json&sign={sign}"
    store = sosopay.MemoryIdempotencyStore()
    ran: List[str] = []

    async def handler(n: sosopay.Notification) -> None:
        ran.append(n.charge_code)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        r = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), store, query, BODY, handler)
        assert (r.status, r.delivery) == (500, None)
        assert isinstance(r.error, TypeError) and "handle_notification_async" in str(r.error)
        n = sosopay.parse_notification(key=KEY, query=query, body=BODY)
        with pytest.raises(TypeError, match="awaitable"):
            sosopay.process_once(store, n, handler)
    assert ran == [] and len(store) == 0  # nothing claimed


def test_handle_notification_async_awaits_the_handler_once_on_the_loop() -> None:
    import asyncio

    sign = sosopay.sign_body(KEY, BODY)
    query = f"_type=json&sign={sign}"
    store = sosopay.MemoryIdempotencyStore()
    verifier = sosopay.NotificationVerifier(KEY)
    ran: List[Tuple[str, bool]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def handler(n: sosopay.Notification) -> None:
            await asyncio.sleep(0)
            ran.append((n.charge_code, asyncio.get_running_loop() is loop))

        first, again = await asyncio.gather(
            sosopay.handle_notification_async(verifier, store, query, BODY, handler),
            sosopay.handle_notification_async(verifier, store, query, BODY, handler),
        )
        assert sorted([first.status, again.status]) in ([200, 200], [200, 503])
        assert sosopay.Delivery.PROCESSED in (first.delivery, again.delivery)
        later = await sosopay.handle_notification_async(verifier, store, query, BODY, handler)
        assert (later.status, later.delivery) == (200, sosopay.Delivery.DUPLICATE)

        # A plain function works too; a raising handler gives 500 and releases the claim.
        other = BODY.replace("C-1", "C-2")
        q2 = f"_type=json&sign={sosopay.sign_body(KEY, other)}"

        async def boom(n: sosopay.Notification) -> None:
            raise RuntimeError("db down")

        failed = await sosopay.handle_notification_async(verifier, store, q2, other, boom)
        assert failed.status == 500 and isinstance(failed.error, RuntimeError)
        ok = await sosopay.handle_notification_async(verifier, store, q2, other, lambda n: ran.append((n.charge_code, True)))
        assert (ok.status, ok.delivery) == (200, sosopay.Delivery.PROCESSED)
        forged = await sosopay.handle_notification_async(verifier, store, "_type=json&sign=x", BODY, handler)
        assert forged.status == 400
        with pytest.raises(TypeError, match="^handler: expected a function, got NoneType$"):
            await sosopay.handle_notification_async(verifier, store, query, BODY, None)  # type: ignore[arg-type]

    asyncio.run(main())
    assert ran == [("C-1", True), ("C-2", True)]


def test_async_handlers_may_use_the_default_executor_with_many_deliveries_at_once() -> None:
    # The deliveries' blocking steps run on sosopay's own threads: a handler awaiting the loop's
    # default executor (asyncio.to_thread, loop.getaddrinfo as asyncpg and httpx do) with more
    # deliveries in flight than that executor has threads never waits for a thread a delivery holds.
    import asyncio
    import concurrent.futures

    store = sosopay.MemoryIdempotencyStore()
    verifier = sosopay.NotificationVerifier(KEY)
    default = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    deliveries = 3 * 2 + 1
    ran: List[str] = []

    def mark_paid_in_db(code: str) -> None:  # a blocking database call
        time.sleep(0.01)
        ran.append(code)

    async def handler(n: sosopay.Notification) -> None:
        await asyncio.to_thread(mark_paid_in_db, n.charge_code)
        await asyncio.get_running_loop().getaddrinfo("localhost", 5432)

    async def main() -> List[int]:
        calls = []
        for i in range(deliveries):
            body = BODY.replace("C-1", f"C-{i}")
            q = f"_type=json&sign={sosopay.sign_body(KEY, body)}"
            calls.append(sosopay.handle_notification_async(verifier, store, q, body, handler))
        results = await asyncio.wait_for(asyncio.gather(*calls), timeout=10)
        return [r.status for r in results]

    loop = asyncio.new_event_loop()
    loop.set_default_executor(default)
    try:
        assert loop.run_until_complete(main()) == [200] * deliveries
    finally:
        loop.close()  # never waits for the executor's threads (a regression must not hang here)
    assert sorted(ran) == sorted(f"C-{i}" for i in range(deliveries))


def test_a_generator_handler_is_never_counted_as_processed() -> None:
    # Calling a function with `yield` in it runs nothing of its body: refused like an un-awaited
    # `async def` (TypeError, the claim released, 500: the gateway delivers it again).
    import asyncio

    sign = sosopay.sign_body(KEY, BODY)
    query = f"_type=json&sign={sign}"
    store = sosopay.MemoryIdempotencyStore()
    verifier = sosopay.NotificationVerifier(KEY)
    ran: List[str] = []

    def gen(n: sosopay.Notification) -> Iterable[None]:
        ran.append(n.charge_code)
        yield None

    async def agen(n: sosopay.Notification) -> Any:
        ran.append(n.charge_code)
        yield None

    async def returns_gen(n: sosopay.Notification) -> Any:
        return gen(n)

    n = sosopay.parse_notification(key=KEY, query=query, body=BODY)
    for h in (gen, agen):
        with pytest.raises(TypeError, match="generator"):
            sosopay.process_once(store, n, h)
        r = sosopay.handle_notification(verifier, store, query, BODY, h)
        assert (r.status, r.body, r.delivery) == (500, "FAIL", None)
        assert isinstance(r.error, TypeError) and "generator" in str(r.error)

    async def main() -> None:
        for h in (gen, agen, returns_gen):
            r = await sosopay.handle_notification_async(verifier, store, query, BODY, h)
            assert (r.status, r.body, r.delivery) == (500, "FAIL", None), h
            assert isinstance(r.error, TypeError) and "generator" in str(r.error)

    asyncio.run(main())
    assert ran == [] and len(store) == 0  # nothing claimed for good
    # The claim was released each time: a proper handler processes it now.
    r = sosopay.handle_notification(verifier, store, query, BODY, lambda n: ran.append(n.charge_code))
    assert (r.status, r.delivery, ran) == (200, sosopay.Delivery.PROCESSED, ["C-1"])


def test_handle_notification_logs_what_it_refused_or_failed(caplog: pytest.LogCaptureFixture) -> None:
    """A webhook that ignores ``result.error`` still leaves a trace: a forged delivery and a
    raising handler are WARNINGs on the ``sosopay`` logger (the handler's with its traceback);
    a processed one logs nothing."""
    sign = sosopay.sign_body(KEY, BODY)
    query = f"_type=json&sign={sign}"
    verifier = sosopay.NotificationVerifier(KEY)
    store = sosopay.MemoryIdempotencyStore()

    def boom(n: sosopay.Notification) -> None:
        raise RuntimeError("db down")

    with caplog.at_level("WARNING", logger="sosopay"):
        forged = sosopay.handle_notification(verifier, store, "_type=json&sign=x", BODY, boom)
        failed = sosopay.handle_notification(verifier, store, query, BODY, boom)
        ok = sosopay.handle_notification(verifier, store, query, BODY, lambda n: None)
    assert (forged.status, failed.status, ok.status) == (400, 500, 200)
    records = [r for r in caplog.records if r.name == "sosopay"]
    assert len(records) == 2, [r.getMessage() for r in records]
    assert records[0].getMessage().startswith("sosopay: notification ? answered 400 (Rejected): ")
    assert records[0].exc_info is None
    n = sosopay.parse_notification(key=KEY, query=query, body=BODY)
    assert records[1].getMessage() == f"sosopay: notification {n.charge_code} answered 500 (Failed): db down"
    assert records[1].exc_info is not None and records[1].exc_info[0] is RuntimeError


def test_a_body_in_any_bytes_form() -> None:
    """Frameworks hand the raw body as ``bytes``, ``bytearray`` or ``memoryview``: each is the
    raw body (``bytearray`` and ``memoryview`` were a TypeError)."""
    sign = sosopay.sign_body(KEY, BODY)
    v = sosopay.NotificationVerifier(KEY)
    raw = BODY.encode()
    for body in (BODY, raw, bytearray(raw), memoryview(raw)):
        assert v.parse(f"sign={sign}", body).charge_code == "C-1"
    with pytest.raises(TypeError, match=r"^body: expected str or bytes \(or bytearray, memoryview\)$"):
        v.parse(f"sign={sign}", 5)  # type: ignore[arg-type]


def test_a_key_being_rotated_out_is_accepted_when_given() -> None:
    new = "NEWKEYNEWKEYNEWKEYNEWKEYNEWKEY12"
    for encrypted in (False, True):
        # Signed (and encrypted) with the old key, delivered after the shop switched to the new.
        q = ("encrypt=3DES&" if encrypted else "") + f"sign={sosopay.sign_body(KEY, BODY)}"
        body = sosopay.encrypt(KEY, BODY) if encrypted else BODY
        with pytest.raises((sosopay.SignatureError, sosopay.CryptoError)):
            sosopay.NotificationVerifier(new).parse(q, body)
        v = sosopay.NotificationVerifier(new, previous_keys=[KEY])
        assert v.parse(q, body).charge_code == "C-1"
        assert "previous_keys=1" in repr(v) and KEY not in repr(v)
        # The new key's own deliveries, and any other key is refused.
        assert v.parse(f"sign={sosopay.sign_body(new, BODY)}", BODY).charge_code == "C-1"
        with pytest.raises(sosopay.SignatureError):
            v.parse(f"sign={sosopay.sign_body('STRANGERSTRANGERSTRANGER', BODY)}", BODY)
    with pytest.raises(sosopay.ValidationError) as e:
        sosopay.NotificationVerifier(new, previous_keys=["", KEY])
    assert e.value.field == "previous_keys"
    with pytest.raises(sosopay.ValidationError, match="at most 4") as e:
        sosopay.NotificationVerifier(new, previous_keys=[f"PREVIOUSKEY{i:02}PREVIOUSKEY" for i in range(5)])
    assert e.value.field == "previous_keys"
    with pytest.raises(TypeError, match="previous_keys"):
        sosopay.NotificationVerifier(new, previous_keys=KEY)  # a str, not a list of keys


def test_the_query_may_be_bytes_as_flask_gives_it() -> None:
    sign = sosopay.sign_body(KEY, BODY)
    raw = f"_type=json&sign={sign}".encode()  # flask.request.query_string
    assert sosopay.NotificationVerifier(KEY).parse(raw, BODY.encode()).charge_code == "C-1"
    assert sosopay.parse_notification(key=KEY, query=raw, body=BODY).charge_code == "C-1"
    with pytest.raises(TypeError, match="query: expected str or bytes"):
        sosopay.NotificationVerifier(KEY).parse(12, BODY)  # type: ignore[arg-type]


def test_a_verifier_for_one_merchant_refuses_another_merchants_notifications() -> None:
    """``busi_code``: the signature proves only the key; the ``BUSI_ID`` proves whose order it is.
    Another merchant's (or an unnamed) notification is a DecodeError, answered 400 by the
    webhook helper without running the handler."""
    q = f"sign={sosopay.sign_body(KEY, BODY)}"
    ours = sosopay.NotificationVerifier(KEY, busi_code=BUSI)
    assert ours.parse(q, BODY).order.busi_id == BUSI
    assert f"busi_code='{BUSI}'" in repr(ours) and KEY not in repr(ours)
    assert "busi_code=None" in repr(sosopay.NotificationVerifier(KEY))
    theirs = sosopay.NotificationVerifier(KEY, busi_code="0010000002")
    with pytest.raises(sosopay.DecodeError, match='BUSI_ID "0010000001", not "0010000002"'):
        theirs.parse(q, BODY)
    unnamed = BODY.replace('"BUSI_ID":"0010000001",', "")
    q2 = f"sign={sosopay.sign_body(KEY, unnamed)}"
    assert sosopay.NotificationVerifier(KEY).parse(q2, unnamed).order.busi_id is None
    with pytest.raises(sosopay.DecodeError, match="names no BUSI_ID"):
        ours.parse(q2, unnamed)
    ran: List[str] = []
    result = sosopay.handle_notification(
        theirs, sosopay.MemoryIdempotencyStore(), q, BODY, lambda n: ran.append(n.charge_code)
    )
    assert (result.status, result.body, ran) == (400, "FAIL", [])
    assert isinstance(result.error, sosopay.DecodeError)
    for bad in ("", "a/b"):
        with pytest.raises(sosopay.ValidationError) as e:
            sosopay.NotificationVerifier(KEY, busi_code=bad)
        assert e.value.field == "busi_code"
    with pytest.raises(TypeError, match="busi_code"):
        sosopay.NotificationVerifier(KEY, busi_code=10010000001)  # type: ignore[arg-type]


def test_a_failing_handler_is_the_answer_even_when_the_store_cannot_release_its_claim() -> None:
    """The handler raised and the store is down for ``abandon``: the answer is the handler's
    failure (500, its exception kept and logged), not the store's 503 (the claim's lease runs
    out instead)."""
    from sosopay.stores import StoreUnavailableError

    class DownForAbandon:
        def begin(self, id: str) -> str:
            return "new"

        def complete(self, id: str) -> None:
            raise AssertionError("not completed: the handler failed")

        def abandon(self, id: str) -> None:
            raise StoreUnavailableError("the store went down")

    def handler(n: sosopay.Notification) -> None:
        raise RuntimeError("handler boom")

    q = f"sign={sosopay.sign_body(KEY, BODY)}"
    result = sosopay.handle_notification(sosopay.NotificationVerifier(KEY), DownForAbandon(), q, BODY, handler)
    assert (result.status, result.body) == (500, "FAIL")
    assert isinstance(result.error, RuntimeError) and "handler boom" in str(result.error)
