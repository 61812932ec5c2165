"""The user's own modules carried with a function, whole, as Python imports them.

    carry(entry, file, info, target, dirs) -> Bundle      the function's module and every module it needs

What a task runs is what `from pkg.mod import fn; fn(...)` runs in a fresh interpreter, so every
first-party module that import executes is carried whole, as written: the function's module, the
packages above it (Python runs each `__init__.py` on the way down), and every first-party module
any carried module imports (at import time or inside a function body, conditionally or not),
transitively, with the packages above each. Nothing is cut: decorators, conditional definitions,
`global` caches, module-level loops, star imports and `__init__` re-exports run as they do in
Python. Data files that carried packages read (`importlib.resources`, `pkgutil.get_data`,
`Path(__file__).parent / "x.json"`) travel beside them (`Bundle.data`, pkgdata.py).

First-party: a module found on the search path in a directory that is not part of a Python
installation (stdlib, site-packages, dist-packages), whose top-level name is not a standard-library
module. Found as Python does: a top-level name in the first directory that has it (a regular package
or module wins; directories without `__init__.py` in every root make a namespace package), its
submodules inside that package's folder(s).

Problems, located at the import: an import of a first-party name that does not exist, a relative
import beyond the top-level package, a first-party module named like a standard-library module, a
module file that is a link to a file outside the project's folders, and an import cycle that
Python itself fails on (`from M import x` while M is still being imported, has not bound `x` yet
and has no submodule `x`). Conditional imports are not problems: under `try: ... except
ImportError`, or under an `if` (`if TYPE_CHECKING:`, `if sys.version_info >= ...`). Imports inside
function bodies run only when the function is called: those of the function's own module that its
code can reach are checked; the rest are carried when found and otherwise left alone. Imports that
are neither standard-library nor first-party are listed as `Bundle.imports` for the package check
(`packages.py`), with the same rule.

Listed packages: a carried module that lists a first-party package's modules
(`pkgutil.iter_modules(__path__)`, `pkgutil.walk_packages(plugins.__path__, ...)`, see
pkglisting.py), as plugin packages do before importing them by computed names, carries every module
of that package pkgutil lists (walk_packages: its subpackages', all the way down), each checked as
any carried module; a problem making one carried is located at the listing call. Such a package
also carries its `__init__.py` as a data file, so the pod writes the carried modules out to disk
(pod.write_data_files), where pkgutil lists them as it lists the project's folder.

Not followed: `importlib.import_module(...)` and `__import__` with computed names otherwise. Such
an import whose name surely lies in a first-party package that no listing covers
(`import_module(f"plugins.{name}")`, pkglisting.computed_imports) is a located note
(`Bundle.notes`): the module it names cannot be known and is not carried. A name of which nothing
is known is not a note (it may be a third-party module).
"""

from __future__ import annotations

import ast
import bisect
import os
import re
import sys
import sysconfig
from collections.abc import Iterator

from .closure import ModuleInfo, import_base
from .sourcefile import Problem, load_module, shown as _show
from .pkgdata import DataFile, PackageData, outside
from .pkglisting import computed_imports, listings, package_modules
from ..record import Record

__all__ = ["Bundle", "Carried", "DataFile", "Import", "carry", "first_party_roots", "is_stdlib", "outside"]

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
# names every module has, whatever it binds (`from ._parser import __doc__`)
_MODULE_DUNDERS = {"__doc__", "__name__", "__file__", "__spec__", "__loader__", "__package__", "__builtins__",
                   "__dict__"}
def is_stdlib(name: str) -> bool:
    top = name.partition(".")[0]
    return top in sys.stdlib_module_names or top == "__main__"  # the script itself: always there


class Carried(Record):
    """One module as the pod gets it: its real dotted name and its whole text."""

    __slots__ = ("name", "filename", "is_package", "source")

    name: str
    filename: str  # relative to its root, as shown in tracebacks: "mypkg/utils.py"
    is_package: bool
    source: str  # the whole module ("" for a namespace package)

    def __init__(self, name: str, filename: str, is_package: bool, source: str) -> None:
        self.name = name
        self.filename = filename
        self.is_package = is_package
        self.source = source


