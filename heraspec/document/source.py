"""Positions: a data path such as ("tasks", "B", "resources", "cpu") -> 1-based (line, col).

Both are found from the text on the first look-up: a spec without errors never needs a position,
and keeping libyaml's node tree (every node with two marks) from loading to the end cost more
memory than the data. YAML reads libyaml's events once more into a compact index (YamlPositions);
TOML parsers give no positions for values, so a small scanner reads the (already valid) TOML text
once and records where every key and value starts. A path that cannot be found falls back to its
nearest ancestor, so every error still points somewhere useful."""

from __future__ import annotations

from typing import Any, Callable, Protocol

from .yamltags import MERGE, import_yaml, scalar_tag


class Positions(Protocol):
    def find(self, path: tuple, *, key: bool = False) -> tuple[int, int]: ...

    def find_in_string(self, path: tuple, offset: int) -> tuple[int, int]: ...


_COL_BITS = 25  # columns up to 32 Mi: a spec's lines are shorter than its size limit


def _pack(mark: Any, flags: int = 0) -> int:
    """A mark's 1-based (line, col) and two flags in one int (one object per position)."""
    return ((mark.line + 1) << _COL_BITS | (mark.column + 1)) << 2 | flags


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> (_COL_BITS + 2), (packed >> 2) & ((1 << _COL_BITS) - 1)


_ONE_LINE, _QUOTED = 1, 2  # scalar flags, for find_in_string


class _Map:
    __slots__ = ("pos", "entries", "merges")

    def __init__(self, pos: int):
        self.pos = pos
        self.entries: dict[str, tuple[int, Any]] = {}  # key text -> (key position, value), first one kept
        self.merges: list[Any] = []  # the values of `<<` keys, in order


class _Seq:
    __slots__ = ("pos", "items")

    def __init__(self, pos: int):
        self.pos = pos
        self.items: list[Any] = []


class YamlPositions:
    """Positions in a loaded YAML spec, as a composed node tree gives them: a value reached through
    an alias is at its anchored node, a key through `<<: *anchor` in the anchored mapping, the first
    of duplicate keys wins. Built from libyaml's events on the first look-up, one packed int per
    scalar (a scalar value is its int, a mapping a _Map, a sequence a _Seq)."""

    def __init__(self, text: str, loader: Callable[[], Any]):
        self.text = text
        self.loader = loader  # load._loader: the parser the loader read this text with
        self._root: Any = None

    @property
    def root(self) -> Any:
        if self._root is None:
            self._root = self._index()
        return self._root

    def _index(self) -> Any:
        yaml = import_yaml()

        anchors: dict[str, tuple[Any, str | None, bool]] = {}  # anchor -> (record, key text, is `<<`)
        stack: list[list] = []  # open containers: [record, pending key (text, position, is `<<`) or None]
        root: Any = None
        for ev in yaml.parse(self.text, Loader=self.loader()):
            cls = type(ev)
            if cls is yaml.ScalarEvent:
                flags = (_ONE_LINE if ev.start_mark.line == ev.end_mark.line else 0) | \
                    (_QUOTED if ev.style in ("'", '"') else 0)
                rec: Any = _pack(ev.start_mark, flags)
                info = (rec, ev.value, scalar_tag(ev) == MERGE)
            elif cls is yaml.AliasEvent:
                info = anchors[ev.anchor]
                rec = info[0]
            elif cls is yaml.MappingStartEvent or cls is yaml.SequenceStartEvent:
                rec = (_Map if cls is yaml.MappingStartEvent else _Seq)(_pack(ev.start_mark))
                info = (rec, None, False)
                if ev.anchor is not None:
                    anchors[ev.anchor] = info
                stack.append([rec, None])
                continue
            elif cls is yaml.MappingEndEvent or cls is yaml.SequenceEndEvent:
                rec = stack.pop()[0]
                info = (rec, None, False)
            elif cls is yaml.DocumentEndEvent:
                break
            else:
                continue
            if cls is yaml.ScalarEvent and ev.anchor is not None:
                anchors[ev.anchor] = info
            if not stack:
                root = rec
                continue
            top = stack[-1]
            parent = top[0]
            if type(parent) is _Seq:
                parent.items.append(rec)
            elif top[1] is None:  # a key: its text (None for a mapping or sequence), where it starts
                top[1] = (info[1], rec if type(rec) is int else rec.pos, info[2])
            else:
                text, kpos, merge = top[1]
                top[1] = None
                if merge:
                    parent.merges.append(rec)
                elif text is not None:
                    parent.entries.setdefault(text, (kpos, rec))
        return root

    def find(self, path: tuple, *, key: bool = False) -> tuple[int, int]:
        node, kpos = self.root, None
        for seg in path:
            found = self._child(node, seg)
            if found is None:
                kpos = None
                break
            kpos, node = found
        return _unpack(kpos if key and kpos is not None else _pos(node))

    def find_in_string(self, path: tuple, offset: int) -> tuple[int, int]:
        """Position of a character inside a one-line string value (for edges, depends)."""
        line, col = self.find(path)
        node = self.root
        for seg in path:
            found = self._child(node, seg)
            if found is None:
                return line, col
            node = found[1]
        if type(node) is not int or not node & _ONE_LINE:
            return line, col
        return line, col + offset + (1 if node & _QUOTED else 0)

    def _child(self, node: Any, seg: Any) -> tuple[int | None, Any] | None:
        if type(node) is _Map:
            hit = node.entries.get(seg) if type(seg) is str else None
            if hit is not None:
                return hit
            for m in node.merges:  # a key that came in through `<<: *anchor`
                for src in (m.items if type(m) is _Seq else [m]):
                    found = self._child(src, seg)
                    if found:
                        return found
        elif type(node) is _Seq and isinstance(seg, int) and 0 <= seg < len(node.items):
            return None, node.items[seg]
        return None


