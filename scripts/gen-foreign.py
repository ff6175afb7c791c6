#!/usr/bin/env python3
"""Generates the foreign forms of the core's types, so a field added to a core reply or a
variant added to the core's Error reaches Kotlin, Swift, Node and Python with no hand edit:

    scripts/gen-foreign.py               rewrite the generated files
    scripts/gen-foreign.py --check       fail when one differs (scripts/test-rust runs this)
    scripts/gen-foreign.py --self-test   add a field to a core reply and a variant to the core's
                                         Error, and check every runtime's form carries them

From core/src/models.rs (the reply, notification and request structs: fields, types, docs,
the request constructors' parameters): bindings/uniffi/src/replies.rs,
bindings/uniffi/src/requests.rs, bindings/node/src/requests.rs, bindings/node/src/replies.rs,
the reply and notification dataclasses and the Goods class of python/sosopay/models.py,
bindings/python/src/requests.rs and the operation methods of python/sosopay/client.py and
aio.py (with WaitOptions from core/src/flows.rs). From
core/src/error.rs (the Error variants): bindings/uniffi/src/error_enum.rs, the error classes of
node/errors.js and node/sosopay.d.ts, the exception classes of python/sosopay/errors.py. From
core/src/client.rs (the flat ClientOptions): bindings/node/src/config.rs,
bindings/uniffi/src/config.rs, Python's `client_options` reader and the keyword parameters of
`Client()` and `AsyncClient()`.
Generated Rust goes through rustfmt. Presentation rules (scripts/parity.py's):
  money `x: Amount`          -> `x_fen` (uniffi i64, Node number) and `x_yuan` (two decimals)
  `raw: serde_json::Value` or `RawDocument` -> uniffi `raw_json: String`; Node `raw` (an object)
  a dictionary `x: E`        -> uniffi the enum E; Node `x` (E's variant name) + `x_code` (wire)
  `result: GatewayResult`    -> uniffi the record; Node flattened: `result_code`, `result_info`
  `u32` counts               -> uniffi `i32` (Kotlin Int, saturating); Node `u32`
  RENAMED / EXTRAS below     -> Kotlin keywords and unit suffixes; Node's computed fields
"""
from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "core/src/models.rs"

#: Dictionaries.
ENUMS = {"ResultCode", "OrderState", "Channel", "FundChannel", "DynamicIdType", "TradeType", "SerType"}

STRUCT = re.compile(
    r"((?:^///[^\n]*\n)*)#\[derive\(([^)]*)\)\]\n(?:#\[[^\n]*\]\n)*pub struct (\w+) \{\n(.*?)^\}",
    re.S | re.M,
)
FIELD = re.compile(r"((?:    ///[^\n]*\n)*)((?:    #\[[^\n]*\]\n)*)    pub (\w+): ([^\n]+),\n")

#: (record, field) -> the key of the field in the core's serde form ("flatten" when flattened).
SERDE: Dict[Tuple[str, str], str] = {}

Row = Tuple[List[str], str, str, str, Optional[str]]  # docs, name, type, conversion, ts_type


def docs(block: str) -> List[str]:
    return [re.sub(r"^\s*/// ?", "", line) for line in block.splitlines() if line.strip()]


def parse() -> Dict[str, Tuple[List[str], List[Tuple[List[str], str, str]]]]:
    text = CORE.read_text(encoding="utf-8")
    out = {}
    for m in STRUCT.finditer(text):
        fields = [(docs(f.group(1)), f.group(3), f.group(4).strip()) for f in FIELD.finditer(m.group(4))]
        for f in FIELD.finditer(m.group(4)):
            ren = re.search(r'rename\s*=\s*"(\w+)"', f.group(2))
            SERDE[(m.group(3), f.group(3))] = "flatten" if "flatten" in f.group(2) else (ren.group(1) if ren else f.group(3))
        out[m.group(3)] = (docs(m.group(1)), fields)
    return out


def inner(ty: str, wrapper: str) -> Optional[str]:
    m = re.fullmatch(wrapper + r"<(.+)>", ty)
    return m.group(1) if m else None


def method_doc(path: str, name: str) -> List[str]:
    """The first paragraph of the doc of the core's method `name` (in `path`)."""
    text = (ROOT / path).read_text(encoding="utf-8")
    m = re.search(r"((?:^    ///[^\n]*\n)+)    pub fn %s\(&self\)" % name, text, re.M)
    if not m:
        raise SystemExit(f"gen-foreign: no documented method {name} in {path}")
    lines = [re.sub(r"^\s*/// ?", "", line) for line in m.group(1).splitlines()]
    return lines[: lines.index("")] if "" in lines else lines


#: A notification's key for processing it once: the core's `Notification::idempotency_key()`.
IDEMPOTENCY_KEY: Row = (method_doc("core/src/notify.rs", "idempotency_key"), "idempotency_key", "String",
                        "r.idempotency_key()", None)


class Target:
    """One binding's presentation of the core's replies."""

    out: Path
    records: List[str]
    other_records: Set[str] = set()
    renamed: Dict[Tuple[str, str], str] = {}
    #: record -> fields computed from the core's rules, appended after the core's (and computed
    #: before them, while the core's record is whole).
    extras: Dict[str, List[Row]] = {}
    #: record -> its name here, when it differs from the core's.
    names: Dict[str, str] = {}
    header: str
    derive: str
    fen_type: str
    fen: str
    count_type: str
    count: str
    #: Leave a `None` out of the serde form (`skip_serializing_if`).
    skip_none = False

    def money(self, doc: List[str], name: str, value: str, opt: bool) -> List[Row]:
        fen_t = f"Option<{self.fen_type}>" if opt else self.fen_type
        yuan_t = "Option<String>" if opt else "String"
        return [
            (doc + ["", "Here: integer fen."], f"{name}_fen", fen_t,
             f"{value}.map({self.fen})" if opt else f"{self.fen}({value})", None),
            (doc + ["", "Here: yuan text with two decimals."], f"{name}_yuan", yuan_t,
             f"{value}.map(Amount::to_yuan_string)" if opt else f"{value}.to_yuan_string()", None),
        ]

    def count_field(self, doc: List[str], name: str, value: str, opt: bool) -> List[Row]:
        t = f"Option<{self.count_type}>" if opt else self.count_type
        if not self.count:
            return [(doc, name, t, value, None)]
        return [(doc, name, t, f"{value}.map({self.count})" if opt else f"{self.count}({value})", None)]

    def raw(self, value: str) -> List[Row]:
        raise NotImplementedError

    def dictionary(self, doc: List[str], name: str, ty: str, value: str, opt: bool, base: str) -> List[Row]:
        return [(doc, name, ty, f"{value}.map(Into::into)" if opt else f"{value}.into()", None)]

    def result(self, doc: List[str], name: str, value: str) -> List[Row]:
        return [(doc, name, "GatewayResult", f"{value}.into()", None)]

    def present(self, record: str, name: str, ty: str, doc: List[str]) -> List[Row]:
        value = f"r.{name}"
        foreign = self.renamed.get((record, name), name)
        opt = inner(ty, "Option")
        base = opt or ty
        if base == "Amount":
            return self.money(doc, name, value, bool(opt))
        if name == "raw" and ty in ("serde_json::Value", "RawDocument"):
            return self.raw(value)
        if ty == "GatewayResult":
            return self.result(doc, foreign, value)
        if base == "u32":
            return self.count_field(doc, foreign, value, bool(opt))
        if base == "String":
            return [(doc, foreign, ty, value, None)]
        if base in ENUMS:
            return self.dictionary(doc, foreign, ty, value, bool(opt), base)
        if base in self.records or base in self.other_records:
            return [(doc, foreign, ty, f"{value}.map(Into::into)" if opt else f"{value}.into()", None)]
        vec = inner(ty, "Vec")
        if vec and (vec in self.records or vec in self.other_records):
            return [(doc, foreign, ty, f"{value}.into_iter().map(Into::into).collect()", None)]
        raise SystemExit(f"gen-foreign: {self.out.name}: no rule for {record}.{name}: {ty}")

    def generate(self, core: Dict[str, Tuple[List[str], List[Tuple[List[str], str, str]]]]) -> str:
        out = [self.header]
        for record in self.records:
            if record not in core:
                raise SystemExit(f"gen-foreign: core/src/models.rs has no struct {record}")
            doc, fields = core[record]
            rows = [row for d, n, t in fields for row in self.present(record, n, t, d)]
            extras = self.extras.get(record, [])
            name = self.names.get(record, record)
            out.append("\n" + comment(doc, ""))
            out.append(self.derive)
            out.append(f"pub struct {name} {{\n")
            for d, n, t, _, ts in rows + extras:
                out.append(comment(d, "    "))
                if ts:
                    out.append(f'    #[napi(ts_type = "{ts}")]\n')
                if self.skip_none and inner(t, "Option"):
                    out.append('    #[serde(skip_serializing_if = "Option::is_none")]\n')
                out.append(f"    pub {n}: {t},\n")
            out.append("}\n\n")
            out.append(f"impl From<sosopay::models::{record}> for {name} {{\n")
            out.append(f"    fn from(r: sosopay::models::{record}) -> Self {{\n")
            out.append(f"        {name} {{\n")
            for _, n, _, conv, _ in extras + rows:
                out.append(f"            {n}: {conv},\n" if conv != n else f"            {n},\n")
            out.append("        }\n    }\n}\n")
        return "".join(out)


class Uniffi(Target):
    out = ROOT / "bindings/uniffi/src/replies.rs"
    records = [
        "GatewayResult", "FundBill", "JsapiParams", "OrderReply", "OrderDetails", "QueryReply",
        "RefundReply", "CancelReply", "FlowOrder", "FlowRechargeReply", "Notification",
    ]
    other_records = {"Goods"}
    names = {"Notification": "PaymentNotification"}
    extras = {"Notification": [IDEMPOTENCY_KEY]}
    renamed = {("JsapiParams", "package"): "package_data", ("FlowOrder", "flow_val"): "flow_val_mb"}
    header = (
        "// @generated by scripts/gen-foreign.py from core/src/models.rs: do not edit.\n"
        "//! The reply records and the payment notification for Kotlin and Swift, generated from the\n"
        "//! core's (one field each, money as fen and yuan, `raw` as JSON text).\n\n"
        "use sosopay::Amount;\n\n"
        "use crate::enums::{Channel, FundChannel, OrderState, ResultCode};\n"
        "use crate::models::{count_out, fen_out};\n"
        "use crate::requests::Goods;\n"
    )
    derive = "#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]\n"
    fen_type, fen = "i64", "fen_out"
    count_type, count = "i32", "count_out"

    def raw(self, value: str) -> List[Row]:
        return [(["The whole document, as JSON."], "raw_json", "String", f"{value}.to_string()", None)]


class Node(Target):
    out = ROOT / "bindings/node/src/replies.rs"
    records = [
        "Goods", "FundBill", "JsapiParams", "OrderReply", "OrderDetails", "QueryReply",
        "RefundReply", "CancelReply", "FlowOrder", "FlowRechargeReply", "Notification",
    ]
    extras = {
        "Notification": [IDEMPOTENCY_KEY],
        "OrderDetails": [
            (["Was the money taken (paid, or paid then partly or wholly refunded)?"], "money_taken", "bool",
             "r.state.as_ref().is_some_and(OrderState::money_taken)", None),
            (["Is the state final for a payment (no longer awaiting the customer)?"], "is_final", "bool",
             "r.state.as_ref().is_some_and(OrderState::is_final)", None),
        ],
    }
    header = (
        "// @generated by scripts/gen-foreign.py from core/src/models.rs: do not edit.\n"
        "//! The reply objects and the payment notification for JavaScript, generated from the core's\n"
        "//! (money as fen and yuan, a dictionary as its name and its wire code, `result` flattened,\n"
        "//! `raw` as an object).\n\n"
        "use napi_derive::napi;\n"
        "use sosopay::{Amount, OrderState};\n\n"
        "use crate::convert::{fen_number, name_of, wire_of, RawJson};\n"
    )
    # Serialize: a reply crosses to JS as JSON text made on the worker thread and parsed by V8
    # (`crate::convert::Json`); the derived napi conversion stays for values built on the JS
    # thread. Both give the same object: camelCase names, an absent option left out.
    derive = '#[napi(object)]\n#[derive(serde::Serialize)]\n#[serde(rename_all = "camelCase")]\n'
    fen_type, fen = "f64", "fen_number"
    skip_none = True
    count_type, count = "u32", ""

    def raw(self, value: str) -> List[Row]:
        return [(["The whole document as decoded."], "raw", "RawJson", f"{value}.into()", "Record<string, unknown>")]

    def result(self, doc: List[str], name: str, value: str) -> List[Row]:
        return [
            (["`RESULT.CODE` (`\"SUCCESS\"`, or a code a call resolves with rather than rejects)."],
             "result_code", "String", f"{value}.code.as_wire().to_owned()", "ResultCode"),
            (["`RESULT.INFO`: the gateway's message."], "result_info", "String", f"{value}.info", None),
        ]

    def dictionary(self, doc: List[str], name: str, ty: str, value: str, opt: bool, base: str) -> List[Row]:
        t = "Option<String>" if opt else "String"
        by_name = f"name_of(&{value})" if opt else f"{value}.name().to_owned()"
        by_wire = f"wire_of(&{value})" if opt else f"{value}.as_wire().to_owned()"
        return [
            (doc + ["", f"By name (`'Unknown'` for a code this SDK does not know; `{camel(name)}Code` has it)."],
             name, t, by_name, base),
            (doc + ["", "As sent."], f"{name}_code", t, by_wire, None),
        ]


PY_BEGIN = "# --- generated from core/src/models.rs (scripts/gen-foreign.py)\n"
#: How a record is built from the core's reply: its fields set at once, not through the frozen
#: dataclass's `__init__` (one `object.__setattr__` per field; a reply is built per request).
FROM_NATIVE_DOC = '        """From the core\'s form (its values are the core\'s own: not checked again)."""\n'
PY_END = "# --- end of generated\n"


def field_doc(doc: List[str], suffix: str = "") -> str:
    """A dataclass field's `#:` comment: the first paragraph of the core's doc."""
    para = doc[: doc.index("")] if "" in doc else doc
    lines = textwrap.wrap(rst(" ".join(para)) + suffix, 100, initial_indent="    #: ", subsequent_indent="    #: ")
    return "".join(line + "\n" for line in lines)


class Python:
    """Frozen dataclasses read from the core's serde form (``_from_native``), in a marked region of
    python/sosopay/models.py; the extras of a record (``is_paid``, ``to_wechat``) come from the
    hand-written mixin named in BASES."""

    out = ROOT / "python/sosopay/models.py"
    records = [
        "GatewayResult", "FundBill", "JsapiParams", "OrderReply", "OrderDetails", "QueryReply",
        "RefundReply", "CancelReply", "FlowOrder", "FlowRechargeReply", "Notification",
    ]
    other_records = {"Goods"}
    #: record -> fields computed by the core's rules, read from the native form's extra keys.
    extras = {"Notification": [(IDEMPOTENCY_KEY[0], "idempotency_key", "str", 'str(d["idempotency_key"])', None)]}
    bases = {
        "Notification": "_NotificationShortcuts",
        "GatewayResult": "_GatewayResultRules",
        "JsapiParams": "_JsapiParamsForWechat",
        "OrderDetails": "_OrderDetailsRules",
        "QueryReply": "_QueryReplyShortcuts",
    }

    def field(self, record: str, name: str, ty: str) -> Tuple[str, str, str, Optional[str]]:
        """(python name, annotation, reading from `d`, yuan property or None)."""
        key = SERDE.get((record, name), name)
        opt = inner(ty, "Option")
        base = opt or ty
        get = f'd.get("{key}")'
        if key == "flatten":
            return name, base, f"{base}._from_native(d)", None
        if base == "Amount":
            return f"{name}_fen", "Optional[int]" if opt else "int", get if opt else f'int(d["{key}"])', name
        if name == "raw" and ty in ("serde_json::Value", "RawDocument"):
            return "raw", "Dict[str, Any]", 'dict(d.get("raw") or {})', None
        if base == "String":
            # The core's strings are `str` already: read as they are (no call per field).
            return name, "Optional[str]" if opt else "str", get if opt else f'd.get("{key}", "")', None
        if base == "u32":
            return name, "Optional[int]" if opt else "int", get if opt else f'int(d["{key}"])', None
        if base in ENUMS:
            return name, f"Optional[{base}]" if opt else base, f"_opt_enum({base}, {get})" if opt else f'_enum({base}, d["{key}"])', None
        if base in self.records or base in self.other_records:
            if opt:
                return name, f"Optional[{base}]", f"None if {get} is None else {base}._from_native(d[\"{key}\"])", None
            return name, base, f'{base}._from_native(d["{key}"])', None
        vec = inner(ty, "Vec")
        if vec and (vec in self.records or vec in self.other_records):
            return name, f"List[{vec}]", f"[{vec}._from_native(x) for x in ({get} or [])]", None
        raise SystemExit(f"gen-foreign: models.py: no rule for {record}.{name}: {ty}")

    def object_class(self, core: Dict, record: str, ctor: str) -> str:
        """A record a caller builds (`sosopay.Goods`): a frozen dataclass whose constructor takes
        the core constructor's fields (money as `x` in yuan or `x_fen`) and has the native layer
        check them (`_native.{snake}`: the checked item and its fields), keeping the checked item
        for the requests that list it."""
        doc, fields = core[record]
        rows = [(d,) + self.field(record, n, t) for d, n, t in fields]
        params, items, _ = PythonRequests().signature(core, record, record, ctor, ())
        out = [f"@dataclass(frozen=True, init=False)\nclass {record}:\n"]
        out.append(f'    """{rst(" ".join(doc))}\n\n    Give each amount in yuan (a ``str`` or a ``Decimal``, never a ``float``) or in integer\n'
                   "    fen (``x_fen``); an unset field takes the core's default. The values are checked when\n"
                   '    built: a wrong one raises ``TypeError`` or ``ValidationError`` naming the argument."""\n\n')
        for d, n, ann, _, yuan in rows:
            out.append(field_doc(d, " Here: integer fen." if yuan else ""))
            out.append(f"    {PY_NAMES.get(n, n)}: {ann}\n")
        out.append("\n")
        out.append("    def __init__(\n        self,\n        *,\n" + "".join(f"        {x},\n" for x in params) + "    ) -> None:\n")
        out.append(f"        native, fields = _native.{snake(record)}(\n            {{\n")
        out += [f"                {i},\n" for i in items]
        out.append("            }\n        )\n        for k, v in fields.items():\n            object.__setattr__(self, k, v)\n")
        # The checked item: an attribute, not a field (left out of repr, ==, fields(), asdict()).
        out.append('        object.__setattr__(self, "_native", native)\n')
        for d, n, ann, _, yuan in rows:
            if yuan:
                out.append(f'\n    @property\n    def {yuan}(self) -> Decimal:\n        """``{n}`` in yuan."""\n        return yuan(self.{n})\n')
        out.append(f"\n    @classmethod\n    def _from_native(cls, d: Mapping[str, Any]) -> {record}:\n")
        out.append(FROM_NATIVE_DOC + "        o = object.__new__(cls)\n        o.__dict__.update(\n")
        out += [f"            {PY_NAMES.get(n, n)}={read},\n" for _, n, _, read, _ in rows]
        out.append("        )\n        return o\n")
        out.append('\n    def _checked(self) -> Any:\n        """The checked item a request sends (checked now when built from a reply)."""\n'
                   '        native = self.__dict__.get("_native")\n        if native is None:\n'
                   f"            native, _ = _native.{snake(record)}(\n                {{\n"
                   # Checked by the request that sends it, which names it (`goods[i].name`).
                   '                    "_from_reply": True,\n')
        out += [f'                    "{PY_NAMES.get(n, n)}": self.{PY_NAMES.get(n, n)},\n' for _, n, _, _, _ in rows]
        out.append('                }\n            )\n            object.__setattr__(self, "_native", native)\n        return native\n')
        # Pickling and copying rebuild the item from its fields (the checked item is native).
        keys = [(SERDE.get((record, n), n), PY_NAMES.get(py, py)) for (_, n, _), (_, py, _, _, _) in zip(fields, rows)]
        out.append("\n    def __reduce__(self) -> Tuple[Any, ...]:\n        return (\n            type(self)._from_native,\n            (\n                {\n")
        out += [f'                    "{k}": self.{py},\n' for k, py in keys]
        out.append("                },\n            ),\n        )\n\n\n")
        return "".join(out)

    def generate(self, core: Dict[str, Tuple[List[str], List[Tuple[List[str], str, str]]]]) -> str:
        text = self.out.read_text(encoding="utf-8")
        a = text.index(PY_BEGIN) + len(PY_BEGIN)
        b = text.index(PY_END, a)
        out = [self.object_class(core, record, ctor) for record, ctor in PY_OBJECTS]
        for record in self.records:
            doc, fields = core[record]
            rows = [(d,) + self.field(record, n, t) for d, n, t in fields] + self.extras.get(record, [])
            base = f"({self.bases[record]})" if record in self.bases else ""
            out.append(f"@dataclass(frozen=True)\nclass {record}{base}:\n")
            out.append(f'    """{rst(" ".join(doc))}"""\n\n')
            for d, n, ann, _, yuan in rows:
                if d:
                    out.append(field_doc(d, " Here: integer fen." if yuan else ""))
                extra = " = field(repr=False, compare=False)" if n == "raw" else ""
                out.append(f"    {n}: {ann}{extra}\n")
            for d, n, ann, _, yuan in rows:
                if yuan:
                    opt = ann.startswith("Optional")
                    out.append(
                        f"\n    @property\n    def {yuan}(self) -> {'Optional[Decimal]' if opt else 'Decimal'}:\n"
                        f'        """``{n}`` in yuan."""\n'
                        f"        return {'_opt_yuan' if opt else 'yuan'}(self.{n})\n"
                    )
            out.append(f"\n    @classmethod\n    def _from_native(cls, d: Mapping[str, Any]) -> {record}:\n")
            out.append(FROM_NATIVE_DOC + "        o = object.__new__(cls)\n        o.__dict__.update(\n")
            for _, n, _, read, _ in rows:
                out.append(f"            {n}={read},\n")
            out.append("        )\n        return o\n\n\n")
        return text[:a] + "".join(out) + text[b:]


