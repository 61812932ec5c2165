"""The user's own modules carried with a function: which first-party modules its code imports,
directly or through helpers, absolutely or relatively, and what of each is needed.

    carry(entry, file, info, target, dirs) -> Bundle      the function's module and every module it needs

First-party: a module found on the search path in a directory that is not part of a Python
installation (stdlib, site-packages, dist-packages), whose top-level name is not a standard-library
module. Found as Python does: a top-level name in the first directory that has it (a regular package
or module wins; directories without `__init__.py` in every root make a namespace package), its
submodules inside that package's folder(s).

What is carried of each module (the rest is left behind):
  * the function's module: the function's closure (functions.py describes it);
  * a module imported with `from M import a, b`: the closure of `a` and `b` in M, with the same rules
    and refusals, so a helper's constants and helpers come along and nothing else;
  * a module bound to a name (`import M as m`, `from P import M` where M is a submodule) whose
    carried uses are all attribute reads (`m.f(...)`, `m.X`): the closure of those attributes;
  * a module used as an object otherwise (passed on, `getattr`, `m.x = ...`, `import a.b` which
    binds `a`, `from M import *`): the whole module, every top-level statement except the main
    guard, as Python would run it on import;
  * the packages above a carried module: what is imported from them, usually nothing (their
    `__init__.py` is then carried empty).
The imports inside every carried statement (function bodies included: they run when called) are
followed, transitively. An import of a first-party name that does not exist, a relative import
beyond the top-level package, a first-party module named like a standard-library module, and an
import cycle that Python itself would fail on (`from M import x` while M is still being imported
and has not bound `x` yet) are Problems located at the import. Imports that are neither
standard-library nor first-party are listed as `Bundle.imports` for the package check
(`packages.py`); those guarded by `try: ... except ImportError` are marked optional.

Not followed: `importlib.import_module(...)` and `__import__` with computed names. Not detected: in
a cycle, a module-level read of an attribute of a module still being imported (`Y = a.X` at the top
of b.py while a.py imports b first); Python raises AttributeError there, in the pod as locally.
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from typing import Any

from .closure import ModuleInfo, is_main_guard, alias_binding
from .functions import Problem, carry_refusal, load_module, shown as _show

__all__ = ["Bundle", "Carried", "Import", "carry", "first_party_roots", "is_stdlib"]

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def is_stdlib(name: str) -> bool:
    return name.partition(".")[0] in sys.stdlib_module_names


@dataclass(frozen=True)
class Carried:
    """One module as the pod gets it: its real dotted name and the statements carried."""

    name: str
    filename: str  # relative to its root, as shown in tracebacks: "mypkg/utils.py"
    is_package: bool
    pieces: tuple[tuple[int, str, str], ...]  # (first line, exact text, kind), module order


@dataclass(frozen=True)
class Import:
    """A top-level import of carried code that is neither standard library nor first-party."""

    name: str  # the top-level module name: `sklearn` for `from sklearn.svm import SVC`
    file: str
    line: int
    col: int
    optional: bool  # under `try: ... except ImportError`


@dataclass(frozen=True)
class Bundle:
    entry: str  # the function's module
    modules: tuple[Carried, ...]  # the entry first, then by name
    imports: tuple[Import, ...]
    problems: tuple[Problem, ...]

    size: int  # bytes of carried user code (what the size guard measures)


# --- where first-party modules are ------------------------------------------------------------------


def _installed_dirs() -> set[str]:
    paths = sysconfig.get_paths()
    out = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    out |= {sys.base_prefix, sys.prefix, os.path.join(paths.get("stdlib", ""), "lib-dynload")}
    return {os.path.realpath(d) for d in out if d}


def first_party_roots(dirs: list[str] | tuple[str, ...]) -> list[str]:
    """The search directories that hold the user's code, not a Python installation's."""
    installed = _installed_dirs()
    out = []
    for d in dirs:
        real = os.path.realpath(d)
        parts = set(real.split(os.sep))
        if real in installed or parts & {"site-packages", "dist-packages"} or real.endswith(".zip"):
            continue
        if real not in out:
            out.append(real)
    return out


class _Finder:
    """Finds first-party modules as Python's path finder would, in the first-party roots."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.cache: dict[str, tuple[str | None, bool, tuple[str, ...]] | None] = {}

    def find(self, name: str) -> tuple[str | None, bool, tuple[str, ...]] | None:
        """(file or None for a namespace package, is_package, folders searched for submodules)."""
        if name in self.cache:
            return self.cache[name]
        parent, _, last = name.rpartition(".")
        if parent:
            up = self.find(parent)
            folders = up[2] if up else ()
        else:
            folders = tuple(self.roots)
        found = None
        namespace: list[str] = []
        for folder in folders:
            pkg = os.path.join(folder, last)
            if os.path.isfile(os.path.join(pkg, "__init__.py")):
                found = (os.path.join(pkg, "__init__.py"), True, (pkg,))
                break
            if os.path.isfile(pkg + ".py"):
                found = (pkg + ".py", False, ())
                break
            if os.path.isdir(pkg) and last.isidentifier():
                namespace.append(pkg)
        if found is None and namespace:
            found = (None, True, tuple(namespace))
        self.cache[name] = found
        return found


