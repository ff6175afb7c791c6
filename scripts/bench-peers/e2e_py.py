# End-to-end contenders in Python against a sandbox (3DES on), measured like the Rust client of
# cli/examples/e2e_bench.rs (scripts/bench-e2e runs them all):
#   binding   sosopay.Client
#   standin   what a shop writes by hand: http.client with keep-alive (one connection per
#             thread), hashlib MD5 signatures, `cryptography` 3DES, json
# Prints one JSON object: marginal CPU per sequential query (N and 5N queries), requests/s at 1
# and 8 threads for a query and a QR order, TCP connections opened (/proc/net/snmp).
import base64
import hashlib
import http.client
import itertools
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

MODE, BASE, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
BUSI, KEY = "0010000001", "98SDKFUO432HNODS098EEE07U9DUOIUE"
SEQ = itertools.count()


def cpu_ns() -> int:
    # CLOCK_PROCESS_CPUTIME_ID, every thread, to the nanosecond (os.times() counts 10 ms ticks).
    return time.process_time_ns()


def active_opens() -> int:
    lines = [row.split() for row in open("/proc/net/snmp") if row.startswith("Tcp:")]
    return int(lines[1][lines[0].index("ActiveOpens")])


if MODE == "binding":
    import sosopay

    client = sosopay.Client(busi_code=BUSI, key=KEY, base_url=BASE, encrypt=True,
                            default_oper_id="op1", default_dev_id="dev1")

    def new_client():
        return client

    def query(c, code):
        c.query(charge_code=code)

    def order(c):
        c.create_qr_order(charge_code=f"PQ{os.getpid()}-{next(SEQ)}", amount_fen=100,
                          channel=sosopay.Channel.WECHAT, pay_subject="bench")

    def micropay(c, code):
        c.micropay(charge_code=code, amount_fen=100, dynamic_id="130730865806264036", pay_subject="bench")
else:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    K24 = KEY.encode()[:24]
    WS = re.compile(r"[ \t\n\x0b\f\r]")
    u = urllib.parse.urlsplit(BASE)

    def now() -> str:
        return str(int(time.time() * 1000))

    def encrypt(text: str) -> str:
        p = padding.PKCS7(64).padder()
        data = p.update(text.encode()) + p.finalize()
        e = Cipher(TripleDES(K24), modes.ECB()).encryptor()
        return base64.b64encode(e.update(data) + e.finalize()).decode()

    def decrypt(b64: bytes) -> dict:
        d = Cipher(TripleDES(K24), modes.ECB()).decryptor()
        raw = d.update(base64.b64decode(b64)) + d.finalize()
        un = padding.PKCS7(64).unpadder()
        return json.loads((un.update(raw) + un.finalize()).decode())

    class Conn(threading.local):
        def get(self) -> http.client.HTTPConnection:
            if not hasattr(self, "c"):
                self.c = http.client.HTTPConnection(u.hostname, u.port, timeout=20)
            return self.c

    CONN = Conn()

    def new_client():
        return None

    def call(method: str, path: str, body=None) -> dict:
        c = CONN.get()
        c.request(method, path, body=body, headers={"Content-Type": "text/plain;charset=UTF-8"} if body else {})
        r = c.getresponse()
        data = r.read()
        reply = decrypt(data)
        root = next(iter(reply.values())) if len(reply) == 1 else reply
        res = root.get("RESULT", {})
        if res.get("CODE") not in ("SUCCESS", "SUCESS"):
            raise RuntimeError(f"{path}: {res}")
        return root

    def query(_c, code):
        ts = now()
        sign = hashlib.md5((ts + KEY + code).encode()).hexdigest() + "%3A" + ts
        call("GET", f"{u.path}query/{code}/{BUSI}?sign={sign}&_type=json&BUSI_ID={BUSI}&serType=0"
                    f"&encrypt=3DES&busiCode={BUSI}")

    def post(op: str, fields: dict) -> dict:
        body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        ts = now()
        sign = hashlib.md5((ts + KEY + WS.sub("", body)).encode()).hexdigest() + ":" + ts
        return call("POST", f"{u.path}{op}?sign={sign}&_type=json&encrypt=3DES&busiCode={BUSI}", encrypt(body))

    def order(_c):
        post("order", {"BUSI_ID": BUSI, "OPER_ID": "op1", "DEV_ID": "dev1", "AMT": "0.01", "CHANNEL_TYPE": "2",
                       "CHARGE_CODE": f"SQ{os.getpid()}-{next(SEQ)}", "PAY_SUBJECT": "bench"})

    def micropay(_c, code):
        post("preOrder", {"BUSI_ID": BUSI, "OPER_ID": "op1", "DEV_ID": "dev1", "AMT": "0.01", "CHANNEL_TYPE": "0",
                          "DYNAMIC_ID_TYPE": "1", "DYNAMIC_ID": "130730865806264036", "CHARGE_CODE": code,
                          "PAY_SUBJECT": "bench"})


def throughput(threads: int, per_thread: int, op: str, code: str) -> tuple[float, int]:
    opens = active_opens()
    c = new_client()
    work = (lambda: query(c, code)) if op == "query" else (lambda: order(c))

    def loop(_i: int) -> None:
        for _ in range(per_thread):
            work()

    t0 = time.perf_counter()
    if threads == 1:
        loop(0)
    else:
        with ThreadPoolExecutor(threads) as ex:
            list(ex.map(loop, range(threads)))
    took = time.perf_counter() - t0
    return threads * per_thread / took, active_opens() - opens


code = f"PB{MODE[:1].upper()}{os.getpid()}"
micropay(new_client(), code)
throughput(1, 200, "query", code)


def cpu(count: int) -> int:
    before = cpu_ns()
    throughput(1, count, "query", code)
    return cpu_ns() - before


small, large = cpu(N), cpu(5 * N)
q1, q1o = throughput(1, N, "query", code)
q8, q8o = throughput(8, N // 2, "query", code)
o1, _ = throughput(1, N // 2, "order", code)
o8, o8o = throughput(8, N // 4, "order", code)
print(json.dumps({
    "runtime": f"python-{MODE}",
    "cpu_us_per_query": round((large - small) / (4 * N) / 1000, 1),
    "query_rps_1": round(q1), "query_rps_8": round(q8),
    "order_rps_1": round(o1), "order_rps_8": round(o8),
    "connections_query_1": q1o, "connections_query_8": q8o, "connections_order_8": o8o,
}))
