"""The package's shape: lazy names (`import sosopay` stays cheap) and records that behave as
`dataclasses.dataclass(frozen=True)` ones though built without `exec` (sosopay/_record.py)."""

from __future__ import annotations

import ast
import copy
import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Set

import pytest

import sosopay
from conftest import modules_after
from sosopay._record import dataclass as record_dataclass

INIT = Path(sosopay.__file__)


def _type_checking_names() -> Dict[str, Set[str]]:
    """The names the `if TYPE_CHECKING:` block of sosopay/__init__.py imports, by module."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    out: Dict[str, Set[str]] = {}
    for node in block.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module is not None
            out.setdefault(node.module, set()).update(a.name for a in node.names)
    return out


def test_lazy_names_are_what_type_checkers_see() -> None:
    lazy = {m: set(names) for m, names in sosopay._LAZY.items()}
    assert lazy == _type_checking_names()


def test_every_exported_name_resolves_to_its_module() -> None:
    for name in sosopay.__all__:
        value = getattr(sosopay, name)
        assert value is not None, name
    for module, names in sosopay._LAZY.items():
        mod = sys.modules[f"sosopay.{module}"]
        for name in names:
            assert getattr(sosopay, name) is getattr(mod, name)
    assert sosopay.TimeoutError is sosopay.RequestTimeoutError is sosopay.GatewayTimeoutError
    assert issubclass(sosopay.TimeoutError, TimeoutError)
    assert set(sosopay.__all__) <= set(dir(sosopay))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        sosopay.Nope  # noqa: B018


def test_import_sosopay_loads_only_the_native_module() -> None:
    mods = modules_after("import sosopay")
    assert [m for m in mods if m.startswith("sosopay")] == ["sosopay", "sosopay._native"]
    for heavy in ("asyncio", "dataclasses", "decimal", "typing"):
        assert heavy not in mods, heavy


def test_the_first_use_of_the_client_needs_no_dataclasses_module() -> None:
    mods = modules_after("import sosopay; sosopay.Client; sosopay.QueryReply; sosopay.Goods")
    for heavy in ("asyncio", "dataclasses", "inspect"):
        assert heavy not in mods, heavy


def test_records_are_dataclasses_on_first_use() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import dataclasses, sosopay; r = sosopay.OrderReply;"
            "print(dataclasses.is_dataclass(r), [(f.name, f.repr, f.compare) for f in dataclasses.fields(r)][-1],"
            " r.__dataclass_params__.frozen, 'raw' in r.__dict__)",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.split("\n")[0] == "True ('raw', False, False) True False"


def test_star_import_gives_every_name() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from sosopay import *; print(Client.__name__, Goods.__name__, TimeoutError.__name__)"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.split() == ["Client", "Goods", "RequestTimeoutError"]


# ---- records: the same behaviour as a stdlib frozen dataclass ----------------------------


def _pair() -> Any:
    def body() -> Dict[str, Any]:
        return {
            "__annotations__": {"a": "int", "b": "Optional[str]", "raw": "Dict[str, Any]", "n": "int"},
            "b": None,
            "raw": dataclasses.field(default_factory=dict, repr=False, compare=False),
            "n": 7,
            "__doc__": "A record.",
        }

    std: Any = dataclasses.dataclass(frozen=True)(type("Rec", (), body()))
    ours: Any = record_dataclass(frozen=True)(type("Rec", (), body()))
    return std, ours


def _outcome(f: Any) -> Any:
    try:
        return ("ok", f())
    except Exception as e:  # noqa: BLE001
        return (type(e), str(e))


def test_a_record_behaves_as_a_frozen_dataclass() -> None:
    std, ours = _pair()
    cases: List[Callable[[Any], Any]] = [
        lambda c: repr(c(1)),
        lambda c: repr(c(1, "x", {"k": 1}, 3)),
        lambda c: c(1, "x") == c(1, "x", {"other": 2}),
        lambda c: c(1) == c(2),
        lambda c: c(1).__eq__(object()),
        lambda c: hash(c(1, "x")) == hash(c(1, "x", {"z": 1})),
        lambda c: dataclasses.asdict(c(1, raw={"k": [1]})),
        lambda c: dataclasses.astuple(c(1)),
        lambda c: repr(dataclasses.replace(c(1), b="y")),
        lambda c: [f.name for f in dataclasses.fields(c)],
        *([lambda c: c.__match_args__] if sys.version_info >= (3, 10) else []),  # a dataclass has it from 3.10
        lambda c: dataclasses.is_dataclass(c(1)),
        lambda c: c(b="q", a=5).a,
        lambda c: setattr(c(1), "a", 2),
        lambda c: setattr(c(1), "other", 2),
        lambda c: delattr(c(1), "a"),
        lambda c: c(),
        lambda c: c(1, 2, 3, 4, 5),
        lambda c: c(1, a=2),
        lambda c: c(1, bogus=2),
        lambda c: c(1).raw is not c(1).raw,
        lambda c: repr(copy.deepcopy(c(1, "x"))),
        lambda c: c.__dataclass_params__.frozen,
    ]
    for i, case in enumerate(cases):
        a, b = _outcome(lambda: case(std)), _outcome(lambda: case(ours))
        assert a[0] == b[0], (i, a, b)
        if a[0] == "ok":
            assert a == b, (i, a, b)
    # Their messages name the same things (the stdlib's wording differs slightly).
    assert "cannot assign to field 'a'" in _outcome(lambda: setattr(ours(1), "a", 2))[1]
    assert "'a'" in _outcome(lambda: ours())[1]


def test_package_records_pickle_and_subclass() -> None:
    event = sosopay.FlowEvent(kind="done", elapsed=1.5, status=sosopay.OutcomeStatus.PAID)
    assert pickle.loads(pickle.dumps(event)) == event
    assert hash(event) == hash(sosopay.FlowEvent("done", 1.5, None, None, sosopay.OutcomeStatus.PAID))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.elapsed = 2.0  # type: ignore[misc]

    @dataclasses.dataclass(frozen=True)
    class Tagged(sosopay.FlowEvent):
        tag: Optional[str] = None

    t = Tagged("done", 1.0, tag="x")
    assert t.tag == "x" and t.kind == "done"
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclasses.dataclass
        class Loose(sosopay.FlowEvent):  # type: ignore[misc]
            pass


def test_record_type_hints_resolve() -> None:
    # Frameworks that read a dataclass's types (FastAPI, pydantic) call get_type_hints.
    import typing

    for cls in (sosopay.QueryReply, sosopay.OrderReply, sosopay.FlowEvent, sosopay.PaymentOutcome, sosopay.Goods):
        hints = typing.get_type_hints(cls)
        assert set(f.name for f in dataclasses.fields(cls)) <= set(hints), cls


def test_records_become_dataclasses_once_across_threads() -> None:
    code = (
        "import dataclasses, threading, sosopay\n"
        "errors, seen = [], []\n"
        "def go():\n"
        "    try:\n"
        "        seen.append((dataclasses.is_dataclass(sosopay.OrderReply), len(dataclasses.fields(sosopay.OrderReply))))\n"
        "    except Exception as e:\n"
        "        errors.append(e)\n"
        "ts = [threading.Thread(target=go) for _ in range(16)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
        "print(errors, set(seen) == {(True, len(dataclasses.fields(sosopay.OrderReply)))})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    # Every thread saw the same complete dataclass (however many fields the core gives it).
    assert out.stdout.strip() == "[] True"
