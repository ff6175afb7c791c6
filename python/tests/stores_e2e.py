"""Once-only notification processing across processes, end to end: the sandbox gateway delivers
signed notifications (with duplicates) for many paid orders to worker processes of the Python
app (tests/store_worker.py) and of the Node app (node/__test__/store-worker.js) sharing one
Redis or PostgreSQL store; every order's handler must run exactly once.

Used by tests/test_stores_multiprocess.py, and as a script for the big run:

    python tests/stores_e2e.py --store redis --url $REDIS_URL --orders 500 --node-workers 4

(scripts/stores-e2e runs it on both stores under scripts/with-stores). The orders' notify URL
points at a fan-out proxy that forwards every delivery to the Python port and the Node port at
once (or twice to the one port there is), so two workers race for the same notification on
every delivery; it answers the gateway 200 if any copy got 200, else 503 if any got 503.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import sosopay  # noqa: E402
from conftest import BUSI, KEY, Sandbox, _sandbox_binary  # noqa: E402

NODE_WORKER = REPO / "node" / "__test__" / "store-worker.js"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def node_available() -> bool:
    """Is the Node package built (its native addon present) and node on PATH?"""
    if shutil.which("node") is None:
        return False
    return any(p.name.endswith(".node") for p in (REPO / "node").glob("sosopay*.node"))


def start_sandbox(time_scale: float, *faults: str) -> Tuple["subprocess.Popen[str]", Sandbox]:
    cmd = [str(_sandbox_binary()), "--addr", "127.0.0.1:0", "--time-scale", str(time_scale), "--seed", "7"]
    for f in faults:
        cmd += ["--fault", f]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http"):
        proc.kill()
        raise RuntimeError(f"the sandbox did not print its URL (got {line!r})")
    return proc, Sandbox(proc, line)


class Workers:
    """A group of worker processes (Python or Node) on one port."""

    def __init__(self, lang: str, n: int, store: str, url: str, results: Path, lease: float, handler_ms: float) -> None:
        self.lang = lang
        self.port = free_port()
        env = dict(os.environ)
        if lang == "py":
            cmd = [sys.executable, str(HERE / "store_worker.py")]
        else:
            cmd = ["node", str(NODE_WORKER)]
        cmd += [
            "--port", str(self.port), "--workers", str(n), "--store", store, "--url", url,
            "--results", str(results), "--lease", str(lease), "--handler-ms", str(handler_ms),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True, start_new_session=True)
        self.pids: List[int] = []
        assert self.proc.stdout is not None
        try:
            while len(self.pids) < n:
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{lang} workers exited before they were ready")
                if line.startswith("ready "):
                    self.pids.append(int(line.split()[1]))
        except BaseException:
            self.stop()
            raise
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, 15)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


class FanOut:
    """An HTTP proxy forwarding each delivery to every target at once."""

    def __init__(self, targets: Sequence[int]) -> None:
        self.targets = list(targets)
        self.statuses: Counter[int] = Counter()
        self.by_target: Counter[str] = Counter()  # "target index:status"
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type") or "text/plain"
                results: List[int] = [0] * len(outer.targets)

                def send(i: int) -> None:
                    try:
                        c = http.client.HTTPConnection("127.0.0.1", outer.targets[i], timeout=20)
                        c.request("POST", self.path, body=body, headers={"Content-Type": ctype})
                        r = c.getresponse()
                        r.read()
                        results[i] = r.status
                        c.close()
                    except OSError:
                        results[i] = 599

                order = list(range(len(outer.targets)))
                random.shuffle(order)  # neither target always starts first
                threads = [threading.Thread(target=send, args=(i,)) for i in order]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                with outer.lock:
                    outer.statuses.update(results)
                    for i, st in enumerate(results):
                        outer.by_target[f"{i}:{st}"] += 1
                status = 200 if 200 in results else 503 if 503 in results else 500
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *a: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def runs(results: Path) -> Tuple[Counter[str], Counter[str]]:
    """(handler runs started, handler runs done) per idempotency key, from the workers' logs."""
    started: Counter[str] = Counter()
    done: Counter[str] = Counter()
    for f in results.glob("*.log"):
        for line in f.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                (started if parts[2] == "start" else done)[parts[0]] += 1
    return started, done


