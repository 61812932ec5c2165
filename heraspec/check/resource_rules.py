"""Resources and volumes as Kubernetes validates a pod: requests within limits, extended resource
names (gpu_type), one kind per volume name; and a retry back-off's base duration."""

from __future__ import annotations

from typing import Any

from ..document.load import Document
from ..document.settings import effective, quantity, requests_and_limits
from ..errors import Errors
from . import dag
from .label_rules import extended_resource_problem


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


def check(doc: Document, data: dict, tasks: dict, errors: Errors) -> None:
    """Retries, resources and volumes of the defaults and every task."""
    _retry_and_resources(doc, data, tasks, errors)
    _volumes(doc, tasks, errors)


def _retry_and_resources(doc: Document, data: dict, tasks: dict, errors: Errors) -> None:
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    for base, t in [(("defaults",), defaults)] + [(("tasks", n), t) for n, t in tasks.items()]:
        if not isinstance(t, dict):
            continue
        retry = t.get("retry")
        backoff = retry.get("backoff") if isinstance(retry, dict) else None
        if isinstance(backoff, dict) and backoff.get("duration") is None:
            # operator.go processNodeRetries: "no base duration specified for retryStrategy"
            doc.error(errors, base + ("retry", "backoff"), "a back-off needs a 'duration' (the first wait)",
                      "e.g. backoff: {duration: 10s, factor: 2}")
        res = t.get("resources")
        if not isinstance(res, dict):
            continue
        gpu_type = res.get("gpu_type")
        problem = extended_resource_problem(gpu_type) if isinstance(gpu_type, str) else None
        if problem:
            doc.error(errors, base + ("resources", "gpu_type"), f"gpu_type '{gpu_type}' is not an extended "
                      f"resource name: {problem}", "e.g. nvidia.com/gpu, amd.com/gpu")
    with_limits = isinstance(defaults.get("resources"), dict) and bool(defaults["resources"].get("limits"))
    for name, t in tasks.items():
        if not isinstance(t, dict):
            continue
        own = t.get("resources")
        if not with_limits and not (isinstance(own, dict) and own.get("limits")):
            continue  # no limit: no request can exceed one (a gpu's limit is its request)
        try:
            req, lim = requests_and_limits(effective(t, defaults)["resources"])
        except (TypeError, ValueError, AttributeError):
            continue  # the schema check reports malformed resources
        for k in over_limit(req, lim):
            user_key = {"ephemeral-storage": "ephemeral_storage"}.get(k, k)
            path = _first(data, [("tasks", name, "resources", "limits", user_key), ("defaults", "resources", "limits", user_key),
                                 ("tasks", name, "resources", user_key), ("defaults", "resources", user_key)])
            doc.error(errors, path, f"task '{name}' requests {req[k]} {k} but is limited to {lim[k]}",
                      "Kubernetes refuses a request above its limit: raise the limit or lower the request")


def _first(data: dict, paths: list[tuple]) -> tuple:
    for path in paths:
        node: Any = data
        for k in path:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            return path
    return paths[-1][:3]


def _volumes(doc: Document, tasks: dict, errors: Errors) -> None:
    kinds: dict[str, str] = {}
    for name, t in tasks.items():
        res = t.get("resources") if isinstance(t, dict) else None
        if not isinstance(res, dict):
            continue
        vols = [(("tasks", name, "resources", "volume"), res.get("volume"))]
        listed = res.get("volumes") if isinstance(res.get("volumes"), list) else []
        vols += [(("tasks", name, "resources", "volumes", i), v) for i, v in enumerate(listed)]
        for path, v in vols:
            if not isinstance(v, dict) or ("claim" in v) == ("size" in v):
                continue
            kind = "claim" if "claim" in v else "new"
            vname = v.get("name") or (v["claim"] if kind == "claim" else dag.volume_name(name))
            prev = kinds.setdefault(str(vname), kind)
            if prev != kind:
                # a pod's volumes are unique by name (apimachinery ValidateVolumes: Duplicate value)
                doc.error(errors, path, f"volume '{vname}' is an existing claim in one task and a new volume in another",
                          "give one of them a different 'name'")
