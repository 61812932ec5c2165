"""Argo's ``when``: github.com/Knetic/govaluate (v3.0.1-0.20250325060307-7625b7f8c03d, the version
Argo v4.1.2 pins) as workflow/controller/steps.go ``shouldExecute`` uses it.

``shouldExecute`` lexes the substituted text (parsing.go ``parseTokens``/``readToken``), checks the
token sequence (lexerState.go ``checkExpressionSyntax``), turns every VARIABLE token into a STRING
(so ``heads == heads`` needs no quotes), checks again, plans (stagePlanner.go) and evaluates
(evaluationStage.go) with no parameters. What follows from that code:

- words start with a Unicode letter and go on with letters, digits, ``_`` and ``.``: ``héllo`` is a
  string; a word with a ``.`` is an ACCESSOR, an error (``model.pkl``: "Unable to access unexported
  field"; ``v1.2``: "No parameter 'v1' found" when evaluated); ``_x`` is "Invalid token: '_'";
  ``true``/``false`` are booleans, ``in``/``IN`` the operator;
- numbers are digits and ``.`` (``1.2.3`` is an error), or ``0x`` hex; all are float64;
- strings are quoted with ``'`` or ``"`` and end at the first quote of EITHER kind (``'a"b'`` is an
  error); a backslash escapes the next character; a string that parses as a date (``2024-01-31``,
  RFC 3339, ``Mon Jan  2 15:04:05 2006``, ``3:04PM``...) is a TIME: its Unix seconds as a number;
- symbols are maximal runs of other characters, so ``a==-1`` is "Invalid token: '==-'"; ``-`` is
  negation where a prefix may stand, else subtraction; a prefix cannot stand before a STRING, so
  ``!abc`` and ``-abc`` fail;
- operators, loosest first: ``,`` ; ``?`` ``:`` ``??`` ; ``||`` ; ``&&`` ; comparators (``==`` ``!=``
  ``<`` ``>`` ``<=`` ``>=`` ``=~`` ``!~`` ``in``) ; ``&`` ``|`` ``^`` ; ``<<`` ``>>`` ; ``+`` ``-`` ;
  ``*`` ``/`` ``%`` ; ``**`` ; prefixes ``-`` ``!`` ``~`` ; all left-associative;
- ``==`` is reflect.DeepEqual (``5 == '5'`` false, ``1 == 1.0`` true); ``<`` and co. need two numbers
  or two strings; ``+`` concatenates when either side is a string; ``=~`` is Go's RE2 regexp; ``&&``
  and ``||`` short-circuit before checking types (``false && 'x'`` is false); the result must be a
  boolean.

Errors carry Argo's messages ("Invalid 'when' expression ...", "Failed to evaluate 'when' expresion
...", "Expected boolean evaluation for ..."). Dates are read in UTC (the controller's time.Local in
its image); every layout of parsing.go ``tryParseTime`` is read, with Go's ``time.Parse`` rules
(gotime.py).
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import MAX_NESTING, LanguageError
from .govaluate_lexer import (ACCESSOR, BOOLEAN, CLAUSE, CLAUSE_CLOSE, COMPARATOR, COMPARATORS, LOGICALOP, MODIFIER,
                              NUMERIC, PATTERN, PREFIX, SEPARATOR, STRING, TERNARIES, TERNARY, TIME, VARIABLE, GoError,
                              check_syntax, go_value, lex)

__all__ = ["WhenError", "should_execute", "value_of", "static_error", "go_value"]


class WhenError(LanguageError):
    """A `when` Argo refuses, or one that does not evaluate to a boolean."""


# --- planner (stagePlanner.go) and evaluation (evaluationStage.go) --------------------------------------

_LEVELS = [  # loosest first: (token kinds, symbols); planSeparator .. planExponential
    ((SEPARATOR,), {","}),
    ((TERNARY,), TERNARIES),
    ((LOGICALOP,), {"||"}),
    ((LOGICALOP,), {"&&"}),
    ((COMPARATOR,), COMPARATORS),
    ((MODIFIER,), {"&", "|", "^"}),
    ((MODIFIER,), {"<<", ">>"}),
    ((MODIFIER,), {"+", "-"}),
    ((MODIFIER,), {"*", "/", "%"}),
    ((MODIFIER,), {"**"}),
]


class _Planner:
    def __init__(self, tokens: list[tuple[str, Any]]):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def level(self, n: int) -> Any:
        if n == len(_LEVELS):
            return self.value()
        kinds, symbols = _LEVELS[n]
        left = self.level(n + 1)
        while True:
            tok = self.peek()
            if tok is None or tok[0] not in kinds or tok[1] not in symbols:
                return left
            self.i += 1
            left = ("op", tok[1], left, self.level(n + 1))

    def value(self) -> Any:
        """planFunction / planAccessor / planValue."""
        tok = self.peek()
        if tok is None:
            return None
        kind, value = tok
        self.i += 1
        if kind == CLAUSE:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise GoError(f"parentheses and prefixes nest deeper than {MAX_NESTING} levels")
            inner = self.level(0) if self.peek() is not None else None
            self.i += 1  # the CLAUSE_CLOSE
            self.depth -= 1
            return ("group", inner)
        if kind == CLAUSE_CLOSE:
            self.i -= 1
            return None
        if kind == PREFIX:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise GoError(f"parentheses and prefixes nest deeper than {MAX_NESTING} levels")
            operand = self.value()
            self.depth -= 1
            return ("prefix", value, operand)
        if kind == ACCESSOR:
            nxt = self.peek()
            args = self.value() if nxt is not None and nxt[0] == CLAUSE else None
            return ("access", value, args)
        if kind == TIME:
            return ("lit", value)
        if kind in (NUMERIC, STRING, PATTERN, BOOLEAN, VARIABLE):
            return ("lit", value)
        raise GoError(f"Unable to plan token kind: '{kind}', value: '{go_value(value)}'")


class _Regex:
    """A compiled PATTERN (optimizeTokens): Go's regexp, RE2 syntax."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.compiled = _compile(pattern)


