#!/usr/bin/env python3
"""Static checks of the built sosopay artefacts.

  artifact-check.py wheel [--budget BYTES] WHEEL...     (scripts/build-wheels)
  artifact-check.py node [--budget BYTES] FILE.node...   (scripts/build-node-packages)

For each wheel:
  * the file name carries the abi3 tag (cp39-abi3) and the expected platform tag
    (--expect TRIPLE=TAG pairs, matched on the wheel's architecture);
  * the extension module is an ELF shared object of the wheel's architecture;
  * for manylinux: the highest GLIBC_x.y symbol version it needs is at most the
    tag's (manylinux_2_17 -> GLIBC_2.17); for musllinux: it needs no GLIBC symbol;
  * it links no libpython (an abi3 extension must not);
  * the wheel is at most --budget bytes.
For each Node addon `sosopay.<platform>.node` (napi-rs naming): an ELF file of the
platform's architecture, stripped, at most --budget bytes (default 4500000); -gnu: GLIBC
symbols at most 2.17 (the same floor as the manylinux2014 wheels); -musl: no GLIBC symbol.
Mach-O and PE addons (macOS, Windows) get the size check only.
Prints one line per file and exits 1 if any check failed.
Needs pyelftools (installed with auditwheel).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.dynamic import DynamicSection

MACHINE = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64", "armv7l": "EM_ARM", "i686": "EM_386"}


def version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def elf_facts(path: Path) -> tuple[str, bool, list[str], list[str]]:
    """(e_machine, stripped, DT_NEEDED names, GLIBC_ versions needed) of an ELF file."""
    with path.open("rb") as f:
        elf = ELFFile(f)
        stripped = elf.get_section_by_name(".debug_info") is None and elf.get_section_by_name(".symtab") is None
        needed: list[str] = []
        glibc: list[str] = []
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                needed += [t.needed for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            if isinstance(sec, GNUVerNeedSection):
                for _, auxs in sec.iter_versions():
                    glibc += [a.name[6:] for a in auxs if a.name.startswith("GLIBC_") and a.name[6:][0].isdigit()]
        return elf["e_machine"], stripped, needed, glibc


NODE_ARCH = {"x64": "EM_X86_64", "arm64": "EM_AARCH64"}


def check_node(path: Path, budget: int) -> tuple[bool, str]:
    name = path.name
    m = re.match(r"^sosopay\.(\w+)-(\w+)(?:-(\w+))?\.node$", name)
    if not m:
        return False, f"{name}: not named sosopay.<platform>.node"
    os_, cpu, abi = m.groups()
    size = path.stat().st_size
    problems: list[str] = []
    if size > budget:
        problems.append(f"{size} bytes > budget {budget}")
    if os_ != "linux":
        line = f"{name}: {size} bytes (budget {budget}; not ELF: size checked only)"
        return (not problems), line + ("" if not problems else "\n    FAIL: " + "; ".join(problems))
    machine, stripped, needed, glibc = elf_facts(path)
    if machine != NODE_ARCH.get(cpu):
        problems.append(f"ELF machine {machine} for {cpu}")
    if not stripped:
        problems.append("not stripped")
    top = max(glibc, key=version_key) if glibc else "-"
    if abi == "gnu" and glibc and version_key(top) > version_key("2.17"):
        problems.append(f"needs GLIBC_{top} > 2.17")
    if abi == "musl" and (glibc or any(n.endswith(".so.6") for n in needed)):
        problems.append(f"musl addon needs glibc ({top}; {needed})")
    line = f"{name}: {size} bytes (budget {budget}), {cpu}, max GLIBC {top}, needs {' '.join(needed)}"
    if problems:
        return False, line + "\n    FAIL: " + "; ".join(problems)
    return True, line + " - ok"


def check(path: Path, budget: int) -> tuple[bool, str]:
    name = path.name
    problems: list[str] = []
    m = re.match(r"^sosopay-[^-]+-cp39-abi3-(.+)\.whl$", name)
    if not m:
        return False, f"{name}: not a cp39-abi3 wheel of sosopay"
    tags = m.group(1).split(".")
    linux = [t for t in tags if t.startswith(("manylinux", "musllinux"))]
    if not linux:
        size = path.stat().st_size
        line = f"{name}: {size} bytes (budget {budget}; not a Linux wheel: size checked only)"
        return (True, line + " - ok") if size <= budget else (False, line + "\n    FAIL: over budget")
    arch = next(a for a in MACHINE if linux[0].endswith("_" + a))
    size = path.stat().st_size
    if size > budget:
        problems.append(f"{size} bytes > budget {budget}")

    with zipfile.ZipFile(path) as z, tempfile.TemporaryDirectory() as tmp:
        sos = [n for n in z.namelist() if n.endswith(".so")]
        if sos != ["sosopay/_native.abi3.so"]:
            problems.append(f"unexpected shared objects: {sos}")
        if "sosopay/py.typed" not in z.namelist():
            problems.append("py.typed missing")
        so = Path(z.extract("sosopay/_native.abi3.so", tmp))
        so_size = so.stat().st_size
        machine, stripped, needed, glibc = elf_facts(so)
        if machine != MACHINE[arch]:
            problems.append(f"ELF machine {machine} != {MACHINE[arch]}")
        if not stripped:
            problems.append("not stripped (.symtab or .debug_info present)")
    if any(n.startswith("libpython") for n in needed):
        problems.append(f"links libpython: {needed}")
    top = max(glibc, key=version_key) if glibc else "-"
    for tag in linux:
        if tag.startswith("manylinux"):
            if tag.startswith("manylinux2014"):
                allowed = "2.17"
            elif tag.startswith("manylinux1"):
                allowed = "2.5"
            elif tag.startswith("manylinux2010"):
                allowed = "2.12"
            else:
                mm = re.match(r"manylinux_(\d+)_(\d+)_", tag)
                assert mm, tag
                allowed = f"{mm.group(1)}.{mm.group(2)}"
            if glibc and version_key(top) > version_key(allowed):
                problems.append(f"needs GLIBC_{top} > {allowed} of tag {tag}")
        else:  # musllinux
            if glibc:
                problems.append(f"musllinux wheel needs glibc symbols (GLIBC_{top})")
            if any(n.endswith(".so.6") for n in needed):
                problems.append(f"musllinux wheel needs glibc libraries: {needed}")
    line = (f"{name}: {size} bytes (budget {budget}), _native.abi3.so {so_size} bytes, {arch}, "
            f"max GLIBC {top}, needs {' '.join(needed)}")
    if problems:
        return False, line + "\n    FAIL: " + "; ".join(problems)
    return True, line + " - ok"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["wheel", "node"])
    ap.add_argument("--budget", type=int)
    ap.add_argument("files", nargs="+", type=Path)
    args = ap.parse_args()
    ok = True
    for w in args.files:
        if args.kind == "wheel":
            good, line = check(w, args.budget or 2_500_000)
        else:
            good, line = check_node(w, args.budget or 4_500_000)
        print(line)
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