def _pos(record: Any) -> int:
    return record if type(record) is int else record.pos


class TomlPositions:
    def __init__(self, text: str):
        self.text = text
        self._scan: _TomlScanner | None = None

    def _offset(self, path: tuple, key: bool) -> int | None:
        """The character offset of the value (or key) at `path` or its nearest recorded ancestor."""
        if self._scan is None:
            self._scan = _TomlScanner(self.text)
            self._scan.scan()
        table, arrays = self._scan.out, self._scan.arrays
        p = tuple(path)
        while p:
            hit = table.get(p)
            if hit:
                return hit[0] if key else hit[1]
            items = arrays.get(p[:-1]) if type(p[-1]) is int else None
            if items is not None and 0 <= p[-1] < len(items) and items[p[-1]] is not None:
                return items[p[-1]]
            p = p[:-1]
        return None

    def find(self, path: tuple, *, key: bool = False) -> tuple[int, int]:
        at = self._offset(path, key)
        return (1, 1) if at is None else self._scan.at(at)  # type: ignore[union-attr]

    def find_in_string(self, path: tuple, offset: int) -> tuple[int, int]:
        line, col = self.find(path)
        start = self._scan.starts[line - 1] if self._scan is not None and line <= len(self._scan.starts) else 0
        end = self.text.find("\n", start)
        text_line = self.text[start:end if end != -1 else len(self.text)]
        quote = text_line[col - 1:col]
        if quote in ("'", '"') and not text_line[col - 1:].startswith(quote * 3):
            return line, col + 1 + offset
        return line, col