def _compile(pattern: str) -> Any:
    try:
        import re2  # google-re2: Go's regexp is an RE2 implementation, same syntax and guarantees
    except ImportError:
        raise GoError("=~ needs the google-re2 package (a dependency of heraspec): pip install google-re2") from None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options=options)
    except re2.error as e:
        why = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise GoError(f"bad regular expression: error parsing regexp: {why}: `{pattern}` (Argo uses Go's RE2 syntax: no backreferences "
                       "or lookaround)") from None


_FORMATS = {"logical": "Value '{}' cannot be used with the logical operator '{}', it is not a bool",
            "modifier": "Value '{}' cannot be used with the modifier '{}', it is not a number",
            "comparator": "Value '{}' cannot be used with the comparator '{}', it is not a number",
            "ternary": "Value '{}' cannot be used with the ternary operator '{}', it is not a bool",
            "prefix": "Value '{}' cannot be used with the prefix '{}'"}


def _fail(fmt: str, value: Any, symbol: str) -> GoError:
    return GoError(_FORMATS[fmt].format(go_value(value), "=" if symbol == "==" else symbol))


def _num(v: Any) -> bool:
    return isinstance(v, float)


def _deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual over govaluate's values (float64, string, bool, []interface{}, nil)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, _Regex):
        return a is b
    return a == b


def _int64(f: float) -> int:
    if f != f or abs(f) >= 2 ** 63:
        return -(2 ** 63)  # Go's conversion of an out-of-range float on amd64
    return int(f)


def _eval(node: Any) -> Any:  # noqa: C901 - one branch per govaluate stage
    """EvaluableExpression.evaluateStage with ChecksTypes, on one planned node."""
    if node is None:
        return None
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "group":
        return _eval(node[1])
    if kind == "access":  # makeAccessorStage: parameters.Get with no parameters
        return_name = node[1][0]
        raise GoError(f"No parameter '{return_name}' found.")
    if kind == "prefix":
        sym, right = node[1], _eval(node[2])
        if sym == "!":
            if not isinstance(right, bool):
                raise _fail("prefix", right, sym)
            return not right
        if not _num(right):
            raise _fail("prefix", right, sym)
        return -right if sym == "-" else float(~_int64(right))
    _, sym, lnode, rnode = node
    left = _eval(lnode)
    if sym == "&&" and left is False:
        return False
    if sym == "||" and left is True:
        return True
    if sym == "??" and left is not None:
        return left
    if sym == "?" and left is False:
        right = None
        skip = True
    elif sym == ":" and left is not None:
        return left
    else:
        right, skip = _eval(rnode), False
    if sym in ("&&", "||"):
        for v in (left, right):
            if not isinstance(v, bool):
                raise _fail("logical", v, sym)
        return left and right if sym == "&&" else left or right
    if sym == "?":
        if not isinstance(left, bool):
            raise _fail("ternary", left, sym)
        return None if skip else right
    if sym in (":", "??"):
        return right
    if sym == ",":
        return (left if isinstance(left, list) else [left]) + [right]
    if sym in ("==", "!="):
        same = _deep_equal(left, right)
        return same if sym == "==" else not same
    if sym in ("<", ">", "<=", ">="):
        if not ((_num(left) and _num(right)) or (isinstance(left, str) and isinstance(right, str))):
            raise _fail("comparator", left, sym)
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[sym]
    if sym in ("=~", "!~"):
        if not isinstance(left, str):
            raise _fail("comparator", left, sym)
        if not isinstance(right, (str, _Regex)):
            raise _fail("comparator", right, sym)
        pattern = right.compiled if isinstance(right, _Regex) else _compile(right)
        found = pattern.search(left) is not None
        return found if sym == "=~" else not found
    if sym == "in":
        if not isinstance(right, list):
            raise _fail("comparator", right, sym)
        return any(type(left) is type(v) and left == v for v in right)  # Go's interface ==
    if sym == "+":
        if _num(left) and _num(right):
            return left + right
        if not (isinstance(left, str) or isinstance(right, str)):
            raise _fail("modifier", left, sym)
        return go_value(left) + go_value(right)
    for v in (left, right):
        if not _num(v):
            raise _fail("modifier", v, sym)
    if sym == "-":
        return left - right
    if sym == "*":
        return left * right
    if sym == "/":
        return left / right if right else (math.nan if left == 0 or left != left else math.copysign(math.inf, left) * math.copysign(1, right))
    if sym == "%":
        return math.fmod(left, right) if right else math.nan
    if sym == "**":
        try:
            return math.pow(left, right)
        except (OverflowError, ValueError):
            return math.inf if left > 0 else math.nan
    a, b = _int64(left), _int64(right)
    if sym in ("<<", ">>"):
        a, b = a % 2 ** 64, b % 2 ** 64
        return float((a << b) % 2 ** 64 if sym == "<<" and b < 64 else 0 if sym == "<<" else a >> b)
    return float({"&": a & b, "|": a | b, "^": a ^ b}[sym])


