"""Read a spec file (YAML or TOML) into plain data, safely, keeping a way back to positions.

YAML goes through libyaml's parser (fast, C) and our own constructor over its events, so:
- no tag ever constructs an object: only the YAML core types are accepted, any other tag is an error;
- scalars resolve by YAML 1.2's core schema (`yes`/`on` stay strings, as editors show them);
- duplicate keys are errors naming both lines (loaders usually keep the last one silently);
- alias expansion and nesting depth are bounded, so a "billion laughs" file fails fast.
A spec in plain one-line-per-entry YAML (what generators write) is read by `plainyaml.read_plain_yaml`
instead, without libyaml: the same data, for a fraction of the cost; any other text, and every
error, takes the path above. TOML goes through tomllib/tomli. Positions come from
`source.YamlPositions` / `TomlPositions`.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import Errors
from .plainyaml import NOT_PLAIN, read_plain_yaml
from .source import Positions, TomlPositions, YamlPositions
from .yamltags import CORE, MERGE, PLAIN, import_yaml, scalar_tag

MAX_BYTES = 16 * 1024 * 1024  # a 100,000-task generated DAG is ~7 MB; docs/DESIGN.md, Performance
MAX_DEPTH = 64  # a spec nests ~6 levels; user args may nest a little more
MAX_ALIAS_NODES = 100_000  # nodes materialised through aliases, in all
# Items in one list (a foreach, an argument). What a spec writes goes into the Workflow object, which
# Kubernetes stores whole (etcd: ~1.5 MB) and Argo expands item by item: far below this already.
MAX_ITEMS = 100_000
_ITEMS_HINT = ("a list this long cannot travel in a Workflow (Kubernetes keeps objects under ~1.5 MB): "
               "produce it in a task and fan out with foreach: {from: TASK}")

_YAML_SUFFIXES = {".yaml", ".yml"}
_TOML_SUFFIXES = {".toml"}

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
# YAML 1.2 core schema's number forms; compiled on first use (re's cache), as the TOML patterns below:
# a spec whose numbers are plain digits (resolve_plain's short way) needs none of them
_INT = r"[-+]?[0-9]+\Z"
_INT_OCT = r"0o[0-7]+\Z"
_INT_HEX = r"0x[0-9a-fA-F]+\Z"
_FLOAT = r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z"
_INF = r"[-+]?\.(inf|Inf|INF)\Z"
_NAN = r"\.(nan|NaN|NAN)\Z"

_TAG_HINT = "tags never construct objects in a spec; remove it"
_SCALAR_TAGS = {CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}


class Document:
    """One loaded spec: its data, where it came from, and how to find positions in it. (A plain class:
    every `validate` creates it, and a dataclass's generated methods cost ~0.5 ms of its start.)"""

    def __init__(self, path: str, data: Any, fmt: str, positions: Positions, text: str = "") -> None:
        self.path = path
        self.data = data
        self.fmt = fmt  # "yaml" | "toml"
        self.positions = positions
        self.text = text

    def __repr__(self) -> str:
        return f"Document(path={self.path!r}, data={self.data!r}, fmt={self.fmt!r})"

    def pos(self, path: tuple, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of the value at `path` (or of its key, with key=True)."""
        return self.positions.find(path, key=key)

    def error(self, errors: Errors, path: tuple, message: str, hint: str | None = None, *,
              key: bool = False, offset: int | None = None) -> None:
        """Report at the value (or key) at `path`, or at a character offset inside a string value."""
        if offset is not None:
            line, col = self.positions.find_in_string(path, offset)
        else:
            line, col = self.pos(path, key=key)
        errors.add(self.path, line, col, message, hint)


def detect_format(path: str) -> str | None:
    name = os.path.basename(os.path.normpath(path))
    dot = name.rfind(".")
    suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""  # pathlib's suffix, without pathlib
    if suffix in _YAML_SUFFIXES:
        return "yaml"
    if suffix in _TOML_SUFFIXES:
        return "toml"
    return None


def load_file(path: str, errors: Errors) -> Document | None:
    """Read and parse one spec; on any problem add a located error and return None."""
    fmt = detect_format(path)
    if fmt is None:
        errors.add(path, 1, 1, "unknown spec format", "spec files end in .yaml, .yml or .toml")
        return None
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            errors.add(path, 1, 1, f"file is {size:,} bytes; the limit for a spec is {MAX_BYTES:,} bytes",
                       "split the pipeline into several specs")
            return None
        with open(path, "rb") as f:  # bounded: /dev/zero or a growing file reports a size of 0
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            errors.add(path, 1, 1, f"file is larger than the limit for a spec ({MAX_BYTES:,} bytes)",
                       "split the pipeline into several specs")
            return None
    except IsADirectoryError:
        errors.add(path, 1, 1, "is a directory, not a spec file")
        return None
    except OSError as exc:
        errors.add(path, 1, 1, f"cannot read file: {exc.strerror or exc}")
        return None
    text = decode_text(path, raw, errors)
    if text is None:
        return None
    return load_text(path, text, fmt, errors)


def load_source(path: str, text: str, errors: Errors) -> Document | None:
    """A spec given as text rather than read from `path` (an editor's unsaved buffer), checked as
    `load_file` checks a file's content; on any problem add a located error and return None."""
    fmt = detect_format(path)
    if fmt is None:
        errors.add(path, 1, 1, "unknown spec format", "spec files end in .yaml, .yml or .toml")
        return None
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_BYTES:
        errors.add(path, 1, 1, f"file is {len(raw):,} bytes; the limit for a spec is {MAX_BYTES:,} bytes",
                   "split the pipeline into several specs")
        return None
    decoded = decode_text(path, raw, errors)
    return None if decoded is None else load_text(path, decoded, fmt, errors)


def decode_text(path: str, raw: bytes, errors: Errors) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):  # Windows editors' "Unicode"
        errors.add(path, 1, 1, "file is UTF-16 or UTF-32 encoded, not UTF-8", "save the file as UTF-8")
        return None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        errors.add(path, line, 1, "file is binary (contains NUL bytes), not a YAML or TOML spec")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        errors.add(path, line, col, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                   "save the file as UTF-8")
        return None
    if not text.strip():
        errors.add(path, 1, 1, "file is empty", "a spec needs at least `tasks:`; `heraspec init` writes a starter")
        return None
    return text.replace("\r\n", "\n")


def load_text(path: str, text: str, fmt: str, errors: Errors) -> Document | None:
    if fmt == "toml":
        return _load_toml(path, text, errors)
    return _load_yaml(path, text, errors)


# --- TOML -------------------------------------------------------------------------------------

_TOML_POS = r"\(at line (\d+), column (\d+)\)|\(at end of document\)"  # in tomllib's messages


def _too_long(path: str, where: tuple[int, int] | None, errors: Errors) -> bool:
    """A list over MAX_ITEMS, found before the document is built: one located error."""
    if where is None:
        return False
    errors.add(path, *where, f"a list of more than {MAX_ITEMS:,} items; a spec's lists hold at most {MAX_ITEMS:,}",
               _ITEMS_HINT)
    return True


def _load_toml(path: str, text: str, errors: Errors) -> Document | None:
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    if _too_long(path, _long_toml_array(text), errors):
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(_TOML_POS, msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m and m.group(1) else (text.count("\n") + 1, 1)
        errors.add(path, line, col, "TOML syntax error: " + re.sub(_TOML_POS, "", msg).strip())
        return None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        errors.add(path, *_toml_deep_bracket(text), f"nesting is deeper than {MAX_DEPTH} levels")
        return None
    doc = Document(path, data, "toml", TomlPositions(text), text)
    deep = _deeper_than(data, MAX_DEPTH)  # dotted keys (a.b.c... = 1) nest without brackets
    if deep is not None:
        doc.error(errors, deep, f"nesting is deeper than {MAX_DEPTH} levels")
        return None
    return doc


# (compiled, re.S, only for a text with MAX_ITEMS commas)
_TOML_TOKEN = r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*|[][{},]'


def _long_toml_array(text: str) -> tuple[int, int] | None:
    """(line, col) of a TOML array with more than MAX_ITEMS items, found before tomllib (pure
    Python: 2.4 million items take half a minute and a gigabyte) parses anything."""
    if text.count(",") < MAX_ITEMS:
        return None
    stack: list[list] = []  # per open bracket: [commas, offset, is an array]
    for m in re.finditer(_TOML_TOKEN, text, re.S):
        tok = m.group()
        if tok in "[{":
            stack.append([0, m.start(), tok == "["])
        elif tok in "]}":
            if stack:
                stack.pop()
        elif tok == "," and stack and stack[-1][2]:
            stack[-1][0] += 1
            if stack[-1][0] > MAX_ITEMS:
                at = stack[-1][1]
                return text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    return None


def _deeper_than(data: Any, limit: int) -> tuple | None:
    """The path of a value nested deeper than `limit`, or None (iterative: no recursion limit)."""
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if len(path) > limit:
            return path
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
    return None


def _toml_deep_bracket(text: str) -> tuple[int, int]:
    """(line, col) where brackets and braces first nest deeper than MAX_DEPTH (strings skipped)."""
    depth, quote, line, col = 0, "", 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, col
        elif ch in "]}":
            depth -= 1
    # no deep brackets: a dotted key (a.b.c... = 1), which tomli (Python 3.10) also parses recursively
    for n, text_line in enumerate(text.split("\n"), 1):
        if text_line.partition("=")[0].count(".") >= MAX_DEPTH:
            return n, 1
    return 1, 1


# --- YAML -------------------------------------------------------------------------------------


class _Stop(Exception):
    """A limit was hit; the error is already recorded."""


_LOADER: Any = None


def _loader() -> Any:
    """libyaml's composer with a resolver that does no work: the builder resolves plain scalars.

    PyYAML's own resolver runs YAML 1.1 regexes on every scalar (a third of the load time of a
    20,000-task spec) and gives `yes`/`on`/`1_000` YAML 1.1 types, which YAML 1.2 does not."""
    global _LOADER
    if _LOADER is None:
        yaml = import_yaml()
        scalar, seq = yaml.ScalarNode, yaml.SequenceNode
        str_tag, seq_tag, map_tag, merge_tag = CORE + "str", CORE + "seq", CORE + "map", CORE + "merge"

        class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                if kind is scalar:
                    if implicit[0]:  # plain and untagged
                        return merge_tag if value == "<<" else PLAIN
                    return str_tag  # quoted, or the non-specific tag `!`
                return seq_tag if kind is seq else map_tag

        _LOADER = _Loader
    return _LOADER


def _load_yaml(path: str, text: str, errors: Errors) -> Document | None:
    data = read_plain_yaml(text, resolve_plain)  # most large specs: the same data, without libyaml's events
    if data is not NOT_PLAIN:
        return Document(path, data, "yaml", YamlPositions(text, _loader), text)
    return load_yaml_events(path, text, errors)


def load_yaml_events(path: str, text: str, errors: Errors) -> Document | None:
    """YAML text read through libyaml's events: the general path, for any text (plainyaml.read_plain_yaml
    gives the same data for the texts it reads). On any problem add a located error and return None."""
    yaml = import_yaml()

    stream = _Events(text)
    builder = _Builder(path, stream.anchors)
    data: Any = None
    docs, second, stopped = 0, None, False
    try:
        it = stream.events()
        for ev in it:
            if type(ev) is not yaml.DocumentStartEvent:
                continue
            first = next(it)
            docs += 1
            if docs == 1:
                try:
                    data = builder.build(first, it, 0)
                except _Stop:
                    stopped = True  # the rest is still read: a syntax error further on is the one to show
            elif docs == 2:
                second = first.start_mark
    except _TooLong as exc:
        _too_long(path, (exc.mark.line + 1, exc.mark.column + 1), errors)
        return None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        hint = None
        if "found character '\\t'" in str(what):
            hint = "YAML indentation must use spaces, not tabs"
        elif "mapping values are not allowed" in str(what):
            hint = "quote values that contain ': ', or check the indentation"
        lines = text.split("\n")  # libyaml may point one line past a last line without a newline
        if line > len(lines):
            line, col = len(lines), len(lines[-1]) + 1
        if "maximum nesting depth" in str(what):  # newer libyaml builds stop at 1000 levels themselves
            errors.add(path, line, col, f"nesting is deeper than {MAX_DEPTH} levels")
            return None
        errors.add(path, line, col, f"YAML syntax error: {what}", hint)
        return None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids; libyaml counts UTF-8 bytes
        before = text.encode("utf-8")[: exc.position].decode("utf-8", "ignore")
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        errors.add(path, line, col, f"YAML syntax error: {str(exc).splitlines()[0]}",
                   "remove the control character, or write it as an escape in a double-quoted string")
        return None
    except yaml.YAMLError as exc:
        errors.add(path, 1, 1, f"YAML syntax error: {exc}")
        return None
    if not docs:
        errors.add(path, 1, 1, "file has no YAML document", "a spec needs at least `tasks:`")
        return None
    if second is not None:
        errors.add(path, second.line + 1, second.column + 1, "file has more than one YAML document",
                   "put each spec in its own file")
        return None
    for item in builder.problems:
        errors.add(path, *item)
    if stopped or builder.problems:
        return None
    return Document(path, data, "yaml", YamlPositions(text, _loader), text)


class _TooLong(Exception):
    def __init__(self, mark: Any):
        self.mark = mark  # where the over-long sequence starts


class _Events:
    """libyaml's events for the whole stream, checked as its composer checks them (an alias names an
    anchor defined before it in the same document; no anchor twice), with the anchored nodes' events
    kept so an alias can be built again, and sequences of more than MAX_ITEMS items stopped at once.

    The data is built straight from these events: composing libyaml's node tree first (every node an
    object with two marks) cost ~6 KB per task, more than the data itself, for positions that only
    an error needs (source.YamlPositions composes again then)."""

    def __init__(self, text: str):
        self.text = text
        self.anchors: dict[str, list] = {}  # anchor -> the events of its node (growing while it is read)

    def events(self) -> Any:
        """The events, watched (below) where the text could hold an anchor, an alias or a long sequence."""
        # a sequence of more than MAX_ITEMS items needs as many commas (flow) or dashes (block)
        if self.text.count(",") + self.text.count("-") < MAX_ITEMS and "&" not in self.text and "*" not in self.text:
            return _parsed(self.text)  # nothing to watch: libyaml's events as they come
        return self._watched()

    def _watched(self) -> Any:
        yaml = import_yaml()
        from yaml.composer import ComposerError

        alias, scalar, start, end = yaml.AliasEvent, yaml.ScalarEvent, yaml.CollectionStartEvent, yaml.CollectionEndEvent
        seq_start, doc_start = yaml.SequenceStartEvent, yaml.DocumentStartEvent
        # a sequence of more than MAX_ITEMS items needs as many commas (flow) or dashes (block)
        count = self.text.count(",") + self.text.count("-") >= MAX_ITEMS
        counts: list[list | None] = []  # per open collection: [items, start mark] for sequences
        anchors = self.anchors
        recording: list[tuple[list, int]] = []  # (events, nesting level it ends at) per open anchored node
        level = 0
        for ev in _parsed(self.text):
            cls = type(ev)
            if recording:
                for events, _ in recording:
                    events.append(ev)
            if cls is scalar or cls is alias or isinstance(ev, start):
                if count and counts:
                    top = counts[-1]
                    if top is not None:
                        top[0] += 1
                        if top[0] > MAX_ITEMS:
                            raise _TooLong(top[1])
                if cls is alias:
                    if ev.anchor not in anchors:
                        raise ComposerError(None, None, "found undefined alias", ev.start_mark)
                elif ev.anchor is not None:
                    if ev.anchor in anchors:
                        raise ComposerError("found duplicate anchor; first occurrence", anchors[ev.anchor][0].start_mark,
                                            "second occurrence", ev.start_mark)
                    anchors[ev.anchor] = [ev]
                    if cls is not scalar:
                        recording.append((anchors[ev.anchor], level))
                if cls is not scalar and cls is not alias:
                    level += 1
                    if count:
                        counts.append([0, ev.start_mark] if cls is seq_start else None)
            elif isinstance(ev, end):
                level -= 1
                if count:
                    counts.pop()
                while recording and recording[-1][1] == level:
                    recording.pop()
            elif cls is doc_start:
                anchors.clear()
            yield ev


def _parsed(text: str) -> Any:
    """libyaml's events, as yaml.parse gives them (its parser gives None after the stream's end)."""
    return iter(_loader()(text).get_event, None)


class _Builder:
    """Turns the event stream into plain data, with the safety rules of the module docstring.

    An alias builds its anchored node again from the node's events, as a composed tree would be
    walked again: every node so built counts toward MAX_ALIAS_NODES, and the copies are separate
    objects. Problems are kept in `problems` (line, col, message, hint): a syntax error found later
    in the stream replaces them."""

    def __init__(self, path: str, anchors: dict[str, list]):
        yaml = import_yaml()
        self.path = path
        self.anchors = anchors
        self.alias, self.scalar_ev, self.seq_start, self.seq_end = \
            yaml.AliasEvent, yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.SequenceEndEvent
        self.map_start, self.map_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        self.start, self.end = yaml.CollectionStartEvent, yaml.CollectionEndEvent
        self.problems: list[tuple] = []
        self.replaying = 0  # > 0 while an alias is being built
        self.alias_nodes = 0
        # libyaml gives every scalar its own str: `function`, `args`, `steps:work` once per task
        self.strings: dict[str, str] = {}
        self.plain: dict[str, Any] = {}  # short plain scalars, resolved once per text: keys, names, references

    def _err(self, ev, message: str, hint: str | None = None) -> None:
        self.problems.append((ev.start_mark.line + 1, ev.start_mark.column + 1, message, hint))

    def _target(self, ev) -> Any:
        """The first event of the node `ev` stands for (an alias: its anchored node's)."""
        return self.anchors[ev.anchor][0] if type(ev) is self.alias else ev

    def build(self, ev, it, depth: int) -> Any:
        """The value of the node starting with event `ev`; its other events are read from `it`."""
        cls = type(ev)
        if cls is self.alias:  # the anchored node again, from its events
            events = iter(self.anchors[ev.anchor])
            self.replaying += 1
            try:
                return self.build(next(events), events, depth)
            finally:
                self.replaying -= 1
        if depth > MAX_DEPTH:
            self._err(ev, f"nesting is deeper than {MAX_DEPTH} levels")
            raise _Stop
        if self.replaying:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                self._err(ev, "too many aliases expanded (is this a 'billion laughs' file?)",
                          f"the limit is {MAX_ALIAS_NODES:,} nodes reached through aliases")
                raise _Stop
        if cls is self.scalar_ev:
            return self.scalar(ev)
        if cls is self.seq_start:
            if ev.tag not in _IMPLICIT_TAGS and ev.tag != CORE + "seq":
                self._err(ev, f"YAML tag {_short(ev.tag)} is not allowed", _TAG_HINT)
            return self.sequence(it, depth + 1)
        if ev.tag not in _IMPLICIT_TAGS and ev.tag != CORE + "map":
            self._err(ev, f"YAML tag {_short(ev.tag)} is not allowed", _TAG_HINT)
        return self.mapping(it, depth)

    def sequence(self, it, depth: int) -> list:
        """The items of a sequence whose start event build() has read (`depth`: its items')."""
        out = []
        seq_end, scalar_ev, scalar, build, plain = self.seq_end, self.scalar_ev, self.scalar, self.build, self.plain
        inline = not self.replaying and depth <= MAX_DEPTH  # a scalar item: what build() would do
        for child in it:
            cls = type(child)
            if cls is seq_end:
                return out
            if cls is scalar_ev and inline:
                # a plain scalar seen before: its resolution, as scalar() would find it
                v = plain.get(child.value, _UNSEEN) if child.tag is None and child.implicit[0] else _UNSEEN
                out.append(scalar(child) if v is _UNSEEN else v)
            else:
                out.append(build(child, it, depth))
        return out

    def mapping(self, it, depth: int) -> dict:
        """The entries of a mapping whose start event build() has read."""
        out: dict = {}
        scalar_ev, map_end, alias, scalar, plain = self.scalar_ev, self.map_end, self.alias, self.scalar, self.plain
        map_start, seq_start = self.map_start, self.seq_start
        first: dict = {}  # key -> its event (for the line of a duplicate)
        merged: dict = {}
        inline = not self.replaying and depth < MAX_DEPTH  # a scalar value: what build() would do
        for kev in it:
            if type(kev) is map_end:
                break
            key = self.anchors[kev.anchor][0] if type(kev) is alias else kev
            if type(key) is not scalar_ev:
                self._err(key, "mapping keys must be plain strings")
                self._skip(kev, it)
                self._skip(next(it), it)
                continue
            vev = next(it)
            text = key.value
            # (a plain scalar seen before resolves as it did: the cache scalar() fills, read inline)
            k = plain.get(text, _UNSEEN) if key.tag is None and key.implicit[0] else _UNSEEN
            if k is _UNSEEN:
                if text == "<<" and scalar_tag(key) == MERGE:
                    for src in self._merge_sources(vev, it, depth):
                        for mk, mv in src.items():
                            merged.setdefault(mk, mv)
                    continue
                k = scalar(key)
            if type(k) is not str:
                k = text  # `1: x` or `true: x` keys are names here, as in TOML/JSON
            if k in out:
                self._err(key, f"duplicate key '{k}' (first defined on line {first[k].start_mark.line + 1})",
                          "YAML keeps only one of them silently; remove or rename one")
                self._skip(vev, it)
                continue
            first[k] = key
            cls = type(vev)
            if cls is scalar_ev and inline:
                v = plain.get(vev.value, _UNSEEN) if vev.tag is None and vev.implicit[0] else _UNSEEN
                out[k] = scalar(vev) if v is _UNSEEN else v
            elif cls is map_start and inline and vev.tag is None:  # what build() would do, without its checks
                out[k] = self.mapping(it, depth + 1)
            elif cls is seq_start and inline and vev.tag is None:
                out[k] = self.sequence(it, depth + 2)
            else:
                out[k] = self.build(vev, it, depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    def _skip(self, ev: Any, it: Any) -> None:
        """Read past the rest of the node starting with `ev`, building nothing."""
        if not isinstance(ev, self.start):
            return
        level = 1
        for e in it:
            if isinstance(e, self.start):
                level += 1
            elif isinstance(e, self.end):
                level -= 1
                if not level:
                    return

    def _merge_sources(self, vev, it, depth: int) -> list[dict]:
        value = self.build(vev, it, depth + 1)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, dict) for i in items):
            self._err(self._target(vev), "`<<` merges mappings only")
            return []
        return items

    def scalar(self, ev) -> Any:
        value = ev.value
        if ev.tag is None and ev.implicit[0] and len(value) <= _SHARED_LEN and value != "<<":
            hit = self.plain.get(value, _UNSEEN)  # a plain scalar: the same text resolves the same way
            if hit is _UNSEEN:
                hit = self.plain[value] = resolve_plain(self.strings.setdefault(value, value))
            return hit
        tag = scalar_tag(ev)
        if len(value) <= _SHARED_LEN:  # keys, names, images, references: one object per distinct text
            value = self.strings.setdefault(value, value)
        if tag == PLAIN:
            return resolve_plain(value)
        if tag not in _SCALAR_TAGS:
            self._err(ev, f"YAML tag {_short(tag)} is not allowed", _TAG_HINT)
            return value
        # quoted, block or explicitly tagged: a string unless tagged otherwise
        return value if tag in (CORE + "str", CORE + "timestamp") else self._tagged(ev, tag)

    def _tagged(self, ev, tag: str) -> Any:
        # an explicit !!int "3" style tag on a quoted scalar
        v = resolve_plain(ev.value)
        want = tag[len(CORE):]
        ok = {"int": int, "float": (int, float), "bool": bool, "null": type(None), "binary": str}
        if not isinstance(v, ok.get(want, str)) or (want == "int" and isinstance(v, bool)):
            self._err(ev, f"'{ev.value}' is not a valid !!{want}")
        return float(v) if want == "float" and isinstance(v, int) else v


_SHARED_LEN = 64  # scalars up to this long are shared between their occurrences
_UNSEEN = object()
_IMPLICIT_TAGS = (None, "!")  # no tag, or the non-specific `!`: resolved by kind, as libyaml's composer does
def resolve_plain(value: str) -> Any:
    """YAML 1.2 core schema resolution of a plain scalar."""
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    c = value[0]
    if c.isdigit() or c in "-+.":
        if value.isdigit() and value.isascii():  # [0-9]+, the commonest number (isdigit alone takes '²')
            return int(value)
        if re.match(_INT, value):
            return int(value)
        if re.match(_INT_OCT, value):
            return int(value[2:], 8)
        if re.match(_INT_HEX, value):
            return int(value[2:], 16)
        if re.match(_FLOAT, value):
            return float(value)
        if re.match(_INF, value):
            return float("-inf") if value[0] == "-" else float("inf")
        if re.match(_NAN, value):
            return float("nan")
    return value


def _short(tag: str) -> str:
    return "!!" + tag[len(CORE):] if tag.startswith(CORE) else tag
