"""Pictures of a spec's task graph: Mermaid (pastes into GitHub markdown), DOT, and SVG/PNG via Graphviz.

    heraspec graph examples/ml-pipeline.yaml                  # Mermaid on stdout
    heraspec graph examples/ml-pipeline.yaml --format svg -o pipeline.svg

The spec is validated first (the same checks as `heraspec validate`, values included), then drawn
from its own task names, not the Argo names. What the picture marks:
- a fan-out (`args` as a list of argument sets, or `foreach`) as a stacked node labelled `name ×4`
  (`× each` when the count is only known at run time);
- a task with a `when` condition with dashed incoming edges labelled `when` (and a dashed border);
- a `depends` on another result than success with that result on the edge (`Failed`, ...);
- a sub-pipeline (`tasks.X.pipeline`) as a group (a Mermaid subgraph, a DOT cluster) holding the
  other spec's tasks; edges to and from X meet the group.
- an edge that carries a file (`-> Path`), a fan-in of files, or a `result: artifact` value as a thick
  arrow labelled `file`, `files` or `artifact` (those go through the artifact repository);
- an exit handler as a rounded node `on_exit` reached by a dashed edge labelled `exit`: a task's
  (`tasks.X.on_exit`, Argo's exit hook) from that task; the workflow's (`on_exit`, Argo's `onExit`,
  run when the whole workflow ends) from each task nothing else waits for.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, Mapping

from .check.dag import EdgeSyntaxError, build_graph, depends_names
from .document.nodes import Ref, Spec, Task, from_data
from .errors import HeraspecError, UsageError

FORMATS = ("mermaid", "dot", "svg", "png")
EXIT_NODE = ":on_exit"  # the workflow's exit handler; `TASK:on_exit` a task's
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click",
                     "default", "linkstyle", "direction", "call", "href"}


@dataclass
class Node:
    name: str
    fanout: str | None = None  # "×4", "× each" or None
    conditional: bool = False
    function: str | None = None
    label: str | None = None  # the task's own name when `name` is qualified by its sub-pipelines
    group: str | None = None  # the sub-pipeline group holding it
    exit: bool = False  # an exit handler (its name holds ':', which no task name can)


@dataclass
class Group:
    """A sub-pipeline: the task running it (qualified name), its label and the group holding it."""

    name: str
    label: str
    parent: str | None = None


@dataclass
class Edge:
    src: str
    dst: str
    label: str | None = None  # "when", "Failed", ...
    dashed: bool = False
    carries: str | None = None  # "file", "files" (a fan-in), "artifact" (`result: artifact`): through the repository


@dataclass
class Picture:
    title: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    def members(self, group: str) -> list[str]:
        """The nodes inside a group (nested groups included), in order."""
        inner = {g.name for g in self.groups if g.parent == group}
        out = [n.name for n in self.nodes if n.group == group]
        for g in self.groups:
            if g.name in inner:
                out += self.members(g.name)
        return out


# --- from spec data to a picture ---------------------------------------------------------------


def picture(spec: "Spec | Mapping[str, Any]", title: str = "", pipelines: dict | None = None, fns: dict | None = None, *,
            _prefix: str = "", _group: str | None = None, _pic: Picture | None = None) -> Picture:
    """The nodes and edges of a (valid) spec, read from its model (document/nodes.py; built here from
    plain data), in spec order, edges deduplicated; `pipelines` (task name -> checked spec,
    pipeline.Checked) draws sub-pipelines as groups of their own tasks. With the resolved functions
    (`fns`), edges that carry files or artifact results are marked."""
    spec = spec if isinstance(spec, Spec) else from_data(spec)
    tasks = spec.tasks
    carried = _carried(tasks, fns or {})
    pipelines = pipelines or {}
    pic = _pic or Picture(title or str(spec.name or spec.generate_name or "heraspec"))
    for name, t in tasks.items():
        q = _prefix + name
        if name in pipelines:
            sub = pipelines[name]
            pic.groups.append(Group(q, f"{name}: {t.pipeline}", _group))
            sub_spec = sub.spec if getattr(sub, "spec", None) is not None else sub.doc.data
            picture(sub_spec, pipelines=sub.pipelines, fns=sub.functions, _prefix=q + ".", _group=q, _pic=pic)
        else:
            pic.nodes.append(Node(q, _fanout(t), bool(t.when), t.function, name if _prefix else None, _group))
        exit_handler = t.on_exit
        if exit_handler is not None:  # Argo's exit hook: runs when this task ends
            pic.nodes.append(Node(q + EXIT_NODE, function=exit_handler.function, label="on_exit", group=_group,
                                  exit=True))
    results = _depends_results(tasks)
    deps = build_graph(spec.data).deps
    seen: set[tuple[str, str]] = set()
    for dep in deps:
        if (dep.src, dep.dst) in seen or dep.src not in tasks or dep.dst not in tasks:
            continue
        seen.add((dep.src, dep.dst))
        conditional = bool(tasks[dep.dst].when)
        label = results.get((dep.src, dep.dst)) or ("when" if conditional else None)
        carries = carried.get((dep.src, dep.dst))
        if carries:
            label = f"{carries}, {label}" if label else carries
        pic.edges.append(Edge(_prefix + dep.src, _prefix + dep.dst, label, dashed=conditional, carries=carries))
    for name, t in tasks.items():
        if t.on_exit is not None:
            pic.edges.append(Edge(_prefix + name, _prefix + name + EXIT_NODE, "exit", dashed=True))
    workflow_exit = spec.on_exit
    if not _prefix and workflow_exit is not None:  # Argo's onExit: after the whole workflow
        pic.nodes.append(Node(EXIT_NODE, function=workflow_exit.function, label="on_exit", exit=True))
        waited_on = {dep.src for dep in deps}
        for name in tasks:
            if name not in waited_on:
                pic.edges.append(Edge(name, EXIT_NODE, "exit", dashed=True))
    return pic


def _carried(tasks: "Mapping[str, Task]", fns: dict) -> dict[tuple[str, str], str]:
    """(src, dst) -> what travels through the artifact repository on that edge: a `{from: SRC}`
    argument of a producer returning a file (`file`, a fan-in `files`) or `result: artifact`."""
    from .check.files import fans_out, result_kind

    out: dict[tuple[str, str], str] = {}
    for name, t in tasks.items():
        for argset in t.args:
            for arg in argset:
                ref = arg.ref
                if ref is None or ref.kind != "from" or ref.key is not None or not isinstance(ref.target, str):
                    continue
                producer = tasks.get(ref.target)
                if producer is None:
                    continue
                kind = result_kind(producer.settings, fns.get(ref.target), {})  # settings: defaults applied
                if kind != "parameter":
                    out[(ref.target, name)] = "artifact" if kind == "artifact" else \
                        "files" if fans_out(producer.settings) else "file"
    return out


def _fanout(t: "Task") -> str | None:
    fe = t.foreach
    if isinstance(fe, list):
        return f"×{len(fe)}"
    if isinstance(fe, Ref):
        return "× each"
    if t.function and t.args_listed:
        return f"×{len(t.args)}"
    return None


def _depends_results(tasks: "Mapping[str, Task]") -> dict[tuple[str, str], str]:
    """(src, dst) -> the results other than success a `depends` expression waits for."""
    out: dict[tuple[str, str], str] = {}
    for name, t in tasks.items():
        expr = t.depends
        if not isinstance(expr, str):
            continue
        try:
            refs = depends_names(expr)
        except EdgeSyntaxError:
            continue
        for ref, result, _ in refs:
            if result and result != "Succeeded":
                key = (ref, name)
                out[key] = result if key not in out else f"{out[key]} or {result}"
    return out


# --- Mermaid ----------------------------------------------------------------------------------


def to_mermaid(pic: Picture) -> str:
    ids = _mermaid_ids([n.name for n in pic.nodes] + [g.name for g in pic.groups])
    lines = ["flowchart LR"]

    def block(group: str | None, indent: str) -> None:
        for n in pic.nodes:
            if n.group != group:
                continue
            label = (n.label or n.name) + (f" {n.fanout}" if n.fanout else "")
            text = f'"{_mermaid_text(label)}"'
            shape = f"([{text}])" if n.exit else f"[[{text}]]" if n.fanout else f"[{text}]"
            lines.append(f"{indent}{ids[n.name]}{shape}")
        for g in pic.groups:
            if g.parent == group:
                lines.append(f'{indent}subgraph {ids[g.name]} ["{_mermaid_text(g.label)}"]')
                block(g.name, indent + "    ")
                lines.append(f"{indent}end")

    block(None, "    ")
    for e in pic.edges:
        arrow = "-.->" if e.dashed else "==>" if e.carries else "-->"
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"    {ids[e.src]} {arrow}{label} {ids[e.dst]}")
    conditional = [ids[n.name] for n in pic.nodes if n.conditional]
    if conditional:
        lines.append("    classDef conditional stroke-dasharray: 5 5")
        lines.append(f"    class {','.join(conditional)} conditional")
    return "\n".join(lines) + "\n"


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    """Task names as Mermaid ids where they are safe, else a sanitised unique id."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and name.lower() not in _MERMAID_RESERVED
        base = name if ok else "t_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        nid, i = base, 2
        while nid in used:
            nid, i = f"{base}_{i}", i + 1
        used.add(nid)
        out[name] = nid
    return out


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