def _plan(tokens: list[tuple[str, Any]]) -> Any:
    """optimizeTokens (a string after =~/!~ compiled) and planStages."""
    out = list(tokens)
    for i, (kind, value) in enumerate(out):
        if kind == COMPARATOR and value in ("=~", "!~") and i + 1 < len(out) and out[i + 1][0] == STRING:
            out[i + 1] = (PATTERN, _Regex(out[i + 1][1]))
    if not out:
        return None
    planner = _Planner(out)
    tree = planner.level(0)
    return tree


def _planned(when: str, shown: str) -> Any:
    """shouldExecute's two parses of ``when`` (the second after the VARIABLE->STRING turn), with
    Argo's messages naming ``shown``."""
    try:
        tokens = lex(when)
        check_syntax(tokens)
        _plan(tokens)
    except GoError as e:
        hint = " (hint: try wrapping the affected expression in quotes (\"))" if "Invalid token" in str(e) else ""
        raise WhenError(f"Invalid 'when' expression '{shown}': {e}{hint}") from None
    tokens = [(STRING, v) if k == VARIABLE else (k, v) for k, v in tokens]
    try:
        check_syntax(tokens)
        return _plan(tokens)
    except GoError as e:
        raise WhenError(f"Failed to parse 'when' expression '{shown}': {e}") from None


def value_of(when: str) -> Any:
    """The value govaluate gives ``when`` after shouldExecute's VARIABLE->STRING turn; WhenError
    with Argo's message when it refuses the text."""
    planned = _planned(when, when)
    try:
        return _eval(planned)
    except GoError as e:
        raise WhenError(f"Failed to evaluate 'when' expresion '{when}': {e}") from None
    except RecursionError:
        raise WhenError(f"Failed to evaluate 'when' expresion '{when}': nested too deeply") from None


_TAG = re.compile(r"\{\{.*?\}\}", re.S)
NEUTRAL = ("0", "x")  # what a `{{…}}` tag is replaced with by static_error: a number, then a word


def static_error(when: str) -> str | None:
    """Argo's error for a `when` known before the run: a `when` with no `{{…}}` tag is evaluated
    whole (shouldExecute); one with tags is lexed and parsed with every tag replaced by each NEUTRAL
    token in turn, and refused only when it fails with all of them (whatever a tag holds then, short
    of a value that carries operators or quotes itself). None when nothing can be said."""
    if "{{" not in when:
        try:
            should_execute(when)
        except WhenError as e:
            return str(e)
        return None
    first = None
    for token in NEUTRAL:
        try:
            _planned(_TAG.sub(token, when), when)
        except WhenError as e:
            first = first or str(e)
            continue
        return None
    return first


def should_execute(when: str) -> bool:
    """workflow/controller/steps.go shouldExecute: whether a task with this (substituted) ``when`` runs."""
    if when == "":
        return True
    result = value_of(when)
    if not isinstance(result, bool):
        raise WhenError(f"Expected boolean evaluation for '{when}'. Got {go_value(result)}")
    return result
