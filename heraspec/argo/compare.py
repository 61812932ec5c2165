"""Comparing a live object with its compiled form: what the server adds is not a difference.

Used by apply (unchanged or update?) and diff (what to show).
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .client import Kind

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


_QUANTITY_SUFFIX: dict[str, int | Decimal] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}


def _quantity(text: Any) -> Decimal | None:
    if not isinstance(text, (str, int)):
        return None
    text = str(text).strip()
    for suffix in sorted(_QUANTITY_SUFFIX, key=len, reverse=True):
        if text.endswith(suffix) and text[:-len(suffix)]:
            try:
                return Decimal(text[:-len(suffix)]) * Decimal(_QUANTITY_SUFFIX[suffix])
            except InvalidOperation:
                return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _align_resources(live: Any, declared: Any) -> Any:
    if isinstance(live, dict) and isinstance(declared, dict):
        out = {}
        for k, v in live.items():
            d = declared.get(k)
            if k in ("requests", "limits") and isinstance(v, dict) and isinstance(d, dict):
                out[k] = {q: (d[q] if q in d and _quantity(x) is not None and _quantity(x) == _quantity(d[q]) else x)
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
