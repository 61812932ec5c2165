"""Merging nested data: the one home of "later wins, mappings merge key by key".

    merge_mappings(base, over) -> dict     values files and `--set` (document/values.py); Argo's templateDefaults
                                           under a template (local/runner.py)
    merge_named(base, extra) -> Any        the `argo:` escape hatch over compiled output (argo/compiler.py):
                                           lists of named items merge by `name` too

Neither changes its inputs; values not merged are shared, not copied.
"""

from __future__ import annotations

from typing import Any, Mapping


def merge_mappings(base: Mapping, over: Mapping) -> dict:
    """`over` on top of `base`: mappings merge key by key, anything else (lists too) is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_mappings(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def merge_named(base: Any, extra: Any) -> Any:
    """The `argo:` escape hatch: mappings merge key by key; lists of named items (templates, tasks,
    env, volumes, volumeMounts, parameters) merge by `name`, new names appended; anything else replaces."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = merge_named(base.get(k), v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(extra, list) and extra and _all_named(base) and _all_named(extra):
        merged = list(base)
        index = {x["name"]: i for i, x in enumerate(merged)}
        for x in extra:
            if x["name"] in index:
                merged[index[x["name"]]] = merge_named(merged[index[x["name"]]], x)
            else:
                index[x["name"]] = len(merged)
                merged.append(x)
        return merged
    return extra


def _all_named(items: list) -> bool:
    return all(isinstance(x, dict) and isinstance(x.get("name"), str) for x in items)
