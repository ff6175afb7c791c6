"""A client used before ``fork()`` (gunicorn ``--preload``, uWSGI, Celery's prefork pool,
``multiprocessing``): each process sends on connections it opened itself, so neither reads the
other's replies. Before, parent and child shared the inherited keep-alive connections, and a
query was answered with the other process's order (or waited for a reply the other had read)
in about half of these rounds."""

from __future__ import annotations

import os
import sys
from typing import List

import pytest

import sosopay
from conftest import BUSI, KEY, Sandbox

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this platform")

ROUNDS = 12
QUERIES = 20


def _queries(client: sosopay.Client, codes: List[str]) -> List[str]:
    """Queries each code in turn; what went wrong, if anything."""
    wrong = []
    for n in range(QUERIES):
        cc = codes[n % len(codes)]
        try:
            got = client.query(charge_code=cc).order.charge_code
            if got != cc:
                wrong.append(f"{cc}: answered with {got}")
        except sosopay.SosopayError as e:
            wrong.append(f"{cc}: {type(e).__name__}: {e}")
    return wrong


def test_a_forked_child_and_its_parent_each_read_their_own_replies(sandbox: Sandbox, code: str) -> None:
    client = sosopay.Client(
        busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d", timeout=5
    )
    codes = [f"{code}-{i}" for i in range(4)]
    for i, cc in enumerate(codes):
        client.create_qr_order(charge_code=cc, amount=f"{i + 1}.00", channel="2", pay_subject="fork")
    failures = []
    for _ in range(ROUNDS):
        client.query(charge_code=codes[0])  # a keep-alive connection in the pool, then fork
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the child: report by exit status only, never return into pytest
            status = 1
            try:
                status = 1 if _queries(client, codes[:2]) else 0
            finally:
                os._exit(status)
        mine = _queries(client, codes[2:])
        _, status = os.waitpid(pid, 0)
        if mine or status != 0:
            failures.append((mine, os.waitstatus_to_exitcode(status)))
    assert failures == [], failures


def test_an_async_client_works_in_a_forked_child(sandbox: Sandbox, code: str) -> None:
    """Its worker pool is per process too: the parent's threads do not exist in the child, and a
    call queued on the parent's pool waited forever."""
    import asyncio

    client = sosopay.AsyncClient(
        busi_code=BUSI, key=KEY, base_url=sandbox.base_url, default_oper_id="o", default_dev_id="d", timeout=5
    )

    async def query(cc: str) -> str:
        reply = await asyncio.wait_for(client.query(charge_code=cc), 10)
        return reply.order.charge_code or ""

    asyncio.run(client.create_qr_order(charge_code=code, amount="1.00", channel="2", pay_subject="fork"))
    assert asyncio.run(query(code)) == code  # the parent's pool has a worker thread now
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            status = 0 if asyncio.run(query(code)) == code else 1
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert asyncio.run(query(code)) == code  # and the parent's still works
    client.close()


@pytest.mark.parametrize("claim", ["begin", "process_once", "handle_notification"])
def test_a_memory_store_made_before_fork_says_it_is_per_process(claim: str) -> None:
    """gunicorn ``--preload`` forks workers from a process that made the app's
    ``MemoryIdempotencyStore``: each worker gets its own copy, so a notification delivered to two
    workers runs the handler twice. The first claim in such a worker says so, once (as Node
    says in a cluster worker); the process that made it says nothing."""
    import subprocess
    import textwrap

    script = textwrap.dedent(
        """
        import logging, os, sys
        import sosopay
        logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(message)s")
        KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"
        verifier = sosopay.NotificationVerifier(KEY)
        def delivery(code):
            body = '{"PAY_NODIFY":{"BUSI_ID":"0010000001","CHARGE_CODE":"%s","STATE":1,"AMT":1}}' % code
            return "sign=" + sosopay.sign_body(KEY, body), body
        def claim(code):
            how = CLAIM
            if how == "begin":
                store.begin(code)
            elif how == "process_once":
                q, b = delivery(code)
                sosopay.process_once(store, verifier.parse(q, b), lambda n: None)
            else:
                q, b = delivery(code)
                sosopay.handle_notification(verifier, store, q, b, lambda n: None)
        store = sosopay.MemoryIdempotencyStore()
        claim("in-the-parent")
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            claim("a"); claim("b")
            sys.stderr.flush()
            os._exit(0)
        os.waitpid(pid, 0)
        claim("parent-again")
        """
    ).replace("CLAIM", repr(claim))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if "MemoryIdempotencyStore" in line]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("WARNING sosopay: this worker process uses a MemoryIdempotencyStore made before fork()")
