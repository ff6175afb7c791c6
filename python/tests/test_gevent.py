"""Under gevent's monkey-patching (gunicorn ``-k gevent``) a held payment must not stop the
process's other greenlets: every blocking call runs on gevent's pool of real threads. Before,
a payment the gateway held for 2 s stopped a 100 ms heartbeat greenlet for those 2 s (a real
hold lasts up to 80 s: every other request of the worker waited). Run in a child process:
monkey-patching is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("gevent")

SCRIPT = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import json, time
    import gevent
    from sosopay.testing import Sandbox, codes

    with Sandbox(time_scale=0.05) as sb:      # the customer confirms after 40 s -> 2 s
        client = sb.client()
        beats = []

        def heartbeat():
            start = time.monotonic()
            while time.monotonic() - start < 2.5:
                beats.append(time.monotonic())
                gevent.sleep(0.1)

        h = gevent.spawn(heartbeat)
        gevent.sleep(0.05)
        started = time.monotonic()
        out = client.micropay_and_wait(charge_code="GEVENT-1", amount="1.00",
                                       dynamic_id=codes.pays_after(40), pay_subject="gevent")
        took = time.monotonic() - started
        query = client.query(charge_code="GEVENT-1")
        h.join()
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        print(json.dumps({"status": out.status.name, "took": took, "max_gap": max(gaps),
                          "beats": len(beats), "queried": query.order.charge_code}))
    """
)


def test_a_held_payment_does_not_stop_other_greenlets() -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout.strip().splitlines()[-1])
    assert r["status"] == "PAID" and r["queried"] == "GEVENT-1", r
    assert r["took"] >= 1.5, r  # the gateway did hold it
    assert r["max_gap"] < 0.5, r  # the heartbeat kept beating meanwhile