def _display(name: str, is_package: bool) -> str:
    rel = name.replace(".", "/")
    return f"{rel}/__init__.py" if is_package else f"{rel}.py"


# --- one module being carried -----------------------------------------------------------------------


@dataclass
class _Unit:
    name: str
    file: str | None  # None: a namespace package (nothing to carry)
    is_package: bool
    info: ModuleInfo | None
    target: int | None = None
    whole: bool = False
    roots: dict[str, Any] = field(default_factory=dict)  # name -> where it is imported (_At)
    carried: dict[int, set[str]] = field(default_factory=dict)
    refused: list = field(default_factory=list)
    dirty: bool = True


@dataclass(frozen=True)
class _At:
    """A place in some module's source, for problems located outside the module they are about."""

    file: str
    line: int
    col: int


@dataclass(frozen=True)
class _Edge:
    """One first-party import found in a carried statement."""

    index: int  # the top-level statement it is in
    at: _At
    at_import: bool  # runs when the module is imported (not inside a function body)
    modules: tuple[str, ...]  # imported in this order (parents first)
    names: tuple[str, ...]  # `from M import x`: names taken from the last module


class _Bundler:
    def __init__(self, dirs: list[str] | tuple[str, ...]) -> None:
        self.finder = _Finder(first_party_roots(dirs))
        self.units: dict[str, _Unit] = {}
        self.problems: list[Problem] = []
        self.imports: list[Import] = []
        self.edges: dict[str, list[_Edge]] = {}

    def unit(self, name: str) -> _Unit | Problem:
        if name in self.units:
            return self.units[name]
        found = self.finder.find(name)
        if found is None:
            return Problem(f"module '{name}' not found")
        file, is_package, _ = found
        info = None
        if file is not None:
            loaded = load_module(file)
            if isinstance(loaded, Problem):
                return loaded
            info = loaded
        unit = self.units[name] = _Unit(name, file, is_package, info)
        return unit

    def demand(self, name: str, names: dict[str, Any] | None) -> None:
        """Module `name` is imported; `names` are taken from it, or None: it is used whole."""
        unit = self.units[name]
        if names is None:
            if not unit.whole:
                unit.whole = unit.dirty = True
            return
        for n, at in names.items():
            if n not in unit.roots:
                unit.roots[n] = at
                unit.dirty = True

    def settle(self) -> None:
        while True:
            dirty = [u for u in self.units.values() if u.dirty]
            if not dirty:
                return
            for unit in dirty:
                unit.dirty = False
                self.close(unit)

    def close(self, unit: _Unit) -> None:
        info = unit.info
        if info is None:
            return
        shown = _show(unit.file or "")
        if unit.whole:
            unit.carried = {i: set(_bound(info, i)) for i, s in enumerate(info.body) if not is_main_guard(s)}
            unit.refused = []
        else:
            unit.carried, unit.refused = info.closure(unit.target, lambda n: carry_refusal(info, n, shown), unit.roots.items())
        self.edges[unit.name] = []
        self.scan(unit)

    # --- the imports in carried statements --------------------------------------------------------

    def scan(self, unit: _Unit) -> None:
        info = unit.info
        assert info is not None and unit.file is not None
        for index in sorted(unit.carried):
            stmt = info.body[index]
            for node, optional, at_import in _imports(stmt):
                aliases = node.names
                if node is stmt and not unit.whole and index not in info.future:
                    aliases = [a for a in aliases if alias_binding(a) in unit.carried[index]]
                at = _At(unit.file, *info.position(node))
                for alias in aliases:
                    self.follow(unit, index, node, alias, at, optional, at_import)

    def follow(self, unit: _Unit, index: int, node: ast.Import | ast.ImportFrom, alias: ast.alias,
               at: _At, optional: bool, at_import: bool) -> None:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = self.relative(unit, node, at)
            if base is None:
                return
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = alias.name if isinstance(node, ast.Import) else node.module or ""
            if target == "__future__":
                return
            top = target.partition(".")[0]
            if is_stdlib(top):
                found = self.finder.find(top)
                if found is not None and top not in sys.builtin_module_names:
                    self.problem(at, f"your module '{top}' ({_show(found[0] or found[2][0])}) has the name of a "
                                     f"standard-library module: Python imports the standard library's '{top}' in the pod",
                                 f"rename your module (for example to '{top}_')")
                return
            if self.finder.find(top) is None:
                self.imports.append(Import(top, at.file, at.line, at.col, optional))
                return
        chain = self.chain(target, at)
        if chain is None:
            return
        if isinstance(node, ast.Import):
            # `import a.b.c` binds `a` and `import a.b.c as m` binds `a.b.c`: used as objects
            if alias.asname is None:
                for name in chain:
                    self.demand(name, None)
            else:
                for name in chain[:-1]:
                    self.demand(name, {})
                self.demand_object(unit, chain[-1], alias.asname, at)
            self.edges[unit.name].append(_Edge(index, at, at_import, tuple(chain), ()))
            return
        for name in chain[:-1]:
            self.demand(name, {})
        module = self.units[chain[-1]]
        if alias.name == "*":
            self.demand(module.name, None)
            self.edges[unit.name].append(_Edge(index, at, at_import, tuple(chain), ()))
            return
        bound = module.info is not None and alias.name in module.info.bindings
        if bound:
            self.demand(module.name, {alias.name: at})
            self.edges[unit.name].append(_Edge(index, at, at_import, tuple(chain), (alias.name,)))
            return
        sub = self.chain(f"{module.name}.{alias.name}", None)
        if sub is None:
            self.demand(module.name, {})
            self.problem(at, f"cannot import name '{alias.name}' from '{module.name}' "
                             f"({_show(module.file or _display(module.name, True))})",
                         _did_you_mean(alias.name, module))
            return
        self.demand_object(unit, sub[-1], alias.asname or alias.name, at)  # a submodule
        self.edges[unit.name].append(_Edge(index, at, at_import, tuple(sub), ()))

    def demand_object(self, unit: _Unit, module: str, binding: str, at: _At) -> None:
        """Module `module` is bound to `binding` in `unit`: when the carried code only reads
        attributes of it (`units.to_cents(...)`), only those are needed; else the whole module."""
        target = self.units[module]
        used = _attributes(unit, binding)
        if used is None or target.info is None or any(a not in target.info.bindings for a in used):
            self.demand(module, None)
        else:
            self.demand(module, {a: at for a in sorted(used)})

    def relative(self, unit: _Unit, node: ast.ImportFrom, at: _At) -> str | None:
        package = unit.name if unit.is_package else unit.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        written = "." * node.level + (node.module or "")
        if not parts:
            self.problem(at, f"relative import `from {written} import ...` in '{unit.name}', which is not in a package",
                         "put the module in a package (a folder with __init__.py) or use an absolute import")
            return None
        if node.level - 1 >= len(parts):
            self.problem(at, f"relative import `from {written} import ...` goes beyond the top-level package "
                             f"'{parts[0]}'", "use fewer dots or an absolute import")
            return None
        return ".".join(parts[: len(parts) - (node.level - 1)])

    def chain(self, target: str, at: _At | None) -> list[str] | None:
        """The modules `import target` loads (parents first), each added as a unit; None if missing."""
        parts = target.split(".")
        out = []
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            unit = self.unit(name)
            if isinstance(unit, Problem) and unit.file is not None:  # found, but unreadable or bad syntax
                if at is not None:
                    self.problems.append(unit)
                return None
            if isinstance(unit, Problem):
                if at is not None:
                    parent = ".".join(parts[: i - 1])
                    where = self.finder.find(parent) if parent else None
                    looked = (" (looked in " + ", ".join(_show(f) + "/" for f in where[2]) + ")") if where else ""
                    self.problem(at, f"cannot import '{target}': module '{name}' not found in your project{looked}",
                                 "check the spelling, or add the folder that holds it with --path")
                return None
            out.append(name)
        return out

    def problem(self, at: _At, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(message, hint, at.file, at.line, at.col))

    # --- import order ---------------------------------------------------------------------------

    def check_cycles(self, entry: str) -> None:
        """Replay the imports as Python runs them; `from M import x` while M is still being imported
        and has not bound `x` yet fails in Python, so it is a Problem here."""
        state: dict[str, str] = {}
        bound: dict[str, set[str]] = {}
        reported: set[tuple] = set()

        def load(name: str) -> None:
            parent = name.rpartition(".")[0]
            if parent and parent not in state:
                load(parent)
            if name in state:
                return
            state[name], bound[name] = "loading", set()
            unit = self.units[name]
            edges = [e for e in self.edges.get(name, ()) if e.at_import]
            for index in sorted(unit.carried):
                for edge in (e for e in edges if e.index == index):
                    for m in edge.modules:
                        if m not in state:
                            load(m)
                    last = edge.modules[-1]
                    for x in edge.names:
                        if state[last] == "loading" and x not in bound[last] and (edge.at, x) not in reported:
                            reported.add((edge.at, x))
                            other = self.units[last]
                            line = min((b.stmt.lineno for b in other.info.bindings.get(x, [])), default=0) if other.info else 0
                            self.problem(edge.at, f"import cycle: '{last}' is still being imported when this line "
                                         f"imports '{x}' from it ({_show(other.file or '')} binds '{x}' at line {line}, "
                                         "after the import that leads here); Python fails with ImportError",
                                         "move the import into the function that uses it, or move "
                                         f"'{x}' above the import in {_show(other.file or '')}")
                bound[name] |= set(_bound(unit.info, index)) if unit.info else set()
            state[name] = "done"

        load(entry)
        for name in sorted(self.units):
            if name not in state:
                load(name)


