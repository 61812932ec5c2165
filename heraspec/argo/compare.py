"""Comparing a live object with its compiled form: what the server adds is not a difference.

Used by apply (unchanged or update?) and diff (what to show).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from .resources import Kind
from ..document.settings import quantity

# metadata the API server owns; never part of what the user declared
SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
ARGO_KEY_PREFIX = "workflows.argoproj.io/"


def comparable(obj: Mapping[str, Any], declared: Mapping[str, Any], kind: Kind) -> dict:
    """`obj` without what the server adds: status, server metadata, Argo's own labels and
    annotations (unless declared), and empty values Go's encoder adds or drops (`inputs: {}`)."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    for key in ("apiVersion", "kind"):  # typed GETs may drop TypeMeta
        out[key] = declared.get(key, out.get(key))
    md = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        md.pop(key, None)
    if not kind.namespaced:
        md.pop("namespace", None)
    mine = declared.get("metadata") or {}
    for key in ("labels", "annotations"):
        values = md.get(key) or {}
        md[key] = {k: v for k, v in values.items() if not k.startswith(ARGO_KEY_PREFIX) or k in (mine.get(key) or {})}
    return _prune(out)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _align_resources(live: Any, declared: Any) -> Any:
    if isinstance(live, dict) and isinstance(declared, dict):
        out = {}
        for k, v in live.items():
            d = declared.get(k)
            if k in ("requests", "limits") and isinstance(v, dict) and isinstance(d, dict):
                out[k] = {q: (d[q] if q in d and quantity(x) is not None and quantity(x) == quantity(d[q]) else x)
                          for q, x in v.items()}
            else:
                out[k] = _align_resources(v, d)
        return out
    if isinstance(live, list) and isinstance(declared, list):
        return [_align_resources(v, declared[i] if i < len(declared) else None) for i, v in enumerate(live)]
    return live


def live_view(live: Mapping[str, Any], declared: Mapping[str, Any], kind: Kind) -> tuple[dict, dict]:
    """(live, declared) in comparable form; equal when an apply would change nothing."""
    mine = comparable(declared, declared, kind)
    return _align_resources(comparable(live, declared, kind), mine), mine
