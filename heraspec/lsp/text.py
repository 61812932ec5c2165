"""Reading a spec's text around a position, for an editor: how far the token at an error reaches,
and where the cursor is (the keys above it, a key or a value being typed) in YAML or TOML that may
be half-typed and not parse at all.

Positions here are 0-based (line, character) in code points; the server converts them to the
client's units. The cursor reading is by lines: block structure from indentation (YAML) or the
table header above (TOML), flow mappings and arrays on the cursor's own line. It never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_KEY_YAML = re.compile(r"^(\s*)((?:-\s+)*)(\"[^\"]*\"|'[^']*'|[^\s#'\"{}\[\],:][^#{}\[\],:]*?)\s*:(?:\s|$)")
_SEQ_ITEM = re.compile(r"^(\s*)-(?:\s|$)")
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(?:#.*)?$")
_WORD = re.compile(r"[\w.:-]*$")


def _string_end(line: str, i: int) -> int | None:
    """The index after the quoted string that opens at `line[i]` (`"…"` with backslash escapes, or
    `'…'`), or None when it does not close on the line."""
    quote, i = line[i], i + 1
    while i < len(line):
        if line[i] == quote:
            return i + 1
        i += 2 if quote == '"' and line[i] == "\\" else 1
    return None


def _unquoted(line: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Each character of `line[start:]` outside quoted strings, with its index: the one scanner of
    a line's strings (token ends, flow values being typed, TOML's `=`). A string that does not close
    on the line gives its opening quote, last."""
    i = start
    while i < len(line):
        c = line[i]
        if c in "\"'":
            end = _string_end(line, i)
            if end is None:
                yield i, c
                return
            i = end
            continue
        yield i, c
        i += 1


def token_end(line: str, start: int) -> int:
    """The end (exclusive) of the YAML/TOML token starting at `start` of `line`: a quoted string,
    a bracketed flow value, a key (up to its `:` or `=`) or a plain value (up to `,`, `]`, `}` or
    a comment); at least one character when the line has one there."""
    n = len(line)
    if start >= n:
        return start
    c = line[start]
    if c in "\"'":
        return _string_end(line, start) or n
    if c in "[{":
        depth = 0
        for i, ch in _unquoted(line, start):
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                depth -= 1
                if depth == 0:
                    return i + 1
        return len(line.rstrip())
    i = start
    while i < n:
        ch = line[i]
        if ch in ",]}" or ch == "=" or (ch == "#" and i > start and line[i - 1] in " \t"):
            break
        if ch == ":" and (i + 1 == n or line[i + 1] in " \t"):
            break
        i += 1
    end = len(line[start:i].rstrip()) + start
    return max(end, start + 1)


@dataclass
class Cursor:
    """Where the cursor is: `path` is the keys from the root to the mapping or list that holds it;
    `at_key` when a key is being typed there, else a value of `path[-1]` (a list's items count as
    their list's key). `prefix` is the part of the word typed before the cursor, starting at
    `start` (0-based character)."""

    path: tuple[str, ...]
    at_key: bool
    prefix: str
    start: int
    quoted: bool = False  # the cursor is inside a quoted string
    siblings: frozenset = frozenset()  # keys given before the cursor in its flow mapping (`{a: 1, |`)


def cursor(text: str, fmt: str, line: int, character: int) -> Cursor:
    lines = text.split("\n")
    if line >= len(lines):
        lines += [""] * (line - len(lines) + 1)
    cur = lines[line][:character]
    try:
        return _toml_cursor(lines, line, cur) if fmt == "toml" else _yaml_cursor(lines, line, cur)
    except Exception:  # a reading this rough must never take the server down
        m = _WORD.search(cur)
        return Cursor((), True, m.group() if m else "", character - len(m.group()) if m else character)


def _unquote(key: str) -> str:
    key = key.strip()
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'" else key


def _indent(s: str) -> int:
    return len(s) - len(s.lstrip(" "))


def _yaml_cursor(lines: list[str], line: int, cur: str) -> Cursor:
    m = _KEY_YAML.match(cur)
    dashes = _SEQ_ITEM.match(cur)
    own_indent = _indent(cur) if cur.strip() else len(cur)
    if m:
        own_indent = len(m.group(1)) + len(m.group(2))
    elif dashes:
        own_indent = len(dashes.group(1))
    path: list[str] = []
    limit = own_indent
    for prev in reversed(lines[:line]):
        if not prev.strip() or prev.lstrip().startswith("#"):
            continue
        pm = _KEY_YAML.match(prev)
        ind = _indent(prev)
        if pm is None:
            if ind < limit and not _SEQ_ITEM.match(prev):
                limit = ind
            continue
        key_col = len(pm.group(1)) + len(pm.group(2))
        if key_col < limit:
            if prev[pm.end():].strip() in ("", "|", ">") or prev[pm.end():].lstrip().startswith(("#", "&")):
                path.insert(0, _unquote(pm.group(3)))
            limit = key_col if not pm.group(2) else ind
            if limit == 0:
                break
    if m:  # `key: value-being-typed`
        path.append(_unquote(m.group(3)))
        return _flow(path, cur, m.end(), ":")
    if dashes:  # `- item` of the list above
        return _flow(path, cur, dashes.end(), ":", in_list=True)
    return _word_cursor(tuple(path), True, cur)


