"""Argo's small languages, evaluated without Python ``eval``: ``depends``, ``when``, ``{{...}}``, durations.

``depends`` (Argo's enhanced depends logic)
    Operands are ``TASK`` or ``TASK.RESULT`` with RESULT one of Succeeded, Failed, Errored, Skipped,
    Omitted, Daemoned, AnySucceeded, AllFailed; operators ``&&``, ``||``, ``!`` and parentheses
    (``!`` binds tightest, then ``&&``, then ``||``). A bare ``TASK`` is asked of the caller as
    ``check(TASK, None)``: Argo reads it as ``TASK.Succeeded || TASK.Skipped || TASK.Daemoned``
    (widened by the task's ``continueOn``), which the runner knows and this module does not.

``when`` (the govaluate subset Argo users write, after ``{{...}}`` substitution)
    - literals: numbers (``3``, ``-2.5``), strings in single or double quotes (backslash escapes the
      next character), ``true`` / ``false``;
    - bare words (``heads``, ``my_value.x``: a letter or ``_`` then letters, digits, ``_``, ``.``) are
      strings, as Argo turns govaluate variables into strings;
    - ``==`` ``!=``: equal when of the same kind and value (``5 == '5'`` is false, ``1 == 1.0`` true);
    - ``<`` ``>`` ``<=`` ``>=``: two numbers, or two strings (lexical); anything else is an error;
    - ``=~`` ``!~``: the left string searched with the right regular expression (Go's RE2
      syntax and linear-time matching, as Argo: no backreferences or lookaround);
    - ``in``: membership in a parenthesised list, ``x in ('a', 'b')``;
    - ``!``, ``&&``, ``||`` on booleans (short-circuit), and parentheses.
    Precedence, tightest first: unary ``!``/``-``, comparisons, ``&&``, ``||``. Arithmetic, ternaries,
    ``??`` and govaluate's date strings are not supported and raise ExprError, as does a result that
    is not a boolean.

``{{...}}`` substitution
    ``substitute(value, scope)`` replaces tags (spaces inside the braces are ignored) in every string
    of a JSON-like value. Tags starting with ``inputs.``, ``outputs.``, ``steps.``, ``tasks.``,
    ``workflow.``, ``pod.``, ``item`` must resolve (Argo refuses them otherwise); other tags are left
    as they are. Expression tags ``{{=...}}`` are not supported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..python.script import argo_unsafe

__all__ = [
    "ExprError", "parse_duration", "parse_depends", "depends_names", "eval_depends", "eval_when",
    "substitute", "go_json", "go_marshal", "item_str", "item_field_str", "parse_raw", "RawNumber",
    "aggregated_json_value_list", "aggregated_results",
]


class ExprError(ValueError):
    """A malformed or unsupported expression, or one that cannot be evaluated."""


# --- durations ---------------------------------------------------------------------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(value: str | int | float) -> float:
    """Seconds in an Argo duration: a plain number of seconds, or Go's ``1h2m3.5s`` / ``500ms``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m:
            raise ExprError(f"invalid duration {value!r} (expected e.g. '30s', '500ms', '2m', '1h30m')")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise ExprError("empty duration")
    return total


# --- depends -----------------------------------------------------------------------------------

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
_DEP_TOKEN = re.compile(r"\s*(?:(&&|\|\||!|\(|\))|([A-Za-z0-9][-A-Za-z0-9]*)(?:\.([A-Za-z]+))?)")


@dataclass(frozen=True)
class Dep:
    """A parsed depends expression: op is 'task', 'not', 'and' or 'or'."""

    op: str
    args: tuple = ()
    task: str = ""
    result: str | None = None


# Argo (Go) has no nesting limit, but a hand-written expression never needs 64 levels; the bound keeps
# the parsers' recursion small. Chains (`a && b && ... && z`, a 400-task fan-in) are flat n-ary
# nodes, not nesting, and evaluation walks an explicit stack.
MAX_NESTING = 64


def _too_deep(what: str, text: str) -> ExprError:
    return ExprError(f"{what} {text[:60]!r}...: parentheses and '!' nest deeper than {MAX_NESTING} levels")