class Import(Record):
    """An import of carried code that is neither standard library nor first-party."""

    __slots__ = ("name", "file", "line", "col", "optional")

    name: str  # the top-level module name: `sklearn` for `from sklearn.svm import SVC`
    file: str
    line: int
    col: int
    optional: bool  # conditional: under `try: ... except ImportError` or an `if`

    def __init__(self, name: str, file: str, line: int, col: int, optional: bool) -> None:
        self.name = name
        self.file = file
        self.line = line
        self.col = col
        self.optional = optional


class Bundle(Record):
    __slots__ = ("entry", "modules", "imports", "problems", "size", "data", "notes")

    entry: str  # the function's module
    modules: tuple[Carried, ...]  # the entry first, then by name
    imports: tuple[Import, ...]
    problems: tuple[Problem, ...]
    size: int  # bytes of carried user code and data
    data: tuple[DataFile, ...]
    notes: tuple[Problem, ...]  # not errors: computed imports heraspec cannot follow (located)

    def __init__(self, entry: str, modules: tuple[Carried, ...], imports: tuple[Import, ...],
                 problems: tuple[Problem, ...], size: int, data: tuple[DataFile, ...] = (),
                 notes: tuple[Problem, ...] = ()) -> None:
        self.entry = entry
        self.modules = modules
        self.imports = imports
        self.problems = problems
        self.size = size
        self.data = data
        self.notes = notes


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


class _Unit:
    __slots__ = ("name", "file", "is_package", "info", "checked", "folders")

    name: str
    file: str | None  # None: a namespace package (nothing to carry)
    is_package: bool
    info: ModuleInfo | None
    checked: set[int]  # statements whose function-body imports are checked
    folders: tuple[str, ...]

    def __init__(self, name: str, file: str | None, is_package: bool, info: ModuleInfo | None,
                 checked: set[int] | None = None, folders: tuple[str, ...] = ()) -> None:
        self.name = name
        self.file = file
        self.is_package = is_package
        self.info = info
        self.checked = set() if checked is None else checked  # a new one per instance
        self.folders = folders


class _At:
    """A place in some module's source, for problems located outside the module they are about."""

    __slots__ = ("file", "line", "col")

    file: str
    line: int
    col: int

    def __init__(self, file: str, line: int, col: int) -> None:
        self.file = file
        self.line = line
        self.col = col


class _Edge:
    """One first-party import that runs when its module is imported."""

    __slots__ = ("index", "at", "modules", "names")

    index: int  # the top-level statement it is in
    at: _At
    modules: tuple[str, ...]  # imported in this order (parents first)
    names: tuple[str, ...]  # `from M import x`: names taken from the last module

    def __init__(self, index: int, at: _At, modules: tuple[str, ...], names: tuple[str, ...]) -> None:
        self.index = index
        self.at = at
        self.modules = modules
        self.names = names


class _Found:
    __slots__ = ("node", "index", "optional", "at_import")

    node: ast.Import | ast.ImportFrom
    index: int  # the top-level statement
    optional: bool  # under try/except ImportError or an `if`
    at_import: bool  # runs when the module is imported (not inside a function body)

    def __init__(self, node: ast.Import | ast.ImportFrom, index: int, optional: bool, at_import: bool) -> None:
        self.node = node
        self.index = index
        self.optional = optional
        self.at_import = at_import


