"""The pod runtime's source (python/pod/), cut to what some templates use: whole top-level definitions, as written.

    cut(roots) -> str    the imports, constants, functions and classes `roots` need, in the package's order
    selected(roots)      the names of those definitions

The package's modules (MODULES, in order) become one program: their docstrings and their relative
imports of each other (`from .decode import coerce`) are left out, their standard-library imports
are merged.

A definition is kept when it is a root or a kept definition names it (a constant, a helper), except
the OPTIONAL ones, which only a root brings: an `if` statement in a kept definition whose branch
names an optional definition left out loses that branch (its `else` branch, dedented, takes its
place; without one the statement goes, with the comment lines just above it). Comments, docstrings
and 4-space indentation stay; a section heading (`# --- ...`) stays when a definition under it does.
Kinds reach their `coerce_KIND` / `fits_KIND` by name (pod.coerce, pod.fits), so those are roots
too (script.roots). tests/test_script_size.py checks that every cut compiles and defines every name
it uses.

The package is read with `ast` once per process into an index (_Unit: each definition's lines, the
names it uses, its `if` statements naming optional definitions), which cutting reads instead of the
trees; the index is kept in heraspec's cache folder under the modules' hash, so a process whose
package parsed before reads it back instead of parsing.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

from ..cachedir import cache_dir
from ..digest import sha256_hex

if TYPE_CHECKING:
    from pathlib import Path

MODULES = ("names", "packages", "carried", "decode", "boundary", "files", "results", "entry")  # python/pod/, in order

# the definitions only a root brings (script.py picks them from what the template's callers need)
OPTIONAL = frozenset({
    "read_item_field", "read_aggregate", "read_json_literal",  # plans: item, agg, json
    "is_null_text",  # an Optional[str] parameter
    "read_artifact",  # an input may arrive as a file
    "fits",  # an annotated parameter: the boundary check
    "write_file_result", "write_value_result", "write_value_artifact", "write_result_parameter", "publish",
    "write_data_files", "CarriedFileLoader",  # the carried code has data files
    "Unfit",  # a "model:NAME" kind: a class may refuse its value
})


class _If:
    """An `if` statement of a definition with a branch naming an optional definition: what _branches
    and _unit_text read of it (1-based lines)."""

    __slots__ = ("line", "end", "else_line", "body_optional", "else_optional")

    def __init__(self, line: int, end: int, else_line: int, body_optional: frozenset[str],
                 else_optional: frozenset[str]) -> None:
        self.line = line  # its first line
        self.end = end  # its last line
        self.else_line = else_line  # the first statement of its `else` branch; 0: it has none
        self.body_optional = body_optional  # the optional definitions its test and body name
        self.else_optional = else_optional  # those its `else` branch names


class _Unit:
    __slots__ = ("names", "lines", "start", "end", "code", "ifs", "uses", "section")

    names: tuple[str, ...]  # what it defines
    lines: tuple[str, ...]  # its module's lines
    start: int  # first line (0-based, its own comments above it included)
    end: int  # one past its last line
    code: bool  # a function or a class (not a constant)
    ifs: tuple[_If, ...]  # its `if` statements naming optional definitions, in ast.walk order
    # every name it uses, grouped by the branches enclosing it: (index in `ifs`, 0 test and body / 1 else)
    uses: tuple[tuple[frozenset[tuple[int, int]], frozenset[str]], ...]
    section: tuple[str, int]  # (module, line) of its section heading; line -1: none

    def __init__(self, names: tuple[str, ...], lines: tuple[str, ...], start: int, end: int, code: bool,
                 ifs: tuple[_If, ...], uses: tuple[tuple[frozenset[tuple[int, int]], frozenset[str]], ...],
                 section: tuple[str, int]) -> None:
        self.names = names
        self.lines = lines
        self.start = start
        self.end = end
        self.code = code
        self.ifs = ifs
        self.uses = uses
        self.section = section


class _Source:
    __slots__ = ("units", "imports", "headings")

    units: tuple[_Unit, ...]
    imports: tuple[str, ...]  # the standard-library modules imported (`import X`), in order
    headings: dict[tuple[str, int], tuple[str, ...]]  # (module, line) -> the heading's comment lines

    def __init__(self, units: tuple[_Unit, ...], imports: tuple[str, ...],
                 headings: dict[tuple[str, int], tuple[str, ...]]) -> None:
        self.units = units
        self.imports = imports
        self.headings = headings


FOLDER = os.path.join(os.path.dirname(__file__), "pod")  # the runtime package's folder (python/pod/)


def folder() -> Path:
    """The runtime package's folder (python/pod/) as a Path."""
    from pathlib import Path  # here: a compile reads the runtime with os.path (pathlib is ~3 ms of its start)

    return Path(FOLDER)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


