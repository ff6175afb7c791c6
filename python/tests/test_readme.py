"""The README's examples marked ``<!-- runnable: python -->`` run against the sandbox (with a
4 s hold, so that their "Cancel" lands while the customer has not confirmed)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from conftest import KEY, NEVER_CONFIRMS, Sandbox

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> List[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"<!-- runnable: python -->\n```python\n(.*?)```", text, flags=re.S)


def test_the_readme_has_runnable_examples() -> None:
    assert len(_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_example_runs(index: int, hold_sandbox: Sandbox, code: str) -> None:
    source = _blocks()[index]
    order_no = f"{code}-README-{index}"
    env: Dict[str, Any] = {
        "__name__": "readme_example",
        "KEY": KEY,
        "BASE_URL": hold_sandbox.base_url,
        "scanned_code": NEVER_CONFIRMS,
        "order_no": order_no,
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"README.md example {index}", "exec"), env)
    printed = out.getvalue()
    assert printed, "the example prints its outcome"
    orders = [o for o in hold_sandbox.admin("GET", "ledger")["orders"] if o["charge_code"] == order_no]
    assert orders and int(orders[0]["state"]) == 2, f"the order is reversed: {orders}\n{printed}"
    if "final:" in printed:
        assert "CANCELLED" in printed, printed
