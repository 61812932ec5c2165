"""Argument values as Argo text: literals, and `{from}`/`{param}`/`{item}`/`{workflow}` references as
Argo expressions.

    encode(value) -> str                     a parameter value (strings as they are, else JSON)
    arg_value(value, resolve) -> str         a task argument, references written as expressions
    ref_expr(kind, target, resolve, key)     one reference's expression
    item_literal(value, kind)                a literal loop value as written into withItems
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..check import dag
from ..python import script

DEFAULT_MARKER = "__heraspec_default__"  # input default meaning "let Python apply the signature default"


def encode(value: Any) -> str:
    """Argo parameter values are strings: strings go in as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if type(value) is int:  # the common case, as json.dumps writes it
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


WORKFLOW_VALUES = {"status": "workflow.status", "failures": "workflow.failures", "name": "workflow.name",
                   "duration": "workflow.duration"}


Resolver = Callable[[str, Any, "str | None"], "str | None"]  # (kind, target, key) -> expression, or None


def ref_expr(kind: str, target: Any, resolve: Resolver | None = None, key: str | None = None) -> str:
    """The Argo expression of a reference; `resolve` (the compiler's) spells it in context first."""
    if resolve is not None:
        out = resolve(kind, target, key)
        if out is not None:
            return out
    if kind == "from":
        return "{{tasks.%s.outputs.parameters.result}}" % dag.argo_name(target)
    if kind == "param":
        return "{{workflow.parameters.%s}}" % target
    if kind == "workflow":
        return "{{%s}}" % WORKFLOW_VALUES[target]
    return "{{item}}" if target is True else "{{item.%s}}" % target


def arg_value(value: Any, resolve: Resolver | None = None) -> str:
    """An argument value with {from}/{param}/{item}/{workflow} references turned into Argo expressions;
    `resolve(kind, target, key)` spells them in context (see compiler.Compiler.resolve)."""
    if not isinstance(value, (dict, list)) or (not dag.is_ref(value) and not any(dag.refs_in(value, ()))):
        return encode(value)  # (a scalar holds no reference)
    if dag.is_ref(value):  # the whole value is one reference
        k = "from" if "from" in value else next(iter(value))
        return ref_expr(k, value[k], resolve, value.get("key"))
    # references nested in a list/mapping: JSON with the expressions written in place (no text
    # markers, so no literal can be mistaken for a reference)
    return _json_with_refs(value, resolve)

def _json_with_refs(v: Any, resolve: Resolver | None) -> str:
    if isinstance(v, dict):
        if dag.is_ref(v):
            k = "from" if "from" in v else next(iter(v))
            # a nested result is read as JSON (RESULT_JSON): a str result is its own text, not JSON
            key = v.get("key", "" if k == "from" and resolve is not None else None)
            expr = ref_expr(k, v[k], resolve, key)
            return json.dumps(expr) if k in ("param", "workflow") else expr
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json_with_refs(x, resolve)
                              for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_json_with_refs(x, resolve) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def item_literal(value: Any, kind: str | None) -> Any:
    """A literal loop value as written into withItems: a str the script would read as something
    else (the str "42") is written as its JSON text, which the script decodes back to the str."""
    if isinstance(value, str) and kind != "str" and script.decode(value, kind) != value:
        return json.dumps(value, ensure_ascii=False)
    return value

