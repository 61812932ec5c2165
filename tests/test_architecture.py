"""The import contract of the package (docs/DESIGN.md, "Modules"), read from the source with `ast`.

- Layers import one way: a module imports only from its own layer or the layers below it; every
  module of heraspec is placed in exactly one layer, so a new module must be placed too.
- No cycle between modules, counting imports inside functions (a local import that hides a cycle
  is still a cycle) and `if TYPE_CHECKING:` imports.
- The local executor consumes manifests: nothing in `heraspec.local` reads the spec or its checks.
- The `cli/` package alone parses arguments and picks exit codes: no other module imports argparse or exits.
- A name starting with `_` is used only in its own module; a private module (`_foo.py`) is imported
  by no other module, not even a sibling (what a sibling needs is a public module, named for what it
  does).
- docs/DESIGN.md's module table has one row per module, in the layer placed here; a failure names
  the rows to add, remove or move.

`TEMPORARY` lists the edges that break a rule today in files other work owns this round (each with
its owner); the test fails when one of them is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "heraspec"

# Lowest first; the folders are the layers (../shared/STYLE.md, "The shape for heraspec").
LAYERS: list[tuple[str, list[str]]] = [
    ("base", ["heraspec.errors", "heraspec.record", "heraspec.textsafe", "heraspec.merge", "heraspec.cachedir", "heraspec.digest", "heraspec.argo_lang",
              "heraspec.argo_lang.*"]),
    ("document", ["heraspec.document", "heraspec.document.*"]),
    ("python", ["heraspec.python", "heraspec.python.*"]),
    ("check", ["heraspec.check", "heraspec.check.*"]),
    ("argo", ["heraspec.argo", "heraspec.argo.*"]),
    ("local", ["heraspec.local", "heraspec.local.*"]),
    ("stages", ["heraspec.pipeline", "heraspec.graph", "heraspec.scaffold"]),
    ("cli", ["heraspec", "heraspec.__main__", "heraspec.cli", "heraspec.cli.*", "heraspec.lsp", "heraspec.lsp.*"]),
]

# What the local executor must not read: it runs a manifest, whoever wrote it (Argo's name and
# duration forms, document/patterns.py, it may use).
NOT_FROM_LOCAL = ["heraspec.document.[!p]*", "heraspec.check", "heraspec.check.*", "heraspec.argo.compiler",
                  "heraspec.pipeline"]

# (importer, imported or imported.name): a rule broken today in a file another engineer rewrites this
# round; to be removed by moving the shared piece to the lower module.
TEMPORARY: dict[tuple[str, str], str] = {
    # python/: realcode (functions.py, modules.py; script.py is also edited by types)
    ("heraspec.python.functions", "heraspec.python.script"): "cycle: functions -> script -> functions",
}

_ORDER = {name: i for i, (name, _) in enumerate(LAYERS)}


@lru_cache(maxsize=1)
def _modules() -> dict[str, ast.Module]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = ast.parse(f.read_text(encoding="utf-8"), str(f))
    return out


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").is_file()


def layer(module: str) -> str:
    # the most specific pattern wins: "heraspec.argo.compiler" over "heraspec.argo"
    best = max(((len(p) - p.count("*") * 100, name) for name, pats in LAYERS for p in pats if fnmatch(module, p)),
               default=None)
    assert best is not None, f"{module} is in no layer: place it in LAYERS (and docs/DESIGN.md's table)"
    return best[1]


@lru_cache(maxsize=1)
def imports() -> list[tuple[str, str, str, int]]:
    """Every import of a heraspec module by a heraspec module: (importer, module, name or "", line).
    `from .x import y` where y is a module gives (importer, "...x.y", "")."""
    mods = _modules()
    out = []
    for name, tree in mods.items():
        package = name if _is_package(name) else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out += [(name, a.name, "", node.lineno) for a in node.names if a.name.split(".")[0] == "heraspec"]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "heraspec":
                    continue
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    out.append((name, sub, "", node.lineno) if sub in mods else (name, target, a.name, node.lineno))
    return out


def _edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for src, dst, _, _ in imports():
        if dst != src and (src, dst) not in TEMPORARY:
            graph[src].add(dst)
    return graph


def test_every_module_is_in_one_layer():
    for module in _modules():
        layer(module)


def test_imports_point_down_the_layers():
    upward = [f"{src}:{line} imports {dst} ({layer(src)} -> {layer(dst)})" for src, dst, _, line in imports()
              if _ORDER[layer(dst)] > _ORDER[layer(src)] and (src, dst) not in TEMPORARY]
    assert upward == []


def test_no_import_cycles():
    graph = _edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_local_executor_reads_manifests_not_specs():
    bad = [f"{src}:{line} imports {dst}" for src, dst, _, line in imports()
           if src.startswith("heraspec.local") and any(fnmatch(dst, p) for p in NOT_FROM_LOCAL)]
    assert bad == []


def test_only_cli_parses_arguments_and_exits():
    bad = []
    for name, tree in _modules().items():
        if name in ("heraspec.cli", "heraspec.__main__") or name.startswith("heraspec.cli."):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "argparse" in names:
                    bad.append(f"{name}:{node.lineno} imports argparse")
            elif isinstance(node, ast.Attribute) and node.attr == "exit" and \
                    isinstance(node.value, ast.Name) and node.value.id == "sys":
                bad.append(f"{name}:{node.lineno} calls sys.exit")
            elif isinstance(node, ast.FunctionDef) and node.name.startswith("cli_"):
                bad.append(f"{name}:{node.lineno} defines {node.name} (a command-line adapter: heraspec/cli/)")
    assert bad == []


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses() -> list[tuple[str, str, int]]:
    """(importer, the private thing, line) for each `_name` or `_module` used from outside its home."""
    mods = _modules()
    out = []
    for src, dst, name, line in imports():
        if name and _private(name) and dst != src:
            out.append((src, f"{dst}.{name}", line))
        parts = dst.split(".")
        for i, part in enumerate(parts):  # a private module (or package), from any other module
            private = ".".join(parts[:i + 1])
            if _private(part) and not (src == private or src.startswith(private + ".")):
                out.append((src, private, line))
                break
    # `module._name`, where `module` was imported from heraspec
    for src, tree in mods.items():
        package = src if _is_package(src) else src.rpartition(".")[0]
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("heraspec")):
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
                target = ".".join(p for p in (base, node.module) if p)
                for a in node.names:
                    if f"{target}.{a.name}" in mods:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name) \
                    and aliases.get(node.value.id, src) != src:
                out.append((src, f"{aliases[node.value.id]}.{node.attr}", node.lineno))
    return out


def test_no_private_name_is_used_outside_its_module():
    bad = [f"{src}:{line} uses {thing}" for src, thing, line in private_uses()
           if (src, thing) not in TEMPORARY]
    assert bad == []


@pytest.mark.parametrize("edge", sorted(TEMPORARY), ids=lambda e: f"{e[0]}->{e[1]}")
def test_each_temporary_exception_is_still_needed(edge):
    src, dst = edge
    used = {(s, d) for s, d, _, _ in imports()} | {(s, t) for s, t, _ in private_uses()}
    assert edge in used, f"{src} no longer uses {dst}: remove it from TEMPORARY"


# Public names defined by more than one module, each for a reason; anything else defined twice is a
# second home for one concept (issue 31: deep_merge, fanned_out and Kubernetes names had two or three).
SAME_NAME: dict[str, str] = {
    "main": "cli.main is the command line's entry point; python.pod.main a script task's, in the pod",
    "check": "each check module's entry point (semantic.check calls the others; rules.check its subjects)",
    "apply": "heraspec.apply() is the package API over argo.applier.apply",
    "diff": "heraspec.diff() is the package API over argo.applier.diff",
    "to_json": "emit.to_json writes manifests; progress.to_json a run's summary",
    "shown": "functions.shown is a path for a message; connection.shown server text fit to print",
}


def test_each_public_function_has_one_home():
    homes: dict[str, list[str]] = {}
    for module, tree in _modules().items():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not _private(node.name):
                homes.setdefault(node.name, []).append(module)
    twice = {name: where for name, where in homes.items() if len(where) > 1 and name not in SAME_NAME}
    assert twice == {}
    gone = [name for name in SAME_NAME if len(homes.get(name, ())) < 2]
    assert gone == [], "no longer defined twice: remove from SAME_NAME"


def test_kubernetes_names_are_spelled_once():
    # apimachinery's DNS-1123 subdomain / label: document/patterns.py's K8S_NAME and NAMESPACE
    rule = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    spelled = [str(f.relative_to(PACKAGE)) for f in sorted(PACKAGE.rglob("*.py")) if rule in f.read_text(encoding="utf-8")]
    assert spelled == ["document/patterns.py"]


DESIGN = PACKAGE.parent / "docs" / "DESIGN.md"


def design_table() -> list[tuple[str, str, str]]:
    """docs/DESIGN.md's module table, (layer, module path under heraspec/, what it does) a row."""
    lines = DESIGN.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| layer | module |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").replace("\\|", "\0").split("|")]
        assert len(cells) == 3 and cells[1].startswith("`") and cells[1].endswith(".py`") \
            and cells[1].count("`") == 2, f"docs/DESIGN.md: a module row is | layer | `path.py` | what it does |: {line}"
        rows.append((cells[0], cells[1].strip("`"), cells[2]))
    return rows