class _Bundler:
    def __init__(self, roots: list[str]) -> None:
        self.roots = roots
        self.finder = _Finder(roots)
        self.units: dict[str, _Unit] = {}
        self.todo: list[str] = []
        self.problems: list[Problem] = []
        self.imports: list[Import] = []
        self.edges: dict[str, list[_Edge]] = {}
        self.listed: dict[str, bool] = {}  # packages whose modules are listed -> with subpackages
        self.computed: list[tuple[str, _At]] = []  # first-party packages imported from by computed names

    def unit(self, name: str, at: _At | None) -> _Unit | Problem:
        if name in self.units:
            return self.units[name]
        found = self.finder.find(name)
        if found is None:
            return Problem(f"module '{name}' not found")
        file, is_package, folders = found
        info = None
        if file is not None:
            if outside(file, self.roots):
                problem = Problem(f"module '{name}' ({_show(file)}) is a link to {os.path.realpath(file)}, outside your "
                                  "project's folders: heraspec does not carry it",
                                  "copy the module into the project, or add its folder with --path",
                                  at.file if at else file, at.line if at else None, at.col if at else None)
                return problem
            loaded = load_module(file)
            if isinstance(loaded, Problem):
                return loaded
            info = loaded
        unit = self.units[name] = _Unit(name, file, is_package, info, folders=folders)
        self.todo.append(name)
        return unit

    def settle(self) -> None:
        while self.todo:
            self.scan(self.units[self.todo.pop(0)])

    # --- the imports in carried modules -----------------------------------------------------------

    def scan(self, unit: _Unit) -> None:
        self.edges[unit.name] = []
        info = unit.info
        if info is None or unit.file is None:
            return
        for found in _imports(info):
            checked = found.at_import or found.index in unit.checked
            at = _At(unit.file, *info.position(found.node))
            for alias in found.node.names:
                self.follow(unit, found, alias, at, checked and not found.optional)
        for listing in listings(unit.name, unit.is_package, info):
            self.carry_listed(listing.package, listing.recursive, _At(unit.file, *info.position(listing.node)))
        for listing in computed_imports(unit.name, unit.is_package, info):
            top = listing.package.partition(".")[0]
            if not is_stdlib(top) and self.finder.find(top) is not None:
                self.computed.append((listing.package, _At(unit.file, *info.position(listing.node))))

    def computed_notes(self) -> list[Problem]:
        """A note per computed import under a first-party package whose modules no listing carries."""
        out = []
        for package, at in self.computed:
            if package in self.listed or any(package.startswith(p + ".") for p, deep in self.listed.items() if deep):
                continue
            out.append(Problem(f"this import's module name is computed: heraspec cannot know which module of "
                               f"'{package}' it names, and carries none that no other import names",
                               f"import the module by name, or list the package's modules (for m in "
                               f"pkgutil.iter_modules({package}.__path__): ...): then every module of it is carried",
                               at.file, at.line, at.col))
        return out

    def carry_listed(self, package: str, recursive: bool, at: _At) -> None:
        """Carry every module pkgutil lists in first-party `package` (recursive: in its subpackages
        too); `package` not first-party (or not a package) is left alone."""
        if is_stdlib(package) or (package in self.listed and self.listed[package] >= recursive):
            return
        found = self.finder.find(package)
        if found is None or not found[1] or self.chain(package, at) is None:
            return
        self.listed[package] = recursive
        for name, is_package in package_modules(found[2]):
            if self.chain(f"{package}.{name}", at) is not None and recursive and is_package:
                self.carry_listed(f"{package}.{name}", True, at)

    def follow(self, unit: _Unit, found: _Found, alias: ast.alias, at: _At, report: bool) -> None:
        node = found.node
        problems = len(self.problems)
        if isinstance(node, ast.ImportFrom) and node.level:
            base = self.relative(unit, node, at)
            if base is None:
                return self.keep(problems, report)
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = alias.name if isinstance(node, ast.Import) else node.module or ""
            if target == "__future__":
                return None
            top = target.partition(".")[0]
            if is_stdlib(top):
                mine = self.finder.find(top)
                if mine is not None and top not in sys.builtin_module_names and report:
                    self.problem(at, _stdlib_message(top, mine[0] or mine[2][0]), f"rename your module (for example to '{top}_')")
                return None
            if self.finder.find(top) is None:
                if found.at_import or found.index in unit.checked:
                    self.imports.append(Import(top, at.file, at.line, at.col, found.optional))
                return None
        chain = self.chain(target, at)
        if chain is None:
            return self.keep(problems, report)
        if isinstance(node, ast.Import) or alias.name == "*":
            if found.at_import:
                self.edges[unit.name].append(_Edge(found.index, at, tuple(chain), ()))
            return None
        module = self.units[chain[-1]]
        sub = self.chain(f"{module.name}.{alias.name}", None) if module.is_package else None
        if sub is not None:  # a submodule: Python imports it when the package has no such attribute yet
            if found.at_import:
                self.edges[unit.name].append(_Edge(found.index, at, tuple(sub), ()))
            return None
        if module.info is not None and (alias.name in module.info.bindings or _open_namespace(module.info)):
            if found.at_import:
                self.edges[unit.name].append(_Edge(found.index, at, tuple(chain), (alias.name,)))
            return None
        if alias.name in _MODULE_DUNDERS or (alias.name == "__path__" and module.is_package):
            return None
        if module.info is None and module.file is None:
            return None  # a namespace package binds nothing
        self.problem(at, f"cannot import name '{alias.name}' from '{module.name}' "
                         f"({_show(module.file or _display(module.name, True))})", _did_you_mean(alias.name, module))
        return self.keep(problems, report)

    def keep(self, since: int, report: bool) -> None:
        """Drop the problems found since `since` unless this import is one Python surely runs."""
        if not report:
            del self.problems[since:]

    def relative(self, unit: _Unit, node: ast.ImportFrom, at: _At) -> str | None:
        base = import_base(unit.name, unit.is_package, node.level)
        if base is None:
            written = "." * node.level + (node.module or "")
            if not unit.is_package and "." not in unit.name:
                self.problem(at, f"relative import `from {written} import ...` in '{unit.name}', which is not in a "
                             "package", "put the module in a package (a folder with __init__.py) or use an absolute import")
            else:
                self.problem(at, f"relative import `from {written} import ...` goes beyond the top-level package "
                                 f"'{unit.name.partition('.')[0]}'", "use fewer dots or an absolute import")
        return base

    def chain(self, target: str, at: _At | None) -> list[str] | None:
        """The modules `import target` loads (parents first), each added as a unit; None if missing."""
        parts = target.split(".")
        out = []
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            unit = self.unit(name, at)
            if isinstance(unit, Problem) and unit.file is not None:  # found, but unreadable, outside, bad syntax
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
        """Replay the imports as Python runs them; `from M import x` while M is still being imported,
        has not bound `x` yet and has no submodule `x` fails in Python, so it is a Problem here.
        Iterative: a long chain of modules imports as deep as it goes, without Python's recursion."""
        state: dict[str, str] = {}
        bound: dict[str, set[str]] = {}
        reported: set[tuple] = set()

        def load(name: str) -> Iterator[str]:  # yields the modules to load before going on
            parent = name.rpartition(".")[0]
            if parent and parent not in state:
                yield parent
            if name in state:
                return
            state[name], bound[name] = "loading", set()
            unit = self.units[name]
            bindings = unit.info.bindings if unit.info is not None else {}
            for edge in sorted(self.edges.get(name, ()), key=lambda e: e.index):
                bound[name] |= {n for n, bs in bindings.items() if any(b.index < edge.index for b in bs)}
                for m in edge.modules:
                    if m not in state:
                        yield m
                last = edge.modules[-1]
                other = self.units[last]
                for x in edge.names:
                    if (state[last] == "loading" and x not in bound[last] and (edge.at, x) not in reported
                            and not (other.info is not None and _open_namespace(other.info))
                            and self.finder.find(f"{last}.{x}") is None):
                        reported.add((edge.at, x))
                        line = min((b.stmt.lineno for b in other.info.bindings.get(x, [])), default=0) if other.info else 0
                        self.problem(edge.at, f"import cycle: '{last}' is still being imported when this line "
                                     f"imports '{x}' from it ({_show(other.file or '')} binds '{x}' at line {line}, "
                                     "after the import that leads here); Python fails with ImportError",
                                     "move the import into the function that uses it, or move "
                                     f"'{x}' above the import in {_show(other.file or '')}")
            bound[name] |= set(bindings)
            state[name] = "done"

        for first in [entry, *sorted(self.units)]:
            stack = [load(first)]
            while stack:  # Python's recursion, on an explicit stack: a long chain of modules is fine
                try:
                    stack.append(load(next(stack[-1])))
                except StopIteration:
                    stack.pop()