def create_and_pay(sb: Sandbox, codes: Sequence[str], notify_port: int, threads: int = 8) -> None:
    client = sosopay.Client(busi_code=BUSI, key=KEY, base_url=sb.base_url, default_oper_id="o", default_dev_id="d")

    def one(i_code: Tuple[int, str]) -> None:
        i, code = i_code
        query = "_type=json&encrypt=3DES" if i % 3 == 2 else "_type=json" if i % 3 == 1 else ""
        url = f"http://127.0.0.1:{notify_port}/notify" + (f"?{query}" if query else "")
        client.create_qr_order(
            charge_code=code, amount="0.01", channel=sosopay.Channel.WECHAT, pay_subject="e2e", notify_url=url
        )
        sb.admin("POST", f"orders/{code}/pay")

    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(one, enumerate(codes)))


def attempts_by_code(sb: Sandbox, codes: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    wanted = set(codes)
    out: Dict[str, List[Dict[str, Any]]] = {c: [] for c in codes}
    for a in sb.admin("GET", "ledger")["notifications"]:
        if a["charge_code"] in wanted:
            out[a["charge_code"]].append(a)
    return out


def wait_delivered(sb: Sandbox, codes: Sequence[str], timeout: float) -> Dict[str, List[Dict[str, Any]]]:
    """Waits until every order's notification got a 200 and the ledger stopped growing (the
    duplicate copy follows its accepted delivery)."""
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        by = attempts_by_code(sb, codes)
        pending = [c for c, a in by.items() if not any(x["http_status"] == 200 for x in a)]
        count = sum(len(a) for a in by.values())
        if (not pending and count == last) or time.monotonic() > deadline:
            return by
        last = count if not pending else -1
        time.sleep(0.5 if not pending else 0.2)


@dataclass
class Figures:
    store: str
    orders: int
    py_workers: int
    node_workers: int
    deliveries: int = 0  # the gateway's attempts (ledger), duplicate copies included
    duplicate_copies: int = 0
    gateway_503: int = 0
    worker_answers: Dict[str, int] = field(default_factory=dict)  # per copy behind the fan-out
    answers_by_lang: Dict[str, int] = field(default_factory=dict)  # "py:200", "node:503", ...
    handler_runs: int = 0
    orders_processed_once: int = 0
    lost: int = 0
    processed_twice_or_more: int = 0
    seconds: float = 0.0
    run_by: Dict[str, int] = field(default_factory=dict)  # handler runs per language


def run(
    store: str,
    url: str,
    *,
    orders: int = 100,
    py_workers: int = 4,
    node_workers: int = 0,
    time_scale: float = 0.1,
    duplicate: float = 0.5,
    lease: float = 10.0,
    handler_ms: float = 50.0,
    prefix: str = "E2E",
) -> Figures:
    results = Path(tempfile.mkdtemp(prefix="sosopay-e2e-"))
    proc, sb = start_sandbox(time_scale, f"notify:duplicate:{duplicate}")
    groups: List[Workers] = []
    proxy: Optional[FanOut] = None
    try:
        groups.append(Workers("py", py_workers, store, url, results, lease, handler_ms))
        if node_workers:
            groups.append(Workers("node", node_workers, store, url, results, lease, handler_ms))
        targets = [g.port for g in groups]
        if len(targets) == 1:
            targets = targets * 2
        proxy = FanOut(targets)
        run_id = f"{prefix}-{os.getpid()}-{int(time.time() * 1000) % 10**8}"
        codes = [f"{run_id}-{i}" for i in range(orders)]
        t0 = time.monotonic()
        create_and_pay(sb, codes, proxy.port)
        by = wait_delivered(sb, codes, timeout=60 + orders * 0.1)
        seconds = time.monotonic() - t0
        started, done = runs(results)
        keys = {f"{BUSI}:{c}:1:1": c for c in codes}
        f = Figures(store=store, orders=orders, py_workers=py_workers, node_workers=node_workers)
        all_attempts = [a for lst in by.values() for a in lst]
        f.deliveries = len(all_attempts)
        f.duplicate_copies = sum(1 for a in all_attempts if a["duplicate"])
        f.gateway_503 = sum(1 for a in all_attempts if a["http_status"] == 503)
        f.worker_answers = {str(k): v for k, v in sorted(proxy.statuses.items())}
        names = [g.lang for g in groups] if len(groups) > 1 else [groups[0].lang + "-a", groups[0].lang + "-b"]
        f.answers_by_lang = {
            f"{names[int(k.split(':')[0])]}:{k.split(':')[1]}": v for k, v in sorted(proxy.by_target.items())
        }
        f.handler_runs = sum(done[k] for k in keys)
        f.orders_processed_once = sum(1 for k in keys if done[k] == 1)
        f.lost = sum(1 for k in keys if done[k] == 0)
        f.processed_twice_or_more = sum(1 for k in keys if done[k] > 1)
        f.seconds = round(seconds, 2)
        by_lang: Counter[str] = Counter()
        for log in results.glob("*.log"):
            lang = log.name.split("-")[0]
            by_lang[lang] += sum(1 for line in log.read_text().splitlines() if line.endswith(" done"))
        f.run_by = dict(by_lang)
        return f
    finally:
        if proxy is not None:
            proxy.stop()
        for g in groups:
            g.stop()
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(results, ignore_errors=True)


@dataclass
class RaceFigures:
    store: str
    notifications: int
    answers: Dict[str, int] = field(default_factory=dict)  # "py:200", "node:503", ...
    handler_runs: Dict[str, int] = field(default_factory=dict)  # per language
    processed_once: int = 0
    lost: int = 0
    processed_twice_or_more: int = 0


def race(store: str, url: str, *, notifications: int = 60, handler_ms: float = 50.0) -> RaceFigures:
    """The same signed notification POSTed at the same instant (a barrier) to a Python worker and
    a Node worker sharing the store, ``notifications`` times: one handler run each."""
    langs = ["py", "node"] if node_available() else ["py", "py"]
    results = Path(tempfile.mkdtemp(prefix="sosopay-race-"))
    groups = {lang: Workers(lang, 2, store, url, results, 10.0, handler_ms) for lang in set(langs)}
    f = RaceFigures(store=store, notifications=notifications)
    answers: Counter[str] = Counter()
    keys: List[str] = []
    try:
        for i in range(notifications):
            code = f"RACE-{os.getpid()}-{int(time.time() * 1000) % 10**8}-{i}"
            body = f'{{"PAY_NODIFY":{{"BUSI_ID":"{BUSI}","CHARGE_CODE":"{code}","STATE":1,"AMT":1}}}}'
            query = f"_type=json&sign={sosopay.sign_body(KEY, body)}"
            keys.append(f"{BUSI}:{code}:1:1")
            barrier = threading.Barrier(2)

            def post(lang: str) -> None:
                c = http.client.HTTPConnection("127.0.0.1", groups[lang].port, timeout=20)
                c.connect()
                barrier.wait()
                c.request("POST", f"/notify?{query}", body=body.encode(), headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                c.close()
                answers[f"{lang}:{r.status}"] += 1

            threads = [threading.Thread(target=post, args=(lang,)) for lang in langs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        _, done = runs(results)
        f.answers = dict(sorted(answers.items()))
        f.processed_once = sum(1 for k in keys if done[k] == 1)
        f.lost = sum(1 for k in keys if done[k] == 0)
        f.processed_twice_or_more = sum(1 for k in keys if done[k] > 1)
        by_lang: Counter[str] = Counter()
        for log in results.glob("*.log"):
            by_lang[log.name.split("-")[0]] += sum(1 for line in log.read_text().splitlines() if line.endswith(" done"))
        f.handler_runs = dict(by_lang)
        return f
    finally:
        for g in groups.values():
            g.stop()
        shutil.rmtree(results, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", choices=["redis", "postgres"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--orders", type=int, default=500)
    p.add_argument("--py-workers", type=int, default=4)
    p.add_argument("--node-workers", type=int, default=4)
    p.add_argument("--time-scale", type=float, default=0.1)
    p.add_argument("--duplicate", type=float, default=0.5)
    p.add_argument("--handler-ms", type=float, default=50.0)
    p.add_argument("--race", type=int, default=100, help="simultaneous Python/Node pairs (0: none)")
    a = p.parse_args()
    if a.store == "postgres":
        from sosopay.stores import apply_schema

        apply_schema(a.url)
    if a.node_workers and not node_available():
        sys.exit("the Node package is not built (run scripts/test-node once, or pass --node-workers 0)")
    f = run(
        a.store, a.url, orders=a.orders, py_workers=a.py_workers, node_workers=a.node_workers,
        time_scale=a.time_scale, duplicate=a.duplicate, handler_ms=a.handler_ms,
    )  # fmt: skip
    print(json.dumps(asdict(f)))
    bad = f.lost or f.processed_twice_or_more
    if a.race:
        r = race(a.store, a.url, notifications=a.race, handler_ms=a.handler_ms)
        print(json.dumps(asdict(r)))
        bad = bad or r.lost or r.processed_twice_or_more
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