@lru_cache(maxsize=1)
def _source() -> _Source:
    """The package's definitions, indexed (_parsed), or the same index read back from heraspec's cache
    folder (below, "the index cache")."""
    texts = tuple(_read(os.path.join(FOLDER, f"{module}.py")) for module in MODULES)
    # what indexing reads: this Python's ast, this module (how it indexes), OPTIONAL, the package
    own = _read(__file__)
    key = sha256_hex(("%d.%d/%d\0" % (*sys.version_info[:2], _INDEX_VERSION)
                      + "\0".join((own, *sorted(OPTIONAL), *MODULES, *texts))).encode("utf-8"))
    path = os.path.join(cache_dir(), "pod-runtime", key + ".json")
    src = _read_index(path, key, texts)
    if src is None:
        src = _parsed(texts)
        _write_index(path, key, src)
    return src


def _parsed(texts: tuple[str, ...]) -> _Source:
    """The definitions of the package's modules (`texts`, in MODULES' order), read with ast."""
    units: list[_Unit] = []
    imports: list[str] = []
    headings: dict[tuple[str, int], tuple[str, ...]] = {}
    for module, text in zip(MODULES, texts):
        lines = tuple(text.split("\n"))
        starts = {i for i, line in enumerate(lines) if line.startswith("# --- ")}
        in_heading: set[int] = set()
        for i in starts:
            end = i + 1
            while end < len(lines) and lines[end].startswith("#"):
                end += 1
            headings[(module, i)] = lines[i:end]
            in_heading |= set(range(i, end))
        for node in ast.parse(text).body:
            if isinstance(node, ast.Import):
                imports += [a.name for a in node.names if a.name not in imports]
                continue
            if isinstance(node, ast.ImportFrom):
                continue  # a relative import of a sibling: the script holds them all
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names: tuple[str, ...] = (node.name,)
                first = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = tuple(t.id for t in targets if isinstance(t, ast.Name))
                first = node.lineno - 1
            else:
                continue  # the module's docstring
            while first > 0 and lines[first - 1].startswith("#") and (first - 1) not in in_heading:
                first -= 1  # its own comment lines
            section = max((h for h in starts if h < first), default=-1)
            ifs, uses = _index(node)
            units.append(_Unit(names, lines, first, node.end_lineno, isinstance(node, (ast.FunctionDef, ast.ClassDef)),  # type: ignore[arg-type]
                               ifs, uses, (module, section)))
    return _Source(tuple(units), tuple(imports), headings)