def parse_depends(text: str) -> Dep:
    tokens: list[tuple[str, str, str | None]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _DEP_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"depends {text!r}: unexpected {text[pos:].strip()[:20]!r}")
        if m.group(1):
            tokens.append(("op", m.group(1), None))
        else:
            if m.group(3) is not None and m.group(3) not in RESULTS:
                raise ExprError(f"depends {text!r}: unknown result '.{m.group(3)}' "
                                f"(one of {', '.join(RESULTS)})")
            tokens.append(("task", m.group(2), m.group(3)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise ExprError("empty depends expression")
    i = depth = 0

    def peek() -> str | None:
        return tokens[i][1] if i < len(tokens) and tokens[i][0] == "op" else None

    def chain(op: str, sym: str, operand: Callable[[], Dep]) -> Dep:
        nonlocal i
        args = [operand()]
        while peek() == sym:
            i += 1
            args.append(operand())
        return args[0] if len(args) == 1 else Dep(op, tuple(args))

    def parse_or() -> Dep:
        return chain("or", "||", parse_and)

    def parse_and() -> Dep:
        return chain("and", "&&", parse_not)

    def parse_not() -> Dep:
        nonlocal i, depth
        if peek() in ("!", "("):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep("depends", text)
            i += 1
            if tokens[i - 1][1] == "!":
                inner = Dep("not", (parse_not(),))
            else:
                inner = parse_or()
                if peek() != ")":
                    raise ExprError(f"depends {text!r}: missing ')'")
                i += 1
            depth -= 1
            return inner
        if i >= len(tokens) or tokens[i][0] != "task":
            raise ExprError(f"depends {text!r}: expected a task name")
        _, name, result = tokens[i]
        i += 1
        return Dep("task", task=name, result=result)

    tree = parse_or()
    if i != len(tokens):
        raise ExprError(f"depends {text!r}: unexpected {tokens[i][1]!r}")
    return tree


def depends_names(tree: Dep) -> set[str]:
    out, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if node.op == "task":
            out.add(node.task)
        else:
            todo.extend(node.args)
    return out


def eval_depends(tree: Dep, check: Callable[[str, str | None], bool]) -> bool:
    """The expression's value, computed bottom-up on an explicit stack (no recursion)."""
    # dag.go evaluateDependsLogic (argoexpr.EvalBool, expr-lang) over ancestry.go getTaskDependsLogic
    todo: list[tuple[Dep, bool]] = [(tree, False)]
    values: list[bool] = []
    while todo:
        node, ready = todo.pop()
        if node.op == "task":
            values.append(check(node.task, node.result))
        elif not ready:
            todo.append((node, True))
            todo.extend((a, False) for a in reversed(node.args))
        else:
            args = values[len(values) - len(node.args):]
            del values[len(values) - len(node.args):]
            values.append(not args[0] if node.op == "not" else all(args) if node.op == "and" else any(args))
    return values[0]


# --- when --------------------------------------------------------------------------------------

_WHEN_TOKEN = re.compile(r"""
    (?P<num>\d+\.\d*|\.\d+|\d+)(?![A-Za-z_])
  | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
  | (?P<op>==|!=|<=|>=|=~|!~|&&|\|\||[<>!(),-])
  | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
""", re.VERBOSE)
_COMPARE = {"==", "!=", "<", ">", "<=", ">=", "=~", "!~", "in"}


def _when_tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        m = _WHEN_TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"when {text!r}: unsupported syntax at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        raw = m.group()
        if kind == "num":
            out.append(("val", float(raw)))
        elif kind == "str":
            out.append(("val", re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.S)))
        elif kind == "word":
            out.append(("val", {"true": True, "false": False}.get(raw, raw)) if raw != "in" else ("op", "in"))
        else:
            out.append(("op", raw))
        pos = m.end()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return type(a) is type(b) and a == b


def _compare(op: str, a: Any, b: Any, text: str) -> bool:
    if op == "==":
        return _same(a, b)
    if op == "!=":
        return not _same(a, b)
    if op == "in":
        if not isinstance(b, list):
            raise ExprError(f"when {text!r}: 'in' needs a parenthesised list on its right")
        return any(_same(a, x) for x in b)
    if op in ("=~", "!~"):
        if not (isinstance(a, str) and isinstance(b, str)):
            raise ExprError(f"when {text!r}: {op} needs strings on both sides")
        found = _regex(b, text).search(a) is not None
        return found if op == "=~" else not found
    both_num = all(isinstance(x, float) and not isinstance(x, bool) for x in (a, b))
    if not both_num and not (isinstance(a, str) and isinstance(b, str)):
        raise ExprError(f"when {text!r}: cannot compare {_show(a)} {op} {_show(b)} "
                        "(both sides must be numbers, or both strings)")
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _regex(pattern: str, text: str) -> Any:
    """``pattern`` compiled as Go's regexp (govaluate's ``=~``) would: RE2 syntax, linear time.

    Python's backtracking ``re`` would accept what Go refuses (backreferences, lookaround) and can
    take exponential time (``(a+)+$`` against a 33-character output hangs the run); RE2 cannot."""
    try:
        import re2  # google-re2: Go's regexp is an RE2 implementation, same syntax and guarantees
    except ImportError:
        raise ExprError(f"when {text!r}: =~ needs the google-re2 package (a dependency of heraspec): "
                        "pip install google-re2") from None

    options = re2.Options()
    options.log_errors = False  # the reason is in the task's message, not on heraspec's stderr
    try:
        return re2.compile(pattern, options=options)
    except re2.error as e:
        why = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ExprError(f"when {text!r}: bad regular expression {pattern!r} (Argo uses Go's RE2 syntax: "
                        f"no backreferences or lookaround): {why}") from None


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"number {v:g}"
    return f"string {v!r}"


def eval_when(text: str) -> bool:
    """Evaluate a substituted ``when``; raise ExprError when unsupported, malformed or not boolean."""
    # workflow/controller/steps.go shouldExecute (v4.1.2 still uses govaluate for `when`, bare words as strings)
    tokens = _when_tokens(text)
    i = depth = 0

    def peek() -> str | None:
        return tokens[i][1] if i < len(tokens) and tokens[i][0] == "op" else None

    def expect_bool(v: Any, op: str) -> bool:
        if not isinstance(v, bool):
            raise ExprError(f"when {text!r}: {op} needs true/false, got {_show(v)}")
        return v

    def parse_or() -> Any:
        nonlocal i
        left = parse_and()
        while peek() == "||":
            i += 1
            right = parse_and()
            left = expect_bool(left, "||") or expect_bool(right, "||")
        return left

    def parse_and() -> Any:
        nonlocal i
        left = parse_cmp()
        while peek() == "&&":
            i += 1
            right = parse_cmp()
            left = expect_bool(left, "&&") and expect_bool(right, "&&")
        return left

    def parse_cmp() -> Any:
        nonlocal i
        left = parse_unary()
        op = peek()
        if op in _COMPARE:
            i += 1
            left = _compare(op, left, parse_unary(), text)
            if peek() in _COMPARE:
                raise ExprError(f"when {text!r}: chained comparisons need parentheses")
        return left

    def parse_unary() -> Any:
        nonlocal depth
        if peek() in ("!", "-", "("):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep("when", text)
            value = parse_prefixed()
            depth -= 1
            return value
        return parse_prefixed()

    def parse_prefixed() -> Any:
        nonlocal i
        op = peek()
        if op == "!":
            i += 1
            return not expect_bool(parse_unary(), "!")
        if op == "-":
            i += 1
            v = parse_unary()
            if not isinstance(v, float) or isinstance(v, bool):
                raise ExprError(f"when {text!r}: '-' is only supported before a number (no arithmetic)")
            return -v
        if op == "(":
            i += 1
            values = [parse_or()]
            while peek() == ",":
                i += 1
                values.append(parse_or())
            if peek() != ")":
                raise ExprError(f"when {text!r}: missing ')'")
            i += 1
            return values if len(values) > 1 else values[0]
        if i >= len(tokens):
            raise ExprError(f"when {text!r}: unexpected end of expression")
        kind, value = tokens[i]
        if kind != "val":
            raise ExprError(f"when {text!r}: unexpected {value!r}")
        i += 1
        return value

    if not tokens:
        raise ExprError("empty when expression")
    result = parse_or()
    if i != len(tokens):
        raise ExprError(f"when {text!r}: unsupported or unexpected {tokens[i][1]!r}")
    if not isinstance(result, bool):
        raise ExprError(f"when {text!r}: expected true/false, got {_show(result)}")
    return result


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


class RawNumber(str):
    """A JSON number kept as the text it was written with: Argo keeps loop items (wfv1.Item,
    a json.RawMessage) and aggregated `outputs.result` items as raw JSON, so `1.0` stays `1.0`."""


def parse_raw(text: str) -> Any:
    """JSON as Argo holds a wfv1.Item: numbers stay RawNumber text. Raises ValueError."""
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)