def _attributes(unit: _Unit, binding: str) -> set[str] | None:
    """The attributes the carried code reads from name `binding` (`m.a`, `m.b(...)`), or None when
    it uses the name otherwise (passes it on, assigns to it, `getattr`, `m.a = 1`...)."""
    assert unit.info is not None
    names: list[ast.Name] = []
    attrs: list[ast.Attribute] = []
    for index in unit.carried:
        for node in ast.walk(unit.info.body[index]):
            if isinstance(node, ast.Name) and node.id == binding:
                names.append(node)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == binding:
                attrs.append(node)
    reads = [a for a in attrs if isinstance(a.ctx, ast.Load)]
    loads = [n for n in names if isinstance(n.ctx, ast.Load)]
    if len(reads) != len(loads) or len(loads) != len(names):  # a bare use, a rebinding, a `del`
        return None
    return {a.attr for a in reads}


def _bound(info: ModuleInfo, index: int) -> list[str]:
    cache = getattr(info, "_bound_by_index", None)
    if cache is None:
        cache = {}
        for name, bindings in info.bindings.items():
            for b in bindings:
                cache.setdefault(b.index, []).append(name)
        info._bound_by_index = cache  # type: ignore[attr-defined]
    return cache.get(index, [])


def _did_you_mean(name: str, unit: _Unit) -> str | None:
    import difflib

    options = sorted(unit.info.bindings) if unit.info else []
    close = difflib.get_close_matches(name, options, n=1)
    return f"did you mean '{close[0]}'?" if close else None


