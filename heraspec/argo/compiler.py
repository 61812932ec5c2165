"""Validated spec data + resolved functions -> one Argo manifest (a plain dict).

Deterministic: the same spec gives the same dict, in the same key order, so emitted files diff
cleanly. One script template per distinct function + settings, shared by every task that calls it;
per-task values travel as DAG `arguments.parameters`. The shape is documented in docs/DESIGN.md.
"""

from __future__ import annotations

import re
from typing import Any

from ..check import dag
from ..document import patterns
from ..check.compose import EXIT_KEY, published_outputs
from ..document.nodes import Spec, from_data

from ..python import functions, script
from . import scheduling
from ..merge import merge_named
from .arguments import encode
from .code import SharedCode
from .dagtasks import DagTasks
from .plans import ValuePlans
from .templates import PendingScript, TemplateBuilder
from ..record import Record

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "main"
_TEMPLATE_NAME = re.compile(r"[^a-zA-Z0-9-]+")


class Compiled(Record):
    """One compiled spec: the manifest, and Argo task name -> spec task name (for messages).
    `library`: the WorkflowTemplates known to the batch (pipeline.py), for run. `returns`: template
    name -> the return annotation of its result, where known: a script template's function's, a
    sub-pipeline DAG template's `result:` task's (what a templateRef caller reads, pipeline._library).
    (Plain classes, not dataclasses: `dataclasses` costs ~8 ms of a `compile`.)"""

    __slots__ = ("source", "manifest", "task_names", "library", "returns")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, source: str, manifest: dict, task_names: dict[str, str] | None = None,
                 library: dict | None = None, returns: dict[str, str] | None = None) -> None:
        self.source = source
        self.manifest = manifest
        self.task_names: dict[str, str] = {} if task_names is None else task_names
        self.library: dict = {} if library is None else library
        self.returns: dict[str, str] = {} if returns is None else returns

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def name(self) -> str:
        meta = self.manifest["metadata"]
        return meta.get("name") or meta.get("generateName", "")


def cron_overlay(overlay: dict) -> dict:
    """Spec-level `argo:` of a CronWorkflow: WorkflowSpec fields under `spec` go to `spec.workflowSpec`."""
    spec = overlay.get("spec")
    if not isinstance(spec, dict):
        return overlay
    from ..check.argo_fields import cron_workflow_keys

    own = cron_workflow_keys()
    moved = {k: v for k, v in spec.items() if k not in own}
    if not moved:
        return overlay
    kept = {k: v for k, v in spec.items() if k in own}
    kept["workflowSpec"] = merge_named(moved, kept.get("workflowSpec", {}))
    return {**overlay, "spec": kept}


