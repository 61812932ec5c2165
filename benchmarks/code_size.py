"""Workflow size for 1, 10 and 50 distinct functions of one ~200 KB package (issue 25).

    python benchmarks/code_size.py

The package is real Python text: 50 modules, each the source of one of the running Python's own
top-level standard-library modules of 2-8 KB (so it compresses as real code does) with two functions
appended (`entry`, `entry2`); its `__init__.py` imports every module, as packages that re-export their API
do, so any one function carries the whole package. Prints the compact-JSON size of the compiled
Workflow, the carried-code parameters and the largest pod's ARGO_TEMPLATE (global parameters
substituted, `inputs` left out, as Argo v4.1.2 builds it).
"""

from __future__ import annotations

import json
import re
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import heraspec  # noqa: E402


def sources(total: int = 200_000) -> list[str]:
    """Texts of standard-library modules of 2-8 KB, in name order, until `total` bytes."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    out: list[str] = []
    for f in sorted(lib.glob("*.py")):
        text = f.read_text(encoding="utf-8", errors="replace")
        if 2000 <= len(text.encode()) <= 8000 and "from ." not in text and "{{" not in text:
            out.append(text)
        if sum(len(t.encode()) for t in out) >= total or len(out) == 50:
            break
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pkg = root / "bigpkg"
        pkg.mkdir()
        texts = sources()
        (pkg / "__init__.py").write_text("".join(f"from . import m{i}\n" for i in range(len(texts))))
        for i, text in enumerate(texts):
            (pkg / f"m{i}.py").write_text(f"{text}\n\ndef entry(x: int) -> int:\n    return x + {i}\n\n\n"
                                          f"def entry2(x: int) -> int:\n    return x - {i}\n")
        refs = [f"bigpkg.m{i}:{fn}" for fn in ("entry", "entry2") for i in range(len(texts))]
        size = sum(f.stat().st_size for f in pkg.iterdir())
        print(f"package: {size:,} bytes in {len(list(pkg.iterdir()))} files")
        print("| functions | workflow (compact JSON) | carried-code parameters | largest ARGO_TEMPLATE |")
        print("|---:|---:|---:|---:|")
        for n in (1, 10, 50):
            spec = root / f"w{n}.yaml"
            spec.write_text("name: sized\ntasks:\n" + "".join(f"  t{i}: {{function: '{refs[i]}', args: {{x: 1}}}}\n"
                                                          for i in range(n)))
            (compiled,) = heraspec.compile([str(spec)], path=[str(root)])
            wf = compiled.manifest["spec"]
            params = {p["name"]: p["value"] for p in wf.get("arguments", {}).get("parameters", [])}
            code = sum(len(v) for k, v in params.items() if k.startswith("heraspec-code"))
            largest = 0
            for t in wf["templates"]:
                if "script" in t:
                    text = json.dumps({k: v for k, v in t.items() if k != "inputs"}, separators=(",", ":"))
                    text = re.sub(r"\{\{workflow\.parameters\.([-\w]+)\}\}", lambda m: params[m.group(1)], text)
                    largest = max(largest, len(text.encode()))
            total = len(json.dumps(compiled.manifest, separators=(",", ":"), ensure_ascii=False).encode())
            print(f"| {n} | {total:,} B | {code:,} B in {len(params)} | {largest:,} B |")


if __name__ == "__main__":
    main()
