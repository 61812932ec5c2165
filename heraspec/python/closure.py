"""Static analysis for `heraspec.functions`: which module-level names code reads, and where a
module binds, changes or rebinds them. Only syntax trees are read; nothing is imported or run.

Scopes follow Python's rules: function bodies, lambdas, comprehensions and class bodies are
scopes; a class body does not enclose the functions defined in it; decorators, defaults, base
classes and annotations (unless `from __future__ import annotations`) run in the enclosing
scope; local variable annotations are never evaluated; a walrus in a comprehension binds in the
enclosing function or module; `global NAME` sends both reads and writes to the module.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from ..record import Record


T = TypeVar("T")

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPOUND: dict[type, str] = {
    ast.If: "if",
    ast.For: "for",
    ast.AsyncFor: "async for",
    ast.While: "while",
    ast.With: "with",
    ast.AsyncWith: "async with",
    ast.Try: "try",
    ast.Match: "match",
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    _COMPOUND[ast.TryStar] = "try"
MAIN_GUARD = 'if __name__ == "__main__"'
_DYNAMIC = ("globals", "vars", "locals", "setattr", "exec")


class _Scope:
    def __init__(self, kind: str, parent: _Scope | None) -> None:
        self.kind = kind  # "module" | "function" | "class" | "comprehension"
        self.parent = parent
        self.bound: set[str] = set()
        self.globals: dict[str, ast.Global] = {}
        self.loads: list[ast.Name] = []
        self.children: list[_Scope] = []
        if parent is not None:
            parent.children.append(self)


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


class _Builder(ast.NodeVisitor):
    """Builds the scope tree of one top-level statement executed at module level."""

    def __init__(self, postponed: bool) -> None:
        self.postponed = postponed  # `from __future__ import annotations`: annotations not run
        self.root = self.scope = _Scope("module", None)

    def visit(self, node: ast.AST) -> None:
        # On an explicit stack: a module Python imports can nest expressions ~1,000 deep (a
        # 600-term `'a' + 'b' + ...` is a 600-deep BinOp), past the recursion of NodeVisitor.visit.
        # Only the nodes with a visitor below (scopes, bindings) recurse, as deep as they nest.
        stack = [node]
        while stack:
            n = stack.pop()
            method = getattr(self, "visit_" + n.__class__.__name__, None)
            if method is not None:
                method(n)
            else:
                stack.extend(reversed(list(ast.iter_child_nodes(n))))

    def generic_visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def _visit_all(self, nodes: list) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    def _type_params(self, node: ast.AST) -> None:
        names = [p.name for p in getattr(node, "type_params", ())]  # Python 3.12+ generics
        if names:
            self.scope = _Scope("function", self.scope)
            self.scope.bound.update(names)

    def define(self, node: ast.AST, decorators: bool = True, body: bool = True) -> None:
        """`body=False`: only what runs where the def/class statement is (the names it binds there)."""
        outer = self.scope
        outer.bound.add(node.name)  # type: ignore[attr-defined]
        if decorators:
            self._visit_all(node.decorator_list)  # type: ignore[attr-defined]
        if isinstance(node, ast.ClassDef):
            self._type_params(node)
            self._visit_all(node.bases)
            self._visit_all([k.value for k in node.keywords])
            self.scope = _Scope("class", self.scope)
        else:
            args = node.args  # type: ignore[attr-defined]
            self._visit_all([*args.defaults, *args.kw_defaults])
            self._type_params(node)
            if not self.postponed:
                self._visit_all([a.annotation for a in _all_args(args)])
                self._visit_all([node.returns])  # type: ignore[attr-defined]
            self.scope = _Scope("function", self.scope)
            self.scope.bound.update(a.arg for a in _all_args(args))
        if body:
            self._visit_all(node.body)  # type: ignore[attr-defined]
        self.scope = outer

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.define(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> None:
        outer = self.scope
        self._visit_all([*node.args.defaults, *node.args.kw_defaults])
        self.scope = _Scope("function", outer)
        self.scope.bound.update(a.arg for a in _all_args(node.args))
        self.visit(node.body)
        self.scope = outer

    def _comprehension(self, node: ast.AST, results: list[ast.expr]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # the first iterable runs in the enclosing scope
        outer = self.scope
        self.scope = _Scope("comprehension", outer)
        for i, gen in enumerate(generators):
            if i:
                self.visit(gen.iter)
            self.visit(gen.target)
            self._visit_all(gen.ifs)
        self._visit_all(results)
        self.scope = outer

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        scope.bound.add(node.target.id)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.scope.loads.append(node)
        else:
            self.scope.bound.add(node.id)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.scope.globals.setdefault(name, node)

    def visit_Import(self, node: ast.Import) -> None:
        self.scope.bound.update(alias_binding(a) for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.scope.bound.update(alias_binding(a) for a in node.names if a.name != "*")

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._visit_all([node.value])
        # `x: int` without a value binds nothing in a module or class body
        if node.value is not None or self.scope.kind == "function" or not isinstance(node.target, ast.Name):
            self.visit(node.target)
        if self.scope.kind != "function" and not self.postponed:
            self.visit(node.annotation)

    def _bind_and_visit(self, node: ast.AST, name: str | None) -> None:
        if name:
            self.scope.bound.add(name)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._bind_and_visit(node, node.name)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        self._bind_and_visit(node, node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        self._bind_and_visit(node, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self._bind_and_visit(node, node.rest)


def import_base(module: str, is_package: bool, level: int) -> str | None:
    """The package the dots of a relative import in `module` name, as Python resolves them
    (`from .. import x` in `a.b.c` is `a`; "" for an absolute import); None when they go beyond
    the top-level package, or `module` is in no package."""
    if not level:
        return ""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        return None
    return ".".join(parts[: len(parts) - (level - 1)])


def alias_binding(alias: ast.alias) -> str:
    """The name an import alias binds: `import a.b` binds `a`."""
    return alias.asname or alias.name.split(".")[0]


def _is_global(scope: _Scope, name: str) -> bool:
    if name in scope.globals or scope.kind == "module":
        return True
    if name in scope.bound:
        return False
    outer = scope.parent
    while outer is not None and outer.kind != "module":
        if outer.kind != "class":  # class bodies do not enclose their methods
            if name in outer.globals:
                return True
            if name in outer.bound:
                return False
        outer = outer.parent
    return True


def _global_uses(root: _Scope) -> dict[str, ast.AST]:
    """Module-level names read anywhere in the tree (or declared `global`), each with its first use."""
    found: dict[str, ast.AST] = {}

    def keep(name: str, node: ast.AST) -> None:
        old = found.get(name)
        if old is None or (node.lineno, node.col_offset) < (old.lineno, old.col_offset):  # type: ignore[attr-defined]
            found[name] = node

    stack = [root]
    while stack:
        scope = stack.pop()
        if scope.kind != "module":
            for name, node in scope.globals.items():
                keep(name, node)
        for load in scope.loads:
            if _is_global(scope, load.id):
                keep(load.id, load)
        stack.extend(scope.children)
    return dict(sorted(found.items(), key=lambda kv: (kv[1].lineno, kv[1].col_offset, kv[0])))  # type: ignore[attr-defined]


_SIMPLE = {"int", "float", "bool", "str", "list", "dict"}
_TYPING = {"List": "list", "Dict": "dict"}
_PATHS = {"Path", "PurePath", "PosixPath"}  # pathlib: a file or folder travelling as an Argo artifact


def annotation_kind(node: ast.expr | None) -> str | None:
    """Map an annotation to the small set the decoder knows, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int" (a string annotation)
        try:
            node = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError):
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # int | None
        left, right = node.left, node.right
        if isinstance(right, ast.Constant) and right.value is None:
            return annotation_kind(left)
        if isinstance(left, ast.Constant) and left.value is None:
            return annotation_kind(right)
        return None
    base = node.value if isinstance(node, ast.Subscript) else node
    name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
    if not isinstance(node, ast.Subscript):
        return "path" if name in _PATHS else name if name in _SIMPLE else _TYPING.get(name or "")
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if name in ("list", "List", "Sequence") and annotation_kind(items[0]) == "path":
        return "paths"  # list[Path]: the files of a fanned-out producer, in item order
    if name in ("Optional", "Annotated"):
        return annotation_kind(items[0])
    if name == "Literal":  # the kind its values share: Literal["1", "2"] reads a str's text as it is
        kinds = {type(i.value).__name__ if isinstance(i, ast.Constant) else None for i in items}
        return kinds.pop() if len(kinds) == 1 and kinds <= {"int", "str", "bool"} else None
    if name == "Union":
        rest = [i for i in items if not (isinstance(i, ast.Constant) and i.value is None)]
        return annotation_kind(rest[0]) if len(rest) == 1 else None
    return {"list": "list", "dict": "dict", **_TYPING}.get(name or "")


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed(stmt: ast.stmt) -> set[str]:
    """Root names of `X[k] = v`, `X.a += 1`, `del X[k]`, `X.add(v)` in stmt, looking into compound
    statements but not into function or class bodies."""
    out: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (*_DEFS, ast.ClassDef)):
            continue
        targets: list[ast.AST] = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        while targets:
            target = targets.pop()
            if isinstance(target, (ast.Tuple, ast.List)):
                targets.extend(target.elts)
            elif isinstance(target, ast.Starred):
                targets.append(target.value)
            elif isinstance(target, (ast.Attribute, ast.Subscript)) and _root_name(target):
                out.add(_root_name(target))  # type: ignore[arg-type]
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and _root_name(func):
                out.add(_root_name(func))  # type: ignore[arg-type]
        stack.extend(n for n in ast.iter_child_nodes(node) if isinstance(n, (ast.stmt, ast.excepthandler, ast.match_case)))
    return out