def rst(text: str) -> str:
    """Markdown code spans as reStructuredText literals."""
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


# ---- errors ---------------------------------------------------------------------------------

ERROR_ENUM = re.compile(r"pub enum Error \{\n(.*?)^\}", re.S | re.M)
VARIANT = re.compile(r"((?:    ///[^\n]*\n)*)(?:    #\[[^\n]*\]\n)*    (\w+) \{\n(.*?)^    \},?\n", re.S | re.M)
VFIELD = re.compile(r"((?:        ///[^\n]*\n)*)        (\w+): ([^,\n]+),\n")
#: Field names the runtimes give a core error field.
JS_ERROR_RENAMED = {"code": "resultCode"}
#: Docs that differ in JS.
JS_ERROR_DOCS = {("Validation", "field"): ["The field, by its JS (camelCase) name, e.g. `amountFen`, `goods[0].price`."]}
TS_TYPES = {"String": "string", "u16": "number", "u64": "number", "u32": "number", "bool": "boolean", "ResultCode": "ResultCodeT"}
JS_BEGIN = "// --- generated from core/src/error.rs (scripts/gen-foreign.py)\n"
TS_BEGIN = "// --- generated from core/src/error.rs (scripts/gen-foreign.py)\n"
JS_END = "// --- end of generated\n"


def core_errors() -> List[Tuple[List[str], str, List[Tuple[List[str], str, str]]]]:
    text = (ROOT / "core/src/error.rs").read_text(encoding="utf-8")
    body = ERROR_ENUM.search(text)
    if not body:
        raise SystemExit("gen-foreign: no `pub enum Error` in core/src/error.rs")
    out = []
    for v in VARIANT.finditer(body.group(1)):
        fields = [(docs(f.group(1)), f.group(2), f.group(3).strip()) for f in VFIELD.finditer(v.group(3))]
        out.append((docs(v.group(1)), v.group(2), fields))
    return out


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def jsdoc(lines: List[str], indent: str) -> str:
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    return f"{indent}/**\n" + "".join(f"{indent} *{' ' if l else ''}{l}\n" for l in lines) + f"{indent} */\n"


class NodeErrors:
    """The error classes of node/errors.js and their declarations in node/sosopay.d.ts, one per
    core `Error` variant: `<Variant>Error`, `code` the variant's kind, the fields camelCased."""

    def classes(self) -> Tuple[str, str]:
        js, ts = [], []
        names = []
        for doc, variant, fields in core_errors():
            cls, code = f"{variant}Error", snake(variant)
            names.append((code, cls))
            js.append(jsdoc(doc, "") + f"class {cls} extends SosopayError {{\n  constructor(message, details = {{}}) {{\n")
            js.append(f"    super(message, {{ ...details, code: '{code}' }})\n")
            ts.append(jsdoc(doc, "") + f"export declare class {cls} extends SosopayError {{\n  readonly code: '{code}'\n")
            for fdoc, name, ty in fields:
                fdoc = JS_ERROR_DOCS.get((variant, name), fdoc)
                js_name = JS_ERROR_RENAMED.get(name, camel(name))
                value = f"Boolean(details.{js_name})" if ty == "bool" else f"details.{js_name}"
                js.append(jsdoc(fdoc, "    ") + f"    this.{js_name} = {value}\n")
                t = TS_TYPES.get(ty)
                if t is None:
                    raise SystemExit(f"gen-foreign: no TypeScript type for Error::{variant}.{name}: {ty}")
                if variant == "Validation":
                    t += " | undefined"  # napi's own argument errors may not name one
                ts.append(jsdoc(fdoc, "  ") + f"  readonly {js_name}: {t}\n")
            js.append("  }\n}\n\n")
            ts.append("}\n")
        js.append("/** Core variant (`Error::kind()`) → class. */\nconst CORE_CLASSES = {\n")
        js.extend(f"  {code}: {cls},\n" for code, cls in names)
        js.append("}\n")
        return "".join(js), "".join(ts)

    def targets(self) -> List[Tuple[Path, str, str, str]]:
        js, ts = self.classes()
        return [
            (ROOT / "node/errors.js", JS_BEGIN, JS_END, js),
            (ROOT / "node/sosopay.d.ts", TS_BEGIN, JS_END, ts),
        ]


class UniffiErrors:
    """`SosopayError` for Kotlin/Swift (bindings/uniffi/src/error_enum.rs): one variant per core
    `Error` variant with the same fields (Kotlin-friendly types), plus `Other` for a variant a
    newer core adds, and the conversions both ways. Its message is the core's (error.rs)."""

    out = ROOT / "bindings/uniffi/src/error_enum.rs"
    renamed = {"code": "result_code"}
    #: (variant, field) -> core -> foreign, where the value is spelled otherwise: a field's name
    #: as Kotlin and Swift spell it (camelCase).
    spelled = {
        ("Validation", "field"): "sosopay::error::camel_case(&{})",
        ("Validation", "reason"): "sosopay::error::camel_case_reason(&{})",
    }
    #: core type -> (foreign type, core -> foreign, foreign -> core), `{}` the value.
    types = {
        "String": ("String", "{}", "{}"),
        "bool": ("bool", "{}", "{}"),
        "ResultCode": ("ResultCode", "{}.into()", "{}.into()"),
        "u16": ("i32", "i32::from({})", "u16::try_from({}).unwrap_or(u16::MAX)"),
        "u64": ("i64", "i64::try_from({}).unwrap_or(i64::MAX)", "u64::try_from({}).unwrap_or(0)"),
    }

    def generate(self, _core: object) -> str:
        variants = core_errors()
        out = [
            "// @generated by scripts/gen-foreign.py from core/src/error.rs: do not edit.\n",
            "//! `SosopayError`: the core's `Error`, one variant to one variant, for Kotlin\n",
            "//! (`SosopayException.Gateway(resultCode, info, operation)`) and Swift.\n\n",
            "use crate::enums::ResultCode;\n\n",
            "/// Everything that can go wrong, as typed exceptions. No message ever contains the merchant\n",
            "/// key. `outcomeUnknown()` tells whether money may have moved: when it is true, query the\n",
            "/// payment (and cancel it if still open) before deciding anything.\n",
            "#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]\n",
            "#[uniffi::export(Display)]\n",
            "pub enum SosopayError {\n",
        ]
        to_foreign, to_core = [], []
        for doc, variant, fields in variants:
            out.append(comment(doc, "    ") + f"    {variant} {{\n")
            names_core, names_foreign, conv_f, conv_c = [], [], [], []
            for fdoc, name, ty in fields:
                if ty not in self.types:
                    raise SystemExit(f"gen-foreign: no uniffi type for Error::{variant}.{name}: {ty}")
                t, f, c = self.types[ty]
                f = self.spelled.get((variant, name), f)
                fname = self.renamed.get(name, name)
                out.append(comment(fdoc, "        ") + f"        {fname}: {t},\n")
                names_core.append(name)
                names_foreign.append(fname)
                conv_f.append(f"{fname}: {f.format(name)}" if (fname != name or f != "{}") else name)
                conv_c.append(f"{name}: {c.format(fname)}" if (fname != name or c != "{}") else name)
            out.append("    },\n")
            to_foreign.append(
                f"            sosopay::Error::{variant} {{ {', '.join(names_core)} }} => SosopayError::{variant} {{ {', '.join(conv_f)} }},\n"
            )
            to_core.append(
                f"            SosopayError::{variant} {{ {', '.join(names_foreign)} }} => sosopay::Error::{variant} {{ {', '.join(conv_c)} }},\n"
            )
        out.append(
            "    /// An error of a kind this binding does not know (a newer core); treat it as unknown\n"
            "    /// outcome.\n"
            "    Other {\n        /// The core's name for the kind.\n        kind: String,\n"
            "        /// The message.\n        reason: String,\n    },\n}\n\n"
        )
        out.append("impl From<sosopay::Error> for SosopayError {\n    fn from(e: sosopay::Error) -> Self {\n        match e {\n")
        out.extend(to_foreign)
        out.append(
            "            other => SosopayError::Other {\n                kind: other.kind().to_owned(),\n"
            "                reason: other.to_string(),\n            },\n        }\n    }\n}\n\n"
        )
        out.append(
            "impl SosopayError {\n    /// The core's error again (`None` for `Other`).\n"
            "    pub(crate) fn to_core(&self) -> Option<sosopay::Error> {\n        Some(match self.clone() {\n"
        )
        out.extend(to_core)
        out.append("            SosopayError::Other { .. } => return None,\n        })\n    }\n}\n")
        return rustfmt("".join(out))


class PythonErrors:
    """The exception classes of python/sosopay/errors.py (between markers), one per core `Error`
    variant: keyword-only fields with safe defaults, the builtin base a Python user expects, and
    the extras in PY_ERROR_EXTRAS."""

    out = ROOT / "python/sosopay/errors.py"
    names = {"Timeout": "RequestTimeoutError"}
    builtin_bases = {"Validation": "ValueError", "Timeout": "TimeoutError"}
    #: core type -> (annotation, default)
    types = {"String": ("str", '""'), "bool": ("bool", "True"), "u16": ("int", "0"), "u64": ("int", "0"), "ResultCode": ("str", '""')}
    #: Lines added to a class's body.
    extras = {
        "Gateway": [
            "",
            "    @property",
            "    def code(self) -> ResultCode:",
            '        """The same as :attr:`result_code` (the name of earlier versions)."""',
            "        return self.result_code",
        ],
    }
    #: Variants whose errors mean "money may have moved" unless told otherwise.
    unknown_by_default = {"OutcomeUnknown"}

    def generate(self, _core: object) -> str:
        out = []
        for doc, variant, fields in core_errors():
            cls = self.names.get(variant, f"{variant}Error")
            bases = "SosopayError" + (f", {self.builtin_bases[variant]}" if variant in self.builtin_bases else "")
            out.append(f"class {cls}({bases}):\n")
            out.append(f'    """{rst(" ".join(doc))}"""\n\n')
            out.append(f'    kind = "{snake(variant)}"\n\n')
            params = []
            for _, name, ty in fields:
                ann, default = self.types[ty]
                params.append(f"{name}: {ann} = {default}")
            out.append("    def __init__(self, message: str, *, " + ", ".join(params + ["**kw: Any"]) + ") -> None:\n")
            if variant in self.unknown_by_default:
                out.append('        kw.setdefault("outcome_unknown", True)\n')
            out.append("        super().__init__(message, **kw)\n")
            for fdoc, name, ty in fields:
                attr, value = name, name
                if ty == "ResultCode":
                    attr, value = "result_code", f"ResultCode({name})"
                for line in fdoc:
                    out.append(f"        #: {rst(line)}\n")
                ann = ": ResultCode" if ty == "ResultCode" else ""
                out.append(f"        self.{attr}{ann} = {value}\n")
            out.extend(line + "\n" for line in self.extras.get(variant, []))
            out.append("\n\n")
        out.append("_BY_KIND: Mapping[str, type[SosopayError]] = {\n")
        for _, variant, _ in core_errors():
            out.append(f"    {self.names.get(variant, variant + 'Error')}.kind: {self.names.get(variant, variant + 'Error')},\n")
        out.append("}\n")
        return replace_region(self.out, PY_ERR_BEGIN, PY_END, "".join(out))


PY_ERR_BEGIN = "# --- generated from core/src/error.rs (scripts/gen-foreign.py)\n"


def constructor(record: str, names: str = "new|by_charge_code") -> Tuple[str, List[str]]:
    """The core's constructor of `record` whose name matches `names` (a regex alternation;
    by default the main one): its name and parameter names, in order."""
    text = CORE.read_text(encoding="utf-8")
    m = re.search(r"^impl %s \{\n(.*?)^\}" % record, text, re.S | re.M)
    c = m and re.search(r"pub fn (%s)\((.*?)\) -> Self" % names, m.group(1), re.S)
    if not c:
        raise SystemExit(f"gen-foreign: no constructor {record}::{names}")
    return c.group(1), re.findall(r"(\w+):", c.group(2))


class UniffiRequests:
    """The Kotlin/Swift request records (bindings/uniffi/src/requests.rs) and their `to_core()`,
    from the core's request structs: the constructor's (`new`) parameters are required, in its
    order; every other field follows in the struct's order with a default (`None`, `""`, `[]`,
    `false`; a field the constructor defaults, such as a micropay's channel, is optional and
    keeps the core's default when null)."""

    out = ROOT / "bindings/uniffi/src/requests.rs"
    records = ["Goods", "MicropayRequest", "OrderRequest", "RefundRequest", "QueryRequest", "CancelRequest", "FlowRechargeRequest"]
    renamed = {"time_expire": "time_expire_seconds", "flow_val": "flow_val_mb", "class": "category"}
    #: Records that come back in replies too: a `From` the core's record is generated as well.
    both_ways = {"Goods"}
    #: The renamed fields of such a record (its requests' error tables name them per item).
    items: Dict[str, List[Tuple[str, str]]] = {}

    def generate(self, core: Dict[str, Tuple[List[str], List[Tuple[List[str], str, str]]]]) -> str:
        out = [
            "// @generated by scripts/gen-foreign.py from core/src/models.rs: do not edit.\n",
            "//! The request records for Kotlin and Swift, generated from the core's (money in fen,\n",
            "//! counts `Int`), and their conversion to the core's requests.\n\n",
            "use crate::enums::{Channel, DynamicIdType, SerType, TradeType};\n",
            "use crate::error::Result;\n",
            "use crate::models::{count_out, fen_in, fen_out, goods_in, opt_u32_in, u32_in};\n",
        ]
        for record in self.records:
            doc, fields = core[record]
            ctor, params = constructor(record)
            types = {n: t for _, n, t in fields}
            required = [p for p in params if not types[p].startswith("Option<")]
            order = [f for f in fields if f[1] in required]
            order.sort(key=lambda f: required.index(f[1]))
            order += [f for f in fields if f[1] not in required]
            decl, conv, back = [], [], []
            for fdoc, name, ty in order:
                req = name in required
                fname = self.renamed.get(name, name)
                opt = inner(ty, "Option")
                base = opt or ty
                default = None
                b = f"r.{name}"  # the core's value back, for a record in replies too
                if base == "Amount":
                    fname = f"{name}_fen"
                    t, c, b = "i64", f'fen_in("{fname}", self.{fname})?', f"fen_out(r.{name})"
                    fdoc = fdoc + ["", "Here: integer fen."]
                elif base == "u32" and not opt and not req:  # defaulted by the constructor
                    t, default, b = "Option<i32>", "None", f"Some(count_out(r.{name}))"
                    c = f'opt_u32_in("{fname}", self.{fname})?.unwrap_or(base.{name})'
                elif base == "u32":
                    t = "Option<i32>" if opt else "i32"
                    c = f'opt_u32_in("{fname}", self.{fname})?' if opt else f'u32_in("{fname}", self.{fname})?'
                    default = "None" if opt else None
                elif base in ENUMS:
                    if req:
                        t, c = base, f"self.{fname}.to_core()"
                    elif opt:
                        t, c, default = ty, f"self.{fname}.as_ref().map({base}::to_core)", "None"
                    else:  # defaulted by the constructor
                        t, c, default = f"Option<{base}>", f"self.{fname}.as_ref().map_or(base.{name}, {base}::to_core)", "None"
                elif ty == "Vec<Goods>":
                    t, c, default = "Vec<Goods>", "goods_in(&self.goods)?", "[]"
                elif base == "String":
                    t, c = ty, f"self.{fname}.clone()"
                    default = None if req else ("None" if opt else '""')
                elif ty == "bool":
                    t, c, default = "bool", f"self.{fname}", "false"
                else:
                    raise SystemExit(f"gen-foreign: requests: no rule for {record}.{name}: {ty}")
                decl.append((fdoc, fname, t, None if req else default))
                conv.append((name, c))
                back.append((fname, b))
            out.append("\n" + comment(doc, ""))
            out.append("#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]\n")
            out.append(f"pub struct {record} {{\n")
            for fdoc, fname, t, default in decl:
                out.append(comment(fdoc, "    "))
                if default is not None:
                    out.append(f"    #[uniffi(default = {default})]\n")
                out.append(f"    pub {fname}: {t},\n")
            out.append("}\n\n")
            # An optional field the constructor takes as text is overridden below.
            args = ["String::new()" if types[p].startswith("Option<") else dict(conv)[p] for p in params]
            pairs = [(n, f) for (_, f, _, _), (n, _) in zip(decl, conv) if f != n]
            if record in self.both_ways:  # kept for the requests listing such items
                self.items[record] = pairs
            for _, name, ty in fields:
                item = inner(ty, "Vec")
                pairs += [(f"{name}[].{n}", f"{name}[].{f}") for n, f in self.items.get(item or "", [])]
            spelled = "".join(f'("{n}", "{f}"), ' for n, f in pairs)
            if record in self.both_ways:
                out.append(f"impl From<sosopay::models::{record}> for {record} {{\n")
                out.append(f"    fn from(r: sosopay::models::{record}) -> Self {{\n        {record} {{\n")
                out += [f"            {f}: {b},\n" for f, b in back]
                out.append("        }\n    }\n}\n\n")
            out.append(f"impl {record} {{\n")
            if record not in self.both_ways:  # an item's errors are named by its request's
                out.append("    /// The core's names of the fields named otherwise here (for errors).\n"
                           f"    pub(crate) const FIELDS: &[(&str, &str)] = &[{spelled}];\n\n")
            out.append("    /// The core's request (values checked, defaults filled).\n")
            out.append(f"    pub(crate) fn to_core(&self) -> Result<sosopay::models::{record}> {{\n")
            out.append(f"        let base = sosopay::models::{record}::{ctor}({', '.join(args)});\n")
            rest = [(n, c) for n, c in conv if n not in required]
            if not rest:
                out.append("        Ok(base)\n    }\n}\n")
                continue
            out.append(f"        Ok(sosopay::models::{record} {{\n")
            for n, c in rest:
                out.append(f"            {n}: {c},\n")
            out.append("            ..base\n        })\n    }\n}\n")
        return "".join(out)


#: How `input::Props` reads a field of each Rust type (bindings/node/src/input.rs).
JS_READERS = {
    "String": "text", "Option<String>": "opt_text", "f64": "number", "Option<f64>": "opt_number",
    "Option<bool>": "opt_bool", "Option<YuanInput>": "yuan", "Option<FenInput>": "fen",
    "Option<Vec<GoodsInput>>": "opt_list::<GoodsInput>", "Option<ProgressFn>": "opt_function::<ProgressFn>",
    "Option<RetryOptions>": "opt_object::<RetryOptions>", "Option<RequestHookFn>": "opt_function::<RequestHookFn>",
}


def from_js(record: str, what: str, expected: str, decl: List[Tuple[List[str], str, str, Optional[str]]]) -> str:
    """The `from_js!` reading of a JS object into `record` (errors name the JS field)."""
    rows = "".join(f'    {name}: {JS_READERS[t]}("{camel(name)}"),\n' for _, name, t, _ in decl)
    return f'crate::from_js!({record}, "{what}", "{expected}", {{\n{rows}}});\n'


