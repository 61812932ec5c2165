"""``{{...}}`` substitution and the values Argo puts in scope, for ``heraspec run``.

``substitute(value, scope)`` replaces tags (spaces inside the braces are ignored) in every string
of a JSON-like value. Tags starting with ``inputs.``, ``outputs.``, ``steps.``, ``tasks.``,
``workflow.``, ``pod.``, ``item`` must resolve (Argo refuses them otherwise); other tags are left
as they are. Expression tags ``{{=...}}`` (expr-lang) are not evaluated locally: ``expression_tags``
finds them so that the run refuses them before anything starts (runner.py), and ``substitute``
still refuses one it meets.

The languages themselves live in heraspec.argo_lang (``depends``, govaluate ``when``, Go's JSON,
durations); the names below are that package's, kept here for the runner's modules.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ..argo_lang import LanguageError
from ..argo_lang import depends as _depends
from ..argo_lang.depends import RESULTS, DependsNode
from ..argo_lang.durations import parse_duration
from ..argo_lang.gofmt import sprintf_int
from ..argo_lang.gojson import RawNumber, marshal as go_marshal, parse_raw
from ..argo_lang.govaluate import should_execute as eval_when
from ..python.script import argo_unsafe

__all__ = [
    "ExprError", "parse_duration", "parse_depends", "depends_names", "eval_depends", "eval_when",
    "substitute", "go_json", "go_marshal", "item_str", "item_field_str", "item_node_desc", "parse_raw", "RawNumber",
    "aggregated_json_value_list", "aggregated_results", "DependsNode", "sequence_items", "expression_tags",
]

ExprError = LanguageError  # every language's error (DependsError, WhenError, DurationError) is one
depends_names = _depends.names
eval_depends = _depends.evaluate


def parse_depends(text: str) -> DependsNode:
    """depends.parse, also refusing a result Argo does not know (its expression would not compile)."""
    tree = _depends.parse_tree(text.strip())
    for name, result, _off in _depends.references(text):
        if result is not None and result not in RESULTS:
            raise _depends.DependsError(f"depends {text!r}: unknown result '{name}.{result}' "
                                        f"(one of {', '.join(RESULTS)})", 0)
    return tree


# --- {{...}} substitution and Go-compatible JSON ------------------------------------------------

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_STRICT = ("inputs.", "outputs.", "steps.", "tasks.", "workflow.", "pod.", "item.")


def _strict(tag: str) -> bool:
    return tag == "item" or tag.startswith(_STRICT)


def substitute(value: Any, scope: Mapping[str, str], *, strict: bool = True) -> Any:
    """A copy of ``value`` with ``{{tag}}`` replaced from ``scope`` in every string.

    With ``strict``, a tag Argo requires to resolve but missing from ``scope`` raises ExprError.
    """
    if isinstance(value, str):
        if "{{" not in value:
            return value

        def repl(m: re.Match) -> str:
            tag = m.group(1).strip()
            if tag in scope:
                bad = argo_unsafe(scope[tag])
                if bad is not None:  # util/template simpleReplaceStrict + Replace's JSON check
                    raise ExprError(f"cannot finish template replacement because the result was invalid JSON: "
                                    f"the value of {{{{{tag}}}}} contains the control character U+{bad:04X}, "
                                    "which Argo escapes as Go's strconv.Quote does (not a JSON escape)")
                return scope[tag]
            if tag.startswith("="):
                raise ExprError(f"expression tags like {m.group()!r} are not supported by heraspec run")
            if strict and _strict(tag):
                raise ExprError(f"cannot resolve {{{{{tag}}}}}")
            return m.group()

        return _TAG.sub(repl, value)
    if isinstance(value, dict):
        return {k: substitute(v, scope, strict=strict) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, scope, strict=strict) for v in value]
    return value


_EXPR_TAG = re.compile(r"\{\{\s*=.*?\}\}", re.S)


def expression_tags(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every ``{{=…}}`` tag in the strings of a JSON-like value, as (path, tag), the path as
    ``a.b[2].c``."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, v = stack.pop()
        if isinstance(v, str):
            out.extend((where, m.group()) for m in _EXPR_TAG.finditer(v))
        elif isinstance(v, dict):
            stack.extend((f"{where}.{k}" if where else str(k), x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend((f"{where}[{i}]", x) for i, x in reversed(list(enumerate(v))))
    return out


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it for decoded values (gojson.marshal)."""
    return go_marshal(value)


