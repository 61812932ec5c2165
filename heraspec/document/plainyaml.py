"""The loader's fast path: a spec written in plain one-line-per-entry YAML, read without libyaml.

    read_plain_yaml(text, resolve) -> data | NOT_PLAIN

libyaml parses a 5,000-task spec in ~13 ms, but turning its events into Python objects (two marks
and an event per node) and then into data costs ~60 ms more. Large specs are mostly generated and
written in a small part of YAML, which this reads line by line with a few regexes. It gives exactly
the data the general path (load.load_yaml_events, over libyaml's events) builds, or NOT_PLAIN for anything
outside that part, which the general path then reads (and reports, if it is wrong). The part:

- printable ASCII and newlines only (no tab, no control character, no other encoding);
- a block mapping at column 0 whose entries are `KEY:` (a nested block or null follows) or
  `KEY: VALUE`; block sequences `- VALUE`, indented or not, under a `KEY:`; blank and comment lines;
- a VALUE on one line: a plain scalar, a quoted one without escapes ('...' without '', "..."
  without backslash), or a flow collection of those (`{a: 1, b: [x, y]}`), then maybe a comment;
- keys are plain, at most 256 characters; no anchor, alias, tag, block scalar, merge key,
  multi-line scalar, document marker, directive, duplicate key, or list of more than load.MAX_ITEMS
  items (the general path reports it).

A plain scalar resolves through `resolve` (load.resolve_plain, YAML 1.2's core schema); a key is
its text (the general path's rule). tests/test_plainyaml.py compares both paths on the part's edge
cases and on generated and mutated documents.
"""

from __future__ import annotations

import re
from typing import Any, Callable

NOT_PLAIN: Any = object()  # read_plain_yaml's answer for a text outside the part: use the general path

_MAX_NESTING = 20  # deeper documents (rare; load.MAX_DEPTH limits them) take the general path
_MAX_ITEMS = 100_000  # load.MAX_ITEMS (not imported: load imports this module)


# A plain scalar starts with a letter, digit or one of `_./~+$(`, or `-` before one of those; it
# holds no `#`, a `:` only before a character that may start one, and spaces only between words
# (libyaml strips the ones at its ends). In a flow collection it also holds none of `?,[]{}`.
_SAFE = "A-Za-z0-9_./~+$("  # what may start a plain scalar, and follow a `:` inside one
_START = rf"(?:[{_SAFE}]|-(?=[{_SAFE}]))"
_BLOCK_PLAIN = rf"{_START}[^#: ]*(?:(?: +|:(?=[{_SAFE}-]))[^#: ]+)*"
_FLOW_PLAIN = rf"{_START}[^#:?,\[\]{{}} ]*(?:(?: +|:(?=[{_SAFE}-]))[^#:?,\[\]{{}} ]+)*"

_MAX_KEY = 256  # the longest key read here (libyaml refuses a "simple key" over 1,024 characters)

# one entry line: indent, then `KEY:` or `-`, then the rest (trailing spaces dropped)
_ENTRY = re.compile(rf"( *)(?:([A-Za-z0-9_$][A-Za-z0-9_.$/-]{{0,{_MAX_KEY - 1}}}):|(-))(?: +(.*[^ ]))? *")
_SKIPPED = re.compile(r" *(?:#.*)?")  # a blank or comment line
_VALUE = re.compile(rf"(?:({_BLOCK_PLAIN})|'([^']*)'|\"([^\"\\]*)\")(?: +#.*)?")
# flow tokens: an indicator, a key (`PLAIN: `), a scalar, or anything else (the text is then outside the part)
_TOKEN = re.compile(rf" *(?:([\[\]{{}},])|({_FLOW_PLAIN})(: )?|('[^']*'|\"[^\"\\]*\")|(.))")


_NODE, _KEY, _AFTER = "node", "key", "after"  # what a flow collection's next token must be
_UNSEEN: Any = object()


class _Outside(Exception):
    """The text is outside the part this module reads."""


def read_plain_yaml(text: str, resolve: Callable[[str], Any]) -> Any:
    """The data of `text` exactly as load.load_yaml_events builds it, or NOT_PLAIN (see the module docstring)."""
    if not (text.isascii() and text.replace("\n", " ").isprintable()):  # printable ASCII and newlines
        return NOT_PLAIN
    try:
        return _Reader(resolve).read(text)
    except _Outside:
        return NOT_PLAIN


