"""Under gevent's or eventlet's monkey-patching (gunicorn ``-k gevent`` / ``-k eventlet``) a
held payment must not stop the process's other green threads: every blocking call runs on
their pool of real threads. Before, a payment the gateway held for 2 s stopped a 100 ms
heartbeat for those 2 s (a real hold lasts up to 80 s: every other request of the worker
waited). Run in a child process: monkey-patching is process-wide."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

#: How each library patches, spawns, sleeps and joins.
LIBRARIES = {
    "gevent": ("from gevent import monkey; monkey.patch_all()\nimport gevent as green",
               "green.spawn", "green.sleep", "h.join()"),
    "eventlet": ("import eventlet as green; green.monkey_patch()",
                 "green.spawn", "green.sleep", "h.wait()"),
}

SCRIPT = textwrap.dedent(
    """
    {patch}
    import json, time
    from sosopay.testing import Sandbox, codes

    with Sandbox(time_scale=0.05) as sb:      # the customer confirms after 40 s -> 2 s
        client = sb.client()
        beats = []

        def heartbeat():
            start = time.monotonic()
            while time.monotonic() - start < 2.5:
                beats.append(time.monotonic())
                {sleep}(0.1)

        h = {spawn}(heartbeat)
        {sleep}(0.05)
        started = time.monotonic()
        out = client.micropay_and_wait(charge_code="GREEN-1", amount="1.00",
                                       dynamic_id=codes.pays_after(40), pay_subject="green")
        took = time.monotonic() - started
        query = client.query(charge_code="GREEN-1")
        {join}
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        print(json.dumps({{"status": out.status.name, "took": took, "max_gap": max(gaps),
                          "queried": query.order.charge_code}}))
    """
)


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_a_held_payment_does_not_stop_other_green_threads(library: str) -> None:
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    patch, spawn, sleep, join = LIBRARIES[library]
    script = SCRIPT.format(patch=patch, spawn=spawn, sleep=sleep, join=join)
    run = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout.strip().splitlines()[-1])
    assert r["status"] == "PAID" and r["queried"] == "GREEN-1", r
    assert r["took"] >= 1.5, r  # the gateway did hold it
    assert r["max_gap"] < 0.5, r  # the heartbeat kept beating meanwhile


INTERRUPTED = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import gevent, json, logging, socket, time
    from sosopay.testing import Sandbox, codes

    logs = []
    class Keep(logging.Handler):
        def emit(self, r): logs.append([r.levelname, r.getMessage()])
    log = logging.getLogger("sosopay"); log.addHandler(Keep()); log.setLevel(logging.INFO)

    with Sandbox(time_scale=0.05) as sb:          # pays_after(40) -> 2 s, pays_after(20) -> 1 s
        client = sb.client()
        flow = dict(amount="1.00", pay_subject="x", dynamic_id=codes.pays_after(40), poll_interval=0.05)
        timeouts = []
        for call in (lambda: client.micropay_and_wait(charge_code="GT-F", **flow),
                     lambda: client.micropay(charge_code="GT-O", amount="1.00", pay_subject="x",
                                             dynamic_id=codes.pays_after(20))):
            started = time.monotonic()
            try:
                with gevent.Timeout(0.5):
                    call()
            except gevent.Timeout:
                timeouts.append(time.monotonic() - started)
        killed = gevent.spawn(client.micropay_and_wait, charge_code="GT-K", **flow)
        gevent.sleep(0.5)
        killed.kill()

        # More payments held at once than gevent's hub threadpool has threads (10).
        held = [gevent.spawn(client.micropay, charge_code=f"GT-P{i}", amount="1.00", pay_subject="x",
                             dynamic_id=codes.pays_after(40)) for i in range(12)]
        gevent.sleep(0.5)
        started = time.monotonic(); socket.getaddrinfo("localhost", 80); dns = time.monotonic() - started
        started = time.monotonic(); client.query(charge_code="GT-O"); query = time.monotonic() - started
        gevent.joinall(held, timeout=20)
        try:
            client.query(charge_code="GT-NONE")
            error = None
        except Exception as e:                # the call's own error, raised as such
            error = type(e).__name__
        for _ in range(200):
            if len(logs) >= 3:
                break
            gevent.sleep(0.05)
        states = {c: sb.order(c).state.name for c in ("GT-F", "GT-O", "GT-K")}
        print(json.dumps({"timeouts": timeouts, "logs": logs, "states": states, "dns": dns, "query": query,
                          "held": sorted(g.value.state.name for g in held if g.successful()),
                          "error": error}))
    """
)


def test_an_interrupted_green_thread_never_abandons_a_payment_silently() -> None:
    """A ``gevent.Timeout`` or a ``kill()`` while a green thread waits for a call: a flow is
    cancelled (the order reversed, as asyncio's cancellation does) and its outcome logged; an
    operation runs to its end and its result is logged. The calls run on sosopay's own threads:
    12 payments held at once do not hold up DNS (gevent's resolver uses the hub's threadpool)
    nor another call."""
    if importlib.util.find_spec("gevent") is None:
        pytest.skip("gevent is not installed")
    run = subprocess.run([sys.executable, "-W", "ignore", "-c", INTERRUPTED], capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(r["timeouts"]) == 2 and max(r["timeouts"]) < 1.0, r  # the timeouts fired on time
    assert r["states"] == {"GT-F": "CANCELLED", "GT-O": "PAID", "GT-K": "CANCELLED"}, r
    logs = sorted(r["logs"], key=lambda entry: entry[1])
    assert [level for level, _ in logs] == ["WARNING", "INFO", "INFO"], r
    assert logs[1][1].startswith(
        "sosopay: the green thread awaiting the flow of GT-F was interrupted (Timeout); the flow ended cancelled"
    ), r
    assert logs[2][1].startswith(
        "sosopay: the green thread awaiting the flow of GT-K was interrupted (GreenletExit); the flow ended cancelled"
    ), r
    assert logs[0][1] == (
        "sosopay: the green thread awaiting micropay of GT-O was interrupted (Timeout) while the operation was under way; "
        "a single operation is not interrupted, so it went on: it answered SUCCESS, order state 1 (PAID) (query the order before charging again)"
    ), r
    assert r["held"] == ["PAID"] * 12 and r["error"] == "GatewayError", r
    assert r["dns"] < 0.5 and r["query"] < 0.5, r  # not waiting for a held payment's thread
