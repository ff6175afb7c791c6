"""The stub ``_native.pyi`` says what the extension module really is: mypy's ``stubtest``
compares it with the compiled module (every name it exports, every class, function, method
and parameter, their defaults, which classes can be subclassed), both ways."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sosopay import _native

STUB = Path(_native.__file__).with_name("_native.pyi")
ALLOW = Path(__file__).with_name("stubtest-allowlist.txt")


def test_the_stub_has_no_catch_all_parameters() -> None:
    text = STUB.read_text(encoding="utf-8")
    assert "**kwargs" not in text and "*args" not in text


def test_the_stub_matches_the_native_module() -> None:
    pytest.importorskip("mypy.stubtest")
    r = subprocess.run(
        # The module's __all__ is pyo3's list of what it defines; each name is checked on its own.
        [sys.executable, "-m", "mypy.stubtest", "sosopay._native", "--allowlist", str(ALLOW)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
