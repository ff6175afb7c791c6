#!/usr/bin/env python3
"""Parity: every public record field, dictionary value and error kind of the core reaches every
runtime (scripts/test-rust runs it).

The core is read, not restated: the reply records are the `#[derive(.., Serialize)]` structs of
core/src/models.rs and core/src/flows.rs (with their serde names), the dictionaries are the
`for_each_dictionary!` list of core/src/enums.rs, the errors the variants of `Error` in
core/src/error.rs, the client's settings the fields of `ClientConfig` and `RetryPolicy` in
core/src/client.rs (each an option of every runtime's client). Each runtime is read from its public surface: Node's generated index.d.ts,
the Python package (python/sosopay/*.py), Kotlin's generated sosopay.kt. A core field is found
when the runtime's record has one of the names its presentation rules allow (below); a missing
one fails with the record, the field and the runtime.

Presentation rules (the same for every runtime, in its own case):
  money `x: Amount`        -> `x_fen` (integer fen; runtimes may add `x_yuan` / a Decimal view)
  `result: GatewayResult`  -> `result`, or flattened as `result_code` + `result_info` (Node)
  a serde rename           -> the field name or the serde name
  `raw` (the wire document) -> `raw` or `raw_json`
  keywords                 -> `class` is `category` (Kotlin) or `class_` (Python); `package` is
                              `package_value` / `packageData`
  records Node flattens    -> `GatewayResult` (as `resultCode` + `resultInfo`)
  dictionary values        -> Node: the variant's name or its wire value (`ResultCode` is wire)
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def upper_snake(variant: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", variant).upper()


# ---- the core -------------------------------------------------------------------------------

STRUCT = re.compile(r"#\[derive\(([^)]*)\)\]\s*(?:#\[[^\]]*\]\s*)*pub struct (\w+)\s*\{(.*?)\n\}", re.S)
FIELD = re.compile(r"((?:\s*#\[[^\]]*\]\s*)*)\s*pub (\w+): ([^,\n]+),")


def core_records() -> dict[str, list[tuple[str, str, str | None]]]:
    """record -> [(field, type, serde name or None)] for the Serialize structs."""
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for f in ("core/src/models.rs", "core/src/flows.rs"):
        text = (ROOT / f).read_text(encoding="utf-8")
        for m in STRUCT.finditer(text):
            if "Serialize" not in m.group(1):
                continue
            fields = []
            body = re.sub(r"^\s*///.*$", "", m.group(3), flags=re.M)
            for fm in FIELD.finditer(body):
                attrs, name, ty = fm.group(1), fm.group(2), fm.group(3).strip()
                if "skip" in attrs or "flatten" in attrs:
                    continue
                ren = re.search(r'rename\s*=\s*"(\w+)"', attrs)
                fields.append((name, ty, ren.group(1) if ren else None))
            out[m.group(2)] = fields
    return out


def core_enums() -> dict[str, list[str]]:
    text = (ROOT / "core/src/enums.rs").read_text(encoding="utf-8")
    out = {}
    # The one list: `Name, name_from_wire { Variant = "WIRE", ... }` in for_each_dictionary!.
    for m in re.finditer(r"^\s*(\w+), \w+_from_wire \{(.*?)\n\s*\}", text, re.S | re.M):
        body = re.sub(r"^\s*///.*$", "", m.group(2), flags=re.M)
        out[m.group(1)] = re.findall(r"^\s*(\w+)\s*=", body, re.M)
        WIRE[m.group(1)] = dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', body, re.M))
    return out


WIRE: dict[str, dict[str, str]] = {}


def core_errors() -> list[str]:
    text = (ROOT / "core/src/error.rs").read_text(encoding="utf-8")
    body = text[text.index("pub enum Error {"):]
    body = body[: body.index("\n}\n")]
    return re.findall(r"^    (\w+)\s*[{(,]", body, re.M)


def candidates(field: str, ty: str, serde: str | None) -> set[str]:
    names = {field}
    if serde:
        names.add(serde)
    if "Amount" in ty:
        names |= {f"{field}_fen"} | ({serde} if serde else set())
    if field == "result" and "GatewayResult" in ty:
        names |= {"result_code"}
    if field == "code" and "ResultCode" in ty:
        names |= {"result_code"}  # the name every runtime shows the gateway's code under
    if field == "raw":
        names |= {"raw_json"}
    if field == "class":
        names |= {"category", "class_"}  # Kotlin, Python keywords
    if field == "package":
        names |= {"package_value", "package_data"}
    return names


# ---- the runtimes ---------------------------------------------------------------------------

def block(text: str, start: re.Pattern[str]) -> str | None:
    m = start.search(text)
    if not m:
        return None
    rest = text[m.end():]
    nxt = re.search(r"^(?:export |data class |class |sealed class |enum class |@dataclass)", rest, re.M)
    return rest[: nxt.start()] if nxt else rest


def main() -> int:
    node = (ROOT / "node/index.d.ts").read_text(encoding="utf-8") + (ROOT / "node/sosopay.d.ts").read_text(encoding="utf-8")
    python = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "python/sosopay").glob("*.py")))
    python += (ROOT / "python/sosopay/_native.pyi").read_text(encoding="utf-8")
    kotlin = (ROOT / "mobile/kotlin/src/main/kotlin/io/github/sosopay/sosopay.kt").read_text(encoding="utf-8")
    node_errors = (ROOT / "node/errors.js").read_text(encoding="utf-8")

    # Record names the runtimes use for a core record, when they differ.
    kotlin_record = {"Notification": "PaymentNotification"}
    missing: list[str] = []
    checked = 0

    for rec, fields in core_records().items():
        views = {
            # Node: a record shown as a discriminated union keeps its fields in `{rec}Fields`.
            "node": (block(node, re.compile(rf"^export interface {rec}Fields\b", re.M))
                     or block(node, re.compile(rf"^export (?:interface|type) {rec}\b", re.M)), camel),
            "python": (block(python, re.compile(rf"^class {rec}\b", re.M)), lambda s: s),
            # Kotlin: a record shown as a sealed class (one case per status) has the fields in
            # its cases and a method per common field.
            "kotlin": (block(kotlin, re.compile(rf"^data class {kotlin_record.get(rec, rec)} \(", re.M))
                       or block(kotlin, re.compile(rf"^sealed class {kotlin_record.get(rec, rec)} \{{", re.M)), camel),
        }
        for runtime, (text, style) in views.items():
            if text is None:
                if not (runtime == "node" and rec == "GatewayResult"):
                    missing.append(f"{runtime}: no record {rec}")
                continue
            for field, ty, serde in fields:
                checked += 1
                names = {style(n) for n in candidates(field, ty, serde)}
                if not any(re.search(rf"[\s`(]{re.escape(n)}`?\??\s*[:=(]", text) for n in names):
                    missing.append(f"{runtime}: {rec}.{field} (looked for {', '.join(sorted(names))})")

    for enum, variants in core_enums().items():
        for v in variants:
            checked += 3
            node_enum = (block(node, re.compile(rf"^export (?:declare )?(?:type|const enum|enum) (?:Known)?{enum}\b", re.M)) or "")
            wire = WIRE.get(enum, {}).get(v, v)
            if not re.search(rf"'{v}'|'{re.escape(wire)}'", node_enum):
                missing.append(f"node: {enum}.{v}")
            if not re.search(rf"^\s+{upper_snake(v)}\s*=", block(python, re.compile(rf"^class {enum}\b", re.M)) or "", re.M):
                missing.append(f"python: {enum}.{upper_snake(v)}")
            if not re.search(rf"\b{v}\b", block(kotlin, re.compile(rf"^sealed class {enum}\b|^enum class {enum}\b", re.M)) or ""):
                missing.append(f"kotlin: {enum}.{v}")

    kotlin_errors = block(kotlin, re.compile(r"^sealed class SosopayException\b", re.M)) or ""
    for variant in core_errors():
        checked += 3
        if f"class {variant}Error " not in node_errors and f"class {variant}Error extends" not in node_errors:
            missing.append(f"node: error {variant}Error")
        if not re.search(rf"^class {variant}Error\(|^class Request{variant}Error\(", python, re.M):
            missing.append(f"python: error {variant}Error")
        if not re.search(rf"class {variant}\(", kotlin_errors):
            missing.append(f"kotlin: SosopayException.{variant}")

    # The client's settings: every field of the core's ClientConfig (and its RetryPolicy) is an
    # option of each runtime's client, in its case and unit (`_ms` where durations are ms).
    checked += check_client_options(node, python, kotlin, missing)

    for m in missing:
        print("MISSING", m)
    print(f"parity: {checked - len(missing)} of {checked} core names found in Node, Python and Kotlin")
    return 1 if missing else 0


def check_client_options(node: str, python: str, kotlin: str, missing: list[str]) -> int:
    text = (ROOT / "core/src/client.rs").read_text(encoding="utf-8")

    def fields(struct: str) -> list[str]:
        body = text[text.index(f"pub struct {struct} {{"):]
        return re.findall(r"^    pub (\w+):", body[: body.index("\n}\n")], re.M)

    # ClientConfig's settings (`retry` as its parts, the trusted CAs as the options that give
    # them) and every flat ClientOptions setting.
    given_as_options = {"retry", "ca_certificates"}
    wanted = [f for f in fields("ClientConfig") if f not in given_as_options] + [f"retry_{f}" for f in fields("RetryPolicy")]
    wanted += [f for f in fields("ClientOptions") if f not in wanted]
    py_init = python[python.index("class Client:"):]
    py_init = py_init[: py_init.index(") -> None:")]
    surfaces = {
        "node": (block(node, re.compile(r"^export interface ClientOptions\b", re.M)) or "")
        + (block(node, re.compile(r"^export interface RetryOptions\b", re.M)) or ""),
        "python": py_init,
        # Kotlin/Swift: a published environment is `baseUrl = environmentBaseUrl(environment)`.
        "kotlin": (block(kotlin, re.compile(r"^data class ClientConfig \(", re.M)) or "")
        + (" environmentBaseUrl(" if "fun `environmentBaseUrl`(`environment`: GatewayEnvironment)" in kotlin else "")
        + (block(kotlin, re.compile(r"^open class SosopayClient\b", re.M)) or ""),
    }
    # A runtime's own name for a core setting, where it is not the setting's name in its case.
    aliases = {"retry_max_attempts": {"retry_attempts", "max_attempts"}, "on_request": {"logger"},
               "environment": {"environment_base_url"},
               "retry_base_delay": {"base_delay"}, "retry_max_delay": {"max_delay"}}
    for runtime, surface in surfaces.items():
        for f in wanted:
            names = {f} | aliases.get(f, set())
            names |= {f"{n}_ms" for n in names}
            if runtime != "python":
                names = {camel(n) for n in names}
            if not any(re.search(rf"[\s`(]{re.escape(n)}`?\??\s*[:=(]", surface) for n in names):
                missing.append(f"{runtime}: client option {f} (looked for {', '.join(sorted(names))})")
    return len(wanted) * len(surfaces)


if __name__ == "__main__":
    sys.exit(main())
