"""Rules for a task's function that come from how the pod imports and calls it: the names a star
import binds (`star_exports`), the package module defining a name a `__getattr__` makes
(`defined_in_package`), and defs whose call the pod cannot use (a generator function, a
`@singledispatch` function called with keywords). functions.py applies them."""

from __future__ import annotations

import ast
import os

from .closure import ModuleInfo
from .pkglisting import package_modules
from .sourcefile import Problem, load_module

__all__ = ["defined_in_package", "generator_problems", "single_dispatch_problems", "star_exports"]


def star_exports(info: ModuleInfo, name: str) -> bool:
    """Whether `from module import *` binds `name`, as Python decides: listed in the module's
    `__all__`, or, without one, not starting with '_'. An `__all__` not written as literal lists
    and tuples of strings (`__all__ = base.__all__ + [...]`, changed in place) counts as exporting it."""
    bindings = info.bindings.get("__all__")
    if not bindings:
        return not name.startswith("_")
    names: set[str] = set()
    for b in bindings:
        stmt = b.stmt
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and not b.under else None
        try:
            listed = ast.literal_eval(value) if value is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            listed = None
        if not isinstance(listed, (list, tuple)) or not all(isinstance(n, str) for n in listed) or (
                isinstance(stmt, ast.Assign) and len(stmt.targets) != 1):
            return True
        names = names | set(listed) if isinstance(stmt, ast.AugAssign) else set(listed)
    return name in names or "__all__" in info.changes


def defined_in_package(module: str, path: str, name: str) -> str | None:
    """The first module of package `module` (its `__init__.py` is `path`), by file name, with a
    top-level def `name`: what to reference instead of a name its `__getattr__` makes."""
    if os.path.basename(path) != "__init__.py":
        return None
    folder = os.path.dirname(path)
    for stem, is_package in package_modules((folder,))[:500]:
        if not is_package and stem.isidentifier():
            info = load_module(os.path.join(folder, stem + ".py"))
            if not isinstance(info, Problem) and any(b.kind == "def" for b in info.bindings.get(name, [])):
                return f"{module}.{stem}"
    return None


def generator_problems(info: ModuleInfo, node: ast.FunctionDef, path: str) -> list[Problem]:
    """An undecorated generator function (a `yield` in its own body): calling it returns a generator,
    which the script refuses as a result whatever it yields. A decorator may make it something else
    (`@contextmanager`, a decorator collecting the items): then it is left to run."""
    if node.decorator_list:
        return []
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, (ast.Yield, ast.YieldFrom)):
            return [Problem(f"'{node.name}' is a generator function: calling it returns a generator, which has no "
                            "JSON form to be its result", "collect the items and return them (return list(...)), or "
                            "write a file and return its pathlib.Path", path, *info.position(child))]
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(child))
    return []


def single_dispatch_problems(info: ModuleInfo, node: ast.FunctionDef, path: str) -> list[Problem]:
    """`@singledispatch`: it dispatches on its first positional argument, and the script calls the
    function with keyword arguments (`main`), which singledispatch refuses (a TypeError)."""
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)) == "singledispatch":
            return [Problem(f"'{node.name}' is a @singledispatch function, which needs its first argument by "
                            "position; a task calls its function with keyword arguments",
                            f"write a plain def that calls {node.name}(...) and reference it", path,
                            *info.position(deco))]
    return []


