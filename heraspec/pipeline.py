"""The stages in order, for a batch of spec files: load -> validate -> resolve -> compile.

Every stage adds to one error collector and keeps going, so the user sees all problems of all
files in one run; the pipeline stops between stages when there are errors, and a batch with one
bad spec compiles nothing (so `apply` never sends half a batch).
"""

from __future__ import annotations

import gc
import os
import sys
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .errors import Errors
from .document import patterns
from .document.load import Document, load_file, load_source
from .check.spectext import may_hold

if TYPE_CHECKING:
    from .argo.compiler import Compiled
    from .check.dag import Graph
    from .document.nodes import Spec
    from .python.functions import Function


class Options:
    """What the command line adds to the specs it names. (Options and Checked are plain classes, not
    dataclasses: every `heraspec validate` creates them, and a dataclass's generated methods cost
    ~0.7 ms each of its start.)"""

    def __init__(self, search_path: Sequence[str] = (), namespace: str | None = None, values: Sequence[str] = (),
                 sets: Sequence[str] = (), templates: Sequence[str] = (),
                 parameters: Mapping[str, str] | None = None) -> None:
        self.search_path = search_path  # --path DIR, searched first
        self.namespace = namespace  # --namespace / ARGO_NAMESPACE, when the spec has none
        self.values = values  # --values FILE (in order; later files win)
        self.sets = sets  # --set KEY=VALUE (win over files)
        self.templates = templates  # --templates PATH: specs (files or folders) defining WorkflowTemplates
        self.parameters: Mapping[str, str] = {} if parameters is None else parameters  # -p NAME=VALUE of run/apply: type-checked at their uses

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


class Checked:
    """One checked spec: what the later stages (compile, run, graph, the language server) read."""

    def __init__(self, doc: Document, functions: "dict[str, Function] | None" = None, graph: "Graph | None" = None, *,
                 schema_ok: bool = False, model: "Spec | None" = None) -> None:
        self.doc = doc
        self.functions: "dict[str, Function]" = {} if functions is None else functions
        self.graph = graph  # built once, for validation and compilation
        # the WorkflowTemplates known to this batch (its own and --templates), compiled, by (cluster, name)
        self.library: dict = {}
        # what their templates return, by (cluster, name, template): the annotation a `template_ref`
        # task's result is read by (argo/compiler.py `returns`)
        self.ref_returns: dict[tuple[bool, str, str], str] = {}
        self.ok = True  # no problem was found in this spec
        self.pipelines: "dict[str, Checked]" = {}  # task name -> the spec it runs (tasks.X.pipeline)
        self.lock: Any = None  # its lock file (python/lock.Lock), when it has one
        self.notes: list[str] = []  # not errors: said by validate, compile and run
        self.schema_ok = schema_ok  # the schema check found no problem
        self.model = model  # the typed model (document/nodes.py), built once, before the checks read it
        self._published: "dict[str, dict[str, str]] | None" = None  # (published)

    @property
    def published(self) -> "dict[str, dict[str, str]]":
        """`compose.published_outputs` of the spec's data, computed on first use and kept: every
        compile of the spec reads it (a WorkflowTemplate calling another compiles twice, a
        sub-pipeline once per caller)."""
        if self._published is None:
            from .check.compose import published_outputs

            self._published = published_outputs(self.doc.data)
        return self._published

    @property
    def spec(self) -> "Spec | None":
        """The typed model of a schema-valid spec (what the compiler takes): `model`, None when the
        schema check found a problem."""
        return self.model if self.schema_ok else None


def search_path_for(spec_path: str, extra: Sequence[str]) -> list[str]:
    """Where function modules are looked for: --path, the spec's folder, the cwd, then sys.path."""
    out: list[str] = []
    for d in [*extra, os.path.dirname(os.path.realpath(spec_path)), os.getcwd(), *sys.path]:
        if d and d not in out and os.path.isdir(d):
            out.append(d)
    return out


