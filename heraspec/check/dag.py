"""The task graph of a spec: edge chains, references between tasks, depends expressions, cycles.

Shared by validation (which reports problems at their positions) and compilation (which turns the
graph into Argo `depends`). Works on the plain spec data, defensively, so it can run on a spec that
also has schema errors and still report graph problems in the same run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator

from ..argo_lang import MAX_NESTING, depends
from ..record import Record

if TYPE_CHECKING:
    from ..document.nodes import ExitHandler, Task

_NAME = r"[A-Za-z0-9][-_A-Za-z0-9]*"
_EDGE_TOKEN = r"\s*(>>|\[|\]|,|" + _NAME + r")"  # compiled on first use (re's cache): most specs have no edges
DEPENDS_RESULTS = set(depends.RESULTS)


def argo_name(name: str) -> str:
    """Spec task names may use '_'; Argo's task and template names may not."""
    return name.replace("_", "-")


def volume_name(task: str) -> str:
    """Default name of a task's new volume: Kubernetes names are lowercase."""
    return argo_name(task).lower() + "-vol"


# `[a1..a1000] >> [b1..b1000]` is a million dependencies: each becomes a name in a depends expression
# (megabytes of manifest, past what Kubernetes stores) and an object here. Past this bound the edge is
# a located error; one join task turns N x M dependencies into N + M.
MAX_EDGE_PAIRS = 100_000


class EdgeSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def parse_edge(text: str) -> list[list[tuple[str, int]]]:
    """`A >> [B, C] >> D` -> [[(A, 0)], [(B, 6), (C, 9)], [(D, 16)]]: the groups, with each name's offset."""
    token = re.compile(_EDGE_TOKEN)
    groups: list[list[tuple[str, int]]] = []
    pos, expect_group = 0, True
    while True:
        m = token.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise EdgeSyntaxError(f"unexpected '{text[pos:].strip()[:20]}' in edge", pos + len(text[pos:]) - len(text[pos:].lstrip()))
            break
        tok, start = m.group(1), m.start(1)
        pos = m.end()
        if expect_group:
            if tok == "[":
                group = []
                while True:
                    m = token.match(text, pos)
                    if not m or m.group(1) in (">>", "[", "]", ","):
                        raise EdgeSyntaxError("expected a task name inside [ ]", m.start(1) if m else len(text))
                    group.append((m.group(1), m.start(1)))
                    pos = m.end()
                    m = token.match(text, pos)
                    if m and m.group(1) == ",":
                        pos = m.end()
                        continue
                    if m and m.group(1) == "]":
                        pos = m.end()
                        break
                    raise EdgeSyntaxError("expected ',' or ']'", m.start(1) if m else len(text))
                groups.append(group)
            elif tok in (">>", "]", ","):
                raise EdgeSyntaxError(f"expected a task name or '[' before '{tok}'", start)
            else:
                groups.append([(tok, start)])
            expect_group = False
        else:
            if tok != ">>":
                raise EdgeSyntaxError(f"expected '>>' before '{tok}'", start)
            expect_group = True
    if expect_group:
        raise EdgeSyntaxError("edge ends with '>>'" if groups else "empty edge", len(text))
    if len(groups) < 2:
        raise EdgeSyntaxError("an edge needs at least two tasks: 'A >> B'", 0)
    return groups


def depends_names(expr: str) -> list[tuple[str, str | None, int]]:
    """Task references in an Argo depends expression: (name, result or None, offset)
    (argo_lang.depends.references; EdgeSyntaxError at a character that starts no token)."""
    try:
        return depends.references(expr)
    except depends.DependsError as e:
        raise EdgeSyntaxError(str(e), e.offset) from None


def translate_depends(expr: str, bare: dict[str, str] | None = None) -> str:
    """Rename spec task names to Argo names inside a depends expression; `bare`: replacements
    for names written without a result (`A`, not `A.Failed`)."""
    bare = bare or {}
    return depends.translate(expr, lambda name, result: bare[name] if result is None and name in bare
                             else argo_name(name))


