"""The production keys (issue 17): scheduling, concurrency, caching and lifecycle, as Argo fields.

Spec-level keys go on the WorkflowSpec (Argo applies them to every pod unless a template sets its
own); `defaults` and task keys go on the task's template. Kubernetes objects (`tolerations`,
`affinity`) are written as Kubernetes writes them and copied as they are; rules.py checks them
against the Kubernetes parts of Argo's schema.

Caching is Argo `memoize` with a key heraspec computes: a static part, the hash of what the template
runs (script or command, image, env, packages, input declarations: a changed helper function changes
the carried script), and the hash of the input values, spelt as an Argo expression so the controller
computes it per node (per item of a fan-out). `key` reads it back for `heraspec run`'s local cache.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..digest import sha256_hex
from ..python.script import CODE_ENV
from ..document.patterns import go_duration, seconds
from ..document.settings import MERGED, REPLACED

TEMPLATE_KEYS = REPLACED + MERGED
DEFAULT_CACHE_CONFIG_MAP = "heraspec-cache"
POD_GC = {"on_pod_completion": "OnPodCompletion", "on_pod_success": "OnPodSuccess",
          "on_workflow_completion": "OnWorkflowCompletion", "on_workflow_success": "OnWorkflowSuccess"}
TTL = {"after_completion": "secondsAfterCompletion", "after_success": "secondsAfterSuccess",
       "after_failure": "secondsAfterFailure"}
KEY_PREFIX = "heraspec-"


def _pods(t: dict, workflow: bool) -> dict[str, Any]:
    """The pod fields a spec (workflow=True) or a task template sets; Argo spells a few differently."""
    out: dict[str, Any] = {}
    if t.get("node_selector"):
        out["nodeSelector"] = dict(t["node_selector"])
    if t.get("tolerations"):
        out["tolerations"] = [dict(x) for x in t["tolerations"]]
    if t.get("affinity"):
        out["affinity"] = t["affinity"]
    if t.get("priority_class"):
        out["podPriorityClassName" if workflow else "priorityClassName"] = t["priority_class"]
    if not workflow and t.get("service_account"):
        out["serviceAccountName"] = t["service_account"]
    meta = {k2: dict(t[k1]) for k1, k2 in (("pod_labels", "labels"), ("pod_annotations", "annotations")) if t.get(k1)}
    if meta:
        out["podMetadata" if workflow else "metadata"] = meta
    sync = synchronization(t)
    if sync:
        out["synchronization"] = sync
    return out


def synchronization(t: dict) -> dict:
    """Argo v4 `synchronization`: lists `mutexes` / `semaphores` (the singular forms were removed)."""
    out: dict[str, Any] = {}
    if t.get("mutex"):
        out["mutexes"] = [{"name": t["mutex"]}]
    sem = t.get("semaphore")
    if isinstance(sem, dict):
        out["semaphores"] = [{"configMapKeyRef": {"name": sem.get("config_map"), "key": sem.get("key")}}]
    return out


def template_fields(t: dict) -> dict[str, Any]:
    """A task's template fields (after `defaults`), in a fixed order."""
    return _pods(t, workflow=False)


def workflow_fields(data: dict) -> dict[str, Any]:
    """The WorkflowSpec fields of the spec-level keys."""
    out = _pods(data, workflow=True)
    if data.get("deadline") is not None:
        out["activeDeadlineSeconds"] = whole_seconds(data["deadline"])
    ttl = data.get("ttl")
    if isinstance(ttl, dict):
        out["ttlStrategy"] = {TTL[k]: whole_seconds(v) for k, v in ttl.items() if k in TTL}
    if data.get("pod_gc"):
        out["podGC"] = {"strategy": POD_GC[data["pod_gc"]]}
    if data.get("archive_logs") is not None:
        out["archiveLogs"] = bool(data["archive_logs"])
    if data.get("priority") is not None:
        out["priority"] = data["priority"]
    return out


def whole_seconds(value: Any) -> int:
    s = seconds(value)
    return int(s) if s is not None else 0


# --- memoize ---------------------------------------------------------------------------------------

_WF_PARAM = re.compile(r"\{\{\s*workflow\.parameters\.([A-Za-z0-9_-]+)\s*\}\}")
_KEY_TERM = re.compile(r"sprig\.sha256sum\((inputs|workflow)\.parameters\['([^']+)'\]\)")


def memoize(tmpl: dict, cache: Any, code: str = "") -> dict:
    """Argo `memoize` for a compiled template (after its `argo:` overlay: what the pod runs); `code`:
    the project code the function uses when the script does not carry it (`code: image`).

    The key hashes what the template runs and, per node, each input parameter's value and each
    workflow parameter its env, command or args read (`{{workflow.parameters.X}}`, filled by Argo
    before the pod starts: a changed `-p` value is a changed key)."""
    opts = cache if isinstance(cache, dict) else {}
    body = dict(tmpl.get("script") or tmpl.get("container") or {})
    for k in ("resources", "volumeMounts", "imagePullPolicy"):  # where it runs, not what it computes
        body.pop(k, None)
    decides = {"body": body, "inputs": tmpl.get("inputs") or {}, "outputs": tmpl.get("outputs") or {}}
    if code:
        decides["code"] = code
    static = sha256_hex(json.dumps(decides, sort_keys=True, ensure_ascii=False).encode())[:20]
    terms = ["sprig.sha256sum(inputs.parameters['%s'])" % p["name"]
             for p in (tmpl.get("inputs") or {}).get("parameters") or []]
    # the carried code a shared script reads from a workflow parameter (argo/code.py) holds other
    # functions' modules too: its own are hashed in the script's text (script.digest), not through it
    env = [e for e in body.get("env") or [] if not (isinstance(e, dict) and e.get("name") == CODE_ENV)]
    read = sorted(set(_WF_PARAM.findall(json.dumps([env, body.get("command"), body.get("args")]))))
    terms += ["sprig.sha256sum(workflow.parameters['%s'])" % n for n in read]
    key = KEY_PREFIX + static
    if terms:
        # one hash per value, then the hash of their concatenation: unambiguous, and at most 94
        # characters whatever the values (a ConfigMap key has at most 253). Argo's expressions see
        # `workflow.parameters.X` as a nested map, as they see `inputs.parameters.X`.
        key += "-{{=sprig.sha256sum(%s)}}" % " + ".join(terms)
    return {"key": key, "maxAge": go_duration(opts["max_age"]) if opts.get("max_age") is not None else "",
            "cache": {"configMap": {"name": opts.get("config_map") or DEFAULT_CACHE_CONFIG_MAP}}}