def aggregated_json_value_list(values: list[str]) -> str:
    """workflow/controller/operator.go aggregatedJSONValueList + tryJSONUnmarshal: the children's
    values decoded only when EVERY one is a JSON object or array, else the list of raw strings."""
    decoded = []
    for v in values:
        try:
            d = json.loads(v)
        except (ValueError, RecursionError):
            break
        if not isinstance(d, (dict, list)):
            break
        decoded.append(d)
    else:
        return go_marshal(decoded)
    return go_marshal(values)


def aggregated_results(stdouts: list[str]) -> str:
    """processAggregateNodeOutputs' `outputs.result` list: each child's stdout must be JSON
    (json.Unmarshal into a wfv1.Item), kept as written; ExprError otherwise, as Argo fails then."""
    items = []
    for out in stdouts:
        try:
            items.append(parse_raw(out))
        except (ValueError, RecursionError) as e:
            raise ExprError(f"cannot aggregate outputs.result: a child's stdout is not JSON ({e}): "
                            f"{out[:80]!r}") from None
    return go_marshal(items)


def item_str(value: Any) -> str:
    """The text `{{item}}` becomes for one loop value (operator.go processItem, wfv1.Item.GetType):
    a string as it is, a number as written, a bool as true/false, a list or map as Go's JSON. A
    null item is GetType's List (json.Unmarshal of null into a slice succeeds); GetListVal then
    unmarshals null into the slice, which sets it to nil, and json.Marshal of a nil slice is `null`."""
    if isinstance(value, str) and not isinstance(value, RawNumber):
        return value
    return go_marshal(value)


def _atoi(value: Any, what: str) -> int:
    text = str(value)
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ExprError(f'withSequence: strconv.Atoi: parsing "{text}": invalid syntax ({what})')
    return int(text)


def sequence_items(seq: Mapping[str, Any], limit: int) -> list[str]:
    """operator.go expandSequence: `start` (default 0) to `end` inclusive, counting down when
    end < start; `end` wins over `count`, `count` 0 is no item and a negative count counts down
    (end = start + count - 1); each number through fmt.Sprintf(format) (default %d) and read back
    as a JSON string (wfv1.ParseItem). ExprError past `limit` items or when Argo refuses."""
    start = _atoi(seq["start"], "start") if seq.get("start") is not None else 0
    if seq.get("end") is not None:
        end = _atoi(seq["end"], "end")
    elif seq.get("count") is not None:
        count = _atoi(seq["count"], "count")
        if count == 0:
            return []
        end = start + count - 1
    else:
        raise ExprError("neither end nor count was specified in withSequence")
    if abs(end - start) + 1 > limit:
        raise ExprError(f"withSequence gives {abs(end - start) + 1:,} items; heraspec run fans out at most "
                        f"{limit:,} (each item is a process)")
    fmt = str(seq.get("format") or "%d")
    out = []
    for n in range(start, end + 1) if start <= end else range(start, end - 1, -1):
        text = sprintf_int(fmt, n)
        try:
            value = json.loads('"' + text + '"')
        except ValueError as e:
            raise ExprError(f"withSequence format {fmt!r} gives {text!r}, not a JSON string (wfv1.ParseItem): {e}") from None
        out.append(value)
    return out


def item_node_desc(value: Any) -> str:
    """The description in a loop child's node name `TASK(INDEX:DESC)` (operator.go processItem +
    generateNodeName): a map's sorted `key:value` pairs, a list as fmt prints a []Item (`[a b]`,
    null as `[]`), anything else as Item.String(); parentheses removed."""
    if isinstance(value, dict):
        desc = ",".join(sorted(f"{k}:{item_field_str(v)}" for k, v in value.items()))
    elif value is None or isinstance(value, list):
        desc = "[" + " ".join(item_field_str(v) for v in value or []) + "]"
    else:
        desc = item_field_str(value)
    return desc.replace("(", "").replace(")", "")


def item_field_str(value: Any) -> str:
    """The text `{{item.KEY}}` becomes (processItem: fmt "%v" of a wfv1.Item, i.e. Item.String()):
    the JSON text with jsonutil.Fix undoing the <, >, & escapes, a string's quotes removed but its
    JSON escapes kept (a newline arrives as backslash-n)."""
    text = go_marshal(value).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    return text[1:-1] if text.startswith('"') else text