def _index(unit: ast.stmt) -> tuple[tuple[_If, ...], tuple[tuple[frozenset[tuple[int, int]], frozenset[str]], ...]]:
    """A definition's `if` statements with a branch naming an optional definition, and the names it
    uses grouped by the branches of those statements enclosing them (_Unit.ifs, _Unit.uses): all that
    cutting reads of its tree."""
    ifs: list[_If] = []
    at: dict[int, int] = {}  # id of an If node -> its index in `ifs`
    for node in ast.walk(unit):
        if isinstance(node, ast.If):
            body_optional = frozenset(_loaded([node.test, *node.body]) & OPTIONAL)
            else_optional = frozenset(_loaded(node.orelse) & OPTIONAL)
            if body_optional or else_optional:
                at[id(node)] = len(ifs)
                ifs.append(_If(node.lineno, node.end_lineno, node.orelse[0].lineno if node.orelse else 0,  # type: ignore[arg-type]
                               body_optional, else_optional))
    uses: dict[frozenset[tuple[int, int]], set[str]] = {}
    todo: list[tuple[ast.AST, frozenset[tuple[int, int]]]] = [(unit, frozenset())]
    while todo:
        node, within = todo.pop()
        if isinstance(node, ast.Name):
            uses.setdefault(within, set()).add(node.id)
        i = at.get(id(node))
        if i is None:
            todo += [(child, within) for child in ast.iter_child_nodes(node)]
        else:
            todo += [(child, within | {(i, 0)}) for child in [node.test, *node.body]]  # type: ignore[attr-defined]
            todo += [(child, within | {(i, 1)}) for child in node.orelse]  # type: ignore[attr-defined]
    return tuple(ifs), tuple((within, frozenset(names)) for within, names in uses.items())


# --- the index cache: the definitions without parsing the package again ------------------------------
#
# `pod-runtime/` in heraspec's cache folder (cachedir.py) holds _Source as JSON under the SHA-256 of
# the package's module names and texts, this module's own text, OPTIONAL, this Python's version and
# _INDEX_VERSION: a changed module (or way of indexing it) misses and is parsed again; the texts themselves are not stored, each unit's lines are read
# from the modules as they are now (the same text, by the key). The folder keeps the newest
# INDEXES_KEPT entries. Best effort both ways: an entry that cannot be read is a miss.

_INDEX_VERSION = 1
INDEXES_KEPT = 8


def _read_index(path: str, key: str, texts: tuple[str, ...]) -> _Source | None:
    try:
        with open(path, encoding="utf-8") as f:
            entry = json.load(f)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        lines = [tuple(text.split("\n")) for text in texts]
        units = tuple(
            _Unit(tuple(names), lines[m], start, end, code,
                  tuple(_If(line, last, else_line, frozenset(body), frozenset(other))
                        for line, last, else_line, body, other in ifs),
                  tuple((frozenset((i, part) for i, part in within), frozenset(used)) for within, used in uses),
                  (MODULES[m], section))
            for names, m, start, end, code, ifs, uses, section in entry["units"])
        headings = {(MODULES[m], line): tuple(lines[m][line:last]) for m, line, last in entry["headings"]}
        return _Source(units, tuple(entry["imports"]), headings)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _write_index(path: str, key: str, src: _Source) -> None:
    """Best effort: a folder that cannot be written only means the next process parses again."""
    module_at = {m: i for i, m in enumerate(MODULES)}
    entry = {
        "key": key,
        "units": [[list(u.names), module_at[u.section[0]], u.start, u.end, u.code,
                   [[f.line, f.end, f.else_line, sorted(f.body_optional), sorted(f.else_optional)] for f in u.ifs],
                   [[sorted(within), sorted(used)] for within, used in u.uses], u.section[1]] for u in src.units],
        "headings": [[module_at[m], line, line + len(text)] for (m, line), text in src.headings.items()],
        "imports": list(src.imports),
    }
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(entry, f, separators=(",", ":"))
        os.replace(tmp, path)  # whole or not at all, also beside another heraspec writing it
        folder = os.path.dirname(path)
        entries = os.listdir(folder)
        if len(entries) > INDEXES_KEPT:  # the oldest go
            by_age = sorted(entries, key=lambda e: os.stat(os.path.join(folder, e)).st_mtime_ns)
            for e in by_age[:len(by_age) - INDEXES_KEPT]:
                os.unlink(os.path.join(folder, e))
    except OSError:
        pass


def forget_index() -> None:
    """Forget the package's index: the next cut reads it again (from the cache folder, or parsing)."""
    _source.cache_clear()


