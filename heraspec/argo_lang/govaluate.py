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
  RFC 3339, ...) is a TIME: its Unix seconds as a number;
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
its image); ANSIC, UnixDate and RubyDate date strings are not recognised (they stay strings).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from . import MAX_NESTING, LanguageError

__all__ = ["WhenError", "should_execute", "value_of", "go_value"]


class WhenError(LanguageError):
    """A `when` Argo refuses, or one that does not evaluate to a boolean."""


class _GoError(Exception):
    """govaluate's own error text, before shouldExecute wraps it."""


# --- lexer (parsing.go, lexerState.go) ---------------------------------------------------------------

PREFIX, NUMERIC, BOOLEAN, STRING, PATTERN, TIME, VARIABLE, FUNCTION, SEPARATOR, COMPARATOR, LOGICALOP, \
    MODIFIER, CLAUSE, CLAUSE_CLOSE, TERNARY, ACCESSOR, UNKNOWN = (
        "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN", "TIME", "VARIABLE", "FUNCTION", "SEPARATOR",
        "COMPARATOR", "LOGICALOP", "MODIFIER", "CLAUSE", "CLAUSE_CLOSE", "TERNARY", "ACCESSOR", "UNKNOWN")

_VALUES = (NUMERIC, BOOLEAN, VARIABLE, PATTERN, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE)
_AFTER_VALUE = (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)
# lexerState.go validLexerStates: kind -> (isEOF, valid next kinds)
_STATES: dict[str, tuple[bool, tuple[str, ...]]] = {
    UNKNOWN: (False, (PREFIX,) + _VALUES),
    CLAUSE: (False, (PREFIX,) + _VALUES + (CLAUSE_CLOSE,)),
    CLAUSE_CLOSE: (True, (COMPARATOR, MODIFIER, NUMERIC, BOOLEAN, VARIABLE, STRING, PATTERN, TIME, CLAUSE,
                          CLAUSE_CLOSE, LOGICALOP, TERNARY, SEPARATOR)),
    NUMERIC: (True, _AFTER_VALUE),
    BOOLEAN: (True, _AFTER_VALUE),
    STRING: (True, _AFTER_VALUE),
    TIME: (True, (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR)),
    PATTERN: (True, (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR)),
    VARIABLE: (True, _AFTER_VALUE),
    MODIFIER: (False, (PREFIX, NUMERIC, VARIABLE, FUNCTION, ACCESSOR, STRING, BOOLEAN, CLAUSE, CLAUSE_CLOSE)),
    COMPARATOR: (False, (PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE,
                         CLAUSE_CLOSE, PATTERN)),
    LOGICALOP: (False, (PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE, CLAUSE_CLOSE)),
    PREFIX: (False, (NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, CLAUSE_CLOSE)),
    TERNARY: (False, (PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, SEPARATOR)),
    FUNCTION: (False, (CLAUSE,)),
    ACCESSOR: (True, (CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    SEPARATOR: (False, (PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE)),
}
_PREFIX_SYMBOLS = {"-", "!", "~"}
_MODIFIERS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL = {"&&", "||"}
_COMPARATORS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY = {"?", ":", "??"}


def _is_space(c: str) -> bool:  # unicode.IsSpace
    return c in "\t\n\v\f\r \x85\xa0" or (c.isspace() and unicodedata.category(c) == "Zs")


def _is_digit(c: str) -> bool:  # unicode.IsDigit: category Nd
    return unicodedata.category(c) == "Nd"


def _is_letter(c: str) -> bool:  # unicode.IsLetter: category L*
    return unicodedata.category(c).startswith("L")


def _not_alphanumeric(c: str) -> bool:
    return not (_is_digit(c) or _is_letter(c) or c in "()[]'\"")


class _Stream:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def can_read(self) -> bool:
        return self.pos < len(self.text)

    def read(self) -> str:
        if self.pos >= len(self.text):
            raise _GoError("unexpected end of expression after '\\'")
        c = self.text[self.pos]
        self.pos += 1
        return c

    def read_until_false(self, include_ws: bool, break_ws: bool, cond: Any) -> tuple[str, bool]:
        """parsing.go readUntilFalse (escaping always allowed, as every caller asks)."""
        buf: list[str] = []
        while self.can_read():
            c = self.read()
            if c == "\\":
                buf.append(self.read())
                continue
            if _is_space(c):
                if break_ws and buf:
                    return "".join(buf), True
                if not include_ws:
                    continue
            if cond(c):
                buf.append(c)
            else:
                self.pos -= 1
                return "".join(buf), True
        return "".join(buf), False

    def read_token_until_false(self, cond: Any) -> str:
        self.pos -= 1
        return self.read_until_false(False, True, cond)[0]


def _parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64) for the digits and dots the lexer reads."""
    if not re.fullmatch(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)", text):
        raise _GoError(f"Unable to parse numeric value '{text}' to float64\n")
    return float(text)


def _read_token(s: _Stream, state: str) -> tuple[str, Any] | None:
    """parsing.go readToken: the next (kind, value), None at the end."""
    while s.can_read():
        c = s.read()
        if _is_space(c):
            continue
        if _is_digit(c) or c == ".":
            if s.can_read() and c == "0":
                c2 = s.read()
                if s.can_read() and c2 == "x":
                    text, _ = s.read_until_false(False, True, lambda ch: ch.lower() in "abcdef" or _is_digit(ch))
                    if not re.fullmatch(r"[0-9A-Fa-f]{1,16}", text):
                        raise _GoError(f"Unable to parse hex value '{text}' to uint64\n")
                    return NUMERIC, float(int(text, 16))
                s.pos -= 1
            return NUMERIC, _parse_float(s.read_token_until_false(lambda ch: _is_digit(ch) or ch == "."))
        if c == ",":
            return SEPARATOR, ","
        if c == "[":
            text, done = s.read_until_false(True, False, lambda ch: ch != "]")
            if not done:
                raise _GoError("Unclosed parameter bracket")
            s.pos += 1
            return VARIABLE, text
        if _is_letter(c):
            text = s.read_token_until_false(lambda ch: _is_letter(ch) or _is_digit(ch) or ch in "_.")
            if text in ("true", "false"):
                return BOOLEAN, text == "true"
            if text in ("in", "IN"):
                return COMPARATOR, "in"
            if text.find(".") > 0:
                if text.endswith("."):
                    raise _GoError(f"Hanging accessor on token '{text}'")
                parts = text.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first and first.upper() != first:
                        raise _GoError(f"Unable to access unexported field '{part}' in token '{text}'")
                return ACCESSOR, parts
            return VARIABLE, text
        if c in "'\"":
            text, done = s.read_until_false(True, False, lambda ch: ch not in "'\"")
            if not done:
                raise _GoError("Unclosed string literal")
            s.pos += 1
            when = _parse_time(text)
            return (TIME, when) if when is not None else (STRING, text)
        if c == "(":
            return CLAUSE, "("
        if c == ")":
            return CLAUSE_CLOSE, ")"
        sym = s.read_token_until_false(_not_alphanumeric)
        if PREFIX in _STATES[state][1] and sym in _PREFIX_SYMBOLS:
            return PREFIX, sym
        for kind, table in ((MODIFIER, _MODIFIERS), (LOGICALOP, _LOGICAL), (COMPARATOR, _COMPARATORS),
                            (TERNARY, _TERNARY)):
            if sym in table:
                return kind, sym
        raise _GoError(f"Invalid token: '{sym}'")
    return None


def _lex(text: str) -> list[tuple[str, Any]]:
    """parsing.go parseTokens + checkBalance."""
    s, state, out = _Stream(text), UNKNOWN, []
    while s.can_read():
        tok = _read_token(s, state)
        if tok is None:
            break
        out.append(tok)
        state = tok[0]
    if sum(1 if k == CLAUSE else -1 if k == CLAUSE_CLOSE else 0 for k, _ in out) != 0:
        raise _GoError("Unbalanced parenthesis")
    return out


def _check_syntax(tokens: list[tuple[str, Any]]) -> None:
    """lexerState.go checkExpressionSyntax."""
    state, last = UNKNOWN, (None, None)
    for kind, value in tokens:
        if kind not in _STATES[state][1]:
            if last[0] == VARIABLE and kind == CLAUSE:
                raise _GoError(f"Undefined function {last[1]}")
            raise _GoError(f"Cannot transition token types from {state} [{go_value(last[1])}] to "
                           f"{kind} [{go_value(value)}]")
        state, last = kind, (kind, value)
    if not _STATES[state][0]:
        raise _GoError("Unexpected end of expression")


# --- TIME strings (parsing.go tryParseTime) -----------------------------------------------------------

_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_TIMES = [  # (pattern, has zone) for the layouts tryParseTime tries, in its order
    re.compile(_DATE + r"T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$"),  # RFC3339 / RFC3339Nano
    re.compile(_DATE + r"$"),
    re.compile(_DATE + r" (\d{2}):(\d{2})$"),
    re.compile(_DATE + r" (\d{2}):(\d{2}):(\d{2})$"),
    re.compile(_DATE + r" (\d{2}):(\d{2}):(\d{2})()([+-]\d{2}:\d{2})$"),
    re.compile(_DATE + r"T(\d{2})()()()(Z|[+-]\d{4})$"),
    re.compile(_DATE + r"T(\d{2}):(\d{2})()()(Z|[+-]\d{4})$"),
    re.compile(_DATE + r"T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{4})$"),
]
_KITCHEN = re.compile(r"(\d{1,2}):(\d{2})(AM|PM)$")


def _parse_time(text: str) -> float | None:
    """Unix seconds of a date string govaluate reads as a TIME (float64(t.Unix())), else None."""
    m = _KITCHEN.match(text)
    if m:  # time.Kitchen "3:04PM": year 0, January 1
        hour, minute = int(m.group(1)), int(m.group(2))
        if not (1 <= hour <= 12 and minute < 60):
            return None
        hour = hour % 12 + (12 if m.group(3) == "PM" else 0)
        return float(-62167219200 + hour * 3600 + minute * 60)
    for pattern in _TIMES:
        m = pattern.match(text)
        if not m:
            continue
        g = [x or "" for x in m.groups()] + [""] * 8
        try:
            t = datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3] or 0), int(g[4] or 0), int(g[5] or 0),
                         tzinfo=timezone.utc)
        except ValueError:
            return None
        zone = g[7] if len(m.groups()) >= 8 else ""
        if zone and zone != "Z":
            digits = zone.replace(":", "")
            offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5]))
            t -= offset if digits[0] == "+" else -offset
        return float(math.floor(t.timestamp()))
    return None


# --- planner (stagePlanner.go) and evaluation (evaluationStage.go) --------------------------------------

_LEVELS = [  # loosest first: (token kinds, symbols); planSeparator .. planExponential
    ((SEPARATOR,), {","}),
    ((TERNARY,), _TERNARY),
    ((LOGICALOP,), {"||"}),
    ((LOGICALOP,), {"&&"}),
    ((COMPARATOR,), _COMPARATORS),
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
                raise _GoError(f"parentheses and prefixes nest deeper than {MAX_NESTING} levels")
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
                raise _GoError(f"parentheses and prefixes nest deeper than {MAX_NESTING} levels")
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
        raise _GoError(f"Unable to plan token kind: '{kind}', value: '{go_value(value)}'")


def go_value(v: Any) -> str:
    """fmt's %v of a govaluate value."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float_v(v)
    if isinstance(v, list):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    if isinstance(v, _Regex):
        return v.pattern
    return str(v)


def _go_float_v(f: float) -> str:
    """%v of a float64: shortest digits, exponent form below 1e-4 or from 1e6 (strconv FormatFloat g, -1)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    from decimal import Decimal

    _sign, ds, exp = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, ds))
    e10 = len(digits) - 1 + int(exp)
    sign = "-" if f < 0 else ""
    if e10 < -4 or e10 >= 6:  # strconv.FormatFloat(f, 'g', -1, 64): shortest, so eprec 6
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    if e10 >= len(digits) - 1:
        return sign + digits + "0" * (e10 - len(digits) + 1)
    if e10 >= 0:
        return sign + digits[:e10 + 1] + "." + digits[e10 + 1:]
    return sign + "0." + "0" * (-e10 - 1) + digits


class _Regex:
    """A compiled PATTERN (optimizeTokens): Go's regexp, RE2 syntax."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.compiled = _compile(pattern)


def _compile(pattern: str) -> Any:
    try:
        import re2  # google-re2: Go's regexp is an RE2 implementation, same syntax and guarantees
    except ImportError:
        raise _GoError("=~ needs the google-re2 package (a dependency of heraspec): pip install google-re2") from None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options=options)
    except re2.error as e:
        why = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise _GoError(f"bad regular expression: error parsing regexp: {why}: `{pattern}` (Argo uses Go's RE2 syntax: no backreferences "
                       "or lookaround)") from None


