"""Validate-time rules of the production keys (issue 17): what Argo or Kubernetes would refuse or
fail on, as located errors. The Go function each rule comes from is named beside it."""

from __future__ import annotations

import re
from typing import Any

from ..errors import Errors, note
from ..document.load import Document
from ..document.nodes import Defaults, Spec, Task, mapping
from ..document.patterns import K8S_NAME, seconds
from .spectext import may_hold
from .label_rules import label_value_problem, labels_check, qualified_name_problem

_K8S = "io.k8s.api.core.v1."
# apimachinery validation.IsConfigMapKey
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
# Kubernetes core/v1 validation ValidateTolerations
_OPERATORS = ("Exists", "Equal")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def check(doc: Document, spec: Spec, errors: Errors) -> None:
    """The production keys of the spec, `defaults` and every task; caching; the lifecycle spans."""
    defaults = spec.defaults
    _pod_keys(doc, spec, errors)
    _pod_keys(doc, defaults, errors)
    for task in spec.tasks.values():
        if not _POD_KEYS.isdisjoint(task.written):  # located where the task writes them; `defaults` are checked once
            _pod_keys(doc, task.own, errors)
        if "cache" in task.data:  # its own or `defaults`' (most tasks have neither: no call for them)
            _cache(doc, task, defaults, errors)
    _lifecycle(doc, spec, errors)
    if may_hold(doc, "timeout"):
        _timeouts(doc, spec, errors)


_POD_KEYS = frozenset(("pod_labels", "pod_annotations", "node_selector", "tolerations", "affinity", "priority_class",
                       "service_account", "semaphore"))  # what _pod_keys reads


def _pod_keys(doc: Document, node: Spec | Defaults | Task, errors: Errors) -> None:
    """The pod's scheduling keys of the spec, `defaults` or a task as written."""
    base = node.where
    labels_check(doc, base, node.pod_labels, node.pod_annotations, errors, ("pod_labels", "pod_annotations"))
    for k, v in node.node_selector.items():
        # a nodeSelector matches node labels: apimachinery ValidateLabels on its keys and values
        problem = qualified_name_problem(str(k))
        if problem:
            doc.error(errors, base + ("node_selector", k), f"node label key '{k}' is not valid: {problem}",
                      "e.g. cloud.google.com/gke-accelerator", key=True)
        problem = label_value_problem(v) if isinstance(v, str) else None
        if problem:
            doc.error(errors, base + ("node_selector", k), f"node label value '{v}' is not valid: {problem}")
    for i, t in enumerate(node.tolerations):
        if isinstance(t, dict):  # each as Kubernetes writes it
            _kubernetes(doc, base + ("tolerations", i), t, "Toleration", errors)
            _toleration(doc, base + ("tolerations", i), t, errors)
    if isinstance(node.affinity, dict):
        _kubernetes(doc, base + ("affinity",), node.affinity, "Affinity", errors)
    for key, v in (("priority_class", node.priority_class), ("service_account", node.service_account)):
        if isinstance(v, str) and (len(v) > 253 or not re.match(K8S_NAME, v)):
            # the pod's priorityClassName / serviceAccountName: apimachinery IsDNS1123Subdomain
            doc.error(errors, base + (key,), f"{key} '{v}' is not a valid Kubernetes name",
                      "lowercase letters, digits, '-' and '.'")
    sem = node.semaphore
    if isinstance(sem, dict):
        cm, key = sem.get("config_map"), sem.get("key")
        if isinstance(cm, str) and not re.match(K8S_NAME, cm):
            doc.error(errors, base + ("semaphore", "config_map"), f"config_map '{cm}' is not a valid Kubernetes name")
        if isinstance(key, str) and (len(key) > 253 or not _CONFIG_MAP_KEY.match(key)):
            # apimachinery IsConfigMapKey: the semaphore's limit is read from that ConfigMap key
            doc.error(errors, base + ("semaphore", "key"), f"key '{key}' is not a valid ConfigMap key",
                      "letters, digits, '-', '_' and '.'")