class NodeRequests(UniffiRequests):
    """The JS request objects (bindings/node/src/requests.rs) and their `to_core()`: every field
    optional at the napi level except the constructor's text parameters, money as yuan text
    (`x`) or integer fen (`xFen`), dictionaries by name or wire code, counts checked whole
    numbers; a missing required dictionary is a ValidationError naming it."""

    out = ROOT / "bindings/node/src/requests.rs"
    #: Node's request objects: the mobile ones, and `waitForPayment`'s order.
    records = UniffiRequests.records + ["AwaitedOrder"]
    #: The argument a record is, for messages, when not `request`.
    whats = {"AwaitedOrder": "order"}
    renamed: Dict[str, str] = {}
    #: JS names of records also in replies (the reply object keeps the core's name).
    js_names = {"Goods": "GoodsInput"}
    ts_types = {
        "DynamicIdType": "DynamicIdType | `${number}`",
        "Channel": "ChannelInput",
        "TradeType": "TradeType",
        "SerType": "SerType | `${number}`",
    }
    ts_fields = {("FlowRechargeRequest", "flow_type"): "'0' | '1'"}
    #: Other constructors a JS request converts through: (constructor, method, fields left to
    #: the constructor, optional fields it requires).
    extra_ctors = {"OrderRequest": [("jsapi", "into_jsapi_core", ("trade_type",), ["sub_openid"])]}

    def conversion(self, record: str, ctor: str, fn: str, required: List[str], cv: Dict[str, str], conv: List[Tuple[str, str]],
                   types: Dict[str, str], omit: Tuple[str, ...], extra: List[str]) -> str:
        """`fn`: the core's request through `ctor`; its required values converted first (in
        field order, so that errors name the first bad field), then the base request, then the
        other fields."""
        params = constructor_params(record, ctor)
        needed = [p for p in params if p in required or p in extra]
        out = [f"    /// The core's request through `{record}::{ctor}` (values checked, defaults filled).\n",
               f"    pub(crate) fn {fn}(self) -> Result<sosopay::models::{record}, Error> {{\n", "        let r = self;\n"]
        for p in needed:
            c = cv[p]
            if p in extra:  # optional in the JS object, required by this constructor
                c = f'r.{p}.ok_or_else(|| validation("{camel(p)}", "is required"))?'
            out.append(f"        let {p} = {c};\n")
        args = [p if p in needed else "String::new()" for p in params]
        out.append(f"        let base = sosopay::models::{record}::{ctor}({', '.join(args)});\n")
        rest = [(n, c) for n, c in conv if n not in needed and n not in omit and n not in required]
        # A field the other constructor required but this one leaves to its default.
        rest += [(n, self.defaulted(n, types[n], cv[n])) for n in required if n not in params]
        if not rest:
            return "".join(out) + "        Ok(base)\n    }\n"
        out.append(f"        Ok(sosopay::models::{record} {{\n")
        out += [f"            {n}: {c},\n" for n, c in rest]
        return "".join(out) + "            ..base\n        })\n    }\n"

    @staticmethod
    def defaulted(name: str, ty: str, required_conv: str) -> str:
        if ty in ENUMS:
            return f"r.{name}.as_deref().map_or(base.{name}, parse_enum)"
        raise SystemExit(f"gen-foreign: node requests: {name} ({ty}) has no default")

    def generate(self, core: Dict[str, Tuple[List[str], List[Tuple[List[str], str, str]]]]) -> str:
        out = [
            "// @generated by scripts/gen-foreign.py from core/src/models.rs: do not edit.\n",
            "//! The request objects for JavaScript, generated from the core's, and their conversion\n",
            "//! to the core's requests (validation messages name the JS fields).\n\n",
            "use napi_derive::napi;\n",
            "use sosopay::Error;\n\n",
            "use crate::client::count;\n",
            "use crate::convert::{amount, goods_in, opt_amount, parse_enum, FenInput, YuanInput};\n",
            "use crate::error::validation;\n",
        ]
        for record in self.records:
            doc, fields = core[record]
            ctor, params = constructor(record)
            types = {n: t for _, n, t in fields}
            required = [p for p in params if not types[p].startswith("Option<")]
            decl: List[Tuple[List[str], str, str, Optional[str]]] = []
            conv: List[Tuple[str, str]] = []
            for fdoc, name, ty in fields:
                req = name in required
                opt = inner(ty, "Option")
                base = opt or ty
                js = camel(name)
                if base == "Amount":
                    decl.append((fdoc + ["", f"Here: yuan as text (`\"0.01\"`); or give `{js}Fen`."], name, "Option<YuanInput>", "string"))
                    decl.append((fdoc + ["", "Here: integer fen."], f"{name}_fen", "Option<FenInput>", "number | bigint"))
                    reader = "opt_amount" if opt else "amount"
                    conv.append((name, f'{reader}(&r.{name}, &r.{name}_fen, "{js}", "{js}Fen")?'))
                elif base == "u32" and not opt and not req:  # defaulted by the constructor
                    decl.append((fdoc, name, "Option<f64>", None))
                    conv.append((name, f'count(r.{name}, "{js}")?.unwrap_or(base.{name})'))
                elif base == "u32":
                    decl.append((fdoc, name, "Option<f64>" if opt else "f64", None))
                    conv.append((name, f'count(r.{name}, "{js}")?' if opt else f'count(Some(r.{name}), "{js}")?.unwrap_or_default()'))
                elif base in ENUMS:
                    decl.append((fdoc, name, "Option<String>", self.ts_types.get(base, base)))
                    if req:
                        c = f'r.{name}.as_deref().map(parse_enum).ok_or_else(|| validation("{js}", "is required"))?'
                    elif opt:
                        c = f"r.{name}.as_deref().map(parse_enum)"
                    else:
                        c = f"r.{name}.as_deref().map_or(base.{name}, parse_enum)"
                    conv.append((name, c))
                elif ty == "Vec<Goods>":
                    decl.append((fdoc, name, "Option<Vec<GoodsInput>>", None))
                    conv.append((name, f"goods_in(r.{name})?"))
                elif base == "String":
                    if req:
                        decl.append((fdoc, name, "String", self.ts_fields.get((record, name))))
                        conv.append((name, f"r.{name}"))
                    elif opt:
                        decl.append((fdoc, name, "Option<String>", self.ts_fields.get((record, name))))
                        conv.append((name, f"r.{name}"))
                    else:
                        decl.append((fdoc, name, "Option<String>", None))
                        conv.append((name, f"r.{name}.unwrap_or_default()"))
                elif ty == "bool":
                    decl.append((fdoc, name, "Option<bool>", None))
                    conv.append((name, f"r.{name}.unwrap_or(false)"))
                else:
                    raise SystemExit(f"gen-foreign: node requests: no rule for {record}.{name}: {ty}")
            js_name = self.js_names.get(record, record)
            out.append("\n" + comment(doc, "") + "#[napi(object, object_from_js = false)]\n" + f"pub struct {js_name} {{\n")
            for fdoc, name, t, ts in decl:
                out.append(comment(fdoc, "    "))
                if ts:
                    out.append(f'    #[napi(ts_type = "{ts}")]\n')
                out.append(f"    pub {name}: {t},\n")
            out.append("}\n")
            what = self.whats.get(record, "request" if js_name == record else snake(record))
            article = "an" if record[0] in "AEIOU" else "a"
            out.append(from_js(js_name, what, f"{article} {record} object", decl))
            out.append("\n")
            cv = dict(conv)
            out.append(f"impl {js_name} {{\n")
            for ctor_name, fn, omit, extra in [(ctor, "into_core", (), [])] + self.extra_ctors.get(record, []):
                out.append(self.conversion(record, ctor_name, fn, required, cv, conv, types, omit, extra))
            money = [n for _, n, ty in fields if (inner(ty, "Option") or ty) == "Amount"]
            if money and record != "Goods":  # an item's errors are named within goods[i]
                given = ", ".join(f'("{n}", self.{n}_fen.is_some())' for n in money)
                out.append("\n    /// The money fields given in integer fen (by their core names): an error about one\n"
                           "    /// names it as given (`amountFen`).\n"
                           "    pub(crate) fn in_fen(&self) -> Vec<&'static str> {\n"
                           f"        [{given}]\n"
                           "            .into_iter()\n"
                           "            .filter_map(|(field, fen)| fen.then_some(field))\n"
                           "            .collect()\n    }\n")
            out.append("}\n")
        return "".join(out)


PY_OUTCOME_BEGIN = "# --- generated from core/src/flows.rs (scripts/gen-foreign.py)\n"
PY_LOG_BEGIN = "# --- generated from core/src/client.rs (scripts/gen-foreign.py)\n"
PY_OPS_BEGIN = "    # --- generated from core/src/models.rs (scripts/gen-foreign.py)\n"
PY_OPS_END = "    # --- end of generated\n"

#: Python's operations: (method, request record, its constructor, reply, fields left out).
#: A method's keyword arguments are the record's fields (money `x` as `x` in yuan or `x_fen`),
#: the constructor's text parameters required; the flows add the core's WaitOptions (seconds),
#: `cancel` and `on_progress`.
PY_OPS = [
    ("micropay", "MicropayRequest", "new", "OrderReply", ()),
    ("create_qr_order", "OrderRequest", "new", "OrderReply", ()),
    ("create_jsapi_order", "OrderRequest", "jsapi", "OrderReply", ("trade_type",)),
    ("query", "QueryRequest", "by_charge_code", "QueryReply", ()),
    ("refund", "RefundRequest", "new", "RefundReply", ()),
    ("cancel", "CancelRequest", "new", "CancelReply", ()),
    ("flow_recharge", "FlowRechargeRequest", "new", "FlowRechargeReply", ()),
    ("micropay_and_wait", "MicropayRequest", "new", "PaymentOutcome", ()),
    ("wait_for_payment", None, None, "PaymentOutcome", ()),  # the core's AwaitedOrder
]
#: Constructor parameters required though their field is optional (a JSAPI order's user).
PY_REQUIRED = {("OrderRequest", "jsapi"): ["sub_openid"]}
#: Python's names of core fields that are Python keywords.
PY_NAMES = {"class": "class_"}
#: Records a Python caller builds as objects (`sosopay.Goods`): (record, its constructor).
PY_OBJECTS = [("Goods", "new")]
#: An argument with a second name: (method, field) -> (alias, the hand-written resolver).
PY_ALIASES = {("query", "code"): ("charge_code", "_query_code(code, charge_code)")}
#: The docstrings (reStructuredText). A flow's AsyncClient docstring is its own.
PY_DOCS = {
    "micropay": """Micropay (被扫, ``preOrder``): charge the customer's scanned payment code.

        The gateway may hold the request up to 80 s while the customer confirms. A lost reply
        raises an error with ``outcome_unknown``; prefer :meth:`micropay_and_wait` at a till.""",
    "create_qr_order": "A QR order (主扫): render ``reply.bar_code`` as a QR code for the customer to scan.",
    "create_jsapi_order": "A WeChat JSAPI (公众号) order: hand ``reply.jsapi.to_wechat()`` to ``WeixinJSBridge``.",
    "query": "Query an order by ``code`` (alias ``charge_code``); ``ser_type`` says what the code is.",
    "refund": """Refund (part of) a paid order; reuse ``out_refund_no`` to retry safely.

        A success whose ``FUND_BILL_LIST`` adds up to another amount than ``refund_amount`` (the
        refund made before under this ``out_refund_no``) raises :class:`DecodeError`
        (``outcome_unknown``): this refund was not shown done.""",
    "cancel": """Cancel (撤单) an order; ``apply=True`` applies to cancel (``opType=ACO``).

        ``AREADY_REVOKED`` (the order is cancelled already) is returned as a reply, never
        raised: the order is cancelled, as asked.""",
    "flow_recharge": "Mobile data top-up (流量充值) of ``flow_val`` MB for ``phone_no``.",
    "micropay_and_wait": """The till flow: micropay, then settle the outcome by querying, cancelling at the
        deadline. Never raises for a declined or unresolved payment: check ``outcome.status``
        (``CONFLICT``: the charge code belongs to another payment, which was left untouched).

        Timing, in seconds: ``deadline`` (default 60) when the last query is made and an
        unpaid order is cancelled; ``poll_interval`` (default 2) the first pause between
        queries, growing to ``max_poll_interval`` (default 5); ``cancel_attempts`` (default 5);
        ``max_duration`` (default 90, or ``deadline`` + 30 when longer; at least ``deadline``) bounds the whole flow;
        ``gateway_hold`` (default 80) how long the gateway may still carry out a request the
        client gave up on. Invalid options raise :class:`ValidationError` naming the argument.
""",
    "micropay_and_wait/sync": """
        ``cancel``: a :class:`CancelToken` another thread may cancel (the cashier's cancel
        button): the flow then stops waiting and reverses the order at once (prove it ours,
        cancel, confirm), returning ``CANCELLED`` (or ``PAID`` if the customer had paid and the
        reversal was refused, or ``UNRESOLVED``). A token already cancelled when the call
        starts sends nothing and returns ``FAILED``. ``on_progress``: called with each
        :class:`FlowEvent`, on this (the calling) thread; keep it quick; an exception it
        raises is logged (logger ``"sosopay"``) and ignored. An ``async def`` callback cannot
        run here (it is logged as an error): :class:`AsyncClient` awaits one.""",
    "micropay_and_wait/async": """
        Runs on one worker of this client's pool for the whole flow. Cancelling the awaiting
        task reverses the order, waits for that, then re-raises ``CancelledError`` (a task
        cancelled while still queued for a worker sends nothing). ``cancel``: a
        :class:`CancelToken` whose ``cancel()`` makes the flow reverse the order and *return*
        the outcome (``CANCELLED``, or ``PAID`` / ``UNRESOLVED``). ``on_progress``: called with
        each :class:`FlowEvent` on the event loop's thread, in order, all before this coroutine
        returns; an ``async def`` callback is awaited, one event after the other; an exception
        it raises is logged and ignored.""",
    "wait_for_payment": """Poll a QR / JSAPI order until paid, failed, cancelled, or the deadline (``PENDING``).

        ``amount`` (yuan) or ``amount_fen``: the amount the order was created for
        (recommended). Then an order under ``charge_code`` for another amount (the code was used
        before, for another payment) is ``CONFLICT``, never ``PAID``.

        Timing, in seconds, as in :meth:`micropay_and_wait`: ``deadline`` (default 60),
        ``poll_interval`` (default 2) growing to ``max_poll_interval`` (default 5),
        ``cancel_attempts`` (default 5), ``max_duration`` (default 90, or ``deadline`` + 30 when longer; at least ``deadline``),
        ``gateway_hold`` (default 80). """,
    "wait_for_payment/sync": """``cancel``: a :class:`CancelToken` that stops waiting
        (then ``PENDING`` if the order still awaits payment; the order is left as it is).
        ``on_progress``: as in :meth:`micropay_and_wait`.""",
    "wait_for_payment/async": """Cancelling the awaiting task (or ``cancel``) stops
        waiting at once; the order is left as it is. ``on_progress`` as in
        :meth:`micropay_and_wait`.""",
}


def constructor_params(record: str, ctor: str) -> List[str]:
    """The parameter names of the core's constructor `record::ctor`."""
    return constructor(record, ctor)[1]


class PythonRequests:
    """Python's requests: bindings/python/src/requests.rs reads each core request from the dict
    of a method's keyword arguments (`Args`); client.py's and aio.py's operation methods are
    generated from the same fields (PY_OPS)."""

    out = ROOT / "bindings/python/src/requests.rs"
    client = ROOT / "python/sosopay/client.py"
    aio = ROOT / "python/sosopay/aio.py"

    def plan(self, core: Dict, record: str, ctor: str, omit: Tuple[str, ...]) -> Tuple[List[str], List[Tuple[str, str]]]:
        """(the constructor's required parameters, [(field, type)] in signature order)."""
        _, fields = core[record]
        types = {n: t for _, n, t in fields}
        params = constructor_params(record, ctor)
        extra = PY_REQUIRED.get((record, ctor), [])
        required = [p for p in params if not types[p].startswith("Option<") or p in extra]
        order = [p for p in required if types[p] != "Amount"] + [p for p in required if types[p] == "Amount"]
        order += [n for _, n, _ in fields if n not in required and n not in omit]
        return required, [(n, types[n]) for n in order]

    def rust(self, core: Dict) -> str:
        out = [
            "// @generated by scripts/gen-foreign.py from core/src/models.rs: do not edit.\n",
            "//! The core's requests read from the keyword arguments of Python's methods (see\n",
            "//! `Args`); errors name the Python argument.\n\n",
            "use pyo3::prelude::*;\n",
            "use pyo3::types::PyDict;\n",
            "use sosopay::models::*;\n",
            "use sosopay::{Channel, DynamicIdType, SerType, TradeType};\n\n",
            "use crate::args::Args;\n",
        ]
        done = set()
        objects = [(record, record, ctor, None, ()) for record, ctor in PY_OBJECTS]
        for method, record, ctor, _, omit in objects + PY_OPS:
            if not record or (record, ctor) in done:
                continue
            done.add((record, ctor))
            required, fields = self.plan(core, record, ctor, omit)
            params = constructor_params(record, ctor)
            conv = {}
            for field_name, ty in fields:
                name = PY_NAMES.get(field_name, field_name)
                opt = inner(ty, "Option")
                base = opt or ty
                req = field_name in required
                if base == "Amount":
                    c = f'a.amount("{name}")?'
                elif base == "u32" and not opt and not req:  # defaulted by the constructor
                    c = f'a.opt_count("{name}")?.unwrap_or(base.{field_name})'
                elif base == "u32":
                    c = f'a.count("{name}")?' if req else f'a.opt_count("{name}")?'
                elif base in ENUMS:
                    if req:
                        c = f'a.required_dictionary::<{base}>("{name}")?'
                    elif opt:
                        c = f'a.dictionary::<{base}>("{name}")?'
                    else:
                        c = f'a.dictionary::<{base}>("{name}")?.unwrap_or(base.{name})'
                elif ty == "Vec<Goods>":
                    c = f'a.goods("{name}")?'
                elif base == "String":
                    c = f'a.text("{name}")?' if req else (f'a.opt_text("{name}")?' if opt else f'a.opt_text("{name}")?.unwrap_or_default()')
                elif ty == "bool":
                    c = f'a.flag("{name}")?'
                else:
                    raise SystemExit(f"gen-foreign: python requests: no rule for {record}.{name}: {ty}")
                conv[field_name] = c
            fn = snake(record) + ("" if ctor in ("new", "by_charge_code") else f"_{ctor}")
            out.append(f"\n/// `{record}::{ctor}` and the other fields, from `{method}`'s arguments.\n")
            out.append(f"pub(crate) fn {fn}(a: &Args<'_, '_>) -> PyResult<{record}> {{\n")
            for p in params:
                if p in required:
                    out.append(f"    let {p} = {conv[p]};\n")
            args = [p if p in required else "String::new()" for p in params]
            out.append(f"    let base = {record}::{ctor}({', '.join(args)});\n")
            rest = [(n, conv[n]) for n, _ in fields if n not in required]
            if not rest:
                out.append("    Ok(base)\n}\n")
                continue
            out.append(f"    Ok({record} {{\n")
            for n, c in rest:
                out.append(f"        {n}: {c},\n")
            out.append("        ..base\n    })\n}\n")
        for record, _ in PY_OBJECTS:
            out.append(f"\n/// A `{record}`'s fields by their Python names (the attributes of `sosopay.{record}`).\n")
            out.append(f"pub(crate) fn {snake(record)}_fields<'py>(py: Python<'py>, r: &{record}) -> PyResult<Bound<'py, PyDict>> {{\n")
            out.append("    let d = PyDict::new(py);\n")
            for _, name, ty in core[record][1]:
                if ty == "Amount":
                    out.append(f'    d.set_item("{name}_fen", r.{name}.fen())?;\n')
                elif ty in ("String", "Option<String>", "u32", "bool"):
                    borrow = "&" if "String" in ty else ""
                    out.append(f'    d.set_item("{PY_NAMES.get(name, name)}", {borrow}r.{name})?;\n')
                else:
                    raise SystemExit(f"gen-foreign: python objects: no rule for {record}.{name}: {ty}")
            out.append("    Ok(d)\n}\n")
        return "".join(out)

    def signature(self, core: Dict, method: str, record: Optional[str], ctor: Optional[str], omit: Tuple[str, ...]) -> Tuple[List[str], List[str], List[str]]:
        """(parameters, the request dict's items, the wait dict's items)."""
        params, items, wait = [], [], []
        if record:
            required, fields = self.plan(core, record, ctor, omit)
        else:  # wait_for_payment: the core's AwaitedOrder
            required, fields = ["charge_code"], [(n, t) for _, n, t in core["AwaitedOrder"][1]]
        for field_name, ty in fields:
            name = PY_NAMES.get(field_name, field_name)
            opt = inner(ty, "Option")
            base = opt or ty
            req = field_name in required
            value = name
            if (method, name) in PY_ALIASES:
                alias, value = PY_ALIASES[(method, name)]
                params += [f"{name}: Optional[str] = None", f"{alias}: Optional[str] = None"]
            elif base == "Amount":
                params += [f"{name}: Optional[YuanLike] = None", f"{name}_fen: Optional[int] = None"]
                items += [f'"{name}": {name}', f'"{name}_fen": {name}_fen']
                continue
            elif base == "u32":
                params.append(f"{name}: int" if req else f"{name}: Optional[int] = None")
            elif base in ENUMS:
                params.append(f"{name}: Union[{base}, str, int]" if req else f"{name}: Union[{base}, str, int, None] = None")
            elif ty == "Vec<Goods>":
                params.append(f"{name}: Optional[Sequence[Goods]] = None")
            elif base == "String":
                params.append(f"{name}: str" if req else f"{name}: Optional[str] = None")
            elif ty == "bool":
                params.append(f"{name}: bool = False")
            else:
                raise SystemExit(f"gen-foreign: python methods: no rule for {record}.{name}: {ty}")
            items.append(f'"{name}": {value}')
        if method in FLOWS:
            for _, name, ty in core_struct("core/src/flows.rs", "WaitOptions")[1]:
                params.append(f"{name}: Optional[int] = None" if ty == "u32" else f"{name}: Optional[float] = None")
                wait.append(f'"{name}": {name}')
            params += ["cancel: Optional[CancelToken] = None", "on_progress: Optional[ProgressCallback] = None"]
        return params, items, wait

    def methods(self, core: Dict, asynchronous: bool) -> str:
        out = []
        for method, record, ctor, reply, omit in PY_OPS:
            params, items, wait = self.signature(core, method, record, ctor, omit)
            if asynchronous:  # the async client also awaits an `async def` callback
                params = [p.replace("[ProgressCallback]", "[AsyncProgressCallback]") for p in params]
            doc = PY_DOCS[method] + PY_DOCS.get(f"{method}/{'async' if asynchronous else 'sync'}", "")
            head = "async def" if asynchronous else "def"
            out.append(f"    {head} {method}(\n        self,\n        *,\n")
            out += [f"        {p},\n" for p in params]
            out.append(f'    ) -> {reply}:\n        """{doc}"""\n')
            names = [p.split(":")[0] for p in params]
            if asynchronous:
                kwargs = [f"{n}={n}" for n in names if n not in ("cancel", "on_progress")]
                if method in FLOWS:
                    out.append(f"        return await self._flow(\n            self._client.{method},\n            cancel,\n            on_progress,\n")
                else:
                    out.append(f"        return await self._run(\n            self._client.{method},\n")
                out += [f"            {k},\n" for k in kwargs]
                out.append("        )\n\n")
                continue
            aliases = [(field, alias) for (m, field), (alias, _) in PY_ALIASES.items() if m == method]
            pad = "    " if aliases else ""
            call = [f"        return {reply}._from_native(\n            _blocking(\n                self._native.{method},\n"]
            call.append("                {\n" + "".join(f"                    {i},\n" for i in items) + "                },\n")
            if method in FLOWS:
                call.append("                {\n" + "".join(f"                    {i},\n" for i in wait) + "                },\n")
                call.append("                cancel,\n                _progress(on_progress),\n")
            call.append("            )\n        )\n")
            call = "".join(call)
            if aliases:  # an error about the field names it as the caller did
                call = "        try:\n" + "".join(pad + line + "\n" for line in call.splitlines())
                for field, alias in aliases:
                    call += f"        except ValidationError as e:\n            raise _named_as(e, \"{field}\", \"{alias}\", {alias}) from None\n"
            out.append(call + "\n")
        return "".join(out).rstrip("\n") + "\n"

    def targets(self, core: Dict, options: "FlowOptions") -> List[Tuple[Path, str]]:
        return [
            (self.out, self.rust(core) + options.python_rs() + options.python_log()[0] + ClientSettings().python_rs()),
            (self.client, ClientSettings().python_regions(self.client, replace_region(self.client, PY_OPS_BEGIN, PY_OPS_END, self.methods(core, False)))),
            (self.aio, ClientSettings().python_regions(self.aio, replace_region(self.aio, PY_OPS_BEGIN, PY_OPS_END, self.methods(core, True)))),
        ]


