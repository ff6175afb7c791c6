"""sosopay.testing: the in-process sandbox, its admin API, the test codes and the pytest plugin."""

from __future__ import annotations

import asyncio
import http.server
import threading
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import sosopay
from sosopay import OrderState, OutcomeStatus
from sosopay.testing import NotificationAttempt, Sandbox, SandboxError, codes

from conftest import modules_after


def test_import_sosopay_does_not_import_the_kit() -> None:
    mods = modules_after("import sosopay")
    assert "sosopay" in mods
    assert not [m for m in mods if m.startswith("sosopay.testing")]


def test_the_pytest_plugin_does_not_import_sosopay() -> None:
    # pytest loads it in every run (pytest11 entry point): it must cost nothing.
    mods = modules_after("import _sosopay_pytestplugin")
    assert "sosopay" not in mods


def test_the_plugin_is_registered(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("sosopay")


def test_context_manager_qr_order_pay_and_close() -> None:
    with Sandbox(time_scale=0.01) as sb:
        assert sb.base_url.startswith("http://127.0.0.1:") and sb.base_url.endswith("/openGateway/openService/")
        assert sb.root_url + "openGateway/openService/" == sb.base_url
        assert sb.busi_code == "0010000001"
        client = sb.client()
        assert isinstance(client, sosopay.Client)
        reply = client.create_qr_order(charge_code="QR-1", amount="12.50", channel=sosopay.Channel.WECHAT, pay_subject="Tea")
        assert reply.state is OrderState.AWAITING_PAYMENT
        before = sb.order("QR-1")
        assert before is not None and not before.is_paid and before.kind == "qr"
        paid = sb.pay("QR-1")
        assert paid.is_paid and paid.state is OrderState.PAID and paid.amount_fen == 1250
        assert client.query(charge_code="QR-1").state is OrderState.PAID
        ledger = sb.ledger()
        assert [o.charge_code for o in ledger.orders] == ["QR-1"]
        assert ledger.paid_fen == 1250
        assert ledger.requests["order"] == 1
        assert sb.order("never-seen") is None
    assert sb.closed
    with pytest.raises(SandboxError) as e:
        sb.ledger()
    assert e.value.status == 410
    sb.close()  # idempotent


def test_ledger_totals_count_refunds_of_paid_orders_and_a_reversal_in_neither(sosopay_sandbox: Sandbox) -> None:
    """paid_fen - refunded_fen is what the shop kept: a refund is deducted, a reversed (cancelled
    after payment) order is in neither total, though its own refunded_fen says it went back."""
    c = sosopay_sandbox.client()
    c.micropay(charge_code="KEPT", amount="5.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    c.refund(charge_code="KEPT", refund_amount="2.00", out_refund_no="R-KEPT", refund_subject="r")
    c.micropay(charge_code="REVERSED", amount="3.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    c.cancel(charge_code="REVERSED")
    ledger = sosopay_sandbox.ledger()
    reversed_ = ledger.order("REVERSED")
    assert reversed_ is not None and reversed_.state is OrderState.CANCELLED and not reversed_.is_paid
    assert reversed_.refunded_fen == 300 and ledger.refunds_of("REVERSED") == []
    assert (ledger.paid_fen, ledger.refunded_fen) == (500, 200)
    assert ledger.paid_fen - ledger.refunded_fen == 300


def test_admin_refusals_are_typed(sosopay_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxError) as e:
        sosopay_sandbox.pay("NOPE")
    assert e.value.status == 404
    c = sosopay_sandbox.client()
    c.micropay(charge_code="M-1", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    with pytest.raises(SandboxError) as e:
        sosopay_sandbox.pay("M-1")  # already paid
    assert e.value.status == 409


def test_declined_qr_order(sosopay_sandbox: Sandbox) -> None:
    c = sosopay_sandbox.client()
    c.create_qr_order(charge_code="QR-D", amount="3.00", channel="2", pay_subject="x")
    closed = sosopay_sandbox.fail("QR-D")
    assert closed.state is OrderState.CLOSED and not closed.is_paid
    assert c.query(charge_code="QR-D").state is OrderState.CLOSED


def test_codes_scheme() -> None:
    assert codes.PAY_NOW == "130730865806264036"
    assert codes.PAYS_AFTER_3S == "130000000000001003"
    assert codes.NEVER_CONFIRMS == "130000000000004000"
    assert codes.INSUFFICIENT_FUNDS == "130000000000003000"
    assert codes.pays_after(5) == "130000000000001005"
    assert codes.user_paying(2, channel=codes.ALIPAY) == "280000000000002002"
    assert codes.code(6) == codes.CODE_EXPIRED
    with pytest.raises(ValueError):
        codes.code(1, 1000)
    with pytest.raises(ValueError):
        codes.code(1, channel="x")


@pytest.mark.parametrize(
    ("dynamic_id", "status", "state"),
    [
        (codes.PAY_NOW, OutcomeStatus.PAID, OrderState.PAID),
        (codes.PAY_NOW_ALIPAY, OutcomeStatus.PAID, OrderState.PAID),
        (codes.PAYS_AFTER_3S, OutcomeStatus.PAID, OrderState.PAID),
        (codes.USER_PAYING, OutcomeStatus.PAID, OrderState.PAID),
        (codes.PAYS_AFTER_HOLD, OutcomeStatus.PAID, OrderState.PAID),
        (codes.REPLY_LOST, OutcomeStatus.PAID, OrderState.PAID),
        (codes.INSUFFICIENT_FUNDS, OutcomeStatus.FAILED, OrderState.CLOSED),
        (codes.CODE_EXPIRED, OutcomeStatus.FAILED, OrderState.CLOSED),
        (codes.NEVER_CONFIRMS, OutcomeStatus.CANCELLED, OrderState.CANCELLED),
        (codes.USER_PAYING_NEVER_CONFIRMS, OutcomeStatus.CANCELLED, OrderState.CANCELLED),
    ],
)
def test_codes_drive_the_till_flow(
    sosopay_sandbox: Sandbox, dynamic_id: str, status: OutcomeStatus, state: OrderState
) -> None:
    c = sosopay_sandbox.client()
    # The client's own timing is not scaled: poll faster than the default 2 s.
    out = c.micropay_and_wait(
        charge_code="TILL-1", amount="9.99", dynamic_id=dynamic_id, pay_subject="x", poll_interval=0.05
    )
    assert out.status is status, out
    order = sosopay_sandbox.wait_for_state("TILL-1", state)
    assert order.dynamic_id == dynamic_id


def test_faults_add_clear_and_the_ledger(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    assert sb.faults.rules == [] and len(sb.faults) == 0
    sb.faults.add("preOrder:drop_reply:1")
    sb.faults.add("query:http503:0.5", "notify:duplicate:1")
    assert sb.faults.rules == ["preOrder:drop_reply:1", "query:http503:0.5", "notify:duplicate:1"]
    c = sb.client()
    with pytest.raises(sosopay.SosopayError) as e:
        c.micropay(charge_code="F-1", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    assert e.value.outcome_unknown
    order = sb.order("F-1")
    assert order is not None and order.is_paid  # processed: only the reply was lost
    ledger = sb.ledger()
    assert ledger.faults.injected == {"preOrder:drop_reply": 1}
    assert [(ev.op, ev.kind, ev.charge_code) for ev in ledger.faults.events] == [("preOrder", "drop_reply", "F-1")]
    assert sb.faults.injected() == {"preOrder:drop_reply": 1}
    sb.faults.set(["*:http502:1"], seed=7)
    assert sb.faults.seed == 7 and list(sb.faults) == ["*:http502:1"]
    sb.faults.clear()
    assert sb.faults.rules == []
    c.micropay(charge_code="F-2", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    with pytest.raises(ValueError, match=r"faults\[0\]: \"preOrder:explode:1\""):
        sb.faults.add("preOrder:explode:1")


def test_a_reply_about_another_order_is_a_decode_error(sosopay_sandbox: Sandbox) -> None:
    # A reply naming another CHARGE_CODE (meant for another request) is never facts about this
    # order: a DecodeError (an unknown outcome for a payment, which did happen).
    sb = sosopay_sandbox
    sb.faults.add("preOrder:foreign_code:1", "query:foreign_code:1")
    c = sb.client()
    with pytest.raises(sosopay.DecodeError, match="FG-1-OTHER") as e:
        c.micropay(charge_code="FG-1", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    assert e.value.outcome_unknown
    with pytest.raises(sosopay.DecodeError) as q:
        c.query(charge_code="FG-1")
    assert not q.value.outcome_unknown
    sb.faults.clear()
    order = c.query(charge_code="FG-1").order
    assert order.charge_code == "FG-1" and order.state is OrderState.PAID
    # A refund reply naming another OUT_REFUND_NO is another refund's answer: an unknown
    # outcome (this refund was carried out); retrying under the same number is safe.
    sb.faults.add("refund:foreign_code:1")
    down = order.charge_down_code
    with pytest.raises(sosopay.DecodeError, match="FG-R1-OTHER") as r:
        c.refund(charge_down_code=down, out_refund_no="FG-R1", refund_amount="0.40", refund_subject="x")
    assert r.value.outcome_unknown
    sb.faults.clear()
    again = c.refund(charge_down_code=down, out_refund_no="FG-R1", refund_amount="0.40", refund_subject="x")
    assert again.out_refund_no == "FG-R1"
    assert len(sb.ledger().refunds) == 1
    # Both numbers, of two orders: the gateway would refund the order its number names (FG-1),
    # so nothing is sent; the async client checks the same way.
    c.micropay(charge_code="FG-2", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    both: Dict[str, Any] = dict(charge_code="FG-2", charge_down_code=down, out_refund_no="FG-R2",
                                refund_amount="0.10", refund_subject="x")
    with pytest.raises(sosopay.ValidationError, match='CHARGE_CODE "FG-1", not "FG-2"') as v:
        c.refund(**both)
    assert v.value.field == "charge_down_code"
    with pytest.raises(sosopay.ValidationError, match="nothing was sent"):
        asyncio.run(sb.async_client().refund(**both))
    assert len(sb.ledger().refunds) == 1


def test_the_fixture_resets_between_tests_1(sosopay_sandbox: Sandbox) -> None:
    sosopay_sandbox.client().micropay(charge_code="SAME", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
    sosopay_sandbox.faults.add("query:drop:1")


def test_the_fixture_resets_between_tests_2(sosopay_sandbox: Sandbox, sosopay_sandbox_session: Sandbox) -> None:
    assert sosopay_sandbox is sosopay_sandbox_session
    assert sosopay_sandbox.ledger().orders == ()
    assert sosopay_sandbox.faults.rules == []
    # The same charge code again: no SERIAL_REPEAT after the reset.
    sosopay_sandbox.client().micropay(charge_code="SAME", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")


class _Receiver:
    """A webhook that answers the given statuses in turn (then 200), recording each body."""

    def __init__(self, statuses: List[int]) -> None:
        self.statuses = list(statuses)
        self.bodies: List[Tuple[str, bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append((self.path, self.rfile.read(n)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"SUCCESS" if status == 200 else b"FAIL")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify?_type=json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver([500, 500])
    yield r
    r.close()


def test_notifications_are_recorded_and_awaitable(sosopay_sandbox: Sandbox, receiver: _Receiver) -> None:
    sb = sosopay_sandbox
    c = sb.client()
    c.create_qr_order(charge_code="N-1", amount="5.00", channel="2", pay_subject="x", notify_url=receiver.url)
    assert sb.notifications("N-1") == []
    sb.pay("N-1")
    attempts = sb.wait_for_notification("N-1")
    assert [a.accepted for a in attempts] == [True]
    seen = sb.notifications("N-1")
    assert [(a.attempt, a.http_status) for a in seen] == [(1, 500), (2, 500), (3, 200)]
    assert all(isinstance(a, NotificationAttempt) and a.format == "json" and not a.encrypted for a in seen)
    # What the merchant received verifies with its key.
    path, body = receiver.bodies[-1]
    note = sosopay.parse_notification(key=sb.key, query=path.split("?", 1)[1], body=body)
    assert note.charge_code == "N-1" and note.is_paid and note.amount_fen == 500
    assert sb.ledger().notifications_of("N-1") == seen


def test_wait_for_notification_times_out_with_what_it_saw(sosopay_sandbox: Sandbox) -> None:
    with pytest.raises(TimeoutError, match="no 1 accepted notification"):
        sosopay_sandbox.wait_for_notification("NONE", timeout=0.05)


def test_waits_are_the_sandbox_crates_and_their_errors_name_the_argument() -> None:
    sb = Sandbox(time_scale=0.01)
    sb.client().create_qr_order(charge_code="W-1", amount="1.00", channel="2", pay_subject="x")
    with pytest.raises(TimeoutError, match=r"order W-1 not in Paid/CancelApplied within .*: AwaitingPayment"):
        sb.wait_for_state("W-1", OrderState.PAID, "3", timeout=0.02)
    with pytest.raises(ValueError, match="states"):
        sb.wait_for_state("W-1")
    with pytest.raises(ValueError, match="timeout"):
        sb.wait_for_notification("W-1", timeout=-1)
    sb.close()
    with pytest.raises(SandboxError) as e:
        sb.wait_for_state("W-1", OrderState.PAID)
    assert e.value.status == 410


def test_async_with_and_async_client() -> None:
    async def main() -> None:
        async with Sandbox(time_scale=0.01) as sb:
            c = sb.async_client(encrypt=True)
            await c.create_qr_order(charge_code="A-1", amount="2.00", channel="2", pay_subject="x")
            out_task = asyncio.ensure_future(c.wait_for_payment(charge_code="A-1", poll_interval=0.05))
            await asyncio.sleep(0.05)
            sb.pay("A-1")
            out = await out_task
            assert out.is_paid
            order = await sb.wait_for_state_async("A-1", OrderState.PAID, 1)
            assert order.amount_fen == 200
            with pytest.raises(TimeoutError):
                await sb.wait_for_notification_async("A-1", timeout=0.05)
        assert sb.closed

    asyncio.run(main())


def test_other_merchants() -> None:
    with Sandbox(merchants={"0020000002": "0123456789abcdef0123456789abcdef"}) as sb:
        assert (sb.busi_code, sb.key) == ("0020000002", "0123456789abcdef0123456789abcdef")
        sb.client().micropay(charge_code="X-1", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
        sb.add_merchant("0030000003", "fedcba9876543210fedcba9876543210")
        sb.client(busi_code="0030000003").micropay(charge_code="X-2", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x")
        assert {o.busi_id for o in sb.ledger().orders} == {"0020000002", "0030000003"}
        with pytest.raises(sosopay.GatewayError):
            sb.client(busi_code="0010000001", key="98SDKFUO432HNODS098EEE07U9DUOIUE").micropay(
                charge_code="X-3", amount="1.00", dynamic_id=codes.PAY_NOW, pay_subject="x"
            )
    with Sandbox() as sb:
        # The kit's merchant and keys are the sandbox crate's (not restated here).
        assert (sb.busi_code, sb.key) == (sosopay.testing.TEST_BUSI_CODE, sosopay.testing.TEST_KEY)
        assert len(sb.key) == 32
        sb.add_merchant(sb.busi_code, "fedcba9876543210fedcba9876543210")
        assert sb.key == "fedcba9876543210fedcba9876543210"
        # Signed with the new key: the gateway looks the order up (an invalid sign would say so).
        with pytest.raises(sosopay.GatewayError, match="CHARGE_NONEXISTENT"):
            sb.client().query(charge_code="NONE-1")


def test_bad_settings_raise_value_error() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        Sandbox(time_scale=0)
    # Wrong types and ranges name the setting (no bare conversion message).
    for kw, error, pattern in [
        (dict(time_scale="x"), TypeError, "time_scale: expected a number, got str"),
        (dict(merchants=5), TypeError, "merchants: expected a mapping"),
        (dict(faults="abc"), TypeError, "faults: expected a list of rules, got str"),
        (dict(faults={"query:drop_reply:1": 1}), TypeError, "faults: expected a list of rules, got dict"),
        (dict(port=-1), ValueError, "invalid port: -1 is not a whole number from 0 to 65535"),
        (dict(port=True), ValueError, "invalid port: must be an int from 0 to 65535, got bool"),
        (dict(seed=-1), ValueError, "invalid seed: -1"),
        (dict(faults=["a", 2]), TypeError, r"faults\[1\]: expected a str, got int"),
        (dict(merchants={"0010000001": 5}), TypeError, "merchants: expected a mapping"),
        (dict(max_request_age="1"), TypeError, "max_request_age: expected a number, got str"),
        (dict(host=5), TypeError, "host: expected an IP address"),
    ]:
        with pytest.raises(error, match=pattern):
            Sandbox(**kw)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="behaviour: expected an int, got str"):
        codes.code("x")  # type: ignore[arg-type]
    with Sandbox(time_scale=0.01) as sb:
        with pytest.raises(TypeError, match="charge_code: expected a str, got int"):
            sb.pay(5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="busi_code: expected a str, got int"):
            sb.add_merchant(1, "k")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="count: expected an int, got str"):
            sb.wait_for_notification(count="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"faults\[0\]: \"nope\""):
        Sandbox(faults=["nope"])


def test_a_bad_value_is_the_sdks_validation_error_naming_it() -> None:
    """Every bad setting or argument value of the kit is ``sosopay.ValidationError`` (a
    ``ValueError``) with ``.field``, as the client's own; refusals stay ``SandboxError``."""
    def field_of(call: Callable[[], object]) -> str:
        with pytest.raises(sosopay.ValidationError) as e:
            call()
        assert isinstance(e.value, ValueError) and not isinstance(e.value, SandboxError)
        assert e.value.kind == "validation"
        assert str(e.value).startswith(f"invalid {e.value.field}: ")
        return e.value.field

    assert field_of(lambda: Sandbox(time_scale=0)) == "time_scale"
    assert field_of(lambda: Sandbox(port=70000)) == "port"
    assert field_of(lambda: Sandbox(seed=-1)) == "seed"
    assert field_of(lambda: Sandbox(max_request_age=-1)) == "max_request_age"
    assert field_of(lambda: Sandbox(faults=["query:drop:1", "nope"])) == "faults[1]"
    assert field_of(lambda: codes.code(9)) == "behaviour"
    assert field_of(lambda: codes.pays_after(1000)) == "seconds"
    assert field_of(lambda: Sandbox(merchants={"0050000005": ""})) == "merchants"
    with Sandbox(time_scale=0.01) as sb:
        assert field_of(lambda: sb.faults.add("preOrder:explode:1")) == "faults[0]"
        assert field_of(lambda: sb.faults.set([], seed=-1)) == "seed"
        assert field_of(lambda: sb.wait_for_notification(count=-1)) == "count"
        assert field_of(lambda: sb.wait_for_notification(timeout=-1)) == "timeout"
        assert field_of(lambda: sb.wait_for_state("X", "Sleeping", timeout=0.01)) == "states[0]"
        assert field_of(lambda: sb.add_merchant("", "k" * 32)) == "busi_code"
        assert field_of(lambda: sb.add_merchant("0050000005", "")) == "key"
        with pytest.raises(SandboxError) as refused:
            sb.pay("NOPE")
        assert refused.value.status == 404
        # A port in use is the system's refusal, not a bad value.
        port = int(sb.root_url.rsplit(":", 1)[1].rstrip("/"))
        with pytest.raises(OSError, match="could not listen") as taken:
            Sandbox(port=port)
        assert not isinstance(taken.value, ValueError)


def test_wrong_argument_types_are_named_and_a_rule_string_is_not_split(sosopay_sandbox: Sandbox) -> None:
    sb = sosopay_sandbox
    with pytest.raises(TypeError, match=r"^rules: expected a list of str, got NoneType"):
        sb.faults.set(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^rules: expected a list of str, got str"):
        sb.faults.set("query:http503:1")
    with pytest.raises(TypeError, match=r"^states\[0\]: expected an OrderState, a state name or a wire code, got list"):
        sb.wait_for_state("T-1", [OrderState.CANCELLED])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^charge_code: expected a str, got int"):
        sb.notifications(5)  # type: ignore[arg-type]
    assert sb.faults.rules == []


def test_an_ini_setting_that_is_not_a_number_is_a_validation_error_naming_it() -> None:
    import _sosopay_pytestplugin as plugin

    class Config:
        def __init__(self, **ini: str) -> None:
            self.ini = ini

        def getini(self, name: str) -> str:
            return self.ini.get(name, "")

    def setting(value: str) -> float:
        cfg: Any = Config(sosopay_time_scale=value)
        return plugin._setting(cfg, "sosopay_time_scale", "0.01", float, "a number")

    assert setting("") == 0.01 and setting(" 0.5 ") == 0.5
    with pytest.raises(sosopay.ValidationError, match="on a line of its own") as e:
        setting("0.01     # the default")
    assert e.value.field == "sosopay_time_scale"
    with pytest.raises(sosopay.ValidationError, match="'fast' is not a number"):
        setting("fast")
    seed_cfg: Any = Config(sosopay_seed="abc")
    with pytest.raises(sosopay.ValidationError) as e2:
        plugin._seed(seed_cfg)
    assert e2.value.field == "sosopay_seed"


def test_a_client_of_a_closed_sandbox_is_refused_at_once() -> None:
    sb = Sandbox(time_scale=0.01)
    sb.close()
    for kwargs in ({}, {"key": "KEYKEYKEYKEYKEYKEYKEYKEY"}):
        with pytest.raises(SandboxError) as e:
            sb.client(**kwargs)
        assert e.value.status == 410


def test_a_charge_code_two_merchants_used_is_not_reported_absent() -> None:
    other = ("0020000002", "0123456789abcdef0123456789abcdef")
    with Sandbox(time_scale=0.01, merchants={sosopay.testing.TEST_BUSI_CODE: sosopay.testing.TEST_KEY, other[0]: other[1]}) as sb:
        for busi in (sb.busi_code, other[0]):
            sb.client(busi_code=busi).create_qr_order(charge_code="SAME", amount="1.00", channel="Wechat", pay_subject="x")
        with pytest.raises(SandboxError, match="several merchants") as e:
            sb.order("SAME")
        assert e.value.status == 409
        with pytest.raises(SandboxError, match="several merchants"):
            sb.pay("SAME")
        assert len([o for o in sb.ledger().orders if o.charge_code == "SAME"]) == 2
