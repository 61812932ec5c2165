"""The top-level statements of a module, found without parsing it, so that only the statements a
function needs are parsed (`closure.ModuleInfo`): a 5,000-line module of helpers is read in a few
milliseconds instead of the ~45 ms of `ast.parse` plus the indexing of every definition.

    split(source) -> list[Segment] | None       None: in doubt, parse the whole module instead

A top-level statement starts on a line whose first character is at column 0 and is not inside a
string, a bracket or a backslash continuation (Python's tokenizer: the indentation is 0, so a
NEWLINE and no INDENT came before it). One compiled regular expression finds the strings (every
prefix, triple quotes, escapes), comments, brackets, continuations and those line starts; on
Python 3.12+ f-strings nest (PEP 701), so their extent is found by `_fstring`, which follows the
tokenizer's f-string mode (Parser/lexer/lexer.c `tok_get_fstring_mode`). Decorators belong to the
`def`/`class` after them, and `else`/`elif`/`except`/`finally` to the statement before them.

The result is checked where it is used (closure.py): a segment is parsed at its own lines and
must give statements within them, a def/class exactly one of the kind and name found here, else
the whole module is parsed. Anything this module is unsure about returns None: an unterminated
string or bracket, a form feed in an indentation, a backslash where a statement starts, code
indented on the first line, a decorator without a definition, `else` after a definition.
"""

from __future__ import annotations

import re
import sys
from typing import NamedTuple

__all__ = ["Segment", "split"]

_PEP701 = sys.version_info >= (3, 12)  # f-strings nest; before, the tokenizer read them as plain strings
_FORMATTED = "fFtT" if sys.version_info >= (3, 14) else "fF"  # t-strings (PEP 750) are tokenized alike