FLOWS = {"micropay_and_wait", "wait_for_payment"}


class UniffiDefaults:
    """Kotlin/Swift show a record's defaults in its constructor (`#[uniffi(default = N)]`): each
    is read from the core's own default (the struct literal of `ClientConfig::new`,
    `RetryPolicy::default`, `WaitOptions::default`), so the value is defined once, in the core."""

    @staticmethod
    def core_value(file: str, after: str, field: str) -> int:
        text = (ROOT / file).read_text(encoding="utf-8")
        rest = text[text.index(after):]
        m = re.search(r"(?<![\w.])%s: (?:Duration::from_(secs|millis)\((\d+)\)|(\d+)|(true|false)),\n" % field, rest)
        if not m:
            raise SystemExit(f"gen-foreign: no default for {field} after {after!r} in {file}")
        if m.group(4):
            return m.group(4)  # type: ignore[return-value]  # a bool, as Rust spells it
        if m.group(3):
            return int(m.group(3))
        return int(m.group(2)) * (1000 if m.group(1) == "secs" else 1)


class PythonLedger:
    """The testing kit's ledger records (python/sosopay/testing/_ledger.py, between markers),
    frozen dataclasses read from the sandbox's JSON (`_from_json`), generated from the
    sandbox's own structs in sandbox/src/ledger.rs; extras (``is_paid``, ``accepted``, the
    ledger's lookups) come from the hand-written mixin named in `bases`."""

    src = ROOT / "sandbox/src/ledger.rs"
    out = ROOT / "python/sosopay/testing/_ledger.py"
    names = {
        "FaultRuleRecord": "FaultRule", "InjectedFault": "FaultEvent", "FaultLog": "FaultsState",
        "LedgerOrder": "SandboxOrder", "LedgerRefund": "SandboxRefund",
        "NotificationAttempt": "NotificationAttempt", "TopUp": "FlowRechargeRecord", "Ledger": "Ledger",
    }
    bases = {"LedgerOrder": "_SandboxOrderRules", "Ledger": "_LedgerQueries"}
    #: State codes read as the core's OrderState.
    states = {("LedgerOrder", "state"), ("LedgerRefund", "state_after")}

    def field(self, record: str, name: str, ty: str) -> Tuple[str, str]:
        """(annotation, reading from `d`)."""
        get = f'd.get("{name}")'
        opt = inner(ty, "Option")
        base = opt or ty
        if (record, name) in self.states:
            return "OrderState", f"OrderState(str({get}))"
        if base == "String":
            return ("Optional[str]", f"_opt_str({get})") if opt else ("str", f'str({get} or "")')
        if base in ("u16", "u32", "u64"):
            return ("Optional[int]", f"_opt_int({get})") if opt else ("int", f"int({get} or 0)")
        if ty == "f64":
            return "float", f"float({get} or 0)"
        if ty == "bool":
            return "bool", f"bool({get})"
        if ty == "HashMap<String, u64>":
            return "Mapping[str, int]", f"{{str(k): int(v) for k, v in ({get} or {{}}).items()}}"
        vec = inner(ty, "Vec")
        if vec in self.names:
            return f"Tuple[{self.names[vec]}, ...]", f"tuple({self.names[vec]}._from_json(x) for x in {get} or ())"
        if ty in self.names:
            return self.names[ty], f"{self.names[ty]}._from_json({get} or {{}})"
        raise SystemExit(f"gen-foreign: ledger: no rule for {record}.{name}: {ty}")

    def generate(self, text: Optional[str] = None) -> str:
        text = self.src.read_text(encoding="utf-8") if text is None else text
        structs = {m.group(3): (docs(m.group(1)), [(docs(f.group(1)), f.group(3), f.group(4).strip()) for f in FIELD.finditer(m.group(4))])
                   for m in STRUCT.finditer(text)}
        out = []
        for record, py in self.names.items():
            doc, fields = structs[record]
            base = f"({self.bases[record]})" if record in self.bases else ""
            out.append(f"@dataclass(frozen=True)\nclass {py}{base}:\n")
            out.append(f'    """{rst(" ".join(doc))}"""\n\n')
            rows = [(d, n) + self.field(record, n, ty) for d, n, ty in fields]
            for d, n, ann, _ in rows:
                out.append(f"    {n}: {ann}\n")
                if d:
                    out.append(f'    """{rst(" ".join(d))}"""\n')
            out.append("    raw: Mapping[str, Any] = field(repr=False, compare=False)\n")
            out.append('    """The sandbox\'s JSON object (fields a newer sandbox adds are here)."""\n')
            out.append(f'\n    @classmethod\n    def _from_json(cls, d: Mapping[str, Any]) -> "{py}":\n        return cls(\n')
            for _, n, _, read in rows:
                out.append(f"            {n}={read},\n")
            out.append("            raw=d,\n        )\n\n\n")
        return replace_region(self.out, PY_BEGIN.replace("core/src/models.rs", "sandbox/src/ledger.rs"), PY_END, "".join(out))


class NodeLedger:
    """The Node testing kit's ledger records from sandbox/src/ledger.rs: the converters from the
    sandbox's JSON (node/testing.js) and their interfaces (node/testing.d.ts), between markers.
    Extras (``isPaid``, ``accepted``, the ledger's lookups) are the hand-written functions and
    interfaces named in `extras`; a few fields read as the kit has always shown them
    (`special`)."""

    js = ROOT / "node/testing.js"
    ts = ROOT / "node/testing.d.ts"
    begin = "// --- generated from sandbox/src/ledger.rs (scripts/gen-foreign.py)\n"
    names = PythonLedger.names
    extras = {"LedgerOrder": ("orderRules", "OrderRules"), "Ledger": ("ledgerQueries", "LedgerQueries")}
    #: (record, field) -> (JS name, reading, TS type, doc or None for the field's own)
    special = {
        ("LedgerOrder", "state"): ("stateCode", "optText(o.state)", "string | null", ["`STATE` as on the wire (`'1'`)."]),
        ("LedgerOrder", "state_name"): ("state", "o.state_name", "OrderState", ["The order's state."]),
        ("LedgerOrder", "channel"): ("channelCode", "optText(o.channel)", "string | null",
                                     ["`CHANNEL_TYPE` as on the wire (`'2'` WeChat, `'1'` Alipay, ...)."]),
        ("LedgerRefund", "state_after"): ("stateAfter", "stateName(o.state_after)", "OrderState", None),
    }
    ts_types = {("LedgerOrder", "kind"): "'micropay' | 'qr' | 'jsapi'", ("NotificationAttempt", "format"): "'json' | 'xml'"}

    def field(self, record: str, name: str, ty: str) -> Tuple[str, str, str]:
        """(JS name, reading from `o`, TS type)."""
        get = f"o.{name}"
        opt = inner(ty, "Option")
        base = opt or ty
        ts = self.ts_types.get((record, name))
        if base == "String":
            return camel(name), (f"opt({get})" if opt else get), ts or ("string | null" if opt else "string")
        if base in ("u16", "u32", "u64", "f64"):
            return camel(name), (f"optNum({get})" if opt else f"Number({get})"), "number | null" if opt else "number"
        if ty == "bool":
            return camel(name), f"Boolean({get})", "boolean"
        if ty == "HashMap<String, u64>":
            return camel(name), f"counts({get})", "Record<string, number>"
        vec = inner(ty, "Vec")
        if vec in self.names:
            return camel(name), f"({get} || []).map(to{self.names[vec]})", f"{self.names[vec]}[]"
        if ty in self.names:
            return camel(name), f"to{self.names[ty]}({get} || {{}})", self.names[ty]
        raise SystemExit(f"gen-foreign: node ledger: no rule for {record}.{name}: {ty}")

    def generate(self, text: Optional[str] = None) -> List[Tuple[Path, str]]:
        text = PythonLedger.src.read_text(encoding="utf-8") if text is None else text
        structs = {m.group(3): (docs(m.group(1)), [(docs(f.group(1)), f.group(3), f.group(4).strip()) for f in FIELD.finditer(m.group(4))])
                   for m in STRUCT.finditer(text)}
        js, ts = [], []
        for record, name in self.names.items():
            doc, fields = structs[record]
            fn, iface = self.extras.get(record, (None, None))
            rows = []
            for d, n, ty in fields:
                if (record, n) in self.special:
                    key, read, t, sdoc = self.special[(record, n)]
                    rows.append((sdoc or d, key, read, t))
                else:
                    key, read, t = self.field(record, n, ty)
                    rows.append((d, key, read, t))
            js.append(f"/** {name} from the ledger's JSON. */\nfunction to{name}(o) {{\n")
            js.append(f"  return {fn}({{\n" if fn else "  return {\n")
            js.extend(f"    {key}: {read},\n" for _, key, read, _ in rows)
            js.append("    raw: o,\n")
            js.append("  })\n}\n\n" if fn else "  }\n}\n\n")
            ts.append(jsdoc(doc, ""))
            ts.append(f"export interface {name}{' extends ' + iface if iface else ''} {{\n")
            for d, key, _, t in rows:
                ts.append(jsdoc(d, "  "))
                ts.append(f"  {key}: {t}\n")
            ts.append("  /** The sandbox's JSON object (fields a newer sandbox adds are here). */\n")
            ts.append("  raw: Record<string, unknown>\n}\n\n")
        return [(self.js, replace_region(self.js, self.begin, JS_END, "".join(js))),
                (self.ts, replace_region(self.ts, self.begin, JS_END, "".join(ts)))]


class FlowEvents:
    """The flows' progress events from the core's `FlowEvent` enum (core/src/flows.rs): a
    Kotlin/Swift enum with one case per variant (bindings/uniffi/src/flows.rs), a flat object
    for JS with `kind` and the variants' fields (bindings/node/src/flows.rs), and for Python the
    native dict (bindings/python/src/flows.rs) and the `FlowEvent` dataclass (models.py), each
    between markers. Every variant carries `elapsed`."""

    src = ROOT / "core/src/flows.rs"
    uniffi = ROOT / "bindings/uniffi/src/flows.rs"
    node = ROOT / "bindings/node/src/flows.rs"
    python_flows = ROOT / "bindings/python/src/flows.rs"
    models = ROOT / "python/sosopay/models.py"
    begin = "// --- generated from core/src/flows.rs (scripts/gen-foreign.py)\n"
    py_begin = "# --- generated from core/src/flows.rs FlowEvent (scripts/gen-foreign.py)\n"
    ELAPSED = "Time since the flow started"

    def __init__(self, text: Optional[str] = None) -> None:
        text = self.src.read_text(encoding="utf-8") if text is None else text
        m = re.search(r"((?:^///[^\n]*\n)*)(?:#\[[^\n]*\]\n)*pub enum FlowEvent \{\n(.*?)^\}", text, re.S | re.M)
        if not m:
            raise SystemExit("gen-foreign: no `pub enum FlowEvent` in core/src/flows.rs")
        self.doc = docs(m.group(1))
        #: [(docs, Variant, [(docs, field, type)])] without `elapsed`
        self.variants = [(docs(v.group(1)), v.group(2),
                          [(docs(f.group(1)), f.group(2), f.group(3).strip()) for f in VFIELD.finditer(v.group(3)) if f.group(2) != "elapsed"])
                         for v in VARIANT.finditer(m.group(2))]
        #: The fields of every variant, flat: {field: (docs, type, [kinds])}
        self.flat: Dict[str, Tuple[List[str], str, List[str]]] = {}
        for _, v, fields in self.variants:
            for d, n, t in fields:
                prev = self.flat.get(n)
                if prev and prev[1] != t:
                    raise SystemExit(f"gen-foreign: FlowEvent.{n} has two types ({prev[1]}, {t})")
                self.flat[n] = (d, t, (prev[2] if prev else []) + [v.lower()])

    def uniffi_rs(self) -> str:
        conv = {"Option<OrderState>": "{}.clone().map(Into::into)", "OutcomeStatus": "(*{}).into()", "bool": "*{}"}
        out = [comment(self.doc + ["`elapsedMs`: time since the flow started."], ""),
               "#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]\npub enum FlowEvent {\n"]
        arms = []
        for d, v, fields in self.variants:
            out.append(comment(d, "    ") + f"    {v} {{\n")
            for fd, n, t in fields:
                if t not in conv:
                    raise SystemExit(f"gen-foreign: FlowEvent: no uniffi rule for {n}: {t}")
                out.append(comment(fd, "        ") + f"        {n}: {t},\n")
            out.append(f"        /// {self.ELAPSED}, ms.\n        elapsed_ms: i64,\n    }},\n")
            binds = "".join(f"{n}, " for _, n, _ in fields)
            sets = "".join(f"{n}: {conv[t].format(n)}, " for _, n, t in fields)
            arms.append(f"            sosopay::FlowEvent::{v} {{ {binds}.. }} => FlowEvent::{v} {{ {sets}elapsed_ms }},\n")
        out.append("}\n\nimpl FlowEvent {\n    /// `None` for an event kind this binding does not know yet (it is not reported).\n"
                   "    fn from_core(e: &sosopay::FlowEvent) -> Option<Self> {\n"
                   "        let elapsed_ms = i64::try_from(e.elapsed().as_millis()).unwrap_or(i64::MAX);\n        Some(match e {\n")
        out += arms
        out.append("            #[allow(unreachable_patterns)]\n            _ => return None,\n        })\n    }\n}\n")
        return "".join(out)

    def kinds_doc(self, quote: str) -> List[str]:
        return [f"{quote}{v.lower()}{quote}: {' '.join(d)}" for d, v, _ in self.variants]

    def node_rs(self) -> str:
        kinds = " | ".join(f"'{v.lower()}'" for _, v, _ in self.variants)
        out = [comment(self.doc, ""), "#[napi(object)]\npub struct FlowEvent {\n",
               comment(["The kind:"] + [f"- {line}" for line in self.kinds_doc("'")], "    "),
               f'    #[napi(ts_type = "{kinds}")]\n    pub kind: String,\n',
               f"    /// {self.ELAPSED}, ms.\n    pub elapsed_ms: f64,\n"]
        init, arms = [], []
        for n, (d, t, vs) in self.flat.items():
            when = "/".join(f"`'{k}'`" for k in vs) + ": "
            dd = [when + d[0]] + d[1:] if d else [when]
            if t == "Option<OrderState>":
                out.append(comment(dd, "    ") + f'    #[napi(ts_type = "OrderState")]\n    pub {n}: Option<String>,\n')
                out.append(f"    /// {when}`STATE` as sent.\n    pub {n}_code: Option<String>,\n")
                init += [f"{n}: None", f"{n}_code: None"]
                sets = f"ev.{n} = name_of::<OrderState>({n}); ev.{n}_code = wire_of::<OrderState>({n});"
            elif t == "OutcomeStatus":
                out.append(comment(dd, "    ") + f'    #[napi(ts_type = "OutcomeStatus")]\n    pub {n}: Option<String>,\n')
                init.append(f"{n}: None")
                sets = f"ev.{n} = Some({n}.name().to_owned());"
            elif t == "bool":
                out.append(comment(dd, "    ") + f"    pub {n}: Option<bool>,\n")
                init.append(f"{n}: None")
                sets = f"ev.{n} = Some(*{n});"
            else:
                raise SystemExit(f"gen-foreign: FlowEvent: no Node rule for {n}: {t}")
            for v in vs:
                arms.append((v, n, sets))
        out.append("}\n\n/// The JS form of a core event.\nfn event(e: &CoreEvent) -> FlowEvent {\n"
                   f"    let mut ev = FlowEvent {{ kind: e.kind().to_owned(), elapsed_ms: e.elapsed().as_secs_f64() * 1000.0, {', '.join(init)} }};\n"
                   "    match e {\n")
        for _, v, fields in self.variants:
            if fields:
                binds = "".join(f"{n}, " for _, n, _ in fields)
                sets = " ".join(s for k, n, s in arms if k == v.lower())
                out.append(f"        CoreEvent::{v} {{ {binds}.. }} => {{ {sets} }}\n")
        out.append("        _ => {}\n    }\n    ev\n}\n")
        return "".join(out)

    def python_rs(self) -> str:
        conv = {"Option<OrderState>": "{}.as_ref().map(|s| s.as_wire())", "OutcomeStatus": "{}.as_str()", "bool": "*{}"}
        out = ["/// The event as the dict `FlowEvent._from_native` reads (`elapsed` in seconds; states as\n"
               "/// wire text, statuses by name).\n"
               "fn event_dict<'py>(py: Python<'py>, e: &FlowEvent) -> PyResult<Bound<'py, PyDict>> {\n"
               "    let d = PyDict::new(py);\n    d.set_item(\"kind\", e.kind())?;\n"
               "    d.set_item(\"elapsed\", e.elapsed().as_secs_f64())?;\n    match e {\n"]
        for _, v, fields in self.variants:
            if fields:
                binds = "".join(f"{n}, " for _, n, _ in fields)
                sets = " ".join(f'd.set_item("{n}", {conv[t].format(n)})?;' for _, n, t in fields)
                out.append(f"        FlowEvent::{v} {{ {binds}.. }} => {{ {sets} }}\n")
        out.append("        _ => {}\n    }\n    Ok(d)\n}\n")
        return "".join(out)

    def python_models(self) -> str:
        types = {"Option<OrderState>": ("Optional[OrderState]", '_opt_enum(OrderState, d.get("{}"))'),
                 "OutcomeStatus": ("Optional[OutcomeStatus]", '_opt_enum(OutcomeStatus, d.get("{}"))'),
                 "bool": ("Optional[bool]", 'd.get("{}")')}
        kinds = ", ".join(f'"{v.lower()}"' for _, v, _ in self.variants)
        out = ["#: What a flow is doing (see :class:`FlowEvent`).\n", f"FlowEventKind = Literal[{kinds}]\n\n\n",
               "@dataclass(frozen=True)\nclass FlowEvent:\n",
               textwrap.fill(f'"""{rst(" ".join(self.doc))} For ``micropay_and_wait`` / ``wait_for_payment``.', 100,
                             initial_indent="    ", subsequent_indent="    ") + "\n\n"]
        for line in self.kinds_doc('"'):
            k, rest = line.split(": ", 1)
            out.append(textwrap.fill(f"* ``{k}``: {rst(rest)}", 100, initial_indent="    ", subsequent_indent="      ") + "\n")
        out.append('    """\n\n    kind: FlowEventKind\n    #: Seconds since the flow started.\n    elapsed: float\n')
        reads = ['            kind=d["kind"],\n', '            elapsed=float(d["elapsed"]),\n']
        for n, (d, t, vs) in self.flat.items():
            when = "/".join(f'``"{k}"``' for k in vs)
            out.append(f"    #: {when}: {rst(' '.join(d))}\n    {n}: {types[t][0]} = None\n")
            reads.append(f"            {n}={types[t][1].format(n)},\n")
        out.append("\n    @classmethod\n    def _from_native(cls, d: Mapping[str, Any]) -> FlowEvent:\n        return cls(\n")
        out += reads
        out.append("        )\n")
        return "".join(out)

    def targets(self, models_text: Optional[str] = None) -> List[Tuple[Path, str]]:
        return [
            (self.uniffi, replace_region(self.uniffi, self.begin, JS_END, self.uniffi_rs())),
            (self.node, replace_region(self.node, self.begin, JS_END, self.node_rs())),
            (self.python_flows, replace_region(self.python_flows, self.begin, JS_END, self.python_rs())),
        ]


class TestCodes:
    """The testing kits' named test codes from the sandbox's own table (sandbox/src/codes.rs:
    the channel prefixes and `NAMED`): Python's constants (python/sosopay/testing/codes.py),
    Node's `codes` entries (node/testing.js) and their types (node/testing.d.ts), between
    markers."""

    src = ROOT / "sandbox/src/codes.rs"
    py = ROOT / "python/sosopay/testing/codes.py"
    js = ROOT / "node/testing.js"
    ts = ROOT / "node/testing.d.ts"
    begin = "// --- generated from sandbox/src/codes.rs (scripts/gen-foreign.py)\n"
    PREFIX = re.compile(r"((?:^///[^\n]*\n)+)pub const (\w+): &str = \"(\d\d)\";", re.M)
    NAMED = re.compile(r'NamedCode \{ name: "(\w+)", code: "(\d+)", doc: "((?:[^"\\]|\\.)*)" \}')

    def __init__(self) -> None:
        text = self.src.read_text(encoding="utf-8")
        self.prefixes = [(" ".join(docs(m.group(1))), m.group(2), m.group(3)) for m in self.PREFIX.finditer(text)]
        self.named = [(m.group(3).replace('\\"', '"'), m.group(1), m.group(2)) for m in self.NAMED.finditer(text)]
        if len(self.prefixes) < 4 or not self.named:
            raise SystemExit("gen-foreign: no channel prefixes or NAMED codes in sandbox/src/codes.rs")

    def python(self) -> str:
        names = [n for _, n, _ in self.prefixes + self.named]
        out = ["__all__ = [\n"] + [f'    "{n}",\n' for n in names]
        out += [f'    "{f}",\n' for f in ("code", "pays_after", "user_paying", "insufficient_funds_after", "reply_lost_after")]
        out.append("]\n\n# Channel prefixes (the first two digits; CHANNEL_TYPE=0 detects the channel from them).\n")
        for doc, n, v in self.prefixes:
            out.append(f'{n}: Final = "{v}"\n"""{rst(doc)}"""\n')
        out.append("\n# The named codes.\n")
        for doc, n, v in self.named:
            out.append(f'{n}: Final = "{v}"\n')
            out.append(textwrap.fill(f'"""{rst(doc)}"""', 100) + "\n")
        return "".join(out)

    def javascript(self) -> str:
        out = ["/** The channel prefixes and the named codes (the sandbox's own table). */\nconst NAMED_CODES = {\n"]
        for doc, n, v in self.prefixes + self.named:
            out.append(f"  /** {doc} */\n  {n}: '{v}',\n")
        return "".join(out) + "}\n"

    def typescript(self) -> str:
        return "".join(f"  /** {doc} */\n  readonly {n}: '{v}'\n" for doc, n, v in self.prefixes + self.named)

    def targets(self) -> List[Tuple[Path, str]]:
        return [(self.py, replace_region(self.py, PY_BEGIN.replace("core/src/models.rs", "sandbox/src/codes.rs"), PY_END, self.python())),
                (self.js, replace_region(self.js, self.begin, JS_END, self.javascript())),
                (self.ts, replace_region(self.ts, "  " + self.begin, "  " + JS_END, self.typescript()))]


