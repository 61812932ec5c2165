"""Find a function named `module.path:function` and read what a pod must carry to run it, without
importing the user's module (files are found on the search path and read with `ast`).

    resolve(ref, search_path) -> (Function | None, [Problem])
    bundle(fn) -> Bundle              the modules (whole) and data files carried into the script (modules.py)

Finding: for `a.b.c`, each search directory in order is tried for `a/b/c/__init__.py`, then
`a/b/c.py` (Python's own order). A module is read as Python compiles it on import (sourcefile.py): a
syntax error anywhere in a carried module is a Problem at Python's position.

The function is what `from module import function` gives after the module is imported: the last
top-level binding of the name (`@overload` stubs before the implementation are fine), a plain def
(decorated or not, or rebound by `f = wrap(f)`: the script calls the module attribute, its
parameters are read from the def), possibly under a top-level if/try, or a name the module
imports from another first-party module (`__init__.py` re-exports, star imports), looked up
there. Refused: a class, lambda,
variable, `async def`, an undecorated generator function, a name bound only by an import from outside
the project, a def only under `if TYPE_CHECKING:` / `if __name__ == "__main__":`; `*args`,
`**kwargs`, positional-only and non-ASCII parameters. `Function` is returned whenever its signature
could be read; `problems` may still list problems of the carried modules, and then
`script.script_source` raises ValueError.
"""

from __future__ import annotations

import ast
import json
import keyword
import os
from typing import TYPE_CHECKING

from .closure import ModuleInfo, alias_binding, annotation_kind, import_base, never_runs_on_import
from . import entryrules
from .sourcefile import Problem, forget_modules, load_module, shown
from ..record import Record

_show = shown

if TYPE_CHECKING:
    from .modules import Bundle

__all__ = ["Function", "Param", "Problem", "bundle", "carried_source", "clear_cache", "docstring", "find_module", "forget_resolved",
           "module_functions", "resolve", "shown"]


def _close_matches(word: str, options: list[str], n: int) -> list[str]:
    import difflib  # only when there is a problem to explain

    return difflib.get_close_matches(word, options, n=n)


class Param(Record):
    __slots__ = ("name", "annotation", "required", "default", "literal_default", "kind")

    name: str
    annotation: str | None  # "int" "float" "bool" "str" "list" "dict", "list:KIND", "model:NAME" or None
    required: bool
    default: str | None  # encoded for Argo; None if required, not a literal, or not decodable back
    literal_default: bool  # False: compile passes DEFAULT_MARKER and Python applies the default
    kind: str  # "positional_or_keyword" | "keyword_only"

    def __init__(self, name: str, annotation: str | None, required: bool, default: str | None, literal_default: bool,
                 kind: str) -> None:
        self.name = name
        self.annotation = annotation
        self.required = required
        self.default = default
        self.literal_default = literal_default
        self.kind = kind


class Function(Record):
    __slots__ = ("ref", "module", "name", "file", "line", "params", "returns_annotation", "module_file", "returns_none")

    ref: str
    module: str
    name: str
    file: str
    line: int
    params: tuple[Param, ...]
    returns_annotation: str | None  # mapped like Param.annotation
    module_file: str  # the file of `module` (where `file` is when the function is defined there)
    returns_none: bool  # the return annotation admits None (Optional[str]: the result may be None, not a str)

    def __init__(self, ref: str, module: str, name: str, file: str, line: int, params: tuple[Param, ...],
                 returns_annotation: str | None, module_file: str = "", returns_none: bool = False) -> None:
        self.ref = ref
        self.module = module
        self.name = name
        self.file = file
        self.line = line
        self.params = params
        self.returns_annotation = returns_annotation
        self.module_file = module_file
        self.returns_none = returns_none


# --- caches: a big spec resolves the same ref thousands of times ------------------------------------

RESERVED_PREFIX = "_heraspec"  # reserved for heraspec's own names in generated code
RESERVED_PARAM_PREFIX = "heraspec_"  # the compiler's own item keys and parameters (argo/compiler.py) start with it

_RESOLVED: dict[tuple, tuple[Function | None, tuple[Problem, ...]]] = {}
_CARRIED: dict[Function, _Carried] = {}
_BOUNDARY: dict[Function, dict[str, str | None]] = {}


def clear_cache() -> None:
    """Forget parsed modules and resolved refs (resolve does not re-check files once cached)."""
    for cache in (_RESOLVED, _CARRIED, _BOUNDARY):
        cache.clear()
    forget_modules()