def defined_names() -> frozenset[str]:
    """Every top-level name python/pod defines."""
    return frozenset(n for u in _source().units for n in u.names)


def _loaded(nodes: list[ast.stmt] | list[ast.expr]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def _branches(unit: _Unit, kept: set[str]) -> list[tuple[int, bool, bool]]:
    """The `if` statements of `unit` with a branch naming an optional definition left out:
    (index in unit.ifs, its test and body go, its else goes)."""
    out = []
    for i, node in enumerate(unit.ifs):
        body_gone = not node.body_optional <= kept
        else_gone = not node.else_optional <= kept
        if body_gone or else_gone:
            out.append((i, body_gone, else_gone))
    return out


def _references(unit: _Unit, kept: set[str]) -> set[str]:
    """The names `unit` uses once the branches naming left-out optional definitions are gone."""
    dropped: set[tuple[int, int]] = set()
    for k, body_gone, else_gone in _branches(unit, kept):
        if body_gone:
            dropped.add((k, 0))
        if else_gone:
            dropped.add((k, 1))
    out: set[str] = set()
    for within, names in unit.uses:
        if not within or within.isdisjoint(dropped):
            out |= names
    return out


def selected(roots: set[str] | frozenset[str]) -> set[str]:
    """The definitions `roots` need: themselves and, transitively, the non-optional names they use."""
    src, defined = _source(), defined_names()
    unknown = set(roots) - defined
    if unknown:
        raise KeyError(f"python/pod defines no {sorted(unknown)}")
    kept, todo = set(roots), list(roots)
    by_name = {n: u for u in src.units for n in u.names}
    while todo:
        unit = by_name[todo.pop()]
        for name in _references(unit, kept) & defined:
            if name not in kept and name not in OPTIONAL:
                kept.add(name)
                todo.append(name)
    return kept


def _unit_text(unit: _Unit, kept: set[str]) -> list[str]:
    lines = list(unit.lines[unit.start:unit.end])
    gone = [False] * len(lines)
    dedent = [0] * len(lines)

    def at(line: int) -> int:  # a 1-based source line -> its index in `lines`
        return line - 1 - unit.start

    for k, body_gone, else_gone in _branches(unit, kept):
        node = unit.ifs[k]
        first, last = at(node.line), at(node.end)
        else_line = None
        if node.else_line:
            else_line = at(node.else_line) - 1
            while lines[else_line].split("#", 1)[0].strip() != "else:":  # `else:`, a comment after it or not
                else_line -= 1
        if body_gone and (else_gone or not node.else_line):
            while first > 0 and lines[first - 1].lstrip().startswith("#"):
                first -= 1  # the comment lines just above it
            for i in range(first, last + 1):
                gone[i] = True
        elif body_gone:
            for i in range(first, else_line + 1):  # type: ignore[operator]
                gone[i] = True
            for i in range(else_line + 1, last + 1):  # type: ignore[operator]
                dedent[i] += 4
        else:
            for i in range(else_line, last + 1):  # type: ignore[arg-type]
                gone[i] = True
    return [line[d:] for line, g, d in zip(lines, gone, dedent) if not g]


def cut(roots: set[str] | frozenset[str]) -> str:
    """The source of the definitions `roots` need (`selected`), with the imports they use and the
    section headings above them, in the package's order; ends with a newline."""
    src = _source()
    kept = selected(roots)
    units = [u for u in src.units if set(u.names) & kept]
    used = set().union(*(_references(u, kept) for u in units)) if units else set()
    out = [f"import {name}" for name in src.imports if name in used]
    section, previous = None, None
    for unit in units:
        if unit.section != section:
            section = unit.section
            if unit.section[1] >= 0:
                out += ["", "", *src.headings[unit.section], ""]
                previous = None
        code = unit.code
        if previous is not None and (code or previous):
            out += ["", ""]
        out += _unit_text(unit, kept)
        previous = code
    return "\n".join(out) + "\n"
