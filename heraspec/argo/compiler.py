"""Validated spec data + resolved functions -> one Argo manifest (a plain dict).

Deterministic: the same spec gives the same dict, in the same key order, so emitted files diff
cleanly. One script template per distinct function + settings, shared by every task that calls it;
per-task values travel as DAG `arguments.parameters`. The shape is documented in docs/DESIGN.md.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from ..check import dag
from ..document import patterns
from ..check.compose import EXIT_KEY, published_outputs
from ..document.patterns import go_duration
from ..document.nodes import ExitHandler, Spec, from_data

from ..python import functions, packages, script
from . import artifacts, scheduling
from ..document.settings import quantity_text, requests_and_limits
from ..merge import merge_named
from ..check.files import fans_out, result_kind
from .code import SharedCode
from ..record import Record

API_VERSION = "argoproj.io/v1alpha1"
ENTRYPOINT = "main"
DEFAULT_MARKER = "__heraspec_default__"  # input default meaning "let Python apply the signature default"
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


def encode(value: Any) -> str:
    """Argo parameter values are strings: strings go in as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if type(value) is int:  # the common case, as json.dumps writes it
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


WORKFLOW_VALUES = {"status": "workflow.status", "failures": "workflow.failures", "name": "workflow.name",
                   "duration": "workflow.duration"}


Resolver = Callable[[str, Any, "str | None"], "str | None"]  # (kind, target, key) -> expression, or None


def ref_expr(kind: str, target: Any, resolve: Resolver | None = None, key: str | None = None) -> str:
    """The Argo expression of a reference; `resolve` (the compiler's) spells it in context first."""
    if resolve is not None:
        out = resolve(kind, target, key)
        if out is not None:
            return out
    if kind == "from":
        return "{{tasks.%s.outputs.parameters.result}}" % dag.argo_name(target)
    if kind == "param":
        return "{{workflow.parameters.%s}}" % target
    if kind == "workflow":
        return "{{%s}}" % WORKFLOW_VALUES[target]
    return "{{item}}" if target is True else "{{item.%s}}" % target


def arg_value(value: Any, resolve: Resolver | None = None) -> str:
    """An argument value with {from}/{param}/{item}/{workflow} references turned into Argo expressions;
    `resolve(kind, target, key)` spells them in context (see _Compiler.resolve)."""
    if not isinstance(value, (dict, list)) or (not dag.is_ref(value) and not any(dag.refs_in(value, ()))):
        return encode(value)  # (a scalar holds no reference)
    if dag.is_ref(value):  # the whole value is one reference
        k = "from" if "from" in value else next(iter(value))
        return ref_expr(k, value[k], resolve, value.get("key"))
    # references nested in a list/mapping: JSON with the expressions written in place (no text
    # markers, so no literal can be mistaken for a reference)
    return _json_with_refs(value, resolve)

def _json_with_refs(v: Any, resolve: Resolver | None) -> str:
    if isinstance(v, dict):
        if dag.is_ref(v):
            k = "from" if "from" in v else next(iter(v))
            # a nested result is read as JSON (RESULT_JSON): a str result is its own text, not JSON
            key = v.get("key", "" if k == "from" and resolve is not None else None)
            expr = ref_expr(k, v[k], resolve, key)
            return json.dumps(expr) if k in ("param", "workflow") else expr
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _json_with_refs(x, resolve)
                              for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_json_with_refs(x, resolve) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


_ITEM_KEY = re.compile(r"\{\{item\.[^{}]+\}\}")
PLAN_ITEM = "heraspec_plan"  # the item key holding an argument set's own plans (see _Compiler.plans)


def item_literal(value: Any, kind: str | None) -> Any:
    """A literal loop value as written into withItems: a str the script would read as something
    else (the str "42") is written as its JSON text, which the script decodes back to the str."""
    if isinstance(value, str) and kind != "str" and script.decode(value, kind) != value:
        return json.dumps(value, ensure_ascii=False)
    return value


_RAW_RESULT = re.compile(r"\{\{\s*tasks\.([A-Za-z0-9_-]+)\.outputs\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")


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


