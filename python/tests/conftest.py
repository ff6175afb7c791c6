"""Shared fixtures: the sandbox gateway (started on port 0 for the session) and clients."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator, List, Optional

import pytest

import sosopay

REPO = Path(__file__).resolve().parents[2]
BUSI = "0010000001"
KEY = "98SDKFUO432HNODS098EEE07U9DUOIUE"


def _sandbox_binary() -> Path:
    explicit = os.environ.get("SOSOPAY_SANDBOX")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = target / "debug" / "sosopay-sandbox"
    if not binary.exists():
        subprocess.run(["cargo", "build", "-p", "sosopay-sandbox"], cwd=REPO, check=True)
    return binary


class Sandbox:
    """A running sandbox: ``base_url`` for clients, ``admin(...)`` for its control endpoints."""

    def __init__(self, proc: "subprocess.Popen[str]", base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self.root = base_url.split("/openGateway/")[0]

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

    def set_faults(self, *rules: str) -> None:
        self.admin("POST", "faults", {"seed": 1, "faults": list(rules)})

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")


def _start_sandbox(time_scale: float) -> Iterator[Sandbox]:
    proc = subprocess.Popen(
        [str(_sandbox_binary()), "--addr", "127.0.0.1:0", "--time-scale", str(time_scale)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("http"):
            raise RuntimeError(f"the sandbox did not print its URL (got {line!r})")
        yield Sandbox(proc, line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: The time scale of the ``sandbox`` fixture: the gateway's 80 s micropay hold lasts 0.8 s.
TIME_SCALE = 0.01
#: The time scale of ``hold_sandbox``: the hold lasts 4 s (long enough to cancel mid-hold).
HOLD_TIME_SCALE = 0.05
#: The gateway's micropay hold, unscaled (seconds).
GATEWAY_HOLD = 80.0
#: The customer code the sandbox holds until the gateway cancels it (never confirmed).
NEVER_CONFIRMS = "130000000000004000"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    yield from _start_sandbox(TIME_SCALE)


@pytest.fixture(scope="session")
def hold_sandbox() -> Iterator[Sandbox]:
    """A second sandbox whose micropay hold lasts 4 s."""
    yield from _start_sandbox(HOLD_TIME_SCALE)


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        sb: Sandbox = request.getfixturevalue("sandbox")
        sb.clear_faults()


@pytest.fixture(params=[False, True], ids=["plain", "3des"])
def client(request: pytest.FixtureRequest, sandbox: Sandbox) -> sosopay.Client:
    return sosopay.Client(
        busi_code=BUSI,
        key=KEY,
        base_url=sandbox.base_url,
        encrypt=bool(request.param),
        default_oper_id="cashier-1",
        default_dev_id="till-1",
        timeout=10,
    )


_counter = [0]


@pytest.fixture
def code(request: pytest.FixtureRequest) -> str:
    """A fresh charge code per test (the sandbox lives for the whole session)."""
    _counter[0] += 1
    return f"PY-{os.getpid()}-{_counter[0]}"


def modules_after(stmt: str) -> List[str]:
    """The modules a fresh interpreter has loaded after running `stmt`."""
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {stmt}; print('\\n'.join(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()