def core_struct(path: str, name: str) -> Tuple[List[str], List[Tuple[List[str], str, str]]]:
    """A struct of the core outside models.rs: its docs and [(docs, field, type)]."""
    text = (ROOT / path).read_text(encoding="utf-8")
    m = re.search(r"((?:^///[^\n]*\n)*)#\[derive\([^)]*\)\]\n(?:#\[[^\n]*\]\n)*pub struct %s \{\n(.*?)^\}" % name, text, re.S | re.M)
    if not m:
        raise SystemExit(f"gen-foreign: no struct {name} in {path}")
    return docs(m.group(1)), [(docs(f.group(1)), f.group(3), f.group(4).strip()) for f in FIELD.finditer(m.group(2))]


class FlowOptions:
    """The flows' timing (the core's WaitOptions, core/src/flows.rs) and the request log (the
    core's RequestLog, core/src/client.rs) in Kotlin/Swift (bindings/uniffi/src/options.rs:
    milliseconds, defaults the core's) and Node (bindings/node/src/options.rs: milliseconds,
    unset = the core's default), and Python's reading of its wait arguments (seconds, in
    bindings/python/src/requests.rs). An unset field in `derived` takes the core's function
    of the other fields."""

    uniffi = ROOT / "bindings/uniffi/src/options.rs"
    node = ROOT / "bindings/node/src/options.rs"
    derived = {"max_duration": "sosopay::WaitOptions::default_max_duration(deadline)"}
    derived_doc = "Unset: the core's `WaitOptions::default_max_duration` of the deadline (90 s, or the deadline + 30 s when longer)."

    def __init__(self) -> None:
        self.wait_doc, self.wait = core_struct("core/src/flows.rs", "WaitOptions")
        self.log_doc, self.log = core_struct("core/src/client.rs", "RequestLog")

    @staticmethod
    def default(field: str) -> int:
        return UniffiDefaults.core_value("core/src/flows.rs", "impl Default for WaitOptions", field)

    @staticmethod
    def ms_doc(d: List[str]) -> List[str]:
        return d + ["", "Here: milliseconds."]

    def uniffi_rs(self) -> str:
        out = ["// @generated by scripts/gen-foreign.py from core/src/flows.rs and core/src/client.rs: do not edit.\n",
               "//! The flows' timing and the request log for Kotlin and Swift (milliseconds; the defaults\n",
               "//! are the core's).\n\n",
               "use std::time::Duration;\n\n",
               "use crate::error::{Result, SosopayError};\n",
               "use crate::models::{count_out, u32_in};\n\n",
               "/// Milliseconds from Kotlin/Swift, checked by the core's rule for every duration.\n",
               "pub(crate) fn ms_in(field: &str, ms: i64) -> Result<Duration> {\n",
               "    Ok(sosopay::units::duration(field, ms as f64, sosopay::units::TimeUnit::Milliseconds)?)\n}\n\n",
               "fn ms_out(d: Duration) -> i64 {\n    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)\n}\n\n"]
        out.append(comment(self.wait_doc, "") + "#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]\npub struct WaitOptions {\n")
        conv, renames = [], []
        for d, n, ty in self.wait:
            if ty == "Duration":
                f = f"{n}_ms"
                renames.append((n, f))
                if n in self.derived:
                    out.append(comment(self.ms_doc(d) + ['', self.derived_doc], "    ") + f"    #[uniffi(default = None)]\n    pub {f}: Option<i64>,\n")
                    conv.append(f"        let {n} = match o.{f} {{ Some(ms) => ms_in(\"{f}\", ms)?, None => {self.derived[n]} }};\n")
                else:
                    out.append(comment(self.ms_doc(d), "    ") + f"    #[uniffi(default = {self.default(n)})]\n    pub {f}: i64,\n")
                    conv.append(f"        let {n} = ms_in(\"{f}\", o.{f})?;\n")
            elif ty == "u32":
                out.append(comment(d, "    ") + f"    #[uniffi(default = {self.default(n)})]\n    pub {n}: i32,\n")
                conv.append(f"        let {n} = u32_in(\"{n}\", o.{n})?;\n")
            else:
                raise SystemExit(f"gen-foreign: options: no rule for WaitOptions.{n}: {ty}")
        names = ", ".join(n for _, n, _ in self.wait)
        out.append("}\n\n")
        out.append("/// The core's names of the fields that differ here (also for the flows' own checks of them).\n"
                   "pub(crate) const WAIT_FIELDS: &[(&str, &str)] = &[" + "".join(f'("{a}", "{b}"), ' for a, b in renames) + "];\n\n")
        out.append("impl WaitOptions {\n    /// The core's options (unset: the core's defaults), checked here (as the flows will) so\n"
                   "    /// that an error names this record's field.\n"
                   "    pub(crate) fn to_core(o: Option<WaitOptions>) -> Result<sosopay::WaitOptions> {\n"
                   "        let Some(o) = o else { return Ok(sosopay::WaitOptions::default()) };\n")
        out += conv
        out.append(f"        let w = sosopay::WaitOptions {{ {names} }};\n")
        out.append("        w.validate().map_err(|e| SosopayError::from(e.renamed_fields(WAIT_FIELDS)))?;\n        Ok(w)\n    }\n}\n\n")
        out.append(self.log_record("#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]\n",
                                   ms=("i64", "ms_out({})"), counts={"u32": ("i32", "count_out({})"), "u16": ("i32", "{}.map(i32::from)")}))
        return "".join(out)

    def node_rs(self) -> str:
        out = ["// @generated by scripts/gen-foreign.py from core/src/flows.rs and core/src/client.rs: do not edit.\n",
               "//! The flows' timing and the request log for JavaScript (milliseconds; unset: the core's\n",
               "//! default).\n\n",
               "use napi_derive::napi;\nuse sosopay::Error;\n\n",
               "use crate::client::{count, millis};\nuse crate::flows::ProgressFn;\n\n"]
        out.append(comment(self.wait_doc + ["", "Here also the progress callback and (in the JS layer, see `sosopay.d.ts`) the `signal`."], "")
                   + "#[napi(object, object_to_js = false, object_from_js = false)]\npub struct WaitOptions {\n")
        conv, renames, decl = [], [], []
        for d, n, ty in self.wait:
            js = camel(n)
            if ty == "Duration":
                out.append(comment(self.ms_doc(d) + (['', self.derived_doc] if n in self.derived else []), "    ") + f"    pub {n}_ms: Option<f64>,\n")
                decl.append(([], f"{n}_ms", "Option<f64>", None))
                renames.append((n, f"{js}Ms"))
                if n in self.derived:
                    conv.append(f"        let {n} = millis(o.{n}_ms, \"{js}Ms\")?.unwrap_or_else(|| {self.derived[n]});\n")
                else:
                    conv.append(f"        let {n} = millis(o.{n}_ms, \"{js}Ms\")?.unwrap_or(d.{n});\n")
            elif ty == "u32":
                out.append(comment(d, "    ") + f"    pub {n}: Option<f64>,\n")
                decl.append(([], n, "Option<f64>", None))
                conv.append(f"        let {n} = count(o.{n}, \"{js}\")?.unwrap_or(d.{n});\n")
            else:
                raise SystemExit(f"gen-foreign: options: no rule for WaitOptions.{n}: {ty}")
        out.append("    /// Called with each `FlowEvent` (on the JS thread, asynchronously, in order; `'done'`\n"
                   "    /// before the Promise settles). A throw becomes a process warning.\n"
                   "    #[napi(ts_type = \"(event: FlowEvent) => void\")]\n    pub on_progress: Option<ProgressFn>,\n}\n")
        decl.append(([], "on_progress", "Option<ProgressFn>", None))
        out.append(from_js("WaitOptions", "options", "a WaitOptions object", decl) + "\n")
        out.append("/// The core's names of the fields that differ here (also for the flows' own checks of them).\n"
                   "pub(crate) const WAIT_FIELDS: &[(&str, &str)] = &[" + "".join(f'("{a}", "{b}"), ' for a, b in renames) + "];\n\n")
        out.append("/// The core's options (unset: the core's defaults), checked here (as the flows will) so that\n"
                   "/// an error names the JS option.\n"
                   "pub(crate) fn wait_in(o: Option<WaitOptions>) -> Result<sosopay::WaitOptions, Error> {\n"
                   "    let d = sosopay::WaitOptions::default();\n    let Some(o) = o else { return Ok(d) };\n")
        out += conv
        out.append(f"    let w = sosopay::WaitOptions {{ {', '.join(n for _, n, _ in self.wait)} }};\n")
        out.append("    w.validate().map_err(|e| e.renamed_fields(WAIT_FIELDS))?;\n    Ok(w)\n}\n\n")
        out.append(self.log_record("#[napi(object)]\n", ms=("f64", "{}.as_secs_f64() * 1000.0"),
                                   counts={"u32": ("u32", "{}"), "u16": ("u16", "{}")}))
        return "".join(out)

    def log_record(self, derive: str, ms: Tuple[str, str], counts: Dict[str, Tuple[str, str]]) -> str:
        """The core's RequestLog for one binding and its `From`: a duration as `{name}_ms` of type
        and conversion `ms`, a count (its base type) as `counts` says (`{}`: the core's value)."""
        out = [comment(self.log_doc, "") + derive + "pub struct RequestLog {\n"]
        conv = []
        for d, n, ty in self.log:
            opt = inner(ty, "Option")
            base = opt or ty
            if ty == "&'static str":
                out.append(comment(d, "    ") + f"    pub {n}: String,\n")
                conv.append(f"{n}: l.{n}.to_owned()")
            elif ty == "Duration":
                out.append(comment(self.ms_doc(d), "    ") + f"    pub {n}_ms: {ms[0]},\n")
                conv.append(f"{n}_ms: " + ms[1].format(f"l.{n}"))
            elif base == "String":
                out.append(comment(d, "    ") + f"    pub {n}: {ty},\n")
                conv.append(f"{n}: l.{n}.clone()")
            elif base in counts:
                t, c = counts[base]
                out.append(comment(d, "    ") + f"    pub {n}: {f'Option<{t}>' if opt else t},\n")
                conv.append(f"{n}: " + c.format(f"l.{n}"))
            else:
                raise SystemExit(f"gen-foreign: options: no rule for RequestLog.{n}: {ty}")
        out.append("}\n\nimpl From<&sosopay::RequestLog> for RequestLog {\n    fn from(l: &sosopay::RequestLog) -> Self {\n        RequestLog { "
                   + ", ".join(conv) + " }\n    }\n}\n")
        return "".join(out)

    def node_outcome(self) -> str:
        """Node's PaymentOutcome fields (the TS type `PaymentOutcome` in types-header.d.ts makes
        them a union on `status`): a dictionary by name (`status`) or wire code (`resultCode`,
        the core's `code`), `isPaid` from the core's rule."""
        doc, fields = core_struct("core/src/flows.rs", "PaymentOutcome")
        out = [comment(doc + ["", "The fields; the type to use is `PaymentOutcome` (types-header.d.ts), which also says",
                              "that `order` is there whenever the status is `'Paid'`."], "")
               + '#[napi(object, js_name = "PaymentOutcomeFields")]\n#[derive(serde::Serialize)]\n#[serde(rename_all = "camelCase")]\n'
               + "pub struct PaymentOutcome {\n"]
        skip = '    #[serde(skip_serializing_if = "Option::is_none")]\n'
        conv = []
        for d, n, ty in fields:
            if ty == "OutcomeStatus":
                out.append(comment(d, "    ") + f'    #[napi(ts_type = "OutcomeStatus")]\n    pub {n}: String,\n')
                conv.append(f"{n}: o.{n}.name().to_owned()")
                out.append("    /// Was the customer charged (and not reversed)?\n    pub is_paid: bool,\n")
                conv.append("is_paid: o.is_paid()")
            elif ty == "Option<ResultCode>":
                out.append(comment(d, "    ") + '    #[napi(ts_type = "ResultCode")]\n' + skip + "    pub result_code: Option<String>,\n")
                conv.append(f"result_code: o.{n}.map(|c| c.as_wire().to_owned())")
            elif ty == "Option<OrderDetails>":
                out.append(comment(d, "    ") + skip + f"    pub {n}: Option<crate::replies::OrderDetails>,\n")
                conv.append(f"{n}: o.{n}.map(Into::into)")
            elif ty in ("String", "u32"):
                out.append(comment(d, "    ") + f"    pub {n}: {ty},\n")
                conv.append(f"{n}: o.{n}")
            else:
                raise SystemExit(f"gen-foreign: options: no Node rule for PaymentOutcome.{n}: {ty}")
        out.append("}\n\nimpl From<sosopay::PaymentOutcome> for PaymentOutcome {\n    fn from(o: sosopay::PaymentOutcome) -> Self {\n"
                   "        PaymentOutcome { " + ", ".join(conv) + " }\n    }\n}\n")
        return "".join(out)

    def python_outcome(self) -> str:
        """Python's PaymentOutcome dataclass (models.py, between markers) from the core's: the
        core's `code` is `result_code` (as in every runtime; the mixin keeps `code` as an alias)."""
        doc, fields = core_struct("core/src/flows.rs", "PaymentOutcome")
        out = [f"@dataclass(frozen=True)\nclass PaymentOutcome(_PaymentOutcomeRules):\n", f'    """{rst(" ".join(doc))}"""\n\n']
        reads = []
        for d, n, ty in fields:
            key = f'd.get("{n}")'
            if ty == "OutcomeStatus":
                ann, read = "OutcomeStatus", f'OutcomeStatus(d["{n}"])'
            elif ty == "Option<ResultCode>":
                n, ann, read = "result_code", "Optional[ResultCode]", f"_opt_enum(ResultCode, {key})"
            elif ty == "Option<OrderDetails>":
                ann, read = "Optional[OrderDetails]", f"None if {key} is None else OrderDetails._from_native(d[\"{n}\"])"
            elif ty == "String":
                ann, read = "str", f'str({key} or "")'
            elif ty == "u32":
                ann, read = "int", f"int({key} or 0)"
            else:
                raise SystemExit(f"gen-foreign: options: no Python rule for PaymentOutcome.{n}: {ty}")
            out.append(f"    {n}: {ann}\n" + (f'    """{rst(" ".join(d))}"""\n' if d else ""))
            reads.append(f"            {n}={read},\n")
        out.append("\n    @classmethod\n    def _from_native(cls, d: Mapping[str, Any]) -> PaymentOutcome:\n        return cls(\n")
        out += reads
        out.append("        )\n")
        return "".join(out)

    def python_log(self) -> Tuple[str, str]:
        """Python's RequestLog: the dict the native hook passes (Rust, seconds) and the
        dataclass (models.py, between markers)."""
        rs = ["\n/// A request log as the dict `RequestLog(**d)` takes (durations in seconds).\n",
              "pub(crate) fn request_log<'py>(py: Python<'py>, l: &sosopay::RequestLog) -> PyResult<Bound<'py, PyDict>> {\n",
              "    let d = PyDict::new(py);\n"]
        py = ["@dataclass(frozen=True)\nclass RequestLog:\n", f'    """{rst(" ".join(self.log_doc))}"""\n\n']
        for d, n, ty in self.log:
            opt = inner(ty, "Option")
            base = opt or ty
            if ty == "Duration":
                rs.append(f'    d.set_item("{n}", l.{n}.as_secs_f64())?;\n')
                ann, d = "float", d + ["In seconds."]
            elif base == "String" and opt:
                rs.append(f'    d.set_item("{n}", l.{n}.as_deref())?;\n')
                ann = "Optional[str]"
            elif ty == "&'static str":
                rs.append(f'    d.set_item("{n}", l.{n})?;\n')
                ann = "str"
            elif base in ("u16", "u32"):
                rs.append(f'    d.set_item("{n}", l.{n})?;\n')
                ann = "Optional[int]" if opt else "int"
            else:
                raise SystemExit(f"gen-foreign: options: no Python rule for RequestLog.{n}: {ty}")
            py.append(f"    {n}: {ann}\n")
            if d:
                py.append(f'    """{rst(" ".join(d))}"""\n')
        rs.append("    Ok(d)\n}\n")
        return "".join(rs), "".join(py)

    def python_rs(self) -> str:
        """Python's `wait_options` (seconds; read like the requests, names the core's)."""
        out = ["\n/// The flows' timing from the wait arguments (seconds): unset ones keep the core's defaults.\n",
               "pub(crate) fn wait_options(a: &Args<'_, '_>) -> PyResult<sosopay::WaitOptions> {\n",
               "    let d = sosopay::WaitOptions::default();\n"]
        for _, n, ty in self.wait:
            if ty == "Duration":
                tail = f".unwrap_or_else(|| {self.derived[n]})" if n in self.derived else f".unwrap_or(d.{n})"
                out.append(f'    let {n} = a.seconds("{n}")?{tail};\n')
            elif ty == "u32":
                out.append(f'    let {n} = a.opt_count("{n}")?.unwrap_or(d.{n});\n')
            else:
                raise SystemExit(f"gen-foreign: options: no rule for WaitOptions.{n}: {ty}")
        out.append(f"    Ok(sosopay::WaitOptions {{ {', '.join(n for _, n, _ in self.wait)} }})\n}}\n")
        return "".join(out)