def _go_float(f: float) -> str:
    # encoding/json floatEncoder: 'f' format, 'e' below 1e-6 or from 1e21, shortest digits, "e-07" -> "e-7"
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {f!r}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = repr(f)
        return re.sub(r"e-0(\d)$", r"e-\1", text)
    from decimal import Decimal

    return format(Decimal(repr(f)).normalize(), "f")


_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


def _go_string(text: str) -> str:
    return _HTML_RE.sub(lambda m: _HTML[m.group()], json.dumps(text, ensure_ascii=False))


def go_marshal(value: Any) -> str:
    """Go's json.Marshal of a decoded value: compact, map keys sorted, float64 numbers printed as Go
    prints them, `<`, `>`, `&`, U+2028 and U+2029 escaped; RawNumber text as it is."""
    enc = _go_string
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, str):
        return enc(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return _go_float(float(value)) if abs(value) >= 2 ** 53 else str(value)  # float64 beyond 2**53
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, dict):
        return "{" + ",".join(enc(str(k)) + ":" + go_marshal(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_marshal(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


def go_json(value: Any) -> str:
    """JSON as Go's encoding/json writes it for decoded values (see go_marshal)."""
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
    a string as it is, a number as written, a bool as true/false, a list or map as Go's JSON, and
    null as `[]` (GetType takes it for a list, GetListVal gives an empty one)."""
    if isinstance(value, str) and not isinstance(value, RawNumber):
        return value
    if value is None:
        return "[]"
    return go_marshal(value)


def item_field_str(value: Any) -> str:
    """The text `{{item.KEY}}` becomes (processItem: fmt "%v" of a wfv1.Item, i.e. Item.String()):
    the JSON text with jsonutil.Fix undoing the <, >, & escapes, a string's quotes removed but its
    JSON escapes kept (a newline arrives as backslash-n)."""
    text = go_marshal(value).replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&")
    return text[1:-1] if text.startswith('"') else text
