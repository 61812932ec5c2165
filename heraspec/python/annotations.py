"""What a function's annotations say about the values it takes and returns, read from its source
with `ast` (never imported), as small type trees the static type check (check/types.py) compares.

    signature_types(fn, search_path) -> Signature    each parameter's Type and the return Type
    Type.text                                          the annotation as the user wrote it (`list[int]`)

A `Type` is one of these `kind`s: "any" (unannotated, `Any`, `object`, or what cannot be read: never
a false alarm), "none", "int", "float", "bool", "str", "path", "list" / "set" / "tuple" (args: the
item types; a variadic tuple is a list), "dict" (args: key and value types), "union", "literal"
(`values`), "class" (`cls`: a dataclass, Pydantic model, TypedDict, NamedTuple or Enum; a class of
another shape is "any"). Names resolve as Python would at import: a class defined in the module or
imported from a first-party module (absolutely or relatively, through re-exports), found on the
search path; `typing` names by their usual spelling.
"""

from __future__ import annotations

import ast
from . import functions
from .sourcefile import Problem, load_module
from .closure import alias_binding, import_base

__all__ = ["ClassInfo", "Field", "Signature", "Type", "ANY", "signature_types", "show"]


class Type:
    """One annotation, as a tree (plain classes, not dataclasses: `validate` imports this module)."""

    __slots__ = ("kind", "text", "args", "values", "cls")

    def __init__(self, kind: str, text: str = "", args: tuple[Type, ...] = (), values: tuple = (),
                 cls: ClassInfo | None = None) -> None:
        self.kind, self.text, self.args, self.values, self.cls = kind, text, args, values, cls

    def __repr__(self) -> str:
        return f"Type({self.kind!r}, {self.text!r})"


class Field:
    __slots__ = ("name", "type", "required")

    def __init__(self, name: str, type: Type, required: bool) -> None:
        self.name, self.type, self.required = name, type, required


class ClassInfo:
    """A class a value is rebuilt as: its shape ("dataclass" | "pydantic" | "typeddict" | "namedtuple" |
    "enum"), its fields, an Enum's (name, value) members (value is ... when not a literal), and the
    "module.Name" of itself and the user classes it derives from."""

    __slots__ = ("name", "module", "shape", "fields", "members", "ancestors")

    def __init__(self, name: str, module: str, shape: str, fields: tuple[Field, ...] = (),
                 members: tuple[tuple[str, object], ...] = (), ancestors: tuple[str, ...] = ()) -> None:
        self.name, self.module, self.shape, self.fields = name, module, shape, fields
        self.members, self.ancestors = members, ancestors

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


class Signature:
    """Each parameter's Type (Any when unannotated), the return Type (None: not annotated), and each
    parameter as written (`n: int`)."""

    __slots__ = ("params", "returns", "text")

    def __init__(self, params: dict[str, Type] | None = None, returns: Type | None = None,
                 text: dict[str, str] | None = None) -> None:
        self.params, self.returns, self.text = params or {}, returns, text or {}


ANY = Type("any", "Any")
_SCALARS = {"int": "int", "float": "float", "bool": "bool", "str": "str", "None": "none", "NoneType": "none"}
_LISTS = {"list": "list", "List": "list", "Sequence": "list", "MutableSequence": "list", "Iterable": "list",
          "Collection": "list", "set": "set", "Set": "set", "frozenset": "set", "FrozenSet": "set",
          "AbstractSet": "set", "MutableSet": "set", "tuple": "tuple", "Tuple": "tuple"}
