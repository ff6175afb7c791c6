"""The shared behaviour scenarios (``tests/scenarios/*.json``, format in its README): the
Rust, Node and Kotlin suites run the same files and must agree."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import sosopay

from conftest import _sandbox_binary

SCENARIOS = Path(__file__).resolve().parents[2] / "tests" / "scenarios"
DEFAULTS: Dict[str, Any] = json.loads((SCENARIOS / "_defaults.json").read_text())
FILES = sorted(p for p in SCENARIOS.glob("*.json") if not p.name.startswith("_"))


class Gateway:
    """A sandbox started at the scenarios' time scale."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(_sandbox_binary()),
                "--addr",
                "127.0.0.1:0",
                "--time-scale",
                str(DEFAULTS["time_scale"]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        assert self.base_url.startswith("http"), self.base_url
        self.root = self.base_url.split("/openGateway/")[0]

    def admin(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.root}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    g = Gateway()
    try:
        yield g
    finally:
        g.stop()


def _client(g: Gateway, overrides: Optional[Dict[str, Any]]) -> sosopay.Client:
    s = dict(DEFAULTS["client"])
    s.update(overrides or {})
    return sosopay.Client(
        busi_code=DEFAULTS["busi_code"],
        key=DEFAULTS["key"],
        base_url=g.base_url,
        timeout=s["timeout_ms"] / 1000,
        micropay_timeout=s["micropay_timeout_ms"] / 1000,
        retry_attempts=s["retry_max_attempts"],
        retry_base_delay=s["retry_base_delay_ms"] / 1000,
        retry_max_delay=s["retry_max_delay_ms"] / 1000,
        default_oper_id=s["oper_id"],
        default_dev_id=s["dev_id"],
    )


def _options(o: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    o = o or {}
    names = {
        "deadline_ms": "deadline",
        "poll_interval_ms": "poll_interval",
        "max_poll_interval_ms": "max_poll_interval",
        "max_duration_ms": "max_duration",
        "gateway_hold_ms": "gateway_hold",
    }
    out: Dict[str, Any] = {py: o[ms] / 1000 for ms, py in names.items() if ms in o}
    if "cancel_attempts" in o:
        out["cancel_attempts"] = o["cancel_attempts"]
    return out


def _check(name: str, out: sosopay.PaymentOutcome, expect: Dict[str, Any]) -> List[str]:
    wrong = []
    status = sosopay.OutcomeStatus(out.status).value
    if "status" in expect and status != expect["status"]:
        wrong.append(f"{name}: status {status} ({out.reason}), expected {expect['status']}")
    if "code" in expect:
        code = None if out.code is None else str(getattr(out.code, "value", out.code))
        if code != expect["code"]:
            wrong.append(f"{name}: code {code}, expected {expect['code']}")
    if "order_amount_fen" in expect:
        got = None if out.order is None else out.order.amount_fen
        if got != expect["order_amount_fen"]:
            wrong.append(f"{name}: order amount {got}, expected {expect['order_amount_fen']}")
    return wrong


def _answer(call: Callable[[], Any]) -> Tuple[Optional[str], Optional[sosopay.SosopayError]]:
    """The result code of a call's reply or of its ``GatewayError``; any other SDK error instead."""
    try:
        reply = call()
        return str(getattr(reply.result.code, "value", reply.result.code)), None
    except sosopay.GatewayError as e:
        return str(getattr(e.code, "value", e.code)), None
    except sosopay.SosopayError as e:
        return None, e


def _run(g: Gateway, sc: Dict[str, Any]) -> List[str]:
    name = sc["name"]
    g.admin("POST", "reset")
    g.admin("DELETE", "faults")
    c = _client(g, sc.get("client"))
    wrong: List[str] = []
    for step in sc["steps"]:
        expect = step.get("expect", {})
        if "set_faults" in step:
            g.admin("POST", "faults", {"faults": step["set_faults"]})
        elif "micropay" in step:
            r = step["micropay"]
            code, error = _answer(
                lambda: c.micropay(
                    charge_code=r["charge_code"],
                    amount=r["amount"],
                    dynamic_id=r["dynamic_id"],
                    pay_subject=r["subject"],
                )
            )
            if error is not None:
                wrong.append(f"{name}: micropay failed: {error}")
            elif "result_code" in expect and code != expect["result_code"]:
                wrong.append(f"{name}: micropay answered {code}, expected {expect['result_code']}")
        elif "micropay_and_wait" in step:
            r = step["micropay_and_wait"]
            out = c.micropay_and_wait(
                charge_code=r["charge_code"],
                amount=r["amount"],
                dynamic_id=r["dynamic_id"],
                pay_subject=r["subject"],
                **_options(step.get("options")),
            )
            wrong += _check(name, out, expect)
        elif "create_qr_order" in step:
            r = step["create_qr_order"]
            c.create_qr_order(
                charge_code=r["charge_code"],
                amount=r["amount"],
                channel=r["channel"],
                pay_subject=r["subject"],
            )
        elif "refund" in step:
            r = step["refund"]
            code, error = _answer(
                lambda: c.refund(
                    charge_code=r["charge_code"],
                    out_refund_no=r["out_refund_no"],
                    refund_amount=r["amount"],
                    refund_subject=r["subject"],
                )
            )
            if "error" in expect:
                if error is None or error.kind != expect["error"]:
                    wrong.append(f"{name}: refund gave {error or code!r}, expected a {expect['error']} error")
                elif "outcome_unknown" in expect and error.outcome_unknown != expect["outcome_unknown"]:
                    wrong.append(f"{name}: refund error {error}: outcome_unknown is not {expect['outcome_unknown']}")
            elif error is not None:
                wrong.append(f"{name}: refund failed: {error}")
            elif code != expect.get("result_code", "SUCCESS"):
                wrong.append(f"{name}: refund answered {code}, expected {expect.get('result_code', 'SUCCESS')}")
        elif "admin" in step:
            g.admin("POST", f"orders/{step['charge_code']}/{step['admin']}")
        elif "wait_for_payment" in step:
            out = c.wait_for_payment(
                charge_code=step["wait_for_payment"]["charge_code"],
                amount=step["wait_for_payment"].get("amount"),
                **_options(step.get("options")),
            )
            wrong += _check(name, out, expect)
        elif "sleep_ms" in step:
            time.sleep(step["sleep_ms"] / 1000)
        else:
            raise AssertionError(f"{name}: unknown step {step}")
    orders = g.admin("GET", "ledger")["orders"]
    for cc, want in sc["ledger"].items():
        mine = [o for o in orders if o["charge_code"] == cc]
        if "orders" in want and len(mine) != want["orders"]:
            wrong.append(f"{name}: {len(mine)} orders {cc} in the ledger, expected {want['orders']}")
        for key in ("state", "amount_fen"):
            if key in want:
                got = mine[0][key] if mine else None
                if got != want[key]:
                    wrong.append(f"{name}: ledger {cc} {key} {got}, expected {want[key]}")
    return wrong


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(gateway: Gateway, path: Path) -> None:
    wrong = _run(gateway, json.loads(path.read_text()))
    assert not wrong, "\n".join(wrong)