class ClientSettings:
    """The client's settings: the core's flat `ClientOptions` (core/src/client.rs) as Node's
    `ClientOptions` (bindings/node/src/config.rs: milliseconds, the `retry_*` settings as a
    nested `retry` object, plus `onRequest`), Kotlin/Swift's `ClientConfig` record
    (bindings/uniffi/src/config.rs: milliseconds, the defaults the core's) and Python's
    `client_options` reader of `Client()`'s keyword arguments (seconds, in
    bindings/python/src/requests.rs), each with the table renaming the core's field names in
    errors. Every runtime's reading ends in the core's `ClientOptions::into_config`, which holds
    every default and rule."""

    node = ROOT / "bindings/node/src/config.rs"
    uniffi = ROOT / "bindings/uniffi/src/config.rs"
    #: Python's argument names that are not the core's.
    python_names = {"retry_max_attempts": "retry_attempts"}
    #: Node's TypeScript types of text settings.
    ts_types = {"environment": "Environment", "format": "'json' | 'xml'"}
    #: Kotlin/Swift: settings given otherwise (`environmentBaseUrl(...)` gives the base URL).
    uniffi_skip = {"environment"}
    uniffi_required = {"base_url": ["The gateway base URL, ending in `/openGateway/openService/` (a published",
                                    "environment's: `environmentBaseUrl(...)`)."]}

    def __init__(self) -> None:
        doc, self.fields = core_struct("core/src/client.rs", "ClientOptions")
        # The first paragraph is the user's; the rest speaks of the Rust API.
        self.doc = doc[:doc.index("")] if "" in doc else doc

    @staticmethod
    def default(field: str) -> str:
        """The core's default of a setting (`ClientConfig::new`'s literal, `RetryPolicy`'s)."""
        if field.startswith("retry_"):
            return str(UniffiDefaults.core_value("core/src/client.rs", "impl Default for RetryPolicy", field[len("retry_"):]))
        return str(UniffiDefaults.core_value("core/src/client.rs", "impl ClientConfig {", field))

    def docs_as(self, name_of) -> list:
        """The settings' docs with every `setting` they name spelt as `name_of` spells it."""
        names = {n: name_of(n, ty) for _, n, ty in self.fields}
        sub = lambda line: re.sub(r"`([a-z_]+)`", lambda m: f"`{names.get(m.group(1), m.group(1))}`", line)
        return [([sub(line) for line in d], n, ty) for d, n, ty in self.fields]

    def renames(self, name_of) -> str:
        rows = [(n, name_of(n, ty)) for _, n, ty in self.fields]
        return "".join(f'("{a}", "{b}"), ' for a, b in rows if a != b)

    def node_name(self, n: str, ty: str) -> str:
        base = camel(n[len("retry_"):]) if n.startswith("retry_") else camel(n)
        base += "Ms" if inner(ty, "Option") == "Duration" else ""
        return f"retry.{base}" if n.startswith("retry_") else base

    def node_rs(self) -> str:
        out = ["// @generated by scripts/gen-foreign.py from core/src/client.rs: do not edit.\n",
               "//! The client's settings for JavaScript (the core's `ClientOptions`: milliseconds, the retry\n",
               "//! settings as one `retry` object; unset: the core's default) and their reading.\n\n",
               "use napi_derive::napi;\nuse sosopay::Error;\n\n",
               "use crate::client::{count, millis, RequestHookFn};\n\n"]
        retry = [(d, n, ty) for d, n, ty in self.fields if n.startswith("retry_")]
        out.append("/// Retries of idempotent requests (query, cancel).\n#[napi(object, object_from_js = false)]\npub struct RetryOptions {\n")
        rdecl = []
        for d, n, ty in retry:
            js = self.node_name(n, ty).split(".", 1)[1]
            name = snake(js)
            out.append(comment(d + (["", "Here: milliseconds."] if inner(ty, "Option") == "Duration" else []), "    ") + f"    pub {name}: Option<f64>,\n")
            rdecl.append(([], name, "Option<f64>", None))
        out.append("}\n")
        out.append(from_js("RetryOptions", "retry", "a RetryOptions object", rdecl) + "\n")
        out.append(comment(self.doc, "") + "#[napi(object, object_to_js = false, object_from_js = false)]\npub struct ClientOptions {\n")
        decl, conv, lets = [], [], []
        for d, n, ty in self.docs_as(self.node_name):
            opt = inner(ty, "Option")
            if n.startswith("retry_"):
                if n == retry[0][1]:
                    out.append("    /// Retries of queries and cancels.\n    pub retry: Option<RetryOptions>,\n")
                    decl.append(([], "retry", "Option<RetryOptions>", None))
                js = self.node_name(n, ty)
                field = snake(js.split(".", 1)[1])
                read = "millis" if opt == "Duration" else "count"
                lets.append(f"    let {n} = match &o.retry {{ Some(r) => {read}(r.{field}, \"{js}\")?, None => None }};\n")
                conv.append(n)
                continue
            ts = f'    #[napi(ts_type = "{self.ts_types[n]}")]\n' if n in self.ts_types else ""
            if ty in ("String", "Option<String>", "Option<bool>"):
                out.append(comment(d, "    ") + ts + f"    pub {n}: {ty},\n")
                decl.append(([], n, ty, None))
                conv.append(f"{n}: o.{n}")
            elif opt == "Duration":
                out.append(comment(d + ["", "Here: milliseconds."], "    ") + f"    pub {n}_ms: Option<f64>,\n")
                decl.append(([], f"{n}_ms", "Option<f64>", None))
                conv.append(f"{n}: millis(o.{n}_ms, \"{self.node_name(n, ty)}\")?")
            elif opt == "u32":
                out.append(comment(d, "    ") + f"    pub {n}: Option<f64>,\n")
                decl.append(([], n, "Option<f64>", None))
                conv.append(f"{n}: count(o.{n}, \"{self.node_name(n, ty)}\")?")
            else:
                raise SystemExit(f"gen-foreign: client settings: no Node rule for ClientOptions.{n}: {ty}")
        out.append("    /// Called after every attempt of every request (on the JS thread, asynchronously).\n"
                   "    #[napi(ts_type = \"(log: RequestLog) => void\")]\n    pub on_request: Option<RequestHookFn>,\n}\n")
        decl.append(([], "on_request", "Option<RequestHookFn>", None))
        out.append(from_js("ClientOptions", "options", "a ClientOptions object", decl) + "\n")
        out.append("/// The core's names of the settings as JS spells them (in a reason too).\n"
                   "pub(crate) const CONFIG_FIELDS: &[(&str, &str)] = &["
                   + self.renames(self.node_name) + "];\n\n")
        out.append("/// The core's settings (unset: the core's defaults) and the request hook; an error names\n"
                   "/// the JS option.\npub(crate) fn client_options(o: ClientOptions) -> Result<(sosopay::ClientOptions, Option<RequestHookFn>), Error> {\n")
        out += lets
        out.append("    let c = sosopay::ClientOptions { " + ", ".join(conv) + " };\n    Ok((c, o.on_request))\n}\n")
        return "".join(out)

    def uniffi_name(self, n: str, ty: str) -> str:
        return n + ("_ms" if inner(ty, "Option") == "Duration" else "")

    def uniffi_rs(self) -> str:
        out = ["// @generated by scripts/gen-foreign.py from core/src/client.rs: do not edit.\n",
               "//! The client's settings for Kotlin and Swift (the core's `ClientOptions`: milliseconds, the\n",
               "//! defaults the core's).\n\n",
               "use std::sync::Arc;\n\n",
               "use crate::client::ReplyFormat;\nuse crate::envelope::MerchantKey;\nuse crate::error::{Result, SosopayError};\n",
               "use crate::models::u32_in;\nuse crate::options::ms_in;\n\n"]
        out.append(comment(self.doc + ["", "Here: the key is a `MerchantKey` object, so that printing the configuration never",
                                       "shows it; a published environment's base URL is `environmentBaseUrl(...)`."], "")
                   + "#[derive(Debug, Clone, uniffi::Record)]\npub struct ClientConfig {\n")
        conv = []
        for d, n, ty in self.docs_as(lambda n, ty: camel(self.uniffi_name(n, ty))):
            opt = inner(ty, "Option")
            f = self.uniffi_name(n, ty)
            if n in self.uniffi_skip:
                conv.append(f"{n}: None")
                continue
            if n == "key":
                out.append(comment(d, "    ") + "    pub key: Arc<MerchantKey>,\n")
                conv.append("key: self.key.0.expose().to_owned()")
            elif n == "format":
                out.append(comment(d, "    ") + "    #[uniffi(default = None)]\n    pub format: Option<ReplyFormat>,\n")
                conv.append("format: self.format.map(|f| sosopay::codec::Format::from(f).name().to_owned())")
            elif ty == "String":
                out.append(comment(d, "    ") + f"    pub {n}: String,\n")
                conv.append(f"{n}: self.{n}.clone()")
            elif opt == "String" and n in self.uniffi_required:
                out.append(comment(self.uniffi_required[n], "    ") + f"    pub {n}: String,\n")
                conv.append(f"{n}: Some(self.{n}.clone())")
            elif opt == "String":
                out.append(comment(d, "    ") + f"    #[uniffi(default = None)]\n    pub {n}: Option<String>,\n")
                conv.append(f"{n}: self.{n}.clone()")
            elif opt == "bool":
                out.append(comment(d, "    ") + f"    #[uniffi(default = {self.default(n)})]\n    pub {n}: bool,\n")
                conv.append(f"{n}: Some(self.{n})")
            elif opt == "Duration":
                out.append(comment(d + ["", "Here: milliseconds."], "    ") + f"    #[uniffi(default = {self.default(n)})]\n    pub {f}: i64,\n")
                conv.append(f"{n}: Some(ms_in(\"{f}\", self.{f})?)")
            elif opt == "u32":
                out.append(comment(d, "    ") + f"    #[uniffi(default = {self.default(n)})]\n    pub {n}: i32,\n")
                conv.append(f"{n}: Some(u32_in(\"{n}\", self.{n})?)")
            else:
                raise SystemExit(f"gen-foreign: client settings: no Kotlin/Swift rule for ClientOptions.{n}: {ty}")
        out.append("}\n\n")
        out.append("/// The core's names of the settings as Kotlin and Swift spell them (in a reason too).\n"
                   "const CONFIG_FIELDS: &[(&str, &str)] = &["
                   + self.renames(lambda n, ty: camel(self.uniffi_name(n, ty))) + "];\n\n")
        out.append("impl ClientConfig {\n    /// The core's configuration, checked by the core; an error names this record's field.\n"
                   "    pub(crate) fn to_core(&self) -> Result<sosopay::ClientConfig> {\n"
                   "        let o = sosopay::ClientOptions { " + ", ".join(conv) + " };\n"
                   "        o.into_config().map_err(|e| SosopayError::from(e.renamed_fields(CONFIG_FIELDS)))\n    }\n}\n")
        return "".join(out)

    def python_name(self, n: str, ty: str) -> str:
        return self.python_names.get(n, n)

    def python_rs(self) -> str:
        """Python's `client_options` (seconds; read like the requests; errors name the argument)."""
        out = ["\n/// The core's names of the client settings that Python spells otherwise.\n",
               "pub(crate) const CONFIG_FIELDS: &[(&str, &str)] = &[" + self.renames(self.python_name) + "];\n\n",
               "/// The client's settings from `Client()`'s keyword arguments (seconds): unset ones keep the\n",
               "/// core's defaults.\n",
               "pub(crate) fn client_options(a: &Args<'_, '_>) -> PyResult<sosopay::ClientOptions> {\n",
               "    Ok(sosopay::ClientOptions {\n"]
        read = {"String": "text", "Option<String>": "opt_text", "Option<bool>": "opt_flag",
                "Option<Duration>": "seconds", "Option<u32>": "opt_count"}
        for _, n, ty in self.fields:
            if ty not in read:
                raise SystemExit(f"gen-foreign: client settings: no Python rule for ClientOptions.{n}: {ty}")
            # A file's path may also be an os.PathLike (pathlib.Path).
            rule = "opt_path" if n.endswith("_file") and ty == "Option<String>" else read[ty]
            out.append(f'        {n}: a.{rule}("{self.python_name(n, ty)}")?,\n')
        out.append("    })\n}\n")
        return "".join(out)

    #: Python's annotations other than by type.
    python_types = {"environment": "Union[Environment, str, None]",
                    "ca_file": "Union[str, \"os.PathLike[str]\", None]"}
    py_params = "        # --- generated from core/src/client.rs (ClientOptions; scripts/gen-foreign.py)\n"
    py_args = "            # --- generated from core/src/client.rs (ClientOptions; scripts/gen-foreign.py)\n"
    py_end = "# --- end of generated\n"

    def python_params(self) -> str:
        """`Client()`'s (and `AsyncClient()`'s) keyword parameters."""
        out = []
        for _, n, ty in self.fields:
            name = self.python_name(n, ty)
            if n in self.python_types:
                ann = f"{self.python_types[n]} = None"
            elif ty == "String":
                ann = "str"
            elif ty == "Option<bool>":
                ann = f"bool = {str(self.default(n)).title()}"
            else:
                py = {"Option<String>": "str", "Option<Duration>": "float", "Option<u32>": "int"}.get(ty)
                if py is None:
                    raise SystemExit(f"gen-foreign: client settings: no Python rule for ClientOptions.{n}: {ty}")
                ann = f"Optional[{py}] = None"
            out.append(f"        {name}: {ann},\n")
        return "".join(out)

    def python_args(self) -> str:
        """The same passed on by name."""
        return "".join(f"            {self.python_name(n, ty)}={self.python_name(n, ty)},\n" for _, n, ty in self.fields)

    def python_regions(self, path: Path, text: str) -> str:
        """`path`'s text with its two regions (the parameters, the arguments passed on)."""
        text = replace_region(path, self.py_params, "        " + self.py_end, self.python_params(), text)
        return replace_region(path, self.py_args, "            " + self.py_end, self.python_args(), text)

    def targets(self) -> List[Tuple[Path, str]]:
        return [(self.node, self.node_rs()), (self.uniffi, self.uniffi_rs())]