def forget_resolved() -> None:
    """Forget resolved refs but keep parsed modules: each is read again only when its file changed
    (size or mtime), so a long-lived caller (`heraspec lsp`) sees edits at the cost of what changed."""
    _RESOLVED.clear()


class _Carried:
    __slots__ = ("problems", "filename", "bundle")

    problems: tuple[Problem, ...]
    filename: str  # the module as shown in headers and tracebacks: "pkg/steps.py"
    bundle: Bundle  # this module and the first-party modules it needs (modules.py)

    def __init__(self, problems: tuple[Problem, ...], filename: str, bundle: Bundle) -> None:
        self.problems = problems
        self.filename = filename
        self.bundle = bundle


def resolve(ref: str, search_path: list[str]) -> tuple[Function | None, list[Problem]]:
    """Find `module.path:function` on the search path; the Function and every problem found."""
    dirs = tuple(os.fspath(d) for d in search_path)
    key = (ref, dirs, os.getcwd())  # relative search dirs depend on the working directory
    hit = _RESOLVED.get(key)
    if hit is None:
        hit = _RESOLVED[key] = _resolve(ref, dirs)
    return hit[0], list(hit[1])


def _resolve(ref: str, dirs: tuple[str, ...]) -> tuple[Function | None, tuple[Problem, ...]]:
    return _resolve_once(ref, dirs)


def _resolve_once(ref: str, dirs: tuple[str, ...]) -> tuple[Function | None, tuple[Problem, ...]]:
    parsed = _parse_ref(ref)
    if isinstance(parsed, Problem):
        return None, (parsed,)
    module, name = parsed
    found = _find_module(module, dirs)
    if isinstance(found, Problem):
        return None, (found,)
    info = load_module(found)
    if isinstance(info, Problem):
        return None, (info,)
    where = _target(info, module, name, found, dirs)
    if isinstance(where, Problem):
        return None, (where,)
    def_info, node, def_file, target = where
    params, problems = _signature(def_info, node, def_file)  # type: ignore[arg-type]
    problems += _inexact_return(def_info, node, def_file)  # type: ignore[arg-type]
    problems += entryrules.generator_problems(def_info, node, def_file)  # type: ignore[arg-type]
    problems += entryrules.single_dispatch_problems(def_info, node, def_file)  # type: ignore[arg-type]
    if problems:
        return None, tuple(problems)
    fn = Function(
        ref=f"{module}:{name}", module=module, name=name, file=def_file, line=node.lineno,
        params=tuple(params), returns_annotation=_kind(def_info, node.returns),  # type: ignore[attr-defined]
        module_file=found, returns_none=_admits_none(node.returns),  # type: ignore[attr-defined]
    )
    carried = _CARRIED[fn] = _carry(info, target if def_file == found else None, found, module, dirs)
    return fn, carried.problems


def find_module(module: str, search_path: list[str] | tuple[str, ...]) -> str | None:
    """The file of dotted `module` on the search path (Python's order), or None."""
    found = _find_module(module, tuple(os.fspath(d) for d in search_path))
    return found if isinstance(found, str) else None


# --- for editors: what a module offers, without importing it ---------------------------------------


def module_functions(module: str, search_path: list[str]) -> list[str]:
    """The names of the top-level `def`s of `module` found on the search path, in module order
    ([] when it is not found or cannot be read): what a `function:` value may name."""
    found = _find_module(module, tuple(os.fspath(d) for d in search_path))
    info = load_module(found) if isinstance(found, str) else found
    if isinstance(info, Problem):
        return []
    return [name for name, bs in info.bindings.items() if any(b.kind == "def" for b in bs)]


def docstring(fn: Function) -> str | None:
    """The docstring of a resolved function (None when it has none or the file changed since)."""
    info = load_module(fn.file)
    if isinstance(info, Problem):
        return None
    for b in info.bindings.get(fn.name, []):
        node = info.body[b.index]
        if isinstance(node, ast.FunctionDef) and node.lineno == fn.line:
            return ast.get_docstring(node)
    return None


# --- the ref and the module file --------------------------------------------------------------------


