"""A task's settings after `defaults`, and the container resources they give.

    effective(task, defaults) -> dict                 the task's keys, `defaults` filled in (maps merged)
    requests_and_limits(resources) -> (requests, limits)   the container's resource fields

Shared by the compiler (which emits them) and Argo's rules (which check the quantities at validate time).
"""

from __future__ import annotations

from typing import Any

from . import scheduling

DEFAULT_RESOURCES = {"cpu": 1, "memory": "4Gi"}


def quantity(v: Any) -> str:
    """A number as Kubernetes writes a quantity: `2.0` -> "2"."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def requests_and_limits(res: dict) -> tuple[dict[str, str], dict[str, str]]:
    """A task's effective `resources` -> the container's (requests, limits)."""
    req: dict[str, str] = {}
    for key, argo_key in (("cpu", "cpu"), ("memory", "memory"), ("ephemeral_storage", "ephemeral-storage")):
        if res.get(key) is not None and res[key] is not False:
            req[argo_key] = quantity(res[key])
    limits: dict[str, str] = {}
    if res.get("limits") is True:
        limits.update({k: v for k, v in req.items() if k in ("cpu", "memory")})
    elif isinstance(res.get("limits"), dict):
        limits.update({k: quantity(v) for k, v in res["limits"].items() if v is not None})
    if res.get("gpu"):
        gpu = res.get("gpu_type") or "nvidia.com/gpu"
        req[gpu] = limits[gpu] = str(res["gpu"])
    return req, limits


def effective(task: dict, defaults: dict) -> dict:
    """Task settings after `defaults`: resources and env merge key by key, the rest replace."""
    out = dict(task)
    for key in ("image", "retry", "timeout", "code", "pip_index_url", "pip_extra_index_urls", "result") + scheduling.REPLACED:
        if key not in out and key in defaults:
            out[key] = defaults[key]
    for key in scheduling.MERGED:  # maps merge key by key, the task winning
        if key in defaults or key in task:
            out[key] = {**defaults.get(key, {}), **task.get(key, {})}
    res = {**defaults.get("resources", {}), **task.get("resources", {})}
    limits = res.get("limits") if isinstance(res.get("limits"), dict) else {}
    # a limit without a request sets the request to the limit, as Kubernetes does; `cpu: null` /
    # `cpu: false` drops the default request
    out["resources"] = {**{k: limits.get(k) if limits.get(k) is not None else v for k, v in DEFAULT_RESOURCES.items()},
                        **res}
    if "env" in defaults or "env" in task:
        out["env"] = {**defaults.get("env", {}), **task.get("env", {})}
    return out