def too_deep(expr: str, limit: int = MAX_NESTING) -> int | None:
    """Offset where parentheses and unary '!' in a depends/when expression nest deeper than `limit`."""
    stack: list[str] = []
    i, n = 0, len(expr)
    while i < n:
        c, operand = expr[i], False
        if c in "'\"":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            i, operand = j, True
        elif expr.startswith("{{", i):
            end = expr.find("}}", i)
            i, operand = (n if end < 0 else end + 1), True
        elif c == "(" or (c == "!" and expr[i + 1:i + 2] not in ("=", "~")):
            stack.append(c)
            if len(stack) > limit:
                return i
        elif c == ")":
            while stack and stack.pop() != "(":
                pass
            operand = True
        elif c.isalnum() or c in "_.":
            operand = True
        while operand and stack and stack[-1] == "!":  # a '!' ends with its operand
            stack.pop()
        i += 1
    return None


_TASK_EXPR = r"\{\{\s*tasks\.(" + _NAME + r")\."  # compiled on first use (re's cache): few texts hold '{{'


def task_expr_names(text: str) -> list[tuple[str, int]]:
    """Tasks referenced as `{{tasks.NAME.…}}` in a raw Argo string (a `when`, an argument)."""
    return [(m.group(1), m.start(1)) for m in re.finditer(_TASK_EXPR, text)]


def translate_task_exprs(text: str, names: dict[str, str]) -> str:
    """`{{tasks.prep_data.…}}` -> `{{tasks.prep-data.…}}` for the spec's own task names."""
    if "{{" not in text:
        return text
    return re.sub(_TASK_EXPR, lambda m: m.group(0).replace(m.group(1), names.get(m.group(1), m.group(1))), text)


def strings_in(value: Any, path: tuple) -> Iterator[tuple[str, tuple]]:
    """Every string inside an args value, with its data path."""
    out: list[tuple[str, tuple]] = []
    if isinstance(value, str):
        out.append((value, path))
    elif isinstance(value, (dict, list)):
        _strings(value, path, out)
    return iter(out)


def has_text(value: Any, needle: str) -> bool:
    """Does any string inside `value` (an args value, a mapping, a list) contain `needle`?"""
    if isinstance(value, str):
        return needle in value
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if needle in node:
                return True
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _strings(value: dict | list, path: tuple, out: list) -> None:
    # Lists instead of nested generators, and no call for a plain scalar: build_graph runs this
    # over the args of every task of a 20,000-task spec.
    for k, v in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(v, str):
            out.append((v, path + (k,)))
        elif isinstance(v, (dict, list)):
            _strings(v, path + (k,), out)


_REF_KEYS = frozenset(("from", "param", "item", "workflow"))


def is_ref(value: Any) -> bool:
    """`{from: T}`, `{from: T, key: K}`, `{param: P}`, `{item: ...}` or `{workflow: status}`."""
    if type(value) is not dict:
        return False
    n = len(value)
    return (n == 1 and next(iter(value)) in _REF_KEYS) or (n == 2 and "from" in value and "key" in value)


def refs_in(value: Any, path: tuple) -> Iterator[tuple[str, Any, tuple]]:
    """Reference mappings ({from[, key]}, {param}, {item}, {workflow}) anywhere inside an args value."""
    out: list[tuple[str, Any, tuple]] = []
    if isinstance(value, (dict, list)):
        _refs(value, path, out)
    return iter(out)


def arg_refs(task: Task | ExitHandler) -> Iterator[tuple[str, Any, tuple]]:
    """`refs_in` of a task's (or exit handler's) `args` as written: argument sets, container args, or
    a wrong-shaped value (a reference mapping is one too)."""
    args = task.data.get("args")
    out: list[tuple[str, Any, tuple]] = []
    if isinstance(args, (dict, list)):  # refs_in, one call less: the checks ask for every task's
        _refs(args, task.where + ("args",), out)
    return iter(out)


