"""The pod runtime's source (python/pod/), cut to what some templates use: whole top-level definitions, as written.

    cut(roots) -> str    the imports, constants, functions and classes `roots` need, in the package's order

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
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

MODULES = ("names", "packages", "carried", "decode", "boundary", "files", "results", "entry")  # python/pod/, in order

# the definitions only a root brings (script.py picks them from what the template's callers need)
OPTIONAL = frozenset({
    "read_item_field", "read_aggregate", "read_json_literal",  # plans: item, agg, json
    "read_artifact",  # an input may arrive as a file
    "fits",  # an annotated parameter: the boundary check
    "write_file_result", "write_value_result", "write_value_artifact", "write_result_parameter", "publish",
    "write_data_files", "CarriedFileLoader",  # the carried code has data files
    "Unfit",  # a "model:NAME" kind: a class may refuse its value
})


class _Unit:
    __slots__ = ("names", "lines", "start", "end", "node", "section")

    names: tuple[str, ...]  # what it defines
    lines: tuple[str, ...]  # its module's lines
    start: int  # first line (0-based, its own comments above it included)
    end: int  # one past its last line
    node: ast.stmt
    section: tuple[str, int]  # (module, line) of its section heading; line -1: none

    def __init__(self, names: tuple[str, ...], lines: tuple[str, ...], start: int, end: int, node: ast.stmt,
                 section: tuple[str, int]) -> None:
        self.names = names
        self.lines = lines
        self.start = start
        self.end = end
        self.node = node
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


def folder() -> Path:
    """The runtime package's folder (python/pod/)."""
    return Path(__file__).with_name("pod")


@lru_cache(maxsize=1)
def _source() -> _Source:
    units: list[_Unit] = []
    imports: list[str] = []
    headings: dict[tuple[str, int], tuple[str, ...]] = {}
    for module in MODULES:
        text = (folder() / f"{module}.py").read_text(encoding="utf-8")
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
            units.append(_Unit(names, lines, first, node.end_lineno, node, (module, section)))  # type: ignore[arg-type]
    return _Source(tuple(units), tuple(imports), headings)


def defined_names() -> frozenset[str]:
    """Every top-level name python/pod defines."""
    return frozenset(n for u in _source().units for n in u.names)


def _loaded(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _left_out(nodes: list[ast.stmt] | list[ast.expr], kept: set[str]) -> bool:
    """Whether `nodes` name an optional definition that is not kept."""
    return any(name in OPTIONAL and name not in kept for node in nodes for name in _loaded(node))


def _branches(unit: _Unit, kept: set[str]) -> list[tuple[ast.If, bool, bool]]:
    """The `if` statements of `unit` with a branch naming an optional definition left out:
    (node, its body goes, its else goes)."""
    out = []
    for node in ast.walk(unit.node):
        if isinstance(node, ast.If):
            body_gone = _left_out([node.test, *node.body], kept)
            else_gone = bool(node.orelse) and _left_out(node.orelse, kept)
            if body_gone or else_gone:
                out.append((node, body_gone, else_gone))
    return out


def _references(unit: _Unit, kept: set[str]) -> set[str]:
    """The names `unit` uses once the branches naming left-out optional definitions are gone."""
    cut = _branches(unit, kept)
    dropped: set[int] = set()
    for node, body_gone, else_gone in cut:
        parts = ([node.test, *node.body] if body_gone else []) + (node.orelse if else_gone else [])
        dropped |= {id(n) for part in parts for n in ast.walk(part)}
    return {n.id for n in ast.walk(unit.node) if isinstance(n, ast.Name) and id(n) not in dropped}


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

    for node, body_gone, else_gone in _branches(unit, kept):
        first, last = at(node.lineno), at(node.end_lineno)  # type: ignore[arg-type]
        else_line = None
        if node.orelse:
            else_line = at(node.orelse[0].lineno) - 1
            while lines[else_line].strip() != "else:":
                else_line -= 1
        if body_gone and (else_gone or not node.orelse):
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
        code = isinstance(unit.node, (ast.FunctionDef, ast.ClassDef))
        if previous is not None and (code or previous):
            out += ["", ""]
        out += _unit_text(unit, kept)
        previous = code
    return "\n".join(out) + "\n"