class Compiler(DagTasks, TemplateBuilder, ValuePlans):
    """One spec (or sub-pipeline) being compiled: its state, the references' spelling in context, and the
    manifest; its templates (templates.py), DAG tasks (dagtasks.py) and plans (plans.py) are its parts."""

    def __init__(self, data: dict, fns: dict[str, functions.Function], namespace: str | None,
                 graph: dag.Graph | None = None, pipelines: dict | None = None, parent: "Compiler | None" = None,
                 lock: Any = None, spec: Spec | None = None, ref_returns: dict | None = None,
                 published: dict[str, dict[str, str]] | None = None):
        self.data = data
        # (cluster, WorkflowTemplate, template) -> its result's return annotation (pipeline._library):
        # what `returns` gives for a template_ref task; a template known only to the cluster is not in it
        self.ref_returns: dict[tuple[bool, str, str], str] = ref_returns or {}
        self.template_returns: dict[str, str] = {}  # this manifest's templates' (Compiled.returns)
        self.spec = spec if spec is not None else from_data(data)  # the typed model: tasks after defaults
        self.lock = lock  # the spec's lock file (python/lock.Lock): each package set's pins
        self.read_by_cached: set[str] | None = None  # tasks whose files a cached task reads (files_key)
        self.pipelines = pipelines or {}  # task name -> the checked spec it runs (pipeline.Checked)
        self.fns = fns
        self.namespace = self.spec.namespace if self.spec.namespace is not None else namespace
        self.defaults = self.spec.defaults.data
        self.templates: list[dict] = []
        self.by_key: dict[Any, str] = {}
        self.names: set[str] = {ENTRYPOINT}
        self.claims: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.graph = graph if graph is not None else dag.build_graph(data)
        # spec task names that Argo spells differently, for raw `{{tasks.NAME.…}}` expressions
        self.renamed = {n: dag.argo_name(n) for n in self.spec.tasks if "_" in n}
        self.sources: dict[tuple, str] = {}
        self.published = published if published is not None else published_outputs(data)
        # (an absent or null key reads as its default, `()`: nodes.Key, so most tasks are not read)
        self.continue_on = {n: t.continue_on for n, t in self.spec.tasks.items()
                            if t.data.get("continue_on") is not None and t.continue_on}
        self.param_fmt = "{{workflow.parameters.%s}}"
        # how a consumer reads `{param: P}` (see plans): a str parameter keeps its text whatever `-p`
        # gives; a sub-pipeline's come from the values its caller passes (pipeline_template)
        self.param_plans: dict[str, str] = {k: "str" for k, v in (data.get("parameters") or {}).items()
                                            if isinstance(v, str)}
        self.planned: dict[str, set[str]] = {}  # template -> the plans tasks pass it (script.PLAN_INPUT)
        self.scripts: list[PendingScript] = []  # script templates whose source waits for every call (finish_scripts)
        self.code = SharedCode()  # the carried code of the workflow's script templates, once
        self.nested_names: dict[str, str] = {}  # Argo -> spec names of sub-pipelines' tasks (for messages)
        if parent is not None:  # a sub-pipeline: one manifest, so one set of names, templates and volumes
            self.names, self.templates, self.sources = parent.names, parent.templates, parent.sources
            self.claims, self.volumes, self.nested_names = parent.claims, parent.volumes, parent.nested_names
            self.planned, self.scripts, self.code = parent.planned, parent.scripts, parent.code
            self.ref_returns, self.template_returns = parent.ref_returns, parent.template_returns
            self.param_fmt = "{{inputs.parameters.%s}}"

    def resolve(self, kind: str, target: Any, key: str | None = None) -> str | None:
        if kind == "from":
            return self.from_expr(target, key)
        if kind == "param":  # a sub-pipeline's parameters are its DAG template's inputs
            return self.param_fmt % target
        return None

    def from_expr(self, target: str, key: str | None = None) -> str:
        """How a `{from: TARGET[, key: K]}` reads in Argo: a function's `result` (or the named output
        publishing K), or a container's standard output (Argo's `outputs.result`)."""
        name = dag.argo_name(target)
        if key == "" and "" not in (self.published.get(target) or {}):
            key = None  # a container's stdout, or a reference published_outputs does not read as JSON
        if key is not None:
            return "{{tasks.%s.outputs.parameters.%s}}" % (name, self.published[target][key])
        producer = self.spec.tasks.get(target)
        if producer is not None and producer.is_container:
            return "{{tasks.%s.outputs.result}}" % name
        return "{{tasks.%s.outputs.parameters.result}}" % name

    def unique(self, base: str) -> str:
        """A template name not taken yet, within Argo's length limit (validate.go isValidWorkflowFieldName:
        workflowFieldMaxLength): `base`, else `base-2`, `base-3`, ... with `base` shortened to fit."""
        limit = patterns.ARGO_FIELD_NAME_MAX
        base = _TEMPLATE_NAME.sub("-", base).strip("-").lower()[:limit].rstrip("-") or "task"
        name, n = base, 1
        while name in self.names:
            n += 1
            suffix = f"-{n}"
            name = base[:limit - len(suffix)].rstrip("-") + suffix
        self.names.add(name)
        return name
    # --- the manifest --------------------------------------------------------------------

    def compile(self) -> Compiled:
        data, spec = self.data, self.spec
        tasks = spec.tasks
        dag_tasks = [self.dag_task(n, t.settings) for n, t in tasks.items()]
        handler = None
        if spec.on_exit:  # Argo `onExit` names a template: a one-task DAG passes the arguments
            call = {"name": "on-exit", **self.exit_call(EXIT_KEY, spec.on_exit)}
            handler = self.unique("exit-handler")
            self.templates.append({"name": handler, "dag": {"tasks": [call]}})
        self.finish_scripts(spec.kind in ("WorkflowTemplate", "ClusterWorkflowTemplate"))
        wf: dict[str, Any] = {"entrypoint": ENTRYPOINT}
        if handler:
            wf["onExit"] = handler
        if spec.parameters:
            wf["arguments"] = {"parameters": [{"name": p.name, "value": encode(p.default)} for p in spec.parameters]}
        if self.code.groups:
            wf.setdefault("arguments", {}).setdefault("parameters", []).extend(self.code.parameters())
        if spec.service_account:
            wf["serviceAccountName"] = spec.service_account
        if spec.parallelism:
            wf["parallelism"] = spec.parallelism
        wf.update(scheduling.workflow_fields(data))
        if self.claims:
            wf["volumeClaimTemplates"] = list(self.claims.values())
        if self.volumes:
            wf["volumes"] = list(self.volumes.values())
        for tmpl in self.templates:  # the plan input only where a task passes one: other manifests stay as they were
            inputs = tmpl.setdefault("inputs", {}).setdefault("parameters", [])
            if tmpl["name"] in self.planned and not any(p["name"] == script.PLAN_INPUT for p in inputs):
                inputs.append({"name": script.PLAN_INPUT, "default": ""})
                tmpl["script"].setdefault("env", []).append(
                    {"name": script.PLAN_ENV, "value": "{{inputs.parameters.%s}}" % script.PLAN_INPUT})
            elif not inputs:
                del tmpl["inputs"]["parameters"]
                if not tmpl["inputs"]:
                    del tmpl["inputs"]
        repo = spec.artifact_repository
        if repo:
            wf["artifactRepositoryRef"] = {k2: repo[k1] for k1, k2 in (("config_map", "configMap"), ("key", "key"))
                                           if repo.get(k1)}
        wtref = spec.workflow_template_ref
        if wtref:  # Argo workflowTemplateRef: the WorkflowTemplate's spec, with this spec's parameters
            del wf["entrypoint"]
            wf["workflowTemplateRef"] = {"name": wtref.name, **({"clusterScope": True} if wtref.cluster else {})}
        else:
            wf["templates"] = [{"name": ENTRYPOINT, "dag": {"tasks": dag_tasks}}] + self.templates
        kind = spec.kind
        meta: dict[str, Any] = {}
        if spec.name:
            meta["name"] = spec.name
        else:
            meta["generateName"] = spec.generate_name
        if self.namespace and kind != "ClusterWorkflowTemplate":
            meta["namespace"] = self.namespace
        if spec.labels:
            meta["labels"] = dict(spec.labels)
        if spec.annotations:
            meta["annotations"] = dict(spec.annotations)
        body: dict[str, Any] = wf
        if kind == "CronWorkflow":
            body = {"schedules": list(spec.schedule)}
            if spec.timezone:
                body["timezone"] = spec.timezone
            if spec.concurrency_policy:
                body["concurrencyPolicy"] = spec.concurrency_policy
            body["workflowSpec"] = wf
        manifest = {"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": body}
        if spec.argo:
            manifest = merge_named(manifest, cron_overlay(spec.argo) if kind == "CronWorkflow" else spec.argo)
        renamed = self.renamed  # (every other name is its own Argo name)
        return Compiled("", manifest, {**self.nested_names, **{renamed.get(n, n): n for n in tasks}},
                        returns=self.template_returns)


def compile_spec(data: dict, fns: dict[str, functions.Function], *, source: str = "",
                 namespace: str | None = None, graph: dag.Graph | None = None, pipelines: dict | None = None,
                 lock: Any = None, spec: Spec | None = None, ref_returns: dict | None = None,
                 published: dict[str, dict[str, str]] | None = None) -> Compiled:
    """Compile validated spec data; `fns` maps task name -> resolved function (from semantic.check);
    `graph`: `dag.build_graph(data)` when the caller has it already; `pipelines`: task name -> the
    checked spec it runs (pipeline.Checked), for `tasks.X.pipeline`; `spec`: the typed model of
    `data` (document/nodes.py), built here when not given; `ref_returns`: (cluster, WorkflowTemplate,
    template) -> the return annotation of that template's result (pipeline.Checked.ref_returns), for
    `template_ref` tasks; `published`: `published_outputs(data)` when the caller has it
    (pipeline.Checked.published)."""
    out = Compiler(data, fns, namespace, graph, pipelines, lock=lock, spec=spec, ref_returns=ref_returns,
                   published=published).compile()
    out.source = source
    return out