def _stdlib_message(top: str, file: str) -> str:
    return (f"your module '{top}' ({_show(file)}) has the name of a standard-library module: Python imports "
            f"the standard library's '{top}' in the pod")


def _open_namespace(info: ModuleInfo) -> bool:
    """A module whose names cannot all be known without running it: a star import, a
    module-level `__getattr__`, or names bound through globals()/setattr()/exec()."""
    return bool(info.star_imports) or "__getattr__" in info.bindings or info.dynamic is not None


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


_IMPORT_WORD = re.compile(r"\bimport\b")
_BLOCKS = ("body", "orelse", "handlers", "finalbody", "cases")  # the fields of statements that hold statements
_TRY = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _imports(info: ModuleInfo) -> list[_Found]:
    """Every import in the module, in source order: with whether it is conditional and whether it
    runs at import time. Only statements hold imports, so expressions are never entered (a
    1,500-term `+` chain Python imports fine is not walked); on an explicit stack."""
    out: list[_Found] = []
    lines = [info.text.count("\n", 0, m.start()) + 1 for m in _IMPORT_WORD.finditer(info.text)]
    for index, (start, *_, end, _col) in enumerate(info.spans):
        first = bisect.bisect_left(lines, start)
        if first == len(lines) or lines[first] > end:
            continue  # no line of it holds the word `import`: most defs of a large module (not read at all)
        stack: list[tuple[ast.AST, bool, bool]] = [(info.body[index], False, True)]
        while stack:
            node, optional, at_import = stack.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.append(_Found(node, index, optional, at_import))
                continue
            inner = at_import and not isinstance(node, _SCOPES)
            children: list[tuple[ast.AST, bool, bool]] = []
            if isinstance(node, _TRY):
                guarded = optional or _catches_import_error(node)  # type: ignore[arg-type]
                children += [(c, guarded, inner) for c in node.body]  # type: ignore[attr-defined]
                for part in (node.handlers, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                    children += [(c, optional, inner) for c in part]
            elif isinstance(node, ast.If):
                children += [(c, True, inner) for c in [*node.body, *node.orelse]]
            else:
                children += [(c, optional, inner) for f in _BLOCKS for c in getattr(node, f, ())]
            stack.extend(reversed(children))
    out.sort(key=lambda f: (f.node.lineno, f.node.col_offset))
    return out


def carry(entry: str, file: str, info: ModuleInfo, target: int, dirs: list[str] | tuple[str, ...]) -> Bundle:
    """The function's module (whole) and every first-party module importing it runs, and the data
    files they may read; `target`: the function's statement, whose reachable code's imports inside
    function bodies are checked too."""
    root = os.path.dirname(file)
    for _ in range(entry.count(".") + (os.path.basename(file) == "__init__.py")):
        root = os.path.dirname(root)
    b = _Bundler(first_party_roots([*dirs, root]))
    problems: list[Problem] = []
    if os.path.realpath(root) in b.roots and outside(file, b.roots):
        problems.append(Problem(f"module '{entry}' ({_show(file)}) is a link to {os.path.realpath(file)}, outside "
                                "your project's folders: heraspec does not carry it",
                                "copy the module into the project, or add its folder with --path", file, 1, 1))
    top = entry.partition(".")[0]
    if is_stdlib(top) and top not in sys.builtin_module_names:
        problems.append(Problem(_stdlib_message(top, os.path.join(root, top) if "." in entry else file),
                                f"rename your module (for example to '{top}_')", file, 1, 1))
    parents = entry.split(".")[:-1]
    for i in range(1, len(parents) + 1):
        name = ".".join(parents[:i])
        found = b.unit(name, None)
        if isinstance(found, Problem):  # the function's package is outside the first-party roots
            if found.file is not None:
                problems.append(found)
            b.units[name] = _Unit(name, None, True, None)
            b.edges[name] = []
    reachable = set(info.closure(target, lambda _: None)[0])
    unit = b.units[entry] = _Unit(entry, file, os.path.basename(file) == "__init__.py", info, checked=reachable)
    b.todo.append(entry)
    del unit
    b.settle()
    found = PackageData(b.roots)
    for u in b.units.values():
        if u.info is not None and u.file is not None:
            found.add(u.name, u.file, u.is_package, u.info)
    data = found.files()
    paths = {d.path for d in data}
    for name in sorted(b.listed):  # the pod writes the modules out where pkgutil lists them
        u = b.units[name]
        if u.info is not None and _display(name, True) not in paths:
            data.append(DataFile(_display(name, True), u.info.text.encode("utf-8")))
    data.sort(key=lambda d: d.path)
    b.problems += found.problems
    problems += b.problems
    if not problems:
        b.check_cycles(entry)
        problems = b.problems
    problems = sorted(set(problems), key=lambda p: (p.file != file, p.file or "", p.line or 0, p.col or 0, p.message))
    modules = []
    for name in [entry, *sorted(n for n in b.units if n != entry)]:
        u = b.units[name]
        modules.append(Carried(name, _display(name, u.is_package), u.is_package, u.info.text if u.info is not None else ""))
    imports = sorted(set(b.imports), key=lambda i: (i.file != file, i.file, i.line, i.col, i.name))
    size = sum(len(m.source.encode()) for m in modules) + sum(len(d.data) for d in data)
    notes = tuple(sorted(set(b.computed_notes()), key=lambda p: (p.file or "", p.line or 0, p.col or 0)))
    return Bundle(entry, tuple(modules), tuple(imports), tuple(problems), size, tuple(data), notes)