_BODY = (  # a string after its prefix; `\\[\s\S]` is what the tokenizer skips after a backslash
    r"'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""'
    r"|'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'"
    r'|"[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"'
)
_OTHER = r"""[^'"#\\()\[\]{}\n]*"""  # characters that cannot change the state, and newlines
_TOKENS = re.compile(  # that are not before a statement: skipped in one go, the rest one token at a time
    rf"{_OTHER}(?:\n(?![^ \t\n#]){_OTHER})*"
    rf"(?:(?P<s>{_BODY})"  # a string: its prefix (before the quote) changes its extent only for f-strings
    r"""|(?P<bad>['"])"""  # a quote no string pattern took: an unterminated string
    r"|#[^\n]*"
    r"|\\\n"
    r"|(?P<o>[(\[{])"
    r"|(?P<c>[)\]}])"
    r"|(?P<bs>\\)"  # a backslash not before a newline (a syntax error)
    r"|\n(?P<nl>[^ \t\n#])"  # a line whose first character is at column 0, not a comment
    r"|(?P<end>\Z))"
)
_STRING = re.compile(_BODY)
_DEF = re.compile(r"(async[ \t]+def|def|class)[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*[(\[:]")
_CLAUSE = re.compile(r"(?:else|elif|except|finally)\b")
_LEAD = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*(?:[ \t]*(?:#[^\n]*)?\Z)?")
_FORM_FEED = re.compile(r"^[ \t]*\f", re.M)  # the tokenizer resets the column at a form feed


class Segment(NamedTuple):
    """One top-level statement (with its decorators): `source[start:end]`, trailing comments and
    blank lines included."""

    start: int
    end: int
    line: int  # 1-based line of `start`
    kind: str  # "def" | "async def" | "class" (binds `name`, read from the header) | "" (parse it to know)
    name: str


def split(source: str) -> list[Segment] | None:
    """The module's top-level statements in order, or None when the text is not surely read right."""
    if "\0" in source or _FORM_FEED.search(source):
        return None
    starts = _starts(source)
    if starts is None:
        return None
    lead = _LEAD.match(source).end()  # comments and blank lines before the first statement
    if lead == len(source):
        return []
    if lead:
        if starts[1:2] != [lead]:
            return None  # code indented on the first lines: "unexpected indent"
        starts = starts[1:]
    elif source[:1] in (" ", "\t"):
        return None
    return _group(source, starts)


def _starts(src: str) -> list[int] | None:
    """Offsets of the lines where a top-level statement (or a decorator, or an `else:`) starts."""
    starts = [0]
    depth = 0
    pos = 0
    match = _TOKENS.match
    while True:
        m = match(src, pos)  # always matches: every character is skipped or starts a token
        kind = m.lastgroup
        pos = m.end()
        if kind == "nl":
            if depth == 0:
                starts.append(m.start(kind))
            pos -= 1
        elif kind == "o":
            depth += 1
        elif kind == "c":
            depth -= 1
            if depth < 0:
                return None
        elif kind in ("s", "bad"):
            quote = m.start(kind)
            if _PEP701 and quote and src[quote - 1] in _FORMATTED + "rR":  # maybe an f-string: it nests
                end = _string_end(src, quote)
                if end is None:
                    return None
                pos = end
            elif kind == "bad":
                return None
        elif kind == "bs":
            return None
        elif kind == "end":
            break
    return starts if depth == 0 else None


def _group(src: str, starts: list[int]) -> list[Segment] | None:
    out: list[Segment] = []
    decorated: int | None = None  # start of the decorators waiting for their def/class
    line, counted = 1, 0
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(src)
        first = src[start]
        if first == "\\":
            return None  # a continuation at column 0
        if first == "@":
            decorated = start if decorated is None else decorated
            continue
        header = _DEF.match(src, start)
        if decorated is not None and header is None:
            return None  # a decorator must precede a def or class
        if header is None and _CLAUSE.match(src, start):
            if not out or out[-1].kind:
                return None  # `else:` after a definition, or first in the file
            out[-1] = Segment(out[-1].start, end, out[-1].line, "", "")
            continue
        begin = start if decorated is None else decorated
        decorated = None
        line += src.count("\n", counted, begin)
        counted = begin
        kind = "" if header is None else " ".join(header.group(1).split())
        out.append(Segment(begin, end, line, kind, header.group(2) if header else ""))
    return None if decorated is not None else out


# --- f-strings on Python 3.12+ (PEP 701): replacement fields hold any expression, quotes included ---

_LITERAL = {q: re.compile(r"[{}\\" + ("\n" if len(q) == 1 else "") + q[0] + "]") for q in ("'", '"', "'''", '"""')}
_FIELD = re.compile(r"""[][(){}:'"#\\]""")
_PREFIXES = {"r", "u", "b", "br", "rb", *(p for f in _FORMATTED.lower() for p in (f, f + "r", "r" + f))}
_NAMED = re.compile(r"\\N\{[^}'\"\n]*\}")


def _prefix_start(src: str, quote: int) -> int:
    """Where the prefix of the string whose quote is at `quote` starts (the quote itself if none):
    a prefix is a whole word (`xr"a"` is the name `xr` and a plain string)."""
    for k in (quote - 2, quote - 1):
        if k >= 0 and src[k:quote].lower() in _PREFIXES and not (k > 0 and (src[k - 1].isalnum() or src[k - 1] == "_")):
            return k
    return quote


def _string_end(src: str, quote: int) -> int | None:
    """The end of the string whose (first) quote is at `quote`, or None if it is unterminated."""
    begin = _prefix_start(src, quote)
    prefix = src[begin:quote].lower()
    if any(f in prefix for f in _FORMATTED.lower()):
        q = src[quote] * 3 if src.startswith(src[quote] * 3, quote) else src[quote]
        return _fstring(src, quote + len(q), q, "r" in prefix)
    m = _STRING.match(src, quote)
    return None if m is None else m.end()


def _fstring(src: str, pos: int, quote: str, raw: bool, spec: bool = False) -> int | None:
    """The end of an f-string's literal text from `pos`: after its closing quotes, or, in a format
    spec (`spec`), after the `}` closing the replacement field; None if unterminated or invalid."""
    literal = _LITERAL[quote]
    while True:
        m = literal.search(src, pos)
        if m is None:
            return None
        c, j = m.group(), m.start()
        end: int | None
        if c == "{":
            if not spec and src.startswith("{", j + 1):  # `{{` is a brace (not in a spec)
                pos = j + 2
                continue
            end = _field(src, j + 1, quote, raw)
        elif c == "}":
            if spec:
                return j + 1
            if not src.startswith("}", j + 1):
                return None  # "f-string: single '}' is not allowed"
            end = j + 2
        elif c == "\\":
            end = _escape(src, j, raw)
        elif c == "\n":  # single-quoted: unterminated, or a spec ends and its expression goes on
            return _field(src, j, quote, raw) if spec else None
        elif src.startswith(quote, j):
            return None if spec else j + len(quote)  # the f-string ends inside a field: a syntax error
        else:
            end = j + 1
        if end is None:
            return None
        pos = end


def _escape(src: str, j: int, raw: bool) -> int | None:
    """After a backslash at `j` in the literal text: `\\{` leaves the brace to be read."""
    nxt = src[j + 1 : j + 2]
    if nxt in ("{", "}"):
        return j + 1
    if nxt == "N" and not raw and src.startswith("{", j + 2):
        m = _NAMED.match(src, j)
        return None if m is None else m.end()
    return j + 2 if nxt else None


def _field(src: str, pos: int, quote: str, raw: bool) -> int | None:
    """The end (after `}`) of a replacement field whose expression starts at `pos`."""
    depth = 0
    while True:
        m = _FIELD.search(src, pos)
        if m is None:
            return None
        c, j = m.group(), m.start()
        pos = j + 1
        if c in "([{":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth < 0:
                return None
        elif c == "}":
            if depth == 0:
                return pos
            depth -= 1
        elif c == ":":
            if depth == 0:
                return _fstring(src, pos, quote, raw, spec=True)
        elif c == "#":
            newline = src.find("\n", j)
            if newline < 0:
                return None
            pos = newline
        elif c == "\\":
            if not src.startswith("\n", pos):
                return None
            pos += 1
        else:  # a string inside the expression: any quotes, the f-string's own too (PEP 701)
            end = _string_end(src, j)
            if end is None:
                return None
            pos = end
