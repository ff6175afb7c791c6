"""Benchmark (not a test): envelope seal + open of a realistic order body.

seal = sign (MD5 over the whitespace-stripped body) + 3DES-ECB encrypt + Base64;
open = Base64 decode + 3DES decrypt + unpad. The binding (``sosopay.Envelope``, the key
schedule built once) against the pure-Python version a shop writes by hand with ``hashlib``
and ``cryptography`` (same as /work/shared/bench/envelope_py.py).

    python bench/bench_envelope.py [BODY_JSON] [ITERATIONS]
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
import time
from pathlib import Path
from typing import Callable, Tuple

import sosopay

KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"
TS = "1795706991879"
DEFAULT_BODY = Path(__file__).resolve().parents[2] / "core" / "benches" / "data" / "order-body.json"


def pure_python() -> Callable[[str], str]:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    k24 = bytes(bytearray((ord(c) & 0xFF) for c in KEY[:24]).ljust(24, b"\0"))
    ws = re.compile(r"[ \t\n\x0b\f\r]")

    def seal(body: str) -> Tuple[str, str]:
        sign = hashlib.md5((TS + KEY + ws.sub("", body)).encode()).hexdigest() + ":" + TS
        p = padding.PKCS7(64).padder()
        data = p.update(body.encode()) + p.finalize()
        e = Cipher(TripleDES(k24), modes.ECB()).encryptor()
        return sign, base64.b64encode(e.update(data) + e.finalize()).decode()

    def open_(ct: str) -> str:
        d = Cipher(TripleDES(k24), modes.ECB()).decryptor()
        raw = d.update(base64.b64decode(ct)) + d.finalize()
        u = padding.PKCS7(64).unpadder()
        return (u.update(raw) + u.finalize()).decode()

    def run(body: str) -> str:
        _, ct = seal(body)
        return open_(ct)

    return run


def binding() -> Callable[[str], str]:
    env = sosopay.Envelope(KEY)

    def run(body: str) -> str:
        _, ct = env.seal(body, TS)
        return env.decrypt(ct)

    return run


def binding_verified() -> Callable[[str], str]:
    """seal + open with the signature verified too (more work than the baseline does)."""
    env = sosopay.Envelope(KEY)

    def run(body: str) -> str:
        sign, ct = env.seal(body, TS)
        return env.open(sign, ct)

    return run


def measure(f: Callable[[str], str], body: str, n: int) -> float:
    for _ in range(min(2000, n)):
        f(body)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            f(body)
        best = max(best, n / (time.perf_counter() - t))
    return best


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_BODY
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    body = path.read_text("utf-8")
    py, rs, rsv = pure_python(), binding(), binding_verified()
    assert py(body) == rs(body) == rsv(body) == body
    # Both produce the same wire bytes.
    assert sosopay.Envelope(KEY).seal(body, TS)[1] == sosopay.encrypt(KEY, body)
    py_ops = measure(py, body, n)
    rs_ops = measure(rs, body, n)
    rsv_ops = measure(rsv, body, n)
    print(f"body: {path.name}, {len(body.encode())} bytes, {n} iterations x3 (best)")
    print(f"pure Python (hashlib + cryptography): {py_ops:10.0f} ops/s ({1e6 / py_ops:6.1f} us/op)")
    print(f"sosopay binding (seal + decrypt):     {rs_ops:10.0f} ops/s ({1e6 / rs_ops:6.1f} us/op)")
    print(f"sosopay binding (seal + open+verify): {rsv_ops:10.0f} ops/s ({1e6 / rsv_ops:6.1f} us/op)")
    print(f"ratio binding / pure Python: {rs_ops / py_ops:.2f}x (with verification: {rsv_ops / py_ops:.2f}x)")


if __name__ == "__main__":
    main()