def _refs(value: dict | list, path: tuple, out: list) -> None:
    if isinstance(value, dict):
        if len(value) == 1:
            k = next(iter(value))
            if k in _REF_KEYS:
                out.append((k, value[k], path))
                return
        elif len(value) == 2 and "from" in value and "key" in value:
            out.append(("from", value["from"], path))
            return
        items: Any = value.items()
    else:
        items = enumerate(value)
    for k, v in items:
        if isinstance(v, (dict, list)):
            _refs(v, path + (k,), out)


def _links(value: dict | list, path: tuple, task: str, g: Graph, texts: list) -> None:
    # One walk for build_graph: adds the `{from: T}` of `refs_in` to `g` (task waits for T), and
    # appends to `texts` what `strings_in` finds holding '{{' (within a reference too), in order.
    if isinstance(value, dict):
        n = len(value)
        if (n == 1 and next(iter(value)) in _REF_KEYS) or (n == 2 and "from" in value and "key" in value):
            target = value.get("from")
            if isinstance(target, str):
                g.add(target, task, path + ("from",))
            inside: list[tuple[str, tuple]] = []
            _strings(value, path, inside)
            texts.extend(x for x in inside if "{{" in x[0])
            return
        items: Any = value.items()
    else:
        items = enumerate(value)
    for k, v in items:
        if isinstance(v, str):
            if "{{" in v:
                texts.append((v, path + (k,)))
        elif isinstance(v, (dict, list)):
            _links(v, path + (k,), task, g, texts)


class Dep(Record):
    """One reason task `dst` waits for `src`, and where it was written: `path` is the data path of the
    reference, `offset` the character offset of `src` inside the string at `path`, if it is in one.
    (Plain classes, not dataclasses: `dataclasses` costs ~8 ms of a `validate`.)"""

    __slots__ = ("src", "dst", "path", "offset")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, src: str, dst: str, path: tuple, offset: int | None = None) -> None:
        self.src = src
        self.dst = dst
        self.path = path
        self.offset = offset


class Graph(Record):
    """The tasks, every dependency between them, every task name written, and the edges that are
    malformed (`bad_edges`) or past MAX_EDGE_PAIRS (`too_big`), each as (path, message, offset)."""

    __slots__ = ("tasks", "deps", "mentions", "bad_edges", "too_big", "_upstream", "_indexed")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, tasks: list[str], deps: list[Dep] | None = None,
                 mentions: list[tuple[str, tuple, int | None]] | None = None,
                 bad_edges: list[tuple[tuple, str, int]] | None = None,
                 too_big: list[tuple[tuple, str, int]] | None = None) -> None:
        self.tasks = tasks
        self.deps: list[Dep] = [] if deps is None else deps
        self.mentions: list[tuple[str, tuple, int | None]] = [] if mentions is None else mentions  # (name, path, offset)
        self.bad_edges: list[tuple[tuple, str, int]] = [] if bad_edges is None else bad_edges
        self.too_big: list[tuple[tuple, str, int]] = [] if too_big is None else too_big
        self._upstream: dict[str, dict[str, None]] | None = None  # dst -> its srcs, built by upstream()
        self._indexed = 0  # len(deps) when _upstream was built

    def add(self, src: str, dst: str, path: tuple, offset: int | None = None) -> None:
        self.deps.append(Dep(src, dst, path, offset))
        self.mentions.append((src, path, offset))

    def upstream(self, task: str) -> list[str]:
        """The tasks `task` waits for, in the order they were first written."""
        index = self._upstream
        if index is None or self._indexed != len(self.deps):  # built once: a 20,000-task spec asks per task
            index = {}
            for d in self.deps:
                index.setdefault(d.dst, {})[d.src] = None
            self._upstream, self._indexed = index, len(self.deps)
        return list(index.get(task, ()))