def _toml_cursor(lines: list[str], line: int, cur: str) -> Cursor:
    table: list[str] = []
    for prev in reversed(lines[:line]):
        h = _TOML_HEADER.match(prev)
        if h:
            table = _dotted(h.group(1))
            break
    h = _TOML_HEADER.match(cur + "]") if cur.lstrip().startswith("[") else None
    if h:  # typing a table header: keys from the root
        keys = _dotted(h.group(1))
        return _word_cursor(tuple(keys if h.group(1).rstrip().endswith(".") else keys[:-1]), True, cur)
    eq = _outside_quotes(cur, "=")
    if eq < 0:
        keys = _dotted(cur.strip())
        return _word_cursor(tuple(table + keys[:-1]), True, cur)
    keys = _dotted(cur[:eq])
    return _flow(table + keys, cur, eq + 1, "=")


def _dotted(text: str) -> list[str]:
    out, part, quote = [], "", ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                part += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            out.append(part.strip())
            part = ""
        else:
            part += ch
    out.append(part.strip())
    return [p for p in out if p] if any(out) else []


def _outside_quotes(s: str, ch: str) -> int:
    for i, c in _unquoted(s):
        if c == ch:
            return i
        if c == "#":
            return -1
    return -1


def _flow(path: list[str], cur: str, start: int, assign: str, in_list: bool = False) -> Cursor:
    """The cursor in `cur[start:]`, a value that may open flow mappings and lists: each `{` holds
    a key being typed until its `:` (`=` in TOML)."""
    stack: list[list] = [["[", None, set()]] if in_list else []  # [kind, key of a mapping or None, keys seen]
    quote_at = -1  # where a string being typed opens
    for i, c in _unquoted(cur, start):
        if c in "\"'":
            quote_at = i
        elif c in "{[":
            stack.append([c, None, set()])
        elif c in "}]":
            if stack:
                stack.pop()
        elif c == "," and stack and stack[-1][0] == "{":
            stack[-1][1] = None
        elif c == assign and stack and stack[-1][0] == "{" and stack[-1][1] is None:
            if assign == "=" or i + 1 == len(cur) or cur[i + 1] in " \t":
                k = cur[_after_sep(cur, i, start):i]
                stack[-1][1] = _unquote(k)
                stack[-1][2].add(stack[-1][1])
        elif c == "#" and i > 0 and cur[i - 1] in " \t" and assign == ":":
            return _word_cursor(tuple(path), False, cur)
    keys = list(path)
    for kind, key, seen in stack:
        if kind == "{":
            if key is None:
                found = _word_cursor(tuple(keys), True, cur, quote_at)
                found.siblings = frozenset(seen)
                return found
            keys.append(key)
    return _word_cursor(tuple(keys), False, cur, quote_at)


def _after_sep(cur: str, i: int, start: int) -> int:
    j = i
    while j > start and cur[j - 1] not in "{,":
        j -= 1
    return j


def _word_cursor(path: tuple, at_key: bool, cur: str, quote_at: int = -1) -> Cursor:
    if quote_at >= 0:
        return Cursor(path, at_key, cur[quote_at + 1:], quote_at + 1, quoted=True)
    m = _WORD.search(cur)
    word = m.group() if m else ""
    if word.startswith("-") and at_key:
        word = word.lstrip("-")
    return Cursor(path, at_key, word, len(cur) - len(word))


def sibling_keys(text: str, fmt: str, line: int) -> set[str]:
    """The keys written beside the cursor's line (its YAML block, its TOML table), read from the
    text, so a key already given is not offered again while the spec does not parse."""
    lines = text.split("\n")
    cur = lines[line] if line < len(lines) else ""
    out: set[str] = set()
    if fmt == "toml":
        for rng in (range(line - 1, -1, -1), range(line + 1, len(lines))):
            for i in rng:
                if _TOML_HEADER.match(lines[i]):
                    break
                eq = _outside_quotes(lines[i], "=")
                if eq > 0:
                    out.update(_dotted(lines[i][:eq])[:1])
        return out
    ind = _indent(cur) if cur.strip() else len(cur)
    for rng in (range(line - 1, -1, -1), range(line + 1, len(lines))):
        for i in rng:
            ln = lines[i]
            if not ln.strip() or ln.lstrip().startswith("#"):
                continue
            if _indent(ln) < ind:
                break
            m = _KEY_YAML.match(ln)
            if _indent(ln) == ind and m and not m.group(2):
                out.add(_unquote(m.group(3)))
    return out


_FUNCTION = re.compile(r"""\bfunction\s*[:=]\s*["']?([A-Za-z_][\w.]*:[A-Za-z_]\w*)""")


def function_of(text: str, fmt: str, path: tuple) -> str | None:
    """The `function` of the task body at key `path` (("tasks", "A") or ("on_exit",)), read from
    the text: what args complete against while the spec does not parse."""
    if not path:
        return None
    lines = text.split("\n")
    if fmt == "toml":
        header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in path) + r"\s*\]")
        inline = re.compile(r"^\s*" + re.escape(path[-1]) + r"\s*=\s*\{")
        for i, ln in enumerate(lines):
            if header.match(ln):
                for body in lines[i + 1:]:
                    if _TOML_HEADER.match(body):
                        break
                    m = _FUNCTION.search(body)
                    if m:
                        return m.group(1)
            elif inline.match(ln):
                m = _FUNCTION.search(ln)
                if m:
                    return m.group(1)
        return None
    key = re.compile(r"^(\s*)" + re.escape(path[-1]) + r"\s*:(.*)$")
    for i, ln in enumerate(lines):
        m = key.match(ln)
        if not m:
            continue
        found = _FUNCTION.search(m.group(2))
        if found:
            return found.group(1)
        for body in lines[i + 1:]:
            if body.strip() and _indent(body) <= len(m.group(1)):
                break
            found = _FUNCTION.search(body)
            if found and _KEY_YAML.match(body) and _KEY_YAML.match(body).group(3) == "function":
                return found.group(1)
    return None