_FORMATS = {"logical": "Value '{}' cannot be used with the logical operator '{}', it is not a bool",
            "modifier": "Value '{}' cannot be used with the modifier '{}', it is not a number",
            "comparator": "Value '{}' cannot be used with the comparator '{}', it is not a number",
            "ternary": "Value '{}' cannot be used with the ternary operator '{}', it is not a bool",
            "prefix": "Value '{}' cannot be used with the prefix '{}'"}


def _fail(fmt: str, value: Any, symbol: str) -> _GoError:
    return _GoError(_FORMATS[fmt].format(go_value(value), "=" if symbol == "==" else symbol))


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
        raise _GoError(f"No parameter '{return_name}' found.")
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


def value_of(when: str) -> Any:
    """The value govaluate gives ``when`` after shouldExecute's VARIABLE->STRING turn; WhenError
    with Argo's message when it refuses the text."""
    try:
        tokens = _lex(when)
        _check_syntax(tokens)
        planned = _plan(tokens)
    except _GoError as e:
        hint = " (hint: try wrapping the affected expression in quotes (\"))" if "Invalid token" in str(e) else ""
        raise WhenError(f"Invalid 'when' expression '{when}': {e}{hint}") from None
    del planned
    tokens = [(STRING, v) if k == VARIABLE else (k, v) for k, v in tokens]
    try:
        _check_syntax(tokens)
        planned = _plan(tokens)
    except _GoError as e:
        raise WhenError(f"Failed to parse 'when' expression '{when}': {e}") from None
    try:
        return _eval(planned)
    except _GoError as e:
        raise WhenError(f"Failed to evaluate 'when' expresion '{when}': {e}") from None
    except RecursionError:
        raise WhenError(f"Failed to evaluate 'when' expresion '{when}': nested too deeply") from None


def should_execute(when: str) -> bool:
    """workflow/controller/steps.go shouldExecute: whether a task with this (substituted) ``when`` runs."""
    if when == "":
        return True
    result = value_of(when)
    if not isinstance(result, bool):
        raise WhenError(f"Expected boolean evaluation for '{when}'. Got {go_value(result)}")
    return result