def _kubernetes(doc: Document, base: tuple, value: dict, definition: str, errors: Errors) -> None:
    """Kubernetes' object against the Kubernetes part of Argo's schema (strict: unknown fields refused)."""
    from . import argo_fields as escape  # only for a spec with tolerations or affinity

    where = ".".join(str(p) for p in base)
    for path, message, hint, key in escape.problems(value, _K8S + definition):
        doc.error(errors, base + path, f"{where}: {message}".replace("Argo has no field", "Kubernetes has no field"),
                  hint or f"tolerations and affinity are written as Kubernetes writes them (camelCase)", key=key)


def _toleration(doc: Document, base: tuple, t: dict, errors: Errors) -> None:
    # Kubernetes pkg/apis/core/validation ValidateTolerations
    op, effect = t.get("operator"), t.get("effect")
    if op not in (None, "", *_OPERATORS):
        doc.error(errors, base + ("operator",), f"toleration operator '{op}' is not Exists or Equal")
    if op == "Exists" and t.get("value"):
        doc.error(errors, base + ("value",), "a toleration with operator Exists has no value",
                  "drop 'value', or use operator: Equal")
    if not t.get("key") and op != "Exists":
        doc.error(errors, base, "a toleration without a key needs operator: Exists (it tolerates every taint)", key=True)
    if effect not in (None, "", *_EFFECTS):
        doc.error(errors, base + ("effect",), f"toleration effect '{effect}' is not one of {', '.join(_EFFECTS)}")
    if t.get("tolerationSeconds") is not None and effect != "NoExecute":
        doc.error(errors, base + ("tolerationSeconds",), "tolerationSeconds applies only to effect: NoExecute", key=True)


def _cache(doc: Document, task: Task, defaults: Defaults, errors: Errors) -> None:
    name, written = task.name, task.written
    own = "cache" in written
    cache = task.cache  # the task's own, else `defaults`'
    if not cache:
        return
    path = task.where + ("cache",) if own else defaults.where + ("cache",)
    # Argo memoizes a node's output parameters only (workflow/controller/operator.go, executeTemplate:
    # memoizationCache.Save(node.Outputs)); a stdout result or a file result is not one of them
    if task.is_container:
        if own:
            doc.error(errors, path, f"task '{name}' is a container task: its result is its standard output, which "
                      "Argo's memoization does not keep (it caches output parameters only)",
                      "cache a function task, or drop 'cache' here", key=True)
        return
    if "pipeline" in written or "template_ref" in written:
        if own:
            doc.error(errors, path, f"task '{name}' does not run a function here: only a function task's result can be "
                      "cached", key=True)
        return
    # files are cached too: Argo keeps a memoized node's whole outputs, artifacts included, and a cached
    # task's files are stored under a key derived from its memoize key (argo/scheduling.address_outputs);
    # (each item of a fanned-out one under its own key: argo/scheduling.item_files_key)
    if isinstance(cache, dict):
        cm = cache.get("config_map")
        if isinstance(cm, str) and not re.match(K8S_NAME, cm):
            doc.error(errors, path + ("config_map",), f"config_map '{cm}' is not a valid Kubernetes name")


def _lifecycle(doc: Document, spec: Spec, errors: Errors) -> None:
    spans: list[tuple[tuple, Any]] = [(("deadline",), spec.deadline)]
    spans += [(("ttl", k), v) for k, v in mapping(spec.ttl).items()]
    for path, v in spans:
        s = seconds(v)
        if v is None or s is None:
            continue
        # activeDeadlineSeconds and ttlStrategy are whole seconds (int64 / int32 in Argo's types)
        if s != int(s):
            doc.error(errors, path, f"{path[-1]} '{v}' is not a whole number of seconds", "e.g. 90s, 10m, 2h, 1d")
        elif s > 2**31 - 1:
            doc.error(errors, path, f"{path[-1]} '{v}' is more than Argo's limit of {2**31 - 1} seconds (~68 years)")
        elif path == ("deadline",) and s == 0:
            # 0 stops the workflow as it starts; validate.go validateLeaf refuses <= 0 on templates likewise
            doc.error(errors, path, "deadline must be more than 0")


