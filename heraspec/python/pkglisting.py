"""Packages a module lists the modules of, the way plugin packages load their plugins.

    listings(name, is_package, info) -> [Listing]     `pkgutil.iter_modules` / `walk_packages` calls
    package_modules(folders) -> [(name, is_package)]  what pkgutil lists in a package's folders
    computed_imports(name, is_package, info) -> [Listing]  imports by computed names under a known package

A plugin package imports its modules by computed names after listing them:

    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")

Python imports what the folder holds, so carrying (modules.py) carries every module a listing can
return: `listings` finds the calls whose package is known without running the code, and
`package_modules` reads the folder as pkgutil does. A listing is known when its path argument is
`__path__` in a package's `__init__.py`, or `X.__path__` where X is bound by an import of the
module (`import plugins`, `from . import plugins`, `import a.b as plugins`, `a.b.__path__` after
`import a.b`); `pkgutil` itself may be imported under any name (`from pkgutil import iter_modules
as im`). Anything else (a list of folders, a path computed from `__file__`) is not a known listing.
The calls are found anywhere in the module (at import time or in a function body).
"""

from __future__ import annotations

import ast
import os

from .closure import ModuleInfo, import_base
from ..record import Record

__all__ = ["Listing", "computed_imports", "listings", "package_modules"]

_LISTERS = {"pkgutil.iter_modules": False, "pkgutil.walk_packages": True}  # -> lists subpackages too


class Listing(Record):
    """One call that lists a package's modules: `package` is a dotted name the caller resolves
    (it may not be first-party: the caller checks)."""

    __slots__ = ("package", "recursive", "node")

    package: str
    recursive: bool  # walk_packages: the subpackages' modules too, all the way down
    node: ast.Call  # where the call is, for problems about the modules it makes carried

    def __init__(self, package: str, recursive: bool, node: ast.Call) -> None:
        self.package = package
        self.recursive = recursive
        self.node = node


def _bound_modules(name: str, is_package: bool, tree: ast.Module) -> dict[str, str]:
    """Names the module's imports bind -> the dotted name they stand for (a module, or a name in one)."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    out[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = import_base(name, is_package, node.level)
            if base is None:
                continue  # beyond the top-level package: modules.py reports it
            base = ".".join(filter(None, (base, node.module)))
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{base}.{alias.name}"
    return out


def _dotted(node: ast.expr, bound: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value, bound)
        return f"{inner}.{node.attr}" if inner else None
    return None


def listings(name: str, is_package: bool, info: ModuleInfo) -> list[Listing]:
    """The known listings in module `name` (see the module docstring), in source order."""
    if "iter_modules" not in info.text and "walk_packages" not in info.text:
        return []  # most modules: not walked at all
    tree = info.tree
    bound = _bound_modules(name, is_package, tree)
    out = []
    for node in ast.walk(tree):  # iterative: deep expressions are fine
        if not isinstance(node, ast.Call):
            continue
        recursive = _LISTERS.get(_dotted(node.func, bound) or "")
        if recursive is None:
            continue
        path = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "path"), None)
        if isinstance(path, ast.Name) and path.id == "__path__" and is_package:
            out.append(Listing(name, recursive, node))
        elif isinstance(path, ast.Attribute) and path.attr == "__path__":
            package = _dotted(path.value, bound)
            if package:
                out.append(Listing(package, recursive, node))
    out.sort(key=lambda x: (x.node.lineno, x.node.col_offset))
    return out


def package_modules(folders: tuple[str, ...]) -> list[tuple[str, bool]]:
    """The Python source modules pkgutil.iter_modules lists in a package's folders, as
    pkgutil._iter_file_finder_modules reads each: `x.py` (no other dot in its name) and folders
    holding an `__init__.py` (no dot in their name), first folder winning, each folder sorted."""
    seen: set[str] = set()
    out = []
    for folder in folders:
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(folder, entry)
            if entry.endswith(".py") and os.path.isfile(path):
                module, is_package = entry[:-3], False
            elif "." not in entry and os.path.isfile(os.path.join(path, "__init__.py")):
                module, is_package = entry, True
            else:
                continue
            if module == "__init__" or "." in module or not module or module in seen:
                continue
            seen.add(module)
            out.append((module, is_package))
    return out


def _known_start(node: ast.expr, name: str, package: str) -> str:
    """The text a computed string surely starts with: its leading literal parts, `__name__` and
    `__package__` read as the module's own (f"plugins.{x}", "plugins." + x, f"{__name__}.{x}",
    "plugins.%s" % x, "plugins.{}".format(x))."""
    def part(n: ast.expr) -> str | None:
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return n.value
        if isinstance(n, ast.Name) and n.id in ("__name__", "__package__"):
            return name if n.id == "__name__" else package
        if isinstance(n, ast.FormattedValue) and n.format_spec is None and n.conversion in (-1, 115):
            return part(n.value)
        return None

    parts: list[ast.expr] = []
    stack = [node]
    while stack:  # left to right through `+` chains, f-strings, `%` and .format() templates
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += [n.right, n.left]
        elif isinstance(n, ast.JoinedStr):
            stack += reversed(n.values)
        elif isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) and isinstance(n.left, ast.Constant) \
                and isinstance(n.left.value, str):
            parts.append(ast.Constant(n.left.value.partition("%")[0]))
            break
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "format" \
                and isinstance(n.func.value, ast.Constant) and isinstance(n.func.value.value, str):
            parts.append(ast.Constant(n.func.value.value.partition("{")[0]))
            break
        else:
            parts.append(n)
    out = ""
    for n in parts:
        text = part(n)
        if text is None:
            return out
        out += text
    return out


def computed_imports(name: str, is_package: bool, info: ModuleInfo) -> list[Listing]:
    """`importlib.import_module(X)` / `__import__(X)` with X not a literal but surely naming a module
    inside a known package (X starts with "pkg.sub." as written, or as `__name__` reads): one
    Listing per call, `package` that package ("pkg.sub"). A name of which nothing is known
    (`import_module(name)`) is not one: it may well be a third-party module."""
    if "import_module" not in info.text and "__import__" not in info.text:
        return []
    tree = info.tree
    bound = _bound_modules(name, is_package, tree)
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args or isinstance(node.args[0], ast.Constant):
            continue
        func = node.func
        if not (_dotted(func, bound) == "importlib.import_module"
                or (isinstance(func, ast.Name) and func.id == "__import__" and "__import__" not in bound)):
            continue
        start = _known_start(node.args[0], name, package)
        if "." in start and all(p.isidentifier() for p in start.rpartition(".")[0].split(".")):
            out.append(Listing(start.rpartition(".")[0], False, node))
    out.sort(key=lambda x: (x.node.lineno, x.node.col_offset))
    return out
