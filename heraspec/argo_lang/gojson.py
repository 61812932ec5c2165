"""Go's encoding/json text, as Argo's controller writes values, and strconv.Quote.

json.Marshal writes a Go struct's fields in declaration order and a map's keys sorted; a decoded
value (``map[string]any``) is a map. Here a ``dict`` marshals as a map (sorted keys) and a
``Struct`` (a dict subclass) as a struct (its insertion order). Numbers decoded from JSON are
float64 (printed as encoding/json's floatEncoder does); ``RawNumber`` is a number kept as the text
it was written with, as a ``json.RawMessage`` (wfv1.Item) keeps it. Strings escape ``<``, ``>``,
``&``, U+2028 and U+2029 (HTML-safe by default).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["Struct", "RawNumber", "parse_raw", "marshal", "quote", "format_float"]


class Struct(dict):
    """A Go struct to marshal: fields in the order they were inserted (Go's declaration order)."""


class RawNumber(str):
    """A JSON number kept as the text it was written with: Argo keeps loop items (wfv1.Item,
    a json.RawMessage) and aggregated `outputs.result` items as raw JSON, so `1.0` stays `1.0`."""


def parse_raw(text: str) -> Any:
    """JSON as Argo holds a wfv1.Item: numbers stay RawNumber text. Raises ValueError."""
    return json.loads(text, parse_float=RawNumber, parse_int=RawNumber)


def format_float(f: float) -> str:
    """encoding/json floatEncoder: 'f' format, 'e' below 1e-6 or from 1e21, shortest digits, "e-07" -> "e-7"."""
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"json: unsupported value: {f!r}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        return re.sub(r"e([-+])0(\d)$", r"e\1\2", repr(f))
    from decimal import Decimal

    return format(Decimal(repr(f)).normalize(), "f")


_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


def _string(text: str) -> str:
    return _HTML_RE.sub(lambda m: _HTML[m.group()], json.dumps(text, ensure_ascii=False))


def marshal(value: Any) -> str:
    """json.Marshal's text: compact; a dict's keys sorted, a Struct's in order; None as null."""
    if isinstance(value, RawNumber):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return format_float(float(value)) if abs(value) >= 2 ** 53 else str(value)  # float64 beyond 2**53
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dict):
        keys = list(value) if isinstance(value, Struct) else sorted(value, key=str)
        return "{" + ",".join(_string(str(k)) + ":" + marshal(value[k]) for k in keys) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(marshal(v) for v in value) + "]"
    raise TypeError(f"cannot marshal {type(value).__name__}")


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def quote(text: str) -> str:
    """strconv.Quote: a double-quoted Go string literal, non-printable characters escaped."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