# --- DOT --------------------------------------------------------------------------------------


def to_dot(pic: Picture) -> str:
    groups = {g.name for g in pic.groups}
    lines = [f"digraph {_dot_id(pic.title)} {{",
             "    rankdir=LR;",
             '    node [shape=box, style=rounded, fontname="Helvetica"];',
             '    edge [fontname="Helvetica", fontsize=10];']
    if groups:
        lines.insert(2, "    compound=true;")

    def block(group: str | None, indent: str) -> None:
        for n in pic.nodes:
            if n.group != group:
                continue
            attrs = {"label": (n.label or n.name) + (f" {n.fanout}" if n.fanout else "")}
            if n.fanout:
                attrs["shape"] = "box3d"
                attrs["style"] = "dashed" if n.conditional else "solid"
            elif n.conditional:
                attrs["style"] = "rounded,dashed"
            elif n.exit:
                attrs["shape"] = "oval"
            if n.function:
                attrs["tooltip"] = n.function
            lines.append(f"{indent}{_dot_id(n.name)} [{_dot_attrs(attrs)}];")
        for g in pic.groups:
            if g.parent == group:
                lines.append(f"{indent}subgraph {_dot_id('cluster_' + g.name)} {{")
                lines.append(f"{indent}    label={_dot_id(g.label)};")
                block(g.name, indent + "    ")
                lines.append(f"{indent}}}")

    block(None, "    ")
    for e in pic.edges:
        attrs = {}
        src, dst = e.src, e.dst
        if src in groups:  # an edge from a group leaves its cluster from its last task
            src, attrs["ltail"] = (pic.members(src) or [src])[-1], "cluster_" + src
        if dst in groups:  # and enters one at its first task
            dst, attrs["lhead"] = (pic.members(dst) or [dst])[0], "cluster_" + dst
        if e.dashed:
            attrs["style"] = "dashed"
        if e.label:
            attrs["label"] = e.label
        if e.carries:
            attrs["penwidth"] = "2"
        tail = f" [{_dot_attrs(attrs)}]" if attrs else ""
        lines.append(f"    {_dot_id(src)} -> {_dot_id(dst)}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot_attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={_dot_id(v)}" for k, v in attrs.items())


