"""Template building: one Argo template (script or container) per distinct function + settings, shared
by every task that calls it; a script template's source once every call is known (finish_scripts).

`TemplateBuilder` is one part of the compiler (compiler.Compiler): it reads and fills the compiler's
templates, names, volumes and scripts.
"""

from __future__ import annotations

import json
from typing import Any

from ..check import dag
from ..check.compose import EXIT_KEY
from ..check.files import fans_out
from ..document.patterns import go_duration
from ..document.settings import quantity_text, requests_and_limits
from ..merge import merge_named
from ..python import functions, packages, script
from ..record import Record
from . import artifacts, scheduling
from .arguments import DEFAULT_MARKER, encode


class TemplateBuilder:
    """The templates of the manifest; a part of compiler.Compiler."""

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
        call = (None if fn else name, _frozen(outputs) if outputs else None,
                tuple((k, m.frozen()) for k, m in modes.items()) if modes else (),
                result, keyed, self.files_key(name, t, result, keyed))
        body_written = self.data["tasks"].get(name) if not name.endswith(EXIT_KEY) else None
        quick = None
        if type(body_written) is dict and body_written.get("function") == t.get("function"):
            quick = (written_key(body_written),) + call
            found = self.by_key.get(quick)
            if found is not None:
                return found
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
            # an expression without a policy makes Argo's policy Always (workflow_types.go
            # RetryStrategy.RetryPolicyActual): the spec's default stays OnFailure, as without packages
            retry.setdefault("retryPolicy", "OnFailure")
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
            self.scripts.append(PendingScript(tmpl, fn, code, pkgs is not None, needs, t.get("cache"), argo_tmpl))
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


class PendingScript(Record):
    """A script template waiting for its source (TemplateBuilder.finish_scripts); `needs` holds all but the
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


def written_key(body: dict) -> tuple:
    """A hashable stand-in for a task's body as written without its _CALL_KEYS (template_for's quick
    key), equal only for bodies whose other keys are equal JSON (types included): `_frozen` of those
    keys, sorted, except that a str value stands for itself (a str equals only a str, and every other
    stand-in is None or a tuple)."""
    keys = [k for k in body if k not in _CALL_KEYS]
    if len(keys) > 1:
        try:
            keys.sort()
        except TypeError:  # not the str keys a loaded spec has
            return (dict, _frozen({k: body[k] for k in keys}))
    out = []
    for k in keys:
        v = body[k]
        out.append((k, v if type(v) is str else _frozen(v)))
    return tuple(out)


def _project_code(fn: functions.Function) -> str:
    """Every first-party module the function uses, as carried (what `code: image` keys hash)."""
    return json.dumps([[m.name, m.source] for m in functions.bundle(fn).modules])