_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _TomlScanner:
    """Records (key offset, value offset) for every path in a valid TOML document; the items of an
    array that are not tables or arrays only as one offset each, in `arrays` (a 50,000-item array
    would otherwise cost a path and a record per item)."""

    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.out: dict[tuple, tuple[int, int]] = {}
        self.arrays: dict[tuple, list[int | None]] = {}  # array path -> item offsets (None: in `out`)
        self.aot: dict[tuple, int] = {}  # array-of-tables path -> last index
        # line starts for index -> (line, col)
        self.starts = [0]
        for n, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(n + 1)

    def at(self, i: int) -> tuple[int, int]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= i:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, i - self.starts[lo] + 1

    def record(self, path: tuple, kpos: int, vpos: int) -> None:
        self.out.setdefault(path, (kpos, vpos))

    def scan(self) -> dict:
        table: tuple = ()
        s = self.s
        while True:
            self.skip_ws(newlines=True)
            if self.i >= len(s):
                return self.out
            c = s[self.i]
            if c == "[":
                table = self.header()
            else:
                self.keyval(table)

    def skip_ws(self, newlines: bool) -> None:
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t" or (newlines and c in "\r\n"):
                self.i += 1
            elif c == "#":
                while self.i < len(s) and s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def header(self) -> tuple:
        start = self.i
        aot = self.s.startswith("[[", self.i)
        self.i += 2 if aot else 1
        keys = self.dotted_key()[0]
        self.skip_ws(newlines=False)
        self.i += 2 if aot else 1
        path = tuple(keys)
        if aot:
            idx = self.aot.get(path, -1) + 1
            self.aot[path] = idx
            path = path + (idx,)
        for n in range(1, len(path) + 1):
            self.record(path[:n], start, start)
        return path

    def dotted_key(self) -> tuple[list[str], int]:
        keys, first = [], None
        while True:
            self.skip_ws(newlines=False)
            if first is None:
                first = self.i
            keys.append(self.simple_key())
            self.skip_ws(newlines=False)
            if self.i < len(self.s) and self.s[self.i] == ".":
                self.i += 1
                continue
            return keys, first

    def simple_key(self) -> str:
        s = self.s
        if s[self.i] in "\"'":
            return self.string()
        start = self.i
        while self.i < len(s) and s[self.i] in _BARE:
            self.i += 1
        return s[start:self.i]

    def keyval(self, table: tuple) -> None:
        keys, kstart = self.dotted_key()
        self.skip_ws(newlines=False)
        self.i += 1  # '='
        self.skip_ws(newlines=False)
        path = table + tuple(keys)
        for n in range(len(table) + 1, len(path)):
            self.record(path[:n], kstart, kstart)
        self.value(path, kstart)

    def value(self, path: tuple, kstart: int) -> None:
        s = self.s
        self.record(path, kstart, self.i)
        c = s[self.i]
        if c in "\"'":
            self.string()
        elif c == "[":
            self.i += 1
            n = 0
            items: list[int | None] = self.arrays.setdefault(path, [])
            while True:
                self.skip_ws(newlines=True)
                if s[self.i] == "]":
                    self.i += 1
                    return
                if s[self.i] in "[{":
                    items.append(None)
                    self.value(path + (n,), self.i)
                else:
                    items.append(self.i)
                    self.scalar()
                n += 1
                self.skip_ws(newlines=True)
                if s[self.i] == ",":
                    self.i += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip_ws(newlines=False)
                if s[self.i] == "}":
                    self.i += 1
                    return
                keys, ks = self.dotted_key()
                self.skip_ws(newlines=False)
                self.i += 1  # '='
                self.skip_ws(newlines=False)
                for n in range(len(path) + 1, len(path) + len(keys)):
                    self.record((path + tuple(keys))[:n], ks, ks)
                self.value(path + tuple(keys), ks)
                self.skip_ws(newlines=False)
                if s[self.i] == ",":
                    self.i += 1
        else:
            self.scalar()

    def scalar(self) -> None:
        s = self.s
        if s[self.i] in "\"'":
            self.string()
            return
        while self.i < len(s) and s[self.i] not in ",]}\n#":  # number, bool, date: up to a delimiter
            self.i += 1

    def string(self) -> str:
        s, q = self.s, self.s[self.i]
        if s.startswith(q * 3, self.i):
            end = s.find(q * 3, self.i + 3)
            while end != -1 and q == '"' and _escaped(s, end):
                end = s.find(q * 3, end + 1)
            end = len(s) if end == -1 else end
            while end + 3 < len(s) and s[end + 3] == q:  # up to two quotes may end the content
                end += 1
            text = s[self.i + 3:end]
            self.i = end + 3
            return text
        j = self.i + 1
        while j < len(s) and s[j] != q:
            j += 2 if (q == '"' and s[j] == "\\") else 1
        text = s[self.i + 1:j]
        self.i = j + 1
        if q == '"':
            try:
                import json

                text = json.loads('"' + text + '"')
            except ValueError:
                pass
        return text


def _escaped(s: str, i: int) -> bool:
    n = 0
    while i - n - 1 >= 0 and s[i - n - 1] == "\\":
        n += 1
    return n % 2 == 1
