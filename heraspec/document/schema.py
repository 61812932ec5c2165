"""Check a loaded spec against the packaged JSON Schema, with located, specific messages.

Valid specs are the common case, so a small checker compiled from the schema answers "valid?"
without importing `jsonschema` (~130 ms). Only when it says no does `jsonschema` run, to collect
every error; each is turned into a message at the offending key or value. The fast checker knows a
fixed set of keywords and refuses to build for anything else, so it can never be looser than
`jsonschema`: at worst it falls back.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Any, Callable

from ..errors import Errors, close_matches
from .load import Document

_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # (os.path: validate never loads pathlib)
SCHEMA_FILES = (os.path.join(_PACKAGE, "heraspec.schema.json"),
                os.path.join(os.path.dirname(_PACKAGE), "schemas", "heraspec.schema.json"))


def schema_text() -> str:
    for f in SCHEMA_FILES:
        if os.path.isfile(f):
            with open(f, encoding="utf-8") as text:
                return text.read()
    raise FileNotFoundError("heraspec.schema.json is missing from the installation")


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(schema_text())


@lru_cache(maxsize=1)
def _task_keys() -> frozenset[str]:
    return frozenset(load_schema()["definitions"]["Task"]["properties"])


def misspelt_body(task: dict) -> bool:
    """A misspelt 'function' or 'command' (`fucntion:`): the schema check reports the key with a "did
    you mean"; whether the task is a function or a container task is then unknown, so the checks
    that depend on it stay silent rather than report what follows from the typo."""
    known = _task_keys()
    return any(isinstance(k, str) and k not in known and close_matches(k, ["function", "command"], n=1)
               for k in task)


def check_schema(doc: Document, errors: Errors) -> bool:
    """Add an error per schema violation; True when the document conforms."""
    if _fast_checker()(doc.data):
        return True
    from jsonschema import Draft7Validator

    schema = load_schema()
    found = False
    for err in Draft7Validator(schema).iter_errors(doc.data):
        for path, message, hint, at_key in _describe(err, schema):
            doc.error(errors, path, message, hint, key=at_key)
            found = True
    return not found


# --- messages ---------------------------------------------------------------------------------

_TYPES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
          "number": "a number", "boolean": "true or false", "null": "empty"}


def _typename(v: Any) -> str:
    if isinstance(v, bool):
        return "true/false"
    if v is None:
        return "empty (null)"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}.get(type(v), type(v).__name__)


def where(path: tuple) -> str:
    """How a message names the place: "task 'A' resources.cpu", "the spec", "edges.0"."""
    if len(path) >= 2 and path[0] == "tasks":
        rest = ".".join(str(p) for p in path[2:])
        return f"task '{path[1]}'" + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in path) or "the spec"


def _describe(err: Any, schema: dict):
    """Yield (path, message, hint, at_key) for one jsonschema error."""
    path = tuple(err.absolute_path)
    v, kw = err.validator, err.validator_value
    if kw is None:
        kw = {}
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        for key in sorted(set(err.instance) - set(allowed), key=str):
            close = close_matches(str(key), allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else ("allowed keys: " + ", ".join(allowed) if allowed else None)
            yield path + (key,), f"unknown key '{key}' in {where(path)}", hint, True
        return
    if v == "required":
        for key in kw:
            if key not in err.instance:
                yield path, f"{where(path)} is missing '{key}'", None, bool(path)
        return
    if v == "propertyNames" or "propertyNames" in err.relative_schema_path:
        # jsonschema reports a bad key as a pattern/maxLength error at the mapping: point at the key
        name = err.instance if not isinstance(err.instance, dict) else None
        yield path + ((name,) if name is not None else ()), f"invalid task name '{name}'", \
            "use letters, digits, '-' and '_', starting with a letter or digit (at most 128)", True
        return
    if v in ("anyOf", "oneOf") and isinstance(err.instance, str) and path[-1:] == ("memory",):
        # `memory: false|null` are the other branches: a string is judged by the string branch alone
        for sub in err.context or ():
            if sub.schema.get("type") == "string" and sub.validator != "type":
                yield from _describe(sub, schema)
                return
    deeper = [sub for sub in (err.context or ()) if len(sub.absolute_path) > len(path)]
    if v in ("anyOf", "oneOf") and deeper and isinstance(err.instance, dict):
        # one branch took the mapping's shape and failed inside it (`retry: {backoff: {factor: 1.5}}`):
        # that inner problem is the one to report
        for sub in deeper:
            yield from _describe(sub, schema)
        return
    if v in ("anyOf", "oneOf"):
        yield path, f"{where(path)} {_any_of_message(err, schema)}", _any_of_hint(err), False
        return
    if v == "type":
        want = kw if isinstance(kw, list) else [kw]
        yield path, f"{where(path)} must be {' or '.join(_TYPES.get(t, t) for t in want)}, not {_typename(err.instance)}", None, False
        return
    if v == "enum":
        close = close_matches(str(err.instance), [str(e) for e in kw], n=1)
        yield path, f"{where(path)} must be one of {', '.join(map(str, kw))}; got '{err.instance}'", \
            (f"did you mean '{close[0]}'?" if close else None), False
        return
    if v == "pattern" and path[-1:] == ("function",):
        return  # functions.resolve says more precisely what is wrong with a reference (see semantic.py)
    if v == "pattern":
        yield path, f"{where(path)}: {_pattern_message(path, err.instance)}", _pattern_hint(path), False
        return
    if v in ("minimum", "exclusiveMinimum"):
        bound = "at least" if v == "minimum" else "more than"
        yield path, f"{where(path)} must be {bound} {kw}; got {err.instance}", None, False
        return
    if v == "minProperties":
        yield path, f"{where(path)} must not be empty", None, False
        return
    yield path, f"{where(path)}: {err.message}", None, False


def _any_of_message(err: Any, schema: dict) -> str:
    field = err.absolute_path[-1] if err.absolute_path else ""
    shapes = {
        "retry": "must be a number of retries or a mapping {limit, backoff, policy}",
        "timeout": "must be a duration such as 30s, 10m or 1h30m",
        "foreach": "must be a list of items, {from: TASK} or {param: NAME}",
        "args": "must be a mapping of arguments or a list",
        "schedule": "must be a cron string or a list of them",
        "limits": "must be true/false or a mapping {cpu, memory}",
        "cpu": "must be a number of cores (2, 0.5) or millicores (500m)",
        **{k: "must be a duration such as 90s, 10m, 2h or 1d" for k in _SPANS},
    }
    if field in shapes:
        return shapes[field]
    if len(err.absolute_path) >= 2 and err.absolute_path[-2] == "env":
        return "must be a plain value, {secret: NAME, key: KEY} or {config_map: NAME, key: KEY}"
    from jsonschema.exceptions import best_match

    best = best_match(err.context) if err.context else None
    return best.message if best is not None else err.message


# the production keys' durations (patterns.SPAN: Go's units and `d`)
_SPANS = ("deadline", "max_age", "after_completion", "after_success", "after_failure")


def _any_of_hint(err: Any) -> str | None:
    field = err.absolute_path[-1] if err.absolute_path else ""
    if field in _SPANS and isinstance(err.instance, str):
        return "units: s, m, h, d (e.g. 90s, 1h30m, 1d), or a number of seconds"
    if field == "timeout" and isinstance(err.instance, str):
        return "units: ms, s, m, h, d (e.g. 90s, 1h30m, 1d)"
    return None


def _pattern_message(path: tuple, value: Any) -> str:
    field = path[-1] if path else ""
    if field == "cpu":
        return f"'{value}' is not a CPU quantity"
    if field in ("memory", "size", "ephemeral_storage"):
        return f"'{value}' is not a Kubernetes quantity"
    if field in ("timeout", "duration", "max_duration"):
        return f"'{value}' is not a duration"
    return f"'{value}' has the wrong form"


def _pattern_hint(path: tuple) -> str | None:
    field = path[-1] if path else ""
    return {
        "cpu": "use a number of cores (2, 0.5) or millicores (500m)",
        "memory": "use a number with a unit: 512Mi, 4Gi, 1G",
        "size": "use a number with a unit: 10Gi, 500Mi",
        "ephemeral_storage": "use a number with a unit: 10Gi",
        "timeout": "units: ms, s, m, h, d (e.g. 90s, 1h30m, 1d)",
    }.get(field)


# --- the fast checker -------------------------------------------------------------------------

Check = Callable[[Any], bool]
_ANNOTATIONS = {"description", "markdownDescription", "examples", "default", "title", "defaultSnippets",
                "$schema", "$id", "definitions"}


class _Unsupported(Exception):
    pass


def fast_checker(root: dict, ref: str) -> Check | None:
    """The quick valid/invalid test of the definition `ref` of another schema (`#/definitions/X`),
    or None when it uses a keyword this checker does not know."""
    try:
        return _Compiler(root).ref(ref)
    except _Unsupported:
        return None


@lru_cache(maxsize=1)
def _fast_checker() -> Check:
    schema = load_schema()
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return lambda _v: False  # always ask jsonschema


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _always(v: Any) -> bool:
    """The check of a schema every value satisfies (`{}`, `true`, `anyOf` with such a branch):
    the compiler leaves it out wherever it is combined (each test of a 5,000-task spec counts)."""
    return True


def _never(v: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    """Every check holds (the ones that always do left out)."""
    checks = [c for c in checks if c is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def every(v: Any) -> bool:
        for c in checks:
            if not c(v):
                return False
        return True

    return every


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if ref not in self.refs:
            holder: list[Check] = []
            self.refs[ref] = lambda v: holder[0](v)  # allows recursion
            target = self.root
            for part in ref.lstrip("#/").split("/"):
                target = target[part]
            holder.append(self.compile(target))
            self.refs[ref] = holder[0]  # later uses call it directly; a recursive one kept the lambda
        return self.refs[ref]

    def compile(self, s: Any) -> Check:
        if s is True or s == {}:
            return _always
        if s is False:
            return _never
        checks: list[Check] = []
        kind = s.get("type")
        if kind == "object" and ("properties" in s or "additionalProperties" in s):
            checks.append(self.mapping(s))  # type, properties and additionalProperties in one pass
            done: tuple[str, ...] = ("type", "properties", "additionalProperties")
        elif kind == "array" and "items" in s:
            checks.append(self.array(s))
            done = ("type", "items")
        elif kind in ("string", None) and ("pattern" in s or "maxLength" in s or "minLength" in s):
            checks.append(self.text(s, typed=kind is not None))
            done = ("type", "pattern", "minLength", "maxLength")
        else:
            done = ()
        for key, val in s.items():
            if key in _ANNOTATIONS or key in done:
                continue
            checks.append(self.keyword(key, val, s))
        return _all(checks)

    def mapping(self, s: dict) -> Check:
        """`type: object` with `properties` and/or `additionalProperties`, checked in one loop over
        the instance's keys (a task sets 3 of its ~30 properties, and this runs for every task)."""
        known = s.get("properties", {})
        props = {k: c for k, c in ((k, self.compile(sub)) for k, sub in known.items()) if c is not _always}
        extra = self.compile(s.get("additionalProperties", True))
        if extra is _always and not props:
            return _TYPE_TESTS["object"]
        if extra is _always:
            def mapping(v: Any) -> bool:
                if not isinstance(v, dict):
                    return False
                for k, x in v.items():
                    c = props.get(k)
                    if c is not None and not c(x):
                        return False
                return True

            return mapping

        def closed_mapping(v: Any) -> bool:
            if not isinstance(v, dict):
                return False
            for k, x in v.items():
                c = props.get(k)
                if c is not None:
                    if not c(x):
                        return False
                elif k not in known and not extra(x):
                    return False
            return True

        return closed_mapping

    def array(self, s: dict) -> Check:
        """`type: array` with `items`, in one function."""
        item = self.compile(s["items"])
        if item is _always:
            return _TYPE_TESTS["array"]

        def array(v: Any) -> bool:
            if not isinstance(v, list):
                return False
            for x in v:
                if not item(x):
                    return False
            return True

        return array

    def text(self, s: dict, typed: bool) -> Check:
        """A string's `pattern`, `minLength` and `maxLength` (and `type: string` when `typed`) in one
        function; without `type`, a value of another type passes them."""
        pattern = s.get("pattern")
        shortest, longest = s.get("minLength", 0), s.get("maxLength")
        rx: list[re.Pattern] = []  # compiled on first use: most of the schema's patterns a spec never reaches

        def text(v: Any) -> bool:
            if not isinstance(v, str):
                return not typed
            if len(v) < shortest or (longest is not None and len(v) > longest):
                return False
            if pattern is None:
                return True
            if not rx:
                rx.append(re.compile(pattern))
            return rx[0].search(v) is not None

        return text

    def keyword(self, key: str, val: Any, s: dict) -> Check:
        if key == "$ref":
            return self.ref(val)
        if key == "type":
            tests = [_TYPE_TESTS[t] for t in (val if isinstance(val, list) else [val])]
            if len(tests) == 1:
                return tests[0]
            return lambda v: any(t(v) for t in tests)
        # Loops over the instance's keys, not the schema's: a task sets 3 of its ~20 properties,
        # and this runs for every task of a 20,000-task spec.
        if key == "properties":
            props = {k: c for k, c in ((k, self.compile(sub)) for k, sub in val.items()) if c is not _always}
            if not props:
                return _always

            def properties(v: Any) -> bool:
                if isinstance(v, dict):
                    for k, x in v.items():
                        c = props.get(k)
                        if c is not None and not c(x):
                            return False
                return True

            return properties
        if key == "additionalProperties":
            known = set(s.get("properties", {}))
            extra = self.compile(val)
            if extra is _always:
                return _always

            def additional(v: Any) -> bool:
                if isinstance(v, dict):
                    for k, x in v.items():
                        if k not in known and not extra(x):
                            return False
                return True

            return additional
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(k in v for k in val)
        if key == "propertyNames":
            name = self.compile(val)
            if name is _always:
                return _always

            def names(v: Any) -> bool:
                if isinstance(v, dict):
                    for k in v:
                        if not name(k):
                            return False
                return True

            return names
        if key in ("minProperties", "minItems", "minLength", "maxLength", "maxItems"):
            types = {"minProperties": dict, "minItems": list, "maxItems": list, "minLength": str, "maxLength": str}[key]
            if key.startswith("min"):
                return lambda v: not isinstance(v, types) or len(v) >= val
            return lambda v: not isinstance(v, types) or len(v) <= val
        if key == "items":
            item = self.compile(val)
            if item is _always:
                return _always

            def items(v: Any) -> bool:
                if isinstance(v, list):
                    for x in v:
                        if not item(x):
                            return False
                return True

            return items
        if key == "enum":
            return lambda v: any(v == e and type(v) is type(e) for e in val)
        if key == "const":
            return lambda v: v == val and type(v) is type(val)
        if key == "pattern":
            rx = re.compile(val)
            return lambda v: not isinstance(v, str) or rx.search(v) is not None
        if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            op = {"minimum": float.__ge__, "maximum": float.__le__,
                  "exclusiveMinimum": float.__gt__, "exclusiveMaximum": float.__lt__}[key]
            return lambda v: not _TYPE_TESTS["number"](v) or op(float(v), float(val))
        if key in ("anyOf", "oneOf", "allOf"):
            subs = [self.compile(x) for x in val]
            if key == "allOf":
                return _all(subs)
            if key == "anyOf":
                if _always in subs:
                    return _always
                if len(subs) == 1:
                    return subs[0]

                def any_of(v: Any) -> bool:
                    for c in subs:
                        if c(v):
                            return True
                    return False

                return any_of
            return lambda v: sum(1 for c in subs if c(v)) == 1
        raise _Unsupported(key)