class GcPaused:
    """The stages allocate millions of small objects and free almost none until the end, so the
    cyclic collector only re-scans them (nearly half the time of a 20,000-task compile); it is
    paused while they run and restored after (nesting-safe). The command line pauses it for a whole
    verb (cli/verbs.py): writing the manifest after the stages would otherwise start with one
    collection over every object they left."""

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()


def check_files(paths: Sequence[str], errors: Errors, opts: Options | None = None, *,
                texts: Mapping[str, str] | None = None) -> list[Checked]:
    """Load and validate every file; all problems go to `errors`. `texts`: path -> the text to check
    instead of that file's content (an editor's unsaved buffer, for `heraspec lsp`)."""
    with GcPaused():
        return _check_files(paths, errors, opts, texts or {})


def _check_files(paths: Sequence[str], errors: Errors, opts: Options | None,
                 texts: Mapping[str, str]) -> list[Checked]:
    from .check import compose

    opts = opts or Options()
    values = None
    if opts.values or opts.sets:
        from .document.values import load_values

        values = load_values(opts.values, opts.sets, errors)
        if errors:
            return []
    out = []
    cache: dict[str, Checked] = {}  # sub-pipeline specs, each checked once per batch
    for path in paths:
        doc = load_source(path, texts[path], errors) if path in texts else load_file(path, errors)
        if doc is None:
            continue
        if values is not None:
            from .document.values import apply_values

            apply_values(doc, values, errors)
        elif may_hold(doc, "[["):
            from .document.values import check_unrendered

            check_unrendered(doc, errors)
        if not isinstance(doc.data, dict):
            doc.error(errors, (), "a spec must be a mapping with at least 'tasks'",
                      "start with `tasks:`; `heraspec init` writes a starter spec")
            continue
        out.append(_check_doc(doc, errors, opts, cache=cache, parameters=opts.parameters))
    library, ref_returns = _library(out, errors, opts, values)
    for c in out:
        c.library, c.ref_returns = library, ref_returns
        compose.check_template_refs(c.doc, c.model, library, errors)
    return out


def _check_doc(doc: Document, errors: Errors, opts: Options, stack: tuple[str, ...] = (),
               cache: dict[str, Checked] | None = None, parameters: Mapping[str, str] | None = None) -> Checked:
    """One spec, and the specs its tasks run as sub-pipelines (`stack`: the files above it, for
    cycles; `cache`: each file is checked once per batch); then every value against the annotation
    it reaches (check/types.py), with `parameters` (-p) where they are used."""
    from .check import dag
    from .document import schema
    from .document.nodes import build_model
    from .check import semantic

    before = len(errors)
    schema.check_schema(doc, errors)
    schema_ok = len(errors) == before
    model = build_model(doc)  # tolerant: a wrong-shaped value the schema check reported reads as absent
    graph = dag.build_graph(doc.data)
    search_path = search_path_for(doc.path, opts.search_path)
    fns = semantic.check(doc, errors, search_path, graph=graph, spec=model)
    c = Checked(doc, fns, graph, schema_ok=schema_ok, model=model)
    if fns and may_hold(doc, "packages", "pip_index_url"):
        from .python import lock

        from .check.compose import EXIT_KEY

        c.lock, c.notes = lock.check(doc, fns, errors, EXIT_KEY)
    if fns:
        from .check.bodies import carried_notes

        c.notes += carried_notes(fns, model)  # computed imports of first-party modules the pod may not have
    if may_hold(doc, "cache") and may_hold(doc, "secret", "config_map", "claim"):
        from .check.production_rules import cache_notes

        c.notes += cache_notes(doc, model)  # a Secret's value, a volume's content: not in a cache key
    if graph.deps and may_hold(doc, "continue_on"):
        from .check.task_rules import waiting_notes

        c.notes += waiting_notes(doc, model, graph)  # a reader of what a failed producer never made
    c.pipelines = _sub_pipelines(doc, model, errors, opts, stack + (os.path.realpath(doc.path),),
                                 cache if cache is not None else {})
    if fns or parameters or c.pipelines:
        from .check import types

        types.check(doc, model, fns, c.pipelines, search_path, errors, dict(parameters or {}))
    c.ok = len(errors) == before
    return c