class _Reader:
    def __init__(self, resolve: Callable[[str], Any]):
        self.resolve = resolve
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value (keys, names, references repeat)

    def read(self, text: str) -> dict:
        root: dict = {}
        # the open block collections, innermost last: [indent, the mapping or list, whether it is a
        # list at its key's own indent (`key:` then `- item` lines at the same indent)]
        stack: list[list] = [[0, root, False]]
        pending: tuple[dict, str, int] | None = None  # a `KEY:` without value: (its mapping, key, indent)
        entry, skipped, value_of = _ENTRY.fullmatch, _SKIPPED.fullmatch, self.value
        for line in text.split("\n"):
            m = entry(line)
            if m is None:
                if skipped(line) is None:
                    raise _Outside
                continue
            spaces, key, dash, rest = m.groups()
            indent = len(spaces)
            if pending is not None:
                parent, pkey, pindent = pending
                pending = None
                if indent > pindent or (indent == pindent and dash):  # the key's block value starts
                    if len(stack) >= _MAX_NESTING:
                        raise _Outside
                    block: Any = [] if dash else {}
                    parent[pkey] = block
                    stack.append([indent, block, indent == pindent])
            top = stack[-1]
            while top[0] > indent or (top[2] and not dash):  # close the blocks this line is outside of
                stack.pop()
                top = stack[-1]
            if top[0] != indent:
                raise _Outside
            container = top[1]
            if dash:
                if type(container) is not list or not rest or rest[0] == "#" or len(container) >= _MAX_ITEMS:
                    raise _Outside
                container.append(value_of(rest, len(stack)))
            elif type(container) is not dict or key in container:  # a duplicate: the general path reports it
                raise _Outside
            elif not rest or rest[0] == "#":
                container[key] = None  # null, unless a block follows
                pending = (container, key, indent)
            else:
                container[key] = value_of(rest, len(stack))
        if not root:
            raise _Outside
        return root

    def value(self, text: str, depth: int) -> Any:
        """The value of an entry's rest inside `depth` open blocks: a scalar or a flow collection."""
        if text[0] == "[" or text[0] == "{":
            return self.flow(text, depth)
        m = _VALUE.fullmatch(text)
        if m is None:
            raise _Outside
        plain, single, double = m.groups()
        if plain is None:
            return single if single is not None else double
        value = self.plain.get(plain, _UNSEEN)
        if value is _UNSEEN:
            value = self.plain[plain] = self.resolve(plain)
        return value

    def flow(self, text: str, depth: int) -> Any:
        """A flow collection on one line with nothing but a comment after it, inside `depth` open blocks."""
        if "#" in text:  # `[a, b]  # comment` (a `#` in a quoted scalar cuts it short: the tokens refuse)
            text = text.partition(" #")[0].rstrip(" ")
            if "#" in text:
                raise _Outside
        plain_values, resolve = self.plain, self.resolve
        outer: list = []  # holds the collection once read
        stack: list[Any] = [outer]  # the open collections, innermost last
        top: Any = outer
        key = ""  # in a mapping: the key of the value that comes next
        want = _NODE
        for indicator, plain, colon, quoted, _ in _TOKEN.findall(text):
            if want is _AFTER:  # after a node: `,` or the closing bracket
                if top is outer:  # something after the collection
                    raise _Outside
                if indicator == ",":
                    want = _KEY if type(top) is dict else _NODE
                elif indicator == ("]" if type(top) is list else "}"):
                    if type(top) is list and len(top) > _MAX_ITEMS:
                        raise _Outside
                    stack.pop()
                    top = stack[-1]
                else:
                    raise _Outside
                continue
            if want is _KEY:  # in a mapping: `PLAIN: `, or the `}` of an empty one
                if colon and len(plain) <= _MAX_KEY and plain not in top:
                    key = plain
                    want = _NODE
                elif indicator == "}" and not top:
                    stack.pop()
                    top = stack[-1]
                    want = _AFTER
                else:  # (a duplicate key: the general path reports it)
                    raise _Outside
                continue
            if plain and not colon:
                value = plain_values.get(plain, _UNSEEN)
                if value is _UNSEEN:
                    value = plain_values[plain] = resolve(plain)
            elif quoted:
                value = quoted[1:-1]
            elif indicator == "[" or indicator == "{":
                value = [] if indicator == "[" else {}
            elif indicator == "]" and not top and top is not outer:  # the `]` of an empty list
                stack.pop()
                top = stack[-1]
                want = _AFTER
                continue
            else:
                raise _Outside
            if type(top) is list:
                top.append(value)
            else:
                top[key] = value
            if indicator:  # a collection opens
                if len(stack) + depth > _MAX_NESTING:
                    raise _Outside
                stack.append(value)
                top = value
                want = _KEY if indicator == "{" else _NODE
            else:
                want = _AFTER
        if top is not outer or want is not _AFTER:
            raise _Outside
        return outer[0]