def _is_identifier(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _did_you_mean(names: list[str]) -> str | None:
    return "did you mean " + " or ".join(f"'{n}'" for n in names) + "?" if names else None


def _parse_ref(ref: str) -> tuple[str, str] | Problem:
    module, sep, name = ref.partition(":")
    if not sep or not module or not name or ":" in name:
        return Problem(f"invalid function reference '{ref}': expected 'module.path:function'",
                       hint="for example 'mypkg.steps:train'")
    if any(c in module for c in "/\\") or module.startswith(".") or ".." in module or module.endswith(".py"):
        folder, _, stem = module.replace("\\", "/").removesuffix(".py").rpartition("/")
        hint = "write a dotted module name and add its directory to the search path with --path"
        if _is_identifier(stem):
            hint = f"write '{stem}:{name}'" + (f" and add '{folder}' with --path" if folder else "")
        return Problem(f"invalid module '{module}' in '{ref}': use a dotted module name such as "
                       "'pkg.steps', not a file path or a relative name", hint=hint)
    if not all(_is_identifier(part) for part in module.split(".")):
        return Problem(f"invalid module '{module}' in '{ref}': each dotted part must be a Python identifier")
    if "." in name and all(_is_identifier(p) for p in name.split(".")):
        return Problem(f"'{name}' in '{ref}' is a method or attribute; methods are not supported",
                       hint="reference a module-level function (it may call the method)")
    if not _is_identifier(name):
        return Problem(f"invalid function name '{name}' in '{ref}': expected a Python identifier")
    return module, name


def _find_module(module: str, dirs: tuple[str, ...]) -> str | Problem:
    parts = module.split(".")
    for folder in dirs:
        for candidate in (os.path.join(folder, *parts, "__init__.py"), os.path.join(folder, *parts[:-1], parts[-1] + ".py")):
            if os.path.isfile(candidate):
                return candidate
    # the directories differ per machine; name the rule, not the list, so messages are stable
    file = "/".join(parts)
    hint = (f"looked for {file}.py and {file}/__init__.py in --path, the spec's folder, the current directory "
            f"and sys.path; add the directory that contains '{parts[0]}' with --path DIR")
    close = _close_modules(parts, dirs)
    return Problem(f"module '{module}' not found",
                   hint=f"{_did_you_mean(close)} Otherwise {hint}" if close else hint)


def _close_modules(parts: list[str], dirs: tuple[str, ...]) -> list[str]:
    names: set[str] = set()
    for folder in dirs:
        parent = os.path.join(folder, *parts[:-1])
        try:
            entries = os.listdir(parent)
        except OSError:
            continue
        for entry in entries:
            stem = entry[:-3] if entry.endswith(".py") else entry if os.path.isdir(os.path.join(parent, entry)) else ""
            if _is_identifier(stem) and stem != "__init__":
                names.add(stem)
    prefix = "".join(p + "." for p in parts[:-1])
    return [prefix + n for n in _close_matches(parts[-1], sorted(names), n=3)]


def _filename(module: str, path: str) -> str:
    rel = module.replace(".", "/")
    return f"{rel}/__init__.py" if os.path.basename(path) == "__init__.py" else f"{rel}.py"


# --- the target and its signature -------------------------------------------------------------------


_REEXPORT_DEPTH = 20


def _target(info: ModuleInfo, module: str, name: str, path: str, dirs: tuple[str, ...] = (),
            depth: int = 0) -> tuple[ModuleInfo, ast.FunctionDef, str, int | None] | Problem:
    """Where the function the module attribute `name` holds after import is defined: (module info,
    its def, file, top-level statement index or None for a def inside a top-level if/try). As
    Python binds it: the last top-level binding wins (`@overload` stubs, then the implementation), a def under `if`/`try` is
    the function (`try: from ._speedups import f / except ImportError: def f(...)`), a name the
    module imports from another first-party module (`__init__.py` re-exporting `from .b import f`,
    `from .recipes import *`) is looked up there."""
    shown = _show(path)
    bound = info.bindings.get(name, [])
    # a def only in the body of `if TYPE_CHECKING:` / `if __name__ == "__main__":` is never bound on import
    bindings = [b for b in bound if not (b.under and never_runs_on_import(b.stmt)
                                         and _nested_def(info, name, b.index) is None)]
    if bound and not bindings:
        stmt = bound[-1].stmt
        return Problem(f"'{name}' is defined in module '{module}' only under `{never_runs_on_import(stmt)}:`, "
                       "which does not run when the module is imported",
                       "define the function at the module's top level (the task imports the module)", path,
                       *info.position(stmt))
    if not bindings:
        left_out = None
        for star in info.star_imports if depth < _REEXPORT_DEPTH else ():
            other = _imported_module(star, module, path, dirs)
            if other is not None and name in other[1].bindings:
                if entryrules.star_exports(other[1], name):
                    return _target(other[1], other[0], name, other[2], dirs, depth + 1)
                left_out = left_out or other
        if left_out is not None:
            why = "it is not in its `__all__`" if "__all__" in left_out[1].bindings else "its name starts with '_'"
            return Problem(f"function '{name}' not found in module '{module}' ({shown}): the star import from "
                           f"'{left_out[0]}' leaves it out ({why})",
                           hint=f"reference '{left_out[0]}:{name}', or export it from '{left_out[0]}'")
        defs = sorted(n for n, bs in info.bindings.items() if any(b.kind == "def" for b in bs))
        hint = _did_you_mean(_close_matches(name, defs, n=3))
        if "__getattr__" in info.bindings:  # PEP 562: names made on access, by code heraspec does not run
            where = entryrules.defined_in_package(module, path, name)
            hint = (f"'{module}' makes names on access with `__getattr__`, which heraspec cannot follow without "
                    f"importing it: reference the module that defines '{name}'"
                    + (f" ('{where}:{name}')" if where else ""))
        return Problem(f"function '{name}' not found in module '{module}' ({shown})", hint=hint)

    def at(node: ast.AST, message: str, hint: str | None = None) -> Problem:
        return Problem(message, hint, path, *info.position(node))

    last = bindings[-1]
    stmt, what = last.stmt, f"'{name}' in module '{module}'"
    if last.under:
        nested = _nested_def(info, name, last.index)
        if nested is None:
            return at(stmt, f"'{name}' is bound under `{last.under}` at {shown}:{stmt.lineno} without a def there",
                      "define the function with def (it may be under if/try)")
        return info, nested, path, None
    if isinstance(stmt, ast.FunctionDef) and name.startswith(RESERVED_PREFIX):
        return at(stmt, f"'{name}' is a reserved name: the generated script defines names starting with "
                        f"'{RESERVED_PREFIX}'", hint="rename the function")
    if isinstance(stmt, ast.FunctionDef):
        return info, stmt, path, last.index
    if isinstance(stmt, ast.AsyncFunctionDef):
        return at(stmt, f"'{name}' is an async function; async functions are not supported",
                  hint=f"add a plain def that calls asyncio.run({name}(...))")
    if isinstance(stmt, ast.ClassDef):
        return at(stmt, f"{what} is a class, not a function")
    if isinstance(stmt, ast.ImportFrom) and depth < _REEXPORT_DEPTH:
        origin = next(a.name for a in stmt.names if alias_binding(a) == name)
        other = _imported_module(stmt, module, path, dirs)
        if other is not None:
            return _target(other[1], other[0], origin, other[2], dirs, depth + 1)
        return at(stmt, f"{what} is imported from '{'.' * stmt.level}{stmt.module or ''}', which is not a module of "
                        "your project", "write a function in your project that calls it" if stmt.level == 0 else None)
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return at(stmt, f"{what} is imported, not defined there")
    if isinstance(stmt, ast.Delete):
        return at(stmt, f"{what} is deleted by `del`: importing the module does not leave it "
                        "there", "reference a function the module keeps")
    if isinstance(getattr(stmt, "value", None), ast.Lambda):
        return at(stmt, f"{what} is a lambda, not a function", hint="define it with def")
    earlier = [b for b in bindings[:-1] if isinstance(b.stmt, ast.FunctionDef) and not b.under]
    if earlier and isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
        return info, earlier[-1].stmt, path, earlier[-1].index  # `f = wrap(f)`: decorated by hand
    value = getattr(stmt, "value", None)
    if isinstance(value, (ast.Attribute, ast.Call)):  # `add = Tools.add`, `fast = partial(train, epochs=5)`
        held = ast.unparse(value)
        held = held if len(held) <= 60 else held[:57] + "..."
        return at(stmt, f"{what} is a variable holding `{held}`, not a def whose parameters can be read",
                  f"write `def {name}(...)` with named parameters that calls it")
    return at(stmt, f"{what} is a variable, not a function")


def _nested_def(info: ModuleInfo, name: str, index: int) -> ast.FunctionDef | None:
    """The first plain def of `name` inside top-level compound statement `index` (its branches, not
    function bodies)."""
    stack: list[ast.stmt] = [info.body[index]]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
        if node is info.body[index] or isinstance(node, (ast.If, ast.Try, ast.With)) or type(node).__name__ == "TryStar":
            body = [] if never_runs_on_import(node) else getattr(node, "body", [])  # `if TYPE_CHECKING:` binds nothing
            children = [*body, *getattr(node, "orelse", []), *[s for h in getattr(node, "handlers", []) for s in h.body],
                        *getattr(node, "finalbody", [])]
            stack.extend(reversed(children))
    return None


def _imported_module(stmt: ast.ImportFrom, module: str, path: str, dirs: tuple[str, ...]) -> tuple[str, ModuleInfo, str] | None:
    """(name, info, file) of the first-party module `from X import ...` in `module` names, or None."""
    if stmt.level:
        base = import_base(module, os.path.basename(path) == "__init__.py", stmt.level)
        if base is None:
            return None
        target = f"{base}.{stmt.module}" if stmt.module else base
    else:
        target = stmt.module or ""
    root = os.path.dirname(path)
    for _ in range(module.count(".") + (os.path.basename(path) == "__init__.py")):
        root = os.path.dirname(root)
    found = _find_module(target, (*dirs, root))
    if isinstance(found, Problem) or "site-packages" in found or "dist-packages" in found:
        return None
    info = load_module(found)
    return None if isinstance(info, Problem) else (target, info, found)


def _encode_default(node: ast.expr, annotation: str | None) -> str | None:
    """The default as Argo text, or None when it is not a literal, would not decode back, or would
    not arrive intact: Argo substitutes `{{...}}` in a template input's default, and cannot
    substitute some control characters (then Python applies the default, through DEFAULT_MARKER)."""
    try:
        value = ast.literal_eval(node)
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    from .script import argo_unsafe, decode  # the script's own decoder: kept only if it decodes back

    if "{{" in text or argo_unsafe(text) is not None:
        return None
    back = decode(text, annotation)
    return text if type(back) is type(value) and back == value else None


_ELEMENTS = {"int", "float", "bool", "str", "list", "dict"}
# return annotations that can never be sent as a result parameter (no exact JSON form)
_INEXACT = {"set", "frozenset", "bytes", "bytearray", "complex", "datetime", "date", "time", "timedelta",
            "Set", "FrozenSet", "AbstractSet", "Decimal", "UUID", "ndarray", "DataFrame"}


_TYPING_MODULES = {"typing", "typing_extensions", "collections.abc", "pathlib", "__future__"}


def _kind(info: ModuleInfo, node: ast.expr | None) -> str | None:
    """The decoder's kind of an annotation: annotation_kind's, plus "list:KIND" for list[int] and
    "model:NAME" for a class defined in the module (a dataclass or Pydantic model is rebuilt)."""
    kind = annotation_kind(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError):
            return kind
    node = _unwrap_optional(node)
    if isinstance(node, ast.Name) and kind is None and any(
            not b.under and (b.kind == "class" or isinstance(b.stmt, ast.ImportFrom) and b.stmt.module not in _TYPING_MODULES)
            for b in info.bindings.get(node.id, [])):
        return f"model:{node.id}"  # a class defined here or imported: rebuilt when it is one (python/pod)
    dotted = _module_attribute(info, node) if kind is None else None
    if dotted is not None:
        return f"model:{dotted}"  # `models.Item` after `from . import models`: found through the module
    if kind in ("list", "dict") and isinstance(node, ast.Subscript):
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = _kind(info, items[-1] if kind == "dict" else items[0])
        if inner is not None and (inner in _ELEMENTS or inner.startswith("model:")):
            return f"{kind}:{inner}"
    return kind


def _admits_none(node: ast.expr | None) -> bool:
    """Whether an annotation admits None beside another type: Optional[X], X | None, Union[X, None]."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError):
            return False
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Union":
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return any(isinstance(i, ast.Constant) and i.value is None for i in items)
    return _unwrap_optional(node) is not node


def _module_attribute(info: ModuleInfo, node: ast.expr | None) -> str | None:
    """"models.Item" for an annotation naming a class through a module the module imports
    (`from . import models`, `import shop.models as m`, `import shop.models`), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not parts or not isinstance(node, ast.Name):
        return None
    for b in info.bindings.get(node.id, []):
        stmt = b.stmt
        if b.under or not isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        origins = [stmt.module or ""] if isinstance(stmt, ast.ImportFrom) else [a.name for a in stmt.names]
        if not any(o in _TYPING_MODULES or o.partition(".")[0] in _TYPING_MODULES for o in origins):
            return ".".join([node.id, *reversed(parts)])
    return None


def _unwrap_optional(node: ast.expr | None) -> ast.expr | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [n for n in (node.left, node.right) if not (isinstance(n, ast.Constant) and n.value is None)]
        return sides[0] if len(sides) == 1 else node
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
        return node.slice
    return node


def boundary_kinds(fn: Function) -> dict[str, str | None]:
    """Each parameter's kind as the script checks it at run time (python/pod): Param.annotation's, but a
    tuple, set or frozenset annotation is "tuple" / "set" / "frozenset" (":KIND" for `tuple[int, ...]`,
    `set[int]`), not a list,
    and the kind of an annotation admitting None (Optional, `X | None`, a None default) ends in " | None"."""
    found = _BOUNDARY.get(fn)
    if found is None:
        found = _BOUNDARY[fn] = _boundary_kinds(fn)
    return found


def _boundary_kinds(fn: Function) -> dict[str, str | None]:
    out: dict[str, str | None] = {p.name: p.annotation for p in fn.params}
    info = load_module(fn.file)
    node = next((n for n in ast.walk(info.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == fn.name and n.lineno == fn.line), None) if not isinstance(info, Problem) else None
    if node is None:
        return out
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults = dict(zip(reversed(positional), reversed(args.defaults)))
    defaults.update((a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
    for arg in [*positional, *args.kwonlyargs]:
        if arg.arg not in out or arg.annotation is None:
            continue
        annotation = arg.annotation
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except (SyntaxError, ValueError):
                continue
        kind = out[arg.arg]
        inner = _unwrap_optional(annotation)
        if isinstance(inner, ast.Subscript) and isinstance(inner.value, ast.Name) and inner.value.id == "Union":
            items = inner.slice.elts if isinstance(inner.slice, ast.Tuple) else [inner.slice]
            rest = [i for i in items if not (isinstance(i, ast.Constant) and i.value is None)]
            inner = rest[0] if len(rest) == 1 else inner
        base = inner.value if isinstance(inner, ast.Subscript) else inner
        name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
        if name in ("tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet"):
            items = (inner.slice.elts if isinstance(inner.slice, ast.Tuple) else [inner.slice]) \
                if isinstance(inner, ast.Subscript) else []
            element = None
            if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis or \
                    name.lower().endswith("set") and len(items) == 1:
                element = _kind(info, items[0])
            container = name.lower()
            kind = f"{container}:{element}" if element in _ELEMENTS else container
        default = defaults.get(arg)
        admits_none = inner is not annotation or (isinstance(default, ast.Constant) and default.value is None)
        if kind is not None and admits_none:
            kind += " | None"
        out[arg.arg] = kind
    return out


_KEYLESS = {"int", "float", "bool", "tuple", "Tuple", *_INEXACT}  # dict keys JSON cannot carry (its keys are strs)


def _json_keyless(node: ast.expr | None) -> str | None:
    """The key type of a `dict[K, V]` (or Dict, Mapping) inside an annotation whose keys JSON cannot
    carry as themselves (int, float, bool, tuple...): a JSON object's keys are strs."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError):
            return None
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Tuple) and len(sub.slice.elts) == 2:
            base, key = sub.value, sub.slice.elts[0]
            name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
            key = key.value if isinstance(key, ast.Subscript) else key
            kname = key.id if isinstance(key, ast.Name) else key.attr if isinstance(key, ast.Attribute) else ""
            if name in ("dict", "Dict", "Mapping", "MutableMapping") and kname in _KEYLESS:
                return kname
    return None


def _inexact_return(info: ModuleInfo, node: ast.FunctionDef, path: str) -> list[Problem]:
    """A return annotation that says the result has no exact JSON form (`-> set`, `-> dict[int, str]`):
    refused here, as the script would refuse the value at run time."""
    key = _json_keyless(node.returns)
    if key is not None:
        return [Problem(f"'{node.name}' returns {ast.unparse(node.returns)}, but JSON object keys are strs: its "  # type: ignore[arg-type]
                        f"{key} keys have no exact JSON form", "return str keys ({str(k): v for k, v in ...}) and "
                        "annotate dict[str, ...]", path, *info.position(node.returns))]  # type: ignore[arg-type]
    ret = _unwrap_optional(node.returns)
    base = ret.value if isinstance(ret, ast.Subscript) else ret
    name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
    if name not in _INEXACT:
        return []
    return [Problem(f"'{node.name}' returns {ast.unparse(node.returns)}, which has no exact JSON form, so it "  # type: ignore[arg-type]
                    "cannot be passed to another task",
                    "return a list, str or dict instead (sorted(...), .isoformat(), .tolist()), or write a file "
                    "and return its pathlib.Path", path, *info.position(node.returns))]  # type: ignore[arg-type]


def _signature(info: ModuleInfo, node: ast.FunctionDef, path: str) -> tuple[list[Param], list[Problem]]:
    args, name = node.args, node.name
    problems = [
        Problem(f"parameter '{a.arg}' of '{name}' is positional-only; positional-only parameters are not supported",
                None, path, *info.position(a))
        for a in args.posonlyargs
    ]
    for arg, stars, what in ((args.vararg, "*", "positional"), (args.kwarg, "**", "keyword")):
        if arg is not None:
            problems.append(Problem(f"'{name}' takes {stars}{arg.arg}; variable {what} arguments are not supported",
                                    "declare each parameter by name", path, *info.position(arg)))
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = [(a, d, "positional_or_keyword") for a, d in zip(positional, defaults) if a not in args.posonlyargs]
    pairs += [(a, d, "keyword_only") for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    params = []
    for arg, default, kind in pairs:
        if not arg.arg.isascii():
            problems.append(Problem(f"parameter '{arg.arg}' of '{name}' is not ASCII; it must be usable in an "
                                    "environment variable name", None, path, *info.position(arg)))
        if arg.arg.startswith(RESERVED_PARAM_PREFIX):  # fan-out items carry heraspec_plan, heraspec_file_x, ...
            problems.append(Problem(f"parameter '{arg.arg}' of '{name}' is a reserved name: heraspec's own keys of "
                                    f"fan-out items start with '{RESERVED_PARAM_PREFIX}'", "rename the parameter",
                                    path, *info.position(arg)))
        key = _json_keyless(arg.annotation)
        if key is not None:
            problems.append(Problem(f"parameter '{arg.arg}' of '{name}' is annotated {ast.unparse(arg.annotation)}, "  # type: ignore[arg-type]
                                    f"but JSON object keys are strs: its {key} keys would arrive as strs",
                                    "annotate dict[str, ...] and convert the keys in the function",
                                    path, *info.position(arg.annotation)))  # type: ignore[arg-type]
        annotation = _kind(info, arg.annotation)
        encoded = _encode_default(default, annotation) if default is not None else None
        params.append(Param(arg.arg, annotation, default is None, encoded, encoded is not None, kind))
    return params, problems


# --- the carried modules ----------------------------------------------------------------------------


def _carry(info: ModuleInfo, target: int | None, path: str, module: str, dirs: tuple[str, ...] = ()) -> _Carried:
    from .modules import carry

    bundle = carry(module, path, info, target, dirs)
    return _Carried(bundle.problems, _filename(module, path), bundle)


def carried_source(fn: Function) -> str:
    """The user code the script carries: every carried module's text, each under a line naming it
    (what a `code: image` task's cache key stands for)."""
    return "".join(f"# {m.filename}\n{m.source}" for m in _carried(fn).bundle.modules)


def bundle(fn: Function) -> Bundle:
    """The function's module and the first-party modules it needs (modules.py)."""
    return _carried(fn).bundle


def _carried(fn: Function) -> _Carried:
    carried = _CARRIED.get(fn)
    if carried is None:  # a Function built by hand, or the cache was cleared
        carried = _CARRIED[fn] = _carry_anew(fn)
    return carried


def _carry_anew(fn: Function) -> _Carried:
    path = fn.module_file or fn.file
    info = load_module(path)
    if isinstance(info, Problem):
        raise ValueError(f"cannot build a script for {fn.ref}: {info.message}")
    where = _target(info, fn.module, fn.name, path)
    if isinstance(where, Problem):
        raise ValueError(f"cannot build a script for {fn.ref}: {where.message}")
    return _carry(info, where[3] if where[2] == path else None, path, fn.module)
