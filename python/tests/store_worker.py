"""A small webhook app for the multi-process tests: N worker processes on one port
(SO_REUSEPORT), sharing a Redis or PostgreSQL idempotency store.

    python store_worker.py --port P --workers 4 --store redis --url redis://... --results DIR

Each handler run appends ``<idempotency key> <pid> start`` and then ``... done`` to
``DIR/py-<pid>.log`` (O_APPEND, one write per line), so the test counts runs per order without
trusting the store. A charge code starting with ``SLOW`` makes the first run sleep for a minute
(after writing ``DIR/slow-<code>`` with its pid): the test SIGKILLs that worker mid-handler.
Prints ``ready <pid>`` per worker on stdout.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, List

import sosopay
from sosopay.stores import LeasedIdempotencyStore, PostgresIdempotencyStore, RedisIdempotencyStore

KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"


def make_store(kind: str, url: str, lease: float) -> LeasedIdempotencyStore:
    if kind == "redis":
        return RedisIdempotencyStore(url, lease=lease, prefix=os.environ.get("STORE_PREFIX", "sosopay:notify:"))
    return PostgresIdempotencyStore(url, lease=lease, table=os.environ.get("STORE_TABLE", "sosopay_notifications"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def serve(args: argparse.Namespace) -> None:
    pid = os.getpid()
    store = make_store(args.store, args.url, args.lease)
    verifier = sosopay.NotificationVerifier(KEY)
    results = Path(args.results)
    out = os.open(results / f"py-{pid}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def record(key: str, what: str) -> None:
        os.write(out, f"{key} {pid} {what}\n".encode())

    def handler(n: sosopay.Notification) -> None:
        key = n.idempotency_key
        record(key, "start")
        code = n.charge_code or ""
        marker = results / f"slow-{code}"
        if code.startswith("SLOW") and not marker.exists():
            marker.write_text(str(pid))
            time.sleep(60)
        if args.handler_ms:
            time.sleep(random.uniform(0, args.handler_ms) / 1000)
        record(key, "done")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            query = self.path.split("?", 1)[1] if "?" in self.path else ""
            r = sosopay.handle_notification(verifier, store, query, body, handler)
            data = r.body.encode()
            self.send_response(r.status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *a: Any) -> None:
            pass

    server = Server(("127.0.0.1", args.port), Handler)
    os.write(1, f"ready {pid}\n".encode())  # one write: the workers share stdout
    server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--store", choices=["redis", "postgres"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--lease", type=float, default=30.0)
    p.add_argument("--handler-ms", type=float, default=20.0)
    args = p.parse_args()
    children: List[int] = []
    for _ in range(args.workers):
        child = os.fork()
        if child == 0:
            try:
                serve(args)
            finally:
                os._exit(1)
        children.append(child)

    def stop(*_: Any) -> None:
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            done, _ = os.wait()
        except ChildProcessError:
            break
        children = [c for c in children if c != done]


if __name__ == "__main__":
    main()