_DICTS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict", "DefaultDict", "Counter"}
_PATHS = {"Path", "PurePath", "PosixPath", "PurePosixPath"}
_ENUMS = {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"}
_DEPTH = 12  # how far names are followed through imports and nesting

_CACHE: dict[tuple, Signature] = {}


def show(node: ast.expr | None) -> str:
    return "" if node is None else ast.unparse(node)


def signature_types(fn: functions.Function, search_path: list[str] | tuple[str, ...]) -> Signature:
    """The types of `fn`'s parameters and return (cached per function and search path)."""
    key = (fn, tuple(search_path))
    hit = _CACHE.get(key)
    if hit is None:
        hit = _CACHE[key] = _Reader(tuple(search_path)).signature(fn)
    return hit


class _Reader:
    def __init__(self, dirs: tuple[str, ...]) -> None:
        self.dirs = dirs
        self.classes: dict[tuple[str, str], ClassInfo | None] = {}

    def info(self, path: str):
        """The module as read for carrying (cached there), or None when it cannot be read or parsed."""
        info = load_module(path)
        return None if isinstance(info, Problem) else info

    def stmt(self, path: str, name: str, want: str | None = None) -> tuple[ast.stmt | None, str]:
        """The unconditional top-level statement binding `name` (of kind `want` if given)."""
        info = self.info(path)
        if info is None:
            return None, path
        bindings = [b for b in info.bindings.get(name, []) if not b.under]
        if len(bindings) != 1 or (want is not None and bindings[0].kind != want):
            return None, path
        return bindings[0].stmt, path

    def signature(self, fn: functions.Function) -> Signature:
        node, _ = self.stmt(fn.file, fn.name, "def")
        if not isinstance(node, ast.FunctionDef):
            return Signature()
        args = [*node.args.args, *node.args.kwonlyargs]
        scope = (fn.file, fn.module)
        params = {a.arg: self.type(a.annotation, scope) if a.annotation is not None else ANY for a in args}
        text = {a.arg: f"{a.arg}: {show(a.annotation)}" if a.annotation is not None else a.arg for a in args}
        returns = self.type(node.returns, scope) if node.returns is not None else None
        return Signature(params, returns, text)

    # --- annotations to types ---------------------------------------------------------------------

    def type(self, node: ast.expr | None, scope: tuple[str, str], depth: int = 0) -> Type:
        if node is None or depth > _DEPTH:
            return ANY
        text = show(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "Box": a forward reference
            try:
                node = ast.parse(node.value, mode="eval").body
            except (SyntaxError, ValueError):
                return ANY
            text = show(node)
        if isinstance(node, ast.Constant) and node.value is None:
            return Type("none", "None")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return _union([self.type(node.left, scope, depth + 1), self.type(node.right, scope, depth + 1)], text)
        if isinstance(node, ast.Subscript):
            return self.generic(node, scope, depth, text)
        name = _name(node)
        if name in _SCALARS:
            return Type(_SCALARS[name], text)
        if name in _PATHS:
            return Type("path", text)
        if name in _LISTS:
            return Type("list" if _LISTS[name] == "tuple" else _LISTS[name], text, (ANY,))
        if name in _DICTS:
            return Type("dict", text, (ANY, ANY))
        if name in ("Any", "object") or name is None:
            return ANY
        cls = self.cls(node, scope, depth)
        return Type("class", text, cls=cls) if cls is not None else Type("any", text)

    def generic(self, node: ast.Subscript, scope: tuple[str, str], depth: int, text: str) -> Type:
        name = _name(node.value)
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        sub = [self.type(i, scope, depth + 1) for i in items] if name != "Literal" else []
        if name in ("Optional",):
            return _union([sub[0], Type("none", "None")], text)
        if name == "Union":
            return _union(sub, text)
        if name in ("Annotated", "Required", "NotRequired", "ReadOnly", "Final"):
            return sub[0]
        if name == "Literal":
            values = []
            for i in items:
                try:
                    values.append(ast.literal_eval(i))
                except (ValueError, SyntaxError):
                    return ANY
            return Type("literal", text, values=tuple(values))
        if name in _LISTS:
            kind = _LISTS[name]
            if kind == "tuple":
                if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
                    return Type("list", text, (sub[0],))
                return Type("tuple", text, tuple(sub))
            return Type(kind, text, (sub[0],))
        if name in _DICTS:
            if name == "Counter":
                return Type("dict", text, (sub[0], Type("int", "int")))
            return Type("dict", text, (sub[0], sub[1] if len(sub) > 1 else ANY))
        if name == "type":
            return ANY
        return self.type(node.value, scope, depth + 1) if name not in _SCALARS else ANY

    # --- classes ----------------------------------------------------------------------------------

    def cls(self, node: ast.expr, scope: tuple[str, str], depth: int) -> ClassInfo | None:
        """The user class `node` names in module `scope` (file, dotted name), followed through imports."""
        path, module = scope
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):  # models.Box after `import models`
            stmt, _ = self.stmt(path, node.value.id)
            if isinstance(stmt, ast.Import):
                for a in stmt.names:
                    if alias_binding(a) == node.value.id and a.asname:
                        return self.class_in(a.name, node.attr, depth + 1)
                return self.class_in(node.value.id, node.attr, depth + 1) if any(
                    a.name == node.value.id for a in stmt.names) else None
            return None
        if not isinstance(node, ast.Name):
            return None
        return self.named(path, module, node.id, depth)

    def named(self, path: str, module: str, name: str, depth: int) -> ClassInfo | None:
        key = (path, name)
        if key in self.classes:
            return self.classes[key]
        self.classes[key] = None  # a cycle of re-exports ends here
        found = None
        stmt, _ = self.stmt(path, name)
        if isinstance(stmt, ast.ClassDef):
            found = self.class_def(stmt, path, module, depth)
        elif isinstance(stmt, ast.ImportFrom) and depth < _DEPTH:
            alias = next((a for a in stmt.names if alias_binding(a) == name), None)
            target = _absolute(stmt, module, path)
            if alias is not None and target is not None:
                found = self.class_in(target, alias.name, depth + 1)
        self.classes[key] = found
        return found

    def class_in(self, module: str, name: str, depth: int) -> ClassInfo | None:
        path = functions.find_module(module, self.dirs)
        if path is None or depth > _DEPTH:
            return None
        if "site-packages" in path or "dist-packages" in path:
            return None  # an installed package: its classes are not read
        return self.named(path, module, name, depth)

    def class_def(self, node: ast.ClassDef, path: str, module: str, depth: int) -> ClassInfo | None:
        scope = (path, module)
        shape, inherited, ancestors = None, [], []
        for base in node.bases:
            bname = _name(base)
            if bname == "BaseModel":
                shape = "pydantic"
            elif bname == "TypedDict":
                shape = "typeddict"
            elif bname == "NamedTuple":
                shape = "namedtuple"
            elif bname in _ENUMS:
                shape = "enum"
            else:
                parent = self.cls(base, scope, depth + 1)
                if parent is not None:
                    shape = shape or parent.shape
                    inherited.extend(parent.fields)
                    ancestors.extend(parent.ancestors)
        if any(_name(d.func if isinstance(d, ast.Call) else d) == "dataclass" for d in node.decorator_list):
            shape = "dataclass"
        if shape is None:
            return None
        total = not any(k.arg == "total" and isinstance(k.value, ast.Constant) and k.value.value is False
                        for k in node.keywords)
        fields = {f.name: f for f in inherited}
        members: list[tuple[str, object]] = []
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and shape != "enum":
                if _name(stmt.annotation.value if isinstance(stmt.annotation, ast.Subscript) else stmt.annotation) == "ClassVar":
                    continue
                required = _required(stmt, shape, total)
                fields[stmt.target.id] = Field(stmt.target.id, self.type(stmt.annotation, scope, depth + 1), required)
            elif isinstance(stmt, ast.Assign) and shape == "enum":
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and not target.id.startswith("_"):
                        try:
                            value = ast.literal_eval(stmt.value)
                        except (ValueError, SyntaxError):
                            value = ...
                        members.append((target.id, value))
        return ClassInfo(node.name, module, shape, tuple(fields.values()), tuple(members),
                         (f"{module}.{node.name}", *ancestors))


def _required(stmt: ast.AnnAssign, shape: str, total: bool) -> bool:
    ann = stmt.annotation
    wrapper = _name(ann.value) if isinstance(ann, ast.Subscript) else None
    if shape == "typeddict":
        return wrapper == "Required" or (total and wrapper != "NotRequired")
    if stmt.value is None:
        return True
    call = stmt.value
    if isinstance(call, ast.Call) and _name(call.func) in ("Field", "field"):  # pydantic Field / dataclasses.field
        if any(k.arg in ("default", "default_factory") for k in call.keywords):
            return False
        first = call.args[0] if call.args else None
        return first is None and _name(call.func) == "Field" or (
            isinstance(first, ast.Constant) and first.value is Ellipsis)
    return False


def _name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _absolute(stmt: ast.ImportFrom, module: str, path: str) -> str | None:
    """The module `from ... import` names, made absolute from the importing module's name."""
    if stmt.level == 0:
        return stmt.module
    base = import_base(module, path.endswith("__init__.py"), stmt.level)
    if base is None:
        return None
    return ".".join(filter(None, (base, stmt.module))) or None


def _union(members: list[Type], text: str) -> Type:
    flat: list[Type] = []
    for m in members:
        flat.extend(m.args if m.kind == "union" else (m,))
    if any(m.kind == "any" for m in flat):
        return Type("any", text)
    return Type("union", text, tuple(flat))