# --- Graphviz ---------------------------------------------------------------------------------


class GraphvizMissing(HeraspecError):
    """`--format svg|png` needs Graphviz's `dot` on the PATH."""


def render(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT text, with Graphviz's `dot`."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(_NO_DOT.format(fmt=fmt))
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), check=False, capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise HeraspecError(f"Graphviz's dot failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


_NO_DOT = ("--format {fmt} needs Graphviz's `dot` program, which is not on the PATH. Install Graphviz "
           "(apt-get install graphviz, brew install graphviz, choco install graphviz), or draw without it: "
           "--format mermaid (GitHub renders it in markdown) or --format dot.")


def need_renderer(fmt: str) -> None:
    """Raises GraphvizMissing when `fmt` (svg, png) needs Graphviz's `dot` and it is not on the PATH."""
    if fmt in ("svg", "png") and shutil.which("dot") is None:
        raise GraphvizMissing(_NO_DOT.format(fmt=fmt))


def draw(spec: "Spec | Mapping[str, Any]", fmt: str, *, pipelines: dict | None = None,
         fns: dict | None = None) -> str | bytes:
    """A checked spec's picture (its model, or its data) in `fmt` (FORMATS): Mermaid or DOT text,
    SVG or PNG bytes."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    pic = picture(spec, pipelines=pipelines, fns=fns)
    text = to_mermaid(pic) if fmt == "mermaid" else to_dot(pic)
    return render(text, fmt) if fmt in ("svg", "png") else text
