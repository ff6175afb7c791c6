"""``AsyncClient`` and ``Client`` have one signature per operation: both are generated from the
core's request structs by ``scripts/gen-foreign.py`` (checked for freshness by
``scripts/test-rust``); this checks the result: every method, the flows included, has
``Client``'s exact signature."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import List

import sosopay
from sosopay.aio import AsyncClient

PKG = Path(sosopay.__file__).parent


def _client_methods() -> List[ast.FunctionDef]:
    tree = ast.parse((PKG / "client.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Client")
    return [
        f
        for f in cls.body
        if isinstance(f, ast.FunctionDef) and not f.name.startswith("_") and not f.decorator_list
        # The client's own life (AsyncClient.close also stops its thread pool) is not an operation.
        and f.name != "close"
    ]


def test_every_method_has_the_sync_signature() -> None:
    names = [f.name for f in _client_methods()]
    assert "micropay_and_wait" in names and "query" in names
    for name in names:
        sync = inspect.signature(getattr(sosopay.Client, name))
        asyn = inspect.signature(getattr(AsyncClient, name))
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
        # The one difference: the async flows also take an `async def` progress callback.
        widened = [
            p.replace(annotation="Optional[ProgressCallback]")
            if p.annotation == "Optional[AsyncProgressCallback]"
            else p
            for p in asyn.parameters.values()
        ]
        assert widened == list(sync.parameters.values()), name
        assert asyn.return_annotation == sync.return_annotation, name
    init_sync = list(inspect.signature(sosopay.Client.__init__).parameters)
    init_async = list(inspect.signature(AsyncClient.__init__).parameters)
    assert init_async == init_sync + ["max_workers"]