def _timeouts(doc: Document, spec: Spec, errors: Errors) -> None:
    """A pod's `timeout` of 2 s or less, where it is written (`defaults`, a task, an `on_exit`): Argo
    ends every such attempt in Error before its pod exists. workflowpod.go `build` gives the pod the
    seconds left until start + timeout, truncated, and refuses 1 or less ("exceeded its deadline");
    some time has always passed since the node started."""
    bodies: list[tuple[tuple, Any]] = [(spec.defaults.where, spec.defaults.data), (("on_exit",), spec.data.get("on_exit"))]
    for task in spec.tasks.values():
        bodies += [(task.where, task.written), (task.where + ("on_exit",), task.written.get("on_exit"))]
    for base, body in bodies:
        if not isinstance(body, dict) or "timeout" not in body or "pipeline" in body or "template_ref" in body:
            continue
        s = seconds(body["timeout"])
        if s is not None and s <= 2:
            doc.error(errors, base + ("timeout",), f"a timeout of {body['timeout']} ends every attempt in Error before its "
                      "pod starts: Argo gives the pod the whole seconds left and refuses 1 or less",
                      "give it more than 2s, e.g. 3s")


def cache_notes(doc: Document, spec: Spec) -> list[str]:
    """A located note per value a cached task reads from a Secret or ConfigMap (`env: {X: {secret, key}}`),
    and per existing volume claim it mounts. The memoize key hashes the env reference (name and key:
    argo/scheduling.memoize hashes the env entries), never the value, which heraspec cannot read at
    compile time and Argo does not hash (the key is the template's `memoize.key` as written,
    workflow/controller/operator.go executeTemplate); it has neither a mount nor what the volume holds.
    So a changed value or volume reuses results computed from the old one. The note says what to do."""
    found: dict[tuple, list[str]] = {}  # (line, col, kind, var, source, key): the cached tasks reading it
    for name, task in spec.tasks.items():
        if not task.cache:  # its own, else `defaults`'
            continue
        written = task.written
        for var, value in task.env.items():  # after `defaults`
            kind = "secret" if isinstance(value, dict) and "secret" in value else \
                "config_map" if isinstance(value, dict) and "config_map" in value else None
            if kind is not None:
                own = var in mapping(written.get("env"))
                line, col = doc.pos(("tasks", name, "env", var) if own else ("defaults", "env", var), key=True)
                found.setdefault((line, col, kind, var, str(value[kind]), str(value.get("key"))), []).append(name)
        res = task.resources  # after `defaults`
        own_res = mapping(written.get("resources"))
        for key, vols in (("volume", (res.volume,) if res.volume is not None else ()), ("volumes", res.volumes)):
            base = ("tasks", name, "resources", key) if key in own_res else ("defaults", "resources", key)
            for v in vols:
                if isinstance(v.claim, str):
                    line, col = doc.pos(base + (v.where[-1:] if key == "volumes" else ()) + ("claim",))
                    found.setdefault((line, col, "claim", "", v.claim, ""), []).append(name)
    out = []
    for (line, col, kind, var, source, key), names in found.items():
        who = (f"task '{names[0]}' is cached and " + ("mounts" if kind == "claim" else "reads")) if len(names) == 1 \
            else "tasks " + ", ".join(f"'{n}'" for n in names) + " are cached and " + \
            ("mount" if kind == "claim" else "read")
        if kind == "claim":
            out.append(note(doc.path, line, col, f"{who} the volume claim '{source}': what it holds is not in "
                            "the cache key, so results computed from older contents are reused; pass the data as a "
                            "file ({artifact: ...} or {from: TASK}) or give the task an argument naming its version"))
            continue
        what = f"{'Secret' if kind == 'secret' else 'ConfigMap'} '{source}' (key {key})"
        out.append(note(doc.path, line, col, f"{who} {what} as {var}: the cache key has the name and key, not "
                        "the value (heraspec cannot read it), so results computed with an old value are reused; to "
                        f"recompute after a change, rename it ({source}-v2) or bump a plain env value beside it "
                        f"({var}_VERSION: \"2\")"))
    return out