def module_path(module: str) -> str:
    """`heraspec.local.attempt` -> `local/attempt.py` (a package -> its `__init__.py`)."""
    rel = module.split(".")[1:]
    return "/".join(rel + ["__init__.py"]) if _is_package(module) else "/".join(rel) + ".py"


def test_the_design_module_table_is_the_tree():
    """One row per module of heraspec/, in the layer the contract above places it: the message names
    the rows to add and the rows to remove."""
    tree = {module_path(m): layer(m) for m in _modules()}
    rows = design_table()
    table = {path: lay for lay, path, _ in rows}
    add = [f"| {tree[p]} | `{p}` | <what it does> |" for p in sorted(tree) if p not in table]
    remove = [f"| {table[p]} | `{p}` | (no such module)" for p in table if p not in tree]
    moved = [f"| {table[p]} | `{p}` |: the layer is {tree[p]}" for p in table if p in tree and table[p] != tree[p]]
    twice = sorted({p for _, p, _ in rows if [q for _, q, _ in rows].count(p) > 1})
    empty = [p for _, p, what in rows if not what]
    problems = ([f"add to docs/DESIGN.md's module table: {r}" for r in add]
                + [f"remove from docs/DESIGN.md's module table: {r}" for r in remove]
                + [f"fix in docs/DESIGN.md's module table: {r}" for r in moved]
                + [f"docs/DESIGN.md's module table names `{p}` twice" for p in twice]
                + [f"docs/DESIGN.md's module table: `{p}` says nothing of what it does" for p in empty])
    assert not problems, "\n".join(problems)