# --- files of cached tasks -------------------------------------------------------------------------
# Argo saves a memoized node's whole outputs, artifacts (their locations) included, and gives them back
# on a hit (workflow/controller/operator.go: cacheFactory ... Save(..., newState.Outputs) when the node
# Succeeded, stored whole by workflow/controller/cache/configmap_cache.go configMapCache.save; executeTemplate:
# initializeCacheHitNode with entry.GetOutputs()). An artifact's location is where the pod that ran wrote it. A cached task's output
# artifacts are therefore stored under a key derived from its memoize key, `heraspec-cache/<key>/<name>`
# (a key-only artifact, placed in the workflow's artifact repository): content-addressed, they outlive
# the workflow that wrote them, and a hit's outputs name them. A task whose files a cached task reads
# outputs FILES_KEY: that key (cached) or its workflow's uid and pod's name (not cached: never the same twice), which the
# reader gets as an input parameter, so its memoize key includes what its files are.
FILES_KEY = "heraspec-files-key"
FILES_PREFIX = "heraspec-cache"


def files_param(name: str) -> str:
    """The input of a cached template naming what its input file `name` is (not a Python name)."""
    return f"heraspec-files-{name}"


def files_key_output(cached: bool) -> dict:
    """The output parameter naming a producer's files: no file is written at the path, so the
    executor takes the default (workflow/executor/executor.go SaveParameters), filled by Argo when the
    pod is made. MEMO_KEY is replaced by address_outputs once the memoize key is known."""
    return {"name": FILES_KEY, "valueFrom": {"path": "/tmp/heraspec/files-key",
                                             "default": MEMO_KEY if cached else UNCACHED}}


MEMO_KEY = "@heraspec-memoize-key@"
# an uncached producer's files are new each run: a pod name alone repeats for a workflow of a fixed
# name (Argo derives it from the workflow and node names), the workflow's uid does not
UNCACHED = "{{workflow.uid}}-{{pod.name}}"


def address_outputs(tmpl: dict) -> None:
    """A cached template's output artifacts under `heraspec-cache/<memoize key>/<name>`, and its files key."""
    memo = tmpl.get("memoize") or {}
    outputs = tmpl.get("outputs") or {}
    for art in outputs.get("artifacts") or []:
        if "s3" not in art:  # a fanned-out producer's keyed artifacts stay where the fan-in reads them
            art["s3"] = {"key": f"{FILES_PREFIX}/{memo.get('key', '')}/{art['name']}"}
    for p in outputs.get("parameters") or []:
        if p.get("name") == FILES_KEY and (p.get("valueFrom") or {}).get("default") == MEMO_KEY:
            p["valueFrom"]["default"] = f"{FILES_PREFIX}/{memo.get('key', '')}"


# --- files of a cached fan-out ---------------------------------------------------------------------
# Each item of a cached fanned-out producer of files writes under its own memoize key (address_outputs,
# filled per node), not under the run's fan-in prefix: a hit's outputs name the files an earlier run
# wrote. Its reader therefore reads one artifact per item, each at the key the item's FILES_KEY names.
# Argo aggregates a loop's output parameters over its Succeeded children sorted by loop index
# (workflow/controller/operator.go: processAggregateNodeOutputs, loopNodes), and evaluates `{{=...}}`
# tags in a DAG task's arguments with the task outputs of its ancestors in scope, as nested maps
# (dag.go: resolveDependencyReferences, buildLocalScopeFromTask; util/expand.Expand): element i of
# `tasks.X.outputs.parameters.heraspec-files-key` is item i's key. A failed item shortens the list, so
# the last index cannot be resolved and the reader ends in Error rather than read another item's files
# (`heraspec run`: local/memo.fill_item_keys).
ITEM_KEY = re.compile(r"\{\{=fromJSON\(tasks\['([^']+)'\]\.outputs\.parameters\['%s'\]\)\[(\d+)\]\}\}" % FILES_KEY)


def item_files_key(task: str, index: int, name: str = "result") -> str:
    """The repository key of output `name` of item `index` of the cached fan-out `task` (its Argo name)."""
    return "{{=fromJSON(tasks['%s'].outputs.parameters['%s'])[%d]}}/%s" % (task, FILES_KEY, index, name)


def key(expression: str, inputs: dict[str, str], workflow: dict[str, str] | None = None) -> str:
    """The key Argo's controller computes from a `memoize` key heraspec wrote, for these input values
    and workflow parameters (`workflow`: name -> value)."""
    head, sep, _ = expression.partition("-{{=")
    if not sep:
        return expression
    values = {"inputs": inputs, "workflow": workflow or {}}
    joined = "".join(sha256_hex(values[kind].get(n, "").encode())
                     for kind, n in _KEY_TERM.findall(expression))
    return f"{head}-{sha256_hex(joined.encode())}"
