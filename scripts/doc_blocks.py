#!/usr/bin/env python3
"""Runs the code blocks of every README and doc (scripts/test-docs), so that an example that
stops working breaks the build.

    scripts/doc_blocks.py list               every block: file:line, language, how it is checked
    scripts/doc_blocks.py python PYTHON      runs each Python block against an in-process sandbox
    scripts/doc_blocks.py js NODE_DIR        runs each JS block under CommonJS and under ESM
    scripts/doc_blocks.py check-covered      fails if a block of a checked language has no check

How each language is checked:
  rust    doc-tests of sosopay-sandbox (sandbox/src/lib.rs includes the Markdown files)
  python  run with a prelude that starts a sandbox and defines the names the docs leave to the
          reader (KEY, BASE_URL, scanned_code, order_no, orders, render_qr, url, ...); clients
          built for `environment="production"` are pointed at the sandbox
  js      run as CommonJS and, with `require` rewritten to `import`, as an ES module
  ts      type-checked with `tsc --strict` (scripts/test-docs)
  kotlin  compiled by scripts/test-mobile (docs/TESTING.md's blocks are examples/kotlin-till's
          code; mobile/README's till blocks are compiled from its test sources)
  sh      `sosopay ...` lines must parse (run with --help); the curl examples run against a
          sandbox; the rest (installing, building) are the reader's set-up and are not run
  swift   not compiled: no Swift compiler on our machines (marked `skip` in the docs)

A block is left out only when marked by an HTML comment on the line before its fence:
    <!-- doc: skip REASON -->     (the reason is printed by `list`)
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    "README.md",
    "python/README.md",
    "node/README.md",
    "mobile/README.md",
    "docs/ARCHITECTURE.md",
    "docs/BEHAVIOUR.md",
    "docs/CLIENT-API.md",
    "docs/SANDBOX.md",
    "docs/TESTING.md",
    "docs/TROUBLESHOOTING.md",
    "docs/RELIABILITY.md",
    "docs/FUZZING.md",
    "docs/BENCHMARKS.md",
    "docs/RELEASING.md",
    "examples/kotlin-till/README.md",
    "examples/python-shop/README.md",
    "examples/node-shop/README.md",
]

FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
MARK = re.compile(r"<!--\s*doc:\s*(\w+)\s*(.*?)-->\s*$")


@dataclass
class Block:
    path: str
    line: int
    lang: str
    code: str
    mark: str  # "" or "skip" / "config" / ...
    reason: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def blocks() -> list[Block]:
    out: list[Block] = []
    for rel in DOCS:
        p = ROOT / rel
        if not p.exists():
            continue
        text = p.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mk = MARK.search(before)
            lang = m.group(1).strip().split(",")[0].split()[0] if m.group(1).strip() else ""
            out.append(Block(rel, line, lang, m.group(2), mk.group(1) if mk else "",
                             mk.group(2).strip() if mk else ""))
    return out


# ---------------------------------------------------------------------------------------------
# Python

PY_PRELUDE = '''
import os as _os, sys as _sys, threading as _threading, http.server as _http
import sosopay
from sosopay.testing import Sandbox as _Sandbox, codes as _codes

_sb = _Sandbox(time_scale=0.01)
KEY = _sb.key
BASE_URL = _sb.base_url
scanned_code = _codes.PAY_NOW
order_no = "DOC-" + _os.urandom(4).hex()

# Clients built for production (as the docs show them) talk to the sandbox instead.
def _to_sandbox(cls):
    init = cls.__init__
    def __init__(self, *a, **kw):
        if "environment" in kw or kw.get("base_url") == BASE_URL:
            kw.pop("environment", None)
            kw.update(base_url=BASE_URL, busi_code=_sb.busi_code, key=KEY)
        init(self, *a, **kw)
    cls.__init__ = __init__
_to_sandbox(sosopay.Client)
_to_sandbox(sosopay.AsyncClient)

class _Orders:
    """The shop's own order table, as the docs leave it to the reader."""
    def __init__(self): self.paid, self.flagged = {}, []
    def amount_fen(self, charge_code):
        o = _sb.order(charge_code)  # the amount the shop ordered (here: the sandbox's record)
        return o.amount_fen if o else None
    def mark_paid(self, charge_code, amount_fen=None, gateway_no=None): self.paid[charge_code] = amount_fen
    def flag(self, n): self.flagged.append(n)
