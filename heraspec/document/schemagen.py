"""The spec's JSON Schema, generated from the model: `schemas/heraspec.schema.json`, what editors and
`validate` check against.

    json_schema() -> dict      python -m heraspec.document.schemagen > schemas/heraspec.schema.json

What a value may be comes from the model alone: each `nodes.Key`'s type (`Key.of`, in the words of
`shapes.py`), whether it is `required`, and its default; a node class (`nodes.Task`) is a definition (`Task`),
as is a plain-data shape (`shapes.FromRef`). The words for editors (descriptions, hover text, examples,
snippets) come from `schema_docs`, keyed by definition and key; a key with no words, or words for no
key, fails generation. tests/test_schema.py holds the committed file equal to this output.

Every definition forbids other keys (`additionalProperties: false`). A key's schema lists its type's
keywords first, then its words and default, keys sorted (arrays keep their order), `markdownDescription`
(the description when not richer) last; a reference to a definition beside words is wrapped in
`allOf` (Taplo ignores the siblings of a `$ref`). Only this command, the tests and the language server
import this module: `validate` reads the committed file (document/schema.py).
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from typing import Any

from . import nodes
from .schema_docs import DEFINITIONS, KEYS, SNIPPETS
from .shapes import (AnyValue, Bool, Const, Enum, Int, ListOf, MapOf, Null, Num, Obj, OneOf, SchemaType,
                          Str)

# the definition a node class is, where its name is not the class's
_NAMES = {nodes.Spec: "$root", nodes.Defaults: "TaskDefaults", nodes.ExitHandler: "ExitTask"}
# keywords of a mapping's keys, listed among the key's words (where editors look for them)
_BESIDE_WORDS = ("minProperties", "propertyNames")


class Declared:
    """One key of a definition as the model declares it."""

    __slots__ = ("type", "required", "default")

    def __init__(self, type_: Any, required: bool = False, default: Any = None):
        self.type, self.required, self.default = type_, required, default


def definition_name(shape: Any) -> str:
    """The schema definition of a node class or an `Obj` ("$root" for the spec itself)."""
    return shape.name if isinstance(shape, Obj) else _NAMES.get(shape, shape.__name__)


def declared_keys(shape: Any) -> dict[str, Declared]:
    """The keys a node class (every `Key` along its bases and the dataclass fields naming one) or an
    `Obj` declares, each with its type, whether it is required and the default the schema shows."""
    if isinstance(shape, Obj):
        return {k: Declared(t, k in shape.required) for k, t in shape.keys.items()}
    inherited = _defaults_keys() if shape is nodes.Task else set()
    out = {}
    for cls in reversed(shape.__mro__):
        for value in vars(cls).values():
            if isinstance(value, nodes.Key):
                out[value.key] = Declared(value.of, value.required,
                                          None if value.key in inherited else _shown_default(value.default))
    for f in fields(shape):
        if "key" in f.metadata:
            out[f.metadata["key"]] = Declared(f.metadata.get("of", f.metadata.get("node")))
    return out


def _defaults_keys() -> set[str]:
    # a task's key `defaults` may set has no default of its own in the schema: `defaults` gives it first
    return set(declared_keys(nodes.Defaults))


def _shown_default(value: Any) -> Any:
    """A default worth showing in an editor: a plain scalar (not the model's empty mappings and tuples)."""
    return value if isinstance(value, (str, bool, int, float)) else None


def definitions() -> dict[str, Any]:
    """Every definition the spec reaches, by name: node classes and `Obj` shapes."""
    found: dict[str, Any] = {}

    def visit(t: Any) -> None:
        if isinstance(t, OneOf):
            for branch in t.types:
                visit(branch)
        elif isinstance(t, ListOf):
            visit(t.item)
        elif isinstance(t, MapOf):
            visit(t.value)
        elif isinstance(t, Obj) or is_dataclass(t):
            name = definition_name(t)
            if name not in found:
                found[name] = t
                for declared in declared_keys(t).values():
                    visit(declared.type)
        elif not isinstance(t, SchemaType):
            raise TypeError(f"not a schema type: {t!r}")

    visit(nodes.Spec)
    return found


def type_schema(t: Any) -> dict:
    """The JSON Schema of a declared type, keys sorted."""
    if isinstance(t, Str):
        out = {"pattern": t.pattern, "minLength": t.min_length, "maxLength": t.max_length, "type": "string"}
    elif isinstance(t, Int):
        out = {"minimum": t.ge, "maximum": t.le, "type": "integer"}
    elif isinstance(t, Num):
        out = {"exclusiveMinimum": t.gt, "type": "number"}
    elif isinstance(t, Bool):
        out = {"type": "boolean"}
    elif isinstance(t, Null):
        out = {"type": "null"}
    elif isinstance(t, Const):
        out = {"const": t.value, "type": {bool: "boolean", str: "string", int: "integer"}[type(t.value)]}
    elif isinstance(t, Enum):
        out = {"enum": list(t.values), "type": "string"}
    elif isinstance(t, ListOf):
        out = {"items": type_schema(t.item), "type": "array"}
    elif isinstance(t, MapOf):
        value = True if isinstance(t.value, AnyValue) else type_schema(t.value)
        out = {"additionalProperties": value, "type": "object", "minProperties": t.min_size,
               "propertyNames": type_schema(t.names) if t.names is not None else None}
        if t.names is not None:
            del out["propertyNames"]["type"]
    elif isinstance(t, OneOf):
        out = {"anyOf": [type_schema(b) for b in _branches(t)]}
    elif isinstance(t, AnyValue):
        out = {}
    else:
        out = {"$ref": f"#/definitions/{definition_name(t)}"}
    return _sorted({k: v for k, v in out.items() if v is not None})


def _branches(t: OneOf) -> list:
    return [b for branch in t.types for b in (_branches(branch) if isinstance(branch, OneOf) else [branch])]


def _sorted(node: Any) -> Any:
    if isinstance(node, list):
        return [_sorted(n) for n in node]
    if isinstance(node, dict):
        return {k: _sorted(node[k]) for k in sorted(node)}
    return node


def _property(where: str, key: str, declared: Declared, words: dict) -> dict:
    schema = type_schema(declared.type)
    beside = {k: schema.pop(k) for k in _BESIDE_WORDS if k in schema}
    rest = {**words, **beside}
    if declared.default is not None:
        rest["default"] = declared.default
    if declared.required or "default" in rest or "anyOf" in schema:
        out = _sorted({**schema, **rest})
    else:
        out = {**schema, **_sorted(rest)}
    if "$ref" in out and len(out) > 1:
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    if "description" not in out:
        raise ValueError(f"{where}.{key}: no description in schema_docs.KEYS")
    out.setdefault("markdownDescription", out["description"])
    return out


def _definition(name: str, shape: Any) -> dict:
    declared = declared_keys(shape)
    words = KEYS.get(name, {})
    if set(words) != set(declared):
        raise ValueError(f"{name}: keys without words {sorted(set(declared) - set(words))}, "
                         f"words without a key {sorted(set(words) - set(declared))} (schema_docs.KEYS)")
    out: dict = {"additionalProperties": False, "description": DEFINITIONS[name],
                 "properties": {k: _property(name, k, declared[k], words[k]) for k in words}}
    required = [k for k in words if declared[k].required]
    if required:
        out["required"] = required
    out["type"] = "object"
    out["markdownDescription"] = out["description"]
    if name in SNIPPETS:
        out["defaultSnippets"] = SNIPPETS[name]
    return out


def json_schema() -> dict:
    """The JSON Schema (draft-07) of a spec, for editors and the validator."""
    found = definitions()
    out: dict = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://heraspec.dev/schemas/heraspec.schema.json",
        "title": "heraspec spec",
    }
    root = _definition("$root", found.pop("$root"))
    snippets = root.pop("defaultSnippets", None)
    out.update(root)
    out["definitions"] = {name: _definition(name, found[name]) for name in sorted(found)}
    if snippets is not None:
        out["defaultSnippets"] = snippets
    return out


def generated_text() -> str:
    """The committed file's text."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(generated_text(), end="")