class UniffiMirrors:
    """Kotlin/Swift's forms of core enums without data (bindings/uniffi/src/client.rs, between
    markers): `GatewayEnvironment` (the core's `Environment`), `ReplyFormat` (`codec::Format`) and
    `OutcomeStatus`, with their conversions, and the cases of `PaymentOutcome` (one per
    `OutcomeStatus`, the order non-null when `Paid`). Docs are the core's, its snake_case names
    in backticks written as Kotlin/Swift spell them."""

    path = ROOT / "bindings/uniffi/src/client.rs"
    begin = "// --- generated from core/src/client.rs, codec.rs and flows.rs (scripts/gen-foreign.py)\n"
    #: (core file, core enum, its Rust path, the uniffi name, conversion: "to" or "from" the core)
    mirrors = [
        ("core/src/client.rs", "Environment", "sosopay::Environment", "GatewayEnvironment", "to"),
        ("core/src/codec.rs", "Format", "sosopay::codec::Format", "ReplyFormat", "to"),
        ("core/src/flows.rs", "OutcomeStatus", "sosopay::OutcomeStatus", "OutcomeStatus", "from"),
    ]
    #: The order a `PaymentOutcome` case carries (otherwise `Option<OrderDetails>`).
    case_order = {"Paid": "OrderDetails"}

    def __init__(self, texts: Optional[Dict[str, str]] = None) -> None:
        self.texts = texts or {}

    def enum(self, path: str, name: str) -> Tuple[List[str], List[Tuple[List[str], str]]]:
        text = self.texts.get(path) or (ROOT / path).read_text(encoding="utf-8")
        m = re.search(r"((?:^///[^\n]*\n)*)#\[derive\([^)]*\)\]\n(?:#\[[^\n]*\]\n)*pub enum %s \{\n(.*?)^\}" % name, text, re.S | re.M)
        if not m:
            raise SystemExit(f"gen-foreign: no enum {name} in {path}")
        variants = [(docs(v.group(1)), v.group(2)) for v in re.finditer(r"((?:    ///[^\n]*\n)*)    (\w+),\n", m.group(2))]
        return docs(m.group(1)), variants

    @staticmethod
    def kdoc(lines: List[str]) -> List[str]:
        return [re.sub(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", lambda m: f"`{camel(m.group(1))}`", line) for line in lines]

    def generate(self) -> str:
        out = []
        for path, name, core, ours, way in self.mirrors:
            doc, variants = self.enum(path, name)
            out.append(comment(self.kdoc(doc), "") + "#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]\n"
                       f"pub enum {ours} {{\n" + "".join(comment(self.kdoc(d), "    ") + f"    {v},\n" for d, v in variants) + "}\n\n")
            src, dst = (ours, core) if way == "to" else (core, ours)
            out.append(f"impl From<{src}> for {dst} {{\n    fn from(v: {src}) -> Self {{\n        match v {{\n"
                       + "".join(f"            {src}::{v} => {dst}::{v},\n" for _, v in variants) + "        }\n    }\n}\n\n")
            if name == "OutcomeStatus":
                out.append(self.outcome(variants))
        return "".join(out)

    #: The enum's doc after the core's: how Kotlin and Swift read it.
    outcome_doc = [
        "", "One case per way it can end (the core's `OutcomeStatus`), each with the core's fields;",
        "`Paid` always has the paid order (never null), the others the order as last seen, if any",
        "(for `Conflict`, the other payment's order). Kotlin: a sealed class (`when (outcome) { is",
        "PaymentOutcome.Paid -> outcome.order.amountFen ... }`); Swift: an enum with associated",
        "values. `status()`, `isPaid()` and an accessor per field read any case.",
    ]
    #: The core's field -> its name here.
    outcome_names = {"code": "result_code"}

    def outcome(self, variants: List[Tuple[List[str], str]]) -> str:
        """`PaymentOutcome` (the core's struct, a case per status), its accessors and its
        conversion from the core's; a `Paid` outcome without its order (never reported by the
        core) is `Unresolved`: nothing is proven without the order."""
        doc, fields = core_struct("core/src/flows.rs", "PaymentOutcome")
        rows = []  # (doc, name, type in a case, accessor type, accessor body, conversion)
        for d, n, ty in fields:
            ours = self.outcome_names.get(n, n)
            if n == "status":
                continue
            if ty == "Option<OrderDetails>":
                rows.append((d, ours, None, ty, None, f"o.{n}.map(OrderDetails::from)"))
            elif ty == "Option<ResultCode>":
                rows.append((d, ours, ty, ty, f"{ours}.clone()", f"o.{n}.map(Into::into)"))
            elif ty == "String":
                rows.append((d, ours, ty, ty, f"{ours}.clone()", f"o.{n}"))
            elif ty == "u32":
                rows.append((d, ours, "i32", "i32", f"*{ours}", f"crate::models::count_out(o.{n})"))
            else:
                raise SystemExit(f"gen-foreign: no Kotlin/Swift rule for PaymentOutcome.{n}: {ty}")
        names = [r[1] for r in rows]
        out = [comment(self.kdoc(doc + self.outcome_doc), "") + "#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]\npub enum PaymentOutcome {\n"]
        for d, v in variants:
            out.append(comment(self.kdoc(d), "    ") + f"    {v} {{\n")
            for fd, n, t, _, _, _ in rows:
                out.append(comment(self.kdoc(fd), "        ") + f"        {n}: {t or self.case_order.get(v, 'Option<OrderDetails>')},\n")
            out.append("    },\n")
        out.append("}\n\n#[uniffi::export]\nimpl PaymentOutcome {\n")
        status_doc = next(d for d, n, _ in fields if n == "status")
        out.append(comment(self.kdoc(status_doc), "    ") + "    pub fn status(&self) -> OutcomeStatus {\n        match self {\n"
                   + "".join(f"            PaymentOutcome::{v} {{ .. }} => OutcomeStatus::{v},\n" for _, v in variants)
                   + "        }\n    }\n\n")
        paid = [v for _, v in variants if v == "Paid"]
        out.append("    /// Was the customer charged (and not reversed)?\n    pub fn is_paid(&self) -> bool {\n"
                   f"        matches!(self, PaymentOutcome::{paid[0]} {{ .. }})\n    }}\n")
        for fd, n, t, at, body, _ in rows:
            out.append("\n" + comment(self.kdoc(fd), "    ") + f"    pub fn {n}(&self) -> {at} {{\n        match self {{\n")
            if body is None:  # the order: not optional in some cases
                for _, v in variants:
                    own = "Some(order.clone())" if v in self.case_order else "order.clone()"
                    out.append(f"            PaymentOutcome::{v} {{ {n}, .. }} => {own.replace('order', n)},\n")
            else:
                out.append("            " + " | ".join(f"PaymentOutcome::{v} {{ {n}, .. }}" for _, v in variants) + f" => {body},\n")
            out.append("        }\n    }\n")
        out.append("}\n\nimpl From<sosopay::PaymentOutcome> for PaymentOutcome {\n    fn from(o: sosopay::PaymentOutcome) -> Self {\n")
        order = next(r[1] for r in rows if r[2] is None)
        for _, n, _, _, _, conv in rows:
            if n != order:
                out.append(f"        let {n} = {conv};\n")
        conv_order = next(r[5] for r in rows if r[1] == order)
        fields_init = ", ".join(names)
        out.append(f"        match (o.status, {conv_order}) {{\n")
        for _, v in variants:
            if v in self.case_order:
                out.append(f"            (sosopay::OutcomeStatus::{v}, Some({order})) => PaymentOutcome::{v} {{ {fields_init} }},\n")
                out.append(f"            // The core never reports {v} without the order; were it to, nothing is proven\n"
                           "            // here: the caller must query, as for any unresolved payment.\n"
                           f"            (sosopay::OutcomeStatus::{v}, None) => PaymentOutcome::Unresolved {{\n"
                           + "".join(f"                {n}: None,\n" if n == order else
                                     f'                reason: format!("{v.lower()}, but the order details are missing: query it ({{reason}})"),\n' if n == "reason"
                                     else f"                {n},\n" for n in names)
                           + "            },\n")
            else:
                out.append(f"            (sosopay::OutcomeStatus::{v}, {order}) => PaymentOutcome::{v} {{ {fields_init} }},\n")
        out.append("        }\n    }\n}\n")
        return "".join(out)

    def targets(self) -> List[Tuple[Path, str]]:
        return [(self.path, replace_region(self.path, self.begin, "// --- end of generated\n", self.generate()))]


class Operations:
    """The gateway operations of each binding's client, from one table (`PY_OPS` less the flows)
    and the core client's docs: the methods of Kotlin/Swift's `SosopayClient`
    (bindings/uniffi/src/client.rs), Node's `Client` (bindings/node/src/client.rs) and Python's
    `NativeClient` (bindings/python/src/client.rs), each between markers inside the impl block.
    Each converts the request (the generated `requests.rs`), calls the core and converts the reply
    and the error; nothing else."""

    begin = "    // --- generated from core/src/client.rs (scripts/gen-foreign.py, Operations)\n"
    end = "    // --- end of generated\n"
    uniffi = ROOT / "bindings/uniffi/src/client.rs"
    node = ROOT / "bindings/node/src/client.rs"
    python = ROOT / "bindings/python/src/client.rs"
    #: Operations Node also takes a charge code for: the core's constructor from the code alone.
    by_code = {"query": "by_charge_code", "cancel": "new"}

    def __init__(self, client_rs: Optional[str] = None) -> None:
        self.text = client_rs or (ROOT / "core/src/client.rs").read_text(encoding="utf-8")
        self.ops = [(m, r, c, reply) for m, r, c, reply, _ in PY_OPS if m not in FLOWS]

    def doc(self, method: str) -> List[str]:
        """The core client's doc of `method`, its names as Kotlin/Swift and JS spell them."""
        m = re.search(r"((?:    ///[^\n]*\n)+)    pub fn %s\(" % method, self.text)
        if not m:
            raise SystemExit(f"gen-foreign: no documented Client::{method} in core/src/client.rs")
        lines = [re.sub(r"\[`Client::(\w+)`\]", r"`\1`", line) for line in docs(m.group(1))]
        return UniffiMirrors.kdoc(lines)

    #: The doc of every `*_async` variant (Kotlin `suspend`, Swift `async`).
    async_doc = ["`{name}` as a Kotlin `suspend` function / Swift `async` method: the request runs on a",
                 "thread of its own (`sosopay-call`) while the caller suspends, so it may be called from the",
                 "main thread. Cancelling the coroutine does not unsend the request: it runs to its end",
                 "(a `RequestLogger` still receives it) and its result is dropped; after a cancelled",
                 "payment, order or refund, query the charge code before charging again."]

    def uniffi_rs(self) -> str:
        out = []
        for method, record, _, reply in self.ops:
            out.append(comment(self.doc(method), "    "))
            out.append(f"    pub fn {method}(&self, request: {record}) -> Result<{reply}> {{\n"
                       f"        named(self.inner.{method}(&request.to_core()?), {record}::FIELDS)\n    }}\n\n")
        for method, record, _, reply in self.ops:
            name = camel(method)
            out.append(comment([line.replace("{name}", name) for line in self.async_doc], "    "))
            out.append(f"    pub async fn {method}_async(&self, request: {record}) -> Result<{reply}> {{\n"
                       "        let (c, r) = (self.inner.clone(), request.to_core()?);\n"
                       f"        flows::on_own_thread(\"sosopay-call\", move || named(c.{method}(&r), {record}::FIELDS)).await\n    }}\n\n")
        return "".join(out)

    def node_rs(self) -> str:
        out = []
        models = parse()
        for method, record, ctor, reply in self.ops:
            into = dict((c, fn) for c, fn, _, _ in NodeRequests.extra_ctors.get(record, [])).get(ctor, "into_core")
            doc = self.doc(method)
            code = self.by_code.get(method)
            if code:
                doc = doc + ["", "`request`: the request, or a charge code alone (a string)."]
            out.append(comment(doc, "    ") + f'    #[napi(ts_return_type = "Promise<{reply}>")]\n')
            arg = f'#[napi(ts_arg_type = "string | {record}")] request: CodeOr<{record}>' if code else f"request: {record}"
            out.append(f"    pub fn {method}<'e>(&self, env: &'e Env, {arg}) -> napi::Result<Object<'e>> {{\n"
                       "        let c = self.inner.clone();\n")
            if code:
                conv = (f"match request {{\n            CodeOr::Code(code) => Ok(sosopay::models::{record}::{code}(code)),\n"
                        f"            CodeOr::Request(r) => r.{into}(),\n        }}")
            else:
                conv = f"request.{into}()"
            _, fields = models[record]
            if any((inner(ty, "Option") or ty) == "Amount" for _, _, ty in fields) and not code:
                out.append("        let fen = request.in_fen();\n")
                call = (f"c.{method}_async(&r).await.map({reply}::from).map_err(|e| e.as_given_in_fen(|f| fen.contains(&f)))")
            else:
                call = f"c.{method}_async(&r).await.map({reply}::from)"
            out.append(f"        let job = {conv}.map(|r| async move {{ {call} }});\n"
                       "        promise(env, job)\n    }\n\n")
        return "".join(out)

    def python_rs(self) -> str:
        out = []
        for method, record, ctor, _ in self.ops:
            reader = snake(record) + ("" if ctor in ("new", "by_charge_code") else f"_{ctor}")
            out.append(f"    fn {method}<'py>(&self, req: &Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {{\n"
                       f"        let r = requests::{reader}(&Args(req))?;\n"
                       f"        self.run_op(req, \"{method}\", move |c| c.{method}(&r))\n    }}\n\n")
        return "".join(out)

    def targets(self, outputs: List[Tuple[Path, str]]) -> List[Tuple[Path, str]]:
        """The three files, each from its text so far in `outputs` when another region of it
        was generated already."""
        done = dict(outputs)
        return [(path, replace_region(path, self.begin, self.end, gen, done.get(path)))
                for path, gen in ((self.uniffi, self.uniffi_rs()), (self.node, self.node_rs()), (self.python, self.python_rs()))]


class Signatures:
    """The signature functions of each binding (`sign_body`, `sign_query`, `sign_cancel` and
    their `verify_*`), from the core's (core/src/envelope.rs: their parameters and docs), each
    between markers: bindings/uniffi/src/envelope.rs, bindings/node/src/envelope.rs and
    bindings/python/src/envelope.rs. Every runtime takes them in one order: the key, what is
    signed, then the timestamp (optional: now in milliseconds); `verify_*` take the key, the
    `sign` and what was signed, and return the verified timestamp: `VerifiedSignature`, also
    generated here, its fields from the core `Signature`'s accessors."""

    begin = "// --- generated from core/src/envelope.rs (scripts/gen-foreign.py, Signatures)\n"
    end = "// --- end of generated\n"
    kinds = ["body", "query", "cancel"]
    #: Per runtime: how an argument is typed (what is signed, and `sign`) and passed to the core.
    node_args = {"body": ("Data<Body>", "string | Buffer", 'text(&body.0, "body").napi()?'), "charge_code": ("Text<ChargeCode>", "string", "&charge_code"),
                 "busi_code": ("Text<BusiCode>", "string", "&busi_code"), "sign": ("Text<Sign>", "string", "&sign")}
    python_args = {"body": "Text<Body>", "charge_code": "Text<ChargeCode>", "busi_code": "Text<BusiCode>", "sign": "Text<Sign>"}
    fails = {"uniffi": "Throws `Signature` saying why when it does not match.",
             "node": "Throws `SignatureError` saying why when it does not match.",
             "python": "Raises `SignatureError` saying why when it does not match."}

    def __init__(self) -> None:
        self.text = (ROOT / "core/src/envelope.rs").read_text(encoding="utf-8")

    def core_fn(self, name: str) -> Tuple[List[str], List[str]]:
        """The doc of the core's `name` and its parameters after the key and the timestamp (or sign)."""
        m = re.search(r"((?:^///[^\n]*\n)+)pub fn %s\((.*?)\) -> Result" % name, self.text, re.S | re.M)
        if not m:
            raise SystemExit(f"gen-foreign: no documented envelope::{name} in core/src/envelope.rs")
        return docs(m.group(1)), re.findall(r"(\w+):", m.group(2))[2:]

    def accessor_doc(self, name: str) -> List[str]:
        return method_doc("core/src/envelope.rs", name)

    def verified(self, runtime: str) -> str:
        """`VerifiedSignature` and its conversion from the core's `Signature`."""
        ts, ms = self.accessor_doc("timestamp"), self.accessor_doc("timestamp_millis")
        head = "/// The timestamp of a signature that verified.\n"
        field = lambda doc, decl: comment(doc, "    ") + f"    {decl},\n"
        if runtime == "uniffi":
            return (head + "#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]\npub struct VerifiedSignature {\n"
                    + field(ts, "pub timestamp: String") + field(ms, "pub timestamp_ms: i64") + "}\n\n"
                    "impl From<sosopay::Signature> for VerifiedSignature {\n    fn from(s: sosopay::Signature) -> Self {\n"
                    "        VerifiedSignature { timestamp: s.timestamp().to_owned(), timestamp_ms: i64::try_from(s.timestamp_millis()).unwrap_or(i64::MAX) }\n    }\n}\n\n")
        if runtime == "node":
            return (head + "#[napi(object)]\npub struct VerifiedSignature {\n"
                    + field(ts, "pub timestamp: String") + field(ms, "pub timestamp_ms: f64") + "}\n\n"
                    "impl From<core_env::Signature> for VerifiedSignature {\n    fn from(s: core_env::Signature) -> Self {\n"
                    "        VerifiedSignature { timestamp: s.timestamp().to_owned(), timestamp_ms: s.timestamp_millis() as f64 }\n    }\n}\n\n")
        return (head + '#[pyclass(frozen, eq, get_all, name = "VerifiedSignature", module = "sosopay._native")]\n'
                "#[derive(PartialEq, Eq)]\npub struct PyVerified {\n"
                + field(ts, "timestamp: String") + field(ms, "timestamp_ms: u64") + "}\n\n"
                "#[pymethods]\nimpl PyVerified {\n    fn __repr__(&self) -> String {\n"
                "        format!(\"VerifiedSignature(timestamp='{}', timestamp_ms={})\", self.timestamp, self.timestamp_ms)\n    }\n}\n\n"
                "impl From<core::Signature> for PyVerified {\n    fn from(s: core::Signature) -> Self {\n"
                "        PyVerified { timestamp: s.timestamp().to_owned(), timestamp_ms: s.timestamp_millis() }\n    }\n}\n\n")

    def rows(self, runtime: str) -> List[Tuple[str, List[str], List[str], bool]]:
        """(function, doc, parameters after the key, is a signing) for each function."""
        out = []
        for kind in self.kinds:
            for verb in ("sign", "verify"):
                doc, params = self.core_fn(f"{verb}_{kind}")
                if verb == "sign":
                    doc = doc + ["", "`timestamp`: now in milliseconds when left out."]
                    out.append((f"sign_{kind}", doc, params, True))
                else:
                    out.append((f"verify_{kind}", doc + ["", self.fails[runtime]], ["sign"] + params, False))
        return out

    def uniffi_rs(self) -> str:
        out = [self.verified("uniffi")]
        for fn, doc, params, signs in self.rows("uniffi"):
            args = "".join(f"{p}: String, " for p in params)
            passed = ", ".join(f"&{p}" for p in params)
            out.append(comment(UniffiMirrors.kdoc(doc), ""))
            if signs:
                out.append(f"#[uniffi::export(default(timestamp = None))]\npub fn {fn}(key: Arc<MerchantKey>, {args}timestamp: Option<String>) -> Result<String> {{\n"
                           f"    Ok(sosopay::envelope::{fn}(&key.0, &timestamp_or_now(timestamp), {passed})?)\n}}\n\n")
            else:
                out.append(f"#[uniffi::export]\npub fn {fn}(key: Arc<MerchantKey>, {args}) -> Result<VerifiedSignature> {{\n"
                           f"    Ok(sosopay::envelope::{fn}(&key.0, {passed})?.into())\n}}\n\n")
        return "".join(out)

    def node_rs(self) -> str:
        out = [self.verified("node")]
        for fn, doc, params, signs in self.rows("node"):
            args = "".join(f'#[napi(ts_arg_type = "{self.node_args[p][1]}")] {p}: {self.node_args[p][0]}, ' for p in params)
            passed = ", ".join(self.node_args[p][2] for p in params)
            out.append(comment(UniffiMirrors.kdoc(doc), "") + f'#[napi(js_name = "{camel(fn)}")]\n')
            if signs:
                out.append(f'pub fn {fn}(#[napi(ts_arg_type = "string")] key: Text<Key>, {args}'
                           '#[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>) -> napi::Result<String> {\n'
                           "    let k = self::key(&key).napi()?;\n    let ts = self::timestamp(timestamp).napi()?;\n"
                           f"    core_env::{fn}(&k, &ts, {passed}).napi()\n}}\n\n")
            else:
                out.append(f'pub fn {fn}(#[napi(ts_arg_type = "string")] key: Text<Key>, {args}) -> napi::Result<VerifiedSignature> {{\n'
                           f"    let k = self::key(&key).napi()?;\n    core_env::{fn}(&k, {passed}).map(Into::into).napi()\n}}\n\n")
        return "".join(out)

    def python_rs(self) -> str:
        out = [self.verified("python")]
        for fn, doc, params, signs in self.rows("python"):
            args = "".join(f"{p}: {self.python_args[p]}, " for p in params)
            passed = ", ".join(f"&{p}" for p in params)
            out.append(comment(doc, "") + "#[pyfunction]\n")
            if signs:
                out.append(f"#[pyo3(signature = (key, {', '.join(params)}, timestamp = None))]\n"
                           f"pub fn {fn}(py: Python<'_>, key: Text<Key>, {args}timestamp: Option<&Bound<'_, PyAny>>) -> PyResult<String> {{\n"
                           f"    let k = self::key(py, &key)?;\n    core::{fn}(&k, &timestamp_arg(timestamp)?, {passed}).or_py(py)\n}}\n\n")
            else:
                out.append(f"pub fn {fn}(py: Python<'_>, key: Text<Key>, {args}) -> PyResult<PyVerified> {{\n"
                           f"    let k = self::key(py, &key)?;\n    Ok(core::{fn}(&k, {passed}).or_py(py)?.into())\n}}\n\n")
        return "".join(out)

    def targets(self) -> List[Tuple[Path, str]]:
        return [(ROOT / f"bindings/{d}/src/envelope.rs", replace_region(ROOT / f"bindings/{d}/src/envelope.rs", self.begin, self.end, gen))
                for d, gen in (("uniffi", self.uniffi_rs()), ("node", self.node_rs()), ("python", self.python_rs()))]


class KitMethods:
    """The sandbox handle's plain methods in each binding's sandbox class, from the sandbox
    crate's `SandboxHandle` (sandbox/src/kit.rs: their parameters, results and docs), between
    markers inside the impl block: Python's `NativeSandbox` (bindings/python/src/sandbox.rs),
    Node's `NativeSandbox` (bindings/node/src/sandbox.rs) and Kotlin/Swift's `SandboxGateway`
    (bindings/uniffi/testing/src/lib.rs). Python and Node hand the ledger's records to their
    typed wrappers as JSON; Kotlin/Swift get the sandbox crate's own records. A `Duration` is
    each runtime's number of time: seconds in Python (`gateway_hold`), milliseconds in Node and
    Kotlin/Swift (`gateway_hold_ms`: a Node number, a Kotlin `Long` rounded up, as
    `WaitOptions.gatewayHoldMs` takes it). The waits, the options, the fault settings and
    closing differ per runtime and are written by hand."""

    begin = "    // --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitMethods)\n"
    end = "    // --- end of generated\n"
    kit = ROOT / "sandbox/src/kit.rs"
    paths = {"python": ROOT / "bindings/python/src/sandbox.rs", "node": ROOT / "bindings/node/src/sandbox.rs",
             "uniffi": ROOT / "bindings/uniffi/testing/src/lib.rs"}
    #: (the name a binding gives it, the handle's method, the runtimes: p, n, u)
    rows = [
        ("base_url", "base_url", "pnu"), ("root_url", "root_url", "pnu"), ("time_scale", "time_scale", "pnu"),
        ("ledger", "ledger_json", "pn"), ("ledger", "ledger", "u"), ("notifications", "notifications", "u"),
        ("order", "order", "pnu"), ("pay", "pay", "pnu"), ("fail", "fail", "pnu"), ("add_faults", "add_faults", "pnu"),
        ("reset", "reset", "pnu"), ("add_merchant", "add_merchant", "pn"), ("key_of", "key_of", "pn"),
        ("micropay_hold", "micropay_hold", "pn"), ("gateway_hold", "gateway_hold", "pnu"),
    ]
    #: A parameter of the handle's, per runtime: (type, how it is passed on).
    params = {
        "python": {"&str": "Text<{}>", "&[String]": "Texts<{}>"},
        "node": {"&str": "Text<{}>", "&[String]": "Vec<String>"},
        "uniffi": {"&str": "String", "&[String]": "Vec<String>"},
    }
    #: The argument-name types (`Text<ChargeCode>`) of each parameter, per runtime.
    names = {"python": {"charge_code": "ChargeCode", "busi_id": "BusiCode", "key": "Key", "rules": "Rules"},
             "node": {"charge_code": "ChargeCode", "busi_id": "BusiCode", "key": "Key"}}

    def __init__(self) -> None:
        self.text = self.kit.read_text(encoding="utf-8")

    def method(self, name: str) -> Tuple[List[str], List[Tuple[str, str]], str]:
        """The doc, the parameters after `&self` and the result of `SandboxHandle::{name}`."""
        m = re.search(r"((?:    ///[^\n]*\n)+)    pub fn %s\(&self(.*?)\) -> ([^{]+?) \{" % name, self.text, re.S)
        if not m:
            raise SystemExit(f"gen-foreign: no documented SandboxHandle::{name} in sandbox/src/kit.rs")
        params = [(p.split(":")[0].strip(), p.split(":", 1)[1].strip()) for p in m.group(2).split(",") if ":" in p]
        return docs(m.group(1)), params, " ".join(m.group(3).split())

    def generate(self, runtime: str) -> str:
        out = []
        for exposed, core, where in self.rows:
            if runtime[0] not in where:
                continue
            doc, params, result = self.method(core)
            fallible = result.startswith("Result<")
            ok = result[len("Result<"):-len(", SandboxError>")] if fallible else result
            args, passed = [], []
            for p, ty in params:
                t = self.params[runtime][ty].format(self.names.get(runtime, {}).get(p, ""))
                ts = '#[napi(ts_arg_type = "string")] ' if runtime == "node" and t.startswith("Text<") else ""
                args.append(f"{ts}{p}: {t}")
                passed.append(f"&{p}")
            call = f"self.0.{core}({', '.join(passed)})"
            getter = not params and ok in ("&str", "f64", "Duration") and runtime != "uniffi"
            if ok == "Duration":
                # A duration: seconds in Python, milliseconds elsewhere (the runtime's unit).
                if fallible or params:
                    raise SystemExit(f"gen-foreign: SandboxHandle::{core}: a Duration result takes no parameter and cannot fail")
                if runtime == "python":
                    out.append(comment(doc + ["", "Here: in seconds."], "    ") + "    #[getter]\n"
                               f"    fn {exposed}(&self) -> f64 {{\n        {call}.as_secs_f64()\n    }}\n\n")
                elif runtime == "node":
                    out.append(comment(UniffiMirrors.kdoc(doc) + ["", "Here: in milliseconds."], "    ") + "    #[napi(getter)]\n"
                               f"    pub fn {exposed}_ms(&self) -> f64 {{\n        {call}.as_nanos() as f64 / 1e6\n    }}\n\n")
                else:
                    out.append(comment(UniffiMirrors.kdoc(doc) + ["", "Here: in milliseconds, rounded up."], "    ")
                               + f"    pub fn {exposed}_ms(&self) -> i64 {{\n"
                               f"        i64::try_from({call}.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX)\n    }}\n\n")
                continue
            if runtime == "python":
                out.append(comment(doc, "    ") + ("    #[getter]\n" if getter else ""))
                if not fallible:
                    out.append(f"    fn {exposed}(&self{''.join(', ' + a for a in args)}) -> {ok} {{\n        {call}\n    }}\n\n")
                elif ok == "()":
                    out.append(f"    fn {exposed}(&self{''.join(', ' + a for a in args)}) -> PyResult<()> {{\n        {call}.map_err(sandbox_err)\n    }}\n\n")
                else:
                    # A JSON value or a record, serialized into Python objects.
                    out.append(f"    fn {exposed}<'py>(&self, py: Python<'py>{''.join(', ' + a for a in args)}) -> PyResult<Bound<'py, PyAny>> {{\n"
                               f"        to_py(py, &{call}.map_err(sandbox_err)?)\n    }}\n\n")
            elif runtime == "node":
                out.append(comment(UniffiMirrors.kdoc(doc), "    ") + ("    #[napi(getter)]\n" if getter else "    #[napi]\n"))
                sig = f"    pub fn {exposed}(&self{''.join(', ' + a for a in args)})"
                if not fallible:
                    owned = ok == "&str"
                    out.append(f"{sig} -> {'String' if owned else ok} {{\n        {call}{'.to_owned()' if owned else ''}\n    }}\n\n")
                elif ok == "()":
                    out.append(f"{sig} -> napi::Result<()> {{\n        {call}.map_err(sandbox_err)\n    }}\n\n")
                elif ok == "serde_json::Value":
                    out.append(f"{sig} -> napi::Result<Value> {{\n        {call}.map_err(sandbox_err)\n    }}\n\n")
                else:
                    out.append(f"{sig} -> napi::Result<Value> {{\n        {call}.map(|v| to_json(&v)).map_err(sandbox_err)\n    }}\n\n")
            else:
                out.append(comment(UniffiMirrors.kdoc(doc), "    "))
                sig = f"    pub fn {exposed}(&self{''.join(', ' + a for a in args)})"
                if not fallible:
                    owned = ok == "&str"
                    out.append(f"{sig} -> {'String' if owned else ok} {{\n        {call}{'.to_owned()' if owned else ''}\n    }}\n\n")
                else:
                    out.append(f"{sig} -> Result<{ok}, SandboxException> {{\n        Ok({call}?)\n    }}\n\n")
        return "".join(out)

    def targets(self) -> List[Tuple[Path, str]]:
        return [(path, replace_region(path, self.begin, self.end, self.generate(runtime))) for runtime, path in self.paths.items()]


class KitSettings:
    """How a testing kit starts a sandbox: the sandbox crate's `KitOptions` (sandbox/src/kit.rs)
    as Kotlin/Swift's `SandboxOptions` record (bindings/uniffi/testing/src/lib.rs), Node's
    `NativeSandboxOptions` (bindings/node/src/sandbox.rs) and Python's reading of `Sandbox()`'s
    keyword arguments (bindings/python/src/sandbox.rs), each between markers, with the table of
    the setting names each runtime spells otherwise (for the sandbox's errors). Every setting is
    optional; an unset one takes `KitOptions::default()`, which holds every default."""

    begin = "// --- generated from sandbox/src/kit.rs (scripts/gen-foreign.py, KitSettings)\n"
    end = "// --- end of generated\n"
    #: Per core type: (Kotlin/Swift type, its uniffi default, Node type, Node reader, Python reader).
    types = {
        "f64": ("Option<f64>", "None", "Option<f64>", "opt_number", "a.number(\"{n}\")?"),
        "u64": ("Option<u64>", "None", "Option<f64>", "opt_number", "a.whole(\"{n}\", u64::MAX)?"),
        "u16": ("Option<u16>", "None", "Option<u16>", "opt_u16", "a.whole(\"{n}\", u16::MAX)?"),
        "String": ("Option<String>", "None", "Option<String>", "opt_text", "a.typed_text(\"{n}\", \"{what}\")?"),
        "Vec<String>": ("Vec<String>", "[]", "Option<Vec<String>>", "opt_texts", "a.texts(\"{n}\", \"{what}\")?"),
        "Vec<(String, String)>": ("Vec<TestMerchant>", "[]", "Option<Vec<SandboxMerchant>>", "opt_list::<SandboxMerchant>", "a.text_pairs(\"{n}\", \"{what}\")?"),
        "Option<f64>": ("Option<f64>", "None", "Option<f64>", "opt_number", "a.number(\"{n}\")?"),
    }
    #: What Python says it expected of a text setting.
    python_what = {"faults": "a list of rules", "merchants": "a mapping {busi_code: key}", "host": "an IP address as a str"}
    #: A duration in seconds: Kotlin/Swift and Node name its unit.
    seconds = {"max_request_age"}

    def __init__(self) -> None:
        self.doc, self.fields = core_struct("sandbox/src/kit.rs", "KitOptions")

    def uniffi_name(self, n: str) -> str:
        return f"{n}_seconds" if n in self.seconds else n

    def node_name(self, n: str) -> str:
        return f"{n}_ms" if n in self.seconds else n

    def renamed(self, who: str, name_of: Any) -> str:
        """The table of the settings a runtime names otherwise (camelCase, and a unit)."""
        rows = [(n, camel(name_of(n))) for _, n, _ in self.fields if camel(name_of(n)) != n]
        pairs = ", ".join('("%s", "%s")' % row for row in rows)
        return f"/// The settings {who} otherwise, for the sandbox's errors.\nconst RENAMED: [(&str, &str); {len(rows)}] = [{pairs}];\n"

    def uniffi_rs(self) -> str:
        out = ["/// How to start a sandbox. Every field is optional: `SandboxOptions()` is the document's test\n"
               "/// merchant at real gateway durations on a free local port (an unset field takes the sandbox\n"
               "/// crate's default, `KitOptions::default`).\n"
               "#[derive(Debug, Clone, PartialEq, uniffi::Record)]\npub struct SandboxOptions {\n"]
        conv = []
        for d, n, ty in self.fields:
            t, default, _, _, _ = self.types[ty]
            name = self.uniffi_name(n)
            extra = ["", "Here: in seconds."] if n in self.seconds else []
            out.append(comment(UniffiMirrors.kdoc(d + extra), "    ") + f"    #[uniffi(default = {default})]\n    pub {name}: {t},\n")
            if ty.startswith("Vec<(") :
                conv.append(f"            {n}: o.{name}.into_iter().map(|m| (m.busi_id, m.key)).collect(),\n")
            elif ty.startswith("Vec<") or ty.startswith("Option<"):
                conv.append(f"            {n}: o.{name},\n")
            else:
                conv.append(f"            {n}: o.{name}.unwrap_or(d.{n}),\n")
        out.append("}\n\nimpl SandboxOptions {\n    /// The sandbox crate's options (unset: its defaults).\n"
                   "    fn into_kit(self) -> KitOptions {\n        let (o, d) = (self, KitOptions::default());\n"
                   "        KitOptions {\n" + "".join(conv) + "        }\n    }\n}\n\n")
        out.append(self.renamed("Kotlin and Swift spell", self.uniffi_name))
        return "".join(out)

    def node_rs(self) -> str:
        out = ["/// How to start a sandbox (every field optional; unset: the sandbox crate's `KitOptions`\n"
               "/// default).\n#[napi(object, object_from_js = false)]\npub struct NativeSandboxOptions {\n"]
        rows, conv = [], []
        for d, n, ty in self.fields:
            _, _, t, reader, _ = self.types[ty]
            name = self.node_name(n)
            extra = ["", "Here: in milliseconds."] if n in self.seconds else []
            out.append(comment(UniffiMirrors.kdoc(d + extra), "    ") + f"    pub {name}: {t},\n")
            rows.append(f'    {name}: {reader}("{camel(name)}"),\n')
            if n in self.seconds:
                conv.append(f"            {n}: o.{name}.map(|ms| ms / 1000.0),\n")
            elif ty == "u64":
                conv.append(f"            {n}: o.{name}.map(|v| whole(\"{n}\", v, u64::MAX)).transpose()?.unwrap_or(d.{n}),\n")
            elif ty.startswith("Vec<("):
                conv.append(f"            {n}: o.{name}.unwrap_or_default().into_iter().map(|m| (m.busi_id, m.key)).collect(),\n")
            elif ty.startswith("Vec<"):
                conv.append(f"            {n}: o.{name}.unwrap_or_default(),\n")
            else:
                conv.append(f"            {n}: o.{name}.unwrap_or(d.{n}),\n")
        out.append('}\ncrate::from_js!(NativeSandboxOptions, "options", "a sandbox options object", {\n' + "".join(rows) + "});\n\n")
        out.append("impl NativeSandboxOptions {\n    /// The sandbox crate's options (unset: its defaults).\n"
                   "    fn into_kit(self) -> napi::Result<KitOptions> {\n        let (o, d) = (self, KitOptions::default());\n"
                   "        Ok(KitOptions {\n" + "".join(conv) + "        })\n    }\n}\n\n")
        out.append(self.renamed("JavaScript spells", self.node_name))
        return "".join(out)

    def python_rs(self) -> str:
        out = ["/// `Sandbox()`'s keyword arguments as the sandbox crate's options: a wrong type is a `TypeError`,\n"
               "/// a bad value a `ValidationError`, each naming the setting; unset ones take `KitOptions::default`.\n"
               "fn kit_options(a: &Args<'_, '_>) -> PyResult<KitOptions> {\n    let d = KitOptions::default();\n    Ok(KitOptions {\n"]
        for _, n, ty in self.fields:
            read = self.types[ty][4].format(n=n, what=self.python_what.get(n, ""))
            out.append(f"        {n}: {read}.{'or' if ty.startswith('Option<') else 'unwrap_or'}(d.{n}),\n")
        out.append("    })\n}\n")
        return "".join(out)

    def targets(self, outputs: List[Tuple[Path, str]]) -> List[Tuple[Path, str]]:
        done = dict(outputs)
        paths = {"uniffi": ROOT / "bindings/uniffi/testing/src/lib.rs", "node": ROOT / "bindings/node/src/sandbox.rs",
                 "python": ROOT / "bindings/python/src/sandbox.rs"}
        gens = {"uniffi": self.uniffi_rs(), "node": self.node_rs(), "python": self.python_rs()}
        return [(path, replace_region(path, self.begin, self.end, gens[r], done.get(path))) for r, path in paths.items()]


class PythonPlainEnums:
    """The core's enums that have no wire text (`OutcomeStatus`, `Delivery`, `Environment`) as
    Python `str` enums, in a marked region of python/sosopay/enums.py: a member per variant
    (`IN_PROGRESS`), its value the variant's snake_case name (the serde form), its doc and the
    class's doc the core's. A Python-only extra of an enum is in EXTRAS."""

    out = ROOT / "python/sosopay/enums.py"
    begin = "# --- generated from core/src (scripts/gen-foreign.py, PythonPlainEnums)\n"
    end = "# --- end of generated\n"
    enums = [("core/src/flows.rs", "OutcomeStatus"), ("core/src/notify.rs", "Delivery"), ("core/src/client.rs", "Environment")]
    extras = {"Delivery": '    def _webhook_answer(self) -> Tuple[int, str]:\n        """``(status, body)`` owed to the gateway: the core\'s one table."""\n'
                          '        return _native.webhook_answer(self.name.title().replace("_", ""))\n\n'
                          '    @property\n    def http_status(self) -> int:\n        """The HTTP status to answer the gateway with (the core\'s table)."""\n'
                          '        return self._webhook_answer()[0]\n\n'
                          '    @property\n    def answer(self) -> str:\n        """The body to answer the gateway with: ``"SUCCESS"`` or ``"BUSY"`` (the core\'s table)."""\n'
                          '        return self._webhook_answer()[1]\n\n'}

    def generate(self) -> str:
        out = []
        for path, name in self.enums:
            text = (ROOT / path).read_text(encoding="utf-8")
            m = re.search(r"((?:^///[^\n]*\n)+)(?:#\[[^\n]*\]\n)*pub enum %s \{\n(.*?)^\}" % name, text, re.S | re.M)
            if not m:
                raise SystemExit(f"gen-foreign: no documented enum {name} in {path}")
            out.append(f'\n\nclass {name}(str, Enum):\n    """{rst(" ".join(docs(m.group(1))))}"""\n\n')
            for vdoc, variant in re.findall(r"((?:    ///[^\n]*\n)+)    (\w+),\n", m.group(2)):
                out += [f"    #: {rst(line)}\n" for line in docs(vdoc.replace("    ///", "///"))]
                out.append(f'    {snake(variant).upper()} = "{snake(variant)}"\n')
            out.append("\n" + self.extras.get(name, "") + "    def __str__(self) -> str:\n        return str(self.value)\n")
        return "".join(out) + "\n\n"

    def targets(self) -> List[Tuple[Path, str]]:
        return [(self.out, replace_region(self.out, self.begin, self.end, self.generate()))]


def rustfmt(text: str) -> str:
    """`text` as `cargo fmt` leaves it (the workspace's edition and settings)."""
    import subprocess

    done = subprocess.run(
        ["rustfmt", "--edition", "2021", "--emit", "stdout"], input=text, capture_output=True, text=True, cwd=ROOT, check=True
    )
    return done.stdout


def replace_region(path: Path, begin: str, end: str, generated: str, text: Optional[str] = None) -> str:
    """`path`'s text (or `text`, when several regions of one file are generated) with the region
    between `begin` and the next `end` replaced."""
    text = path.read_text(encoding="utf-8") if text is None else text
    a = text.index(begin) + len(begin)
    b = text.index(end, a)
    return text[:a] + generated + text[b:]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def comment(lines: List[str], indent: str) -> str:
    return "".join(f"{indent}///{' ' if line else ''}{line}\n" for line in lines)


def lacking(forms: Dict[str, str], expect: Dict[str, List[str]], what: str) -> bool:
    """Whether a runtime's generated text lacks a line the self-test expects (said on stderr)."""
    for runtime, wants in expect.items():
        for want in wants:
            if want not in forms[runtime]:
                print(f"self-test: {runtime} {what} lack {want!r}", file=sys.stderr)
                return True
    return False


def self_test() -> int:
    """A field added to a core reply reaches every runtime: adds two (a text and an amount) to
    the parsed OrderReply and checks each generated form carries them."""
    core = parse()
    doc, fields = core["OrderReply"]
    core["OrderReply"] = (doc, fields + [(["`TIP`."], "tip_note", "Option<String>"), (["`TIP_AMT`."], "tip", "Option<Amount>")])
    expect = {
        "Uniffi": ["pub tip_note: Option<String>,", "pub tip_fen: Option<i64>,", "pub tip_yuan: Option<String>,",
                   "tip_fen: r.tip.map(fen_out),"],
        "Node": ["pub tip_note: Option<String>,", "pub tip_fen: Option<f64>,", "tip_yuan: r.tip.map(Amount::to_yuan_string),"],
        "Python": ["    tip_note: Optional[str]\n", "    tip_fen: Optional[int]\n", "    def tip(self) -> Optional[Decimal]:",
                   'tip_note=d.get("tip_note"),'],
    }
    SERDE[("OrderReply", "tip")] = "tip_fen"
    for target in (Uniffi(), Node(), Python()):
        text = target.generate(core)
        for want in expect[type(target).__name__]:
            if want not in text:
                print(f"self-test: {type(target).__name__} lacks {want!r}", file=sys.stderr)
                return 1
    # A new notification field.
    core = parse()
    doc, fields = core["Notification"]
    core["Notification"] = (doc, fields + [(["`TIP`."], "tip_note", "Option<String>")])
    forms_note = {"Uniffi": Uniffi().generate(core), "Node": Node().generate(core), "Python": Python().generate(core)}
    expect_note = {
        "Uniffi": ["pub struct PaymentNotification {", "pub tip_note: Option<String>,", "tip_note: r.tip_note,"],
        "Node": ["pub struct Notification {", "pub tip_note: Option<String>,", "tip_note: r.tip_note,"],
        "Python": ["class Notification(_NotificationShortcuts):", "    tip_note: Optional[str]\n",
                   'tip_note=d.get("tip_note"),'],
    }
    if lacking(forms_note, expect_note, "notification"):
        return 1
    print("gen-foreign: a new notification field reaches Kotlin/Swift, Node and Python")
    # A new request field.
    core = parse()
    doc, fields = core["MicropayRequest"]
    core["MicropayRequest"] = (doc, fields + [(["`TIP`."], "tip_note", "Option<String>")])
    py = PythonRequests()
    forms_req = {
        "Uniffi": UniffiRequests().generate(core),
        "Node": NodeRequests().generate(core),
        "Python": py.rust(core) + py.methods(core, False) + py.methods(core, True),
    }
    expect_req = {
        "Uniffi": ["pub tip_note: Option<String>,", "tip_note: self.tip_note.clone(),"],
        "Node": ["pub tip_note: Option<String>,", "tip_note: r.tip_note,"],
        "Python": ['tip_note: a.opt_text("tip_note")?,', "        tip_note: Optional[str] = None,\n",
                   '"tip_note": tip_note,', "            tip_note=tip_note,\n"],
    }
    for runtime, wants in expect_req.items():
        for want in wants:
            if forms_req[runtime].count(want) < (2 if runtime == "Python" and "tip_note: Optional" in want else 1):
                print(f"self-test: {runtime} requests lack {want!r}", file=sys.stderr)
                return 1
    # A new goods field (a record callers build, that replies carry too).
    core = parse()
    doc, fields = core["Goods"]
    core["Goods"] = (doc, fields + [(["`GOOD_UNIT`."], "unit", "Option<String>")])
    forms_goods = {
        "Uniffi": UniffiRequests().generate(core) + Uniffi().generate(core),
        "Node": NodeRequests().generate(core) + Node().generate(core),
        "Python": py.rust(core) + Python().object_class(core, "Goods", "new"),
    }
    expect_goods = {
        "Uniffi": ["pub unit: Option<String>,", "unit: self.unit.clone(),", "unit: r.unit,"],
        "Node": ["pub struct GoodsInput", "pub unit: Option<String>,", "unit: r.unit,", 'unit: opt_text("unit")'],
        "Python": ['unit: a.opt_text("unit")?,', 'd.set_item("unit", &r.unit)?;', "    unit: Optional[str]\n",
                   "        unit: Optional[str] = None,\n", '"unit": unit,', 'unit=d.get("unit"),'],
    }
    if lacking(forms_goods, expect_goods, "goods"):
        return 1
    print("gen-foreign: a new goods field reaches Kotlin/Swift, Node and Python, as built and as replied")
    # A new flow option.
    fo = FlowOptions()
    fo.wait = fo.wait + [(["At most this many queries."], "max_queries", "u32")]
    FlowOptions.default = staticmethod(lambda field: 7)  # type: ignore[method-assign]
    forms_opt = {"Uniffi": fo.uniffi_rs(), "Node": fo.node_rs(), "Python": fo.python_rs()}
    expect_opt = {
        "Uniffi": ["pub max_queries: i32,", 'let max_queries = u32_in("max_queries", o.max_queries)?;'],
        "Node": ["pub max_queries: Option<f64>,", 'count(o.max_queries, "maxQueries")?'],
        "Python": ['let max_queries = a.opt_count("max_queries")?.unwrap_or(d.max_queries);'],
    }
    if lacking(forms_opt, expect_opt, "flow options"):
        return 1
    # A new client setting (a text and a duration).
    cs = ClientSettings()
    cs.fields = cs.fields + [(["Sent as `User-Agent`."], "user_agent", "Option<String>"),
                             (["Idle connections are closed after this."], "idle_timeout", "Option<Duration>")]
    ClientSettings.default = staticmethod(lambda field: "7")  # type: ignore[method-assign]
    forms_cs = {"Uniffi": cs.uniffi_rs(), "Node": cs.node_rs(), "Python": cs.python_rs() + cs.python_params() + cs.python_args()}
    expect_cs = {
        "Uniffi": ["pub user_agent: Option<String>,", "user_agent: self.user_agent.clone()", "pub idle_timeout_ms: i64,",
                   'idle_timeout: Some(ms_in("idle_timeout_ms", self.idle_timeout_ms)?)'],
        "Node": ["pub user_agent: Option<String>,", 'user_agent: opt_text("userAgent")', "user_agent: o.user_agent",
                 'idle_timeout: millis(o.idle_timeout_ms, "idleTimeoutMs")?'],
        "Python": ['user_agent: a.opt_text("user_agent")?', "        user_agent: Optional[str] = None,\n",
                   "            user_agent=user_agent,\n", 'idle_timeout: a.seconds("idle_timeout")?'],
    }
    if lacking(forms_cs, expect_cs, "client settings"):
        return 1
    print("gen-foreign: a new client setting (ClientOptions) reaches Kotlin/Swift, Node and Python")
    # A new outcome status reaches Kotlin/Swift's enum and PaymentOutcome's cases.
    flows_rs = (ROOT / "core/src/flows.rs").read_text(encoding="utf-8").replace(
        "    Conflict,\n}", "    Conflict,\n    /// Refunded before it could be confirmed.\n    Refunded,\n}", 1)
    mirrored = UniffiMirrors({"core/src/flows.rs": flows_rs}).generate()
    for want in ["    /// Refunded before it could be confirmed.\n    Refunded,\n",
                 "sosopay::OutcomeStatus::Refunded => OutcomeStatus::Refunded,", "    Refunded {\n",
                 "PaymentOutcome::Refunded { .. } => OutcomeStatus::Refunded,",
                 "(sosopay::OutcomeStatus::Refunded, order) => PaymentOutcome::Refunded {"]:
        if want not in mirrored:
            print(f"self-test: Uniffi outcome statuses lack {want!r}", file=sys.stderr)
            return 1
    print("gen-foreign: a new outcome status reaches Kotlin/Swift (the enum and PaymentOutcome's cases)")
    # A new error variant.
    global core_errors
    real = core_errors
    core_errors = lambda: real() + [(["Too many requests."], "RateLimited", [(["Wait this long."], "retry_after_ms", "u64")])]  # noqa: E731
    try:
        js, ts = NodeErrors().classes()
        forms = {
            "Node": js + ts,
            "Python": PythonErrors().generate(None),
            "Uniffi": UniffiErrors().generate(None),
        }
    finally:
        core_errors = real
    expect_err = {
        "Node": ["class RateLimitedError extends SosopayError", "this.retryAfterMs = details.retryAfterMs",
                 "readonly retryAfterMs: number", "rate_limited: RateLimitedError,"],
        "Python": ["class RateLimitedError(SosopayError):", "retry_after_ms: int = 0", "RateLimitedError.kind: RateLimitedError,"],
        "Uniffi": ["RateLimited {", "retry_after_ms: i64,", "sosopay::Error::RateLimited { retry_after_ms }"],
    }
    if lacking(forms, expect_err, "errors"):
        return 1
    # A new sandbox ledger field (Kotlin/Swift derive the ledger records through uniffi).
    ledger = PythonLedger.src.read_text(encoding="utf-8").replace(
        "    pub begin_time: String,\n", "    pub begin_time: String,\n    /// The tip, in fen.\n    pub tip_fen: Option<u64>,\n", 1)
    forms_ledger = {"Python": PythonLedger().generate(ledger), "Node": "".join(t for _, t in NodeLedger().generate(ledger))}
    expect_ledger = {"Python": ["    tip_fen: Optional[int]\n", 'tip_fen=_opt_int(d.get("tip_fen")),'],
                     "Node": ["    tipFen: optNum(o.tip_fen),", "  tipFen: number | null\n"]}
    if lacking(forms_ledger, expect_ledger, "ledger records"):
        return 1
    # A new flow event (a variant with a field).
    flows = FlowEvents.src.read_text(encoding="utf-8").replace(
        "    Done {\n", "    /// Refunding.\n    Refunding {\n        /// Asked for.\n        asked: bool,\n"
        "        /// Time since the flow started.\n        elapsed: Duration,\n    },\n    Done {\n", 1)
    ev = FlowEvents(flows)
    forms_ev = {"Uniffi": ev.uniffi_rs(), "Node": ev.node_rs(), "Python": ev.python_rs() + ev.python_models()}
    expect_ev = {"Uniffi": ["    Refunding {\n        /// Asked for.\n        asked: bool,", "FlowEvent::Refunding { asked: *asked, elapsed_ms }"],
                 "Node": ["pub asked: Option<bool>,", "ev.asked = Some(*asked);", "'refunding'"],
                 "Python": ['d.set_item("asked", *asked)?;', "    asked: Optional[bool] = None\n", '"refunding"']}
    if lacking(forms_ev, expect_ev, "flow events"):
        return 1
    print("gen-foreign: a new flow event reaches Kotlin/Swift, Node and Python")
    # A new named test code.
    tc = TestCodes()
    tc.named = tc.named + [("Pays twice.", "PAYS_TWICE", "130000000000009000")]
    forms_tc = {"Python": tc.python(), "Node": tc.javascript() + tc.typescript()}
    expect_tc = {"Python": ['PAYS_TWICE: Final = "130000000000009000"', '    "PAYS_TWICE",\n'],
                 "Node": ["  PAYS_TWICE: '130000000000009000',", "  readonly PAYS_TWICE: '130000000000009000'"]}
    if lacking(forms_tc, expect_tc, "test codes"):
        return 1
    print("gen-foreign: a new named test code reaches the Python and Node testing kits")
    # A new sandbox setting (KitOptions field).
    ks = KitSettings()
    ks.fields = ks.fields + [(["How loud."], "volume", "u16")]
    forms_ks = {"Kotlin/Swift": ks.uniffi_rs(), "Node": ks.node_rs(), "Python": ks.python_rs()}
    expect_ks = {"Kotlin/Swift": ["    pub volume: Option<u16>,", "volume: o.volume.unwrap_or(d.volume),"],
                 "Node": ["    pub volume: Option<u16>,", 'volume: opt_u16("volume"),', "volume: o.volume.unwrap_or(d.volume),"],
                 "Python": ['volume: a.whole("volume", u16::MAX)?']}
    if lacking(forms_ks, expect_ks, "sandbox settings"):
        return 1
    print("gen-foreign: a new sandbox setting (KitOptions) reaches Kotlin/Swift, Node and Python")
    print("gen-foreign: a new core reply field reaches Kotlin/Swift, Node and Python")
    print("gen-foreign: a new sandbox ledger field reaches the Python and Node testing kits")
    print("gen-foreign: a new core request field reaches Kotlin/Swift, Node and Python (sync and async)")
    print("gen-foreign: a new flow option (WaitOptions) reaches Kotlin/Swift, Node and Python")
    print("gen-foreign: a new core error variant reaches Kotlin/Swift, Node and Python")
    return 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    core = parse()
    stale = 0
    outputs = [(t.out, t.generate(core)) for t in (Uniffi(), Node(), Python(), UniffiErrors(), PythonErrors(), UniffiRequests(), NodeRequests())]
    outputs += [(path, replace_region(path, b, e, g)) for path, b, e, g in NodeErrors().targets()]
    options = FlowOptions()
    outputs += PythonRequests().targets(core, options)
    outputs += ClientSettings().targets()
    outputs += UniffiMirrors().targets()
    outputs += Signatures().targets()
    outputs += PythonPlainEnums().targets()
    outputs += KitSettings().targets(KitMethods().targets())
    ops = Operations().targets(outputs)
    outputs = [(path, text) for path, text in outputs if path not in {p for p, _ in ops}] + ops
    outputs.append((PythonLedger.out, PythonLedger().generate()))
    # testing.js and testing.d.ts have two generated regions each: the ledger's, then the codes'.
    codes = TestCodes()
    for path, text in NodeLedger().generate():
        region = (codes.begin, JS_END, codes.javascript()) if path == codes.js else ("  " + codes.begin, "  " + JS_END, codes.typescript())
        outputs.append((path, replace_region(path, *region, text)))
    outputs.append(codes.targets()[0])
    outputs += [(options.uniffi, options.uniffi_rs()), (options.node, options.node_rs() + "\n" + options.node_outcome())]
    models = ROOT / "python/sosopay/models.py"
    # models.py has three generated regions: each replacement starts from the previous one's text.
    i = next(i for i, (path, _) in enumerate(outputs) if path == models)
    text = replace_region(models, PY_LOG_BEGIN, PY_END, options.python_log()[1], outputs[i][1])
    text = replace_region(models, PY_OUTCOME_BEGIN, PY_END, options.python_outcome(), text)
    events = FlowEvents()
    outputs[i] = (models, replace_region(models, events.py_begin, PY_END, events.python_models(), text))
    outputs += events.targets()
    for out, text in outputs:
        text = rustfmt(text) if out.suffix == ".rs" else text
        if "--check" in sys.argv:
            if out.read_text(encoding="utf-8") != text:
                print(f"STALE: {out.relative_to(ROOT)}: run scripts/gen-foreign.py", file=sys.stderr)
                stale = 1
        else:
            out.write_text(text, encoding="utf-8")
    return stale


if __name__ == "__main__":
    sys.exit(main())