def _catches_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(n is None or (isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS) for n in names):
            return True
    return False


def _imports(stmt: ast.stmt) -> list[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import in a top-level statement: (node, optional, runs at import time)."""
    out: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = []

    def walk(node: ast.AST, optional: bool, at_import: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append((node, optional, at_import))
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            at_import = False
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            guarded = optional or _catches_import_error(node)  # type: ignore[arg-type]
            for child in node.body:  # type: ignore[attr-defined]
                walk(child, guarded, at_import)
            for part in (node.handlers, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                for child in part:
                    walk(child, optional, at_import)
            return
        for child in ast.iter_child_nodes(node):
            walk(child, optional, at_import)

    walk(stmt, False, True)
    return out


def carry(entry: str, file: str, info: ModuleInfo, target: int, dirs: list[str] | tuple[str, ...]) -> Bundle:
    """The function's module (its closure from statement `target`) and every first-party module it needs."""
    root = os.path.dirname(file)
    for _ in range(entry.count(".") + (os.path.basename(file) == "__init__.py")):
        root = os.path.dirname(root)
    b = _Bundler([*dirs, root])
    b.units[entry] = _Unit(entry, file, os.path.basename(file) == "__init__.py", info, target=target)
    parents = entry.split(".")[:-1]
    for i in range(1, len(parents) + 1):
        name = ".".join(parents[:i])
        found = b.unit(name)
        if isinstance(found, Problem):  # the function's package is outside the first-party roots
            b.units[name] = _Unit(name, None, True, None)
    b.settle()
    problems = list(b.problems)
    for u in b.units.values():
        for _, use, (message, hint) in u.refused:
            if isinstance(use, _At):
                problems.append(Problem(message, hint, use.file, use.line, use.col))
            else:
                problems.append(Problem(message, hint, u.file, *u.info.position(use)))  # type: ignore[union-attr]
    if not problems:
        b.check_cycles(entry)
        problems = b.problems
    problems = sorted(set(problems), key=lambda p: (p.file != file, p.file or "", p.line or 0, p.col or 0, p.message))
    modules = []
    for name in [entry, *sorted(n for n in b.units if n != entry)]:
        u = b.units[name]
        pieces = tuple(u.info.pieces(u.carried, u.target)) if u.info is not None else ()
        modules.append(Carried(name, _display(name, u.is_package), u.is_package, pieces))
    imports = sorted(set(b.imports), key=lambda i: (i.file != file, i.file, i.line, i.col, i.name))
    size = sum(len(text.encode()) + 1 for m in modules for _, text, _ in m.pieces)
    return Bundle(entry, tuple(modules), tuple(imports), tuple(problems), size)
