"""Templates by reference for `heraspec run`: `templateRef` tasks and `workflowTemplateRef` resolved
from the WorkflowTemplates heraspec knows (specs validated together, or `--templates PATH`).

`inline_refs` returns a copy of the manifest in which each referenced template is carried in under
a name no Argo template can have (`<WorkflowTemplate>/<template>`, which holds a '/'), with the
templates it calls in turn; a `workflowTemplateRef` becomes the WorkflowTemplate's spec with the
Workflow's arguments winning over its own, as Argo merges them. A reference heraspec does not know
is an error before anything runs. The templates themselves are unchanged: what runs locally is what
the pod runs.
"""

from __future__ import annotations

import copy
from typing import Any

from .results import RunError

Library = dict  # (cluster scope, name) -> compiled manifest


def _kind(cluster: bool) -> str:
    return "ClusterWorkflowTemplate" if cluster else "WorkflowTemplate"


def _missing(where: str, cluster: bool, name: str) -> RunError:
    return RunError(f"{where}: {_kind(cluster)} {name!r} is not available locally: give --templates PATH "
                    "(the spec, or a folder of specs, defining it)")


def inline_refs(manifest: dict, library: Library) -> dict:
    """The manifest with every templateRef / workflowTemplateRef resolved from `library`."""
    if not _has_refs(manifest):
        return manifest
    manifest = copy.deepcopy(manifest)
    holder = manifest["spec"]["workflowSpec"] if manifest.get("kind") == "CronWorkflow" else manifest["spec"]
    ref = holder.get("workflowTemplateRef")
    if ref:
        cluster, name = bool(ref.get("clusterScope")), ref["name"]
        wt = library.get((cluster, name))
        if wt is None:
            raise _missing("workflowTemplateRef", cluster, name)
        spec = copy.deepcopy(wt["spec"])
        given = {p["name"]: p for p in (holder.get("arguments") or {}).get("parameters") or []}
        params = [given.pop(p["name"], p) for p in (spec.get("arguments") or {}).get("parameters") or []]
        spec.update({k: v for k, v in holder.items() if k not in ("workflowTemplateRef", "arguments")})
        if params or given:
            spec["arguments"] = {"parameters": params + list(given.values())}
        holder.clear()
        holder.update(spec)
    carried: dict[str, dict] = {}
    templates = holder.get("templates") or []
    for t in templates:
        _resolve_tasks(t, library, carried, None, f"template {t.get('name')!r}")
    holder["templates"] = templates + list(carried.values())
    return manifest


def _has_refs(node: Any) -> bool:
    if isinstance(node, dict):
        return "templateRef" in node or "workflowTemplateRef" in node or any(_has_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_refs(v) for v in node)
    return False


def _resolve_tasks(template: dict, library: Library, carried: dict[str, dict], home: tuple[bool, str] | None,
                   where: str) -> None:
    """Point the DAG tasks (and their exit hooks) of `template` at carried templates. `home`: the
    WorkflowTemplate `template` came from, whose own `template:` names are local to it."""
    for task in (template.get("dag") or {}).get("tasks") or []:
        for holder in [task] + [h for h in (task.get("hooks") or {}).values() if isinstance(h, dict)]:
            if "templateRef" in holder:
                ref = holder.pop("templateRef")
                holder["template"] = _carry(library, carried, (bool(ref.get("clusterScope")), ref["name"]),
                                            ref["template"], f"{where}, task {task.get('name')!r}")
            elif home is not None and holder.get("template"):
                holder["template"] = _carry(library, carried, home, holder["template"], f"{where}, task {task.get('name')!r}")


def _carry(library: Library, carried: dict[str, dict], key: tuple[bool, str], name: str, where: str) -> str:
    local = f"{'cluster:' if key[0] else ''}{key[1]}/{name}"
    if local in carried:
        return local
    wt = library.get(key)
    if wt is None:
        raise _missing(where, *key)
    found = next((t for t in wt["spec"].get("templates") or [] if t.get("name") == name), None)
    if found is None:
        raise RunError(f"{where}: {_kind(key[0])} {key[1]!r} has no template {name!r}")
    t = copy.deepcopy(found)
    t["name"] = local
    carried[local] = t
    _resolve_tasks(t, library, carried, key, f"{_kind(key[0])} {key[1]!r}, template {name!r}")
    return local
