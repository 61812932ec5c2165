"""The stages in order, for a batch of spec files: load -> validate -> resolve -> compile.

Every stage adds to one error collector and keeps going, so the user sees all problems of all
files in one run; the pipeline stops between stages when there are errors, and a batch with one
bad spec compiles nothing (so `apply` never sends half a batch).
"""

from __future__ import annotations

import gc
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .errors import Errors
from .spec.load import Document, load_file

if TYPE_CHECKING:
    from .argo.compiler import Compiled
    from .spec.dag import Graph
    from .python.functions import Function


@dataclass
class Options:
    search_path: Sequence[str] = ()  # --path DIR, searched first
    namespace: str | None = None  # --namespace / ARGO_NAMESPACE, when the spec has none
    values: Sequence[str] = ()  # --values FILE (in order; later files win)
    sets: Sequence[str] = ()  # --set KEY=VALUE (win over files)


@dataclass
class Checked:
    doc: Document
    functions: "dict[str, Function]" = field(default_factory=dict)
    graph: "Graph | None" = None  # built once, for validation and compilation


def search_path_for(spec_path: str, extra: Sequence[str]) -> list[str]:
    """Where function modules are looked for: --path, the spec's folder, the cwd, then sys.path."""
    out: list[str] = []
    for d in [*extra, str(Path(spec_path).resolve().parent), os.getcwd(), *sys.path]:
        if d and d not in out and os.path.isdir(d):
            out.append(d)
    return out


class _GcPaused:
    """The stages allocate millions of small objects and free almost none until the end, so the
    cyclic collector only re-scans them (nearly half the time of a 20,000-task compile); it is
    paused while they run and restored after (nesting-safe)."""

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


def check_files(paths: Sequence[str], errors: Errors, opts: Options | None = None) -> list[Checked]:
    """Load and validate every file; all problems go to `errors`."""
    with _GcPaused():
        return _check_files(paths, errors, opts)


def _check_files(paths: Sequence[str], errors: Errors, opts: Options | None) -> list[Checked]:
    from .spec import dag
    from .spec import schema
    from .spec import semantic

    opts = opts or Options()
    values = None
    if opts.values or opts.sets:
        from .spec.values import load_values

        values = load_values(opts.values, opts.sets, errors)
        if errors:
            return []
    out = []
    for path in paths:
        doc = load_file(path, errors)
        if doc is None:
            continue
        if values is not None:
            from .spec.values import apply_values

            apply_values(doc, values, errors)
        elif "[[" in doc.text:
            from .spec.values import check_unrendered

            check_unrendered(doc, errors)
        if not isinstance(doc.data, dict):
            doc.error(errors, (), "a spec must be a mapping with at least 'tasks'",
                      "start with `tasks:`; `heraspec init` writes a starter spec")
            continue
        schema.check_schema(doc, errors)
        graph = dag.build_graph(doc.data)
        fns = semantic.check(doc, errors, search_path_for(path, opts.search_path), graph=graph)
        out.append(Checked(doc, fns, graph))
    return out


def build(paths: Sequence[str], errors: Errors, opts: Options | None = None) -> "list[Compiled]":
    """Validate the whole batch, then compile it; nothing is compiled if anything is invalid."""
    from .argo.compiler import compile_spec

    opts = opts or Options()
    with _GcPaused():
        checked = check_files(paths, errors, opts)
        if errors:
            return []
        return [compile_spec(c.doc.data, c.functions, source=c.doc.path, namespace=opts.namespace, graph=c.graph)
                for c in checked]
