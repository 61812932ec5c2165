"""Resources and volumes as Kubernetes validates a pod: requests within limits, extended resource
names (gpu_type), one kind per volume name; and a retry back-off's base duration."""

from __future__ import annotations

from typing import Any, Mapping

from ..document.load import Document
from ..document.nodes import Spec, Task
from ..document.settings import quantity, requests_and_limits
from ..errors import Errors
from . import dag
from .label_rules import extended_resource_problem
from .spectext import may_hold


def over_limit(requests: dict, limits: dict) -> list[str]:
    """Resource names whose request exceeds the limit (apimachinery ValidateResourceRequirements:
    "must be less than or equal to ... limit")."""
    out = []
    for k, v in requests.items():
        if k in limits:
            r, lim = quantity(v), quantity(limits[k])
            if r is not None and lim is not None and r > lim:
                out.append(k)
    return out


def check(doc: Document, spec: Spec, errors: Errors) -> None:
    """Retries, resources and volumes of the defaults and every task."""
    # each task writing them, as written: its problems are located there
    owns = [t.own for t in spec.tasks.values() if "resources" in t.written or "retry" in t.written] \
        if may_hold(doc, "resources", "retry") else []
    _retry_and_resources(doc, spec, owns, errors)
    _volumes(doc, owns, errors)


def _retry_and_resources(doc: Document, spec: Spec, owns: list[Task], errors: Errors) -> None:
    defaults = spec.defaults
    for node in [defaults, *owns]:
        base = node.where
        backoff = node.retry.backoff if node.retry is not None else None
        if backoff is not None and backoff.duration is None:
            # operator.go processNodeRetries: "no base duration specified for retryStrategy"
            doc.error(errors, base + ("retry", "backoff"), "a back-off needs a 'duration' (the first wait)",
                      "e.g. backoff: {duration: 10s, factor: 2}")
        res = node.resources
        if res is None:
            continue
        gpu_type = res.gpu_type
        problem = extended_resource_problem(gpu_type) if isinstance(gpu_type, str) else None
        if problem:
            doc.error(errors, base + ("resources", "gpu_type"), f"gpu_type '{gpu_type}' is not an extended "
                      f"resource name: {problem}", "e.g. nvidia.com/gpu, amd.com/gpu")
    with_limits = defaults.resources is not None and bool(defaults.resources.limits)
    # without a limit no request can exceed one (a gpu's limit is its request)
    limited = spec.tasks.values() if with_limits else [
        spec.tasks[t.name] for t in owns if t.resources is not None and t.resources.limits]
    for t in limited:
        name = t.name
        try:
            req, lim = requests_and_limits(t.resources.data)  # after `defaults`
        except (TypeError, ValueError, AttributeError):
            continue  # the schema check reports malformed resources
        for k in over_limit(req, lim):
            user_key = {"ephemeral-storage": "ephemeral_storage"}.get(k, k)
            path = _first(spec.data, [("tasks", name, "resources", "limits", user_key),
                                      ("defaults", "resources", "limits", user_key),
                                      ("tasks", name, "resources", user_key), ("defaults", "resources", user_key)])
            doc.error(errors, path, f"task '{name}' requests {req[k]} {k} but is limited to {lim[k]}",
                      "Kubernetes refuses a request above its limit: raise the limit or lower the request")


def _first(data: Mapping[str, Any], paths: list[tuple]) -> tuple:
    """The first of `paths` written in the spec (where a value came from), else the last's task."""
    for path in paths:
        node: Any = data
        for k in path:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            return path
    return paths[-1][:3]


def _volumes(doc: Document, owns: list[Task], errors: Errors) -> None:
    kinds: dict[str, str] = {}
    for t in owns:
        name, res = t.name, t.resources
        if res is None:
            continue
        for v in res.mounts:
            if ("claim" in v.data) == ("size" in v.data):
                continue
            kind = "claim" if "claim" in v.data else "new"
            vname = v.name or (v.claim if kind == "claim" else dag.volume_name(name))
            prev = kinds.setdefault(str(vname), kind)
            if prev != kind:
                # a pod's volumes are unique by name (apimachinery ValidateVolumes: Duplicate value)
                doc.error(errors, v.where, f"volume '{vname}' is an existing claim in one task and a new volume in another",
                          "give one of them a different 'name'")
