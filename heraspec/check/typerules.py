"""The rules of the type check (check/types.py): whether a value, or a type, fits an annotation's type.

    first_bad(value, type, path) -> (path, type, value, reason) | None    the innermost value that does not fit
    assignable(src, dst) -> bool                                         a producer's type given to a parameter
    field_type(type, "a.b") -> (type, why-not | None)                    a named key of a result

They accept what the runtime accepts (python/pod/): an int for a float, "42" or 3.0 for an int,
"yes"/1 for a bool, JSON text for a container or a class, an Enum's value or name, a mapping for a
class it is rebuilt as, a NamedTuple's list. Files (`Path`) are left to check/files.py.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..python.annotations import ANY, Type

__all__ = ["assignable", "field_type", "first_bad", "show_value", "type_name"]

# compiled on first use (re's cache): only a text given to a number parameter is matched
_FLOAT_TEXT = r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*\Z"  # ASCII digits, as the pod reads them
_INT_TEXT = r"\s*[-+]?[0-9]+\s*\Z"
_BOOL_WORDS = {"true", "yes", "y", "on", "1", "false", "no", "n", "off", "0"}


def show_value(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def type_name(v: Any) -> str:
    return "None" if v is None else type(v).__name__


def first_bad(v: Any, want: Type, path: tuple) -> tuple[tuple, Type, Any, str | None] | None:
    kind = want.kind
    ok = _SCALAR_FITS.get(kind)  # the common case first: a plain parameter type
    if ok is not None:
        return None if ok(v) else (path, want, v, None)
    if kind == "any":
        return None
    if kind == "union":
        return None if any(first_bad(v, m, path) is None for m in want.args) else (path, want, v, None)
    if isinstance(v, str) and kind in ("list", "set", "tuple", "dict", "class") and not (
            kind == "class" and want.cls and want.cls.shape == "enum"):
        try:  # JSON text: decoded by the runtime, as a literal and through {param} alike
            decoded = json.loads(v)
        except ValueError:
            return path, want, v, None
        return first_bad(decoded, want, path) if isinstance(decoded, (list, dict)) else (path, want, v, None)
    if kind == "literal":
        return None if any(type(v) is type(x) and v == x for x in want.values) else (
            path, want, v, f"expected one of {', '.join(map(repr, want.values))} ({want.text}), got {show_value(v)}")
    if kind in ("list", "set", "tuple"):
        if not isinstance(v, list):
            return path, want, v, None
        if kind == "tuple" and len(v) != len(want.args):
            return path, want, v, f"expected {want.text} ({len(want.args)} items), got {len(v)} items"
        for i, item in enumerate(v):
            t = want.args[i] if kind == "tuple" else want.args[0]
            bad = first_bad(item, t, path + (i,))
            if bad is not None:
                return bad
        return None
    if kind == "dict":
        if not isinstance(v, dict):
            return path, want, v, None
        for k, item in v.items():
            bad = first_bad(item, want.args[1], path + (k,))
            if bad is not None:
                return bad
        return None
    if kind == "class" and want.cls is not None:
        cls = want.cls
        if cls.shape == "enum":
            if any(m[1] is ... for m in cls.members):
                return None
            if any(type(v) is type(value) and v == value for _, value in cls.members) or (
                    isinstance(v, str) and any(v == n for n, _ in cls.members)):
                return None
            values = ", ".join(repr(value) for _, value in cls.members)
            names = ", ".join(name for name, _ in cls.members)
            return path, want, v, f"expected {want.text} (a value: {values}; or a name: {names}), got {show_value(v)}"
        if cls.shape == "namedtuple" and isinstance(v, list):
            if len(v) != len(cls.fields):
                return path, want, v, f"expected {want.text} ({len(cls.fields)} items), got {len(v)} items"
            for i, (item, f) in enumerate(zip(v, cls.fields)):
                bad = first_bad(item, f.type, path + (i,))
                if bad is not None:
                    return bad
            return None
        if not isinstance(v, dict):
            return path, want, v, None
        for k, item in v.items():
            f = cls.field(k) if isinstance(k, str) else None
            if f is None:
                names = ", ".join(x.name for x in cls.fields) or "none"
                return path + (k,), want, v, f"{want.text} has no field {k!r} (its fields: {names})"
            bad = first_bad(item, f.type, path + (k,))
            if bad is not None:
                return bad
        missing = [f.name for f in cls.fields if f.required and f.name not in v]
        if missing:
            return path, want, v, (f"{want.text} needs field{'s' if len(missing) > 1 else ''} "
                                   + ", ".join(repr(m) for m in missing))
        return None
    return None


def _fits_int(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    if isinstance(v, float):
        return v.is_integer()
    return isinstance(v, str) and bool(re.match(_INT_TEXT, v))


def _fits_float(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, (int, float)) or (isinstance(v, str) and bool(re.match(_FLOAT_TEXT, v)))


def _fits_bool(v: Any) -> bool:
    return isinstance(v, bool) or (type(v) is int and v in (0, 1)) or (
        isinstance(v, str) and v.strip().lower() in _BOOL_WORDS)


_SCALAR_FITS = {
    # a str parameter receives the text of any value (a container as its JSON); a scalar whose text YAML
    # changed is found by check/types.py, which sees the text as written
    "int": _fits_int, "float": _fits_float, "bool": _fits_bool, "str": lambda v: v is not None and not isinstance(v, (bool, int, float)),
    "none": lambda v: v is None, "path": lambda v: True,  # files: check/files.py
}


def field_type(t: Type, key: str) -> tuple[Type, str | None]:
    """The type of dotted field path `key` inside type `t` (Any where unknown), or why it has none."""
    for part in key.split("."):
        if t.kind == "class" and t.cls is not None and t.cls.shape != "enum":
            f = t.cls.field(part)
            if f is None and t.cls.shape == "namedtuple" and part.isdigit() and int(part) < len(t.cls.fields):
                f = t.cls.fields[int(part)]
            if f is None:
                names = ", ".join(x.name for x in t.cls.fields) or "none"
                return ANY, f"which has no field '{part}' (its fields: {names})"
            t = f.type
        elif t.kind == "dict":
            t = t.args[1]
        elif t.kind in ("list", "tuple") and part.isdigit():
            t = t.args[0] if t.kind == "list" else t.args[int(part)] if int(part) < len(t.args) else ANY
        elif t.kind in ("int", "float", "bool", "str", "none") or t.kind == "literal":  # a file: check/files.py
            return ANY, f"which has no key '{part}'"
        else:
            return ANY, None
    return t, None


def assignable(src: Type, dst: Type) -> bool:
    """Whether a value of type `src` fits `dst` (Python's typing, plus what JSON carries: a class as
    its mapping, a NamedTuple as its list, a mapping rebuilt as the class it is given to)."""
    s, d = src.kind, dst.kind
    if s == "any" or d == "any":
        return True
    if s == "union":
        return all(assignable(m, dst) for m in src.args)
    if d == "union":
        return any(assignable(src, m) for m in dst.args)
    if s == "literal":
        return all(first_bad(v, dst, ()) is None for v in src.values)
    if d == "literal":
        return False
    if s == d and s in ("int", "float", "bool", "str", "none", "path"):
        return True
    if d == "str":
        return True  # a str parameter receives a result's own text: a str as is, anything else its JSON
    if s == "int" and d == "float":
        return True  # (a bool is not taken for a number: the pod refuses True for an int, as `true` is here)
    if "path" in (s, d):
        return True  # files are checked by the artifact rules (check/files.py)
    if s in ("list", "set", "tuple") and d in ("list", "set", "tuple"):
        if d == "tuple" and s == "tuple" and len(src.args) != len(dst.args):
            return False
        if d == "tuple":
            return all(assignable(src.args[0] if s != "tuple" else src.args[i], t) for i, t in enumerate(dst.args))
        return all(assignable(t, dst.args[0]) for t in src.args)
    if s == "dict" and d == "dict":
        return assignable(src.args[1], dst.args[1])
    if s == "class" and src.cls is not None:
        cls = src.cls
        if d == "class" and dst.cls is not None:  # the value is rebuilt as dst from its fields: a subclass
            return dst.cls.key in cls.ancestors and all(dst.cls.field(f.name) for f in cls.fields)  # adding none
        if cls.shape == "enum":
            return all(v is ... or first_bad(v, dst, ()) is None for _, v in cls.members)
        if cls.shape == "namedtuple":
            return d in ("list", "tuple")
        return d == "dict"
    if d == "class" and dst.cls is not None:
        cls = dst.cls
        if cls.shape == "enum":
            return any(v is ... or type(v).__name__ == s for _, v in cls.members) or s == "str"
        if cls.shape == "namedtuple":
            return s in ("list", "tuple", "dict")
        return s == "dict"
    return False
