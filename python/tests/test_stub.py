"""The stub ``_native.pyi`` says what the extension module really takes: every function and
method it declares has the native signature's parameters (names, keyword-only, which have a
default), read from the compiled module's ``__text_signature__`` (the pyo3 ``signature``)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from sosopay import _native

STUB = Path(_native.__file__).with_name("_native.pyi")

Param = Tuple[str, str, bool]  # name, kind, has a default


def _stub_defs() -> Dict[str, List[Param]]:
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    out: Dict[str, List[Param]] = {}

    def params(fn: ast.FunctionDef) -> List[Param]:
        a = fn.args
        pos = a.posonlyargs + a.args
        pos_defaults = [False] * (len(pos) - len(a.defaults)) + [True] * len(a.defaults)
        got = [
            (p.arg, "positional", d)
            for p, d in zip(pos, pos_defaults)
            if p.arg != "self"
        ]
        got += [(p.arg, "keyword", d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
        assert a.kwarg is None, f"{fn.name}: **{a.kwarg.arg} in the stub"
        return got

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = params(node)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.decorator_list:
                    out[f"{node.name}.{item.name}"] = params(item)
    return out


def _native_params(obj: Any) -> List[Param]:
    sig = inspect.signature(obj)
    kinds: Dict[Any, str] = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
    }
    return [
        (p.name, kinds.get(p.kind, str(p.kind)), p.default is not inspect.Parameter.empty)
        for p in sig.parameters.values()
        if p.name not in ("self", "$self", "cls", "$cls")
    ]


DEFS = _stub_defs()


def _resolve(path: str) -> Any:
    obj: Any = _native
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def test_the_stub_has_no_catch_all_parameters() -> None:
    assert "**kwargs" not in STUB.read_text(encoding="utf-8")
    assert len(DEFS) > 20


@pytest.mark.parametrize("path", sorted(p for p in DEFS if not p.endswith("__init__")))
def test_stub_matches_the_native_signature(path: str) -> None:
    obj = _resolve(path)
    assert obj is not None, f"the stub declares {path}, the extension module has no such thing"
    if getattr(obj, "__text_signature__", None) is None:
        pytest.skip(f"{path}: no native text signature")
    assert DEFS[path] == _native_params(obj), path


def test_native_client_methods_are_all_in_the_stub() -> None:
    public = [n for n in dir(_native.NativeClient) if not n.startswith("_")]
    missing = [n for n in public if f"NativeClient.{n}" not in DEFS]
    props = {"busi_code", "base_url", "encrypt"}
    assert [n for n in missing if n not in props] == []
