"""The pytest plugin of ``sosopay.testing`` (registered through the ``pytest11`` entry point, so
installing ``sosopay`` is enough).

A top-level module, not a submodule of ``sosopay``: pytest loads every ``pytest11`` plugin at
start-up, and this way no pytest run in an environment with ``sosopay`` installed pays for
importing ``sosopay`` unless a test uses the fixtures (the ``_hypothesis_pytestplugin`` pattern).

Fixtures:

``sosopay_sandbox``
    A :class:`~sosopay.testing.Sandbox` for one test: the session's sandbox with its fault
    rules cleared and its orders, refunds and notifications forgotten before the test (and
    the rules cleared again after it).
``sosopay_sandbox_session``
    The session's sandbox itself (started at first use, closed at the end; not reset).

Settings (``pytest.ini`` / ``pyproject.toml`` ``[tool.pytest.ini_options]``):

``sosopay_time_scale``
    The sandbox's ``time_scale`` (default ``0.01``: the 80 s micropay hold lasts 0.8 s).
``sosopay_seed``
    The seed of fault injection (default ``0``).

Nothing is imported from ``sosopay`` until a fixture is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

import pytest

if TYPE_CHECKING:
    from sosopay.testing import Sandbox

__all__ = ["sosopay_sandbox", "sosopay_sandbox_session"]

DEFAULT_TIME_SCALE = "0.01"
_T = TypeVar("_T")


def _setting(config: pytest.Config, name: str, default: str, parse: Callable[[str], _T], what: str) -> _T:
    """The ini setting ``name`` parsed; a value that is not ``what`` is a ``ValidationError``
    naming the setting (pytest.ini keeps a comment after a value as part of it)."""
    raw = str(config.getini(name) or default).strip()
    try:
        return parse(raw)
    except ValueError:
        from sosopay.errors import _invalid

        hint = " (a comment goes on a line of its own in pytest.ini)" if "#" in raw or ";" in raw else ""
        raise _invalid(name, f"{raw!r} is not {what}{hint}") from None


def _seed(config: pytest.Config) -> int:
    return _setting(config, "sosopay_seed", "0", int, "a whole number")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "sosopay_time_scale",
        "time scale of the sosopay sandbox fixtures (0.01: the 80 s micropay hold lasts 0.8 s)",
        default=DEFAULT_TIME_SCALE,
    )
    parser.addini("sosopay_seed", "seed of the sosopay sandbox's fault injection", default="0")


@pytest.fixture(scope="session")
def sosopay_sandbox_session(pytestconfig: pytest.Config) -> Iterator["Sandbox"]:
    """The session's sandbox gateway (not reset between tests; see ``sosopay_sandbox``)."""
    from sosopay.testing import Sandbox

    scale = _setting(pytestconfig, "sosopay_time_scale", DEFAULT_TIME_SCALE, float, "a number")
    with Sandbox(time_scale=scale, seed=_seed(pytestconfig)) as sb:
        yield sb


@pytest.fixture
def sosopay_sandbox(sosopay_sandbox_session: "Sandbox", pytestconfig: pytest.Config) -> Iterator["Sandbox"]:
    """The sandbox gateway, clean for this test: no fault rules (the configured seed), no
    orders, no refunds, no notifications."""
    sb = sosopay_sandbox_session
    sb.faults.set([], seed=_seed(pytestconfig))
    sb.reset()
    yield sb
    if not sb.closed:
        sb.faults.clear()