orders = _Orders()

def render_qr(text):
    """Shows the QR code; here the customer scans it and pays at once."""
    assert text, "no QR code"
    awaiting = [o for o in _sb.ledger().orders if o.state == sosopay.OrderState.AWAITING_PAYMENT]
    _sb.pay(awaiting[-1].charge_code)

class _Webhook(_http.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
_server = _http.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
_threading.Thread(target=_server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{_server.server_address[1]}/notify?_type=json"
client = _sb.client(default_oper_id="cashier-1", default_dev_id="till-1")
'''


PY_RUNNER = PY_PRELUDE + '''
sb = _sb
import asyncio as _asyncio, json as _json, traceback as _tb
_results = []
for _where, _mode, _code in _json.loads(_sys.stdin.read()):
    try:
        if _mode == "compile":
            compile(_code, _where, "exec", flags=0x2000)  # ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        elif _mode == "async":
            _src = "async def _doc_block():\\n" + "\\n".join("    " + l for l in _code.splitlines()) \\
                + "\\n    globals().update({k: v for k, v in locals().items()})\\n"
            exec(compile(_src, _where, "exec"), globals())
            _asyncio.run(_doc_block())
        else:
            exec(compile(_code, _where, "exec"), globals())
        _results.append((_where, None))
        # A block that ran `with Sandbox(...) as sb:` leaves it closed; the page's next blocks
        # mean the sandbox of the page.
        if getattr(globals().get("sb"), "closed", False):
            sb = _sb
            client = _sb.client(default_oper_id="cashier-1", default_dev_id="till-1")
    except BaseException:
        _results.append((_where, _tb.format_exc()))
_sb.close()
print("\\n@@RESULTS@@" + _json.dumps(_results))
'''

TOP_LEVEL_ASYNC = re.compile(r"^(?:await\b|async (?:with|for)\b|\S.*=\s*await\b)", re.M)


def run_python(python: str) -> int:
    """Runs the Python blocks of each file in order, in one namespace per file (a reader goes
    through a page top to bottom), after a prelude that starts a sandbox."""
    import json
    failed = checked = 0
    by_file: dict[str, list[Block]] = {}
    for b in blocks():
        if b.lang == "python" and b.mark in ("", "compile"):
            by_file.setdefault(b.path, []).append(b)
    for path, bs in by_file.items():
        jobs = []
        for b in bs:
            mode = "compile" if b.mark == "compile" else ("async" if TOP_LEVEL_ASYNC.search(b.code) and "asyncio.run(" not in b.code else "run")
            jobs.append((b.where, mode, b.code))
        r = subprocess.run([python, "-c", PY_RUNNER], input=json.dumps(jobs), capture_output=True,
                           text=True, timeout=300, cwd=ROOT)
        out = r.stdout.rsplit("@@RESULTS@@", 1)
        if r.returncode != 0 or len(out) != 2:
            failed += len(bs)
            checked += len(bs)
            print(f"FAIL {path} (python runner)\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
            continue
        for where, err in json.loads(out[1]):
            checked += 1
            if err:
                failed += 1
                print(f"FAIL {where} (python)\n{err[-3000:]}")
            else:
                print(f"ok   {where} (python)")
    print(f"python blocks: {checked - failed} of {checked} ran")
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# JavaScript

JS_PRELUDE = """
'use strict'
// Loaded with --require before each JS block: what the docs leave to the reader.
const http = require('node:http')
const sosopay = require('sosopay')
const BASE_URL = process.env.SOSOPAY_DOC_BASE_URL
const Original = sosopay.Client
// Clients built for production (as the docs show them) talk to the sandbox instead.
sosopay.Client = class Client extends Original {
  constructor(config) {
    if (config && config.environment) {
      config = { ...config, baseUrl: BASE_URL }
      delete config.environment
    }
    super(config)
  }
}
const webhook = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 200; res.end() }) })
webhook.listen(0, '127.0.0.1')
webhook.unref()
Object.assign(globalThis, {
  BASE_URL,
  KEY: process.env.SOSOPAY_KEY,
  key: process.env.SOSOPAY_KEY,
  scannedCode: '130730865806264036',
  code: '130730865806264036',
  orderNo: 'DOC-' + Date.now(),
  markPaid: async () => {},
  amountFenOf: async () => 1250,
  flagForReview: async () => {},
  // Shows a QR code; here the customer scans it and pays (through the sandbox's admin API).
  showQrCode: (text) => {
    if (!text) throw new Error('no QR code')
    const root = BASE_URL.replace('openGateway/openService/', '')
    setTimeout(async () => {
      const orders = await (await fetch(`${root}_sandbox/orders`)).json()
      const awaiting = orders.filter((o) => o.state === 0).pop()
      await fetch(`${root}_sandbox/orders/${awaiting.charge_code}/pay`, { method: 'POST' })
    }, 50)
  },
  onNotification: async () => {},
})
Object.defineProperty(globalThis, 'notifyUrl', { get: () => `http://127.0.0.1:${webhook.address().port}/notify?_type=json` })
"""

REQUIRE = re.compile(r"^(const|let|var)\s+(\{[^}]*\}|\w+)\s*=\s*require\((['\"])([^'\"]+)\3\);?[ \t]*(//.*)?$", re.M)


def to_esm(code: str) -> str:
    def repl(m: re.Match[str]) -> str:
        names, mod = m.group(2), m.group(4)
        if names.startswith("{"):
            inner = re.sub(r"(\w+)\s*:\s*(\w+)", r"\1 as \2", names)
            return f"import {inner} from '{mod}';"
        return f"import {names} from '{mod}';"
    return REQUIRE.sub(repl, code)


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    binary = ROOT / "target" / "debug" / "sosopay-sandbox"
    p = subprocess.Popen([str(binary), "--addr", "127.0.0.1:0", "--time-scale", "0.01"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert p.stdout is not None
    url = p.stdout.readline().strip()
    if not url.startswith("http"):
        p.kill()
        raise SystemExit(f"the sandbox did not start ({binary})")
    return p, url


def run_js(node_dir: str) -> int:
    """Runs each JS block as CommonJS and, with `require` rewritten to `import`, as an ES
    module (blocks marked `compile`: syntax-checked both ways)."""
    work = ROOT / "target" / "doc-blocks" / "js"
    mods = work / "node_modules"
    mods.mkdir(parents=True, exist_ok=True)
    link = mods / "sosopay"
    if not link.exists():
        link.symlink_to(Path(node_dir).resolve(), target_is_directory=True)
    for old in list(work.glob("*.cjs")) + list(work.glob("*.mjs")):
        old.unlink()
    (work / "prelude.cjs").write_text(JS_PRELUDE, encoding="utf-8")
    sandbox, url = start_sandbox()
    env = dict(os.environ, SOSOPAY_DOC_BASE_URL=url, SOSOPAY_KEY="98SDKFUO432HNODS098EEE07U9DUOIUE")
    failed = checked = 0
    try:
        for b in blocks():
            if b.lang not in ("js", "javascript") or b.mark not in ("", "compile"):
                continue
            name = f"{Path(b.path).stem}-{b.line}"
            wrapped = "(async () => {\n" + b.code + "\n})().catch((e) => { console.error(e); process.exit(1); });\n"
            variants = [("cjs", wrapped)]
            if "require(" in b.code:
                esm = to_esm(b.code)
                imports = "\n".join(line for line in esm.splitlines() if line.startswith("import "))
                rest = "\n".join(line for line in esm.splitlines() if not line.startswith("import "))
                variants.append(("mjs", imports + "\n" + "await (async () => {\n" + rest + "\n})();\n"))
            for ext, src in variants:
                path = work / f"{name}.{ext}"
                path.write_text(src, encoding="utf-8")
                cmd = ["node", "--check", str(path)] if b.mark == "compile" else \
                    ["node", "--require", str(work / "prelude.cjs"), str(path)]
                import urllib.request
                root = url.replace("openGateway/openService/", "")
                urllib.request.urlopen(urllib.request.Request(root + "_sandbox/reset", method="POST")).read()
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=work, env=env)
                checked += 1
                how = "checked" if b.mark == "compile" else "ran"
                if r.returncode != 0:
                    failed += 1
                    print(f"FAIL {b.where} (js, {ext})\n{r.stdout[-2000:]}{r.stderr[-3000:]}")
                else:
                    print(f"ok   {b.where} (js, {ext}, {how})")
    finally:
        sandbox.kill()
    print(f"js: {checked - failed} of {checked} runs passed")
    return 1 if failed else 0


TS_AMBIENT = """
// What the docs' TypeScript blocks leave to the reader.
declare const code: string
declare module 'vitest' {
  export function test(name: string, fn: () => unknown): void
  export function beforeAll(fn: () => unknown): void
  export function afterAll(fn: () => unknown): void
  export function beforeEach(fn: () => unknown): void
  export function expect(value: unknown): { toBe(v: unknown): void; toEqual(v: unknown): void }
}
"""


JS_AMBIENT = """
// What the docs' JavaScript blocks leave to the reader (defined at run time by prelude.cjs).
declare const KEY: string
declare const key: string
declare const BASE_URL: string
declare const scannedCode: string
declare const orderNo: string
declare const notifyUrl: string
declare function markPaid(...args: unknown[]): Promise<void>
declare function amountFenOf(chargeCode: string): Promise<number>
declare function flagForReview(...args: unknown[]): Promise<void>
declare function onNotification(n: unknown): Promise<void>
declare function showQrCode(text: string | undefined | null): void
"""


def run_ts(node_dir: str) -> int:
    """Type-checks every TypeScript block with `tsc --strict`, and every runnable JavaScript
    block (as the ES module `js` ran) with `tsc --strict --checkJs`, resolving `sosopay`
    through the package's exports map (its .d.ts files)."""
    import json
    work = ROOT / "target" / "doc-blocks" / "ts"
    if work.exists():
        import shutil
        shutil.rmtree(work)
    (work / "node_modules").mkdir(parents=True)
    (work / "node_modules" / "sosopay").symlink_to(Path(node_dir).resolve(), target_is_directory=True)
    types = Path(node_dir).resolve() / "node_modules" / "@types"
    if types.exists():
        (work / "node_modules" / "@types").symlink_to(types, target_is_directory=True)
    files = []
    for b in blocks():
        if b.lang not in ("ts", "typescript") or b.mark not in ("", "compile"):
            continue
        name = f"{Path(b.path).stem}-{b.line}.mts"
        (work / name).write_text(b.code + "\nexport {}\n", encoding="utf-8")
        files.append((b, name))
    for b in blocks():
        if b.lang not in ("js", "javascript") or b.mark:
            continue
        name = f"{Path(b.path).stem}-{b.line}.mjs"
        esm = to_esm(b.code)
        imports = "\n".join(line for line in esm.splitlines() if line.startswith("import "))
        rest = "\n".join(line for line in esm.splitlines() if not line.startswith("import "))
        (work / name).write_text("// @ts-check\n" + imports + "\n" + rest + "\nexport {}\n", encoding="utf-8")
        files.append((b, name))
    (work / "ambient.d.ts").write_text(TS_AMBIENT + JS_AMBIENT, encoding="utf-8")
    (work / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "allowJs": True, "checkJs": True,
                            "target": "ES2022", "module": "NodeNext",
                            "moduleResolution": "NodeNext", "skipLibCheck": False,
                            "types": ["node"] if types.exists() else []},
        "files": ["ambient.d.ts"] + [n for _, n in files],
    }), encoding="utf-8")
    tsc = Path(node_dir).resolve() / "node_modules" / ".bin" / "tsc"
    r = subprocess.run([str(tsc), "-p", str(work)], capture_output=True, text=True, cwd=work)
    for b, name in files:
        errs = [line for line in r.stdout.splitlines() if line.startswith(name)]
        print(("FAIL " if errs else "ok   ") + f"{b.where} ({b.lang}, tsc --strict)")
        for e in errs:
            print("     " + e)
    if r.returncode != 0:
        print(r.stdout[-3000:] + r.stderr[-2000:])
    print(f"ts: {len(files)} TypeScript and JavaScript blocks type-checked" + ("" if r.returncode == 0 else ": FAILED"))
    return r.returncode


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def check_links() -> int:
    """Every relative link of the docs points at a file of this repository (and an anchor at a
    heading of it); no link leaves the repository through `..`."""
    bad = 0
    for rel in DOCS:
        p = ROOT / rel
        if not p.exists():
            continue
        text = FENCE.sub("", p.read_text(encoding="utf-8"))
        for m in LINK.finditer(text):
            target = m.group(1)
            if re.match(r"^[a-z]+:", target) or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            dest = (p.parent / path).resolve() if path else p
            if ROOT not in dest.parents and dest != ROOT:
                print(f"{rel}: link {target} leaves the repository")
                bad += 1
                continue
            if not dest.exists():
                print(f"{rel}: link {target}: no such file")
                bad += 1
                continue
            if anchor and dest.suffix == ".md":
                heads = {slug(h) for h in re.findall(r"^#+\s+(.*)$", FENCE.sub("", dest.read_text(encoding="utf-8")), re.M)}
                if anchor not in heads:
                    print(f"{rel}: link {target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
                    bad += 1
    print(f"links: {'ok' if not bad else str(bad) + ' broken'}")
    return 1 if bad else 0


def run_sh() -> int:
    """Shell blocks: every `sosopay ...` command line must parse (run with `--help` appended);
    the blocks that talk to a sandbox with curl (docs/SANDBOX.md) run against one, with bash -e.
    The rest (installing, building) are the reader's set-up commands and are not run."""
    cli = ROOT / "target" / "debug" / "sosopay"
    sandbox, url = start_sandbox()
    root = url.replace("/openGateway/openService/", "")
    failed = checked = 0
    try:
        for b in blocks():
            if b.lang not in ("sh", "bash", "shell") or b.mark:
                continue
            if "curl " in b.code:
                code = re.sub(r"^ROOT=\S+", f"ROOT={root}", b.code, flags=re.M)
                if "ROOT=" not in code:
                    code = f"ROOT={root}\n" + code
                code = code.replace("| jq ", "| python3 -m json.tool >/dev/null #")
                r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], capture_output=True,
                                   text=True, timeout=60)
                checked += 1
                bad_reply = "openService/preOrder" in code and "SUCCESS" not in r.stdout
                if r.returncode != 0 or bad_reply:
                    failed += 1
                    print(f"FAIL {b.where} (sh, curl)\n{r.stdout[-1500:]}{r.stderr[-1500:]}")
                else:
                    print(f"ok   {b.where} (sh, run against a sandbox)")
                continue
            for line in b.code.splitlines():
                cmd = line.split("#", 1)[0].strip()
                if not cmd.startswith("sosopay "):
                    continue
                import shlex
                args = shlex.split(cmd)[1:]
                r = subprocess.run([str(cli), *args, "--help"], capture_output=True, text=True, timeout=30)
                checked += 1
                if r.returncode != 0:
                    failed += 1
                    print(f"FAIL {b.where}: `{cmd}` does not parse\n{r.stderr[-1500:]}")
                else:
                    print(f"ok   {b.where}: `{cmd}` parses")
    finally:
        sandbox.kill()
    print(f"sh: {checked - failed} of {checked} checks passed")
    return 1 if failed else 0


MYPY_HEAD = '''# What the docs leave to the reader (or define in an earlier block of the page), typed.
from typing import Any, Callable, Iterable
import sosopay
from sosopay.testing import Sandbox, codes
KEY: str = ""
BASE_URL: str = ""
scanned_code: str = ""
order_no: str = ""
url: str = ""
my_webhook_url: str = ""
shop_total_fen: int = 0
def render_qr(text: str) -> None: ...
def mark_order_paid(n: sosopay.Notification) -> None: ...
def read_body(environ: dict[str, Any]) -> "bytes | None": ...
class _Orders:
    def amount_fen(self, charge_code: str) -> "int | None": ...
    def mark_paid(self, charge_code: str, amount_fen: "int | None" = None, gateway_no: "str | None" = None) -> None: ...
    def flag(self, n: sosopay.Notification) -> None: ...
orders = _Orders()
class _Shop:
    def order(self, charge_code: str) -> Any: ...
shop = _Shop()
sb: Sandbox = Sandbox.__new__(Sandbox)
client: sosopay.Client = sosopay.Client.__new__(sosopay.Client)
'''


def run_mypy(python: str) -> int:
    """Type-checks every Python block with `mypy --strict`, each after a typed header of the
    names the docs leave to the reader: what a `mypy --strict` user who copies it gets."""
    work = ROOT / "target" / "doc-blocks" / "mypy"
    if work.exists():
        import shutil
        shutil.rmtree(work)
    work.mkdir(parents=True)
    names = {}
    for b in blocks():
        if b.lang != "python" or b.mark not in ("", "compile"):
            continue
        code = b.code
        if TOP_LEVEL_ASYNC.search(code) and "asyncio.run(" not in code:
            code = "async def _block() -> None:\n" + "\n".join("    " + line for line in code.splitlines()) + "\n"
        name = f"{b.path.replace('/', '_').replace('.md', '').replace('-', '_')}_{b.line}.py"
        # The header's stand-ins, less the names this block defines itself.
        own = set(re.findall(r"^(?:def|class)\s+(\w+)", b.code, re.M)) | \
            set(re.findall(r"^(\w+)\s*(?::[^=\n]*)?=(?!=)", b.code, re.M))
        head = "\n".join(line for line in MYPY_HEAD.splitlines()
                         if not (m := re.match(r"^(?:def )?(\w+)\s*[(:]", line)) or m.group(1) not in own)
        (work / name).write_text(head + f"\n# --- {b.where}\n" + code, encoding="utf-8")
        names[name] = b
    r = subprocess.run([str(Path(python).absolute()), "-m", "mypy", "--strict", "--no-incremental", "."], capture_output=True,
                       text=True, cwd=work)
    for name, b in names.items():
        errs = [line for line in r.stdout.splitlines() if line.startswith(name)]
        print(("FAIL " if errs else "ok   ") + f"{b.where} (mypy --strict)")
        for e in errs:
            print("     " + e)
    print(f"mypy: {len(names)} Python blocks" + ("" if r.returncode == 0 else ": FAILED\n" + r.stdout[-1500:]))
    return r.returncode


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "list"
    if cmd == "list":
        for b in blocks():
            print(f"{b.where:40} {b.lang or '(none)':8} {b.mark} {b.reason}")
        return 0
    if cmd == "python":
        return run_python(sys.argv[2])
    if cmd == "js":
        return run_js(sys.argv[2])
    if cmd == "sh":
        return run_sh()
    if cmd == "mypy":
        return run_mypy(sys.argv[2])
    if cmd == "links":
        return check_links()
    if cmd == "ts":
        return run_ts(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