class _Compiler:
    def __init__(self, data: dict, fns: dict[str, functions.Function], namespace: str | None,
                 graph: dag.Graph | None = None, pipelines: dict | None = None, parent: "_Compiler | None" = None,
                 lock: Any = None, spec: Spec | None = None, ref_returns: dict | None = None):
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
        self.published = published_outputs(data)
        self.continue_on = {n: t.continue_on for n, t in self.spec.tasks.items() if t.continue_on}
        self.param_fmt = "{{workflow.parameters.%s}}"
        # how a consumer reads `{param: P}` (see plans): a str parameter keeps its text whatever `-p`
        # gives; a sub-pipeline's come from the values its caller passes (pipeline_template)
        self.param_plans: dict[str, str] = {k: "str" for k, v in (data.get("parameters") or {}).items()
                                            if isinstance(v, str)}
        self.planned: dict[str, set[str]] = {}  # template -> the plans tasks pass it (script.PLAN_INPUT)
        self.scripts: list[_Script] = []  # script templates whose source waits for every call (finish_scripts)
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

    # --- templates -----------------------------------------------------------------------

    @staticmethod
    def resources(res: dict) -> dict:
        req, limits = requests_and_limits(res)
        out: dict[str, dict] = {"requests": req}
        if limits:
            out["limits"] = limits
        return out

    def mounts(self, task_name: str, res: dict) -> list[dict]:
        vols = ([res["volume"]] if res.get("volume") else []) + list(res.get("volumes") or [])
        out = []
        for v in vols:
            if "claim" in v:
                name = v.get("name") or v["claim"]
                pvc = {"claimName": v["claim"]}
                if v.get("read_only"):
                    pvc["readOnly"] = True
                self.volumes.setdefault(name, {"name": name, "persistentVolumeClaim": pvc})
            else:
                name = v.get("name") or dag.volume_name(task_name)
                spec: dict[str, Any] = {"accessModes": [v.get("access_mode", "ReadWriteOnce")],
                                        "resources": {"requests": {"storage": v["size"]}}}
                if v.get("storage_class"):
                    spec["storageClassName"] = v["storage_class"]
                self.claims.setdefault(name, {"metadata": {"name": name}, "spec": spec})
            mount = {"name": name, "mountPath": v["mount_path"]}
            if v.get("read_only"):
                mount["readOnly"] = True
            out.append(mount)
        return out

    @staticmethod
    def env(env: dict | None) -> list[dict]:
        out = []
        for k, v in (env or {}).items():
            if isinstance(v, dict) and "secret" in v:
                out.append({"name": k, "valueFrom": {"secretKeyRef": {"name": v["secret"], "key": v["key"]}}})
            elif isinstance(v, dict) and "config_map" in v:
                out.append({"name": k, "valueFrom": {"configMapKeyRef": {"name": v["config_map"], "key": v["key"]}}})
            else:
                out.append({"name": k, "value": encode(v)})
        return out

    @staticmethod
    def retry(retry: Any) -> dict | None:
        if retry is None:
            return None
        if isinstance(retry, int):
            return {"limit": str(retry)}
        out: dict[str, Any] = {"limit": str(retry["limit"])}
        if retry.get("policy"):
            out["retryPolicy"] = retry["policy"]
        b = retry.get("backoff")
        if b:
            out["backoff"] = {k2: (quantity_text(b[k1]) if k1 == "factor" else go_duration(b[k1]))
                              for k1, k2 in (("duration", "duration"), ("factor", "factor"), ("max_duration", "maxDuration"))
                              if b.get(k1) is not None}
        return out

    def template_for(self, name: str, t: dict, modes: dict[str, artifacts.Input] | None = None,
                     result: str = "parameter", keyed: bool = False) -> str:
        fn = self.fns.get(name)
        outputs = self.published.get(name) or {}
        modes = modes or {}
        # what the template is made of besides the task's settings; a spec task's settings are
        # `settings.effective(body, defaults)` with this compiler's defaults: a function of the keys
        # its body writes, so those keys stand for them (cheaper than the settings, which fill in
        # every default); an exit handler's are keyed by the settings themselves
        call = (None if fn else name, _frozen(outputs), tuple((k, m.frozen()) for k, m in modes.items()) if modes else (),
                result, keyed, self.files_key(name, t, result, keyed))
        body_written = self.data["tasks"].get(name) if not name.endswith(EXIT_KEY) else None
        quick = None
        if type(body_written) is dict and body_written.get("function") == t.get("function"):
            quick = (_frozen({k: v for k, v in body_written.items() if k not in _CALL_KEYS}),) + call
            if quick in self.by_key:
                return self.by_key[quick]
        res = t["resources"]
        argo_tmpl = (t.get("argo") or {}).get("template")
        # an exit handler installs only its own packages (it reports; it does not need the tasks')
        pkgs = packages.for_task(self.data, t, self.defaults, own_only=name.endswith(EXIT_KEY)) if fn else None
        if pkgs is not None and self.lock is not None:  # validate refused a set the lock lacks
            image = t.get("image") or self.data.get("image")
            from ..python.lock import python_of as lock_python  # only with a lock: compile never loads it else

            pkgs = self.lock.pinned(pkgs, lock_python(image)) or pkgs
        code = t.get("code") or "carry"
        key = (t.get("function"), t.get("image"), _frozen(res), _frozen(t.get("retry")), _frozen(t.get("timeout")),
               _frozen(t.get("env")), _frozen(argo_tmpl), pkgs, code,
               _frozen({k: t[k] for k in scheduling.TEMPLATE_KEYS if t.get(k) is not None})) + call
        if key in self.by_key:
            if quick is not None:
                self.by_key[quick] = self.by_key[key]
            return self.by_key[key]
        tmpl: dict[str, Any] = {"name": self.unique(fn.name if fn else dag.argo_name(name))}
        body: dict[str, Any]
        if fn is not None:
            params = []
            for p in fn.params:
                if p.name in modes:
                    continue
                entry = {"name": p.name}
                if not p.required:
                    entry["default"] = p.default if p.literal_default else DEFAULT_MARKER
                params.append(entry)
            in_arts, art_env, art_outputs = artifacts.template_parts(fn, modes, result, keyed)
            if keyed:
                params.append({"name": artifacts.KEY_PARAM})
            params += [{"name": artifacts.file_param(k)} for k, m in modes.items() if m.per_item]
            if t.get("cache"):  # what each input file is, for the memoize key (files_argument)
                params += [{"name": scheduling.files_param(k)} for k in modes]
            if params or in_arts:
                tmpl["inputs"] = {k: v for k, v in (("parameters", params), ("artifacts", in_arts)) if v}
            named = {n: p for p, n in outputs.items()}
            out_params = [] if art_outputs else [{"name": "result", "valueFrom": {"path": script.RESULT_PATH}}]
            out_params += [{"name": n, "valueFrom": {"path": script.OUTPUTS_DIR + n}} for n in named]
            if self.files_key(name, t, result, keyed):  # a cached consumer reads its files: say which they are
                out_params.append(scheduling.files_key_output(bool(t.get("cache"))))
            tmpl["outputs"] = {k: v for k, v in (("parameters", out_params),
                                                 ("artifacts", art_outputs.get("artifacts"))) if v}
            env = [{"name": f"HERASPEC_IN_{p.name}", "value": "{{inputs.parameters.%s}}" % p.name}
                   for p in fn.params if p.name not in modes]
            if pkgs is not None:  # installed by the script before the user's code runs
                env.append({"name": script.PACKAGES_ENV, "value": pkgs.env_value()})
                if pkgs.index_secret:  # pip reads its index from PIP_INDEX_URL: the URL stays in the Secret
                    env.append({"name": "PIP_INDEX_URL", "valueFrom": {"secretKeyRef": {
                        "name": pkgs.index_secret[0], "key": pkgs.index_secret[1]}}})
            if outputs:  # the script writes each named field of the result to OUTPUTS_DIR/<name>
                env.append({"name": script.OUTPUTS_ENV, "value": encode(named)})
            body = {"image": t.get("image") or self.data.get("image", "python:3.12"), "command": ["python"],
                    "source": "", "env": env + art_env + self.env(t.get("env"))}  # source: finish_scripts
        else:
            inputs, args = self.container_args(t.get("args") or [])
            if inputs:
                tmpl["inputs"] = {"parameters": [{"name": n} for n in inputs]}
            body = {"image": t.get("image") or self.data.get("image", "python:3.12"), "command": list(t["command"])}
            if args:
                body["args"] = args
            env = self.env(t.get("env"))
            if env:
                body["env"] = env
        retry = self.retry(t.get("retry"))
        if retry and fn is not None and pkgs is not None:
            # a failed install is not the task's code failing: not retried. lastRetry.exitCode is a
            # string, "-1" when there is none (workflow/controller/operator.go, the retries' local scope)
            retry["expression"] = 'lastRetry.exitCode != "%d"' % script.INSTALL_FAILED
        if retry:
            tmpl["retryStrategy"] = retry
        if t.get("timeout") is not None:
            tmpl["timeout"] = go_duration(t["timeout"])  # `1d` -> `24h`: Argo reads Go's durations
        if t.get("image_pull_policy"):
            body["imagePullPolicy"] = t["image_pull_policy"]
        body["resources"] = self.resources(res)
        mounts = self.mounts(name, res)
        if mounts:
            body["volumeMounts"] = mounts
        tmpl["script" if fn is not None else "container"] = body
        tmpl.update(scheduling.template_fields(t))
        if fn is not None:  # the script needs to know every task calling the template: finished in compile()
            needs = script.Needs(plans=frozenset(), artifact_inputs=bool(modes), results=frozenset({result}),
                                 publish=bool(outputs))
            self.scripts.append(_Script(tmpl, fn, code, pkgs is not None, needs, t.get("cache"), argo_tmpl))
            name = argo_tmpl.get("name", tmpl["name"]) if argo_tmpl else tmpl["name"]  # as the overlay will have it
            if fn.returns_annotation is not None:
                self.template_returns[name] = fn.returns_annotation
        else:
            tmpl = merge_named(tmpl, argo_tmpl) if argo_tmpl else tmpl
            name = tmpl["name"]
        self.templates.append(tmpl)
        self.by_key[key] = name
        if quick is not None:
            self.by_key[quick] = name
        return name

    def files_key(self, name: str, t: dict, result: str, keyed: bool) -> bool:
        """Does this task return files that a cached task reads? Then its template says which files they
        are (scheduling.files_key_output), for the reader's memoize key."""
        if result == "parameter":
            return False
        if t.get("cache") and fans_out(t):  # its readers find each item's files by it (artifacts.arguments)
            return True
        if self.read_by_cached is None:  # once per spec: the producers cached tasks read from
            self.read_by_cached = set()
            for other, body in self.spec.tasks.items():
                if self.fns.get(other) is None or not body.cache:
                    continue
                for argset in body.args:
                    self.read_by_cached.update(a.value["from"] for a in argset
                                               if isinstance(a.value, dict) and isinstance(a.value.get("from"), str))
        return name in self.read_by_cached

    def files_argument(self, name: str, inp: artifacts.Input) -> str:
        """The value of a cached consumer's `heraspec-files-NAME` input: the producer's files key (its
        memoize key when it is cached, else its workflow's uid and pod name: never the same twice), or for a file from
        outside, its location."""
        if inp.mode in ("one", "many"):
            return "{{tasks.%s.outputs.parameters.%s}}" % (dag.argo_name(inp.source), scheduling.FILES_KEY)
        return json.dumps(artifacts.argument(name, inp), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def container_args(args: list) -> tuple[list[str], list[str]]:
        """Dynamic container args become template inputs; literal ones stay in the template."""
        inputs, out = [], []
        for i, a in enumerate(args):
            if isinstance(a, (dict, list)) or (isinstance(a, str) and "{{" in a):
                inputs.append(f"arg{i}")
                out.append("{{inputs.parameters.arg%d}}" % i)
            else:
                out.append(encode(a))
        return inputs, out

    def finish_scripts(self, shared: bool) -> None:
        """Each script template's source, now that the plans of every task calling it are known (the
        script carries only the runtime they need), then its memoize key (which hashes the source) and
        its `argo:` overlay. `shared`: the templates of a WorkflowTemplate, which other workflows call
        by templateRef: each with an unannotated parameter declares the plan input, so any caller may
        pass any plan through it (heraspec's templateRef tasks pass their values' plans)."""
        for s in self.scripts:
            name = (s.overlay or {}).get("name", s.tmpl["name"])  # tasks call it by its final name
            if shared and any(p.annotation is None for p in s.fn.params):  # templateRef calls pass plans (dag_task)
                self.planned.setdefault(name, set())
            plans = self.planned.get(name)
            # (an `argo:` overlay cannot set the script's HERASPEC_* variables: validate refuses it)
            needs = script.Needs(script.PLANS if shared and plans is not None else frozenset(plans or ()),
                                 s.needs.artifact_inputs, s.needs.results, s.needs.publish)
            # a Workflow's templates read the runtime and the carried code from one workflow parameter
            # (code.py); a WorkflowTemplate's are called by templateRef from other workflows: each
            # carries its own
            group = self.code.place(functions.bundle(s.fn), script.runtime_roots(s.fn, needs, s.packages)) \
                if s.code == "carry" and not shared else None
            key = (s.fn.ref, s.code, s.packages, needs, group)
            if key not in self.sources:
                self.sources[key] = script.script_source(s.fn, s.code, packages=s.packages, needs=needs,
                                                         shared=group is not None)
            s.tmpl["script"]["source"] = self.sources[key]
            if group is not None:
                s.tmpl["script"]["env"].append({"name": script.CODE_ENV, "value": "{{workflow.parameters.%s}}" % group})
            if s.overlay:
                merged = merge_named(s.tmpl, s.overlay)
                s.tmpl.clear()
                s.tmpl.update(merged)  # in place: the template keeps its position in the list
            if s.cache and "memoize" not in (s.overlay or {}):
                # after the overlay: the key stands for what the pod runs. `code: image` imports the
                # function from the image: the code the key stands for is still the project's (every
                # module the function uses), so a changed helper changes the key (and the tag need not)
                s.tmpl["memoize"] = scheduling.memoize(s.tmpl, s.cache, _project_code(s.fn) if s.code == "image" else "")
                scheduling.address_outputs(s.tmpl)
        self.scripts.clear()

    # --- DAG tasks -----------------------------------------------------------------------

    def dag_task(self, name: str, t: dict) -> dict:
        fn = self.fns.get(name)
        result = result_kind(t, fn, {})  # `t` has the defaults applied
        # each child of a fanned-out producer of files writes under its item index (artifacts.py)
        # (a cached one writes each item's files under the item's memoize key: scheduling.item_files_key)
        keyed = result != "parameter" and not t.get("cache") and (
            isinstance(t.get("args"), list) or isinstance(t.get("foreach"), list))
        if keyed and isinstance(t.get("foreach"), list):
            t = {k: v for k, v in t.items() if k != "foreach"}
            t["args"] = artifacts.foreach_sets(self.data["tasks"][name].get("args"), self.data["tasks"][name]["foreach"])
        args = t.get("args")
        first = args if isinstance(args, dict) else args[0] if isinstance(args, list) and args else {}
        modes = artifacts.input_modes(first, fn, self.data["tasks"], self.fns, self.defaults,
                                      args if isinstance(args, list) else None) if fn else {}
        per_item = {k: m for k, m in modes.items() if m.per_item} if modes else {}
        task: dict[str, Any] = {"name": dag.argo_name(name)}
        ref = t.get("template_ref")
        if ref:  # Argo templateRef: a template of a WorkflowTemplate, called with its input parameters
            task["templateRef"] = {"name": ref["name"], "template": ref["template"]}
            if ref.get("cluster"):
                task["templateRef"]["clusterScope"] = True
        elif t.get("pipeline"):
            task["template"] = self.pipeline_template(name)
        else:
            task["template"] = self.template_for(name, t, modes, result, keyed)
        depends = self.depends(name, t)
        if depends:
            task["depends"] = depends
        params: list[dict] = []
        if ref or t.get("pipeline"):
            params = [{"name": k, "value": arg_value(v, self.resolve)} for k, v in (args or {}).items()]
            ref_plans = {k: p for k, v in (args or {}).items() if (p := self.value_plan(v))} if ref else {}
            # a heraspec function template takes it (finish_scripts); another ignores it (common.ProcessArgs
            # fills the template's declared inputs only)
            if ref_plans:
                params.append({"name": script.PLAN_INPUT, "value": json.dumps(ref_plans, sort_keys=True)})
        elif fn is None:
            for i, a in enumerate(args or []):
                if isinstance(a, (dict, list)) or (isinstance(a, str) and "{{" in a):
                    params.append({"name": f"arg{i}", "value": arg_value(a, self.resolve)})
        elif isinstance(args, list):  # fan out over argument sets
            # values shared by every set are plain arguments; only the varying ones travel as items
            shared = [p.name for p in fn.params if p.name in first and p.name not in modes and all(
                p.name in s and json.dumps(s[p.name], sort_keys=True) == json.dumps(first[p.name], sort_keys=True)
                for s in args)]
            varying = [p for p in fn.params if p.name not in shared and p.name not in modes and any(p.name in s for s in args)]
            items = []
            for i, s in enumerate(args):
                item: dict[str, Any] = {artifacts.INDEX_ITEM: i} if keyed else {}
                for k, m in per_item.items():  # each item's own file: its location and name
                    item.update(artifacts.Input("url", s[k], True).item_fields(k))
                for p in varying:
                    if p.name in s:
                        # a reference travels as its Argo expression, which Argo resolves inside items
                        item[p.name] = arg_value(s[p.name], self.resolve) if any(dag.refs_in(s[p.name], ())) \
                            else item_literal(s[p.name], p.annotation)
                    elif p.literal_default:
                        item[p.name] = json.loads(p.default) if p.annotation != "str" and _is_json(p.default) else p.default
                    else:
                        item[p.name] = DEFAULT_MARKER
                items.append(item)
            params = [{"name": k, "value": arg_value(first[k], self.resolve)} for k in shared]
            params += [{"name": p.name, "value": "{{item.%s}}" % p.name} for p in varying]
            params += [{"name": artifacts.file_param(k), "value": "{{item.heraspec_file_%s}}" % k} for k in per_item]
            if varying or per_item:
                task["withItems"] = items
            # with no varying value the sets are identical: run the task once per set all the same
            else:
                task["withItems"] = list(range(len(args)))
            if keyed:
                index = "{{item.%s}}" % artifacts.INDEX_ITEM if varying or per_item else "{{item}}"
                params.append({"name": artifacts.KEY_PARAM, "value": f"{artifacts.fanin_prefix(name)}/{index}"})
        elif modes:
            params = [{"name": k, "value": arg_value(v, self.resolve)} for k, v in (args or {}).items()
                      if k not in modes]
        else:
            resolve = self.resolve
            params = [{"name": k, "value": arg_value(v, resolve)} for k, v in (args or {}).items()]
        if fn is not None:
            plan, used = self.plans(t, fn, params, task.get("withItems") if isinstance(t.get("args"), list) else None)
            if used:
                params.append({"name": script.PLAN_INPUT, "value": plan})
                self.planned.setdefault(task["template"], set()).update(used)
        if params:
            if self.renamed:
                for p in params:
                    p["value"] = dag.translate_task_exprs(p["value"], self.renamed)
            task["arguments"] = {"parameters": params}
        if modes:
            task.setdefault("arguments", {})["artifacts"] = [a for k, m in modes.items() for a in artifacts.arguments(k, m)]
            if fn is not None and t.get("cache"):
                task["arguments"].setdefault("parameters", []).extend(
                    {"name": scheduling.files_param(k), "value": self.files_argument(k, m)} for k, m in modes.items())
        fe = t.get("foreach")
        if isinstance(fe, list):
            kinds = {p.name: p.annotation for p in fn.params} if fn is not None else {}
            uses = [kinds.get(p["name"]) for p in params if p["value"].startswith("{{item")]
            # Argo formats a null item as "[]" and reads a str item's text as it is: write those
            # that would arrive as something else as their JSON text, which the script decodes
            task["withItems"] = fe if fn is None or "str" in uses else [
                {k: item_literal(v, None) for k, v in x.items()} if isinstance(x, dict)
                else "null" if x is None else item_literal(x, None) for x in fe]
        elif isinstance(fe, dict):
            k = "from" if "from" in fe else next(iter(fe))
            task["withParam"] = ref_expr(k, fe[k], self.resolve, fe.get("key"))
        if t.get("continue_on") and not self.graph.deps:  # no depends in this DAG: Argo's own continueOn
            task["continueOn"] = {k: True for k in t["continue_on"]}
        if t.get("when"):
            task["when"] = dag.translate_task_exprs(t["when"], self.renamed)
        if t.get("on_exit"):  # Argo lifecycle hook `exit`: runs when this task ends, in the DAG's scope
            task["hooks"] = {"exit": self.exit_call(name + EXIT_KEY, self.spec.tasks[name].on_exit)}
        argo_task = (t.get("argo") or {}).get("task")
        return merge_named(task, argo_task) if argo_task else task

    def pipeline_template(self, name: str) -> str:
        """Another spec's DAG as a DAG template: its parameters are the template's inputs, its
        `result` task's result the template's `result` output; its templates join this manifest's."""
        sub = self.pipelines[name]
        data = sub.doc.data
        # each parameter read as the value passed (or its default) is: one template per way of reading
        args = self.data["tasks"][name].get("args") or {}
        param_plans = {k: plan for k, v in (data.get("parameters") or {}).items()
                       if (plan := self.value_plan(args[k] if k in args else v)) is not None}
        key = ("pipeline", sub.doc.path, tuple(sorted(param_plans.items())))
        if key in self.by_key:
            return self.by_key[key]
        child = _Compiler(data, sub.functions, self.namespace, sub.graph, sub.pipelines, parent=self,
                          lock=getattr(sub, "lock", None), spec=getattr(sub, "spec", None))
        child.param_plans = param_plans
        spec = child.spec
        dag_tasks = [child.dag_task(n, t.settings) for n, t in spec.tasks.items()]
        self.nested_names.update({dag.argo_name(n): n for n in spec.tasks if "_" in n})
        from pathlib import Path  # only here: compiling a spec without sub-pipelines never loads it

        base = spec.name or str(spec.generate_name or "") or Path(sub.doc.path).stem
        tmpl: dict[str, Any] = {"name": self.unique(base)}
        if spec.parameters:
            tmpl["inputs"] = {"parameters": [{"name": p.name, "default": encode(p.default)} for p in spec.parameters]}
        if spec.result:
            tmpl["outputs"] = {"parameters": [{"name": "result", "valueFrom": {"parameter": child.from_expr(spec.result)}}]}
        if spec.parallelism:
            tmpl["parallelism"] = spec.parallelism
        tmpl["dag"] = {"tasks": dag_tasks}
        self.templates.append(tmpl)
        self.by_key[key] = tmpl["name"]
        if spec.result and (returned := self.returns(name)) is not None:
            self.template_returns[tmpl["name"]] = returned
        return tmpl["name"]

    def exit_call(self, key: str, handler: ExitHandler) -> dict:
        """An exit handler as a template plus the arguments to call it with (its settings after
        `defaults`, without `cache`: nodes.ExitHandler)."""
        call = self.dag_task(key, dict(handler.settings))
        return {k: call[k] for k in ("template", "arguments") if k in call}

    # --- exact values: how the consumer's script reads each input ---------------------------

    def aggregated(self, name: str) -> bool:
        """A consumer reads task `name`'s outputs as Argo's aggregate of its children (a JSON list):
        it has a non-empty `foreach` or a list of argument sets."""
        t = self.spec.tasks.get(name)
        return t is not None and (bool(t.foreach) or t.args_listed)

    def spec_task(self, argo_task: str) -> str | None:
        for n in self.data["tasks"]:
            if n == argo_task or dag.argo_name(n) == argo_task:
                return n
        return None

    def returns(self, name: str) -> str | None:
        """The return annotation of task `name`'s result: its function's, or a sub-pipeline task's
        `result:` task's (nested ones followed; a fanned-out one's aggregate has none), or a
        template_ref task's template's, when the batch defines it (`ref_returns`)."""
        fns, pipelines, tasks = self.fns, self.pipelines, self.data.get("tasks")
        for _ in range(100):  # sub-pipelines nest at most 97 deep (validate)
            if fns.get(name) is not None:
                return fns[name].returns_annotation
            sub = pipelines.get(name)
            if sub is None:
                body = tasks.get(name) if self.ref_returns and isinstance(tasks, dict) else None
                ref = body.get("template_ref") if isinstance(body, dict) else None
                if isinstance(ref, dict):
                    return self.ref_returns.get((bool(ref.get("cluster")), ref.get("name"), ref.get("template")))
                return None
            data = sub.doc.data
            name = data.get("result")
            inner = (data.get("tasks") or {}).get(name) if isinstance(name, str) else None
            if not isinstance(inner, dict) or inner.get("foreach") or isinstance(inner.get("args"), list):
                return None
            fns, pipelines, tasks = sub.functions, sub.pipelines, data.get("tasks")
        return None

    def plans(self, t: dict, fn: functions.Function, params: list[dict], items: list | None) -> tuple[str, set[str]]:
        """Per parameter, what its text is when the script could not tell by itself (see
        pod.read_input): a fanned-out task's aggregate, a str result, or a str literal
        whose text would read as JSON (the str "42"). Returns the `heraspec-plan` argument (a JSON
        object, or the item's own where argument sets differ: `items` are their withItems) and
        every plan it may carry."""
        kinds: dict[str, str | None] | None = None
        args = t.get("args")
        plans: dict[str, str] = {}
        per_set: dict[str, list[str]] = {}  # an argument-set fan-out's item parameter: each set's plan
        first = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else {}
        written = args if isinstance(args, dict) else first
        for entry in params:
            name, value = entry["name"], entry["value"]
            if "{{" not in value and not isinstance(written.get(name), (str, dict)):
                continue  # a literal number, bool, null or list: no branch below applies (the common case)
            if kinds is None:
                kinds = {p.name: p.annotation for p in fn.params}
            kind = kinds.get(name)
            m = _RAW_RESULT.fullmatch(value) if "{{" in value else None
            producer = self.spec_task(m.group(1)) if m else None
            result = m is not None and m.group(2) == "result"
            if producer is not None and not result and not self.aggregated(producer) and kind is not None:
                plans[name] = "json"  # a named output is JSON: a str-annotated consumer gets the str
                continue
            if producer is not None and self.aggregated(producer):
                plans[name] = "agg:str" if result and self.returns(producer) == "str" else "agg"
            elif producer is not None and result and kind is None and self.returns(producer) == "str":
                plans[name] = "str"
            elif value == "{{item}}" and kind is None and self.item_kind(t) == "str":
                plans[name] = "str"
            elif "{{" in value and _ITEM_KEY.fullmatch(value):
                if isinstance(args, list) and items is not None and value == "{{item.%s}}" % name:
                    per_set[name] = [self.set_plan(s.get(name) if isinstance(s, dict) else None, kind) for s in args]
                else:
                    plans[name] = "item"
            elif dag.is_ref(whole := (args if isinstance(args, dict) else first).get(name)) and "param" in whole:
                plan = self.param_plans.get(whole["param"])  # (of argument sets, a value they share)
                if plan is not None and (plan != "str" or kind is None):
                    plans[name] = plan
            elif isinstance(args, dict) and isinstance(args.get(name), str) and kind != "str" \
                    and not any(dag.refs_in(args[name], ())) and "{{" not in args[name] \
                    and script.decode(args[name], kind) != args[name]:
                entry["value"] = json.dumps(args[name], ensure_ascii=False)
                plans[name] = "json"
        if not plans and not per_set:  # the common case: every value reads as it is
            return "{}", set()
        if all(len(set(sp)) == 1 for sp in per_set.values()):
            plans.update({name: sp[0] for name, sp in per_set.items()})
            return json.dumps(plans, sort_keys=True), set(plans.values())
        # the sets of one parameter read differently (a str fan-in beside an int one or a literal):
        # each item carries its own plans as a JSON object, which `{{item.KEY}}` gives as its JSON
        # text (operator.go processItem formats a field with Item.String(), a map as its JSON)
        for i, item in enumerate(items):
            item[PLAN_ITEM] = {**plans, **{name: sp[i] for name, sp in per_set.items()}}
        return "{{item.%s}}" % PLAN_ITEM, set(plans.values()) | {x for sp in per_set.values() for x in sp}

    def value_plan(self, value: Any) -> str | None:
        """How an unannotated consumer must read `value` passed whole to a parameter (a sub-pipeline's):
        "str" for a str (a literal whose text reads as JSON, a `-> str` result, a str parameter),
        "agg"/"agg:str" for a fan-in, None where its text decodes as JSON to the value itself."""
        if isinstance(value, str):
            m = _RAW_RESULT.fullmatch(value)
            producer = self.spec_task(m.group(1)) if m and m.group(2) == "result" else None
            if m:
                return self.value_plan({"from": producer}) if producer is not None else None
            return "str" if "{{" in value or script.decode(value, None) != value else None
        if not dag.is_ref(value):
            return None
        if "param" in value:
            return self.param_plans.get(value["param"])
        if "from" in value and not value.get("key"):
            if self.aggregated(value["from"]):
                return "agg:str" if self.returns(value["from"]) == "str" else "agg"
            return "str" if self.returns(value["from"]) == "str" else None
        return None

    def set_plan(self, value: Any, kind: str | None) -> str:
        """How one argument set's value of an item parameter reads (`{{item.NAME}}` keeps a string's
        JSON escapes, see pod.read_input): Argo's aggregate of a fanned-out task's results
        (`-> str`: each element is a str as is) or named outputs, a str result as is, else the item."""
        if not (dag.is_ref(value) and "from" in value):
            return "item"
        producer = value["from"]
        if self.aggregated(producer):
            return "item+agg:str" if not value.get("key") and self.returns(producer) == "str" else "item+agg"
        if not value.get("key") and kind is None and self.returns(producer) == "str":
            return "item+str"
        return "item"

    def item_kind(self, t: dict) -> str | None:
        """The kind of `{{item}}` when the items are another task's results: "str" when every item
        is a str (the producer returns list[str], or is a fanned-out task returning str)."""
        fe = t.get("foreach")
        if not (isinstance(fe, dict) and "from" in fe):
            return None
        producer = fe["from"]
        ret = self.returns(producer)
        if self.aggregated(producer):
            return "str" if ret == "str" else None
        return "str" if ret == "list:str" else None

    def depends(self, name: str, t: dict) -> str:
        ups = self.graph.upstream(name)
        expr = t.get("depends")
        if expr:
            mentioned = {n for n, _r, _o in dag.depends_names(expr)}
            extra = [self.done(u) for u in ups if u not in mentioned]
            out = dag.translate_depends(expr, {u: self.done(u) for u in self.continue_on})
            return " && ".join([f"({out})" if extra else out] + extra)
        return " && ".join(map(self.done, ups))

    def done(self, task: str) -> str:
        """`TASK` in a depends expression, widened by its `continue_on` as Argo widens a task with
        `continueOn` (ancestry.go expandDependency), since Argo refuses continueOn beside depends."""
        if task not in self.continue_on:  # the common case: the task's own name
            return dag.argo_name(task)
        name = dag.argo_name(task)
        results = ["Succeeded", "Skipped", "Daemoned"] + [r for k, r in (("error", "Errored"), ("failed", "Failed"))
                                                         if k in self.continue_on.get(task, ())]
        return name if len(results) == 3 else "(" + " || ".join(f"{name}.{r}" for r in results) + ")"

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
        return Compiled("", manifest, {**self.nested_names, **{dag.argo_name(n): n for n in tasks}},
                        returns=self.template_returns)


class _Script(Record):
    """A script template waiting for its source (_Compiler.finish_scripts); `needs` holds all but the
    plans, which come from the tasks calling it."""

    __slots__ = ("tmpl", "fn", "code", "packages", "needs", "cache", "overlay")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(self, tmpl: dict, fn: functions.Function, code: str, packages: bool, needs: script.Needs,
                 cache: Any, overlay: dict | None) -> None:
        self.tmpl = tmpl
        self.fn = fn
        self.code = code
        self.packages = packages
        self.needs = needs
        self.cache = cache
        self.overlay = overlay

# the keys of a task's body that shape its call in the DAG (dag_task), not its template: what they
# change in the template (argument modes, result, fan-out keying, files_key) is keyed separately
_CALL_KEYS = frozenset({"args", "after", "depends", "when", "foreach", "continue_on", "on_exit"})


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a JSON-like value, equal only for equal JSON (types included):
    template keys, built per task, so much cheaper than json.dumps(sort_keys=True)."""
    if value is None:  # most settings of most tasks
        return None
    t = type(value)
    if t is dict:
        try:
            keys = sorted(value)  # str keys (as loaded): the order key=str gives, without a call per key
        except TypeError:
            keys = sorted(value, key=str)
        return (dict, tuple([(k, _frozen(value[k])) for k in keys]))
    if t is list or t is tuple:
        return (list, tuple([_frozen(x) for x in value]))
    if t is float:
        return (float, repr(value))
    return (t, value)


def _project_code(fn: functions.Function) -> str:
    """Every first-party module the function uses, as carried (what `code: image` keys hash)."""
    return json.dumps([[m.name, m.source] for m in functions.bundle(fn).modules])


def _is_json(text: str | None) -> bool:
    try:
        json.loads(text or "")
        return True
    except ValueError:
        return False


def compile_spec(data: dict, fns: dict[str, functions.Function], *, source: str = "",
                 namespace: str | None = None, graph: dag.Graph | None = None, pipelines: dict | None = None,
                 lock: Any = None, spec: Spec | None = None, ref_returns: dict | None = None) -> Compiled:
    """Compile validated spec data; `fns` maps task name -> resolved function (from semantic.check);
    `graph`: `dag.build_graph(data)` when the caller has it already; `pipelines`: task name -> the
    checked spec it runs (pipeline.Checked), for `tasks.X.pipeline`; `spec`: the typed model of
    `data` (document/nodes.py), built here when not given; `ref_returns`: (cluster, WorkflowTemplate,
    template) -> the return annotation of that template's result (pipeline.Checked.ref_returns), for
    `template_ref` tasks."""
    out = _Compiler(data, fns, namespace, graph, pipelines, lock=lock, spec=spec, ref_returns=ref_returns).compile()
    out.source = source
    return out
