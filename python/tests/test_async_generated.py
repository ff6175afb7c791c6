"""``AsyncClient`` takes its signatures from ``Client``: the plain methods of ``sosopay/aio.py``
between the ``generated from client.py`` markers are generated from ``Client``'s (same
parameters, annotations, defaults and docstring; the body runs the call on the pool), and every
method, the flows included, must have ``Client``'s exact signature.
``SOSOPAY_BLESS=1 pytest tests/test_async_generated.py`` rewrites the generated part."""

from __future__ import annotations

import ast
import inspect
import os
from pathlib import Path
from typing import List

import sosopay
from sosopay.aio import AsyncClient

PKG = Path(sosopay.__file__).parent
BEGIN = "    # --- generated from client.py (SOSOPAY_BLESS=1 pytest tests/test_async_generated.py)\n"
END = "    # --- end of generated\n"


def _client_methods() -> List[ast.FunctionDef]:
    tree = ast.parse((PKG / "client.py").read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Client")
    return [
        f
        for f in cls.body
        if isinstance(f, ast.FunctionDef) and not f.name.startswith("_") and not f.decorator_list
    ]


def _is_flow(f: ast.FunctionDef) -> bool:
    return any(a.arg == "on_progress" for a in f.args.kwonlyargs)


def generate() -> str:
    src = (PKG / "client.py").read_text(encoding="utf-8")
    out = []
    for f in _client_methods():
        if _is_flow(f):
            continue  # written by hand: their cancellation differs (checked below)
        assert not f.args.args[1:] and not f.args.vararg and not f.args.kwarg, f.name
        params = []
        for a, d in zip(f.args.kwonlyargs, f.args.kw_defaults):
            ann = f": {ast.unparse(a.annotation)}" if a.annotation else ""
            default = f" = {ast.unparse(d)}" if d is not None else ""
            params.append(f"        {a.arg}{ann}{default},\n")
        doc = ast.get_source_segment(src, f.body[0]) if ast.get_docstring(f) else None
        names = ", ".join(f"{a.arg}={a.arg}" for a in f.args.kwonlyargs)
        ret = f" -> {ast.unparse(f.returns)}" if f.returns else ""
        out.append(
            f"    async def {f.name}(\n        self,\n        *,\n{''.join(params)}    ){ret}:\n"
            + (f"        {doc}\n" if doc else "")
            + f"        return await self._run(functools.partial(self._client.{f.name}, {names}))\n\n"
        )
    return "".join(out)


def test_the_plain_methods_are_generated_from_client() -> None:
    path = PKG / "aio.py"
    text = path.read_text(encoding="utf-8")
    a = text.index(BEGIN) + len(BEGIN)
    b = text.index(END, a)
    generated = generate()
    if text[a:b] != generated and os.environ.get("SOSOPAY_BLESS"):
        path.write_text(text[:a] + generated + text[b:], encoding="utf-8")
        return
    assert text[a:b] == generated, "sosopay/aio.py is stale: SOSOPAY_BLESS=1 pytest tests/test_async_generated.py"


def test_every_method_has_the_sync_signature() -> None:
    names = [f.name for f in _client_methods()]
    assert "micropay_and_wait" in names and "query" in names
    for name in names:
        sync = inspect.signature(getattr(sosopay.Client, name))
        asyn = inspect.signature(getattr(AsyncClient, name))
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
        assert list(asyn.parameters.values()) == list(sync.parameters.values()), name
        assert asyn.return_annotation == sync.return_annotation, name
    init_sync = list(inspect.signature(sosopay.Client.__init__).parameters)
    init_async = list(inspect.signature(AsyncClient.__init__).parameters)
    assert init_async == init_sync + ["max_workers"]