def build_graph(data: dict) -> Graph:
    """The graph of plain spec data: edges, `after`, `{from: T}` in args, `{{tasks.T.…}}` in `when`
    and args, `foreach: {from: T}` and `depends`, each dependency in that order per task (the
    edges first); malformed edges and depends go to `bad_edges`, oversized ones to `too_big`."""
    tasks = data.get("tasks") if isinstance(data.get("tasks"), dict) else {}
    g = Graph(list(tasks))
    add = g.add
    texts: list[tuple[str, tuple]] = []  # one task's `when` and args strings holding '{{', in order
    edges = data.get("edges")
    expanded = 0
    for i, e in enumerate(edges if isinstance(edges, list) else []):
        if not isinstance(e, str):
            continue
        path = ("edges", i)
        try:
            groups = parse_edge(e)
        except EdgeSyntaxError as exc:
            g.bad_edges.append((path, str(exc), exc.offset))
            continue
        pairs = sum(len(a) * len(b) for a, b in zip(groups, groups[1:]))
        if expanded + pairs > MAX_EDGE_PAIRS:
            big = max(zip(groups, groups[1:]), key=lambda ab: len(ab[0]) * len(ab[1]))
            g.too_big.append((path, f"this edge makes {pairs:,} task-to-task dependencies ({len(big[0]):,} x "
                                f"{len(big[1]):,}); a spec's edges make at most {MAX_EDGE_PAIRS:,}", 0))
            g.mentions.extend((name, path, off) for group in groups for name, off in group)
            continue
        expanded += pairs
        g.mentions.extend((name, path, off) for name, off in groups[-1])
        for a, b in zip(groups, groups[1:]):
            for src, off in a:
                for dst, _ in b:
                    g.add(src, dst, path, off)
    for name, t in tasks.items():
        if not isinstance(t, dict):
            continue
        after = t.get("after")
        if isinstance(after, list):
            for i, a in enumerate(after):
                if isinstance(a, str):
                    add(a, name, ("tasks", name, "after", i))
        args = t.get("args")
        if isinstance(args, (dict, list)):
            _links(args, ("tasks", name, "args"), name, g, texts)
        elif isinstance(args, str) and "{{" in args:
            texts.append((args, ("tasks", name, "args")))
        # raw Argo expressions that read another task's outputs need that task to run first
        when = t.get("when")
        if isinstance(when, str) and "{{" in when:
            texts.insert(0, (when, ("tasks", name, "when")))
        if texts:
            for text, path in texts:
                for ref, off in task_expr_names(text):
                    add(ref, name, path, off)
            texts.clear()
        fe = t.get("foreach")
        if isinstance(fe, dict) and isinstance(fe.get("from"), str):
            g.add(fe["from"], name, ("tasks", name, "foreach", "from"))
        dep = t.get("depends")
        if isinstance(dep, str):
            try:
                for ref, _result, off in depends_names(dep):
                    g.add(ref, name, ("tasks", name, "depends"), off)
            except EdgeSyntaxError as exc:
                g.bad_edges.append((("tasks", name, "depends"), str(exc), exc.offset))
    return g


def find_cycle(g: Graph) -> list[str] | None:
    """A cycle as [A, B, ..., A], or None. Iterative DFS in task order, so the answer is stable."""
    order = {t: i for i, t in enumerate(g.tasks)}
    if all(order[d.src] < order[d.dst] for d in g.deps if d.src in order and d.dst in order):
        return None  # every dependency points forward in task order, which is then a topological order
    known = set(g.tasks)
    succ: dict[str, dict[str, None]] = {t: {} for t in g.tasks}  # ordered sets: fan-outs stay linear
    for d in g.deps:
        if d.src in known and d.dst in known:
            succ[d.src][d.dst] = None
    state: dict[str, int] = {}
    for root in g.tasks:
        if state.get(root):
            continue
        stack = [(root, iter(succ[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
                path.append(nxt)
    return None
