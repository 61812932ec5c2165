"""Compiled manifests -> deterministic YAML and JSON text.

The YAML is block style the way kubectl prints it: `key: value`, sequence items at their key's own
indentation (`- ` is the indentation), a mapping inside a sequence starting on the `- ` line, `{}` / `[]`
for empty containers -- except small flat mappings in sequences, which take one flow-style line (below).
Keys keep insertion order (the compiler decides it); nothing is ever sorted, so the same input gives
byte-identical output.

Every string must read back as the same string under YAML 1.2 (ruamel), YAML 1.1 (PyYAML) and the
YAML 1.1 of Go's yaml.v2 / sigs.k8s.io/yaml (what Argo and kubectl use). A string is written:

* plain, when nothing could misread it: not empty; no leading/trailing space; no leading indicator
  (``-?:,[]{}#&*!|>'"%@` ``); no ``: ``, `` #``, trailing ``:`` or ``{{`` (Argo expressions are
  always quoted); no control, tab, non-printable or special unicode character (NEL, LS, PS, BOM);
  and it does not resolve to another type in either YAML version: bool/null words in any case
  (``y n yes no on off true false null ~``), ``=`` and ``<<``, any YAML 1.1/1.2/Go number form
  (``1e3 0x1F 0o17 017 1_000 .5 +1 .inf .nan 1:20 0x1p3``) or anything starting like a date
  (``2024-1``). The number test is deliberately generous: over-quoting is harmless.
* as a literal block (``|``, ``|-``, ``|+``; ``|2`` when it starts with a space, tab or newline),
  when it spans lines and holds only printable characters, tabs and ``\\n`` -- script sources stay
  readable in diffs;
* double-quoted otherwise, escaping ``\\``, ``"``, ``\\t \\n \\r`` and every other non-printable or
  special character as ``\\xNN`` / ``\\uNNNN``, so the scalar stays on one line.

A small flat mapping in a sequence (two or more keys, every value a one-line scalar, the whole line
within ``_FLOW_WIDTH`` columns) is written on one line in flow style, ``- {name: i, value: "1"}``,
the way Argo's own examples write parameters and env entries: one line per argument reads and diffs
well, and a 5,000-task manifest is smaller. Inside the braces a plain scalar also may not hold a flow
indicator or ``:`` / ``?`` / ``#`` (PyYAML and old libyaml end or reject plain scalars there); such
strings are double-quoted.

Keys follow the same rules but are never literal blocks; a key longer than YAML's 1024-character
implicit-key limit uses the explicit ``? key`` / ``: value`` form. Floats use ``repr`` with a ``.0``
added before a bare exponent (YAML 1.1 floats need a dot), ``.inf``/``.nan`` for the specials.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["dump_yaml", "to_json", "to_yaml"]

# Characters YAML may not hold raw in a scalar, or that some parser treats as a line break / BOM.
_SPECIAL = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff"
_BAD_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@` ")  # YAML indicators, and leading space
_DQ_NAMED = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}


class _Re:
    """The regexes, compiled on first use: compiling them costs more than the rest of the import."""

    ready = False
    not_plain: re.Pattern[str]
    not_literal: re.Pattern[str]
    dq_escape: re.Pattern[str]
    resolves: re.Pattern[str]

    @classmethod
    def compile(cls) -> None:
        cls.not_plain = re.compile(r": | \#|\{\{|[\t\n" + _SPECIAL + "]")
        cls.not_literal = re.compile("[" + _SPECIAL + "]")
        cls.dq_escape = re.compile(r'[\\"\t\n' + _SPECIAL + "]")
        # Strings some resolver (PyYAML 1.1, ruamel 1.2, Go yaml.v2 which strips "_" and then
        # tries strconv.ParseInt/ParseFloat) reads as a bool, null, number, date, merge or value.
        cls.resolves = re.compile(
            r"""(?ix)
            y|n|yes|no|on|off|true|false|null|~|=|<<
            | [-+]? (?:
                \.?(?:inf|infinity|nan)
              | (?=[0-9_.]) [0-9_]*\.?[0-9_]* (?:e[-+]?[0-9_]+)?  # ints, decimals, exponents
              | [0-9_]+ (?::[0-9_]*)+ (?:\.[0-9_]*)?              # YAML 1.1 sexagesimal 1:20
              | 0[box][-+]?[0-9a-f_.]* (?:p[-+]?[0-9_]+)?          # 0b 0o 0x, Go hex floats
            )
            | [0-9]{4}-[0-9].*                                    # timestamps and dates
            """
        )
        cls.ready = True


_FLOW_WIDTH = 100  # longest line a flow-style `- {k: v, ...}` item may make
_FLOW_UNSAFE = frozenset(",?[]{}:#")  # may not appear in a plain scalar inside braces
_MAY_RESOLVE = frozenset("yYnNoOtTfF~=<+-.0123456789_iI")  # first characters _Re.resolves can match
_SIMPLE_KEY_MAX = 1000  # YAML parsers reject implicit keys over 1024 characters

_Formatted = str | tuple  # a one-line scalar, or (block header, lines) for a literal block
_cache: dict[str, _Formatted] = {}  # repeated strings (names, images, expressions) format once
_flow_cache: dict[str, str | None] = {}  # the same, inside braces (None: has no one-line form)
_NL = ["\n" + "  " * i for i in range(64)]  # newline + indentation, by nesting level (_nl)
_MISSING = object()  # not in a cache (whose values may be None)
# a mapping key -> its text before ":", for keys written plainly on one line within the implicit-key
# limit (what _key gives them); most keys of a manifest are a few names repeated thousands of times
_keys: dict[str, str] = {}


def _dq_char(m: re.Match[str]) -> str:
    c = m.group()
    named = _DQ_NAMED.get(c)
    if named is not None:
        return named
    o = ord(c)
    return f"\\x{o:02X}" if o < 0x100 else f"\\u{o:04X}"


def _double_quoted(s: str) -> str:
    return '"' + _Re.dq_escape.sub(_dq_char, s) + '"'


def _resolves(s: str) -> bool:
    # Go's yaml.v2 drops every "_" before trying a number, so "0_x1F" is 31 there.
    return bool(_Re.resolves.fullmatch(s) or ("_" in s and _Re.resolves.fullmatch(s.replace("_", ""))))


_WORDS = frozenset("y n yes no on off true false null inf infinity nan".split())  # what a letter may start to resolve


def _format(s: str) -> _Formatted:
    if s.isascii() and s.replace("-", "").isalnum():  # names and numbers: most strings of a manifest
        if s[0].isalpha() and s.lower() not in _WORDS:
            r: _Formatted = s  # a letter, then letters, digits and '-': nothing could misread it
        elif s.isdigit():
            r = '"' + s + '"'  # an integer's digits: double-quoted, nothing to escape
        else:
            r = _format_slow(s)
    else:
        r = _format_slow(s)
    if len(_cache) > 500_000:
        _cache.clear()
    _cache[s] = r
    return r


def _format_slow(s: str) -> _Formatted:
    if not _Re.ready:
        _Re.compile()
    if (
        s
        and s[0] not in _BAD_FIRST
        and s[-1] not in " :"
        and not _Re.not_plain.search(s)
        and not (s[0] in _MAY_RESOLVE and _resolves(s))
    ):
        r: _Formatted = s
    elif "\n" in s and s.strip(" \t\n") and not _Re.not_literal.search(s):
        chomp = "-" if s[-1] != "\n" else ("+" if s.endswith("\n\n") else "")
        lines = s.split("\n")
        if s[-1] == "\n":
            lines.pop()  # the final line break is the block's own, not an extra line
        # An explicit indentation indicator stops parsers guessing it from a first line that
        # starts with whitespace (libyaml rejects a leading tab without one).
        r = ("|" + ("2" if s[0] in " \t\n" else "") + chomp, lines)
    else:
        r = _double_quoted(s)
    return r


def _float(v: float) -> str:
    if math.isnan(v):
        return ".nan"
    if math.isinf(v):
        return ".inf" if v > 0 else "-.inf"
    r = repr(v)
    return r.replace("e", ".0e", 1) if "e" in r and "." not in r else r


def _key(k: Any, sep: str, lvl: int) -> str:
    """`sep` + the key + ":"; the explicit `? key` form past the implicit-key length limit."""
    if isinstance(k, str):
        r = _cache.get(k)
        if r is None:
            r = _format(k)
        if type(r) is not str:
            r = _double_quoted(k)
    else:
        r = _scalar(k)
    if len(r) > _SIMPLE_KEY_MAX:
        return f"{sep}? {r}{_nl(lvl)}:"
    return f"{sep}{r}:"


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return int.__repr__(v)
    if isinstance(v, float):
        return _float(v)
    raise TypeError(f"cannot emit {type(v).__name__} as YAML: {v!r}")


def _flow_str(s: str) -> str | None:
    r = _cache.get(s)
    if r is None:
        r = _format(s)
    if type(r) is not str:
        f = None  # spans lines: stays a literal block
    elif r[0] != '"' and not _FLOW_UNSAFE.isdisjoint(r):
        f = _double_quoted(s)
    else:
        f = r
    if len(_flow_cache) > 500_000:
        _flow_cache.clear()
    _flow_cache[s] = f
    return f


def _flow_map(d: dict, room: int) -> str | None:
    """`{k: v, ...}` for a flat mapping that fits in `room` characters, else None (block style)."""
    for v in d.values():  # a nested value (a DAG task's arguments) rules it out before anything is formatted
        t = type(v)
        if t is dict or t is list or t is tuple:
            return None
    parts = []
    cache = _flow_cache
    for k, v in d.items():
        if type(k) is not str:
            return None
        fk = cache.get(k, _MISSING)
        if fk is _MISSING:
            fk = _flow_str(k)
        if fk is None:
            return None
        if type(v) is str:
            fv = cache.get(v, _MISSING)
            if fv is _MISSING:
                fv = _flow_str(v)
            if fv is None:
                return None
        elif v is None or isinstance(v, (bool, int, float)):
            fv = _scalar(v)
        else:
            return None
        parts.append(f"{fk}: {fv}")
        room -= len(fk) + len(fv) + 4
        if room < 0:
            return None
    return "{" + ", ".join(parts) + "}"


def _nl(lvl: int) -> str:
    while lvl >= len(_NL):
        _NL.append(_NL[-1] + "  ")
    return _NL[lvl]


def _value(head: str, v: Any, lvl: int, out: list[str]) -> None:
    """Append `v` after `head` (a "key:" or "-" already positioned); children go at `lvl`."""
    t = type(v)
    if t is str or isinstance(v, str):
        v = str(v)
        r = _cache.get(v)
        if r is None:
            r = _format(v)
        if type(r) is str:
            out.append(f"{head} {r}")
        else:
            nl = _nl(lvl)
            out.append(f"{head} {r[0]}")
            out.extend([nl + line if line else "\n" for line in r[1]])
    elif t is dict or isinstance(v, dict):
        if v:
            out.append(head)
            _map(v, lvl, out, _nl(lvl))
        else:
            out.append(f"{head} {{}}")
    elif t is list or isinstance(v, (list, tuple)):
        if v:
            out.append(head)
            _seq(v, lvl - 1, out, _nl(lvl - 1))  # reached from a mapping only: "- " at the key's indentation
        else:
            out.append(f"{head} []")
    else:
        out.append(f"{head} {_scalar(v)}")


def _plain_key(k: str) -> str | None:
    """The text of key `k` when it is written plainly on one line (_key's `key:` form), else None."""
    r = _cache.get(k)
    if r is None:
        r = _format(k)
    if type(r) is not str or len(r) > _SIMPLE_KEY_MAX:
        return None
    if len(_keys) > 500_000:
        _keys.clear()
    _keys[k] = r
    return r


def _map(d: dict, lvl: int, out: list[str], first: str) -> None:
    child = lvl + 1
    try:
        nl, cnl = _NL[lvl], _NL[child]
    except IndexError:
        nl, cnl = _nl(lvl), _nl(child)
    sep = first
    cache = _cache
    keys = _keys
    for k, v in d.items():
        if type(k) is str:
            rk = keys.get(k)
            if rk is None:
                rk = _plain_key(k)
        else:
            rk = None
        t = type(v)
        if rk is not None:
            # The common shapes inline (this loop runs for every node of a 20,000-task manifest).
            if t is str:
                rv = cache.get(v)
                if rv is None:
                    rv = _format(v)
                if type(rv) is str:
                    out.append(f"{sep}{rk}: {rv}")
                    sep = nl
                    continue
            head = f"{sep}{rk}:"
        else:
            head = _key(k, sep, lvl)
        sep = nl
        if t is str:
            rv = cache.get(v)
            if rv is None:
                rv = _format(v)
            if type(rv) is str:
                out.append(f"{head} {rv}")
                continue
        elif t is dict and v:
            out.append(head)
            _map(v, child, out, cnl)
            continue
        elif t is list and v:
            out.append(head)
            _seq(v, lvl, out, nl)  # kubectl's (and Hera's) style: "- " at the key's own indentation
            continue
        _value(head, v, child, out)


def _seq(a: list | tuple, lvl: int, out: list[str], first: str) -> None:
    nl = _NL[lvl] if lvl < len(_NL) else _nl(lvl)
    sep = first
    child = lvl + 1
    cache = _cache
    for v in a:
        t = type(v)
        if t is str:
            rv = cache.get(v)
            if type(rv) is str:
                out.append(f"{sep}- {rv}")
                sep = nl
                continue
        elif v and (t is dict or isinstance(v, dict)):
            flow = _flow_map(v, _FLOW_WIDTH - 2 * lvl - 2) if len(v) > 1 else None
            if flow is not None:
                out.append(f"{sep}- {flow}")
                sep = nl
                continue
            out.append(sep + "- ")
            _map(v, child, out, "")  # the item's first key shares the "- " line
            sep = nl
            continue
        elif v and (t is list or isinstance(v, (list, tuple))):
            out.append(sep + "- ")
            _seq(v, child, out, "")
            sep = nl
            continue
        _value(sep + "-", v, child, out)
        sep = nl


def dump_yaml(doc: Any) -> str:
    """One YAML document (no `---`), ending with a newline."""
    out: list[str] = []
    if isinstance(doc, dict) and doc:
        _map(doc, 0, out, "")
    elif isinstance(doc, (list, tuple)) and doc:
        _seq(doc, 0, out, "")
    else:
        _value("", doc, 1, out)
        out[0] = out[0][1:]  # no "key:" before a top-level scalar, so drop its separating space
    out.append("\n")
    return "".join(out)


def to_yaml(docs: list[dict]) -> str:
    """Several documents separated by `---` lines; a single document has no leading `---`."""
    return "---\n".join([dump_yaml(doc) for doc in docs])


def to_json(docs: list[dict], *, pretty: bool = True) -> str:
    """One document as that object, several as a JSON list, UTF-8 kept as is; `pretty`: 2-space
    indent, else compact (no spaces: the bytes the API server stores, what counts toward its 1 MiB)."""
    data = docs[0] if len(docs) == 1 else list(docs)
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
