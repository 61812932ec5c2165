"""A task's settings after `defaults`, and the container resources they give.

    quantity(text) -> Fraction | None                 a Kubernetes quantity's exact value (resource.ParseQuantity)
    effective(task, defaults) -> dict                 the task's keys, `defaults` filled in (maps merged)
    requests_and_limits(resources) -> (requests, limits)   the container's resource fields

Shared by the compiler (which emits them), Argo's rules (which check the quantities at validate time)
and apply's comparison with the live objects (`1000m` is `1`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fractions import Fraction

# `defaults` keys a task's own value replaces, and maps that merge key by key (effective)
REPLACED = ("tolerations", "affinity", "priority_class", "image_pull_policy", "service_account", "mutex",
            "semaphore", "cache")
MERGED = ("node_selector", "pod_labels", "pod_annotations")
TEMPLATE_KEYS = REPLACED + MERGED


DEFAULT_RESOURCES = {"cpu": 1, "memory": "4Gi"}


def quantity_text(v: Any) -> str:
    """A number as Kubernetes writes a quantity: `2.0` -> "2"."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def requests_and_limits(res: dict) -> tuple[dict[str, str], dict[str, str]]:
    """A task's effective `resources` -> the container's (requests, limits)."""
    req: dict[str, str] = {}
    for key, argo_key in (("cpu", "cpu"), ("memory", "memory"), ("ephemeral_storage", "ephemeral-storage")):
        if res.get(key) is not None and res[key] is not False:
            req[argo_key] = quantity_text(res[key])
    limits: dict[str, str] = {}
    if res.get("limits") is True:
        limits.update({k: v for k, v in req.items() if k in ("cpu", "memory")})
    elif isinstance(res.get("limits"), dict):
        limits.update({k: quantity_text(v) for k, v in res["limits"].items() if v is not None})
    if res.get("gpu"):
        gpu = res.get("gpu_type") or "nvidia.com/gpu"
        req[gpu] = limits[gpu] = str(res["gpu"])
    return req, limits


_DEFAULTED = ("image", "retry", "timeout", "code", "pip_index_url", "pip_extra_index_urls", "result") + REPLACED


def effective(task: dict, defaults: dict) -> dict:
    """Task settings after `defaults`: resources and env merge key by key, the rest replace. A
    map of the wrong shape (a spec with schema errors) merges as an empty one."""
    out = dict(task)
    if defaults:
        for key in _DEFAULTED:
            if key not in out and key in defaults:
                out[key] = defaults[key]
        for key in MERGED:  # maps merge key by key, the task winning
            if key in defaults or key in task:
                out[key] = {**_map(defaults.get(key)), **_map(task.get(key))}
        res = {**_map(defaults.get("resources")), **_map(task.get("resources"))}
        if "env" in defaults or "env" in task:
            out["env"] = {**_map(defaults.get("env")), **_map(task.get("env"))}
    else:  # once per task of every spec, most without `defaults`: the same with nothing to merge in
        for key in MERGED:
            if key in task:
                out[key] = dict(_map(task[key]))
        res = _map(task.get("resources"))
        if "env" in task:
            out["env"] = dict(_map(task["env"]))
    # a limit without a request sets the request to the limit, as Kubernetes does; `cpu: null` /
    # `cpu: false` drops the default request
    limits = res.get("limits")
    if isinstance(limits, dict):
        out["resources"] = {**{k: limits.get(k) if limits.get(k) is not None else v
                               for k, v in DEFAULT_RESOURCES.items()}, **res}
    else:
        out["resources"] = {**DEFAULT_RESOURCES, **res}
    return out


def _map(value: Any) -> dict:
    """A mapping to merge; a value of another shape (the schema check reports it) merges as none."""
    return value if isinstance(value, dict) else {}


_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_SUFFIX = {"": 1, "n": (1, 10**9), "u": (1, 10**6), "m": (1, 1000), "k": 10**3, "M": 10**6,
           "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
           "Pi": 2**50, "Ei": 2**60}  # a pair is a fraction (numerator, denominator)


def quantity(value: Any) -> Fraction | None:
    """The exact value of a Kubernetes quantity (resource.ParseQuantity), or None when it is not one."""
    from fractions import Fraction  # only limits need it: `validate` without them does not load it

    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Fraction(value)
    m = _QUANTITY.match(str(value))
    if not m:
        return None
    suffix = m.group(2) or ""
    if suffix[:1] in ("e", "E") and abs(int(suffix[1:])) > 40:
        return None  # far outside what Kubernetes stores (int64 milli-units); never worth computing
    scale = Fraction(10) ** int(suffix[1:]) if suffix[:1] in ("e", "E") else _SUFFIX[suffix]
    return Fraction(m.group(1)) * (Fraction(*scale) if isinstance(scale, tuple) else scale)
