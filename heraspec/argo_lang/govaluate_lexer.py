"""govaluate's lexer (github.com/Knetic/govaluate parsing.go ``parseTokens``/``readToken``,
lexerState.go ``checkExpressionSyntax``; ``tryParseTime`` is gotime.py) and fmt's ``%v`` of its values, for
govaluate.py (Argo's ``when``)."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from .gotime import parse_time  # parsing.go tryParseTime

__all__ = ["GoError", "lex", "check_syntax", "parse_time", "go_value", "PREFIX", "NUMERIC", "BOOLEAN", "STRING",
           "PATTERN", "TIME", "VARIABLE", "FUNCTION", "SEPARATOR", "COMPARATOR", "LOGICALOP", "MODIFIER", "CLAUSE",
           "CLAUSE_CLOSE", "TERNARY", "ACCESSOR", "COMPARATORS", "TERNARIES"]


class GoError(Exception):
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
COMPARATORS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
TERNARIES = {"?", ":", "??"}


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
            raise GoError("unexpected end of expression after '\\'")
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
        raise GoError(f"Unable to parse numeric value '{text}' to float64\n")
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
                        raise GoError(f"Unable to parse hex value '{text}' to uint64\n")
                    return NUMERIC, float(int(text, 16))
                s.pos -= 1
            return NUMERIC, _parse_float(s.read_token_until_false(lambda ch: _is_digit(ch) or ch == "."))
        if c == ",":
            return SEPARATOR, ","
        if c == "[":
            text, done = s.read_until_false(True, False, lambda ch: ch != "]")
            if not done:
                raise GoError("Unclosed parameter bracket")
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
                    raise GoError(f"Hanging accessor on token '{text}'")
                parts = text.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first and first.upper() != first:
                        raise GoError(f"Unable to access unexported field '{part}' in token '{text}'")
                return ACCESSOR, parts
            return VARIABLE, text
        if c in "'\"":
            text, done = s.read_until_false(True, False, lambda ch: ch not in "'\"")
            if not done:
                raise GoError("Unclosed string literal")
            s.pos += 1
            when = parse_time(text)
            return (TIME, when) if when is not None else (STRING, text)
        if c == "(":
            return CLAUSE, "("
        if c == ")":
            return CLAUSE_CLOSE, ")"
        sym = s.read_token_until_false(_not_alphanumeric)
        if PREFIX in _STATES[state][1] and sym in _PREFIX_SYMBOLS:
            return PREFIX, sym
        for kind, table in ((MODIFIER, _MODIFIERS), (LOGICALOP, _LOGICAL), (COMPARATOR, COMPARATORS),
                            (TERNARY, TERNARIES)):
            if sym in table:
                return kind, sym
        raise GoError(f"Invalid token: '{sym}'")
    return None


def lex(text: str) -> list[tuple[str, Any]]:
    """parsing.go parseTokens + checkBalance."""
    s, state, out = _Stream(text), UNKNOWN, []
    while s.can_read():
        tok = _read_token(s, state)
        if tok is None:
            break
        out.append(tok)
        state = tok[0]
    if sum(1 if k == CLAUSE else -1 if k == CLAUSE_CLOSE else 0 for k, _ in out) != 0:
        raise GoError("Unbalanced parenthesis")
    return out


def check_syntax(tokens: list[tuple[str, Any]]) -> None:
    """lexerState.go checkExpressionSyntax."""
    state, last = UNKNOWN, (None, None)
    for kind, value in tokens:
        if kind not in _STATES[state][1]:
            if last[0] == VARIABLE and kind == CLAUSE:
                raise GoError(f"Undefined function {last[1]}")
            raise GoError(f"Cannot transition token types from {state} [{go_value(last[1])}] to "
                           f"{kind} [{go_value(value)}]")
        state, last = kind, (kind, value)
    if not _STATES[state][0]:
        raise GoError("Unexpected end of expression")


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
    if hasattr(v, "pattern"):  # a compiled PATTERN
        return str(v.pattern)
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