def _sub_pipelines(doc: Document, model: "Spec", errors: Errors, opts: Options, stack: tuple[str, ...],
                   cache: dict[str, Checked]) -> dict[str, Checked]:
    """`tasks.X.pipeline: FILE`, relative to the spec's folder: loaded and checked (their problems
    located in their own files); a missing file or a cycle between files is located at the task."""
    from .check import compose

    out: dict[str, Checked] = {}
    for name, task in model.tasks.items():
        ref = task.pipeline
        if not isinstance(ref, str):
            continue
        where = task.where + ("pipeline",)
        path = os.path.realpath(os.path.join(os.path.dirname(doc.path), ref))
        if len(stack) + 2 >= patterns.ARGO_MAX_STACK_DEPTH:  # this spec's DAG runs len(stack) templates deep
            doc.error(errors, where, f"sub-pipelines nested {len(stack)} deep: the tasks of '{ref}' would run "
                      f"{len(stack) + 2} templates deep, and Argo stops at {patterns.ARGO_MAX_STACK_DEPTH} "
                      "(Maximum recursion depth exceeded)", "run more tasks in one spec instead of nesting further")
            continue
        if path in stack:
            chain = [os.path.relpath(p) for p in stack[stack.index(path):]] + [os.path.relpath(path)]
            doc.error(errors, where, "pipeline cycle: " + " >> ".join(chain), "a spec cannot run itself, even through others")
            continue
        if not os.path.isfile(path):
            doc.error(errors, where, f"pipeline file '{ref}' not found", f"looked for {path}")
            continue
        sub = cache.get(path)
        if sub is None:
            sub_doc = load_file(os.path.normpath(os.path.join(os.path.dirname(doc.path), ref)), errors)
            if sub_doc is None:
                continue
            if not isinstance(sub_doc.data, dict):
                sub_doc.error(errors, (), "a spec must be a mapping with at least 'tasks'")
                continue
            sub = cache[path] = _check_doc(sub_doc, errors, opts, stack, cache)
        out[name] = sub
        compose.check_pipeline(doc, model, name, sub.doc, sub.model, errors, sub.functions)
    return out


TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")
SPEC_SUFFIXES = (".yaml", ".yml", ".toml")


def _template_docs(opts: Options, seen: set[str], errors: Errors) -> list[Document]:
    """The WorkflowTemplate specs of --templates: a spec file, or every such spec in a folder."""
    out = []
    for given in opts.templates:
        from pathlib import Path  # only here: a batch without --templates never loads pathlib

        p = Path(given)
        folder = p.is_dir()
        files = sorted(f for f in p.rglob("*") if f.suffix in SPEC_SUFFIXES and f.is_file()) if folder else [p]
        for f in files:
            if str(f.resolve()) in seen:
                continue
            seen.add(str(f.resolve()))
            doc = load_file(str(f), Errors() if folder else errors)  # a folder may hold other YAML
            if doc is None or not isinstance(doc.data, dict):
                continue
            if doc.data.get("kind") in TEMPLATE_KINDS:
                out.append(doc)
            elif not folder:
                doc.error(errors, ("kind",) if "kind" in doc.data else (),
                          f"--templates {given}: not a WorkflowTemplate or ClusterWorkflowTemplate spec")
    return out