def is_main_guard(stmt: ast.stmt) -> bool:
    test = stmt.test if isinstance(stmt, ast.If) else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return (any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides)
            and any(isinstance(x, ast.Constant) and x.value == "__main__" for x in sides))


def never_runs_on_import(stmt: ast.stmt) -> str | None:
    """How an `if` whose body Python never runs when the module is imported is written
    (`if __name__ == "__main__"`, `if TYPE_CHECKING`, `if typing.TYPE_CHECKING`, `if False`), else None."""
    if not isinstance(stmt, ast.If):
        return None
    if is_main_guard(stmt):
        return MAIN_GUARD
    test = stmt.test
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return "if TYPE_CHECKING"
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING" and isinstance(test.value, ast.Name):
        return f"if {test.value.id}.TYPE_CHECKING"
    if isinstance(test, ast.Constant) and not isinstance(test.value, str) and not test.value:
        return f"if {test.value!r}"
    return None


def _pos(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


_KINDS: dict[type, str] = {ast.FunctionDef: "def", ast.AsyncFunctionDef: "async def", ast.ClassDef: "class"}


class Binding:
    """A top-level statement binding a name; `stmt` is parsed when first read."""

    __slots__ = ("index", "under", "kind", "_body")

    def __init__(self, index: int, under: str | None, kind: str, body: Sequence[ast.stmt]) -> None:
        self.index = index  # position of the top-level statement in the module body
        self.under = under  # keyword of the compound statement when bound conditionally ("if", "try", ...)
        self.kind = kind  # "def" | "async def" | "class" | "" (any other statement)
        self._body = body

    @property
    def stmt(self) -> ast.stmt:
        return self._body[self.index]


class Change(Record):
    """A top-level statement that changes a value in place: `X[k] = v`, `X.a += 1`, `X.add(v)`."""

    __slots__ = ("index", "under")

    index: int
    under: str | None  # as in Binding

    def __init__(self, index: int, under: str | None) -> None:
        self.index = index
        self.under = under


# What the whole-tree walk in ModuleInfo finds, as text (a superset: comments and strings match too)
_MAY_NEED_WALK = re.compile(r"import[\s\\]*\*|" + "|".join(sorted(_DYNAMIC)))


class ModuleInfo:
    """One parsed module: its top-level bindings, import-time changes, `global` statements.
    `facts()` is what the analysis found, as JSON data; `restored` rebuilds the module from it
    without its tree (sourcefile.py's cache), reading statements only when asked for."""

    def __init__(self, source: str, tree: ast.Module) -> None:
        self.text = source
        self._tree: ast.Module | None = tree
        self._full: Callable[[], ast.Module] | None = None
        self.lines = source.split("\n")
        self.body: Sequence[ast.stmt] = tree.body
        # each statement's first line (its decorators') and its position: what a statement can be read back by
        self.spans = [(min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", ()))]), s.lineno, s.col_offset,
                       s.end_lineno or s.lineno, s.end_col_offset or 0) for s in self.body]
        eager = range(len(self.body))
        walked: Iterable[ast.AST] = ast.walk(tree) if _MAY_NEED_WALK.search(source) else ()
        self.future = [i for i in eager if isinstance(self.body[i], ast.ImportFrom) and self.body[i].module == "__future__"]  # type: ignore[attr-defined]
        self.postponed = any(a.name == "annotations" for i in self.future for a in self.body[i].names)  # type: ignore[attr-defined]
        self.bindings: dict[str, list[Binding]] = {}
        self.changes: dict[str, list[Change]] = {}
        self.star_imports: list[ast.ImportFrom] = []
        self._uses: dict[tuple[int, bool], dict[str, ast.AST]] = {}
        walrus = ":=" in source
        for i, stmt in enumerate(self.body):
            if not walrus and isinstance(stmt, (*_DEFS, ast.ClassDef)):  # binds its name only: a body
                # binds no module name (`global` is read below), a header only through `:=`
                self.bindings.setdefault(stmt.name, []).append(Binding(i, None, _KINDS[type(stmt)], self.body))
                continue
            main = is_main_guard(stmt)
            under = MAIN_GUARD if main else _COMPOUND.get(type(stmt))
            builder = _Builder(self.postponed)
            if isinstance(stmt, (*_DEFS, ast.ClassDef)):
                builder.define(stmt, body=False)
            else:
                builder.visit(stmt)
            kind = _KINDS.get(type(stmt), "")
            for name in sorted(builder.root.bound):
                self.bindings.setdefault(name, []).append(Binding(i, under, kind, self.body))
            if main:
                continue  # never runs on import
            for name in sorted(_changed(stmt)):
                if name not in builder.root.bound or under is not None:
                    self.changes.setdefault(name, []).append(Change(i, under))
        self.dynamic: ast.Call | None = None  # first globals()/vars()/setattr()/exec() call
        for node in walked:  # only where the text may hold one: a large module's walk costs
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
                self.star_imports.append(node)  # only legal at module level
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _DYNAMIC
                and (self.dynamic is None or _pos(node) < _pos(self.dynamic))
            ):
                self.dynamic = node
        self.star_imports.sort(key=_pos)

    @property
    def tree(self) -> ast.Module:
        """The whole tree (a restored module parses it on first use)."""
        if self._tree is None:
            self._tree = self._full()  # type: ignore[misc]
        return self._tree

    def facts(self) -> dict[str, Any]:
        """What `restored` needs, as JSON data: the statements' spans, bindings, changes, futures,
        and where the star imports and the first dynamic call are (statement index, line, column)."""
        def where(node: ast.AST) -> list[int]:
            at = _pos(node)
            i = next(i for i, (_, l0, c0, l1, c1) in enumerate(self.spans) if (l0, c0) <= at <= (l1, c1))
            return [i, *at]

        return {"spans": self.spans, "future": self.future, "postponed": self.postponed,
                "bindings": [[n, [[b.index, b.under, b.kind] for b in bs]] for n, bs in self.bindings.items()],
                "changes": [[n, [[c.index, c.under] for c in cs]] for n, cs in self.changes.items()],
                "stars": [where(n) for n in self.star_imports],
                "dynamic": where(self.dynamic) if self.dynamic is not None else None}

    @classmethod
    def restored(cls, source: str, facts: dict[str, Any], body: Sequence[ast.stmt],
                 full: Callable[[], ast.Module]) -> ModuleInfo:
        """The module `facts()` was taken from (same source): `body` gives each top-level statement
        when first read, `full()` the whole tree."""
        self = cls.__new__(cls)
        self.text, self.lines, self.body, self._tree, self._full = source, source.split("\n"), body, None, full
        self.spans = [tuple(x) for x in facts["spans"]]
        self.future, self.postponed = facts["future"], facts["postponed"]
        self.bindings = {n: [Binding(i, u, k, body) for i, u, k in bs] for n, bs in facts["bindings"]}
        self.changes = {n: [Change(i, u) for i, u in cs] for n, cs in facts["changes"]}
        self._uses = {}

        def node(index: int, line: int, col: int, kind: type) -> Any:
            return next(n for n in ast.walk(body[index]) if isinstance(n, kind) and _pos(n) == (line, col))

        self.star_imports = [node(*at, ast.ImportFrom) for at in facts["stars"]]
        self.dynamic = node(*facts["dynamic"], ast.Call) if facts["dynamic"] else None
        return self

    def uses(self, index: int, decorators: bool = True) -> dict[str, ast.AST]:
        """Module-level names statement `index` needs, in order of first use."""
        key = (index, decorators)
        if key not in self._uses:
            builder = _Builder(self.postponed)
            if decorators:
                builder.visit(self.body[index])
            else:
                builder.define(self.body[index], decorators=False)
            self._uses[key] = _global_uses(builder.root)
        return self._uses[key]

    def closure(self, target: int | None, refuse: Callable[[str], T | None],
                roots: Iterable[tuple[str, Any]] = ()) -> tuple[dict[int, set[str]], list[tuple[str, Any, T]]]:
        """What the target statement (if any) and the `roots` (names another module imports from
        this one, each with where it is imported) need, transitively: {statement index: needed
        names it binds}, and each needed name `refuse` objects to, with its first use and the
        objection. Nothing is cut by it: modules.py checks the imports inside the function bodies
        this reaches (they run when the task calls them)."""
        carried: dict[int, set[str]] = {} if target is None else {target: set()}
        refused: list[tuple[str, Any, T]] = []
        queue = deque(self.uses(target).items() if target is not None else ())  # decorators included
        queue.extend(roots)
        seen: set[str] = set()
        while queue:
            name, use = queue.popleft()
            if name in seen:
                continue
            seen.add(name)
            objection = refuse(name)
            if objection is not None:
                refused.append((name, use, objection))
                continue
            changes = [c.index for c in self.changes.get(name, []) if c.under is None]
            for index in [b.index for b in self.bindings.get(name, [])] + changes:
                if index not in carried:
                    carried[index] = set()
                    queue.extend(self.uses(index).items())
                carried[index].add(name)
        for index in self.future:
            carried.setdefault(index, set())
        return carried, refused

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based line and character column (ast columns count UTF-8 bytes)."""
        line = node.lineno  # type: ignore[attr-defined]
        return line, self._chars(line, node.col_offset) + 1  # type: ignore[attr-defined]

    def _chars(self, line: int, col_bytes: int) -> int:
        return len(self.lines[line - 1].encode()[:col_bytes].decode(errors="replace"))
