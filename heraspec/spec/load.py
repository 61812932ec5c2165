"""Read a spec file (YAML or TOML) into plain data, safely, keeping a way back to positions.

YAML goes through libyaml's composer (fast, C) and our own constructor over its node tree, so:
- no tag ever constructs an object: only the YAML core types are accepted, any other tag is an error;
- scalars resolve by YAML 1.2's core schema (`yes`/`on` stay strings, as editors show them);
- duplicate keys are errors naming both lines (loaders usually keep the last one silently);
- alias expansion and nesting depth are bounded, so a "billion laughs" file fails fast.
TOML goes through tomllib/tomli; positions come from `source.TomlPositions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Errors
from .source import Positions, TomlPositions, YamlPositions

MAX_BYTES = 5 * 1024 * 1024  # specs are hand-written or generated DAGs; 5 MiB is ~100k lines
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
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")

_CORE = "tag:yaml.org,2002:"
_TAG_HINT = "tags never construct objects in a spec; remove it"
_SCALAR_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}


@dataclass
class Document:
    """One loaded spec: its data, where it came from, and how to find positions in it."""

    path: str
    data: Any
    fmt: str  # "yaml" | "toml"
    positions: Positions = field(repr=False)
    text: str = field(repr=False, default="")

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
    suffix = Path(path).suffix.lower()
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
        p = Path(path)
        size = p.stat().st_size
        if size > MAX_BYTES:
            errors.add(path, 1, 1, f"file is {size:,} bytes; the limit for a spec is {MAX_BYTES:,} bytes",
                       "split the pipeline into several specs")
            return None
        with p.open("rb") as f:  # bounded: /dev/zero or a growing file reports a size of 0
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

_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)|\(at end of document\)")


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
        m = _TOML_POS.search(msg)
        line, col = (int(m.group(1)), int(m.group(2))) if m and m.group(1) else (text.count("\n") + 1, 1)
        errors.add(path, line, col, "TOML syntax error: " + _TOML_POS.sub("", msg).strip())
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


def _long_yaml_list(text: str) -> tuple[int, int] | None:
    """(line, col) of a YAML sequence with more than MAX_ITEMS items, found from libyaml's events
    before anything is composed: composing 2.4 million items costs seconds and a gigabyte."""
    if text.count(",") + text.count("-") < MAX_ITEMS:  # flow items need commas, block items dashes
        return None
    import yaml

    counts: list[list | None] = []  # per open collection: [items, start mark] for sequences
    try:
        for ev in yaml.parse(text, Loader=_loader()):
            if isinstance(ev, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                top = counts[-1] if counts else None
                if top is not None:
                    top[0] += 1
                    if top[0] > MAX_ITEMS:
                        return top[1].line + 1, top[1].column + 1
                if isinstance(ev, yaml.CollectionStartEvent):
                    counts.append([0, ev.start_mark] if isinstance(ev, yaml.SequenceStartEvent) else None)
            elif isinstance(ev, yaml.CollectionEndEvent):
                counts.pop()
    except yaml.YAMLError:
        return None  # composing reports it, at its place
    return None


_TOML_TOKEN = re.compile(r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*|[][{},]', re.S)


def _long_toml_array(text: str) -> tuple[int, int] | None:
    """(line, col) of a TOML array with more than MAX_ITEMS items, found before tomllib (pure
    Python: 2.4 million items take half a minute and a gigabyte) parses anything."""
    if text.count(",") < MAX_ITEMS:
        return None
    stack: list[list] = []  # per open bracket: [commas, offset, is an array]
    for m in _TOML_TOKEN.finditer(text):
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


_PLAIN = "tag:heraspec:plain"  # an untagged plain scalar: resolved by resolve_plain (YAML 1.2 core)
_LOADER: Any = None


def _loader() -> Any:
    """libyaml's composer with a resolver that does no work: the builder resolves plain scalars.

    PyYAML's own resolver runs YAML 1.1 regexes on every scalar (a third of the load time of a
    20,000-task spec) and gives `yes`/`on`/`1_000` YAML 1.1 types, which YAML 1.2 does not."""
    global _LOADER
    if _LOADER is None:
        import yaml

        scalar, seq = yaml.ScalarNode, yaml.SequenceNode
        str_tag, seq_tag, map_tag, merge_tag = _CORE + "str", _CORE + "seq", _CORE + "map", _CORE + "merge"

        class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                if kind is scalar:
                    if implicit[0]:  # plain and untagged
                        return merge_tag if value == "<<" else _PLAIN
                    return str_tag  # quoted, or the non-specific tag `!`
                return seq_tag if kind is seq else map_tag

        _LOADER = _Loader
    return _LOADER


def _load_yaml(path: str, text: str, errors: Errors) -> Document | None:
    import yaml

    if _too_long(path, _long_yaml_list(text), errors):
        return None
    try:
        nodes = list(yaml.compose_all(text, Loader=_loader()))
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
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        errors.add(path, 1, 1, "file has no YAML document", "a spec needs at least `tasks:`")
        return None
    if len(nodes) > 1:
        m = nodes[1].start_mark
        errors.add(path, m.line + 1, m.column + 1, "file has more than one YAML document",
                   "put each spec in its own file")
        return None
    builder = _Builder(path, errors)
    try:
        data = builder.build(nodes[0], 0)
    except _Stop:
        return None
    if builder.failed:
        return None
    return Document(path, data, "yaml", YamlPositions(nodes[0], builder.node_key), text)


class _Builder:
    """Turns a composed node tree into plain data, with the safety rules of the module docstring."""

    def __init__(self, path: str, errors: Errors):
        self.path = path
        self.errors = errors
        self.failed = False
        self.seen: dict[int, int] = {}  # id(node) -> times materialised (for aliases)
        self.alias_nodes = 0
        # node -> the constructed key of a mapping key node, for YamlPositions look-ups
        self.node_key: dict[int, Any] = {}

    def _err(self, node, message: str, hint: str | None = None) -> None:
        self.failed = True
        self.errors.add(self.path, node.start_mark.line + 1, node.start_mark.column + 1, message, hint)

    def build(self, node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._err(node, f"nesting is deeper than {MAX_DEPTH} levels")
            raise _Stop
        key = id(node)
        count = self.seen.get(key, 0)
        self.seen[key] = count + 1
        if count:  # an alias: the same node again
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                self._err(node, "too many aliases expanded (is this a 'billion laughs' file?)",
                          f"the limit is {MAX_ALIAS_NODES:,} nodes reached through aliases")
                raise _Stop
        kind = node.id
        if kind == "scalar":
            return self.scalar(node)
        if kind == "sequence":
            if node.tag != _CORE + "seq":
                self._err(node, f"YAML tag {_short(node.tag)} is not allowed", _TAG_HINT)
            return [self.build(child, depth + 1) for child in node.value]
        if node.tag != _CORE + "map":
            self._err(node, f"YAML tag {_short(node.tag)} is not allowed", _TAG_HINT)
        return self.mapping(node, depth)

    def mapping(self, node, depth: int) -> dict:
        out: dict = {}
        first_line: dict = {}
        merged: dict = {}
        for knode, vnode in node.value:
            if knode.tag == _CORE + "merge":
                for src in self._merge_sources(vnode, depth):
                    for k, v in src.items():
                        merged.setdefault(k, v)
                continue
            if knode.id != "scalar":
                self._err(knode, "mapping keys must be plain strings")
                continue
            k = self.scalar(knode)
            if not isinstance(k, str):
                k = knode.value  # `1: x` or `true: x` keys are names here, as in TOML/JSON
            self.node_key[id(knode)] = k
            if k in out:
                self._err(knode, f"duplicate key '{k}' (first defined on line {first_line[k]})",
                          "YAML keeps only one of them silently; remove or rename one")
                continue
            first_line[k] = knode.start_mark.line + 1
            out[k] = self.build(vnode, depth + 1)
        for k, v in merged.items():
            out.setdefault(k, v)
        return out

    def _merge_sources(self, vnode, depth: int) -> list[dict]:
        value = self.build(vnode, depth + 1)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, dict) for i in items):
            self._err(vnode, "`<<` merges mappings only")
            return []
        return items

    def scalar(self, node) -> Any:
        tag, value = node.tag, node.value
        if tag == _PLAIN:
            return resolve_plain(value)
        if tag not in _SCALAR_TAGS:
            self._err(node, f"YAML tag {_short(tag)} is not allowed", _TAG_HINT)
            return value
        # quoted, block or explicitly tagged: a string unless tagged otherwise
        return value if tag in (_CORE + "str", _CORE + "timestamp") else self._tagged(node)

    def _tagged(self, node) -> Any:
        # an explicit !!int "3" style tag on a quoted scalar
        v = resolve_plain(node.value)
        want = node.tag[len(_CORE):]
        ok = {"int": int, "float": (int, float), "bool": bool, "null": type(None), "binary": str}
        if not isinstance(v, ok.get(want, str)) or (want == "int" and isinstance(v, bool)):
            self._err(node, f"'{node.value}' is not a valid !!{want}")
        return float(v) if want == "float" and isinstance(v, int) else v


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
        if _INT.match(value):
            return int(value)
        if _INT_OCT.match(value):
            return int(value[2:], 8)
        if _INT_HEX.match(value):
            return int(value[2:], 16)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value[0] == "-" else float("inf")
        if _NAN.match(value):
            return float("nan")
    return value


def _short(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
