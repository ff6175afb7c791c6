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