def _library(batch: list[Checked], errors: Errors, opts: Options,
             values: object) -> tuple[dict, dict[tuple[bool, str, str], str]]:
    """The WorkflowTemplates `template_ref` / `workflow_template_ref` may name: the batch's own and
    those of --templates, compiled, by (cluster, name); and what their templates return, by
    (cluster, name, template) (Compiled.returns). A --templates spec is checked like the batch (its
    problems are reported); a spec with problems is left out. A template calling another by
    template_ref is compiled again once every template's returns are known."""
    checked = list(batch)
    for doc in _template_docs(opts, {os.path.realpath(c.doc.path) for c in batch}, errors):
        if values is not None:
            from .document.values import apply_values

            apply_values(doc, values, errors)
        checked.append(_check_doc(doc, errors, opts))
    library: dict = {}
    returns: dict[tuple[bool, str, str], str] = {}
    _refuse_duplicates(checked, errors)
    templates: dict[tuple[bool, str], Checked] = {}  # the first spec of each name (a second is refused above)
    for c in checked:
        spec = c.spec  # the model of a schema-valid spec
        if c.ok and spec is not None and spec.kind in TEMPLATE_KINDS and isinstance(spec.name, str):
            templates.setdefault((spec.kind == "ClusterWorkflowTemplate", spec.name), c)
    if templates:
        from .argo.compiler import compile_spec  # only here: `validate` of a Workflow never loads the compiler

        again = [(key, c, returns) for key, c in templates.items() if may_hold(c.doc, "template_ref")]
        for key, c, ref_returns in [(key, c, None) for key, c in templates.items()] + again:
            out = compile_spec(c.doc.data, c.functions, source=c.doc.path, namespace=opts.namespace, graph=c.graph,
                               pipelines=c.pipelines, lock=c.lock, spec=c.spec, ref_returns=ref_returns,
                               published=c.published)
            library[key] = out.manifest
            returns.update({(*key, template): annotation for template, annotation in out.returns.items()})
    from .check import compose

    for c in checked:  # the batch's templates and those of --templates
        compose.check_template_cycles(c.doc, c.model, library, errors)
    return library, returns


def _refuse_duplicates(checked: list[Checked], errors: Errors) -> None:
    """Two specs defining one (Cluster)WorkflowTemplate name: a reference could mean either, and
    `apply` would send both (the second replacing the first). Located at the later one's name."""
    first: dict[tuple[str, str], Document] = {}
    for c in checked:
        kind, name = c.model.kind, c.model.name
        if kind not in TEMPLATE_KINDS or not isinstance(name, str):
            continue
        key = (kind, name)
        other = first.setdefault(key, c.doc)
        if other is not c.doc and os.path.realpath(other.path) != os.path.realpath(c.doc.path):
            line, col = other.pos(("name",))
            c.doc.error(errors, ("name",), f"{key[0]} '{key[1]}' is defined twice: in {other.path}:{line}:{col} "
                        f"and in {c.doc.path}", "rename one, or give only one of the files (--templates or the batch)")


def build(paths: Sequence[str], errors: Errors, opts: Options | None = None) -> "list[Compiled]":
    """Validate the whole batch, then compile it; nothing is compiled if anything is invalid."""
    from .argo.compiler import compile_spec

    opts = opts or Options()
    with GcPaused():
        checked = check_files(paths, errors, opts)
        if errors:
            return []
        out = [compile_spec(c.doc.data, c.functions, source=c.doc.path, namespace=opts.namespace, graph=c.graph,
                            pipelines=c.pipelines, lock=c.lock, spec=c.spec, ref_returns=c.ref_returns,
                            published=c.published)
               for c in checked]
        for c, compiled in zip(checked, out):
            compiled.library = c.library
        return out


def runnable(compiled: "Compiled", spec_path: str, extra: Sequence[str]) -> tuple[dict, tuple[str, ...]]:
    """A compiled spec made ready for the local run: its manifest with every template it references
    carried in (an unknown one is an error now), and the folders its `code: image` tasks import from."""
    from .local.library import inline_refs
    from .python.modules import first_party_roots

    manifest = inline_refs(compiled.manifest, compiled.library)
    return manifest, tuple(first_party_roots(search_path_for(spec_path, extra)))
